# Hostile backends: a fake Redis that answers garbage, the wrong type, an
# error, a huge reply, a slow drip or nothing.  Each one is marked down with
# the reason logged; no worker crashes, and nothing is routed to it.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;

our %fake;

for my $mode (qw(garbage wrongtype error huge drip silence)) {
    $fake{$mode} = start_hostile(mode => $mode);
    $ENV{"TEST_NGINX_\U$mode"} = $fake{$mode}->port;
}

master_on();
workers(1);
no_shuffle();

add_block_preprocessor(sub {
    my ($block) = @_;

    $block->set_value('stream_server_config', "    proxy_pass redis_rw;\n");
    $block->set_value('stream_request', "PING\n");
    $block->set_value('stream_response_like',
        qr/^(receive stream response error: connection reset by peer\n)?$/);
    $block->set_value('no_error_log', "[alert]\n[crit]\nis up\n");
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
