# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# The repository names no package registry or mirror host, and the script
# that fetches Test::Nginx takes the archive only from the machine's apt
# sources and has apt verify what it downloads.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use IPC::Open3 qw(open3);
use Cwd qw(abs_path);
use File::Basename qw(dirname);

my $root = abs_path(dirname(__FILE__) . '/..');
my $script = "$root/scripts/fetch-test-nginx.sh";

# registry and mirror hosts that must not appear in any tracked file
my $hosts = qr{
    \b(?:deb|ftp|security|snapshot|archive|httpredir|cdn-fastly)\.debian\.org
  | \bftp\.[a-z]{2}\.debian\.org
  | \bregistry\.(?:npmjs\.org|yarnpkg\.com)
  | \b(?:pypi|files\.pythonhosted)\.org
  | \bmirrors?\.[a-z0-9-]+\.[a-z]+/
}xi;

my @files = grep { -f "$root/$_" }
    split /\n/, `git -C '$root' ls-files`;
ok(@files > 10, scalar(@files) . ' tracked files');

for my $file (@files) {
    open my $fh, '<', "$root/$file" or next;
    my $n = 0;
    while (my $line = <$fh>) {
        $n++;
        fail("$file:$n names a registry host: $1")
            if $line =~ /($hosts)/;
    }
}

# the script verifies with Debian's keyring, never trusted=yes
my $text = do { local (@ARGV, $/) = ($script); <> };
like($text, qr/signed-by=\$keyring/, 'the private source is verified');
unlike($text, qr/trusted=yes/, 'nothing is trusted unverified');

# with no Debian archive among the apt sources, it stops with a clear word
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/etc";
mkdir "$dir/etc/sources.list.d";
open my $fh, '>', "$dir/etc/sources.list.d/other.sources" or die $!;
print {$fh} "Types: deb\nURIs: https://example.invalid/apt\n"
    . "Suites: stable\nComponents: main\n";
close $fh;

local $ENV{APT_ETC} = "$dir/etc";
my $pid = open3(my $in, my $out, undef, 'bash', $script, "$dir/dest");
my $said = do { local $/; <$out> };
waitpid $pid, 0;

isnt($? >> 8, 0, 'no Debian archive: the script fails');
like($said, qr/no Debian archive found in this machine's apt sources/,
     'no Debian archive: it says why');
ok(!-e "$dir/dest/usr/share/perl5/Test/Nginx/Socket.pm",
   'no Debian archive: nothing is installed');

done_testing();
