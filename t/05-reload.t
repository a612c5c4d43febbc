# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# State survives "nginx -s reload": the new workers know the master at
# once, so no connection fails because of the reload.  What a reload
# removed leaves the shared zone once no worker that reads it runs.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use Test::Nginx::Socket::Lua::Stream;

# Topologies (any block runs alone and in any order): TEST 1, 5, 6, 7 and
# 8 share $m and its replica $r, which they only read; TEST 2, 3 and 4 each
# have a pair of their own, %pair, that TEST 2 and 3 switch over.
our $m = start_redis();
our $r = start_redis(replicaof => $m->port);

$ENV{TEST_NGINX_M} = $m->port;
$ENV{TEST_NGINX_R} = $r->port;

# a master and its replica for each block that demotes a master
our %pair;
for my $n (2 .. 4) {
    my @acl = (conf => ['user checker on >old-s3cret >new-s3cret '
                        . '+ping +info']);
    my $master = start_redis(@acl);
    my $replica = start_redis(replicaof => $master->port, @acl);
    $pair{$n} = [$master, $replica];
    $ENV{"TEST_NGINX_M$n"} = $master->port;
    $ENV{"TEST_NGINX_R$n"} = $replica->port;
}

# edit_conf(EDIT): rewrite nginx.conf with EDIT (a sub on $_)
sub edit_conf {
    my ($edit) = @_;
    my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
    local $_ = do { local (@ARGV, $/) = ($conf); <> };
    $edit->();
    open my $fh, '>', $conf or die "$conf: $!";
    print {$fh} $_;
    close $fh;
}

# reload(EDIT): edit_conf(EDIT), reload, and wait until new workers run
# beside the old ones (kept by live sessions)
sub reload {
    my ($edit) = @_;
    edit_conf($edit);

    my $master = nginx_pid();
    my %old = map { $_ => 1 } children_of($master);
    kill 'HUP', $master;
    wait_until(sub { grep { !$old{$_} } children_of($master) }, 20,
               'new workers after the reload');
}

# session_to_master(N): once nginx routes to the master of pair N, a client
# session through it that reached that master
sub session_to_master {
    my ($n) = @_;
    my $port = $ENV{"TEST_NGINX_M$n"};
    wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$port\b/);
    my ($s, $reached) = redis_session();
    Test::More::is($reached, $port, 'the session reached the master');
    return $s;
}

# demote(N): the replica of pair N becomes master, the master its replica
sub demote {
    my ($n) = @_;
    my ($master, $replica) = @{ $pair{$n} };
    Scenario::switchover($replica, $master);
}

# A port nothing listens on: the servers of TEST 6 that are down.  Each
# round of TEST 6 gives them addresses of their own.
our $down = free_port();

# round_conf(ROUND): redis_rw with the master $m and a hundred servers
# that are down at addresses of round ROUND, and an upstream of the round
# with one more such server: 102 servers and 2 upstreams in all
sub round_conf {
    my ($round) = @_;
    my $net = "127.0.$round";
    return "    upstream redis_rw {\n"
           . "        server 127.0.0.1:$ENV{TEST_NGINX_M};\n"
           . join('', map { "        server $net.$_:$down;\n" } 1 .. 100)
           . "        redis_master;\n"
           . "        redis_check interval=1s timeout=500ms;\n"
           . "    }\n"
           . "    upstream redis_round$round {\n"
           . "        server $net.101:$down;\n"
           . "        redis_master;\n"
           . "        redis_check interval=1s timeout=500ms;\n"
           . "    }\n";
}

# the zone's notice line: servers, upstreams, free pages; the master logs
# it when it sets the zone up, a worker when it gives entries back
our $zone_line = qr/\[notice\] (\d+)#\d+: redis_master zone "redis_master": (\d+) servers, (\d+) upstreams, (\d+) free pages/;

# error_log_lines(FROM): the error log's lines after byte offset FROM
sub error_log_lines {
    my ($from) = @_;
    open my $fh, '<', TestRM::error_log() or die "no error log: $!";
    seek $fh, $from, 0 or die "seek: $!";
    return <$fh>;
}

# given_back(MASTER, FROM): whether a worker (not the master MASTER) logs,
# after byte offset FROM, that the zone holds one server: it gave the
# node of the server a reload removed back
sub given_back {
    my ($master, $from) = @_;
    return eval {
        TestRM::wait_until(sub {
            grep { /$main::zone_line/ && $1 != $master && $2 == 1 }
            main::error_log_lines($from);
        }, 20, 'the node of the removed server to be given back');
    };
}

master_on();
workers(2);

# TEST 6 probes a hundred servers from one worker, each on a link of its
# own: more than Test::Nginx's 64 connections while they connect
worker_connections(1024);
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



=== TEST 2: a reload that changes redis_check: a session kept by an old worker is closed when its master is demoted
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M2;
        server 127.0.0.1:$TEST_NGINX_R2;
        redis_master;
        redis_check interval=200ms timeout=300ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $s = main::session_to_master(2);

my $at = TestRM::error_log_size();
main::reload(sub { s/interval=200ms timeout=300ms/interval=300ms timeout=400ms/ });
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M2}\b/, 10, $at);

main::demote(2);
Test::More::ok(TestRM::session_closed($s, 10),
               'the old worker closes the session to the demoted master');
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_R2}\b/, 10, $at);
my $said = TestRM::count_error_log(qr/upstream redis_rw (?:master is|has no master)/);
Test::More::cmp_ok($said, '<=', 5, "each choice is logged once ($said lines)");
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R2})
--- error_log
reconfiguring
--- no_error_log
[crit]
[alert]



=== TEST 3: a reload that rotates the password in password_file: a session kept by an old worker is closed when its master is demoted
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M3;
        server 127.0.0.1:$TEST_NGINX_R3;
        redis_master;
        redis_check interval=200ms timeout=300ms username=checker
                    password_file=checker.pass;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- user_files
>>> ../conf/checker.pass
old-s3cret
--- init
package main;
my $s = main::session_to_master(3);

my $file = "$ENV{TEST_NGINX_SERVROOT}/conf/checker.pass";
open my $fh, '>', $file or die "$file: $!";
print {$fh} "new-s3cret\n";
close $fh;

my $at = TestRM::error_log_size();
main::reload(sub { });
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M3}\b/, 10, $at);

main::demote(3);
Test::More::ok(TestRM::session_closed($s, 10),
               'the old worker closes the session to the demoted master');
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_R3}\b/, 10, $at);
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_R3})
--- error_log
reconfiguring
--- no_error_log
[crit]
[alert]
probe failed
s3cret



=== TEST 4: a reload that removes the master's server: the old worker stops counting it and closes its session
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M4;
        server 127.0.0.1:$TEST_NGINX_R4;
        redis_master;
        redis_check interval=200ms timeout=300ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $s = main::session_to_master(4);

# nobody probes the removed server any more: its state goes stale
my $at = TestRM::error_log_size();
main::reload(sub { s/\n\s*server 127\.0\.0\.1:$ENV{TEST_NGINX_M4};// or die 'no master line' });
TestRM::wait_error_log(qr/upstream redis_rw has no master/, 10, $at);
Test::More::ok(TestRM::session_closed($s, 10),
               'the old worker closes the session to the removed server');
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
reconfiguring
--- no_error_log
[crit]
[alert]



=== TEST 5: a reload that fails after the zone was set up gives back what it took there
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        redis_master;
        redis_check interval=200ms timeout=300ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $zone = qr/redis_master zone "redis_master": (\d+) servers, (\d+) upstreams, \d+ free pages/;
TestRM::wait_error_log($zone);
my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
my $good = do { local (@ARGV, $/) = ($conf); <> };

# thirty more servers, and a listen on a port in use: the new zone entries
# are made, then binding fails and the reload with them
my $busy = $ENV{TEST_NGINX_M};
my $at = TestRM::error_log_size();
main::edit_conf(sub {
    my $more = join '', map { "        server 127.0.0.2:$_;\n" } 30001 .. 30030;
    s/(server 127\.0\.0\.1:$ENV{TEST_NGINX_M};\n)/$1$more/ or die 'no server';
    s/(\nstream \{\n)/$1    server { listen 127.0.0.1:$busy; proxy_pass redis_rw; }\n/
        or die 'no stream block';
});
kill 'HUP', TestRM::nginx_pid();
my $failed = TestRM::wait_error_log(qr/bind\(\) to 127\.0\.0\.1:$busy failed/, 20, $at);
my @said = TestRM::wait_error_log(qr/redis_master zone "redis_master": 31 servers/, 20, $at);

# back to the first configuration: the zone holds its one server only
main::edit_conf(sub { $_ = $good });
$at = TestRM::error_log_size();
kill 'HUP', TestRM::nginx_pid();
my $line = TestRM::wait_error_log($zone, 20, $at);
my ($servers) = $line =~ $zone;
Test::More::is($servers, 1, "the zone keeps no server of the failed reload ($line)");
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- error_log
reconfiguring



=== TEST 6: forty reloads that each replace a hundred servers by new addresses all apply, and the zone gives the state of the servers no worker uses any more back
--- stream_config eval
main::round_conf(1)
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $M = $ENV{TEST_NGINX_M};
my ($pid, $servers, $upstreams, $first) = TestRM::wait_error_log($main::zone_line) =~ $main::zone_line;
Test::More::is("$servers $upstreams", '102 2', "the first configuration's entries ($first free pages)");
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

my $master = TestRM::nginx_pid();
my ($applied, $most, @pages) = (0, 0);

for my $round (2 .. 41) {
    my %old = map { $_ => 1 } TestRM::children_of($master);
    my $at = TestRM::error_log_size();
    main::edit_conf(sub {
        s/\Q@{[main::round_conf($round - 1)]}\E/main::round_conf($round)/e
            or die "no round " . ($round - 1);
    });
    kill 'HUP', $master;

    # applied: the master set the zone up for it, and only its workers run
    my $done = eval {
        TestRM::wait_until(sub {
            my @now = TestRM::children_of($master);
            return @now == 2 && !grep { $old{$_} } @now;
        }, 20, "the workers of round $round");
    };
    my ($line) = grep { /$main::zone_line/ && $1 == $master }
                 main::error_log_lines($at);

    # then a worker gives the state of the round before back: the zone
    # holds this round's alone
    my $back = $done && $line && eval {
        TestRM::wait_until(sub {
            my ($l) = grep { /$main::zone_line/ && $1 != $master && $2 == 102 }
                      main::error_log_lines($at);
            return $l;
        }, 20, "the state of round @{[$round - 1]} to be given back");
    };
    if (!$back) {
        my ($why) = grep { /\[emerg\]/ } main::error_log_lines($at);
        Test::More::diag("round $round: " . ($why // $@ // 'no zone line'));
        last;
    }
    $applied++;
    my (undef, $n) = $line =~ $main::zone_line;
    $most = $n if $n > $most;
    my (undef, undef, $u, $p) = $back =~ $main::zone_line;
    push @pages, $u == 2 ? $p : -1;
}

Test::More::is($applied, 40,
               "$applied reloads of 40 applied, each round's state given back");

# two configurations at once: the old workers still run when the master
# sets the zone up for the new one
Test::More::cmp_ok($most, '<=', 1 + 101 * 2,
                   "at most $most servers in the zone at a reload");

# The free pages come back to the first load's level less a margin of 13
# pages, which the slab allocator needs, and never fall further in forty
# rounds.  The 102 nodes take 512-byte chunks, 8 to a page: 13 pages at
# the first load.  At each reload the old and the new configuration's
# 203 nodes are in the zone at once; the allocator takes a new page only
# when every page in use is full, so they hold at most 26 pages.  When
# the old ones go, a page stays while any chunk of it is used: the new
# nodes can hold those 26 pages, and hold no more at the next reload.  The
# routes (1024-byte chunks, at most 3 of them at once) stay in one page.
# A round's state left behind would take 13 pages more, and its servers
# would show in the zone's line.
my ($least) = sort { $a <=> $b } @pages;
Test::More::cmp_ok($least // 0, '>=', $first - 13,
                   "the free pages come back each round: @{[$least // '-']} at the least, "
                   . "@{[$pages[-1] // '-']} at the end, $first after the first load");
--- stream_request
CONFIG GET port
QUIT
--- stream_response eval
TestRM::port_reply($ENV{TEST_NGINX_M})
--- timeout: 30
--- error_log
reconfiguring
--- no_error_log
[crit]
[alert]
[emerg]



=== TEST 7: a reload that removes the master's server: its state stays in the zone while an old worker has a session to it, and goes once that worker has exited
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=1s timeout=1s;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $M = $ENV{TEST_NGINX_M};
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
my ($s, $reached) = TestRM::redis_session();
Test::More::is($reached, $M, 'the session reached the master');

my $master = TestRM::nginx_pid();
my %old = map { $_ => 1 } TestRM::children_of($master);
my $at = TestRM::error_log_size();
main::reload(sub { s/\n\s*server 127\.0\.0\.1:$M;// or die 'no master line' });

# the old worker without a session exits; the one with it stays
my ($kept) = TestRM::wait_until(sub {
    my @left = grep { $old{$_} } TestRM::children_of($master);
    return @left == 1 ? $left[0] : 0;
}, 20, 'one old worker left');

# meanwhile the first new worker looks for entries to give back at each
# sweep: the removed server's node stays, and the old worker reads it
print {$s} "PING\r\n";
my $pong = '';
TestRM::wait_until(sub {
    sysread($s, $pong, 64, length $pong);
    return $pong =~ /\r\n/;
}, 5, 'PONG through the old worker');
Test::More::is($pong, "+PONG\r\n", 'the old worker still proxies the session');
my @early = grep { /$main::zone_line/ && $2 == 1 } main::error_log_lines($at);
Test::More::is(scalar @early, 0, 'the zone keeps the node while the old worker runs');

# the server's state goes stale: the old worker closes the session and exits
Test::More::ok(TestRM::session_closed($s, 15),
               'the old worker closes the session to the removed server');
TestRM::wait_until(sub { !grep { $_ == $kept } TestRM::children_of($master) },
                   20, "worker $kept to exit");
Test::More::ok(main::given_back($master, $at),
               'then the node of the removed server is given back');

# the old worker read the node to the last: it closed the session on
# what the node says, before it exited and the node went
my @lines = main::error_log_lines($at);
my ($closed) = grep { $lines[$_] =~ /\b$kept#\d+: .*redis balancer: closing session to 127\.0\.0\.1:$M\b/ } 0 .. $#lines;
my ($back) = grep { $lines[$_] =~ $main::zone_line && $2 == 1 } 0 .. $#lines;
Test::More::ok(defined $closed && defined $back && $back > $closed,
               "the node goes after worker $kept closed the session on it (lines @{[$closed // '-']}, @{[$back // '-']})");
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log
reconfiguring
--- no_error_log
[crit]
[alert]



=== TEST 8: a reload that removes the master's server: the old worker that had a session to it dies, and its state goes
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M;
        server 127.0.0.1:$TEST_NGINX_R;
        redis_master;
        redis_check interval=1s timeout=1s;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
package main;
my $M = $ENV{TEST_NGINX_M};
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
my ($s, $reached) = TestRM::redis_session();
Test::More::is($reached, $M, 'the session reached the master');

my $master = TestRM::nginx_pid();
my %old = map { $_ => 1 } TestRM::children_of($master);
my $at = TestRM::error_log_size();
main::reload(sub { s/\n\s*server 127\.0\.0\.1:$M;// or die 'no master line' });
my ($kept) = TestRM::wait_until(sub {
    my @left = grep { $old{$_} } TestRM::children_of($master);
    return @left == 1 ? $left[0] : 0;
}, 20, 'one old worker left');

# it never says it exits: the zone finds it gone (kill(pid, 0))
kill 'KILL', $kept;
Test::More::ok(main::given_back($master, $at),
               'the node of the removed server is given back');
Test::More::ok(TestRM::session_closed($s, 5), 'the session died with it');
--- stream_request
CONFIG GET port
QUIT
--- stream_response_like: ^((receive stream response|send stream request) error: (connection reset by peer|broken pipe)\n)?$
--- error_log eval
[qr/worker process \d+ exited on signal 9/, 'reconfiguring']
--- no_error_log eval
[qr/\[crit\]/, qr/exited on signal (?!9\b)/]
