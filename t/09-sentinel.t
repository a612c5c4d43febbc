# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Sentinel: writes go to a server only while its own check says master and
# a strict majority of the configured Sentinels name it, or have left the
# master it was promoted from; a Sentinel's failover event makes nginx check
# again at once, long before the interval.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use StatusPage ();
use Test::Nginx::Socket::Lua::Stream;

# Topologies (every block runs alone and in any order):
#   TEST 1-3c  $m master, $r its replica, @s three Sentinels of them
#              (mymaster); $x a master that $s4 alone names mymaster; $s5
#              a Sentinel whose user may not subscribe: only read, never
#              changed, by these blocks
#   TEST 4     $m_4 master, $r_4 its replica, @s_4 their Sentinels: a
#              Sentinel failover to $r_4
#   TEST 5     $r_5 master, $m_5 its replica (as after a failover), @s_5
#              their Sentinels: $r_5 cut off from the Sentinels by ACL
#   TEST 6     $m2 master, $r2 and $r3 its replicas, @q Sentinels that never
#              fail over (lonely): $r2 promoted by hand
#   TEST 7     the same again, $m2_7, $r2_7, $r3_7 and @q_7: $m2_7 killed,
#              $r2_7 then $r3_7 promoted by hand
#   TEST 8     $m_8 master, $s_8 its Sentinel, reached through $relay_8,
#              which the block black-holes (paused: no reset) and heals
# The actions are t/lib/Scenario.pm's.

# a check user that still gets in when the "default" user is cut off
our @acl = ('user checker on >checkpass +ping +info',
            'user admin on >adminpass ~* &* +@all');
our $m = start_redis(conf => [@acl]);
our $r = start_redis(replicaof => $m->port, conf => [@acl]);
our @s = map { start_sentinel(monitor => ['mymaster', $m->port, 2]) } 1 .. 3;

# a second master that a lone Sentinel monitors under the same name
our $x = start_redis();
our $s4 = start_sentinel(monitor => ['mymaster', $x->port, 1]);

# a Sentinel whose ACL user may ask but not subscribe
our $s5 = start_sentinel(monitor => ['solo', $x->port, 1],
                         conf => ['user checker on >checkpass '
                                  . '+sentinel|get-master-addr-by-name '
                                  . '+sentinel|master']);

# every Sentinel knows the replica and its peers before nginx asks
wait_until(sub {
    my @replicas = grep { /^\d+$/ } split /\n/,
        $s[0]->cmd('SENTINEL', 'REPLICAS', 'mymaster');
    my $peers = $s[0]->cmd('SENTINEL', 'SENTINELS', 'mymaster');
    return (() = $peers =~ /^name$/mg) == 2 && @replicas;
}, 20, 'the Sentinels to discover the replica and each other');

# a master and replica whose Sentinels never fail over (quorum 4 of 3), so
# that only a hand-made promotion changes roles; one Sentinel alone sees a
# dead master down within a second
our $m2 = start_redis();
our $r2 = start_redis(replicaof => $m2->port);
our $r3 = start_redis(replicaof => $m2->port);
our @q = map {
    start_sentinel(monitor => ['lonely', $m2->port, 4],
                   down_after => $_ == 1 ? 1000 : 600000)
} 1 .. 3;

# TEST 4: a group of its own to fail over
our $m_4 = start_redis(conf => [@acl]);
our $r_4 = start_redis(replicaof => $m_4->port, conf => [@acl]);
our @s_4 = Scenario::sentinels_watching('mymaster', $m_4, 2);

# TEST 5: the state a failover leaves (the master is R, M follows it)
our $r_5 = start_redis(conf => [@acl]);
our $m_5 = start_redis(replicaof => $r_5->port, conf => [@acl]);
our @s_5 = Scenario::sentinels_watching('mymaster', $r_5, 2);

# TEST 7: as for TEST 6
our $m2_7 = start_redis();
our $r2_7 = start_redis(replicaof => $m2_7->port);
our $r3_7 = start_redis(replicaof => $m2_7->port);
our @q_7 = map {
    start_sentinel(monitor => ['lonely', $m2_7->port, 4],
                   down_after => $_ == 1 ? 1000 : 600000)
} 1 .. 3;

# TEST 8: a Sentinel behind a relay
our $m_8 = start_redis();
our $s_8 = start_sentinel(monitor => ['mymaster', $m_8->port, 1]);
our $relay_8 = start_relay(to => $s_8->port);

# the ids of the clients subscribed to Sentinel S (nginx's subscriptions)
sub pubsub_ids {
    my ($s) = @_;
    return $s->cmd('CLIENT', 'LIST', 'TYPE', 'pubsub') =~ /^id=(\d+) /mg;
}

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;
$ENV{TEST_NGINX_X} = $x->port;
$ENV{"TEST_NGINX_S$_"} = $s[$_ - 1]->port for 1 .. 3;
$ENV{TEST_NGINX_S4} = $s4->port;
$ENV{TEST_NGINX_S5} = $s5->port;
$ENV{TEST_NGINX_M2} = $m2->port;
$ENV{TEST_NGINX_R2} = $r2->port;
$ENV{TEST_NGINX_R3} = $r3->port;
$ENV{"TEST_NGINX_Q$_"} = $q[$_ - 1]->port for 1 .. 3;
$ENV{TEST_NGINX_LONG} = 'm' x 300;
for my $n (4, 5) {
    no strict 'refs';
    $ENV{"TEST_NGINX_M_$n"} = ${"m_$n"}->port;
    $ENV{"TEST_NGINX_R_$n"} = ${"r_$n"}->port;
    $ENV{"TEST_NGINX_S${_}_$n"} = ${"s_$n"}[$_ - 1]->port for 1 .. 3;
}
$ENV{TEST_NGINX_M2_7} = $m2_7->port;
$ENV{TEST_NGINX_R2_7} = $r2_7->port;
$ENV{TEST_NGINX_R3_7} = $r3_7->port;
$ENV{"TEST_NGINX_Q${_}_7"} = $q_7[$_ - 1]->port for 1 .. 3;
$ENV{TEST_NGINX_M_8} = $m_8->port;
$ENV{TEST_NGINX_RELAY_8} = $relay_8->port;

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('stream_request', "CONFIG GET port\nQUIT\n");
    $block->set_value('init', 'package main; our ($m, $r, @s, $x, $s4, $m2, $r2, $r3, @q, '
                              . '$m_4, $r_4, @s_4, $m_5, $r_5, @s_5, $m2_7, $r2_7, $r3_7, @q_7, '
                              . '$m_8, $s_8, $relay_8); '
                              . ($block->init // ''));
});
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: the master the Sentinels name takes the writes
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_S1
                       127.0.0.1:$TEST_NGINX_S2 127.0.0.1:$TEST_NGINX_S3;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- error_log eval
qr/redis sentinel: 127\.0\.0\.1:$ENV{TEST_NGINX_S2} in upstream redis_rw names 127\.0\.0\.1 port $ENV{TEST_NGINX_M} as master "mymaster"/



=== TEST 2: of two masters, the one a minority of Sentinels names gets no writes
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_X;
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_S4
                       127.0.0.1:$TEST_NGINX_S1 127.0.0.1:$TEST_NGINX_S2;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- error_log eval
qr/127\.0\.0\.1:$ENV{TEST_NGINX_S4} in upstream redis_rw names 127\.0\.0\.1 port $ENV{TEST_NGINX_X} as master/
--- no_error_log
claim master
master is 127.0.0.1:$TEST_NGINX_X



=== TEST 3: a master named by a minority only is refused
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_X;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_S4
                       127.0.0.1:$TEST_NGINX_S1 127.0.0.1:$TEST_NGINX_S2;
    }
--- init
TestRM::wait_error_log(qr/127\.0\.0\.1:$ENV{TEST_NGINX_S4} in upstream redis_rw names 127\.0\.0\.1 port $ENV{TEST_NGINX_X} as master/);
TestRM::wait_error_log(qr/127\.0\.0\.1:$ENV{"TEST_NGINX_S$_"} in upstream redis_rw names 127\.0\.0\.1 port $ENV{TEST_NGINX_M} as master/)
    for 1, 2;
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_X} in upstream redis_rw is up, role master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
master is



=== TEST 3b: a master name longer than the request's fixed part is sent whole
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=500ms username=checker password=checkpass;
        redis_sentinel name=$TEST_NGINX_LONG 127.0.0.1:$TEST_NGINX_S1;
    }
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_S1} in upstream redis_rw is up, role sentinel/);
TestRM::wait_error_log(qr/upstream redis_rw has no master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log eval
[qr/no Redis master in upstream redis_rw/,
 qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M} in upstream redis_rw says master but no majority of the Sentinels agrees on it/]
--- no_error_log
[alert]
probe failed
master is


=== TEST 3c: a Sentinel that refuses SUBSCRIBE is logged once an interval, and its answers still count
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=solo username=checker password=checkpass
                       127.0.0.1:$TEST_NGINX_S5;
    }
--- init
# the only server is a replica: no master, so the Sentinel is probed every
# 50 ms, and asked to subscribe after each probe while it is not
my $S5 = $ENV{TEST_NGINX_S5};
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.1:$S5 in upstream redis_rw refused the subscription: SUBSCRIBE: NOPERM/);
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.1:$S5 in upstream redis_rw names 127\.0\.0\.1 port $ENV{TEST_NGINX_X} as master "solo"/);
# over a window of 24 probes, refusals at most once an interval less a
# tenth (180 ms), counted against the window's measured length: probes
# that come late (a loaded machine, writes cut short) do not change it
my $from = TestRM::error_log_size();
my $t0 = Time::HiRes::time();
TestRM::wait_until(sub {
    TestRM::count_error_log(qr/redis check: probing 127\.0\.0\.1:$S5\b/, $from) >= 24
}, 10, '24 probes of the Sentinel');
my $seconds = Time::HiRes::time() - $t0;
my $probes = TestRM::count_error_log(qr/redis check: probing 127\.0\.0\.1:$S5\b/, $from);
my $refusals = TestRM::count_error_log(qr/refused the subscription/, $from);
my $most = 1 + int($seconds / 0.18);
Test::More::cmp_ok($probes, '>', $most,
                   "$probes probes: more chances to ask than the limit");
Test::More::cmp_ok($refusals, '<=', $most,
                   "$refusals refusals logged in ${seconds}s");
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- no_error_log
[alert]
probe failed
lost the event subscription



=== TEST 4: +switch-master reroutes long before the 10 s interval, closing old sessions
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M_4;
        server 127.0.0.1:$TEST_NGINX_R_4;
        redis_master;
        redis_check interval=scaled(10s) timeout=1s;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_S1_4
                       127.0.0.1:$TEST_NGINX_S2_4 127.0.0.1:$TEST_NGINX_S3_4;
    }
--- init
my ($M, $R) = ($m_4->port, $r_4->port);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/, 15);

# every server and Sentinel was just checked, so the next checks are due
# in 10 s (9 s at the earliest, with the jitter; times the timeout scale,
# as is every deadline): only the subscription can explain a switch within
# the 6 s allowed below
my ($session, $reached) = TestRM::redis_session();
Test::More::is($reached, $M, 'a session to the master');

my $from = TestRM::error_log_size();
$s_4[0]->cmd('SENTINEL', 'FAILOVER', 'mymaster');

TestRM::wait_error_log(qr/published "\+switch-master mymaster 127\.0\.0\.1 $M 127\.0\.0\.1 $R", checking again now/, 8, $from);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$R\b/, 6, $from);
Test::More::ok(TestRM::session_closed($session, 1),
               'the session to the old master is closed');
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R_4})
--- timeout: 30



=== TEST 5: a partition: writes stop once the Sentinels see the master down, before they elect a new one
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M_5;
        server 127.0.0.1:$TEST_NGINX_R_5;
        redis_master;
        redis_check interval=1s timeout=500ms username=checker password=checkpass;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_S1_5
                       127.0.0.1:$TEST_NGINX_S2_5 127.0.0.1:$TEST_NGINX_S3_5;
    }
--- init
# the master is R (as after a failover): cut it off from the Sentinels and
# from M, while nginx's check user still reaches it
my ($M, $R) = ($m_5->port, $r_5->port);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$R\b/, 15);

# M follows R
TestRM::wait_until(sub {
    my $info = $m_5->info('replication');
    return ($info->{master_port} // 0) == $R
           && ($info->{master_link_status} // '') eq 'up';
}, 30, 'the old master to follow the new one');

my $from = TestRM::error_log_size();
Scenario::cut_off_by_acl($r_5, user => 'admin', pass => 'adminpass');

# the leader publishes these only once it has been elected
my $elected = qr/published "\+(failover-state-wait-promotion|failover-state-reconf-slaves|switch-master) /;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/, 20, $from);
TestRM::wait_error_log($elected, 20, $from);

open my $fh, '<', TestRM::error_log() or die $!;
seek $fh, $from, 0;
my @lines = <$fh>;
my ($down) = grep { $lines[$_] =~ /names 127\.0\.0\.1 port $R as master "mymaster" and sees it down/ } 0 .. $#lines;
my ($stop) = grep { $lines[$_] =~ /upstream redis_rw has no master/ } 0 .. $#lines;
my ($leader) = grep { $lines[$_] =~ $elected } 0 .. $#lines;
my ($chosen) = grep { $lines[$_] =~ /upstream redis_rw master is 127\.0\.0\.1:$M\b/ } 0 .. $#lines;
Test::More::ok(defined $down && defined $stop,
               'a Sentinel saw the master down, then writes stopped');
Test::More::cmp_ok($stop // 1e9, '<', $leader,
                   'writes to the cut-off master stopped before the election');
Test::More::cmp_ok($stop // 1e9, '<', $chosen,
                   'and before the promoted replica took them');
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M_5})
--- timeout: 40



=== TEST 6: a replica promoted by hand while the Sentinels see its master up gets no writes, nor does the master
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M2;
        server 127.0.0.1:$TEST_NGINX_R2;
        server 127.0.0.1:$TEST_NGINX_R3;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=lonely 127.0.0.1:$TEST_NGINX_Q1
                       127.0.0.1:$TEST_NGINX_Q2 127.0.0.1:$TEST_NGINX_Q3;
    }
--- init
my ($M, $R) = ($m2->port, $r2->port);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
Scenario::promote($r2);
TestRM::wait_error_log(qr/upstream redis_rw has no master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log eval
[qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M2} in upstream redis_rw says master but a replica promoted from its lineage is master now/,
 qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_R2} in upstream redis_rw says master but no majority of the Sentinels agrees on it/,
 qr/no Redis master in upstream redis_rw/]
--- no_error_log eval
qr/master is 127\.0\.0\.1:$ENV{TEST_NGINX_R2}/



=== TEST 7: a replica promoted from a dead master takes writes once a majority of Sentinels sees that master down, before they name it; two such replicas do not
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M2_7;
        server 127.0.0.1:$TEST_NGINX_R2_7;
        server 127.0.0.1:$TEST_NGINX_R3_7;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=lonely 127.0.0.1:$TEST_NGINX_Q1_7
                       127.0.0.1:$TEST_NGINX_Q2_7 127.0.0.1:$TEST_NGINX_Q3_7;
    }
--- init
my ($M, $R) = ($m2_7->port, $r2_7->port);
my ($Q1, $Q2) = ($q_7[0]->port, $q_7[1]->port);

# R2 follows M2
TestRM::wait_until(sub {
    my $info = $r2_7->info('replication');
    return ($info->{master_link_status} // '') eq 'up'
           && $info->{master_replid} eq $m2_7->info('replication')->{master_replid};
}, 20, 'the replica to follow its master again');
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/, 10);

# only Q1 sees the dead master down: the promoted replica gets no writes
Scenario::kill_master($m2_7);
TestRM::wait_error_log(qr/127\.0\.0\.1:$Q1 in upstream redis_rw names 127\.0\.0\.1 port $M as master "lonely" and sees it down/, 10);
Scenario::promote($r2_7);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$R in upstream redis_rw changed role from replica to master/, 10);
Test::More::is(TestRM::ask_nginx(), '',
               'no writes while one Sentinel of three sees the old master down');

# a second Sentinel sees it down: a majority has left the old master
my $from = TestRM::error_log_size();
$q_7[1]->cmd('SENTINEL', 'SET', 'lonely', 'down-after-milliseconds', 1000);
TestRM::wait_error_log(qr/127\.0\.0\.1:$Q2 in upstream redis_rw names 127\.0\.0\.1 port $M as master "lonely" and sees it down/, 10, $from);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$R, promoted from a master that a majority of the Sentinels sees down/, 5, $from);

for my $q (@q_7) {
    my @addr = split /\n/, $q->cmd('SENTINEL', 'get-master-addr-by-name', 'lonely');
    Test::More::is($addr[1], $M, 'the Sentinel ' . $q->port . ' still names the dead master');
}
Test::More::is(TestRM::ask_nginx(), TestRM::port_reply($R),
               'the promoted replica takes the writes');

# a second replica of the dead master promoted: leaving the old master is
# no vote for either of them
$from = TestRM::error_log_size();
Scenario::promote($r3_7);
TestRM::wait_error_log(qr/upstream redis_rw has no master/, 10, $from);

# why each takes no writes, as the balancer judges it (the log says it
# only when the master changes, which may come before r3's new role is
# recorded): the status page asks the same explainer
my $no = 'no majority of the Sentinels agrees on it';
StatusPage::wait_status(sub {
    my $u = StatusPage::upstream($_[0], 'redis_rw') or return;
    my @why = map { (StatusPage::server_of($u, $_) // {})->{why} // '' }
              $R, $r3_7->port;
    return $why[0] eq $no && $why[1] eq $no;
}, 10, "both promoted replicas: $no");
Test::More::pass("both promoted replicas: $no");
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- config
    location /redis/ { redis_master_status; }
--- error_log eval
qr/server 127\.0\.0\.1:(?:$ENV{TEST_NGINX_R2_7}|$ENV{TEST_NGINX_R3_7}) in upstream redis_rw says master but no majority of the Sentinels agrees on it/
--- no_error_log
claim master
--- timeout: 40



=== TEST 8: a Sentinel gone without a reset loses its subscription once, within two intervals and the timeout, and it is taken again when it is back
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M_8;
        redis_master;
        redis_check interval=500ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_RELAY_8;
    }
--- init
my ($M, $S) = ($m_8->port, $relay_8->port);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/, 15);
my $before = TestRM::wait_until(sub { my @id = main::pubsub_ids($s_8); @id == 1 && $id[0] },
                                 10, 'nginx to subscribe');

# the relay takes nothing and answers nothing: no reset, no close; only a
# PING on the subscription shows it is gone, at the first window with
# nothing heard (within two), and the timeout after that
my $from = TestRM::error_log_size();
my $t0 = Time::HiRes::time();
$relay_8->pause;
my $lost = qr/redis sentinel: 127\.0\.0\.1:$S in upstream redis_rw went silent: no answer to PING in 500ms, dropping the event subscription/;
TestRM::wait_error_log($lost, 10, $from);
my $took = Time::HiRes::time() - $t0;
Test::More::cmp_ok($took, '<=', TestRM::scaled(2 * 0.5 + 0.5),
                   sprintf('the loss is seen %.2f s after the Sentinel went', $took));

# three more probes of the Sentinel fail meanwhile: not logged again
my $since = TestRM::error_log_size();
TestRM::wait_until(sub {
    TestRM::count_error_log(qr/redis check: server 127\.0\.0\.1:$S in upstream redis_rw probe failed/, $since) >= 3
}, 10, 'three more failed probes of the Sentinel');

my $healed = TestRM::error_log_size();
$relay_8->resume;
my $after = TestRM::wait_until(sub {
    my @id = main::pubsub_ids($s_8);
    @id == 1 && $id[0] != $before && $id[0]
}, 10, 'nginx to subscribe again, and the lost subscription to be gone');
Test::More::cmp_ok($after, '>', $before, 'a new subscription');
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/, 10, $healed);
Test::More::is(TestRM::count_error_log($lost, $from), 1, 'the loss is logged once');
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M_8})
--- timeout: 30
