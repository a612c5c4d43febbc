# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# TLS: probes, Sentinel probes and the Sentinel subscription speak TLS to
# TLS-only servers (port 0, tls-port, tls-auth-clients yes) with nginx's own
# TLS layer; a wrong CA, a wrong name or a missing client certificate is
# logged as such and gives no master; client traffic reaches the master
# through proxy_ssl; probes may use a port of their own (redis_check port=).

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use RedisTopo::Tls ();
use Test::Nginx::Socket::Lua::Stream;

# Certificates made now: a CA, the servers' certificate (redis.test,
# sentinel.test, 127.0.0.1), nginx's client certificate, another CA.
# Topologies (every block runs alone and in any order):
#   TEST 1-5  $m master, $r its replica: TLS only; only read
#   TEST 6    $mp master on a plain port for clients and a TLS port for
#             the probes
#   TEST 8    $m13 master that takes TLS 1.3 only
#   TEST 7    $m7 master, $r7 its replica, @s7 three TLS Sentinels: a
#             failover to $r7
our $tls = RedisTopo::Tls->new;

our $m = start_redis(tls => $tls);
our $r = start_redis(tls => $tls, replicaof => $m->port);

# TLS 1.3 only, for a probe that offers TLS 1.2 only
our $m13 = start_redis(tls => $tls, conf => ['tls-protocols "TLSv1.3"']);

our $plain = free_port();
our $mp = start_redis(tls => $tls, conf => ["port $plain"]);

our $m7 = start_redis(tls => $tls);
our $r7 = start_redis(tls => $tls, replicaof => $m7->port);
our @s7 = Scenario::sentinels_watching('mymaster', $m7, 2,
                                       per => sub { (tls => $tls) });

$ENV{TEST_NGINX_TLS} = $tls->dir;
$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;
$ENV{TEST_NGINX_MP} = $mp->port;
$ENV{TEST_NGINX_PLAIN} = $plain;
$ENV{TEST_NGINX_M13} = $m13->port;
$ENV{TEST_NGINX_M7} = $m7->port;
$ENV{TEST_NGINX_R7} = $r7->port;
$ENV{"TEST_NGINX_S${_}_7"} = $s7[$_ - 1]->port for 1 .. 3;

# what "CONFIG GET tls-port" then "QUIT" answer: which server was reached
sub tls_port_reply {
    my ($port) = @_;
    return "*2\r\n\$8\r\ntls-port\r\n\$" . length($port) . "\r\n$port\r\n+OK\r\n";
}

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('stream_request', "CONFIG GET tls-port\nQUIT\n")
        unless defined $block->stream_request;
    $block->set_value('init', 'package main; our ($tls, $m, $r, $mp, '
                              . '$m7, $r7, @s7); ' . ($block->init // ''));
});

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: TLS probes find the master; clients reach it through proxy_ssl; a new link resumes the session
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s);

        redis_ssl on;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
        redis_ssl_verify on;
        redis_ssl_name redis.test;
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
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_R} in upstream redis_rw is up, role replica/);

# the servers close nginx's probe links: the next probes open new ones,
# and resume the TLS sessions of the last
my $from = TestRM::error_log_size();
$_->cmd('CLIENT', 'KILL', 'TYPE', 'normal') for $m, $r;
TestRM::wait_error_log(qr/SSL reused session/, 10, $from);
--- stream_response eval
main::tls_port_reply($ENV{TEST_NGINX_M})
--- error_log eval
[qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M} in upstream redis_rw is up, role master/,
 qr/SSL server name: "redis\.test"/]
--- no_error_log
[alert]
[crit]
probe failed



=== TEST 2: a server whose certificate another CA signed is down, and why is logged
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s);

        redis_ssl on;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/other-ca.crt;
        redis_ssl_verify on;
        redis_ssl_name redis.test;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M} in upstream redis_rw probe failed: TLS certificate verify error: \(\d+:[^)]+\)/);
TestRM::wait_error_log(qr/upstream redis_rw has no master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
master is
is up



=== TEST 3: a server whose certificate bears another name is down, and why is logged
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s);

        redis_ssl on;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
        redis_ssl_verify on;
        redis_ssl_name other.test;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M} in upstream redis_rw probe failed: TLS certificate does not match "other\.test"/);
TestRM::wait_error_log(qr/upstream redis_rw has no master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
master is
is up



=== TEST 4: without a client certificate the server refuses the probes, and why is logged
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s);

        redis_ssl on;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
        redis_ssl_verify on;
        redis_ssl_name redis.test;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M} in upstream redis_rw probe failed: TLS link lost, no client certificate sent \(the server may require one\)/);
TestRM::wait_error_log(qr/\[info\] .*redis link: SSL_read\(\) failed \(SSL: .*alert certificate required/);
TestRM::wait_error_log(qr/upstream redis_rw has no master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
master is
is up



=== TEST 5: plain probes to a TLS-only server fail; the reason says the connection was closed
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s);
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M} in upstream redis_rw probe failed/);
TestRM::wait_error_log(qr/upstream redis_rw has no master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
master is



=== TEST 6: port= probes the TLS port while clients use the plain one
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_PLAIN;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s) port=$TEST_NGINX_MP;

        redis_ssl on;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
        redis_ssl_verify on;
        redis_ssl_name redis.test;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_PLAIN}\b/);

# the probe's link is on the TLS port: CLIENT LIST names the local address
my $tls_port = $ENV{TEST_NGINX_MP};
my $clients = TestRM::wait_until(sub {
    my $list = $mp->cmd('CLIENT', 'LIST');
    return $list =~ /laddr=127\.0\.0\.1:$tls_port .*cmd=info/ ? $list : undef;
}, 10, "a probe link on the TLS port $tls_port");
Test::More::ok($clients, 'the probes come on the TLS port');
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_PLAIN})
--- no_error_log
[alert]
[crit]
probe failed



=== TEST 7: TLS Sentinels give the quorum, and their failover events come over TLS (the configuration of docs/tls.md)
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M7;
        server 127.0.0.1:$TEST_NGINX_R7;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s);
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_S1_7
                       127.0.0.1:$TEST_NGINX_S2_7 127.0.0.1:$TEST_NGINX_S3_7;

        redis_ssl on;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
        redis_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
        redis_ssl_verify on;
        redis_ssl_name redis.test;
        redis_ssl_server_name on;

        redis_sentinel_ssl_name sentinel.test;
    }
--- stream_server_config
    proxy_pass redis_rw;

    proxy_ssl on;
    proxy_ssl_certificate $TEST_NGINX_TLS/client.crt;
    proxy_ssl_certificate_key $TEST_NGINX_TLS/client.key;
    proxy_ssl_trusted_certificate $TEST_NGINX_TLS/ca.crt;
    proxy_ssl_verify on;
    proxy_ssl_name redis.test;
    proxy_ssl_session_reuse on;
--- init
my ($M, $R) = @ENV{qw(TEST_NGINX_M7 TEST_NGINX_R7)};
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.1:$ENV{"TEST_NGINX_S${_}_7"} in upstream redis_rw names 127\.0\.0\.1 port $M as master "mymaster"/)
    for 1 .. 3;

my $from = TestRM::error_log_size();
Scenario::kill_master($m7);
TestRM::wait_error_log(qr/redis sentinel: 127\.0\.0\.1:\d+ in upstream redis_rw published "[^"]*switch-master/, 30, $from);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$R\b/, 30, $from);
--- error_log eval
qr/redis link: SSL server name: "sentinel\.test"/
--- stream_response eval
main::tls_port_reply($ENV{TEST_NGINX_R7})
--- timeout: 60
--- no_error_log eval
# the killed master may reset a probe's handshake; no other may fail
[qr/\[alert\]/, qr/\[crit\]/, qr/subscription/,
 qr/^(?!.*127\.0\.0\.1:$ENV{TEST_NGINX_M7}\b).*TLS handshake/]



=== TEST 8: no protocol in common: the handshake fails, and why is logged
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M13;
        redis_master;
        redis_check interval=200ms timeout=scaled(1s);

        redis_ssl on;
        redis_ssl_protocols TLSv1.2;
        redis_ssl_certificate $TEST_NGINX_TLS/client.crt;
        redis_ssl_certificate_key $TEST_NGINX_TLS/client.key;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ENV{TEST_NGINX_M13} in upstream redis_rw probe failed: TLS handshake failed: SSL_do_handshake\(\) failed \(SSL: .*(protocol version|alert)/);
TestRM::wait_error_log(qr/upstream redis_rw has no master/);
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
no Redis master in upstream redis_rw
--- no_error_log
[alert]
[crit]
master is
is up
