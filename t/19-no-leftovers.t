# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# A suite killed with SIGKILL leaves nothing behind: a child suite starts
# a Redis server and Test::Nginx's nginx (a daemon, with its worker), is
# killed in the middle of its block, and then its nginx master, worker and
# Redis server are gone and its ports are free for the next suite.  With
# the child's runner killed instead (prove), the child itself goes too.
# This file starts no nginx of its own: the child uses its ports.

use strict;
use warnings;

use lib 't/lib';
use RedisTopo qw(wait_until children_of);
use Cwd qw(abs_path);
use File::Temp ();
use IO::Socket::INET;
use POSIX ();
use Test::More;

my $root = abs_path('.');
my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;

# the child suite: one block that reports its pids and then waits to be
# killed (a test that never ends by itself)
my $dir = File::Temp::tempdir(CLEANUP => 1);
my $child_t = "$dir/19-no-leftovers-child.t";
open my $fh, '>', $child_t or die "cannot write $child_t: $!";
print {$fh} <<'CHILD';
use strict;
use warnings;
use TestRM;
use Test::Nginx::Socket::Lua::Stream;

our $m = start_redis();
$ENV{TEST_NGINX_M} = $m->port;
master_on();
workers(1);
run_tests();

__DATA__

=== TEST 1: killed in the middle
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=100ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my @pids = (TestRM::nginx_pid(), TestRM::worker_pids(), $main::m->pid);
open my $out, '>', "$ENV{LEFTOVERS_PIDS}.tmp" or die;
print {$out} "$main::m->{port} @pids\n";
close $out;
rename "$ENV{LEFTOVERS_PIDS}.tmp", $ENV{LEFTOVERS_PIDS};
Time::HiRes::sleep(0.2) while 1;
--- stream_request
PING
--- stream_response
+PONG
CHILD
close $fh;

# a process is gone once it no longer exists or is a zombie
sub gone {
    my ($pid) = @_;
    my $st = RedisTopo::_proc_stat($pid);
    return !$st || $st->{state} eq 'Z';
}

sub port_free {
    my ($p) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $p,
                                  Listen => 1, ReuseAddr => 1);
    return defined $s;
}

# start_child(VIA_RUNNER): the child suite, alone or under a runner (a
# shell standing for prove); returns the pid to kill and what it reported
sub start_child {
    my ($runner) = @_;
    my $pids_file = "$dir/pids";
    unlink $pids_file;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        $ENV{LEFTOVERS_PIDS} = $pids_file;
        $ENV{TEST_NGINX_SERVROOT} = "$root/t/servroot-19-no-leftovers-child";
        $ENV{PERL5LIB} = join ':', "$root/t/lib", $ENV{PERL5LIB} // ();
        open STDOUT, '>', "$dir/child.out";
        open STDERR, '>&', \*STDOUT;
        my @cmd = ($^X, $child_t);
        @cmd = ('/bin/sh', '-c', qq{"$^X" "$child_t"; exit 0}) if $runner;
        exec @cmd or POSIX::_exit(127);
    }
    my $line = eval {
        wait_until(sub {
            open my $in, '<', $pids_file or return;
            return scalar <$in>;
        }, 30, 'the child suite to start nginx and Redis');
    };
    if (!defined $line) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
        open my $log, '<', "$dir/child.out";
        diag(<$log>) if $log;
        die $@;
    }
    my ($redis_port, @pids) = split ' ', $line;
    return ($pid, $redis_port, @pids);
}

for my $case ([0, 'the suite is killed'], [1, 'its runner is killed']) {
    my ($runner, $what) = @$case;
    my ($pid, $redis_port, $master, @rest) = start_child($runner);
    my $redis = $rest[-1];
    my @workers = @rest[0 .. $#rest - 1];
    my @test = $runner ? children_of($pid) : ();
    ok(!gone($_), "$what: process $_ runs before") for $master, @workers, $redis;
    ok(!port_free($port), "$what: nginx listens on port $port before");

    kill 'KILL', $pid;
    waitpid $pid, 0;

    for my $p ($master, @workers, $redis, @test) {
        ok(eval { wait_until(sub { gone($p) }, 10, "process $p to go") },
           "$what: process $p is gone");
    }
    for my $p ($port, $port + 1, $redis_port) {
        ok(eval { wait_until(sub { port_free($p) }, 10, "port $p") },
           "$what: port $p is free");
    }
}

done_testing();
