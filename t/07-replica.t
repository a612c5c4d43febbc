# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# The read pool: connections go only to healthy, fresh replicas of the
# current master, by weight; broken links, other lineages, lag, full syncs
# are excluded; with none left, fallback=master or a refusal.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Test::Nginx::Socket::Lua::Stream;

# One topology for every block, and a documented fixture: each block's
# --- init starts with fixture() (below), which establishes the state every
# block expects, so that any block runs alone and in any order:
#   $m the master; $r1 and $r2 its replicas, links up; $r4 a replica of
#   $x, another master; $r5 a replica of $m through $relay, relaying; $r6
#   a replica of nobody until TEST 7 (its only user) gives it a full sync
#   through $sync_relay.  Blocks that break a link or pause a relay (TEST
#   2, 3, 4, 9) put it back at their end, and check that they did; TEST 7
#   puts back the settings it changes.
our $m = start_redis(conf => ['repl-ping-replica-period 1',
                              'enable-debug-command local']);
our $r1 = start_redis(replicaof => $m->port);
our $r2 = start_redis(replicaof => $m->port);

# another lineage: a replica, link up, of a master outside the upstream
our $x = start_redis();
our $r4 = start_redis(replicaof => $x->port);

# a replica behind a relay the test can pause: lag without a broken link
our $relay = start_relay(to => $m->port);
our $r5 = start_redis(replicaof => $relay->port);

# a replica that will do a full sync, through a relay the test pauses to
# hold the transfer open; until then it follows nobody
our $dead = free_port();
our $r6 = start_redis(replicaof => $dead, wait_replica_up => 0);
our $sync_relay = start_relay(to => $m->port);

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R1} = $r1->port;
$ENV{TEST_NGINX_R2} = $r2->port;
$ENV{TEST_NGINX_R4} = $r4->port;
$ENV{TEST_NGINX_R5} = $r5->port;
$ENV{TEST_NGINX_R6} = $r6->port;

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

# true while a replica has not finished its sync: link down, transfer in
# progress, or loading what it received
sub syncing {
    my ($r) = @_;
    my $info = $r->info('replication');
    return $info->{master_link_status} ne 'up'
           || $info->{master_sync_in_progress}
           || $r->info('persistence')->{loading};
}

# the state the master reports for its replica listening on PORT
# (wait_bgsave, send_bulk, online), or ''
sub replica_state {
    my ($master, $port) = @_;
    my $info = $master->info('replication');
    for my $line (grep { /^slave\d+$/ } keys %$info) {
        return $1 if $info->{$line} =~ /(?:^|,)port=$port,.*\bstate=(\w+)/;
    }
    return '';
}

# the fixture every block starts from (see the top of the file); it changes
# nothing when the previous block left things as they should be
sub fixture {
    Scenario::healed($_) for $relay, $sync_relay;
    Scenario::follow($_, $m) for $r1, $r2;
    Scenario::follow($r4, $x);
    Scenario::follow($r5, $relay);
    $m->cmd('CONFIG', 'SET', 'rdb-key-save-delay', 0);
    $m->cmd('CONFIG', 'SET', 'repl-diskless-sync', 'yes');
    $r6->cmd('CONFIG', 'SET', 'key-load-delay', 0);
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_ro;\n")
        unless defined $block->stream_server_config;

    # --- init runs in Test::Nginx's package: give it the topology
    $block->set_value('init', 'package main; '
        . 'our ($m, $r1, $r2, $x, $r4, $relay, $r5, $dead, $r6, $sync_relay); '
        . "main::fixture();\n"
        . ($block->init // ''));
});
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: reads spread by weight over the qualified replicas only
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R1 weight=3;
        server 127.0.0.1:$TEST_NGINX_R2;
        server 127.0.0.1:$TEST_NGINX_R4;
        redis_replica;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_ro master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{"TEST_NGINX_R$_"} in upstream redis_ro is up/)
    for 1, 2, 4;

# "is up" is a probe, not yet a place in the pool: a replica whose first
# probe found it behind every offset of the master remembered has an
# unknown lag until a later probe.  Both replicas reached: the pool is whole.
TestRM::wait_until(sub {
    my $n = count(reads(4));
    return $n->{$r1->port} && $n->{$r2->port};
}, 30, 'reads on both replicas');

# smooth weighted round robin: any 8 picks of weights 3 and 1 are 6 and 2,
# while the pool stays the same; a probe that failed or stalled on a busy
# machine meanwhile may have changed it, and the 8 reads are made again
my $counted = TestRM::wait_until(sub {
    my $from = TestRM::error_log_size();
    my $n = count(reads(8));
    return TestRM::count_error_log(qr/probe failed|stalls|is down/, $from)
           ? undef : $n;
}, 60, '8 reads while no probe failed');

Test::More::is_deeply($counted,
                      { $r1->port => 6, $r2->port => 2 },
                      "6 of 8 to the weight=3 replica, none to the master "
                      . "or to the replica of another master");
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^\*2\r\n\$4\r\nport\r\n
--- no_error_log
[alert]
falling back



=== TEST 2: a broken link excludes a replica and closes its sessions
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R1;
        server 127.0.0.1:$TEST_NGINX_R2;
        redis_replica;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_ro master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{"TEST_NGINX_R$_"} in upstream redis_ro is up/)
    for 1, 2;

my ($session, $port);
TestRM::wait_until(sub {
    ($session, $port) = TestRM::redis_session();
    return $port == $r1->port;
}, 5, 'a session to r1');

my $from = TestRM::error_log_size();
Scenario::orphan($r1, $dead);

Test::More::ok(TestRM::session_closed($session, 2),
               "the session to the replica that lost its link is closed");
Test::More::is_deeply(count(reads(4)), { $r2->port => 4 },
                      "new reads avoid the replica with a broken link");

Scenario::replicate_from($r1, $m);
$r1->wait_link_up;
TestRM::wait_until(sub { grep { $_ == $r1->port } reads(2) }, 5,
                   'r1 to serve reads again once linked');
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^\*2\r\n\$4\r\nport\r\n
--- error_log
redis balancer: closed 1 sessions in upstream redis_ro



=== TEST 3: a replica lagging beyond max_lag is excluded, its link still up
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R5;
        redis_replica max_lag=2s fallback=none;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_until(sub { (reads(1))[0] eq $r5->port }, 5, 'reads on r5');

Scenario::partition($relay);
TestRM::wait_until(sub { (reads(1))[0] eq 'refused' }, 10,
                   'r5 to be excluded while its master is silent');
my $info = $r5->info('replication');
Test::More::is($info->{master_link_status}, 'up', 'r5 still says link up');
# whole seconds, rounded down: 2 is 2.0 s or more, so max_lag=2s had passed
Test::More::cmp_ok($info->{master_last_io_seconds_ago}, '>=', 2,
                   'r5 last heard from its master max_lag ago or more');

Scenario::heal($relay);
TestRM::wait_until(sub { (reads(1))[0] eq $r5->port }, 10,
                   'r5 to serve reads again once fresh');
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R5})
--- error_log
no qualified Redis replica in upstream redis_ro



=== TEST 4: a replica behind by more than max_lag_bytes is excluded
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R5;
        redis_replica max_lag_bytes=1k fallback=none;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_until(sub { (reads(1))[0] eq $r5->port }, 5, 'reads on r5');

Scenario::partition($relay);
$m->cmd('SET', 'big', 'x' x 8192);
TestRM::wait_until(sub { (reads(1))[0] eq 'refused' }, 5,
                   'r5 to be excluded while 8k behind');
my $info = $r5->info('replication');
Test::More::is($info->{master_link_status}, 'up', 'r5 still says link up');
Test::More::cmp_ok($info->{master_last_io_seconds_ago}, '<', 15,
                   'r5 is within the default max_lag: bytes excluded it');

Scenario::heal($relay);
TestRM::wait_until(sub { (reads(1))[0] eq $r5->port }, 10,
                   'r5 to serve reads again once caught up');
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R5})
--- error_log
no qualified Redis replica in upstream redis_ro



=== TEST 5: fallback=master (the default) sends reads to the master
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R4;
        redis_replica;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_ro master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_R4} in upstream redis_ro is up/);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- error_log
redis replica: no qualified replica in upstream redis_ro, falling back to the master



=== TEST 6: fallback=none refuses, naming the upstream
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R4;
        redis_replica fallback=none;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_ro master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_R4} in upstream redis_ro is up/);
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no qualified Redis replica in upstream redis_ro
--- no_error_log
falling back



=== TEST 7: a replica doing a full sync is excluded until it has loaded
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R6;
        redis_replica fallback=none;
        redis_check interval=50ms timeout=500ms;
    }
--- init
my ($M, $R6) = ($m->port, $r6->port);
TestRM::wait_error_log(qr/upstream redis_ro master is 127\.0\.0\.1:$M\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$R6 in upstream redis_ro is up, role replica/);

# a snapshot on disk that the master's child writes slowly (at least 1 s
# times the timeout scale), and that the replica loads slowly, answering
# -LOADING meanwhile
$m->cmd('DEBUG', 'POPULATE', 10000, 'k', 100);
$m->cmd('CONFIG', 'SET', 'repl-diskless-sync', 'no');
$m->cmd('CONFIG', 'SET', 'rdb-key-save-delay', int(TestRM::scaled(100)));
$r6->cmd('CONFIG', 'SET', 'key-load-delay', 100);
$r6->cmd('CONFIG', 'SET', 'loading-process-events-interval-bytes', 1024);

# the master answers +FULLRESYNC at once and sends the snapshot once it is
# written: pausing the relay in between holds the transfer open until the
# test resumes it, whatever the machine's speed
$r6->cmd('REPLICAOF', '127.0.0.1', $sync_relay->port);
TestRM::wait_until(sub { $r6->info('replication')->{master_sync_in_progress} },
                   10, 'r6 to start its full sync');
$sync_relay->pause;
my $state = replica_state($m, $R6);
die "the master sent the snapshot before the relay could hold it "
    . "(state '$state'): raise TEST_NGINX_TIMEOUT_SCALE\n"
    unless $state eq 'wait_bgsave';

# held: reads are refused while nginx probes r6 in its transfer (three
# probes started, so two at least ended, during the hold)
my $from = TestRM::error_log_size();
my ($during, @leaked) = (0);
TestRM::wait_until(sub {
    push @leaked, grep { $_ ne 'refused' } reads(1);
    $during++;
    return $during >= 4
           && TestRM::count_error_log(qr/redis check: probing 127\.0\.0\.1:$R6\b/,
                                      $from) >= 3;
}, 10, 'reads and probes of r6 while its transfer is held');
Test::More::ok($r6->info('replication')->{master_sync_in_progress},
               'r6 was in its transfer all along');

# let it go: the snapshot arrives, r6 loads it; a read counts as tried
# during the sync when r6 was still syncing after it was answered
$sync_relay->resume;
TestRM::wait_until(sub {
    my ($read) = reads(1);
    my $still = syncing($r6);
    if ($still) {
        $during++;
        push @leaked, $read if $read ne 'refused';
    }
    return !$still;
}, 60, 'r6 to finish its full sync');

Test::More::cmp_ok($during, '>', 3, "reads tried during the sync ($during)");
Test::More::is_deeply(\@leaked, [], 'no read reached the syncing replica');
TestRM::wait_until(sub { (reads(1))[0] eq $r6->port }, 5,
                   'r6 to serve reads once loaded');

# put things back; the request below is answered by r6 only once routing
# is seen to still reach it
$m->cmd('CONFIG', 'SET', 'rdb-key-save-delay', 0);
$m->cmd('CONFIG', 'SET', 'repl-diskless-sync', 'yes');
$r6->cmd('CONFIG', 'SET', 'key-load-delay', 0);
$m->cmd('FLUSHALL');
TestRM::wait_until(sub { $r6->cmd('DBSIZE') == 0 }, 10, 'r6 to be flushed too');
TestRM::wait_until(sub { (reads(1))[0] eq $r6->port }, 5,
                   'r6 to serve reads after the flush');
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R6})



=== TEST 8: a read and a write pool over the same servers share one probe
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R1;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R1;
        redis_replica;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- stream_server_config2
    proxy_pass redis_ro;
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{"TEST_NGINX_$_"} in upstream redis_rw,redis_ro is up/)
    for qw(M R1);

# ten probes, however long they take, and Redis sees them at the rate of
# one probe per interval (200 ms, minus up to 10% of jitter, with a
# margin): a probe per upstream would make twice as many
my $w = TestRM::probe_window($m, 10, 10);
Test::More::cmp_ok($w->{probes}, '>=', 8,
                   "Redis sees the probes nginx logs ($w->{probes})");
Test::More::cmp_ok($w->{probes}, '<=', 1 + 1.4 * $w->{seconds} / 0.2,
                   "not one per upstream ($w->{probes} in $w->{seconds} s)");
--- stream_request
CONFIG GET port
QUIT
--- stream_request2
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M}) . TestRM::port_reply($ENV{TEST_NGINX_R1})



=== TEST 9: "down" and "backup" work as in any nginx upstream
--- stream_config
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R1 down;
        server 127.0.0.1:$TEST_NGINX_R2;
        server 127.0.0.1:$TEST_NGINX_R5 backup;
        redis_replica fallback=none;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_ro master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{"TEST_NGINX_R$_"} in upstream redis_ro is up/)
    for 1, 2, 5;

Test::More::is_deeply(count(reads(4)), { $r2->port => 4 },
                      'the down replica gets nothing, the backup waits');

# the only primary replica loses its link: the backup takes the reads
Scenario::orphan($r2, $dead);
TestRM::wait_until(sub { (reads(1))[0] eq $r5->port }, 5,
                   'the backup to serve reads');
Test::More::is_deeply(count(reads(4)), { $r5->port => 4 },
                      'reads go to the backup only');

Scenario::replicate_from($r2, $m);
$r2->wait_link_up;
TestRM::wait_until(sub { (reads(1))[0] eq $r2->port }, 5,
                   'the primary replica to take the reads back');
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R2})
