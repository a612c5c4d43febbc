# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Sentinels named by host names: with a resolver in stream{}, a name is
# resolved at run time, again as its TTL (or valid=) runs out; a name that
# does not resolve at start-up is logged and retried, and counts as a
# Sentinel that does not agree; when the name moves, the probe and the
# quorum follow it.  The names come from a DNS server the test runs and
# changes (t/lib/RedisTopo/Dns.pm), and point to Sentinels on 127.0.0.x.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;

# Topology, only read by the blocks (each block has names of its own, so
# that any block runs alone and in any order):
#   $m master, $r its replica; $x another master
#   Sentinels on one port $P: $sa, $sb, $sc on 127.0.0.2-4 watch $m as
#   mymaster; $sx1, $sx2 on 127.0.0.5-6 watch $x as mymaster.  None fails
#   over (quorum 6 of 5).
#   TEST 1  a1, b1, c1 name $sa, $sb, $sc; a1 and b1 then move to $sx1
#           and $sx2
#   TEST 2  a2, b2 name $sa, $sb; late2 resolves only later, to $sc
#   TEST 3  a3 names $sa; late3a and late3b never resolve
#   TEST 4  d4 names $sx1, which is listed by its address too
our $m = start_redis();
our $r = start_redis(replicaof => $m->port);
our $x = start_redis();

our $P = free_port();
my %sentinel = (monitor => ['mymaster', $m->port, 6], down_after => 600000,
                port => $P);
our $sa = start_sentinel(%sentinel, bind => '127.0.0.2');
our $sb = start_sentinel(%sentinel, bind => '127.0.0.3');
our $sc = start_sentinel(%sentinel, bind => '127.0.0.4');
$sentinel{monitor} = ['mymaster', $x->port, 6];
our $sx1 = start_sentinel(%sentinel, bind => '127.0.0.5');
our $sx2 = start_sentinel(%sentinel, bind => '127.0.0.6');

our $dns = start_dns(records => {
    'a1.test' => '127.0.0.2', 'b1.test' => '127.0.0.3',
    'c1.test' => '127.0.0.4',
    'a2.test' => '127.0.0.2', 'b2.test' => '127.0.0.3',
    'a3.test' => '127.0.0.2',
    'd4.test' => '127.0.0.5',
});

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;
$ENV{TEST_NGINX_X} = $x->port;
$ENV{TEST_NGINX_P} = $P;
$ENV{TEST_NGINX_DNS} = $dns->port;

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('stream_request', "CONFIG GET port\nQUIT\n");
    $block->set_value('init', 'package main; our ($m, $r, $x, $dns, $P); '
                              . ($block->init // ''));
});

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: a name moves to another Sentinel, and the quorum follows
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;

    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_X;
        redis_master;
        redis_check interval=200ms timeout=1s;
        redis_sentinel name=mymaster a1.test:$TEST_NGINX_P
                       b1.test:$TEST_NGINX_P c1.test:$TEST_NGINX_P;
    }
--- init
my ($M, $X) = @ENV{qw(TEST_NGINX_M TEST_NGINX_X)};
TestRM::wait_error_log(qr/redis sentinel: a1\.test:$P in upstream redis_rw resolves to 127\.0\.0\.2:$P/);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

my $from = TestRM::error_log_size();
$dns->set('a1.test' => '127.0.0.5', 'b1.test' => '127.0.0.6');

# valid=1s: within a second and a probe, the names are asked again
TestRM::wait_error_log(qr/redis sentinel: a1\.test:$P in upstream redis_rw moved to 127\.0\.0\.5:$P/, 5, $from);
TestRM::wait_error_log(qr/redis sentinel: b1\.test:$P in upstream redis_rw moved to 127\.0\.0\.6:$P/, 5, $from);
TestRM::wait_error_log(qr/redis sentinel: a1\.test:$P in upstream redis_rw names 127\.0\.0\.1 port $X as master "mymaster"/, 5, $from);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$X\b/, 5, $from);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_X})
--- no_error_log
[alert]
[crit]
[emerg]
does not resolve



=== TEST 2: a name that does not resolve at start-up is logged, and taken once it resolves
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;

    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms timeout=1s;
        redis_sentinel name=mymaster a2.test:$TEST_NGINX_P
                       b2.test:$TEST_NGINX_P late2.test:$TEST_NGINX_P;
    }
--- init
my $M = $ENV{TEST_NGINX_M};
TestRM::wait_error_log(qr/\[warn\] .*redis sentinel: late2\.test:$P in upstream redis_rw does not resolve \(Host not found\): it counts as not agreeing until it does/);

# two of three agree: enough
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
Test::More::is(TestRM::count_error_log(qr/late2\.test:$P in upstream redis_rw names/), 0,
               'the unresolved Sentinel names nobody');

my $from = TestRM::error_log_size();
$dns->set('late2.test' => '127.0.0.4');
TestRM::wait_error_log(qr/redis sentinel: late2\.test:$P in upstream redis_rw resolves to 127\.0\.0\.4:$P/, 10, $from);
TestRM::wait_error_log(qr/redis sentinel: late2\.test:$P in upstream redis_rw names 127\.0\.0\.1 port $M as master "mymaster"/, 5, $from);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 3: Sentinels whose names do not resolve do not agree: no majority, no master
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;

    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=1s;
        redis_sentinel name=mymaster a3.test:$TEST_NGINX_P
                       late3a.test:$TEST_NGINX_P late3b.test:$TEST_NGINX_P;
    }
--- init
my $M = $ENV{TEST_NGINX_M};
TestRM::wait_error_log(qr/redis sentinel: a3\.test:$P in upstream redis_rw names 127\.0\.0\.1 port $M as master "mymaster"/);
TestRM::wait_error_log(qr/late3b\.test:$P in upstream redis_rw does not resolve/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$M in upstream redis_rw says master but no majority of the Sentinels agrees on it/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
[emerg]
master is



=== TEST 4: a Sentinel listed by its address and by a name that resolves to it votes once
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;

    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_X;
        redis_master;
        redis_check interval=200ms timeout=1s;
        redis_sentinel name=mymaster 127.0.0.5:$TEST_NGINX_P
                       d4.test:$TEST_NGINX_P 127.0.0.2:$TEST_NGINX_P;
    }
--- init
my ($M, $X) = @ENV{qw(TEST_NGINX_M TEST_NGINX_X)};

# $sx1 (127.0.0.5) names $x, $sa (127.0.0.2) names $m: one vote each of
# three; d4.test is $sx1 again and must not give $x a second one
TestRM::wait_error_log(qr/\[warn\] .*redis sentinel: d4\.test:$P in upstream redis_rw resolves to 127\.0\.0\.5:$P, the address of Sentinel 127\.0\.0\.5:$P in upstream redis_rw: it does not vote twice/);
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.5:$P in upstream redis_rw names 127\.0\.0\.1 port $X as master "mymaster"/);
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.2:$P in upstream redis_rw names 127\.0\.0\.1 port $M as master "mymaster"/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$X in upstream redis_rw says master but no majority of the Sentinels agrees on it/);

# it keeps resolving there, and is refused each time; the warning once
my $failed = qr/server d4\.test:$P in upstream redis_rw probe failed: resolves to 127\.0\.0\.5:$P, the address of Sentinel 127\.0\.0\.5:$P: it does not vote twice/;
TestRM::wait_until(sub { TestRM::count_error_log($failed) >= 3 }, 10,
                   'three refused probes of d4.test');
Test::More::is(TestRM::count_error_log(qr/d4\.test:$P in upstream redis_rw names/), 0,
               'the second entry of the Sentinel names nobody');
Test::More::is(TestRM::count_error_log(qr/it does not vote twice, and counts/), 1,
               'the warning is logged once');
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
[emerg]
master is
