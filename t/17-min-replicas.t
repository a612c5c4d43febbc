# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# redis_master min_replicas=N min_replicas_max_lag=TIME: a server takes
# writes only while N replicas follow it, in their own answers (link up, on
# its replication id) and in its own (online "slaveN:" lines acknowledged
# within TIME).  A master that stops qualifying is lost as any other:
# sessions to it are closed, new connections held (wait=) or refused.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Followers ();
use Test::Nginx::Socket::Lua::Stream;

# Topologies, one per block (started here, used by that block alone):
#   TEST 1  $m1, replicas $r1a $r1b: both leave it; $r1a promoted, $r1b
#           follows it
#   TEST 2  $m2, replica $r2: it leaves and comes back while a client waits
#   TEST 3  $m3, replicas $r3a $r3b: $r3b SIGSTOPped, then continued
#   TEST 4  $m4a with replica $r4a, $m4b with replica $r4b; then $r4b
#           follows $m4a
#   TEST 5  $m5, replicas $r5a $r5b: restarted one at a time
# The actions are t/lib/Scenario.pm's and t/lib/Followers.pm's.
our $dead = free_port();

our $m1 = start_redis();
our $r1a = start_redis(replicaof => $m1->port);
our $r1b = start_redis(replicaof => $m1->port);

our $m2 = start_redis();
our $r2 = start_redis(replicaof => $m2->port);

our $m3 = start_redis();
our $r3a = start_redis(replicaof => $m3->port);
our $r3b = start_redis(replicaof => $m3->port);

our $m4a = start_redis();
our $r4a = start_redis(replicaof => $m4a->port);
our $m4b = start_redis();
our $r4b = start_redis(replicaof => $m4b->port);

our $m5 = start_redis();
our $r5a = start_redis(replicaof => $m5->port);
our $r5b = start_redis(replicaof => $m5->port);

for my $name (qw(m1 r1a r1b m2 r2 m3 r3a r3b m4a r4a m4b r4b m5 r5a r5b)) {
    no strict 'refs';
    $ENV{'TEST_NGINX_' . uc $name} = ${"main::$name"}->port;
}

# a command on an open session, and its answer
sub ask {
    my ($s, $command) = @_;
    print {$s} "$command\r\n";
    my $buf = '';
    $s->blocking(0);
    wait_until(sub {
        my $n = sysread($s, $buf, 4096, length $buf);
        die "the session was closed\n" if defined $n && $n == 0;
        return $buf =~ /\r\n\z/;
    }, 10, "an answer to $command");
    return $buf;
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('init', 'package main; our ($dead, $m1, $r1a, $r1b, '
                              . '$m2, $r2, $m3, $r3a, $r3b, $m4a, $r4a, '
                              . '$m4b, $r4b, $m5, $r5a, $r5b); '
                              . ($block->init // ''));
});
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: the master loses its replicas: its session is closed, a new connection is held, then goes to the new master
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M1;
        server 127.0.0.1:$TEST_NGINX_R1A;
        server 127.0.0.1:$TEST_NGINX_R1B;
        redis_master min_replicas=1 min_replicas_max_lag=1s wait=scaled(10s);
        redis_check interval=250ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M1}\b/);
my ($s, $reached) = TestRM::redis_session();
Test::More::is($reached, $ENV{TEST_NGINX_M1}, 'the session reached the master');

my $at = TestRM::error_log_size();
Followers::leave($dead, $r1a, $r1b);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M1} in upstream redis_rw says master but only 0 replicas follow it \(min_replicas=1\)/, 10, $at);
Test::More::ok(TestRM::session_closed($s, 5),
               'the session to the master without replicas is closed');
Test::More::is($m1->role, 'master', 'the server it reached still says master');

# the failover happens only once nginx holds the next client
Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/,
                      sub { Scenario::switchover($r1a, undef, $r1b) }, $at);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R1A})
--- timeout: 20
--- error_log eval
[qr/closing session to 127\.0\.0\.1:$ENV{TEST_NGINX_M1}, no longer eligible in upstream redis_rw/,
 qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_R1A} of upstream redis_rw is known after waiting \d+ms, connecting/]
--- no_error_log
[alert]



=== TEST 2: the replica comes back within the hold: the held connection goes to the same master
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M2;
        server 127.0.0.1:$TEST_NGINX_R2;
        redis_master min_replicas=1 wait=scaled(10s);
        redis_check interval=250ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M2}\b/);
my $at = TestRM::error_log_size();
Followers::leave($dead, $r2);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M2} in upstream redis_rw says master but only 0 replicas follow it/, 10, $at);
TestRM::wait_error_log(qr/upstream redis_rw has no master/, 10, $at);

Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/,
                      sub { Followers::come_back($m2, $r2) }, $at);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M2})
--- timeout: 20
--- error_log eval
qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_M2} of upstream redis_rw is known after waiting \d+ms, connecting/
--- no_error_log
[alert]



=== TEST 3: a stopped replica's acknowledgements grow older than min_replicas_max_lag: the master stops qualifying, and qualifies again once it acknowledges
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M3;
        server 127.0.0.1:$TEST_NGINX_R3A;
        server 127.0.0.1:$TEST_NGINX_R3B;
        redis_master min_replicas=2 min_replicas_max_lag=1s wait=scaled(10s);
        redis_check interval=250ms timeout=250ms fall=1000;
    }
--- init
# fall=1000: the stopped replica's own probes never mark it down, so the
# replicas' view still counts it; only the master's view of its
# acknowledgements can stop writes
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M3}\b/);
my ($s, $reached) = TestRM::redis_session();
Test::More::is($reached, $ENV{TEST_NGINX_M3}, 'the session reached the master');

my $at = TestRM::error_log_size();
$r3b->sigstop;
Followers::acks_late($m3, $r3b, 2);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M3} in upstream redis_rw says master but only 1 replicas follow it \(min_replicas=2\)/, 10, $at);
Test::More::ok(TestRM::session_closed($s, 5), 'the session is closed');
Test::More::is(TestRM::count_error_log(qr/127\.0\.0\.1:$ENV{TEST_NGINX_R3B} in upstream redis_rw (?:is down|stalls)/, $at), 0,
               'the stopped replica itself was never taken for down');

Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/,
                      sub { $r3b->sigcont }, $at);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M3})
--- timeout: 30
--- error_log eval
[qr/closing session to 127\.0\.0\.1:$ENV{TEST_NGINX_M3}, no longer eligible/,
 qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_M3} of upstream redis_rw is known after waiting \d+ms, connecting/]
--- no_error_log
[alert]



=== TEST 4: two masters with one replica each and min_replicas=majority: neither takes writes, even with split_brain=lineage; a second follower makes one qualify
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M4A;
        server 127.0.0.1:$TEST_NGINX_R4A;
        server 127.0.0.1:$TEST_NGINX_M4B;
        server 127.0.0.1:$TEST_NGINX_R4B;
        redis_master min_replicas=majority split_brain=lineage;
        redis_check interval=250ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M4A} in upstream redis_rw says master but only 1 replicas follow it \(min_replicas=2\)/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M4B} in upstream redis_rw says master but only 1 replicas follow it \(min_replicas=2\)/);
Test::More::is(TestRM::ask_nginx(), '', 'a client is refused: no master');
Test::More::is(TestRM::count_error_log(qr/upstream redis_rw master is/), 0,
               'no server was ever chosen');

my $at = TestRM::error_log_size();
Scenario::follow($r4b, $m4a);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M4A}\b/, 10, $at);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M4A})
--- timeout: 20
--- no_error_log
[alert]



=== TEST 5: a rolling restart of the replicas with min_replicas=1: the session writes throughout, nothing is held, closed or lost
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M5;
        server 127.0.0.1:$TEST_NGINX_R5A;
        server 127.0.0.1:$TEST_NGINX_R5B;
        redis_master min_replicas=1 min_replicas_max_lag=1s;
        redis_check interval=250ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M5}\b/);
my ($s, $reached) = TestRM::redis_session();
my ($n, $ok, $tries) = (0, 0, 0);
my $write = sub {
    for (1 .. 20) {
        $n++;
        $tries++;
        $ok++ if main::ask($s, 'INCR n') eq ":$n\r\n";
    }
    # a new connection while this replica is down goes to the master
    $tries++;
    $ok++ if TestRM::ask_nginx() eq TestRM::port_reply($ENV{TEST_NGINX_M5});
};

my $at = TestRM::error_log_size();
($r5a, $r5b) = Followers::rolling_restart($m5, [$r5a, $r5b], between => sub {
    my ($i) = @_;
    # the master lists one replica fewer, and nginx has seen it
    Followers::wait_listed($m5, 1);
    my $port = ($ENV{TEST_NGINX_R5A}, $ENV{TEST_NGINX_R5B})[$i];
    TestRM::wait_error_log(qr/127\.0\.0\.1:$port in upstream redis_rw .*(?:refused|down)/, 10, $at);
    $write->();
});
$write->();
Test::More::is($ok, $tries, "every write and every connection succeeded ($ok of $tries)");
Test::More::is(TestRM::count_error_log(qr/has no master|replicas follow it|no longer eligible/, $at), 0,
               'the master kept qualifying throughout');
--- stream_request
GET n
QUIT
--- stream_response eval
"\$2\r\n60\r\n+OK\r\n"
--- timeout: 60
--- no_error_log
[alert]
