# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Hostile backends: a fake Redis that answers garbage, the wrong type, an
# error, a huge reply, a slow drip or nothing.  Each one is marked down with
# the reason logged; no worker crashes, and nothing is routed to it.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;

# Topology: one hostile fake per mode, shared by the blocks that name it;
# each block's fakes answer every connection the same way whatever came
# before, so that any block runs alone and in any order.
our %fake;

for my $mode (qw(garbage wrongtype error huge drip silence echo
                 sentinel-endless sentinel-nested sentinel-stall
                 sentinel-chatty)) {
    $fake{$mode} = start_hostile(mode => $mode);
    (my $var = "TEST_NGINX_\U$mode") =~ tr/-/_/;
    $ENV{$var} = $fake{$mode}->port;
}

# a port nobody listens on: a server that is never up
$ENV{TEST_NGINX_NOBODY} = free_port();

# what a hostile server may repeat, and must never reach a log or the zone
$ENV{TEST_NGINX_USER} = 'probe-user-Qx7';
# (the password's UTF-8 is masked as the server sent it: made printable
# first, it would be cut into pieces too short to be found)
$ENV{TEST_NGINX_SECRET} = "hunter2-Zk9#p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbcn\xc3\xafcode";
our @SECRET_PIECES = secret_pieces($ENV{TEST_NGINX_SECRET});

# a worker that buffers an endless reply grows past 300 MB and on; one that
# drops it stays far below this (valgrind adds its own tens of MB)
our $RSS_LIMIT_KB = ($ENV{TEST_NGINX_USE_VALGRIND} ? 256 : 64) * 1024;

sub worker_rss_ok {
    my ($what) = @_;
    for my $pid (worker_pids()) {
        my $kb = rss_kb($pid);
        Test::More::cmp_ok($kb, '<', $RSS_LIMIT_KB,
                           "$what: worker $pid stays at $kb KiB");
    }
}

# a flooding Sentinel's subscription is dropped at the reply limit, asked
# again an interval later and dropped again, and the workers stay small
sub dropped_twice_within_bounds {
    my ($what) = @_;
    my $re = qr/redis sentinel: 127\.0\.0\.1:\d+ in upstream redis_rw sent a reply larger than 262144 bytes, dropping the event subscription/;
    wait_error_log($re, 30);
    wait_error_log($re, 30, error_log_size());
    worker_rss_ok($what);
}

# flood_costs_little(FAKE, SECONDS): over SECONDS of a flood that goes on
# (FAKE still floods after the window, within its bounds of 64 MiB and
# 120 s, and nginx logged events from it in the window), the
# workers take at most 5% of a core, the error log grows by at most 4 MB
# (at debug), and the pause is logged at most once a window: once here
sub flood_costs_little {
    my ($fake, $seconds) = @_;
    my $window = 0.5;
    my $pause = qr/redis sentinel: 127\.0\.0\.1:\d+ in upstream redis_rw sent more than 32 replies or 65536 bytes in 500ms, reading its events once a window while it goes on/;
    my @pids = worker_pids();
    my $from = error_log_size();
    my $cpu = 0;
    $cpu -= cpu_seconds($_) for @pids;
    my $t0 = Time::HiRes::time();
    Time::HiRes::sleep($seconds);    # a measure over a window, not a wait
    $cpu += cpu_seconds($_) for @pids;
    my $wall = Time::HiRes::time() - $t0;
    my $grew = error_log_size() - $from;

    # the fake writes its stats every 100 ms or so: one after the window
    my $t1 = Time::HiRes::time();
    wait_until(sub { (Time::HiRes::stat($fake->{state_file}))[9] > $t1 },
               5, 'the fake to report after the window');
    Test::More::cmp_ok($fake->stats->{flooding}, '>=', 1,
                       'the fake still floods, far from its bounds');
    Test::More::cmp_ok(count_error_log(qr/published "\+sdown master mymaster/,
                                       $from), '>', 0,
                       'nginx went on reading the flood during the window');
    Test::More::cmp_ok($cpu / $wall, '<=', 0.05,
                       sprintf('the workers took %.2f s of CPU in %.1f s',
                               $cpu, $wall));
    Test::More::cmp_ok($grew, '<=', 4 * 1024 * 1024,
                       "the error log grew by $grew bytes in the window");
    my $pauses = count_error_log($pause);
    Test::More::cmp_ok($pauses, '>=', 1, 'the pause is logged');
    Test::More::cmp_ok($pauses, '<=', 1 + $wall / $window,
                       "the pause is logged $pauses times, at most once a window");
}

sub zone_has_no_secret {
    for my $pid (worker_pids()) {
        for my $secret ($ENV{TEST_NGINX_SECRET}, $ENV{TEST_NGINX_USER}) {
            Test::More::ok(!shared_memory_has($pid, $secret),
                           "the shared zone of worker $pid has no \"$secret\"");
        }
        my @leaks = grep { shared_memory_has($pid, $_) } @SECRET_PIECES;
        Test::More::is_deeply(\@leaks, [], "the shared zone of worker $pid "
                              . "has no piece of the password's UTF-8");
    }
}

master_on();
workers(1);

add_block_preprocessor(sub {
    my ($block) = @_;

    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('stream_request', "PING\n");
    $block->set_value('stream_response_like',
        qr/^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$/);
    $block->set_value('no_error_log', "[alert]\n[crit]\nis up\n")
        unless defined $block->no_error_log;
});

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: garbage is a protocol error
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_GARBAGE;
        redis_master;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/probe failed: protocol error: Protocol error, got "%" as reply type byte/);
--- error_log
no Redis master in upstream redis_rw



=== TEST 2: an integer where PONG is due
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_WRONGTYPE;
        redis_master;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/probe failed: unexpected reply to PING \(type 3\)/);
--- error_log
no Redis master in upstream redis_rw



=== TEST 3: an error reply is logged with its text
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_ERROR;
        redis_master;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/probe failed: PING: ERR fake failure/);
--- error_log
no Redis master in upstream redis_rw



=== TEST 4: a 1 GB bulk string is cut off at the reply limit
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_HUGE;
        redis_master;
        redis_check interval=100ms timeout=2s;
    }
--- init
TestRM::wait_error_log(qr/probe failed: reply larger than 262144 bytes/);
--- error_log
no Redis master in upstream redis_rw



=== TEST 5: a slow drip runs into the probe's timeout
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_DRIP;
        redis_master;
        redis_check interval=100ms timeout=400ms;
    }
--- init
TestRM::wait_error_log(qr/probe failed: timed out after 400ms/);
--- error_log
no Redis master in upstream redis_rw



=== TEST 6: silence runs into the probe's timeout
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_SILENCE;
        redis_master;
        redis_check interval=100ms timeout=300ms;
    }
--- init
TestRM::wait_error_log(qr/probe failed: timed out after 300ms/);
--- error_log
no Redis master in upstream redis_rw



=== TEST 7: a server that repeats the credentials in its errors: they are masked, a password in UTF-8 too
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_ECHO;
        redis_master;
        redis_check interval=100ms timeout=500ms
                    username=$TEST_NGINX_USER password=$TEST_NGINX_SECRET;
    }
--- init
TestRM::wait_error_log(qr/probe failed: PING: ERR you sent me: [* ]{9,}/);
main::zone_has_no_secret();
--- error_log
no Redis master in upstream redis_rw
--- no_error_log eval
["[alert]", "[crit]", "is up", $ENV{TEST_NGINX_SECRET}, $ENV{TEST_NGINX_USER},
 "hunter", "Zk9#", "Qx7", @main::SECRET_PIECES]



=== TEST 8: a Sentinel that repeats its credentials as the master's address and in events: masked, a password in UTF-8 too
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_NOBODY;
        redis_master;
        redis_check interval=100ms timeout=500ms;
        redis_sentinel name=mymaster username=$TEST_NGINX_USER
                       password=$TEST_NGINX_SECRET
                       127.0.0.1:$TEST_NGINX_ECHO;
    }
--- init
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.1:$ENV{TEST_NGINX_ECHO} in upstream redis_rw names .+ port 6379 as master "mymaster"/);
TestRM::wait_error_log(qr/published "\+switch-master mymaster .+ 6379/);
main::zone_has_no_secret();
--- error_log eval
[qr/redis sentinel: 127\.0\.0\.1:\d+ in upstream redis_rw names [* ]{9,} port 6379 as master "mymaster"/,
 qr/published "\+switch-master mymaster [* ]{9,} 6379/,
 "no Redis master in upstream redis_rw"]
--- no_error_log eval
["[alert]", "[crit]", $ENV{TEST_NGINX_SECRET}, $ENV{TEST_NGINX_USER},
 "hunter", "Zk9#", "Qx7", @main::SECRET_PIECES]



=== TEST 9: a Sentinel that sends a bulk string without end loses its subscription, and memory stays bounded
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_NOBODY;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_SENTINEL_ENDLESS;
    }
--- init
main::dropped_twice_within_bounds('an endless bulk string');
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]



=== TEST 10: a Sentinel that nests arrays without end loses its subscription, and memory stays bounded
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_NOBODY;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_SENTINEL_NESTED;
    }
--- init
main::dropped_twice_within_bounds('arrays nested without end');
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]



=== TEST 11: a Sentinel that leaves a reply half sent loses its subscription at the deadline
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_NOBODY;
        redis_master;
        redis_check interval=200ms timeout=400ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_SENTINEL_STALL;
    }
--- init
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.1:\d+ in upstream redis_rw left a reply incomplete for 400ms, dropping the event subscription/, 30);
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]



=== TEST 12: a Sentinel that publishes without end costs a worker little, and is logged a few lines an interval
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_NOBODY;
        redis_master;
        redis_check interval=500ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_SENTINEL_CHATTY;
    }
--- init
# the first line of each interval after the first says the events before
# it were not logged: at most 8 lines an interval, counted in one read
my ($lines, $intervals);
TestRM::wait_until(sub {
    ($lines, $intervals) = (0, 1);
    TestRM::each_error_line(sub {
        return unless /published "\+sdown master mymaster 127\.0\.0\.1 6379", checking again now/;
        $lines++;
        $intervals++ if /\(\d+ more events were not logged\)/;
    });
    return $intervals > 3;
}, 30, 'three intervals with more events than were logged');
Test::More::cmp_ok($lines, '<=', 8 * $intervals,
                   "$lines event lines in $intervals intervals");

# then 6 s of the flood: the workers' CPU time (not wall time: a busy
# machine gives nginx less of it, never more), what the log grew by at
# error_log debug, and what the fake could send meanwhile
main::flood_costs_little($::fake{'sentinel-chatty'}, 6);
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
