# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Routing to the master: the first check decides, a switchover moves new
# connections and closes the sessions to the demoted server, and with no
# master a connection is refused with an error naming the upstream; a dead
# server does not flood the log.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Test::Nginx::Socket::Lua::Stream;

# --- init code runs in Test::Nginx's package: it reaches these as ours.
# Topologies, one per block (used by that block alone, so that any block
# runs alone and in any order):
#   TEST 1  $ra1 master, $rb1 its replica
#   TEST 2  $ra2 master, $rb2 its replica: switched over to $rb2
#   TEST 3  $rb3 master, $ra3 its replica: $rb3 killed
#   TEST 4  $rb4 killed here, and $ra4 still its replica: no master
# The actions are t/lib/Scenario.pm's.
our ($ra1, $rb1, $ra2, $rb2, $ra3, $rb3, $ra4, $rb4);
$ra1 = start_redis();
$rb1 = start_redis(replicaof => $ra1->port);
$ra2 = start_redis();
$rb2 = start_redis(replicaof => $ra2->port);
$rb3 = start_redis();
$ra3 = start_redis(replicaof => $rb3->port);
$rb4 = start_redis();
$ra4 = start_redis(replicaof => $rb4->port);
Scenario::kill_master($rb4);

for my $n (1 .. 4) {
    no strict 'refs';
    $ENV{"TEST_NGINX_A$n"} = ${"ra$n"}->port;
    $ENV{"TEST_NGINX_B$n"} = ${"rb$n"}->port;
}

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: connections go to the master, once it is checked
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_B1;
        server 127.0.0.1:$TEST_NGINX_A1;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main; our ($ra1, $rb1);
wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_A1}\b/);
wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_B1} in upstream redis_rw is up/);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_A1})
--- error_log eval
[qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_A1} in upstream redis_rw is up, role master/,
 qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_B1} in upstream redis_rw is up, role replica/]
--- no_error_log
[alert]
[crit]
no Redis master



=== TEST 2: a switchover moves new connections and closes the old session
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A2;
        server 127.0.0.1:$TEST_NGINX_B2;
        redis_master;
        redis_check interval=500ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main; our ($ra2, $rb2);
my ($A, $B) = @ENV{qw(TEST_NGINX_A2 TEST_NGINX_B2)};
wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$A\b/);

my ($idle, $reached) = redis_session();
Test::More::is($reached, $A, "session reaches the master $A");

my $from = error_log_size();
Scenario::switchover($rb2, $ra2);

# one interval (500ms) plus the probe's own time: the new master is known
wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$B\b/, 1.5, $from);
Test::More::ok(session_closed($idle, 1.5),
               "the idle session to the demoted master is closed");
wait_error_log(qr/server 127\.0\.0\.1:$A in upstream redis_rw changed role from master to replica/, 1.5, $from);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_B2})
--- error_log eval
[qr/redis balancer: closed 1 sessions in upstream redis_rw/,
 qr/redis master: upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_B2}\b/]
--- no_error_log
[alert]
[crit]



=== TEST 3: master killed: connections are refused, the error names the upstream
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A3;
        server 127.0.0.1:$TEST_NGINX_B3;
        redis_master;
        redis_check interval=200ms timeout=500ms fall=1;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main; our ($ra3, $rb3);
my $B = $ENV{TEST_NGINX_B3};
wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$B\b/);
Scenario::kill_master($rb3);
wait_error_log(qr/server 127\.0\.0\.1:$B in upstream redis_rw is down: /);
wait_error_log(qr/server 127\.0\.0\.1:$B in upstream redis_rw probe failed: connect\(\) failed \(111: Connection refused\)/);
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log eval
[qr/no Redis master in upstream redis_rw while connecting to upstream/,
 qr/redis check: server 127\.0\.0\.1:$ENV{TEST_NGINX_B3} in upstream redis_rw probe failed: connect\(\) failed/]
--- no_error_log
[alert]
[crit]



=== TEST 4: a dead server probed every interval/10 is logged about once an interval
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A4;
        server 127.0.0.1:$TEST_NGINX_B4;
        redis_master;
        redis_check interval=1s timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
# B is dead (killed at the top of the file) and A follows it: there is no master, so both are
# probed every 100 ms.  Count what is logged from here on, in the time
# that 20 failed probes take, however long that is
my $B = $ENV{TEST_NGINX_B4};
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$B in upstream redis_rw probe failed: connect\(\) failed/);
my $from = TestRM::error_log_size();
my $t0 = Time::HiRes::time();
TestRM::wait_until(sub {
    TestRM::count_error_log(qr/server 127\.0\.0\.1:$B probe failed again/, $from) >= 20
}, 10, '20 more failed probes of the dead server');
my $elapsed = Time::HiRes::time() - $t0;
my $logged = TestRM::count_error_log(qr/\[error\].*server 127\.0\.0\.1:$B in upstream redis_rw probe failed/, $from);
Test::More::cmp_ok($logged, '<=', 2 + int($elapsed / 0.9),
                   "$logged error lines in ${elapsed}s");
--- stream_request
PING
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- no_error_log
[alert]
[crit]
