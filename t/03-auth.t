# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# AUTH before the checks: with the default user's password, with an ACL
# user, and with a wrong password (the server is down, Redis's reason is
# logged, the password is not).  A server that repeats the credentials in
# its error gets only its error code logged.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;

# Topology: $r and $n, shared by every block and only read (no block
# changes a server), so that any block runs alone and in any order.

# a password with "#" and a space: what breaks the HAProxy recipe
our $r = start_redis(requirepass => 'pa#ss word',
                     conf => ['user checker on >checkpass +ping +info']);

$ENV{TEST_NGINX_R} = $r->port;

# a server whose AUTH command is renamed away: it answers AUTH with
# "ERR unknown command 'AUTH', with args beginning with: 'USER' 'PASSWORD'"
our $n = start_redis(conf => ['rename-command AUTH ""']);

$ENV{TEST_NGINX_N} = $n->port;

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: AUTH with the default user's password
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms "password=pa#ss word";
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_R}\b/);
--- stream_request
AUTH "pa#ss word"
CONFIG GET port
QUIT
--- stream_response eval
"+OK\r\n" . TestRM::port_reply($ENV{TEST_NGINX_R})
--- no_error_log
pa#ss
probe failed



=== TEST 2: AUTH with an ACL user limited to PING and INFO
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms username=checker password=checkpass;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_R}\b/);
--- stream_request
AUTH "pa#ss word"
CONFIG GET port
QUIT
--- stream_response eval
"+OK\r\n" . TestRM::port_reply($ENV{TEST_NGINX_R})
--- no_error_log
checkpass
probe failed



=== TEST 3: a wrong password: down, Redis's reason logged, the password not
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms username=checker password=wrong-s3cret;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/probe failed: AUTH: WRONGPASS/);
--- stream_request
PING
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log eval
[qr/redis check: server 127\.0\.0\.1:$ENV{TEST_NGINX_R} in upstream redis_rw probe failed: AUTH: WRONGPASS invalid username-password pair or user is disabled\./,
 qr/no Redis master in upstream redis_rw/]
--- no_error_log
wrong-s3cret
is up



=== TEST 4: the password from password_file
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms username=checker password_file=checker.pass;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- user_files
>>> ../conf/checker.pass
checkpass
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_R}\b/);
--- stream_request
AUTH "pa#ss word"
CONFIG GET port
QUIT
--- stream_response eval
"+OK\r\n" . TestRM::port_reply($ENV{TEST_NGINX_R})
--- no_error_log
checkpass
probe failed



=== TEST 5: AUTH renamed away: its error repeats the credentials, only its code is logged
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_N;
        redis_master;
        redis_check interval=200ms username=checkuser-Vq4
                    password_file=renamed.pass;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- user_files
>>> ../conf/renamed.pass
file-s3cret-Jw8
--- init
TestRM::wait_error_log(qr/probe failed: AUTH: ERR \(the rest of the error is not shown: it may repeat the credentials\)/);
# the server did repeat them: that is what this test is about
my $said = join ' ', $main::n->cmd('AUTH', 'checkuser-Vq4', 'file-s3cret-Jw8');
$said .= ' ' . ($main::n->last_err // '');
Test::More::like($said, qr/file-s3cret-Jw8/, 'the server repeats the password');
for my $pid (TestRM::worker_pids()) {
    for my $secret (qw(file-s3cret-Jw8 checkuser-Vq4)) {
        Test::More::ok(!TestRM::shared_memory_has($pid, $secret),
                       "the shared zone has no $secret");
    }
}
--- stream_request
PING
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
file-s3cret
s3cret-Jw8
checkuser
is up
