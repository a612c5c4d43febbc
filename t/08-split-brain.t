# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Several servers say master.  The newer lineage wins (a promoted replica's
# master_replid2 is the replid of the master it took over from), then the
# one more replicas follow; never the higher offset.  A true tie is refused,
# or with split_brain=lineage resolved by configuration order.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Test::Nginx::Socket::Lua::Stream;

# Topologies (every block runs alone and in any order):
#   TEST 1     $a master, $b and $c its replicas: $b promoted and $c
#              repointed behind $a's back; only this block uses them
#   TEST 2-4   $d and $e, two unrelated masters, and $f a replica of $d:
#              only read, never changed, by these blocks
# The actions are t/lib/Scenario.pm's.
our $a = start_redis();
our $b = start_redis(replicaof => $a->port);
our $c = start_redis(replicaof => $a->port);

# two unrelated masters, the second with the higher offset
our $d = start_redis();
our $e = start_redis();
$e->cmd('SET', "k$_", 'x' x 100) for 1 .. 50;

# a replica of D, listed only where followers are to break the tie
our $f = start_redis(replicaof => $d->port);

$ENV{"TEST_NGINX_\U$_"} = ${ $main::{$_} }->port for qw(a b c d e f);

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('stream_request', "CONFIG GET port\nQUIT\n");
    $block->set_value('init', 'package main; our ($a, $b, $c, $d, $e, $f); '
                              . ($block->init // ''));
});
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: the promoted replica wins over the old master that still says master
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_A;
        server 127.0.0.1:$TEST_NGINX_B;
        server 127.0.0.1:$TEST_NGINX_C;
        redis_master;
        redis_check interval=100ms timeout=500ms;
    }
--- init
my ($A, $B) = ($a->port, $b->port);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$A\b/);

# a partition as seen from the proxy: B was promoted and C follows it, A
# never heard and keeps taking writes, so its offset runs ahead of B's
Scenario::promote($b);
Scenario::replicate_from($c, $b);
$c->wait_link_up;
$a->cmd('SET', "stale$_", 'x' x 100) for 1 .. 50;

Test::More::cmp_ok($a->info('replication')->{master_repl_offset}, '>',
                   $b->info('replication')->{master_repl_offset},
                   'the old master has the higher offset');
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$B\b/, 5);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_B})
--- error_log eval
qr/redis master: server 127\.0\.0\.1:$ENV{TEST_NGINX_A} in upstream redis_rw says master but a replica promoted from its lineage is master now/



=== TEST 2: two unrelated masters are a tie: refused by default
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_D;
        server 127.0.0.1:$TEST_NGINX_E;
        redis_master;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_E} in upstream redis_rw is up, role master/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_D} in upstream redis_rw is up, role master/);
TestRM::wait_error_log(qr/claim master in upstream redis_rw .*, chose none/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
chose none: lineage is a tie and split_brain=refuse
no Redis master in upstream redis_rw
--- no_error_log
master is



=== TEST 3: split_brain=lineage takes the first in configuration order, not the higher offset
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_D;
        server 127.0.0.1:$TEST_NGINX_E;
        redis_master split_brain=lineage;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/chose by configuration order, lineage being a tie/);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_D})
--- error_log eval
qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_D}\b/
--- no_error_log eval
qr/master is 127\.0\.0\.1:$ENV{TEST_NGINX_E}\b/



=== TEST 4: of two unrelated masters, the one its replicas follow wins
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_E;
        server 127.0.0.1:$TEST_NGINX_D;
        server 127.0.0.1:$TEST_NGINX_F;
        redis_master;
        redis_check interval=100ms timeout=500ms;
    }
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_D}\b/);
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_D})
--- error_log eval
qr/redis master: 2 servers claim master in upstream redis_rw \(127\.0\.0\.1:$ENV{TEST_NGINX_E} 127\.0\.0\.1:$ENV{TEST_NGINX_D}\), chose the one most replicas follow/
--- no_error_log eval
qr/master is 127\.0\.0\.1:$ENV{TEST_NGINX_E}\b/
