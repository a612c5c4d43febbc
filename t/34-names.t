# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Redis servers named by DNS names (redis_server NAME:PORT): the name is
# resolved at run time, once per check interval, and each address it
# resolves to is a server, up to max_servers.  A name that does not
# resolve at start-up brings its servers once it does; a server that comes
# back at a new address is followed without a reload, and the session to
# the old address is closed; a failed resolution keeps the last addresses,
# an answer without one removes them; moves never fill the zone.  The
# names come from a DNS server the test runs and changes
# (t/lib/RedisTopo/Dns.pm); the servers of a name listen on one port at
# several loopback addresses, as the pods of a headless service do, and a
# client tells which one it reached by its address ("CONFIG GET bind",
# t/lib/Names.pm).

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Names ();
use ConfigCheck ();
use StatusPage ();
use RedisTopo::Tls ();
use Test::Nginx::Socket::Lua::Stream;

# Topologies, one per block (any block runs alone and in any order); each
# block has a port of its own, $P{X}, on which its servers listen at
# 127.0.0.5 and up:
#   TEST 1  $a5 a master at .5; late.a.test resolves only once the block
#           says so
#   TEST 2  $b5 master at .5, $b6 its replica at .6 (m.b.test, r.b.test);
#           the block starts a new master at .7 and moves m.b.test there
#   TEST 3  $c5 master at .5, $c6 its replica at .6 (m.c.test, r.c.test);
#           the block starts a new replica at .8 and moves r.c.test there
#   TEST 4  $md a master on 127.0.0.1, @d its replicas at .5 to .8;
#           pool.d.test names .5, .6 and .7, then .5, .6 and .8
#   TEST 5  $me a master on 127.0.0.1, @e its replicas at .5 to .8, all
#           four named by pool.e.test (max_servers=3)
#   TEST 6  $f5 a master at .5 (f.test), whose name fails, comes back and
#           goes
#   TEST 7  $mg a master on 127.0.0.1; z1.g.test to z4.g.test name three
#           addresses each where nothing listens, from $dns0 (TTL 0), and
#           move a few hundred times
#   TEST 8  nginx -t; the block's own nginx proxies to $mg
#   TEST 9  $mh, $mh2 TLS-only masters on 127.0.0.1, named redis.test
#           (a name of their certificate) and other.h.test (not one)
#   TEST 10 $k5 a master at .5 (k.test), $k9 its replica at .9: k.test
#           moves to the replica, then back
#   TEST 11 $s5 master at .5, $s6 its replica at .6 (m.s.test, r.s.test),
#           $sent a Sentinel that monitors 127.0.0.5 as mymaster; the block
#           fails over to $s6
#   TEST 12 $u5 master at .5, $u6 its replica at .6, both named by
#           pool.u.test, which two upstreams list
#   TEST 13 $i5 master at .5, $i6 its replica at .6, both named by
#           pool.i.test, and a static server where nothing listens; the
#           status page
#   TEST 14 $mw a master on 127.0.0.1, @w its replicas at .5 to .8, one
#           name each: heavy (weight=3), light, off (down), spare (backup)
our %P = map { $_ => free_port() } qw(A B C D E F G K S U I W);
$ENV{"TEST_NGINX_P$_"} = $P{$_} for keys %P;

sub at { my ($n, $port) = @_; start_redis(bind => "127.0.0.$n", port => $port, @_[2 .. $#_]) }
sub replica_at {
    my ($n, $port, $of, $of_host) = @_;
    return at($n, $port, replicaof => $of, replicaof_host => $of_host);
}

our $a5 = at(5, $P{A});

our $b5 = at(5, $P{B});
our $b6 = replica_at(6, $P{B}, $P{B}, '127.0.0.5');

our $c5 = at(5, $P{C});
our $c6 = replica_at(6, $P{C}, $P{C}, '127.0.0.5');

our $md = start_redis();
our @d = map { replica_at($_, $P{D}, $md->port, '127.0.0.1') } 5 .. 8;

our $me = start_redis();
our @e = map { replica_at($_, $P{E}, $me->port, '127.0.0.1') } 5 .. 8;

our $f5 = at(5, $P{F});

our $mg = start_redis();

our $k5 = at(5, $P{K});
our $k9 = replica_at(9, $P{K}, $P{K}, '127.0.0.5');

our $s5 = at(5, $P{S});
our $s6 = replica_at(6, $P{S}, $P{S}, '127.0.0.5');
our $sent = start_sentinel(monitor => ['mymaster', $P{S}, 1, '127.0.0.5'],
                           down_after => 600000);

our $u5 = at(5, $P{U});
our $u6 = replica_at(6, $P{U}, $P{U}, '127.0.0.5');

our $i5 = at(5, $P{I});
our $i6 = replica_at(6, $P{I}, $P{I}, '127.0.0.5');
$ENV{TEST_NGINX_DOWNI} = free_port();

our $mw = start_redis();
our @w = map { replica_at($_, $P{W}, $mw->port, '127.0.0.1') } 5 .. 8;
$ENV{TEST_NGINX_MW} = $mw->port;

our $tls = RedisTopo::Tls->new;
our $mh = start_redis(tls => $tls);
our $mh2 = start_redis(tls => $tls);

# the addresses of z$i.g.test in round $round of TEST 7: 127.0.ROUND.*
sub g_addrs {
    my ($round, $i) = @_;
    return [ map { "127.0.$round." . (3 * ($i - 1) + $_) } 1 .. 3 ];
}

our $dns = start_dns(records => {
    'm.b.test' => '127.0.0.5', 'r.b.test' => '127.0.0.6',
    'm.c.test' => '127.0.0.5', 'r.c.test' => '127.0.0.6',
    'pool.d.test' => [map { "127.0.0.$_" } 5 .. 7],
    'pool.e.test' => [map { "127.0.0.$_" } 5 .. 8],
    'f.test' => '127.0.0.5',
    'redis.test' => '127.0.0.1', 'other.h.test' => '127.0.0.1',
    'k.test' => '127.0.0.5',
    'm.s.test' => '127.0.0.5', 'r.s.test' => '127.0.0.6',
    'pool.u.test' => ['127.0.0.5', '127.0.0.6'],
    'pool.i.test' => ['127.0.0.5', '127.0.0.6'],
    'heavy.w.test' => '127.0.0.5', 'light.w.test' => '127.0.0.6',
    'off.w.test' => '127.0.0.7', 'spare.w.test' => '127.0.0.8',
});
our $dns0 = start_dns(ttl => 0,
                      records => { map { ("z$_.g.test" => g_addrs(1, $_)) } 1 .. 4 });

$ENV{TEST_NGINX_DNS} = $dns->port;
$ENV{TEST_NGINX_DNS0} = $dns0->port;
$ENV{TEST_NGINX_MD} = $md->port;
$ENV{TEST_NGINX_ME} = $me->port;
$ENV{TEST_NGINX_MG} = $mg->port;
$ENV{TEST_NGINX_MH} = $mh->port;
$ENV{TEST_NGINX_MH2} = $mh2->port;
$ENV{TEST_NGINX_TLS} = $tls->dir;
$ENV{TEST_NGINX_SENTINEL} = $sent->port;

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n")
        unless defined $block->stream_server_config;
    $block->set_value('stream_request', "CONFIG GET bind\nQUIT\n")
        unless defined $block->stream_request;
    $block->set_value('init', 'package main; our (%P, $dns, $dns0, $a5, '
                              . '$b5, $b6, $c5, $c6, $md, @d, $me, @e, $f5, '
                              . '$mg, $tls, $mh, $mh2, $k5, $k9, $s5, '
                              . '$s6, $sent, $u5, $u6, $mw, @w); '
                              . ($block->init // ''));
});

# a master and two workers: one worker resolves each name, the other
# learns of its servers from the zone; TEST 7 reloads
master_on();
workers(2);

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: a name that does not resolve when nginx starts: writes are refused until it resolves, then reach the master
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_master;
        redis_server late.a.test:$TEST_NGINX_PA;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $P = $P{A};
my $name = "late.a.test:$P";

# nginx asks, is told NXDOMAIN twice: the name has no server, no master
$dns->wait_queries('late.a.test', 2);
Test::More::is(Names::ask(), '', 'a write is refused while the name has no address');
Names::logged(qr/no Redis master in upstream redis_rw/);

my $from = TestRM::error_log_size();
$dns->set('late.a.test' => '127.0.0.5');
Names::logged(Names::joins($name, 'redis_rw', "127.0.0.5:$P"), 5, $from);
Names::logged(Names::master_is($name, 'redis_rw', "127.0.0.5:$P"), 5, $from);
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream redis_rw: \S+ joins/),
               1, 'its one address joined once');
--- stream_response eval
Names::bind_reply('127.0.0.5')
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 2: the master comes back at a new address, with no reload: writes follow the name within a few intervals, the session to the old address is closed
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_master;
        redis_server m.b.test:$TEST_NGINX_PB;
        redis_server r.b.test:$TEST_NGINX_PB;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $P = $P{B};
my ($m, $r) = ("m.b.test:$P", "r.b.test:$P");
Names::logged(Names::master_is($m, 'redis_rw', "127.0.0.5:$P"));
Names::logged(Names::is_up($r, 'redis_rw', "127.0.0.6:$P", 'replica'));
my ($s, $at) = Names::session();
Test::More::is($at, '127.0.0.5', 'a session reaches the master at its first address');

# the master's pod is started again at a new address, empty, as master;
# its replica follows it there; then the name moves.  The old server
# still runs: only nginx can close the session to it.
my $new = start_redis(bind => '127.0.0.7', port => $P);
Scenario::replicate_from($b6, $new);
$b6->wait_link_up;
my $from = TestRM::error_log_size();
$dns->set('m.b.test' => '127.0.0.7');

# valid=1s and interval=200ms: the name is asked again within 1.2 s
Names::logged(Names::leaves($m, 'redis_rw', "127.0.0.5:$P"), 5, $from);
Names::logged(Names::joins($m, 'redis_rw', "127.0.0.7:$P"), 5, $from);
Names::logged(Names::master_is($m, 'redis_rw', "127.0.0.7:$P"), 5, $from);
Test::More::ok(TestRM::session_closed($s, 5), 'the session to the old address is closed');
Test::More::ok($b5->alive, 'by nginx: the server at the old address still runs');
Test::More::is(Names::ask(), '127.0.0.7', 'a new write reaches the master at its new address');
Test::More::is(TestRM::count_error_log(Names::leaves($r, 'redis_rw', "127.0.0.6:$P")),
               0, 'the replica, whose name stayed, keeps its seat');
--- stream_response eval
Names::bind_reply('127.0.0.7')
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 3: a replica comes back at a new address: reads follow the name, the session to the old address is closed
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_replica fallback=none;
        redis_server m.c.test:$TEST_NGINX_PC;
        redis_server r.c.test:$TEST_NGINX_PC;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $P = $P{C};
my $r = "r.c.test:$P";
Names::logged(Names::master_is("m.c.test:$P", 'redis_rw', "127.0.0.5:$P"));
Names::wait_reached('127.0.0.6');
my ($s, $at) = Names::session();
Test::More::is($at, '127.0.0.6', 'a session reaches the replica at its first address');

# a new replica of the master at a new address; the name moves there,
# the old one still runs
my $new = start_redis(bind => '127.0.0.8', port => $P,
                      replicaof => $P, replicaof_host => '127.0.0.5');
my $from = TestRM::error_log_size();
$dns->set('r.c.test' => '127.0.0.8');
Names::logged(Names::leaves($r, 'redis_rw', "127.0.0.6:$P"), 5, $from);
Names::logged(Names::joins($r, 'redis_rw', "127.0.0.8:$P"), 5, $from);
Test::More::ok(TestRM::session_closed($s, 5), 'the session to the old address is closed');
Test::More::ok($c6->alive, 'by nginx: the server at the old address still runs');

# the new replica qualifies once probed; then every read goes there
Names::wait_reached('127.0.0.8', 10);
Test::More::is_deeply(Names::spread(10), { '127.0.0.8' => 10 },
                      'every read reaches the replica at its new address');
--- stream_response eval
Names::bind_reply('127.0.0.8')
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 4: a name of three addresses brings three servers, all used; one address leaves and its session is closed, one joins
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_replica fallback=none;
        server 127.0.0.1:$TEST_NGINX_MD;
        redis_server pool.d.test:$TEST_NGINX_PD max_servers=5;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $P = $P{D};
my $name = "pool.d.test:$P";
my @three = map { "127.0.0.$_" } 5 .. 7;
for my $ip (@three) {
    Names::logged(Names::joins($name, 'redis_rw', "$ip:$P"));
    Names::logged(Names::is_up($name, 'redis_rw', "$ip:$P", 'replica'));
}

# once the replicas qualify (their lag is known after an interval or
# two), reads are spread over the three: each is reached, nothing else
TestRM::wait_until(sub { Names::ask() ne '' }, 10, 'the replicas to qualify');
my %seen;
TestRM::wait_until(sub {
    my $at = Names::ask();
    $seen{$at}++;
    return 3 == grep { $seen{$_} } @three;
}, 10, 'reads to reach each of the three replicas');
Test::More::is_deeply([sort keys %seen], \@three,
                      'the reads reach the three servers of the name, and only them');

# sessions to .5 and .7; then .7 leaves and .8 joins
my $to5 = Names::session_to('127.0.0.5');
my $to7 = Names::session_to('127.0.0.7');
my $from = TestRM::error_log_size();
$dns->set('pool.d.test' => [map { "127.0.0.$_" } 5, 6, 8]);
Names::logged(Names::leaves($name, 'redis_rw', "127.0.0.7:$P"), 5, $from);
Names::logged(Names::joins($name, 'redis_rw', "127.0.0.8:$P"), 5, $from);
Test::More::ok(TestRM::session_closed($to7, 5), 'the session to the address that left is closed');
Test::More::ok($d[2]->alive, 'by nginx: the server at that address still runs');
Test::More::is(eval { Names::session_ask($to5) } // "none: $@", '127.0.0.5',
               'the session to an address that stayed goes on');
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream redis_rw: \S+ (?:joins|leaves)/, $from),
               2, 'one address left, one joined: the two that stayed kept their seats');

my @now = map { "127.0.0.$_" } 5, 6, 8;
%seen = ();
TestRM::wait_until(sub {
    my $at = Names::ask();
    $seen{$at}++;
    return 3 == grep { $seen{$_} } @now;
}, 10, 'reads to reach each of the three replicas the name has now');
my $later = Names::spread(9);
Test::More::ok(!$seen{'127.0.0.7'} && !$later->{'127.0.0.7'},
               'no read reaches the address that left');
--- stream_response_like: ^\*2\r\n\$4\r\nbind\r\n\$9\r\n127\.0\.0\.[568]\r\n\+OK\r\n$
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 5: a name of four addresses with max_servers=3: three servers, and the fourth address is logged as not used
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_replica fallback=none;
        server 127.0.0.1:$TEST_NGINX_ME;
        redis_server pool.e.test:$TEST_NGINX_PE max_servers=3;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $P = $P{E};
my $name = "pool.e.test:$P";
my $line = Names::logged(Names::too_many($name, 'redis_rw', 4, 3));
my ($cut) = $line =~ Names::too_many($name, 'redis_rw', 4, 3);
Test::More::like($cut, qr/\A127\.0\.0\.[5-8]:$P\z/, "one address is not used: $cut");

my %joined;
TestRM::wait_until(sub {
    TestRM::each_error_line(sub {
        $joined{$1} = 1 if /redis server \Q$name\E in upstream redis_rw: (\S+) joins/;
    });
    return keys %joined >= 3;
}, 10, 'three addresses to join');

# the name is asked three times more: the answer is the same, nothing
# changes, nothing more is logged
$dns->wait_queries('pool.e.test', 3);
Test::More::is_deeply([sort keys %joined], [sort grep { $_ ne $cut } map { "127.0.0.$_:$P" } 5 .. 8],
                      'the three others joined');
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream redis_rw: \S+ joins/),
               3, 'three joined, once each');
Test::More::is(TestRM::count_error_log(qr/more than max_servers=3/), 1,
               'the bound is logged once while the answer stays');

my %seen;
my @used = map { s/:\d+\z//r } sort keys %joined;
TestRM::wait_until(sub { Names::ask() ne '' }, 10, 'the replicas to qualify');
TestRM::wait_until(sub {
    $seen{ Names::ask() }++;
    return 3 == grep { $seen{$_} } @used;
}, 10, 'reads to reach each of the three servers');
my $more = Names::spread(12);
$seen{$_} += $more->{$_} for keys %$more;
Test::More::is_deeply([sort keys %seen], [sort @used],
                      'exactly three servers are used, never the fourth address');
--- stream_response_like: ^\*2\r\n\$4\r\nbind\r\n\$9\r\n127\.0\.0\.[5-8]\r\n\+OK\r\n$
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 6: failed resolutions keep the last address, and writes go on; an answer without an address removes it, and writes are refused
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 1s;

    upstream redis_rw {
        redis_master;
        redis_server f.test:$TEST_NGINX_PF;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $P = $P{F};
my $name = "f.test:$P";
my $addr = "127.0.0.5:$P";
Names::logged(Names::master_is($name, 'redis_rw', $addr));

# keeps(WHAT, N): through N more queries, writes still reach the master
# (a resolver that got no answer asks again only every 5 s)
my $keeps = sub {
    my ($what, $n) = @_;
    my $want = $dns->queries('f.test') + $n;
    my @reached;
    TestRM::wait_until(sub {
        push @reached, Names::ask();
        return $dns->queries('f.test') >= $want;
    }, 20, "$n more queries for f.test ($what)");
    Test::More::is_deeply([grep { $_ ne '127.0.0.5' } @reached], [],
                          "$what: all " . @reached . ' writes reach the master');
};

# SERVFAIL: a failure, not an answer
my $from = TestRM::error_log_size();
$dns->servfail('f.test');
Names::logged(Names::kept($name, 'redis_rw', 'Server failure', 1), 5, $from);
$keeps->('SERVFAIL', 3);
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream redis_rw does not resolve/, $from),
               1, 'SERVFAIL: logged once');

# it answers again, with the same address: nothing leaves or joins
$dns->set('f.test' => '127.0.0.5');
$dns->wait_queries('f.test', 2);

# no answer: the resolver times out
$dns->silence('f.test');
Names::logged(Names::kept($name, 'redis_rw', 'Operation timed out', 1), 10, $from);
$keeps->('no answer', 2);
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream redis_rw does not resolve/, $from),
               2, 'no answer: logged once, after the SERVFAIL line');
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream redis_rw: \S+ (?:joins|leaves)|has no address/, $from),
               0, 'the address stayed throughout');

# NOERROR without an A record: the name has no address, its server leaves
$dns->nodata('f.test');
Names::logged(Names::no_address($name, 'redis_rw', 'Host not found'), 10, $from);
TestRM::wait_until(sub { Names::ask() eq '' }, 5, 'writes to be refused');

# back, then NXDOMAIN: the same
my $back = TestRM::error_log_size();
$dns->set('f.test' => '127.0.0.5');
Names::logged(Names::joins($name, 'redis_rw', $addr), 5, $back);
Names::logged(Names::master_is($name, 'redis_rw', $addr), 5, $back);
Names::wait_reached('127.0.0.5', 5);
$dns->unset('f.test');
Names::logged(Names::no_address($name, 'redis_rw', 'Host not found'), 5, $back);
TestRM::wait_until(sub { Names::ask() eq '' }, 5, 'writes to be refused');
$dns->wait_queries('f.test', 3);
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream redis_rw has no address/, $from),
               2, 'each time the name lost its address is logged once');
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 7: the zone's free pages stay where they were over 360 moves and sixteen reloads
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS0 ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_master;
        server 127.0.0.1:$TEST_NGINX_MG;
        redis_server z1.g.test:$TEST_NGINX_PG;
        redis_server z2.g.test:$TEST_NGINX_PG;
        redis_server z3.g.test:$TEST_NGINX_PG;
        redis_server z4.g.test:$TEST_NGINX_PG;
        redis_check interval=100ms timeout=500ms;
    }
--- init
my $P = $P{G};
my $M = $mg->port;
my $zone = $Names::ZONE_LINE;
my (undef, undef, undef, $pages0) = Names::logged($zone) =~ $zone;
Names::logged(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

# joined(ROUND, FROM): the twelve addresses of ROUND all joined after FROM
my $joined = sub {
    my ($round, $from) = @_;
    my $re = qr/redis server z\d\.g\d*\.test:$P in upstream redis_rw: 127\.0\.$round\.\d+:$P joins/;
    TestRM::wait_until(sub { TestRM::count_error_log($re, $from) >= 12 },
                       20, "the addresses of round $round to join");
};
$joined->(1, 0);

# a reload with the same configuration: what the zone has then, before
# any move
my $before = Names::reload();

# thirty rounds: every address of every name moves (TTL 0: the names are
# asked again each second).  TEST_NAMES_ROUNDS and TEST_NAMES_RELOADS make
# the run longer (84 rounds are 996 moves; reloads up to 200)
my $rounds = $ENV{TEST_NAMES_ROUNDS} || 31;
my $reloads = $ENV{TEST_NAMES_RELOADS} || 16;
die "TEST_NAMES_ROUNDS: 2 to 200" if $rounds < 2 || $rounds > 200;
die "TEST_NAMES_RELOADS: 16 to 200" if $reloads < 16 || $reloads > 200;
my $moves = 12 * ($rounds - 1);
for my $round (2 .. $rounds) {
    my $from = TestRM::error_log_size();
    $dns0->set(map { ("z$_.g.test" => main::g_addrs($round, $_)) } 1 .. 4);
    $joined->($round, $from);
}

my $after = Names::reload();
Test::More::is($after->[1], $before->[1],
               "as many servers in the zone after $moves moves: $after->[1]");
Test::More::is($after->[3], $before->[3],
               "as many free pages at a reload after $moves moves: $after->[3]");

# sixteen reloads that each give the names new spellings: each one's
# entries are given back once its workers exit, and the free pages come
# back
my @pages;
my $spelled = '.g';
for my $k (1 .. $reloads) {
    my $next = ".g$k";
    my $r = 40 + ($k - 1) % 200 + 1;
    $dns0->set(map { ("z$_$next.test" => main::g_addrs($r, $_)) } 1 .. 4);
    my $at = TestRM::error_log_size();
    my $master = TestRM::nginx_pid();
    Names::reload(sub { s/(z\d)\Q$spelled\E\.test:/$1$next.test:/g == 4
                        or die "not four names z*$spelled.test" });
    $spelled = $next;
    $joined->($r, $at);
    my $back = TestRM::wait_until(sub {
        my ($l) = grep { $_->[0] != $master } Names::zone_lines($at);
        return $l;
    }, 20, "the entries of the configuration before reload $k to be given back");
    push @pages, $back->[3];
}

# The slab allocator settles over the first reloads: the names' 36 nodes
# (a node per name and per seat, 512-byte chunks, 8 to a page) of the old
# and the new configuration are in the zone at once, and a page stays while
# any chunk of it is used, so the pages come back to the first load's
# level less at most the 5 pages that one configuration's names take; then
# they stay.  Four names' entries left behind at each reload would take
# those 5 pages at each, and any entry left behind at each would make the
# second half fall.
my ($least) = sort { $a <=> $b } @pages;
Test::More::cmp_ok($least, '>=', $pages0 - 5,
                   "the free pages come back after each of $reloads reloads: "
                   . "@pages ($pages0 at the first load)");
my $half = int($reloads / 2);
my ($low) = sort { $a <=> $b } @pages[$half .. $reloads - 1];
Test::More::cmp_ok($low, '>=', $pages[$half - 1],
                   "and do not fall in the last $half reloads");
--- timeout: 30
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_MG})
--- stream_request
CONFIG GET port
QUIT
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 8: nginx -t: what redis_server refuses, and the warning for a server named by a host name
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;

    upstream redis_rw {
        redis_master;
        server 127.0.0.1:$TEST_NGINX_MG;
        redis_server none.test:$TEST_NGINX_PG;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $resolver = "resolver 127.0.0.1:1 ipv6=off;\n";
my $server = "server { listen 127.0.0.1:1; proxy_pass u; }\n";
# up(BODY): an upstream u with BODY, a resolver, and a server using it
my $up = sub { "$resolver upstream u {\n $_[0]\n}\n$server" };

my @refused = (
    [ 'an IP address is listed with "server"',
      $up->('redis_master; redis_server 127.0.0.1:6379;'),
      qr/"redis_server" "127\.0\.0\.1:6379" in upstream "u" is an address: list it with "server"/ ],
    [ 'max_servers=0',
      $up->('redis_master; redis_server n.test:6379 max_servers=0;'),
      qr/invalid value "max_servers=0" in "redis_server": it must be a number from 1 to 64/ ],
    [ 'max_servers=65',
      $up->('redis_master; redis_server n.test:6379 max_servers=65;'),
      qr/invalid value "max_servers=65" in "redis_server": it must be a number from 1 to 64/ ],
    [ 'no resolver in stream{}',
      "upstream u {\n redis_master; redis_server n.test:6379;\n}\n$server",
      qr/"redis_server" "n\.test:6379" in upstream "u" needs a "resolver" in stream\{\}/ ],
    [ 'no Redis balancer',
      $up->('redis_server n.test:6379;'),
      qr/"redis_server" in upstream "u" requires "redis_master" or "redis_replica"/ ],
    [ 'no port',
      $up->('redis_master; redis_server n.test;'),
      qr/invalid address "n\.test" in "redis_server": no port/ ],
    [ 'one name with two max_servers in two upstreams',
      $up->('redis_master; redis_server n.test:6379 max_servers=2;')
      . "upstream v {\n redis_replica; redis_server n.test:6379 max_servers=3;\n}\n"
      . "server { listen 127.0.0.1:2; proxy_pass v; }\n",
      qr/redis_server "n\.test:6379" in upstream "v" has max_servers=3, and max_servers=2 in upstream "u": a name brings one set of servers/ ],
    [ 'one name checked two ways by two upstreams',
      $up->('redis_master; redis_server n.test:6379; redis_check interval=1s;')
      . "upstream v {\n redis_replica; redis_server n.test:6379;"
      . " redis_check interval=2s;\n}\n"
      . "server { listen 127.0.0.1:2; proxy_pass v; }\n",
      qr/server "n\.test:6379" in upstream "v" is checked with other settings or credentials than in upstream "u"/ ],
);
for my $case (@refused) {
    my ($what, $conf, $re) = @$case;
    my ($code, $said) = ConfigCheck::nginx_t($conf);
    Test::More::isnt($code, 0, "$what: nginx -t fails");
    Test::More::like($said, $re, "$what: and says why") or Test::More::diag($said);
}

my @accepted = (
    [ 'max_servers=1 and max_servers=64, weight, max_conns, backup and down',
      $up->("redis_replica;\n redis_server a.test:6379 max_servers=1 weight=2 max_conns=10;\n"
            . " redis_server b.test:6379 max_servers=64 backup;\n"
            . " redis_server c.test:6379 down;\n server 127.0.0.1:6390;") ],
);
for my $case (@accepted) {
    my ($what, $conf) = @$case;
    my ($code, $said) = ConfigCheck::nginx_t($conf);
    Test::More::is($code, 0, "$what: nginx -t passes") or Test::More::diag($said);
}

# a host name on a plain server line is resolved once: a warning, and
# only for that server
my ($code, $said) = ConfigCheck::nginx_t(
    "upstream u {\n redis_master; server localhost:6379; server 127.0.0.1:6380;\n}\n$server");
Test::More::is($code, 0, 'a server named by a host name: nginx -t passes') or Test::More::diag($said);
Test::More::like($said, qr/\[warn\] .*server "localhost:6379" in upstream "u" is a host name, resolved once, when the configuration is read: its servers will not follow the name; "redis_server localhost:6379" re-resolves it/,
                 'and warns that it will not follow the name');
Test::More::is(() = $said =~ /is a host name/g, 1, 'once, for that server only');

# and the block's own nginx: a name that does not resolve leaves the
# static servers to choose from
Names::logged(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_MG}\b/);
--- stream_response eval
Names::bind_reply('127.0.0.1')
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 9: TLS: a server brought by a name is verified against the name, and the name is sent as SNI
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;

    upstream redis_rw {
        redis_master;
        redis_server redis.test:$TEST_NGINX_MH;
        redis_check interval=200ms timeout=scaled(1s);

        redis_ssl on;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
        redis_ssl_verify on;
        redis_ssl_server_name on;
    }

    upstream redis_other {
        redis_master;
        redis_server other.h.test:$TEST_NGINX_MH2;
        redis_check interval=200ms timeout=scaled(1s);

        redis_ssl on;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
        redis_ssl_verify on;
        redis_ssl_server_name on;
    }
--- stream_server_config
    proxy_pass redis_rw;
    proxy_ssl on;
    proxy_ssl_certificate $TEST_NGINX_TLS/client.crt;
    proxy_ssl_certificate_key $TEST_NGINX_TLS/client.key;
    proxy_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
    proxy_ssl_verify on;
    proxy_ssl_name redis.test;
--- init
my ($M, $M2) = ($mh->port, $mh2->port);
# the certificate names redis.test and 127.0.0.1, not other.h.test: the
# name is what is verified, not the address both resolve to
Names::logged(Names::master_is("redis.test:$M", 'redis_rw', "127.0.0.1:$M"));
Names::logged(qr/server other\.h\.test:$M2 at 127\.0\.0\.1:$M2 in upstream redis_other probe failed: TLS certificate does not match "other\.h\.test"/);
Names::logged(qr/SSL server name: "redis\.test"/);
Names::logged(qr/SSL server name: "other\.h\.test"/);
--- stream_response eval
Names::bind_reply('127.0.0.1')
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 10: a name moved to a replica's address: nothing judged at the old address counts there; no write is sent there, even while its probe waits
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_master;
        redis_server k.test:$TEST_NGINX_PK;
        redis_check interval=200ms timeout=1s;
    }
--- init
my $P = $P{K};
my $name = "k.test:$P";
Names::logged(Names::master_is($name, 'redis_rw', "127.0.0.5:$P"));

# the replica at the new address is frozen: the first probe there waits
# for its timeout, and all that while clients come; none may be sent
# there on what was judged of the master's address
$k9->sigstop;
my $from = TestRM::error_log_size();
$dns->set('k.test' => '127.0.0.9');
my @clients;
my $waited = eval {
    TestRM::wait_until(sub {
        push @clients, eval { TestRM::ask_nginx_send() };
        return TestRM::count_error_log(qr/server \Q$name\E at 127\.0\.0\.9:$P in upstream redis_rw probe failed: timed out/, $from);
    }, 10, 'the probe at the new address to time out');
};
Test::More::ok($waited, 'the probe at the new address timed out, while '
                        . @clients . ' clients came') or Test::More::diag($@);
$k9->sigcont;
close $_ for grep { defined } @clients;
Names::logged(Names::is_up($name, 'redis_rw', "127.0.0.9:$P", 'replica'), 5, $from);
Names::logged(qr/upstream redis_rw has no master/, 5, $from);
Test::More::is(Names::ask(), '', 'a write is refused: the server at the new address is a replica');
Test::More::is(TestRM::count_error_log(qr/proxy \S+ connected to 127\.0\.0\.9:$P/, $from),
               0, 'no client was sent to the new address');
Test::More::is(TestRM::count_error_log(Names::master_is($name, 'redis_rw', "127.0.0.9:$P"), $from),
               0, 'the master role of the old address is not carried over');

# back to the master's address: a new server again, probed, then master
my $back = TestRM::error_log_size();
$dns->set('k.test' => '127.0.0.5');
Names::logged(Names::joins($name, 'redis_rw', "127.0.0.5:$P"), 5, $back);
Names::logged(Names::master_is($name, 'redis_rw', "127.0.0.5:$P"), 5, $back);
--- stream_response eval
Names::bind_reply('127.0.0.5')
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 11: a Sentinel's master is matched against the current address of a name's server, and follows a failover to another name
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_master;
        redis_server m.s.test:$TEST_NGINX_PS;
        redis_server r.s.test:$TEST_NGINX_PS;
        redis_check interval=200ms timeout=1s;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_SENTINEL;
    }
--- init
my $P = $P{S};
my $S = $sent->port;
Names::logged(qr/redis sentinel: 127\.0\.0\.1:$S in upstream redis_rw names 127\.0\.0\.5 port $P as master "mymaster"/);
Names::logged(Names::master_is("m.s.test:$P", 'redis_rw', "127.0.0.5:$P"), 10, 0,
              'the server the Sentinel names, at its current address, is master');

# the Sentinel knows the replica at its own address, and fails over to it
TestRM::wait_until(sub {
    $sent->cmd('SENTINEL', 'REPLICAS', 'mymaster') =~ /^127\.0\.0\.6$/m
}, 20, 'the Sentinel to know the replica at 127.0.0.6');
my $from = TestRM::error_log_size();
$sent->cmd('SENTINEL', 'FAILOVER', 'mymaster');
Names::logged(qr/redis sentinel: 127\.0\.0\.1:$S in upstream redis_rw names 127\.0\.0\.6 port $P as master "mymaster"/, 30, $from);
Names::logged(Names::master_is("r.s.test:$P", 'redis_rw', "127.0.0.6:$P"), 30, $from);
--- stream_response eval
Names::bind_reply('127.0.0.6')
--- timeout: 10
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 12: one name in a write and a read upstream: one record, its lines name both upstreams, each pool uses its servers
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_master;
        redis_server pool.u.test:$TEST_NGINX_PU;
        redis_check interval=200ms timeout=1s;
    }

    upstream redis_ro {
        redis_replica fallback=none;
        redis_server pool.u.test:$TEST_NGINX_PU;
        redis_check interval=200ms timeout=1s;
    }
--- stream_server_config2
    proxy_pass redis_ro;
--- stream_request2
CONFIG GET bind
QUIT
--- init
my $P = $P{U};
my $name = "pool.u.test:$P";
for my $ip ('127.0.0.5', '127.0.0.6') {
    Names::logged(Names::joins($name, 'redis_rw,redis_ro', "$ip:$P"));
}
Names::logged(Names::master_is($name, 'redis_rw', "127.0.0.5:$P"));
Names::logged(Names::master_is($name, 'redis_ro', "127.0.0.5:$P"));
Test::More::ok(eval { Names::wait_reached('127.0.0.6', 10, TestRM::stream_port(1)) },
               'reads reach the replica') or Test::More::diag($@);
Test::More::is(Names::ask(), '127.0.0.5', 'writes reach the master');
Test::More::is(TestRM::count_error_log(qr/redis server \Q$name\E in upstream [\w,]+: \S+ joins/),
               2, 'each address joined once, for both upstreams');
--- stream_response eval
Names::bind_reply('127.0.0.5') . Names::bind_reply('127.0.0.6')
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 13: the status page shows the name's servers with their addresses, and the name itself: its addresses, resolutions and failures
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 1s;

    upstream redis_rw {
        redis_master;
        server 127.0.0.1:$TEST_NGINX_DOWNI;
        redis_server pool.i.test:$TEST_NGINX_PI max_servers=4;
        redis_check interval=200ms timeout=1s;
    }
--- config
    location /redis/ { redis_master_status; }
--- init
my $P = $P{I};
my $name = "pool.i.test:$P";
my @addrs = map { "127.0.0.$_:$P" } 5, 6;
TestRM::wait_error_log(Names::master_is($name, 'redis_rw', $addrs[0]));
TestRM::wait_error_log(Names::is_up($name, 'redis_rw', $addrs[1], 'replica'));

my $json = StatusPage::wait_status(sub {
    my $u = StatusPage::upstream($_[0], 'redis_rw') or return;
    return ($u->{master} // '') eq $addrs[0];
}, 20, 'the page to show the master');
my $u = StatusPage::upstream($json, 'redis_rw');
my @named = grep { exists $_->{name} } @{ $u->{servers} };
Test::More::is_deeply([sort map { $_->{address} } @named], \@addrs,
                      'each address of the name is a server of the upstream');
Test::More::is_deeply([map { [$_->{server}, $_->{name}] } @named],
                      [([$name, $name]) x 2], 'named by the name');
my ($static) = grep { !exists $_->{name} } @{ $u->{servers} };
Test::More::is($static && $static->{address}, "127.0.0.1:$ENV{TEST_NGINX_DOWNI}",
               'the static server has no "name"');
my $n = $u->{names} && $u->{names}[0];
Test::More::is(scalar @{ $u->{names} // [] }, 1, 'one name in "names"');
Test::More::is($n->{name}, $name, 'its name');
Test::More::is_deeply([sort @{ $n->{addresses} }], \@addrs, 'its addresses');
Test::More::is($n->{max_servers}, 4, 'its max_servers');
Test::More::cmp_ok($n->{resolutions}, '>=', 1, 'resolved at least once');
Test::More::is($n->{failures}, 0, 'no failure yet');
Test::More::ok(!defined $n->{error}, 'no error');
Test::More::is($n->{cut}, 0, 'nothing cut');
Test::More::ok(defined $n->{resolved} && $n->{resolved} >= 0, 'seconds since its answer');

my $prom = StatusPage::get_status(query => 'format=prometheus')->{content};
Test::More::like($prom, qr/^redis_master_name_servers\{upstream="redis_rw",name="\Q$name\E"\} 2$/m,
                 'Prometheus: two servers of the name');
Test::More::like($prom, qr/^redis_master_name_resolutions_total\{upstream="redis_rw",name="\Q$name\E"\} [1-9]\d*$/m,
                 'Prometheus: its resolutions');

# a failed resolution: counted, its error shown, the addresses kept
$dns->servfail('pool.i.test');
$json = StatusPage::wait_status(sub {
    my $u = StatusPage::upstream($_[0], 'redis_rw') or return;
    return $u->{names}[0]{failures} >= 1;
}, 20, 'the page to count a failure');
$n = StatusPage::upstream($json, 'redis_rw')->{names}[0];
Test::More::like($n->{error} // '', qr/Server failure/, 'the error is nginx\'s resolver text');
Test::More::is_deeply([sort @{ $n->{addresses} }], \@addrs, 'the addresses are kept');
$prom = StatusPage::get_status(query => 'format=prometheus')->{content};
Test::More::like($prom, qr/^redis_master_name_resolution_failures_total\{upstream="redis_rw",name="\Q$name\E"\} [1-9]\d*$/m,
                 'Prometheus: the failures');

# five addresses for max_servers=4: one is cut
$dns->set('pool.i.test' => [map { "127.0.0.$_" } 5, 6, 10, 11, 12]);
$json = StatusPage::wait_status(sub {
    my $u = StatusPage::upstream($_[0], 'redis_rw') or return;
    return $u->{names}[0]{cut} == 1;
}, 20, 'the page to show one address cut');
$n = StatusPage::upstream($json, 'redis_rw')->{names}[0];
Test::More::is(scalar @{ $n->{addresses} }, 4, 'four addresses used');
Test::More::ok(!defined $n->{error}, 'the error is gone with the answer');

# no address: the name's servers leave the page, its error says why
$dns->nodata('pool.i.test');
$json = StatusPage::wait_status(sub {
    my $u = StatusPage::upstream($_[0], 'redis_rw') or return;
    return !@{ $u->{names}[0]{addresses} };
}, 20, 'the page to show the name without addresses');
$u = StatusPage::upstream($json, 'redis_rw');
Test::More::is_deeply([map { $_->{address} } grep { exists $_->{name} } @{ $u->{servers} }],
                      [], 'a seat without an address is not listed as a server');
Test::More::is($u->{names}[0]{error}, 'Host not found', 'the error is NXDOMAIN\'s');
Test::More::ok(defined $u->{names}[0]{resolved}, 'an answer without an address is an answer');
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 14: weight, down and backup apply to every server a name brings
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;
    resolver_timeout 2s;

    upstream redis_rw {
        redis_replica fallback=none;
        server 127.0.0.1:$TEST_NGINX_MW;
        redis_server heavy.w.test:$TEST_NGINX_PW weight=3;
        redis_server light.w.test:$TEST_NGINX_PW;
        redis_server off.w.test:$TEST_NGINX_PW down;
        redis_server spare.w.test:$TEST_NGINX_PW backup;
        redis_check interval=100ms timeout=500ms;
    }
--- init
my $P = $P{W};
Names::logged(Names::is_up("$_->[0].w.test:$P", 'redis_rw', "127.0.0.$_->[1]:$P", 'replica'))
    for [heavy => 5], [light => 6], [spare => 8];
TestRM::wait_until(sub {
    my $n = Names::spread(4);
    return $n->{'127.0.0.5'} && $n->{'127.0.0.6'};
}, 20, 'reads on both primary replicas');

# smooth weighted round robin in each of the two workers: of 40 reads,
# about 30 to weight=3 and 10 to weight=1 (each worker's share exact to
# one read); made again if a probe failed meanwhile (the pool changed)
my $n = TestRM::wait_until(sub {
    my $from = TestRM::error_log_size();
    my $n = Names::spread(40);
    return TestRM::count_error_log(qr/probe failed|stalls|is down/, $from)
           ? undef : $n;
}, 60, '40 reads while no probe failed');
Test::More::is_deeply([sort keys %$n], ['127.0.0.5', '127.0.0.6'],
                      'reads reach the two primary replicas only: not the down one, not the backup');
Test::More::cmp_ok($n->{'127.0.0.5'} // 0, '>=', 2 * ($n->{'127.0.0.6'} // 0),
                   "weight=3 takes about three reads to one: "
                   . "@{[$n->{'127.0.0.5'} // 0]} to @{[$n->{'127.0.0.6'} // 0]}");

# both primary replicas lose their link: the backup takes the reads, the
# down one still none
my $dead = free_port();
Scenario::orphan($_, $dead) for @w[0, 1];
Test::More::ok(eval { Names::wait_reached('127.0.0.8', 10) },
               'the backup serves reads once no primary qualifies') or Test::More::diag($@);
Test::More::is_deeply(Names::spread(6), { '127.0.0.8' => 6 }, 'reads go to the backup only');
Scenario::replicate_from($_, $mw) for @w[0, 1];
$_->wait_link_up for @w[0, 1];
Names::wait_reached('127.0.0.5', 10);
--- stream_response_like: ^\*2\r\n\$4\r\nbind\r\n\$9\r\n127\.0\.0\.[56]\r\n\+OK\r\n$
--- no_error_log
[alert]
[crit]
[emerg]
