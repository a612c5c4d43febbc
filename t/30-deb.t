# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# The Debian package that "make deb" builds installs, loads into Debian's
# own configuration and purges cleanly: the module under
# /usr/lib/nginx/modules, its snippet in /usr/share/nginx/modules-available
# enabled after mod-stream's 50, a dependency on the exact nginx ABI it was
# built for, and /etc/nginx as it was once the package is purged.
#
# It runs apt-get and dpkg, so it needs root; "make test" builds the
# package first (make deb).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(abs_path);

my $root = abs_path('.');
my $name = 'libnginx-mod-stream-redis-master';
my $so = '/usr/lib/nginx/modules/ngx_stream_redis_master_module.so';
my $available = '/usr/share/nginx/modules-available/mod-stream-redis-master.conf';
my $enabled = '/etc/nginx/modules-enabled/70-mod-stream-redis-master.conf';
my @apt = ('apt-get', '-y', '-q', '-o', 'DPkg::Lock::Timeout=600');

chomp(my $version = `make -s --no-print-directory version`);
chomp(my $arch = `dpkg --print-architecture`);
my $deb = "$root/build/${name}_${version}_$arch.deb";

die "t/30-deb.t: $deb is missing: run \"make deb\" first\n" unless -f $deb;
die "t/30-deb.t: needs root (apt-get install, apt-get purge)\n" if $>;

# the package must not be there already: purging it would change the machine
system("dpkg-query -W -f='\${Status}' $name 2>/dev/null | grep -q 'ok installed'");
die "t/30-deb.t: $name is installed on this machine; this test installs and"
    . " purges it, so purge it first\n" if $? == 0;

my $dir = tempdir(CLEANUP => 1);
system("perl scripts/etc-manifest > $dir/before") == 0 or die;

# Debian's own nginx.conf, and a stream block that uses the module, as an
# operator would add it (the stream block goes in the main context: Debian
# includes conf.d/*.conf inside http {})
open my $fh, '>', "$dir/nginx.conf" or die $!;
print {$fh} <<"CONF";
include /etc/nginx/nginx.conf;

stream {
    upstream redis_rw {
        redis_master;
        redis_check interval=500ms timeout=500ms;
        server 127.0.0.1:6379;
    }

    server {
        listen 127.0.0.1:6379;
        proxy_pass redis_rw;
    }
}
CONF
close $fh;

sub nginx_t {
    my $out = `/usr/sbin/nginx -t -c $dir/nginx.conf 2>&1`;
    return ($? >> 8, $out);
}

my ($status, $said) = nginx_t();
isnt($status, 0, 'before the package: the stream block fails nginx -t');
like($said, qr/unknown directive "redis_master"/,
     'before the package: redis_master is unknown');

my $installed = 0;

END {
    # never leave the package behind, whatever failed
    system(@apt, 'purge', $name) if $installed;
}

my $out = `@apt install $deb 2>&1`;
is($?, 0, "apt-get install $deb") or diag $out;
$installed = 1;

ok(-f $so, "the module is in /usr/lib/nginx/modules");
ok(-f $available, 'the load_module snippet is in modules-available');

open $fh, '<', $available or die "$available: $!";
my $snippet = do { local $/; <$fh> };
close $fh;
is($snippet, "load_module modules/ngx_stream_redis_master_module.so;\n",
   'the snippet loads the module');

is(readlink($enabled), $available,
   'the snippet is enabled in modules-enabled at priority 70');
my ($stream) = glob('/etc/nginx/modules-enabled/*-mod-stream.conf');
my ($prio) = ($stream // '') =~ m{/(\d+)-mod-stream\.conf$};
ok(defined $prio && $prio < 70,
   "mod-stream (priority " . ($prio // 'none') . ") loads first");

# the exact ABI it was built for: the one nginx-dev names, which the
# installed nginx provides
open $fh, '<', '/usr/share/nginx/src/debian/libnginx-mod.abisubstvars' or die $!;
my ($abi) = map { /^nginx:abi=(\S+)/ ? $1 : () } <$fh>;
close $fh;
my $depends = `dpkg-query -W -f='\${Depends}' $name`;
like($depends, qr/(?:^|, )\Q$abi\E(?:,|$)/, "the package depends on $abi");
like(`dpkg-query -W -f='\${Provides}' nginx`, qr/\Q$abi\E/,
     "the installed nginx provides $abi");
like($depends, qr/(?:^|, )libnginx-mod-stream(?:,|$)/,
     'the package depends on libnginx-mod-stream');

($status, $said) = nginx_t();
is($status, 0, "Debian's nginx.conf with the stream block passes nginx -t")
    or diag $said;

$out = `@apt purge $name 2>&1`;
is($?, 0, "apt-get purge $name") or diag $out;
$installed = 0;

ok(!-e $so, 'purged: the module is gone');
ok(!-e $available, 'purged: the snippet is gone');
ok(!-e $enabled && !-l $enabled && !-l "$enabled.removed",
   'purged: the modules-enabled link is gone');

$out = `perl scripts/etc-manifest --compare $dir/before 2>&1`;
is($?, 0, 'purged: /etc/nginx is as it was') or diag $out;

done_testing();
