# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Replica lag in milliseconds that means staleness: max_lag compares how
# long ago the master was first found beyond the offset a replica reports
# (the history of the master's offsets, see docs/directives.md), not when
# the replica last heard from its master.  An idle master's in-sync
# replicas qualify with max_lag=1s; a replica stopped while the master
# takes writes is excluded within max_lag and an interval, and comes back
# when it catches up.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Time::HiRes ();
use Test::Nginx::Socket::Lua::Stream;

# Topologies (every block runs alone and in any order):
#   TEST 1  $m master with the default repl-ping-replica-period (10 s),
#           nothing writes to it; $r1, $r2 its replicas
#   TEST 2  $m2 master, $r3, $r4 its replicas; a writer sets a key on $m2
#           every 20 ms during the block, and $r3 is stopped (SIGSTOP)
#           then continued
our $m = start_redis();
our $r1 = start_redis(replicaof => $m->port);
our $r2 = start_redis(replicaof => $m->port);

our $m2 = start_redis();
our $r3 = start_redis(replicaof => $m2->port);
our $r4 = start_redis(replicaof => $m2->port);

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R1} = $r1->port;
$ENV{TEST_NGINX_R2} = $r2->port;
$ENV{TEST_NGINX_M2} = $m2->port;
$ENV{TEST_NGINX_R3} = $r3->port;
$ENV{TEST_NGINX_R4} = $r4->port;

# where N new connections through the read pool go ("refused" if closed)
sub reads {
    my ($n) = @_;
    my @to;
    for (1 .. $n) {
        my ($s, $port) = eval { redis_session() };
        push @to, $port // 'refused';
    }
    return @to;
}

sub count { my %n; $n{$_}++ for @_; return \%n }

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_ro;\n");
    $block->set_value('init', 'package main; our ($m, $r1, $r2, $m2, $r3, $r4); '
                              . ($block->init // ''));
});

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: an idle master: its in-sync replicas qualify with max_lag=1s, through a replication ping
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R1;
        server 127.0.0.1:$TEST_NGINX_R2;
        redis_replica max_lag=1s fallback=none;
        redis_check interval=200ms timeout=1s;
    }
--- init
my ($R1, $R2) = @ENV{qw(TEST_NGINX_R1 TEST_NGINX_R2)};
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$_ in upstream redis_ro is up/)
    for $R1, $R2;
TestRM::wait_error_log(qr/upstream redis_ro master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
TestRM::wait_until(sub { my $n = count(reads(4)); $n->{$R1} && $n->{$R2} },
                   5, 'reads on both replicas');

# 12 s: the master pings its replicas every 10 s, and an idle replica's
# master_last_io_seconds_ago climbs towards 10 meanwhile.  (Before, at
# start-up, reads are refused until the master is known.)
my $from = TestRM::error_log_size();
my $offset = $m->info('replication')->{master_repl_offset};
my (%seen, $last_io);
my $end = Time::HiRes::time() + 12;
while (Time::HiRes::time() < $end) {
    $seen{$_}++ for reads(2);
    my $io = $r1->info('replication')->{master_last_io_seconds_ago};
    $last_io = $io if !defined $last_io || $io > $last_io;
    Time::HiRes::sleep(0.25);
}
Test::More::ok(!$seen{refused}, 'no read was refused on the idle master');
Test::More::ok($seen{$R1} && $seen{$R2}, 'both replicas served reads');
Test::More::cmp_ok($last_io, '>=', 2,
                   'a replica went more than max_lag without hearing from '
                   . 'its master');
Test::More::cmp_ok($m->info('replication')->{master_repl_offset}, '>',
                   $offset, "the master's offset moved meanwhile (a ping)");
Test::More::is(TestRM::count_error_log(qr/no qualified Redis replica/, $from),
               0, 'no read was refused meanwhile, says the log');
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^\*2\r\n\$4\r\nport\r\n\$\d+\r\n\d+\r\n\+OK\r\n$
--- timeout: 60
--- no_error_log
[alert]
[crit]



=== TEST 2: a replica stopped while the master takes writes is excluded within max_lag and an interval, and comes back once continued
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M2;
        server 127.0.0.1:$TEST_NGINX_R3;
        server 127.0.0.1:$TEST_NGINX_R4;
        redis_replica max_lag=1s fallback=none;
        redis_check interval=100ms timeout=10s fall=3 rise=2;
    }
--- init
my ($R3, $R4) = @ENV{qw(TEST_NGINX_R3 TEST_NGINX_R4)};
my $writer = TestRM::start_writer($m2);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$_ in upstream redis_ro is up/)
    for $R3, $R4;

# under writes, both replicas keep up within max_lag
TestRM::wait_until(sub { my $n = count(reads(4)); $n->{$R3} && $n->{$R4} },
                   5, 'reads on both replicas while the master takes writes');

my $session;
TestRM::wait_until(sub {
    my $port;
    ($session, $port) = TestRM::redis_session();
    return $port == $R3;
}, 5, 'a session to r3');

my $from = TestRM::error_log_size();
$r3->sigstop;
my $stopped = Time::HiRes::time();

# max_lag (1 s) and an interval (100 ms); a probe of the stopped replica
# times out only after 10 s, and it goes down only after three of them
Test::More::ok(TestRM::session_closed($session, 1.4),
               'the session to the stopped replica is closed within '
               . 'max_lag and an interval (times the scale)');
my $took = Time::HiRes::time() - $stopped;
Test::More::cmp_ok($took, '<', 9, "excluded by its lag (${took}s), not by "
                                  . 'a timed out probe');
Test::More::is(TestRM::count_error_log(qr/127\.0\.0\.1:$R3 in upstream redis_ro (is down|stalls|probe failed)/, $from), 0,
               'no probe of it had failed yet');
Test::More::is_deeply(count(reads(4)), { $R4 => 4 },
                      'reads go to the other replica');

$r3->sigcont;
TestRM::wait_until(sub { grep { $_ eq $R3 } reads(2) }, 10,
                   'r3 to serve reads again once continued');
$writer->stop;
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^\*2\r\n\$4\r\nport\r\n\$\d+\r\n\d+\r\n\+OK\r\n$
--- timeout: 60
--- error_log
redis balancer: closed 1 sessions in upstream redis_ro
--- no_error_log
[alert]
[crit]
