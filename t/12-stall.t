# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# A master that stalls (a slow command, a fork, a long script) keeps its
# sessions and its place: probes that time out on a connection it accepted
# are no evidence that writes must stop there.  Only a server that refuses,
# resets or closes is lost.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;
use POSIX ();

# one lone master per block; DEBUG SLEEP blocks it as a slow command would
our %master = map {
    $_ => start_redis(conf => ['enable-debug-command local'])
} 1 .. 4;

$ENV{"TEST_NGINX_M$_"} = $master{$_}->port for keys %master;

# TEST 4 reaches its master through a relay, which closes nginx's link
our $relay = start_relay(to => $master{4}->port);
$ENV{TEST_NGINX_RELAY} = $relay->port;

# stall(N, SECONDS): DEBUG SLEEP on master N, from a child process; returns
# its pid
sub stall {
    my ($n, $seconds) = @_;
    my $pid = fork // die "fork: $!";
    return $pid if $pid;
    $master{$n}->cmd('DEBUG', 'SLEEP', $seconds);
    POSIX::_exit(0);
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
    }, 20, "an answer to $command");
    return $buf;
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('init', 'package main; our (%master, $relay); '
                              . ($block->init // ''));
});
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: the only master stalls: its open session survives and its next command succeeds
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M1;
        redis_master;
        redis_check interval=500ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M1}\b/);
my ($s, $reached) = TestRM::redis_session();
Test::More::is($reached, $ENV{TEST_NGINX_M1}, 'the session reached the master');

my $at = TestRM::error_log_size();
my $pid = main::stall(1, 6);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M1} in upstream redis_rw stalls: timed out after 500ms; it accepts connections/, 20, $at);
Test::More::is(main::ask($s, 'SET stalled yes'), "+OK\r\n",
               'the session outlives the stall and writes');
waitpid $pid, 0;
--- stream_request
GET stalled
QUIT
--- stream_response eval
"\$3\r\nyes\r\n+OK\r\n"
--- no_error_log
[alert]
has no master
no longer eligible
is down



=== TEST 2: a connection opened while the master stalls is served once it answers, with wait=
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M2;
        redis_master wait=10s;
        redis_check interval=500ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M2}\b/);
my $at = TestRM::error_log_size();
our $stall = main::stall(2, 6);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M2} in upstream redis_rw stalls/, 20, $at);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M2})
--- timeout: 30
--- no_error_log
[alert]
has no master
is down



=== TEST 3: a master that stalls, then refuses: lost after fall refusals, its session closed
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M3;
        redis_master;
        redis_check interval=500ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M3}\b/);
my ($s, $reached) = TestRM::redis_session();
my $at = TestRM::error_log_size();
$master{3}->sigstop;
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M3} in upstream redis_rw stalls/, 20, $at);
$master{3}->kill9;
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M3} in upstream redis_rw is down after stalling: connect\(\) failed \(111: Connection refused\)/, 20, $at);
Test::More::ok(TestRM::session_closed($s, 10), 'the session to the lost master is closed');
--- stream_request
PING
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
has no master
--- no_error_log
[alert]



=== TEST 4: the server closes the kept-open link as a probe is written: probed again at once on a new link, no failure
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_RELAY;
        redis_master;
        redis_check interval=500ms timeout=scaled(5s) fall=1;
    }
--- init
my $port = $ENV{TEST_NGINX_RELAY};
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$port\b/);

# between probes the link stays open; the relay stops passing bytes, the
# next probe is written to it, and the relay closes the link unanswered
# (as a server's idle timeout or CLIENT KILL does, just as a probe begins)
$relay->pause;
my $at = TestRM::error_log_size();
TestRM::wait_error_log(qr/redis check: probing 127\.0\.0\.1:$port\b/, 10, $at);
$relay->cut;
$relay->resume;
TestRM::wait_error_log(qr/redis check: 127\.0\.0\.1:$port closed the kept-open link before answering, probing again on a new one/, 10, $at);

# that probe ends, and the next one begins
my $again = TestRM::error_log_size();
TestRM::wait_error_log(qr/redis check: probing 127\.0\.0\.1:$port\b/, 10, $again);
--- stream_request
PING
QUIT
--- stream_response eval
"+PONG\r\n+OK\r\n"
--- no_error_log
[alert]
probe failed
is down
has no master
