# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# One worker probes each server: with two workers Redis still sees about
# one probe per interval, and when the probing worker is killed another one
# takes over.  One worker decides an upstream's master and publishes the
# decision; the other takes it, and releases the connections it holds
# (wait=) as soon as the one that decided.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Test::Nginx::Socket::Lua::Stream;
use Time::HiRes ();

# Topologies, one per block:
#   TEST 1  $m and its replica $r
#   TEST 2  $m2 and its replica $r2, switched over ($r2 promoted)
#   TEST 3  $m3 a lone master: killed and started again on its port
our $m = start_redis();
our $r = start_redis(replicaof => $m->port);
our $m2 = start_redis();
our $r2 = start_redis(replicaof => $m2->port);
our $m3 = start_redis();

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;
$ENV{TEST_NGINX_M2} = $m2->port;
$ENV{TEST_NGINX_R2} = $r2->port;
$ENV{TEST_NGINX_M3} = $m3->port;

# at most one probe per interval (200 ms, minus up to 10% of jitter) in
# SECONDS, with a margin; two workers probing would make twice as many
sub most_probes {
    my ($seconds) = @_;
    return 1 + 1.4 * $seconds / 0.2;
}

master_on();
workers(2);
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: two workers, one probe per interval; a killed prober is replaced
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main; our $m;
my $M = $ENV{TEST_NGINX_M};
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

# ten probes, however long they take: Redis sees them, at the rate of one
# worker, and they come from one worker
my $w = TestRM::probe_window($m, 10, 10);
Test::More::cmp_ok($w->{probes}, '>=', 8,
                   "Redis sees the probes nginx logs ($w->{probes})");
Test::More::cmp_ok($w->{probes}, '<=', main::most_probes($w->{seconds}),
                   "not one per worker ($w->{probes} in $w->{seconds} s)");
Test::More::is(scalar @{ $w->{pids} }, 1, "one worker probes (@{ $w->{pids} })");

my $prober = $w->{pids}[0];
my $from = TestRM::error_log_size();
kill 'KILL', $prober;
TestRM::wait_error_log(qr/takes over probing server 127\.0\.0\.1:$M in upstream redis_rw from worker $prober/, 5, $from);

$w = TestRM::probe_window($m, 10, 10);
Test::More::cmp_ok($w->{probes}, '>=', 8,
                   "probes go on after the kill ($w->{probes})");
Test::More::cmp_ok($w->{probes}, '<=', main::most_probes($w->{seconds}),
                   "still one prober ($w->{probes} in $w->{seconds} s)");
Test::More::is(scalar @{ $w->{pids} }, 1, "one worker probes (@{ $w->{pids} })");
Test::More::isnt($w->{pids}[0], $prober, "another worker took over");
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- error_log
exited on signal 9
--- no_error_log
[crit]
no Redis master



=== TEST 2: two workers, one decision: one worker decides and publishes, the other takes it
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M2;
        server 127.0.0.1:$TEST_NGINX_R2;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main; our ($m2, $r2);
my ($M, $R) = ($ENV{TEST_NGINX_M2}, $ENV{TEST_NGINX_R2});
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

# nothing changes: a decision is made again once it is a second old, by
# one worker; without publishing, every worker would decide each second
my $decided = qr/(\d+)#\d+: .*redis balancer: upstream redis_rw decided/;
my $taken = qr/(\d+)#\d+: .*redis balancer: upstream redis_rw takes decision/;
my $from = TestRM::error_log_size();
my $t0 = Time::HiRes::time();
RedisTopo::wait_until(sub { TestRM::count_error_log($decided, $from) >= 8 },
                      30, "eight decisions");
my $seconds = Time::HiRes::time() - $t0;
my $n = TestRM::count_error_log($decided, $from);
Test::More::cmp_ok($n, '<=', 2 + 1.3 * $seconds,
                   "about one decision a second ($n in $seconds s)");
Test::More::cmp_ok(TestRM::count_error_log($taken, $from), '>=', 1,
                   "the other worker takes the published decision");

# a switchover: the prober decides, the other worker takes the new master
# (server index 1) from the zone
$from = TestRM::error_log_size();
Scenario::switchover($r2, $m2);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$R\b/, 10,
                       $from);
TestRM::wait_error_log(qr/upstream redis_rw takes decision \d+, master 1\b/,
                       10, $from);
Test::More::is(TestRM::count_error_log(qr/upstream redis_rw master is/, $from),
               1, "the new master is announced once");
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R2})
--- no_error_log
[crit]
no Redis master



=== TEST 3: two workers hold connections whose connect failed: both release them within a sweep of the decision
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M3;
        redis_master wait=scaled(10s);
        redis_check interval=scaled(1s) timeout=500ms;
    }
    log_format held '$pid $msec $session_time $redis_master_wait_time $redis_master_decision';
--- steam_listen_option: reuseport
--- stream_server_config
    proxy_pass redis_rw;
    access_log logs/held.log held;
--- init
package main; our $m3;
my $M = $ENV{TEST_NGINX_M3};
my $n = 16;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

# the master dies; before two checks, an interval apart, can see it, $n
# clients connect: with reuseport each worker takes some, and their
# connects fail.  Each is held until the server answers a check again.
my $at = TestRM::error_log_size();
Scenario::kill_master($m3);
my @clients = map { TestRM::ask_nginx_send() } 1 .. $n;
my $held = qr/(\d+)#\d+: \*\d+ (?:Redis master of upstream redis_rw failed to connect|no Redis master in upstream redis_rw): waiting up to/;
RedisTopo::wait_until(sub { TestRM::count_error_log($held, $at) >= $n },
                      10, "the $n clients to be held");

my %failed;
open my $log, '<', TestRM::error_log() or die "error log: $!";
seek $log, $at, 0;
while (<$log>) {
    $failed{$1}++ if /(\d+)#\d+: \*\d+ Redis master of upstream redis_rw failed to connect: waiting/;
}
close $log;
Test::More::is(scalar keys %failed, 2,
               'both workers hold clients whose connect failed ('
               . join(', ', map { "$_: $failed{$_}" } sort keys %failed) . ')');

# the master is back: the worker that probes it decides and releases its
# clients; the other one takes the decision at its next sweep (50 ms) and
# must release its own then, not when it next decides for itself (a
# second later, or more)
$m3 = Scenario::restart($m3);
my @answers = map { TestRM::ask_nginx_answer($_) } @clients;
Test::More::is(scalar(grep { $_ eq TestRM::port_reply($M) } @answers), $n,
               "all $n held clients reach the restarted master");

my $access = "$ENV{TEST_NGINX_SERVROOT}/logs/held.log";
my @sessions;
RedisTopo::wait_until(sub {
    open my $fh, '<', $access or return 0;
    @sessions = map { [split] } grep { /^\d+ [\d.]+ [\d.]+ [\d.]+ \w+$/ } <$fh>;
    return @sessions >= $n;
}, 10, "the $n sessions in the access log");
Test::More::is(scalar(grep { $_->[4] eq 'held' } @sessions), $n,
               "the $n sessions were held");

# when each session was released, by the clock of the worker that held
# it: its start ($msec at the end less $session_time) plus how long it was
# held.  Not when it ended: the connect, the server's replies and the
# close that follow the release are slower on a busy machine, and are not
# what is measured here.
my (%first, @released);
for (@sessions) {
    my ($pid, $msec, $time, $waited) = @$_;
    my $at = $msec - $time + $waited;
    push @released, $at;
    $first{$pid} = $at if !defined $first{$pid} || $at < $first{$pid};
}
@released = sort { $a <=> $b } @released;
my @firsts = sort { $a <=> $b } values %first;
Test::More::is(scalar @firsts, 2, 'sessions of both workers were served');
my $spread = $released[-1] - $released[0];
# not scaled, and must not be: a worker that failed to release at the
# decision it took does so only when it decides for itself, once that
# decision is a second old (NGX_STREAM_REDIS_MASTER_RECHECK, 1000 ms), so
# the spread is then 1 s or more.  Released at the decision, it is at most
# a sweep (50 ms) plus the time the worker waits for a core; the bound
# leaves it 0.75 s of that, and stays clear of the second.
Test::More::cmp_ok($spread, '<', 0.8,
                   sprintf('the last held session was released %.3f s '
                           . 'after the first (workers: %s)', $spread,
                           join(', ', map { sprintf '%.3f', $_ - $firsts[0] }
                                      @firsts)));
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M3})
--- no_error_log
[crit]
[alert]
closing the connection
