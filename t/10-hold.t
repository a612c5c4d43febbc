# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# redis_master wait=TIME: while no master qualifies, or after its connect
# to the master failed, a new connection waits, unread, and is proxied the
# moment a master appears, or closed at the deadline; wait_queue bounds how
# many wait.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Test::Nginx::Socket::Lua::Stream;
use POSIX ();
use File::Temp ();
use IO::Select ();
use Time::HiRes qw(time);

# Topologies, one per block (started here, used by that block alone, so
# that any block runs alone and in any order):
#   TEST 1  $a1: a replica of nobody, promoted while a client is held
#   TEST 2  $a2: a replica of nobody, stays one
#   TEST 3  $a3: a replica of nobody, stays one
#   TEST 4  $a4: a replica of nobody, promoted
#   TEST 5  $b master, $c its replica: $b killed, $c promoted
#   TEST 6  $d a lone master: killed and started again on its port
#   TEST 7  $u (on a unix socket) and $e7: replicas of nobody, $e7 promoted
#   TEST 8  $e8: a replica of nobody, promoted (proxy_bind)
#   TEST 9  $g: a replica of nobody, promoted (the client that leaves)
#   TEST 10 $h10: a replica of nobody, promoted (a client that pipelines
#           more than the proxy buffer, then leaves)
#   TEST 11 $k11: a replica of nobody, promoted (a UDP session, refused)
#   TEST 12 $k12: a replica of nobody, promoted (a client that half-closes,
#           proxy_half_close on)
#   TEST 13 $k13: a replica of nobody, promoted (the same client,
#           proxy_half_close off)
# The actions (promote, kill, restart, act once nginx logs a line) are
# t/lib/Scenario.pm's.
our $dead = free_port();
our $a1 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $a2 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $a3 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $a4 = start_redis(replicaof => $dead, wait_replica_up => 0);

our $b = start_redis();
our $c = start_redis(replicaof => $b->port);
our $d = start_redis();

our $e7 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $e8 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $sockdir = File::Temp::tempdir(CLEANUP => 1);
our $u = start_redis(replicaof => $dead, wait_replica_up => 0,
                     conf => ["unixsocket $sockdir/redis.sock",
                              'unixsocketperm 777']);

our $g = start_redis(replicaof => $dead, wait_replica_up => 0);
our $h10 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $k11 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $k12 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $k13 = start_redis(replicaof => $dead, wait_replica_up => 0);

$ENV{TEST_NGINX_A1} = $a1->port;
$ENV{TEST_NGINX_A2} = $a2->port;
$ENV{TEST_NGINX_A3} = $a3->port;
$ENV{TEST_NGINX_A4} = $a4->port;
$ENV{TEST_NGINX_B} = $b->port;
$ENV{TEST_NGINX_C} = $c->port;
$ENV{TEST_NGINX_D} = $d->port;
$ENV{TEST_NGINX_E7} = $e7->port;
$ENV{TEST_NGINX_E8} = $e8->port;
$ENV{TEST_NGINX_SOCK} = "$sockdir/redis.sock";
$ENV{TEST_NGINX_G} = $g->port;
$ENV{TEST_NGINX_H10} = $h10->port;
$ENV{TEST_NGINX_K11} = $k11->port;
$ENV{TEST_NGINX_K12} = $k12->port;
$ENV{TEST_NGINX_K13} = $k13->port;
$ENV{TEST_NGINX_UDP} = free_port();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n")
        unless defined $block->stream_server_config;
    $block->set_value('init', 'package main; our ($a1, $a2, $a3, $a4, $dead, $b, $c, $d, $e7, $e8, $u, $g, $h10, $k11, $k12, $k13); '
                              . ($block->init // ''));
});
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: a held connection is proxied once a master appears
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A1;
        redis_master wait=scaled(5s);
        redis_check interval=1s timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_A1} in upstream redis_rw is up, role replica/);

# promote the server only once nginx holds the client's connection
Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/,
                  sub { Scenario::promote($a1) });
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_A1})
--- error_log eval
qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_A1} of upstream redis_rw is known after waiting \d+ms, connecting/
--- no_error_log
[alert]
closing the connection



=== TEST 2: a held connection is closed at the deadline
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A2;
        redis_master wait=700ms;
        redis_check interval=1s timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw (?:is up, role replica|changed role from master to replica)/);

my $t0 = Time::HiRes::time();
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => TestRM::stream_port())
    or die "connect: $!";
print {$s} "PING\r\n";
Test::More::ok(TestRM::session_closed($s, 5), 'the held connection is closed');
my $held = Time::HiRes::time() - $t0;
Test::More::cmp_ok($held, '>=', 0.6, "it was held until the deadline ($held s)");
--- stream_request
PING
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw after waiting 700ms, closing the connection
--- no_error_log
[alert]
is known after waiting



=== TEST 3: beyond wait_queue, a connection is dropped at once and logged
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A3;
        redis_master wait=scaled(3s) wait_queue=1;
        redis_check interval=1s timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw is up, role replica/);
our $first = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                   PeerPort => TestRM::stream_port())
    or die "connect: $!";
TestRM::wait_error_log(qr/waiting up to \d+ms/);
--- stream_request
PING
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw and 1 connections already wait for one (wait_queue): dropping this one
--- no_error_log
[alert]



=== TEST 4: with no master, servers are checked every interval/10
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A4;
        redis_master;
        redis_check interval=scaled(10s) timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw (?:is up, role replica|changed role from master to replica)/);

# the next regular check is 9 to 10 s away (times the timeout scale, as is
# every deadline): only the faster checks while no master is known can see
# the promotion within 3 s
my $from = TestRM::error_log_size();
Scenario::promote($a4);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_A4}\b/, 3, $from);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_A4})



=== TEST 5: a connection whose connect to the master fails waits, and goes to the promoted replica
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_B;
        server 127.0.0.1:$TEST_NGINX_C;
        redis_master wait=scaled(5s);
        redis_check interval=scaled(1s) timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_B}\b/);

# the checks have not seen the crash yet when the client's connect fails:
# two of them must fail, an interval apart
Scenario::kill_master($b);
Scenario::when_logged(qr/Redis master of upstream redis_rw failed to connect: waiting up to \d+ms/,
                  sub { Scenario::promote($c) });
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_C})
--- error_log eval
[qr/connect\(\) failed \(111: Connection refused\) while connecting to upstream/,
 qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_C} of upstream redis_rw is known after waiting \d+ms, connecting/]
--- no_error_log
[alert]
closing the connection



=== TEST 6: ... and goes back to the same master once it answers a check again
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_D;
        redis_master wait=scaled(5s);
        redis_check interval=scaled(1s) timeout=500ms;
    }
--- init
my $D = $d->port;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$D\b/);

# as in TEST 5, the client connects before two checks, an interval apart,
# can see the crash

Scenario::kill_master($d);
my $client = TestRM::ask_nginx_send();
TestRM::wait_error_log(qr/Redis master of upstream redis_rw failed to connect: waiting up to \d+ms/);
$d = Scenario::restart($d);
Test::More::is(TestRM::ask_nginx_answer($client), TestRM::port_reply($D),
               'the held client reaches the restarted master');
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_D})
--- error_log eval
qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_D} of upstream redis_rw is known after waiting \d+ms, connecting/
--- no_error_log
[alert]
closing the connection



=== TEST 7: a held connection goes to a master of another address family than the first server
--- stream_config
    upstream redis_rw {
        server unix:$TEST_NGINX_SOCK;
        server 127.0.0.1:$TEST_NGINX_E7;
        redis_master wait=scaled(5s);
        redis_check interval=1s timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/server unix:\Q$ENV{TEST_NGINX_SOCK}\E in upstream redis_rw is up, role replica/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_E7} in upstream redis_rw is up, role replica/);
Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/,
                  sub { Scenario::promote($e7) });
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_E7})
--- no_error_log
[alert]
[crit]
closing the connection



=== TEST 8: a held connection is bound to the proxy_bind address
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_E8;
        redis_master wait=scaled(5s);
        redis_check interval=1s timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
    proxy_bind 127.0.0.2;
--- init
TestRM::wait_error_log(qr/upstream redis_rw (?:is up, role replica|changed role from master to replica)/);
Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/,
                  sub { Scenario::promote($e8) });
--- stream_request
CLIENT INFO
QUIT
--- stream_response_like: ^\$\d+\r\nid=\d+ addr=127\.0\.0\.2:\d+ .*\r\n\+OK\r\n$
--- no_error_log
[alert]
[crit]
closing the connection



=== TEST 9: a held client that leaves is dropped at once: its command never runs, its place in wait_queue is free
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_G;
        redis_master wait=10s wait_queue=1;
        redis_check interval=1s timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_G} in upstream redis_rw is up, role replica/);

# a client sends a write, gives up while held, and leaves
my $at = TestRM::error_log_size();
my $gone = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                 PeerPort => TestRM::stream_port())
    or die "connect: $!";
print {$gone} "INCR counter\r\n";
TestRM::wait_error_log(qr/no Redis master in upstream redis_rw: waiting up to 10000ms/, 10, $at);
close $gone;
TestRM::wait_error_log(qr/client left while waiting for a Redis master in upstream redis_rw: dropped/, 10, $at);

# the next client takes the one place in wait_queue; the server is promoted
# once it is held
$at = TestRM::error_log_size();
Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to 10000ms/,
                  sub { Scenario::promote($g) }, $at);
--- stream_request
INCR counter
QUIT
--- stream_response eval
":1\r\n+OK\r\n"
--- error_log eval
qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_G} of upstream redis_rw is known after waiting \d+ms, connecting/
--- no_error_log
[alert]
wait_queue
closing the connection



=== TEST 10: a held client that pipelined more than the proxy buffer and left: none of its commands runs
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_H10;
        redis_master wait=scaled(10s);
        redis_check interval=1s timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
    proxy_buffer_size 4k;
--- init
my $H = $h10->port;
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$H in upstream redis_rw is up, role replica/);

# 3,000 "INCR k" are 24,000 bytes, far more than proxy_buffer_size: nginx
# reads its buffer full and leaves the rest in the kernel, unread.  The
# client is held, then closes its connection.
my $at = TestRM::error_log_size();
my $gone = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                 PeerPort => TestRM::stream_port())
    or die "connect: $!";
print {$gone} "INCR k\r\n" x 3000;
TestRM::wait_error_log(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/, 10, $at);
close $gone;
Test::More::ok(eval {
    TestRM::wait_error_log(qr/client left while waiting for a Redis master in upstream redis_rw: dropped/, 5, $at);
    1;
}, 'nginx sees the client leave, with more unread than its buffer');

# the server becomes master: the session is dropped already or, were it
# still held, connected now
Scenario::promote($h10);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$H\b/, 10, $at);
TestRM::wait_error_log(qr/client left while waiting|is known after waiting/, 10, $at);
Test::More::is($h10->cmd('EXISTS', 'k'), '0',
               'none of the commands of the client that left ran');
--- stream_request
GET k
QUIT
--- stream_response eval
"\$-1\r\n+OK\r\n"
--- no_error_log
[alert]
[crit]
closing the connection
is known after waiting



=== TEST 11: a UDP session is not held: it is refused at once, and a TCP one still waits
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_K11;
        redis_master wait=scaled(10s);
        redis_check interval=1s timeout=500ms;
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_UDP udp;
        proxy_pass redis_rw;
    }
--- init
my $K = $k11->port;
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$K in upstream redis_rw is up, role replica/);

# a datagram while there is no master: refused, never held (a held UDP
# session would have only the shared listening socket to watch)
my $at = TestRM::error_log_size();
my $udp = IO::Socket::INET->new(Proto => 'udp', PeerAddr => '127.0.0.1',
                                PeerPort => $ENV{TEST_NGINX_UDP})
    or die "udp: $!";
$udp->send("PING\r\n") or die "send: $!";
TestRM::wait_error_log(qr/no Redis master in upstream redis_rw: a UDP session does not wait/, 10, $at);
close $udp;

# the TCP client of the block is held, and proxied once the server is
# promoted
$at = TestRM::error_log_size();
Scenario::when_logged(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/,
                  sub { Scenario::promote($k11) }, $at);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_K11})
--- error_log eval
qr/Redis master 127\.0\.0\.1:$ENV{TEST_NGINX_K11} of upstream redis_rw is known after waiting \d+ms, connecting/
--- no_error_log
[alert]
[crit]
closing the connection
client left while waiting



=== TEST 12: proxy_half_close on: a held client that pipelined, then shut down its sending side, is served
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_K12;
        redis_master wait=scaled(10s);
        redis_check interval=1s timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
    proxy_half_close on;
--- init
my $K = $k12->port;
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$K in upstream redis_rw is up, role replica/);

# the client sends its commands, is held, and says it sends no more
my $at = TestRM::error_log_size();
my $hc = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                               PeerPort => TestRM::stream_port())
    or die "connect: $!";
print {$hc} "INCR hc\r\nINCR hc\r\n";
TestRM::wait_error_log(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/, 10, $at);
shutdown($hc, 1) or die "shutdown: $!";

# the server becomes master: the session is connected, and the replies
# come back on the half-closed connection
Scenario::promote($k12);
TestRM::wait_error_log(qr/client left while waiting|is known after waiting/, 10, $at);
my $replies = '';
my $deadline = Time::HiRes::time() + RedisTopo::scaled(10);
my $sel = IO::Select->new($hc);
while ((my $left = $deadline - Time::HiRes::time()) > 0) {
    last unless $sel->can_read($left);
    my $n = sysread($hc, my $buf, 4096);
    last unless $n;
    $replies .= $buf;
}
close $hc;
Test::More::is($replies, ":1\r\n:2\r\n",
               'the half-closed client gets the replies to its commands');
Test::More::is($k12->cmd('GET', 'hc'), '2', 'its commands ran, once');
--- stream_request
GET hc
QUIT
--- stream_response eval
"\$1\r\n2\r\n+OK\r\n"
--- no_error_log
[alert]
[crit]
closing the connection
client left while waiting



=== TEST 13: proxy_half_close off: a held client that pipelined, then shut down its sending side, is dropped
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_K13;
        redis_master wait=scaled(10s);
        redis_check interval=1s timeout=500ms;
    }
--- init
my $K = $k13->port;
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$K in upstream redis_rw is up, role replica/);

# nginx would close the session at the client's end of stream anyway:
# the client is taken as gone, and nothing it sent runs
my $at = TestRM::error_log_size();
my $hc = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                               PeerPort => TestRM::stream_port())
    or die "connect: $!";
print {$hc} "INCR hc\r\nINCR hc\r\n";
TestRM::wait_error_log(qr/no Redis master in upstream redis_rw: waiting up to \d+ms/, 10, $at);
shutdown($hc, 1) or die "shutdown: $!";
TestRM::wait_error_log(qr/client left while waiting for a Redis master in upstream redis_rw: dropped/, 10, $at);
Scenario::promote($k13);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$K\b/, 10, $at);
close $hc;
Test::More::is($k13->cmd('EXISTS', 'hc'), '0',
               'none of the commands of the half-closed client ran');
--- stream_request
GET hc
QUIT
--- stream_response eval
"\$-1\r\n+OK\r\n"
--- no_error_log
[alert]
[crit]
closing the connection
is known after waiting
