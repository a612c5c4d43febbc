# State survives "nginx -s reload": the new workers know the master at
# once, so no connection fails because of the reload.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;

our $m = start_redis();
our $r = start_redis(replicaof => $m->port);

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;

master_on();
workers(2);
no_shuffle();
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: connections made across a reload all reach the master
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=1s timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $M = $ENV{TEST_NGINX_M};
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

my $master = TestRM::nginx_pid();
my %old = map { $_ => 1 } TestRM::children_of($master);
my (@reached, $reloaded);

kill 'HUP', $master;

# keep connecting until every worker is a new one, then a few more times
TestRM::wait_until(sub {
    my ($s, $port) = eval { TestRM::redis_session() };
    push @reached, $port // "error: $@";
    my @now = TestRM::children_of($master);
    $reloaded++ if @now && !grep { $old{$_} } @now;
    return ($reloaded // 0) >= 5;
}, 20, 'the old workers to be replaced');

Test::More::cmp_ok(scalar @reached, '>=', 5, scalar(@reached) . " connections");
Test::More::is_deeply([grep { $_ ne $M } @reached], [],
                      "every connection reached the master");
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- error_log
reconfiguring
--- no_error_log
[crit]
[alert]
no Redis master
