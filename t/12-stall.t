# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# A master that stalls (a slow command, a fork, a long script) keeps its
# sessions and its place: probes that time out on a connection it accepted,
# or that it answers -BUSY (a script past busy-reply-threshold) or -MISCONF
# (a failed BGSAVE), are no evidence that writes must stop there.  Only a
# server that refuses, resets or closes is lost.  A master that answers
# -MASTERDOWN was demoted: its INFO says so, and it loses its role at once.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;
use POSIX ();
use File::Temp ();
use Time::HiRes ();
use Scenario ();

# one lone master per block; DEBUG SLEEP blocks it as a slow command would
our %master = map {
    $_ => start_redis(conf => ['enable-debug-command local'])
} 1 .. 3;

# 4: its scripts answer -BUSY after 100 ms; 5: its BGSAVE fails once the
# directory it saves in is removed (its writes and PING then answer
# -MISCONF); 6: it refuses stale reads once it is a replica; 7: restarted,
# it answers -LOADING while it loads its snapshot
our $rdb_dir = File::Temp::tempdir('stall-rdb-XXXXXX', TMPDIR => 1,
                                   CLEANUP => 1);
$master{4} = start_redis(conf => ['busy-reply-threshold 100']);
$master{5} = start_redis(conf => ["dir $rdb_dir", 'save 3600 1']);
$master{6} = start_redis(conf => ['replica-serve-stale-data no']);
$master{7} = start_redis(conf => ['enable-debug-command local']);

# the keys of master 7's snapshot: loaded in 2 s times the scale, at 100 us
# a key
our $keys = int(scaled(20000));

$ENV{"TEST_NGINX_M$_"} = $master{$_}->port for keys %master;

# a write to a session nginx closed fails with EPIPE, not the suite
$SIG{PIPE} = 'IGNORE';

# a port where nothing listens, for a replica that never gets its link
$ENV{TEST_NGINX_DEAD} = free_port();

# TEST 8 reaches its master through a relay, which closes nginx's link
$master{8} = start_redis();
our $relay = start_relay(to => $master{8}->port);
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

# busy(N, SECONDS): on master N, from a child process, a Lua script that
# loops for SECONDS (or until SCRIPT KILL); returns its pid
sub busy {
    my ($n, $seconds) = @_;
    my $pid = fork // die "fork: $!";
    return $pid if $pid;
    $master{$n}->cmd('EVAL', "local e = tonumber(redis.call('TIME')[1]) + "
                     . int($seconds) . ' while tonumber(redis.call(\'TIME\')[1])'
                     . ' < e do end return 1', 0);
    POSIX::_exit(0);
}

# said(SESSION, COMMAND): ask(), or why there is no answer (the session
# was closed), so that a failing block reports instead of bailing out
sub said {
    my @args = @_;
    return eval { ask(@args) } // "no answer: $@";
}

# through_nginx(COMMAND): the answer to COMMAND on a new connection through
# nginx ('' when nginx closes it unanswered)
sub through_nginx {
    my ($command) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => TestRM::stream_port(),
                                  Timeout  => scaled(5))
        or die "cannot connect to nginx: $!";
    print {$s} "$command\r\n";
    my $buf = '';
    $s->blocking(0);
    wait_until(sub {
        my $n = sysread($s, $buf, 4096, length $buf);
        return 1 if defined $n ? $n == 0 : !$!{EAGAIN};
        return $buf =~ /\r\n\z/;
    }, 10, "an answer to $command through nginx");
    return $buf;
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('init', 'package main; our (%master, $rdb_dir, $keys, '
                              . '$relay); '
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



=== TEST 4: the only master runs a long script: -BUSY is a stall, its session survives and SCRIPT KILL goes through nginx
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M4;
        redis_master;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $m = qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M4}/;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M4}\b/);
my ($s, $reached) = TestRM::redis_session();
Test::More::is($reached, $ENV{TEST_NGINX_M4}, 'the session reached the master');

my $at = TestRM::error_log_size();
my $t0 = Time::HiRes::time();
my $pid = main::busy(4, scaled(8));
my $line = TestRM::wait_error_log(qr/$m in upstream redis_rw (?:stalls|is down): PING: BUSY /, 20, $at);
Test::More::like($line, qr/stalls: PING: BUSY Redis is busy running a script\. You can only call SCRIPT KILL or SHUTDOWN NOSAVE\.; it accepts connections/,
                 'probes answered -BUSY are a stall, not a lost master');

# at least 3 s of the script, and 5 probes after the stall, all -BUSY
my $busy = qr/$m (?:in upstream redis_rw )?probe failed(?: again)?: PING: BUSY /;
my $from = TestRM::error_log_size();
wait_until(sub {
    Time::HiRes::time() - $t0 >= 3 && TestRM::count_error_log($busy, $from) >= 5
}, 20, '3 s of the script and 5 more probes answered -BUSY');
my $seconds = Time::HiRes::time() - $t0;
my $probes = TestRM::count_error_log($busy, $at);
my $logged = TestRM::count_error_log(qr/\[error\].*$m in upstream redis_rw probe failed: PING: BUSY /, $at);
Test::More::cmp_ok($logged, '>=', 1, 'a probe answered -BUSY is logged');
Test::More::cmp_ok($logged, '<=', int($seconds / 0.18) + 1,
                   "logged at most once an interval ($logged of $probes in ${seconds}s)");
Test::More::is(TestRM::count_error_log(qr/$m in upstream redis_rw is down|has no master/, $at), 0,
               'the busy master is never down, and the upstream keeps it');
Test::More::ok(!TestRM::session_closed($s, 0.5), 'its session is open');

my $killed = main::through_nginx('SCRIPT KILL');
Test::More::is($killed, "+OK\r\n", 'SCRIPT KILL through nginx, on a new connection, ends the script');
$master{4}->cmd('SCRIPT', 'KILL') if $killed ne "+OK\r\n";
waitpid $pid, 0;
Test::More::is(main::said($s, 'SET busy survived'), "+OK\r\n",
               'the session outlives the script and writes');
--- stream_request
GET busy
QUIT
--- stream_response eval
"\$8\r\nsurvived\r\n+OK\r\n"
--- timeout: 30
--- no_error_log
[alert]
has no master
no longer eligible
is down



=== TEST 5: the only master fails to BGSAVE (-MISCONF): it keeps its sessions and reads, and is fixed through nginx
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M5;
        redis_master;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $m = qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M5}/;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M5}\b/);
my ($s, $reached) = TestRM::redis_session();
Test::More::is(main::said($s, 'SET misconf before'), "+OK\r\n", 'the master writes');

my $at = TestRM::error_log_size();
rmdir $rdb_dir or die "rmdir $rdb_dir: $!";
$master{5}->cmd('BGSAVE');
wait_until(sub {
    ($master{5}->info('persistence')->{rdb_last_bgsave_status} // '') eq 'err'
}, 10, 'the BGSAVE to fail');

my $line = TestRM::wait_error_log(qr/$m in upstream redis_rw (?:stalls|is down): PING: MISCONF /, 20, $at);
Test::More::like($line, qr/stalls: PING: MISCONF /, 'probes answered -MISCONF are a stall');
Test::More::is(main::said($s, 'GET misconf'), "\$6\r\nbefore\r\n", 'its session still reads');
Test::More::like(main::said($s, 'SET misconf during'), qr/^-MISCONF /,
                 'and is told why its writes fail');

my $fixed = main::through_nginx('CONFIG SET stop-writes-on-bgsave-error no');
Test::More::is($fixed, "+OK\r\n", 'the operator reaches the master through nginx');
$master{5}->cmd('CONFIG', 'SET', 'stop-writes-on-bgsave-error', 'no')
    if $fixed ne "+OK\r\n";
TestRM::wait_error_log(qr/$m in upstream redis_rw is up, role master/, 20, $at);
Test::More::is(main::said($s, 'SET misconf after'), "+OK\r\n", 'the session writes again');
# its save points would make it refuse to stop: the directory is gone
$master{5}->cmd('CONFIG', 'SET', 'save', '');
--- stream_request
GET misconf
QUIT
--- stream_response eval
"\$5\r\nafter\r\n+OK\r\n"
--- timeout: 30
--- no_error_log
[alert]
has no master
no longer eligible
is down



=== TEST 6: a master demoted to a replica that refuses stale reads (-MASTERDOWN) loses its role at the next probe
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M6;
        redis_master;
        redis_check interval=500ms timeout=1s fall=3;
    }
--- init
my $m = qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M6}/;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M6}\b/);
my ($s, $reached) = TestRM::redis_session();

my $at = TestRM::error_log_size();
$master{6}->cmd('REPLICAOF', '127.0.0.1', $ENV{TEST_NGINX_DEAD});
my $line = TestRM::wait_error_log(qr/$m in upstream redis_rw (?:changed role|probe failed)/, 20, $at);
Test::More::like($line, qr/changed role from master to replica/,
                 'its INFO, not the -MASTERDOWN of its PING, is what counts');
TestRM::wait_error_log(qr/upstream redis_rw has no master/, 20, $at);
Test::More::ok(TestRM::session_closed($s, 10), 'the session to the demoted master is closed');
Test::More::is(TestRM::count_error_log(qr/$m .*(?:PING: MASTERDOWN|is down)/, $at), 0,
               'it is not logged as failing: it answers');
--- stream_request
PING
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
has no master
--- no_error_log
[alert]



=== TEST 7: a master restarted with a data set to load (-LOADING) is down until loaded; with wait= a new connection waits for it
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M7;
        redis_master wait=scaled(30s);
        redis_check interval=200ms timeout=1s;
    }
--- init
my $m = qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M7}/;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M7}\b/);

# a snapshot that the restarted master loads in 2 s at least, answering
# -LOADING meanwhile (it serves events every 1 KB it loads)
my $dir = $master{7}->dir;
$master{7}->cmd('DEBUG', 'POPULATE', $keys, 'k', 100);
$master{7}->cmd('SAVE');
my $at = TestRM::error_log_size();
$master{7} = Scenario::restart($master{7},
    conf => ["dir $dir", 'key-load-delay 100',
             'loading-process-events-interval-bytes 1024'],
    loading_ok => 1);

TestRM::wait_error_log(qr/$m .*PING: LOADING /, 20, $at);
TestRM::wait_error_log(qr/upstream redis_rw has no master/, 20, $at);
my $held = TestRM::ask_nginx_send();
Test::More::is($master{7}->info('persistence')->{loading}, 1,
               'the master was still loading when the client came');
Test::More::is(TestRM::ask_nginx_answer($held), TestRM::port_reply($ENV{TEST_NGINX_M7}),
               'the held connection is served once the master has loaded');
Test::More::is(TestRM::count_error_log(qr/$m in upstream redis_rw stalls/, $at), 0,
               '-LOADING is no stall');
Test::More::is($master{7}->cmd('DBSIZE'), $keys, 'with its data set');
--- stream_request
DBSIZE
QUIT
--- stream_response eval
":$main::keys\r\n+OK\r\n"
--- timeout: 30
--- error_log eval
qr/is up, role master/
--- no_error_log
[alert]
=== TEST 8: the server closes the kept-open link as a probe is written: probed again at once on a new link, no failure
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

# said at notice level, as a server that closes every link would be (at
# most once an interval)
TestRM::wait_error_log(qr/\[notice\] .*redis check: 127\.0\.0\.1:$port in upstream redis_rw closed the kept-open link before answering, probing again on a new one$/, 10, $at);

# that probe ends, and the next one begins
my $again = TestRM::error_log_size();
TestRM::wait_error_log(qr/redis check: probing 127\.0\.0\.1:$port\b/, 10, $again);

# one retry, on a new link that is not retried again: never a loop
Test::More::is(TestRM::count_error_log(qr/redis check: 127\.0\.0\.1:$port closed the kept-open link before answering/, $at),
               1, 'the probe was made again once');
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
