# One worker probes each server: with two workers Redis still sees about
# one probe per interval, and when the probing worker is killed another one
# takes over.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::Nginx::Socket::Lua::Stream;
use Time::HiRes qw(sleep);

our $m = start_redis();
our $r = start_redis(replicaof => $m->port);

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;

# Probes of $m seen on Redis (INFO calls, two per probe) and in nginx's
# debug log (which worker made them) over a window of "window" seconds.
sub probes_in_window {
    my ($window) = @_;
    my $from = error_log_size();
    my $before = $m->count_calls('info');
    sleep $window;
    my $after = $m->count_calls('info');

    open my $fh, '<', error_log() or die $!;
    seek $fh, $from, 0;
    my %pids;
    while (<$fh>) {
        $pids{$1}++ if /(\d+)#\d+: redis check: probing 127\.0\.0\.1:$ENV{TEST_NGINX_M}\b/;
    }

    # minus the one INFO commandstats of the first count_calls()
    return (($after - $before - 1) / 2, [keys %pids]);
}

master_on();
workers(2);
no_shuffle();
run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: two workers, one probe per interval; a killed prober is replaced
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $M = $ENV{TEST_NGINX_M};
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

# 2 s at one probe per 200 ms is 10 probes (a little more with the jitter);
# two workers probing would make 20
my ($probes, $pids) = probes_in_window(2);
Test::More::cmp_ok($probes, '>=', 6, "about one probe per interval ($probes)");
Test::More::cmp_ok($probes, '<=', 14, "not one per worker ($probes)");
Test::More::is(scalar @$pids, 1, "one worker probes (@$pids)");

my $from = TestRM::error_log_size();
kill 'KILL', $pids->[0];
TestRM::wait_error_log(qr/takes over probing server 127\.0\.0\.1:$M in upstream redis_rw from worker $pids->[0]/, 5, $from);

($probes, my $after) = probes_in_window(2);
Test::More::cmp_ok($probes, '>=', 6, "probes go on after the kill ($probes)");
Test::More::cmp_ok($probes, '<=', 14, "still one prober ($probes)");
Test::More::is(scalar @$after, 1, "one worker probes (@$after)");
Test::More::isnt($after->[0], $pids->[0], "another worker took over");
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- error_log
exited on signal 9
--- no_error_log
[crit]
no Redis master
