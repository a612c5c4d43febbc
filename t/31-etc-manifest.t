# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# scripts/etc-manifest, which "make test" and "make demo" use to check that
# they leave /etc/nginx as it was, sees each kind of change: a file's
# content, its mode, a new file, a removed file, a link's target, a new link.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);

my $dir = tempdir(CLEANUP => 1);
my $etc = "$dir/nginx";

sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print {$fh} $text;
    close $fh;
}

sub compare {
    my $out = `perl scripts/etc-manifest --compare $dir/before $etc 2>&1`;
    return ($? >> 8, $out);
}

my @changes = (
    [ 'a file changes',
      sub { write_file("$etc/nginx.conf", "events {}\n# edited\n") },
      qr{\+ \Q$etc\E/nginx\.conf file } ],
    [ "a file's mode changes",
      sub { chmod 0600, "$etc/nginx.conf" },
      qr{\+ \Q$etc\E/nginx\.conf file \S+ 0600 } ],
    [ 'a file is added',
      sub { write_file("$etc/conf.d/new.conf", "\n") },
      qr{\+ \Q$etc\E/conf\.d/new\.conf file } ],
    [ 'a file is removed',
      sub { unlink "$etc/mime.types" },
      qr{- \Q$etc\E/mime\.types file } ],
    [ 'a link is enabled',
      sub { symlink '/usr/share/nginx/modules-available/mod-x.conf',
                    "$etc/modules-enabled/50-mod-x.conf" },
      qr{\+ \Q$etc\E/modules-enabled/50-mod-x\.conf link } ],
    [ "a link's target changes",
      sub { unlink "$etc/modules-enabled/50-mod-stream.conf";
            symlink '/elsewhere', "$etc/modules-enabled/50-mod-stream.conf" },
      qr{\+ \Q$etc\E/modules-enabled/50-mod-stream\.conf link /elsewhere} ],
);

for my $case (@changes) {
    my ($name, $change, $expect) = @$case;

    system("rm -rf $etc") == 0 or die;
    mkdir $_ or die "$_: $!" for $etc, "$etc/conf.d", "$etc/modules-enabled";
    write_file("$etc/nginx.conf", "events {}\n");
    write_file("$etc/mime.types", "types {}\n");
    chmod 0644, "$etc/nginx.conf", "$etc/mime.types";
    symlink '/usr/share/nginx/modules-available/mod-stream.conf',
            "$etc/modules-enabled/50-mod-stream.conf" or die $!;

    system("perl scripts/etc-manifest $etc > $dir/before") == 0 or die;

    my ($status, $out) = compare();
    is($status, 0, "$name: unchanged before") or diag $out;

    $change->();
    ($status, $out) = compare();
    is($status, 1, "$name: the comparison fails");
    like($out, $expect, "$name: it names the change");
}

done_testing();
