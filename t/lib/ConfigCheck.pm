# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package ConfigCheck;

# ConfigCheck - "nginx -t" on a stream{} block, as an operator runs it:
# Debian's nginx with the stream module and this one loaded, in a
# directory of its own; what it says (stdout and stderr) and its exit
# code.  For suites whose blocks check what a configuration is told.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Open3 qw(open3);

my $dir;

# nginx_t(STREAM): (exit code, what nginx -t said) for a configuration
# whose stream{} block is STREAM
sub nginx_t {
    my ($stream) = @_;
    $dir //= tempdir(CLEANUP => 1);
    my @modules = grep { /stream|redis/ }
                  split ' ', $ENV{TEST_NGINX_LOAD_MODULES};
    my $conf = join '', map({ "load_module $_;\n" } @modules),
        "error_log $dir/error.log;\npid $dir/nginx.pid;\n",
        "events {}\nstream {\n$stream\n}\n";
    open my $fh, '>', "$dir/nginx.conf" or die "$dir/nginx.conf: $!";
    print {$fh} $conf;
    close $fh or die "$dir/nginx.conf: $!";

    my $pid = open3(my $in, my $out, undef, $ENV{TEST_NGINX_BINARY},
                    '-t', '-p', $dir, '-c', "$dir/nginx.conf");
    close $in;
    my $said = do { local $/; <$out> } // '';
    waitpid $pid, 0;
    return ($? >> 8, $said);
}

1;
