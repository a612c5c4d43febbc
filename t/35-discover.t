# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# redis_sentinel discover: an upstream that lists only its Sentinels gets
# its servers from them: each address a majority of the Sentinels reports
# (the master they name, the replicas they know and do not flag down) is
# one server, a seat as a redis_server name's, probed and judged as any
# server.  Writes go to the master, reads to the replicas; writes follow
# a failover; a replica started later joins; one that no majority reports
# any more leaves after discover_grace.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use File::Temp qw(tempdir);
use IPC::Open3 qw(open3);
use Test::Nginx::Socket::Lua::Stream;

# Topologies (every block runs alone and in any order):
#   TEST 1  $m master, $r its replica, @s three Sentinels of them
#   TEST 2  $m_2 master, $r_2 its replica, @s_2: SENTINEL FAILOVER to $r_2
#   TEST 3  $m_3 master, $r_3 its replica, @s_3; $late_3 started in the
#           block as a second replica of $m_3
#   TEST 4  $m_4 master, $r_4 and $gone_4 its replicas, @s_4; $gone_4
#           killed in the block (the Sentinels flag it down)
#   TEST 5  $m_5 master, $r_5 its replica, @s_5: $m_5 killed, the
#           Sentinels fail over to $r_5
#   TEST 6  TEST 1's, only read: $m listed with "server" too
#   TEST 9  TEST 1's, only read: one seat for two servers
#   TEST 10 TEST 1's, only read: nginx reloaded
#   TEST 7  $m_7 master, $r_7 its replica, @s_7: two of them frozen
#           (SIGSTOP) and thawed in the block
#   TEST 8  $m_8 master, $r_8 its replica, @s_8 Sentinels that monitor
#           and announce the master as "localhost": only read

our $m = start_redis();
our $r = start_redis(replicaof => $m->port);
our @s = Scenario::sentinels_watching('mymaster', $m, 2);

our $m_2 = start_redis();
our $r_2 = start_redis(replicaof => $m_2->port);
our @s_2 = Scenario::sentinels_watching('mymaster', $m_2, 2);

our $m_3 = start_redis();
our $r_3 = start_redis(replicaof => $m_3->port);
our @s_3 = Scenario::sentinels_watching('mymaster', $m_3, 2);
our $late_3;

our $m_4 = start_redis();
our $r_4 = start_redis(replicaof => $m_4->port);
our $gone_4 = start_redis(replicaof => $m_4->port);
our @s_4 = Scenario::sentinels_watching('mymaster', $m_4, 2, REPLICAS => 2);

our $m_5 = start_redis();
our $r_5 = start_redis(replicaof => $m_5->port);
our @s_5 = Scenario::sentinels_watching('mymaster', $m_5, 2);

our $m_7 = start_redis();
our $r_7 = start_redis(replicaof => $m_7->port);
our @s_7 = Scenario::sentinels_watching('mymaster', $m_7, 2);

our $m_8 = start_redis();
our $r_8 = start_redis(replicaof => $m_8->port);
our @s_8 = map {
    start_sentinel(conf => ['sentinel resolve-hostnames yes',
                            'sentinel announce-hostnames yes',
                            'sentinel monitor mymaster localhost '
                            . $m_8->port . ' 2',
                            'sentinel down-after-milliseconds mymaster 1000'])
} 1 .. 3;

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;
$ENV{"TEST_NGINX_S$_"} = $s[$_ - 1]->port for 1 .. 3;
for my $n (2 .. 5, 7, 8) {
    no strict 'refs';
    $ENV{"TEST_NGINX_R_$n"} = ${"r_$n"}->port;
    $ENV{"TEST_NGINX_S${_}_$n"} = ${"s_$n"}[$_ - 1]->port for 1 .. 3;
}

# the addresses of the log lines, as a pattern
sub at { my ($srv) = @_; return '127\.0\.0\.1:' . $srv->port . '\b' }

# --- nginx -t: the parameters' ranges ---------------------------------------

my $dir = tempdir(CLEANUP => 1);
my @modules = grep { /stream|redis/ } split ' ', $ENV{TEST_NGINX_LOAD_MODULES};

sub nginx_t {
    my ($stream) = @_;
    my $conf = join '', map({ "load_module $_;\n" } @modules),
        "error_log $dir/error.log;\npid $dir/nginx.pid;\n",
        "events {}\nstream {\n$stream\n}\n";
    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print {$fh} $conf;
    close $fh;
    my $pid = open3(my $in, my $out, undef, $ENV{TEST_NGINX_BINARY},
                    '-t', '-p', $dir, '-c', "$dir/nginx.conf");
    my $said = do { local $/; <$out> };
    waitpid $pid, 0;
    return ($? >> 8, $said);
}

sub discovering {
    my ($params) = @_;
    return "upstream u {\n redis_master;\n"
         . " redis_sentinel name=mymaster $params 127.0.0.1:26379;\n}\n"
         . "server { listen 127.0.0.1:1; proxy_pass u; }";
}

for my $case (
    [ 'discover=0', qr/invalid value "discover=0" in "redis_sentinel": it must be a number from 1 to 64/ ],
    [ 'discover=65', qr/invalid value "discover=65" in "redis_sentinel": it must be a number from 1 to 64/ ],
    [ 'discover=many', qr/invalid value "discover=many" in "redis_sentinel": it must be a number from 1 to 64/ ],
    [ 'discover discover_grace=2h', qr/invalid value "discover_grace=2h" in "redis_sentinel": it must be a time from 0 to 1h/ ],
    [ 'discover_grace=1s', qr/"redis_sentinel" takes "discover_grace=" only with "discover"/ ],
) {
    my ($params, $expect) = @$case;
    my ($status, $said) = nginx_t(discovering($params));
    isnt($status, 0, "redis_sentinel $params: nginx -t fails");
    like($said, $expect, "redis_sentinel $params: the message names the value and its range");
}

for my $params ('discover', 'discover=1', 'discover=64 discover_grace=0',
                'discover=3 discover_grace=1h') {
    my ($status, $said) = nginx_t(discovering($params));
    is($status, 0, "redis_sentinel $params, no server: nginx -t passes")
        or diag $said;
}

# --- the servers the Sentinels report ----------------------------------------

# a master process, for the reload of TEST 10
master_on();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n")
        unless defined $block->stream_server_config;
    $block->set_value('stream_request', "CONFIG GET port\nQUIT\n")
        unless defined $block->stream_request;
    $block->set_value('init', 'package main; our ($m, $r, @s, $m_2, $r_2, @s_2, '
                              . '$m_3, $r_3, @s_3, $late_3, $m_4, $r_4, $gone_4, @s_4, '
                              . '$m_5, $r_5, @s_5, $m_7, $r_7, @s_7, $m_8, $r_8, @s_8); '
                              . ($block->init // ''));
});
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: an upstream that lists only its Sentinels writes to the master they report, and reads from the replica
--- stream_config
    upstream redis_rw {
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover 127.0.0.1:$TEST_NGINX_S1
                       127.0.0.1:$TEST_NGINX_S2 127.0.0.1:$TEST_NGINX_S3;
    }
    upstream redis_ro {
        redis_replica fallback=none;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover 127.0.0.1:$TEST_NGINX_S1
                       127.0.0.1:$TEST_NGINX_S2 127.0.0.1:$TEST_NGINX_S3;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- stream_server_config2
    proxy_pass redis_ro;
--- init
for my $srv ($m, $r) {
    TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw,redis_ro: ${\ main::at($srv)} joins/);
}
TestRM::wait_error_log(qr/upstream redis_rw master is sentinel:mymaster at ${\ main::at($m)}/);
TestRM::wait_error_log(qr/server sentinel:mymaster at ${\ main::at($r)} in upstream redis_rw,redis_ro is up, role replica/);
--- stream_request
CONFIG GET port
QUIT
--- stream_request2
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M}) . TestRM::port_reply($ENV{TEST_NGINX_R})
--- timeout: 30
--- no_error_log
[alert]
[crit]
no majority



=== TEST 2: after a Sentinel failover, writes follow to the promoted replica
--- stream_config
    upstream redis_rw {
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover=4 127.0.0.1:$TEST_NGINX_S1_2
                       127.0.0.1:$TEST_NGINX_S2_2 127.0.0.1:$TEST_NGINX_S3_2;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is sentinel:mymaster at ${\ main::at($m_2)}/, 15);
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw: ${\ main::at($r_2)} joins/);
Test::More::is(TestRM::ask_nginx(), TestRM::port_reply($m_2->port),
               'writes go to the master before the failover');
my $from = TestRM::error_log_size();
$s_2[0]->cmd('SENTINEL', 'FAILOVER', 'mymaster');
TestRM::wait_error_log(qr/upstream redis_rw master is sentinel:mymaster at ${\ main::at($r_2)}/, 20, $from);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R_2})
--- timeout: 40



=== TEST 3: a replica started later joins once the Sentinels know it, and takes reads
--- stream_config
    upstream redis_ro {
        redis_replica fallback=none;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover 127.0.0.1:$TEST_NGINX_S1_3
                       127.0.0.1:$TEST_NGINX_S2_3 127.0.0.1:$TEST_NGINX_S3_3;
    }
--- stream_server_config
    proxy_pass redis_ro;
--- init
TestRM::wait_error_log(qr/server sentinel:mymaster at ${\ main::at($r_3)} in upstream redis_ro is up, role replica/, 15);
$late_3 //= start_redis(replicaof => $m_3->port);
# Sentinels learn a new replica from the master's INFO, every 10 s
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_ro: ${\ main::at($late_3)} joins/, 30);
TestRM::wait_error_log(qr/server sentinel:mymaster at ${\ main::at($late_3)} in upstream redis_ro is up, role replica/, 10);
my %reached;
TestRM::wait_until(sub {
    my ($session, $port) = TestRM::redis_session();
    close $session;
    $reached{$port}++;
    return $reached{$late_3->port};
}, 10, 'a read to reach the replica that joined');
Test::More::ok($reached{$late_3->port}, 'the replica that joined takes reads');
--- stream_response_like: ^\*2\r\n
--- timeout: 60



=== TEST 4: a replica that no majority of the Sentinels reports any more leaves, after discover_grace
--- stream_config
    upstream redis_ro {
        redis_replica fallback=none;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover discover_grace=scaled(2s)
                       127.0.0.1:$TEST_NGINX_S1_4 127.0.0.1:$TEST_NGINX_S2_4
                       127.0.0.1:$TEST_NGINX_S3_4;
    }
--- stream_server_config
    proxy_pass redis_ro;
--- init
my $gone = main::at($gone_4);
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_ro: $gone joins/, 15);
my $from = TestRM::error_log_size();
$gone_4->kill9 if $gone_4->alive;
# the Sentinels flag it down after down-after-milliseconds (1 s)
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_ro: $gone is no longer reported by a majority of the Sentinels: it leaves in \d+ms unless it is reported again/, 20, $from);
my $t0 = Time::HiRes::time();
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_ro: $gone leaves, no majority of the Sentinels reports it/, 20, $from);
my $waited = Time::HiRes::time() - $t0;
# the grace, less one interval of the discovery's own pace
Test::More::cmp_ok($waited, '>=', TestRM::scaled(2) - 0.3,
                   "it kept its seat for discover_grace ($waited s)");
Test::More::is(TestRM::count_error_log(qr/redis sentinel discover: mymaster in upstream redis_ro: ${\ main::at($r_4)} leaves/, $from),
               0, 'the replica the Sentinels still report stays');
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R_4})
--- timeout: 60



=== TEST 5: the master killed: the Sentinels fail over, and writes follow
--- stream_config
    upstream redis_rw {
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover 127.0.0.1:$TEST_NGINX_S1_5
                       127.0.0.1:$TEST_NGINX_S2_5 127.0.0.1:$TEST_NGINX_S3_5;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is sentinel:mymaster at ${\ main::at($m_5)}/, 15);
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw: ${\ main::at($r_5)} joins/);
my $from = TestRM::error_log_size();
Scenario::kill_master($m_5) if $m_5->alive;
TestRM::wait_error_log(qr/upstream redis_rw master is sentinel:mymaster at ${\ main::at($r_5)}/, 30, $from);
# the old master leaves once the Sentinels flag it down (it is dead) and
# the grace has passed; the promoted replica keeps its seat throughout
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw: ${\ main::at($m_5)} leaves, no majority of the Sentinels reports it/, 30, $from);
Test::More::is(TestRM::count_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw: ${\ main::at($r_5)} (leaves|is no longer reported)/, $from),
               0, 'the promoted replica keeps its seat');
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R_5})
--- timeout: 60



=== TEST 6: a server the upstream lists with "server" is not seated again when the Sentinels report it
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover 127.0.0.1:$TEST_NGINX_S1
                       127.0.0.1:$TEST_NGINX_S2 127.0.0.1:$TEST_NGINX_S3;
    }
--- init
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw: ${\ main::at($r)} joins/, 15);
TestRM::wait_error_log(qr/upstream redis_rw master is ${\ main::at($m)}/, 10);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- no_error_log eval
[qr/redis sentinel discover: mymaster in upstream redis_rw: 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b joins/,
 qr/sentinel:mymaster at 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/]
--- timeout: 30



=== TEST 7: while fewer than a majority of the Sentinels answer, every server keeps its seat, past the grace
--- stream_config
    upstream redis_ro {
        redis_replica fallback=none;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover discover_grace=scaled(1s)
                       127.0.0.1:$TEST_NGINX_S1_7 127.0.0.1:$TEST_NGINX_S2_7
                       127.0.0.1:$TEST_NGINX_S3_7;
    }
--- stream_server_config
    proxy_pass redis_ro;
--- init
for my $srv ($m_7, $r_7) {
    TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_ro: ${\ main::at($srv)} joins/, 15);
}
my $from = TestRM::error_log_size();
$_->sigstop for @s_7[0, 1];
TestRM::wait_error_log(qr/\[error\].* redis sentinel discover: mymaster in upstream redis_ro: only 1 of the 3 Sentinels answer, no majority: its 2 servers are kept/, 20, $from);
# twice the grace, and the discoveries meanwhile, each of which could
# have let a server go
my $at = TestRM::error_log_size();
my $t0 = Time::HiRes::time();
TestRM::wait_until(sub {
    Time::HiRes::time() - $t0 >= 2 * TestRM::scaled(1)
    && TestRM::count_error_log(qr/redis sentinel discover: mymaster: 1 of 3 Sentinels answer/, $at) >= 5
}, 30, 'twice the grace, and discoveries');
Test::More::is(TestRM::count_error_log(qr/redis sentinel discover: .*(leaves|no longer reported)/, $from),
               0, 'no server leaves while no majority answers');
$at = TestRM::error_log_size();
$_->sigcont for @s_7[0, 1];
TestRM::wait_error_log(qr/server ${\ main::at($_)} in upstream redis_ro is up, role sentinel/, 20, $at)
    for @s_7[0, 1];
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R_7})
--- timeout: 90



=== TEST 8: a master the Sentinels report by host name (announce-hostnames) is not followed, and the log says so; a replica reported by address is
--- stream_config
    upstream redis_ro {
        redis_replica;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover 127.0.0.1:$TEST_NGINX_S1_8
                       127.0.0.1:$TEST_NGINX_S2_8 127.0.0.1:$TEST_NGINX_S3_8;
    }
--- stream_server_config
    proxy_pass redis_ro;
--- init
# the Sentinels learn the replica from the master's INFO
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_ro: ${\ main::at($r_8)} joins/, 30);
TestRM::wait_error_log(qr/\[warn\].* redis sentinel discover: mymaster in upstream redis_ro: the Sentinels report \d+ servers by host name \(announce-hostnames\), which are not followed: only IP addresses are/, 10);
Test::More::is(TestRM::count_error_log(qr/redis sentinel discover: .*${\ main::at($m_8)} joins/),
               0, 'the master named "localhost" is not seated');
--- timeout: 60



=== TEST 9: more servers than discover=N seats: the master is seated first, the rest are not used, and the log says which
--- stream_config
    upstream redis_rw {
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover=1 127.0.0.1:$TEST_NGINX_S1
                       127.0.0.1:$TEST_NGINX_S2 127.0.0.1:$TEST_NGINX_S3;
    }
--- init
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw: a majority of the Sentinels reports 2 servers, more than discover=1: ${\ main::at($r)} not used/, 15);
TestRM::wait_error_log(qr/upstream redis_rw master is sentinel:mymaster at ${\ main::at($m)}/, 10);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- no_error_log eval
qr/redis sentinel discover: mymaster in upstream redis_rw: 127\.0\.0\.1:$ENV{TEST_NGINX_R}\b joins/
--- timeout: 30



=== TEST 10: a reload keeps the discovered servers in their seats: none joins or leaves again
--- stream_config
    upstream redis_rw {
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster discover 127.0.0.1:$TEST_NGINX_S1
                       127.0.0.1:$TEST_NGINX_S2 127.0.0.1:$TEST_NGINX_S3;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is sentinel:mymaster at ${\ main::at($m)}/, 15);
TestRM::wait_error_log(qr/redis sentinel discover: mymaster in upstream redis_rw: ${\ main::at($r)} joins/, 10);
my $from = TestRM::error_log_size();
my $master = TestRM::nginx_pid();
my %old = map { $_ => 1 } TestRM::children_of($master);
kill 'HUP', $master;
my $new;
TestRM::wait_until(sub { ($new) = grep { !$old{$_} } TestRM::children_of($master) },
                   20, 'new workers after the reload');
# ten discoveries by the new worker, each of which could have moved a seat
TestRM::wait_until(sub {
    TestRM::count_error_log(qr/ $new#\d+: redis sentinel discover: mymaster: 3 of 3 Sentinels answer/, $from) >= 10
}, 20, 'ten discoveries after the reload');
Test::More::is(TestRM::count_error_log(qr/redis sentinel discover: .*(joins|leaves)/, $from),
               0, 'no server joins or leaves across the reload');
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- timeout: 40
