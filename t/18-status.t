# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# The status page (redis_master_status in an http location) shows what the
# checks and the balancer see: JSON that matches the topology, a Prometheus
# exposition promtool accepts, HTML that renders in a browser; nginx's own
# access control applies; no secret shows, whatever a server sends back;
# the stream variables tell how each session was placed; a reload leaves
# the page consistent; and what a hostile server sends reaches each format
# only escaped, once, a replication id only as 40 hex digits.  See
# docs/status.md.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Scenario ();
use StatusPage ();
use Test::Nginx::Socket::Lua::Stream;
use IO::Socket::INET;
use MIME::Base64 ();

# Topologies, one per block (any block runs alone and in any order):
#   TEST 1  $m1 master, $r1 its replica, $l1 a replica behind a relay the
#           block pauses (lagging), $down1 a port where nothing listens;
#           $s1a and $s1b two unrelated masters (split brain)
#   TEST 2  $m2 master, $r2 its replica, $down2
#   TEST 3  $m3 master, $r3 its replica, $down3; $s3a and $s3b split
#   TEST 4  $m4 a lone master
#   TEST 5  $m5 a master with requirepass; $echo a hostile server that
#           repeats the credentials it is sent (as server and Sentinel)
#   TEST 6  $m6 master, $h6 a replica of nobody promoted while a client is
#           held, $o6 a replica of nobody that stays one
#   TEST 7  $m7 master, $r7a, $r7b, $r7c its replicas ($r7c replaces $r7b
#           at the reload)
#   TEST 8  hostile servers whose texts are markup and JSON: $inj_id (in its
#           master_replid), $inj_id2 (in its master_replid2), $inj_rep (a
#           replica, in its master_host), $inj_err (in the error it answers
#           every command with); hostile Sentinels $inj_sen (in the host it
#           names) and $inj_sen_err (in its error)
#   TEST 9  hostile masters whose master_replid has 40 hex digits ($b40),
#           39 ($b39), 41 ($b41), 40 characters with one not a hex digit
#           ($bnx), and one whose master_replid2 has 41 ($b2_41); $bflip a
#           replica whose ids are right until the block replaces it on its
#           port by one whose master_replid has 39
#   TEST 10 $m10 master, $r10 its replica, brought by the name r10.test
#           (which the block then moves to 127.0.0.2); gone10.test never
#           resolves; $h10 a lone master, brought by a name of markup and
#           quotes; a name with a line feed never resolves
our $m1 = start_redis(conf => ['repl-ping-replica-period 1']);
our $r1 = start_redis(replicaof => $m1->port);
our $relay1 = start_relay(to => $m1->port);
our $l1 = start_redis(replicaof => $relay1->port);
our $down1 = free_port();
our $s1a = start_redis();
our $s1b = start_redis();

our $m2 = start_redis();
our $r2 = start_redis(replicaof => $m2->port);
our $down2 = free_port();

our $m3 = start_redis();
our $r3 = start_redis(replicaof => $m3->port);
our $down3 = free_port();
our $s3a = start_redis();
our $s3b = start_redis();

our $m4 = start_redis();

our $secret = 'Zq9-pW3x-Lk7v-config';
# in UTF-8 too: masked as the server sent it, before it is made printable
our $echo_secret = "Hx4-eC7o-p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbcn\xc3\xafcode-hostile";
our $m5 = start_redis(requirepass => $secret);
our $echo = start_hostile(mode => 'echo');

our $dead6 = free_port();
our $m6 = start_redis();
our $h6 = start_redis(replicaof => $dead6, wait_replica_up => 0);
our $o6 = start_redis(replicaof => $dead6, wait_replica_up => 0);

our $m7 = start_redis();
our $r7a = start_redis(replicaof => $m7->port);
our $r7b = start_redis(replicaof => $m7->port);
our $r7c = start_redis(replicaof => $m7->port);

# every text is a place where what a server says reaches the page: the
# short forms of the replication ids (8 characters) are an element that
# opens an attribute, and a string that closes a JSON value and opens a key
our $hostile_error = "' onload=document.title=/pwned/.source x\n"
                   . "[notice] forged\x1b[2J\xc3\xa9";
our $inj_id = start_hostile(mode => 'inject', replid => "<svg x='" . 'f' x 32,
                            replid2 => '0' x 40);
our $inj_id2 = start_hostile(mode => 'inject', replid => '1a' x 20,
                             replid2 => '","up":"' . 'f' x 32);
our $inj_rep = start_hostile(mode => 'inject', role => 'slave',
    master_host => '"><img src=x onerror=document.title=/img/.source>',
    replid => '2b' x 20, replid2 => '0' x 40);
our $inj_err = start_hostile(mode => 'inject', error => $hostile_error);
our $inj_sen = start_hostile(mode => 'inject',
                             names => '<svg/onload=document.title=/sen/.source>');
our $inj_sen_err = start_hostile(mode => 'inject', error => $hostile_error);

# the boundary: 40 hex digits, one fewer, one more, one that is not one
our %replid = (b40 => 'e5' x 20, b39 => substr('a1' x 20, 0, 39),
               b41 => 'b2' x 20 . 'b', bnx => 'c3' x 10 . 'g' . '3c' x 9 . '3');
our $b40 = start_hostile(mode => 'inject', replid => $replid{b40},
                         replid2 => '0' x 40);
our $b39 = start_hostile(mode => 'inject', replid => $replid{b39},
                         replid2 => '0' x 40);
our $b41 = start_hostile(mode => 'inject', replid => $replid{b41},
                         replid2 => '0' x 40);
our $bnx = start_hostile(mode => 'inject', replid => $replid{bnx},
                         replid2 => '0' x 40);
our $b2_41 = start_hostile(mode => 'inject', replid => 'f6' x 20,
                           replid2 => 'd4' x 20 . 'd');
our $bflip = start_hostile(mode => 'inject', role => 'slave',
                           master_host => '127.0.0.1', replid => 'a7' x 20,
                           replid2 => '0' x 40);

# the names: as nginx's configuration has them, and as the DNS server
# knows them (lower case)
our $m10 = start_redis();
our $r10 = start_redis(replicaof => $m10->port);
our $h10 = start_redis();
our $markup10 = q{<b>&"'\x.test};
our $dns = start_dns(records => { 'r10.test' => '127.0.0.1',
                                  $markup10 => '127.0.0.1' });
$ENV{TEST_NGINX_DNS} = $dns->port;

for my $name (qw(m1 r1 l1 s1a s1b m2 r2 m3 r3 s3a s3b m4 m5 echo m6 h6 o6
                 m7 r7a r7b r7c inj_id inj_id2 inj_rep inj_err inj_sen
                 inj_sen_err b40 b39 b41 bnx b2_41 bflip m10 r10 h10))
{
    $ENV{"TEST_NGINX_\U$name"} = ${ $main::{$name} }->port;
}
$ENV{"TEST_NGINX_\U$_"} = ${ $main::{$_} } for qw(down1 down2 down3);
$ENV{TEST_NGINX_SECRET} = $secret;
$ENV{TEST_NGINX_ECHO_SECRET} = $echo_secret;

# every block has the status page at /redis/, unless it says otherwise
add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('config', "    location /redis/ { redis_master_status; }\n")
        unless defined $block->config;
    $block->set_value('init', 'package main; our ($m1, $r1, $relay1, $l1, '
                              . '$s1a, $s1b, $m2, $r2, $m3, $r3, $s3a, $s3b, '
                              . '$m4, $m5, $echo, $secret, $echo_secret, '
                              . '$m6, $h6, $o6, $m7, $r7a, $r7b, $r7c, '
                              . '$hostile_error, %replid, $bflip, $m10, '
                              . '$r10, $h10, $markup10, $dns); '
                              . ($block->init // ''));
});

# reload(EDIT): rewrite nginx.conf with EDIT (a sub on $_), reload, and
# wait until new workers run (the old ones no longer accept connections)
sub reload {
    my ($edit) = @_;
    my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
    local $_ = do { local (@ARGV, $/) = ($conf); <> };
    $edit->();
    open my $fh, '>', $conf or die "$conf: $!";
    print {$fh} $_;
    close $fh;

    my $master = TestRM::nginx_pid();
    my %old = map { $_ => 1 } children_of($master);
    kill 'HUP', $master;
    wait_until(sub { grep { !$old{$_} } children_of($master) }, 20,
               'new workers after the reload');
}

# a master and two workers: the page is served by any worker, whichever
# probes, and a reload starts new ones
master_on();
workers(2);

run_tests();
Test::More::done_testing();

__DATA__

=== TEST 1: the JSON matches the topology: master, a follower, a lagging replica, a server down, a split-brain pair
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M1;
        server 127.0.0.1:$TEST_NGINX_R1;
        server 127.0.0.1:$TEST_NGINX_L1;
        server 127.0.0.1:$TEST_NGINX_DOWN1;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M1;
        server 127.0.0.1:$TEST_NGINX_R1;
        server 127.0.0.1:$TEST_NGINX_L1;
        server 127.0.0.1:$TEST_NGINX_DOWN1;
        redis_replica max_lag=3s;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_split {
        server 127.0.0.1:$TEST_NGINX_S1A;
        server 127.0.0.1:$TEST_NGINX_S1B;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my ($M, $R, $L, $D) = map { $ENV{"TEST_NGINX_$_"} } qw(M1 R1 L1 DOWN1);

TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

# the lagging replica: its link stays up while the relay holds the stream
$relay1->pause;

my $json = StatusPage::wait_status(sub {
    my $ro = StatusPage::upstream($_[0], 'redis_ro') or return;
    my ($r, $l) = map { StatusPage::server_of($ro, $_) } $R, $L;
    my $split = StatusPage::upstream($_[0], 'redis_split') or return;
    return $r && $r->{eligible} && $l && !$l->{eligible}
           && ($l->{lag_ms} // 0) > 3000 && $split->{rule} eq 'tie';
}, 30, 'the replica behind the relay to lag, the other to qualify, the split pair to be refused');

my $rw = StatusPage::upstream($json, 'redis_rw');
my $ro = StatusPage::upstream($json, 'redis_ro');
my $split = StatusPage::upstream($json, 'redis_split');

Test::More::is($json->{version}, 1, 'format version 1');
Test::More::is_deeply([map { $_->{name} } @{ $json->{upstreams} }],
                      [qw(redis_rw redis_ro redis_split)],
                      'each upstream once, in configuration order');

Test::More::is_deeply(
    { map { $_ => $rw->{$_} } qw(kind master rule claimants) },
    { kind => 'master', master => "127.0.0.1:$M", rule => 'sole',
      claimants => 1 },
    'the write pool: the master, the only claimant');

my %place = map { $_->{address} => [$_->{state}, $_->{role}, $_->{place}] }
            @{ $rw->{servers} };
Test::More::is_deeply(\%place, {
    "127.0.0.1:$M" => ['up', 'master', 'master'],
    "127.0.0.1:$R" => ['up', 'replica', 'follower'],
    "127.0.0.1:$L" => ['up', 'replica', 'follower'],
    "127.0.0.1:$D" => ['down', 'unknown', 'down'],
}, 'each server once: its state, role and place in the topology');

my ($sm, $sr, $sl, $sd) = map { StatusPage::server_of($rw, $_) } $M, $R, $L, $D;
Test::More::ok($sm->{master} && !$sr->{master}, 'only the master is "master"');
Test::More::is($sr->{link}, 'up', 'the follower\'s link is up');
Test::More::is($sr->{follows}, "127.0.0.1:$M", 'the follower follows the master');
Test::More::is($sr->{replid}, substr($m1->info('replication')->{master_replid}, 0, 8),
               'replid in short form, the master\'s');
Test::More::is($sl->{link}, 'up', 'the lagging replica still says its link is up');
Test::More::cmp_ok(StatusPage::server_of($ro, $L)->{lag_ms}, '>', 3000,
                   'the lagging replica\'s lag, as max_lag judges it in the read pool');
Test::More::is($sl->{lag_ms}, undef, 'which the write pool does not measure');
Test::More::cmp_ok($sl->{lag_seconds}, '>=', 2, 'and its own master_last_io_seconds_ago');
Test::More::cmp_ok($sl->{lag_bytes}, '>', 0, 'the lagging replica\'s lag in bytes');
Test::More::cmp_ok(StatusPage::server_of($ro, $R)->{lag_ms}, '<=', 3000,
                   'the follower is within max_lag');
Test::More::like($sd->{error}, qr/connect\(\) failed/, 'the server down says why');
Test::More::ok(!$sd->{up} && $sd->{fall} >= 1 && $sd->{rise} == 0, 'and counts its failures');
Test::More::ok($sm->{rise} >= 1 && $sm->{fall} == 0, 'the master counts its successes');
Test::More::cmp_ok(abs($sm->{last_check} - time), '<=', 5, 'last check time is now');
Test::More::ok(defined $sm->{probe_ms}, 'probe latency');

my %eligible = map { $_->{address} => $_->{eligible} ? 1 : 0 } @{ $ro->{servers} };
Test::More::is_deeply(\%eligible, {
    "127.0.0.1:$M" => 1, "127.0.0.1:$R" => 1, "127.0.0.1:$L" => 0,
    "127.0.0.1:$D" => 0,
}, 'the read pool reads from the fresh follower, not the lagging one (the master by fallback)');
Test::More::is($ro->{kind}, 'replica', 'the read pool\'s kind');

# why each server is not used, in the words of the balancer's log
my %why = map { $_->{address} => $_->{why} } @{ $ro->{servers} };
Test::More::is_deeply(\%why, {
    "127.0.0.1:$M" => undef, "127.0.0.1:$R" => undef,
    "127.0.0.1:$L" => 'it lags more than max_lag',
    "127.0.0.1:$D" => 'is not up',
}, 'the read pool says why a replica does not serve reads, as the explainer words it');
Test::More::is_deeply([map { $_->{why} } $sm, $sr],
                      [undef, 'does not say master'],
                      'the write pool: the master has no why, a replica does not say master');

Test::More::is_deeply(
    { map { $_ => $split->{$_} } qw(master rule claimants) },
    { master => undef, rule => 'tie', claimants => 2 },
    'the split pair: no master, a tie refused');
Test::More::is($split->{why}, 'lineage is a tie and split_brain=refuse',
               'and it says why, in the words of the balancer\'s log');
Test::More::is_deeply([sort map { $_->{place} } @{ $split->{servers} }],
                      ['claimant', 'claimant'], 'both servers claim master');
Test::More::is_deeply([map { $_->{why} } @{ $split->{servers} }],
    [('as many replicas follow another server that says master, and split_brain=refuse') x 2],
    'and each says why it is not master: the tie refused');
Test::More::is_deeply([sort keys %{ $rw->{counters} }],
    [sort qw(failovers sessions_closed held released timed_out left refused fallbacks)],
    'the counters');
$relay1->resume;
--- request
GET /redis/?format=json
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like: "master":"127\.0\.0\.1:\d+","rule":"sole"
--- no_error_log
[alert]
[crit]



=== TEST 2: promtool accepts the Prometheus exposition, chosen by ?format= or by Accept
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M2;
        server 127.0.0.1:$TEST_NGINX_R2;
        server 127.0.0.1:$TEST_NGINX_DOWN2;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M2;
        server 127.0.0.1:$TEST_NGINX_R2;
        server 127.0.0.1:$TEST_NGINX_DOWN2;
        redis_replica max_lag=15s;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my ($M, $R, $D) = map { $ENV{"TEST_NGINX_$_"} } qw(M2 R2 DOWN2);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
StatusPage::wait_status(sub {
    my $s = StatusPage::server_of(StatusPage::upstream($_[0], 'redis_ro'), $R);
    return $s && $s->{eligible};
}, 20, 'the replica to qualify');

# the check itself fails on a broken exposition
my ($bad) = StatusPage::promtool_check("# TYPE x_total counter\nx_total{a=\"b\"} one\n");
Test::More::isnt($bad, 0, 'promtool rejects a broken exposition');

my $res = StatusPage::get_status(query => 'format=prometheus');
Test::More::is($res->{status}, 200, '?format=prometheus');
Test::More::like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'its content type');
my ($rc, $out) = StatusPage::promtool_check($res->{content});
Test::More::is($rc, 0, 'promtool check metrics accepts it') or Test::More::diag($out);
Test::More::is($out, '', 'without a lint warning') or Test::More::diag($out);

my $text = $res->{content};
my %want = (
    qq{redis_master_is_master{upstream="redis_rw",server="127.0.0.1:$M"}} => 1,
    qq{redis_master_is_master{upstream="redis_rw",server="127.0.0.1:$R"}} => 0,
    qq{redis_master_server_up{upstream="redis_rw",server="127.0.0.1:$D"}} => 0,
    qq{redis_master_server_up{upstream="redis_rw",server="127.0.0.1:$R"}} => 1,
    qq{redis_master_server_role{upstream="redis_rw",server="127.0.0.1:$R",role="replica"}} => 1,
    qq{redis_master_server_role{upstream="redis_rw",server="127.0.0.1:$R",role="master"}} => 0,
    qq{redis_master_server_eligible{upstream="redis_ro",server="127.0.0.1:$R"}} => 1,
    qq{redis_master_up{upstream="redis_rw"}} => 1,
    qq{redis_master_failovers_total{upstream="redis_rw"}} => 0,
);
for my $sample (sort keys %want) {
    my ($value) = $text =~ /^\Q$sample\E (\S+)$/m;
    Test::More::is($value, $want{$sample}, $sample);
}
# the master's offset and the replica's are read by two probes: a ping
# between them makes a lag of a few bytes
Test::More::like($text,
    qr/^redis_master_replica_lag_bytes\{upstream="redis_ro",server="127\.0\.0\.1:$R"\} \d+$/m,
    'the replica\'s lag in bytes');
for my $metric (qw(redis_master_replica_lag_seconds redis_master_probe_duration_seconds
                   redis_master_sessions_closed_total redis_master_connections_held_total
                   redis_master_connections_refused_total redis_master_sentinel_agree))
{
    Test::More::like($text, qr/^# TYPE $metric (gauge|counter)$/m, "$metric is exposed");
}

my $byaccept = StatusPage::get_status(headers => { Accept => 'text/plain;version=0.0.4;q=0.9,*/*;q=0.1' });
Test::More::like($byaccept->{content}, qr/^# TYPE redis_master_server_up gauge$/m,
                 'Accept: text/plain gets the exposition');
my $json = StatusPage::get_status(headers => { Accept => 'application/json' });
Test::More::like($json->{content}, qr/^\{"version":1,/, 'Accept: application/json gets JSON');
my $html = StatusPage::get_status(headers => { Accept => 'text/html,*/*;q=0.8' });
Test::More::like($html->{content}, qr/^<!DOCTYPE html>/, 'a browser gets HTML');
--- request
GET /redis/?format=prometheus
--- response_body_like: ^# HELP redis_master_status_info
--- no_error_log
[alert]



=== TEST 3: the HTML renders in headless Chromium, without console errors, the master and the split-brain refusal in the DOM
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M3;
        server 127.0.0.1:$TEST_NGINX_R3;
        server 127.0.0.1:$TEST_NGINX_DOWN3;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M3;
        server 127.0.0.1:$TEST_NGINX_R3;
        server 127.0.0.1:$TEST_NGINX_DOWN3;
        redis_replica max_lag=15s;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_split {
        server 127.0.0.1:$TEST_NGINX_S3A;
        server 127.0.0.1:$TEST_NGINX_S3B;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my ($M, $R, $D) = map { $ENV{"TEST_NGINX_$_"} } qw(M3 R3 DOWN3);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
StatusPage::wait_status(sub {
    StatusPage::upstream($_[0], 'redis_split')->{rule} eq 'tie'
}, 20, 'the split pair to be refused');

# the check itself sees a console error
my $bad = "$ENV{TEST_NGINX_SERVROOT}/html/bad.html";
open my $fh, '>', $bad or die "$bad: $!";
print {$fh} "<p>x</p><script>console.error('boom')</script>\n";
close $fh;
Test::More::ok(scalar @{ StatusPage::chromium_render("file://$bad")->{console} },
               'a console error would be seen');

# the screenshot stays with the logs; TEST_STATUS_SCREENSHOT=FILE keeps a
# copy (docs/status.png was made so)
my $png = "$ENV{TEST_NGINX_SERVROOT}/logs/status.png";
my $page = StatusPage::chromium_render(StatusPage::status_url(), $png);
Test::More::is_deeply($page->{console}, [], 'no console message');
Test::More::like($page->{dom}, qr{<div class="srv master" data-address="127\.0\.0\.1:$M">},
                 'the master\'s server in the rendered DOM');
Test::More::like($page->{dom}, qr{id="master">MASTER <span class="addr">127\.0\.0\.1:$M</span>},
                 'and in the banner');
Test::More::like($page->{dom}, qr{<div class="srv follower" data-address="127\.0\.0\.1:$R">},
                 'the replica as its follower');
Test::More::like($page->{dom}, qr{<div class="srv down" data-address="127\.0\.0\.1:$D">},
                 'the server down');
Test::More::like($page->{dom}, qr{id="no-master">NO MASTER — SPLIT BRAIN REFUSED},
                 'the split-brain refusal');
Test::More::ok(-s $png, "a screenshot ($png)");
if ($ENV{TEST_STATUS_SCREENSHOT}) {
    require File::Copy;
    File::Copy::copy($png, $ENV{TEST_STATUS_SCREENSHOT}) or die "copy: $!";
}
Test::More::unlike($page->{dom}, qr{(?:src|href)="(?:https?:)?//}, 'no external asset');
--- request
GET /redis/
--- response_headers
Content-Type: text/html; charset=utf-8
--- response_body_like: <meta http-equiv="refresh" content="\d+">
--- no_error_log
[alert]



=== TEST 4: allow/deny and auth_basic protect the page
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M4;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- config
    location /redis/ {
        allow 127.0.0.2;
        deny all;
        redis_master_status;
    }
    location /open/ {
        allow 127.0.0.1;
        deny all;
        redis_master_status;
    }
    location /auth/ {
        auth_basic "redis status";
        auth_basic_user_file ../html/htpasswd;
        redis_master_status;
    }
--- user_files
>>> htpasswd
ops:{PLAIN}st4tus-pw
--- init
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$ENV{TEST_NGINX_M4}\b/);
my $denied = StatusPage::get_status(path => '/redis/', query => 'format=json');
Test::More::is($denied->{status}, 403, 'deny all: 403');
Test::More::unlike($denied->{content}, qr/127\.0\.0\.1:$ENV{TEST_NGINX_M4}/, 'and no state');
my $open = StatusPage::get_status(path => '/open/', query => 'format=json');
Test::More::is($open->{status}, 200, 'allow 127.0.0.1: 200');
Test::More::like($open->{content}, qr/"master":"127\.0\.0\.1:$ENV{TEST_NGINX_M4}"/, 'with the state');
my $anon = StatusPage::get_status(path => '/auth/');
Test::More::is($anon->{status}, 401, 'auth_basic without credentials: 401');
my $wrong = StatusPage::get_status(path => '/auth/', headers => {
    Authorization => 'Basic ' . MIME::Base64::encode_base64('ops:nope', '') });
Test::More::is($wrong->{status}, 401, 'with a wrong password: 401');
my $auth = StatusPage::get_status(path => '/auth/', query => 'format=json', headers => {
    Authorization => 'Basic ' . MIME::Base64::encode_base64('ops:st4tus-pw', '') });
Test::More::is($auth->{status}, 200, 'with the password: 200');
--- request
GET /redis/
--- error_code: 403
--- error_log
access forbidden by rule



=== TEST 5: no format shows a password, neither the configuration's nor one a hostile server echoes
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M5;
        redis_master;
        redis_check interval=200ms timeout=500ms password=$TEST_NGINX_SECRET;
    }
    upstream redis_echo {
        server 127.0.0.1:$TEST_NGINX_ECHO;
        redis_master;
        redis_check interval=200ms timeout=500ms username=chk-Ux8q-usr password=$TEST_NGINX_ECHO_SECRET;
    }
    upstream redis_sentinel_echo {
        server 127.0.0.1:$TEST_NGINX_M5;
        redis_master;
        redis_check interval=200ms timeout=500ms password=$TEST_NGINX_SECRET;
        redis_sentinel name=mymaster password=$TEST_NGINX_ECHO_SECRET
                       127.0.0.1:$TEST_NGINX_ECHO;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my ($M, $E) = ($ENV{TEST_NGINX_M5}, $ENV{TEST_NGINX_ECHO});
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);

# the hostile server has answered each kind of probe with the credentials
my $json = StatusPage::wait_status(sub {
    my $e = StatusPage::server_of(StatusPage::upstream($_[0], 'redis_echo'), $E);
    my ($s) = @{ StatusPage::upstream($_[0], 'redis_sentinel_echo')->{sentinels} };
    return $e && $e->{error} && $s && $s->{state} ne 'unchecked';
}, 20, 'the echoing server and Sentinel to be checked');

my @secrets = ($secret, $echo_secret, 'chk-Ux8q-usr');
for my $format (qw(json prometheus html)) {
    my $res = StatusPage::get_status(query => "format=$format");
    Test::More::is($res->{status}, 200, "$format: 200");
    Test::More::like($res->{content}, qr/127\.0\.0\.1:$E/, "$format shows the hostile server");
    for my $secret (@secrets) {
        # no six characters in a row of it
        my @leaks = grep { index($res->{content}, $_) >= 0 }
                    map { substr($secret, $_, 6) } 0 .. length($secret) - 6;
        Test::More::is_deeply(\@leaks, [], "$format: nothing of '$secret'");
    }
    my @pieces = grep { index($res->{content}, $_) >= 0 }
                 secret_pieces($echo_secret);
    Test::More::is_deeply(\@pieces, [], "$format: no piece of the UTF-8");
}
my $log = do {
    local $/;
    open my $fh, '<:raw', error_log() or die "no error log: $!";
    <$fh>;
};
my @logged = grep { index($log, $_) >= 0 } secret_pieces($echo_secret);
Test::More::is_deeply(\@logged, [], 'the error log: no piece of the UTF-8');
for my $pid (worker_pids()) {
    my @kept = grep { shared_memory_has($pid, $_) }
               secret_pieces($echo_secret), $echo_secret;
    Test::More::is_deeply(\@kept, [], "the zone of worker $pid: no piece "
                          . 'of the UTF-8');
}
my $e = StatusPage::server_of(StatusPage::upstream($json, 'redis_echo'), $E);
Test::More::like($e->{error}, qr/\*{4}/, 'what it echoed shows masked');
--- request
GET /redis/?format=json
--- response_body_unlike: (?:Zq9-pW3x|Hx4-eC7o)
--- no_error_log
[alert]



=== TEST 6: the stream variables of a normal, a held and a refused session
--- stream_config
    log_format redis '$server_port decision=$redis_master_decision '
                     'role=$redis_master_role master=$redis_master_master '
                     'wait=$redis_master_wait_time to=$upstream_addr';
    access_log logs/stream_access.log redis;

    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M6;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_held {
        server 127.0.0.1:$TEST_NGINX_H6;
        redis_master wait=scaled(10s);
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_refused {
        server 127.0.0.1:$TEST_NGINX_O6;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- stream_server_config2
    proxy_pass redis_held;
--- stream_server_config3
    proxy_pass redis_refused;
--- init
my ($M, $H, $O) = map { $ENV{"TEST_NGINX_$_"} } qw(M6 H6 O6);
my ($normal, $held, $refused) = map { TestRM::stream_port($_) } 0 .. 2;
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$H in upstream redis_held is up, role replica/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$O in upstream redis_refused is up, role replica/);

sub ask {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => TestRM::scaled(5))
        or die "connect to $port: $!";
    print {$s} "CONFIG GET port\r\nQUIT\r\n";
    return $s;
}

Test::More::is(TestRM::ask_nginx_answer(ask($normal)), TestRM::port_reply($M),
               'the normal session reached the master');
Test::More::is(TestRM::ask_nginx_answer(ask($refused)), '',
               'the refused session was closed');

# promote the held upstream's server once nginx holds the client
Scenario::when_logged(qr/no Redis master in upstream redis_held: waiting up to \d+ms/,
                      sub { Scenario::promote($h6) });
Test::More::is(TestRM::ask_nginx_answer(ask($held)), TestRM::port_reply($H),
               'the held session reached the promoted server');

my $log = "$ENV{TEST_NGINX_SERVROOT}/logs/stream_access.log";
my %line;
wait_until(sub {
    open my $fh, '<', $log or return;
    %line = map { /^(\d+) / ? ($1 => $_) : () } <$fh>;
    return keys %line >= 3;
}, 10, 'three lines in the stream access log');

Test::More::like($line{$normal},
    qr/^$normal decision=master role=master master=127\.0\.0\.1:$M wait=0\.000 to=127\.0\.0\.1:$M$/,
    'normal: master, its role, the master, no wait');
Test::More::like($line{$refused},
    qr/^$refused decision=refused role=- master=- wait=0\.000 to=/,
    'refused: no role, no master');
Test::More::like($line{$held},
    qr/^$held decision=held role=master master=- wait=(\d+\.\d{3}) to=127\.0\.0\.1:$H$/,
    'held: no master when it started, the role of the server it got');
my ($wait) = $line{$held} =~ /wait=(\S+)/;
Test::More::cmp_ok($wait, '>', 0, "held: waited $wait s");

my $json = StatusPage::status_json();
Test::More::is(StatusPage::upstream($json, 'redis_refused')->{counters}{refused}, 1,
               'the status page counts the refused session');
Test::More::is_deeply(
    [@{ StatusPage::upstream($json, 'redis_held')->{counters} }{qw(held released timed_out refused)}],
    [1, 1, 0, 0], 'and the held one, released');
--- request
GET /redis/?format=json
--- response_body_like: "name":"redis_held"
--- no_error_log
[alert]



=== TEST 7: a reload that changes settings and servers: no ghost server, no doubled row, the state carried over
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M7;
        server 127.0.0.1:$TEST_NGINX_R7A;
        server 127.0.0.1:$TEST_NGINX_R7B;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_M7;
        server 127.0.0.1:$TEST_NGINX_R7A;
        server 127.0.0.1:$TEST_NGINX_R7B;
        redis_replica max_lag=15s;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my ($M, $A, $B, $C) = map { $ENV{"TEST_NGINX_$_"} } qw(M7 R7A R7B R7C);
TestRM::wait_error_log(qr/upstream redis_rw master is 127\.0\.0\.1:$M\b/);
my $before = StatusPage::status_json();
my $probes = StatusPage::server_of(StatusPage::upstream($before, 'redis_rw'), $M)->{probes};

main::reload(sub {
    s/127\.0\.0\.1:$B;/127.0.0.1:$C;/g or die 'no server line';
    s/interval=200ms timeout=500ms/interval=300ms timeout=600ms/g;
});

# the first page of the new workers: the state the old ones recorded
my $first = StatusPage::wait_status(sub {
    StatusPage::server_of(StatusPage::upstream($_[0], 'redis_rw'), $C)
}, 20, 'a page of the new configuration');
my $m = StatusPage::server_of(StatusPage::upstream($first, 'redis_rw'), $M);
Test::More::cmp_ok($m->{probes}, '>=', $probes,
                   'the master\'s state carried over the reload');
Test::More::is(StatusPage::upstream($first, 'redis_rw')->{master}, "127.0.0.1:$M",
               'the master known at once');

# a new worker takes over probing the master once the old owner has left
# or gone quiet
my $json = StatusPage::wait_status(sub {
    my $s = StatusPage::server_of(StatusPage::upstream($_[0], 'redis_ro'), $C);
    my $m = StatusPage::server_of(StatusPage::upstream($_[0], 'redis_rw'), $M);
    return $s && $s->{eligible} && $m->{probes} > $probes;
}, 20, 'the new replica to qualify, the master to be probed again');

for my $name (qw(redis_rw redis_ro)) {
    my $u = StatusPage::upstream($json, $name);
    Test::More::is_deeply([map { $_->{address} } @{ $u->{servers} }],
                          ["127.0.0.1:$M", "127.0.0.1:$A", "127.0.0.1:$C"],
                          "$name: the servers of the new configuration, once each");
    Test::More::is($u->{master}, "127.0.0.1:$M", "$name: the master");
}
Test::More::is(scalar(grep { $_->{name} eq 'redis_rw' } @{ $json->{upstreams} }), 1,
               'the upstream once');

my $prom = StatusPage::get_status(query => 'format=prometheus')->{content};
my @up = $prom =~ /^redis_master_server_up\{upstream="redis_rw",server="([^"]+)"\}/mg;
Test::More::is_deeply(\@up, ["127.0.0.1:$M", "127.0.0.1:$A", "127.0.0.1:$C"],
                      'the exposition: no ghost, no double');
my ($rc, $out) = StatusPage::promtool_check($prom);
Test::More::is($rc, 0, 'promtool still accepts it') or Test::More::diag($out);

my $html = StatusPage::get_status(query => 'format=html')->{content};
my @rows = $html =~ /<div class="srv [a-z]+" data-address="([^"]+)">/g;
Test::More::is(scalar(@rows), 6, 'the page: three servers in each of two upstreams');
Test::More::unlike($html, qr/127\.0\.0\.1:$B\b/, 'the page: the removed server is gone');
--- request
GET /redis/?format=json
--- response_body_like: "name":"redis_rw"
--- no_error_log
[alert]



=== TEST 8: what hostile servers and Sentinels send reaches each format escaped, once: no key twice in the JSON, no markup of theirs in the HTML or the browser's DOM, promtool's approval, a printable error log
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_INJ_ID;
        server 127.0.0.1:$TEST_NGINX_INJ_ID2;
        server 127.0.0.1:$TEST_NGINX_INJ_REP;
        server 127.0.0.1:$TEST_NGINX_INJ_ERR;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_INJ_ID;
        server 127.0.0.1:$TEST_NGINX_INJ_ID2;
        server 127.0.0.1:$TEST_NGINX_INJ_REP;
        server 127.0.0.1:$TEST_NGINX_INJ_ERR;
        redis_replica;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_watch {
        server 127.0.0.1:$TEST_NGINX_INJ_REP;
        redis_master;
        redis_check interval=200ms timeout=500ms;
        redis_sentinel name=mymaster 127.0.0.1:$TEST_NGINX_INJ_SEN
                       127.0.0.1:$TEST_NGINX_INJ_SEN_ERR;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my ($ID, $ID2, $REP, $ERR, $SEN, $SENERR) =
    map { $ENV{"TEST_NGINX_$_"} } qw(INJ_ID INJ_ID2 INJ_REP INJ_ERR INJ_SEN INJ_SEN_ERR);

# the checks themselves fail on what they are to find
Test::More::ok(!eval { StatusPage::json_strict('{"up":true,"up":""}') },
               'the strict parse refuses a key twice');
Test::More::is_deeply([StatusPage::foreign_markup(
                           q{<p><code><svg x='a' onload=x></code></p>})],
                      ['attribute onload', 'attribute x', 'element svg'],
                      'markup not of the module is found');
my $bad = "$ENV{TEST_NGINX_SERVROOT}/html/bad.html";
open my $fh, '>', $bad or die "$bad: $!";
print {$fh} "<title>t</title><svg onload=document.title=/ran/.source></svg>\n";
close $fh;
Test::More::like(StatusPage::chromium_render("file://$bad")->{dom},
                 qr{<title>ran</title>}, 'the browser runs what it is given');

# every server and Sentinel probed a few times (the JSON read leniently)
StatusPage::wait_status(sub {
    for my $name (qw(redis_rw redis_ro)) {
        my $u = StatusPage::upstream($_[0], $name) or return;
        for my $port ($ID, $ID2, $REP, $ERR) {
            my $s = StatusPage::server_of($u, $port) or return;
            return unless $s->{probes} >= 2;
        }
    }
    my %s = map { $_->{address} => $_ }
            @{ StatusPage::upstream($_[0], 'redis_watch')->{sentinels} };
    return $s{"127.0.0.1:$SEN"}{names} && $s{"127.0.0.1:$SENERR"}{error};
}, 30, 'every hostile server and Sentinel to be probed');

# JSON: strictly valid, each text as the server sent it (printable)
my $res = StatusPage::get_status(query => 'format=json');
my $json = eval { StatusPage::json_strict($res->{content}) };
Test::More::ok($json, 'the JSON parses strictly: no key twice') or Test::More::diag($@);
$json //= JSON::PP::decode_json($res->{content});

(my $printable = $hostile_error) =~ s/[^\x20-\x7e]/?/g;
for my $name (qw(redis_rw redis_ro)) {
    my $u = StatusPage::upstream($json, $name);
    my ($id, $id2, $rep, $err) = map { StatusPage::server_of($u, $_) } $ID, $ID2, $REP, $ERR;
    Test::More::is_deeply(
        [map { [$_->{up}, $_->{error}, $_->{replid}, $_->{replid2}] } $id, $id2],
        [[JSON::PP::false, 'INFO: protocol error: master_replid is not 40 hex digits', '', ''],
         [JSON::PP::false, 'INFO: protocol error: master_replid2 is not 40 hex digits', '', '']],
        "$name: a replication id that is not one fails the probe, named, not quoted");
    Test::More::is($err->{error}, "PING: $printable", "$name: the error text, printable");
    Test::More::ok(!$err->{up}, "$name: and its server down");
    Test::More::is($rep->{follows},
                   '"><img src=x onerror=document.title=/img/.source>:6379',
                   "$name: the replica's master_host as it sent it");
    Test::More::ok($rep->{up}, "$name: a replica with its ids right is up");
    Test::More::is($rep->{replid}, '2b2b2b2b', "$name: its replid");
}
my %sen = map { $_->{address} => $_ }
          @{ StatusPage::upstream($json, 'redis_watch')->{sentinels} };
Test::More::is($sen{"127.0.0.1:$SEN"}{names}, '<svg/onload=document.title=/sen/.source>:6379',
               'the host a Sentinel names, as it sent it');
Test::More::is($sen{"127.0.0.1:$SENERR"}{error}, "SENTINEL: $printable",
               'a Sentinel\'s error, printable');

# HTML: only the module's markup; the texts escaped once
my $html = StatusPage::get_status(query => 'format=html')->{content};
Test::More::is_deeply([StatusPage::foreign_markup($html)], [],
                      'the HTML has no markup but the module\'s');
(my $escaped = $printable) =~ s/'/&#39;/g;
Test::More::ok(index($html, "<td class=\"err\">PING: $escaped</td>") >= 0,
               'the error text in its cell, its quote escaped once');
Test::More::ok(index($html, '&lt;svg/onload=document.title=/sen/.source&gt;:6379') >= 0,
               'the host a Sentinel names, escaped');
Test::More::unlike($html, qr/&amp;(?:#39|lt|gt|quot|amp);/, 'nothing escaped twice');

# the browser: the page's own title and elements, no script run
my $page = StatusPage::chromium_render(StatusPage::status_url());
my ($title) = $page->{dom} =~ m{<title>(.*?)</title>}s;
Test::More::is($title, 'Redis masters', 'the rendered page keeps its title: no script ran');
Test::More::is_deeply([StatusPage::foreign_markup($page->{dom})], [],
                      'the DOM has no element or attribute but the module\'s');
Test::More::like($page->{dom}, qr{<td class="err">\QPING: $printable\E</td>},
                 'the error shows as text');
Test::More::is_deeply($page->{console}, [], 'no console message');

# Prometheus: no server text, promtool's approval
my $prom = StatusPage::get_status(query => 'format=prometheus')->{content};
my ($rc, $out) = StatusPage::promtool_check($prom);
Test::More::is($rc, 0, 'promtool check metrics accepts it') or Test::More::diag($out);
Test::More::is($out, '', 'without a lint warning');
Test::More::unlike($prom, qr/onload|onerror|<|"up"/, 'no text of the servers');

# the error log: the reasons, printable, one line each
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ERR in upstream \S+ probe failed: \QPING: $printable\E$/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ID in upstream \S+ probe failed: INFO: protocol error: master_replid is not 40 hex digits$/);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$ID2 in upstream \S+ probe failed: INFO: protocol error: master_replid2 is not 40 hex digits$/);
my $log = do { local (@ARGV, $/) = (TestRM::error_log()); <> };
my @module = grep { /\] \d+#\d+: (?:\*\d+ )?redis (?:check|sentinel|link):/ } split /\n/, $log;
Test::More::cmp_ok(scalar @module, '>', 0, 'the module logged');
Test::More::is_deeply([grep { /[^\x20-\x7e]/ } @module], [],
                      'the module\'s lines have no byte but printable ones');
Test::More::unlike($log, qr/^\[notice\] forged/m, 'no line forged by a server');
Test::More::ok(index($log, "<svg x='") < 0 && index($log, '","up":"') < 0,
               'nothing of the refused ids');
--- request
GET /redis/?format=json
--- response_body_unlike: "replid2":"[^"]*","up"
--- no_error_log
[alert]
[crit]



=== TEST 9: a replication id is 40 hex digits: 39, 41, or one character not a hex digit fail the probe, with a reason that quotes nothing
--- stream_config
    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_B40;
        server 127.0.0.1:$TEST_NGINX_B39;
        server 127.0.0.1:$TEST_NGINX_B41;
        server 127.0.0.1:$TEST_NGINX_BNX;
        server 127.0.0.1:$TEST_NGINX_B2_41;
        server 127.0.0.1:$TEST_NGINX_BFLIP;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_ro {
        server 127.0.0.1:$TEST_NGINX_B40;
        server 127.0.0.1:$TEST_NGINX_B39;
        server 127.0.0.1:$TEST_NGINX_B41;
        server 127.0.0.1:$TEST_NGINX_BNX;
        server 127.0.0.1:$TEST_NGINX_B2_41;
        redis_replica;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my %port = map { $_ => $ENV{"TEST_NGINX_\U$_"} } qw(b40 b39 b41 bnx b2_41);
my $json = StatusPage::wait_status(sub {
    for my $name (qw(redis_rw redis_ro)) {
        my $u = StatusPage::upstream($_[0], $name) or return;
        for my $port (values %port) {
            my $s = StatusPage::server_of($u, $port) or return;
            return unless $s->{probes} >= 2;
        }
    }
    my $f = StatusPage::server_of(StatusPage::upstream($_[0], 'redis_rw'), $ENV{TEST_NGINX_BFLIP});
    return $f && $f->{up};
}, 30, 'every server to be probed twice, the replica with its ids right up');

my $reason = 'INFO: protocol error: master_replid is not 40 hex digits';
for my $name (qw(redis_rw redis_ro)) {
    my $u = StatusPage::upstream($json, $name);
    my %s = map { $_ => StatusPage::server_of($u, $port{$_}) } keys %port;
    Test::More::is_deeply(
        [@{ $s{b40} }{qw(state error replid)}], ['up', undef, substr($replid{b40}, 0, 8)],
        "$name: 40 hex digits: up, its replid kept");
    for my $b (qw(b39 b41 bnx)) {
        Test::More::is_deeply([@{ $s{$b} }{qw(state up error replid)}],
                              ['down', JSON::PP::false, $reason, ''],
                              "$name: $b: down, the reason names the field");
    }
    Test::More::is_deeply([@{ $s{b2_41} }{qw(state up error replid replid2)}],
                          ['down', JSON::PP::false, "${reason}" =~ s/replid /replid2 /r, '', ''],
                          "$name: a master_replid2 of 41: down too");
    Test::More::is($u->{master}, "127.0.0.1:$port{b40}", "$name: the one with its ids right is the master");
}

my $prom = StatusPage::get_status(query => 'format=prometheus')->{content};
for my $b (sort keys %port) {
    my ($up) = $prom =~ /^redis_master_server_up\{upstream="redis_rw",server="127\.0\.0\.1:$port{$b}"\} (\d)$/m;
    Test::More::is($up, $b eq 'b40' ? 1 : 0, "the exposition: $b " . ($b eq 'b40' ? 'up' : 'down'));
}

for my $b (qw(b39 b41 bnx b2_41)) {
    my $field = $b eq 'b2_41' ? 'master_replid2' : 'master_replid';
    TestRM::wait_error_log(qr/server 127\.0\.0\.1:$port{$b} in upstream \S+ probe failed: INFO: protocol error: $field is not 40 hex digits$/);
}
# a server that was up, then sends an id that is not one, goes down as
# for any bad reply, after fall= failed probes
my $F = $ENV{TEST_NGINX_BFLIP};
$bflip->stop;
$bflip = start_hostile(port => $F, mode => 'inject', role => 'slave',
                       master_host => '127.0.0.1', replid => substr('a7' x 20, 0, 39),
                       replid2 => '0' x 40);
TestRM::wait_error_log(qr/server 127\.0\.0\.1:$F in upstream \S+ is down: \Q$reason\E$/, 20);
my $f = StatusPage::server_of(StatusPage::upstream(StatusPage::status_json(), 'redis_rw'), $F);
Test::More::is_deeply([@{$f}{qw(state up error)}], ['down', JSON::PP::false, $reason],
                      'a replica that was up is down once its id is not one');

my $log = do { local (@ARGV, $/) = (TestRM::error_log()); <> };
my @quoted = grep { index($log, $_) >= 0 } qw(a1a1a1a1 b2b2b2b2 c3c3c3c3 d4d4d4d4 e5e5e5e5 a7a7a7a7);
Test::More::is_deeply(\@quoted, [], 'the log quotes no id');
--- request
GET /redis/?format=json
--- response_body_like: "name":"redis_ro"
--- no_error_log
[alert]
[crit]



=== TEST 10: servers a redis_server name brings: listed at their seats' addresses with their name, seats without an address not at all, the names' resolutions in each format, a name's text escaped as any other
--- stream_config
    resolver 127.0.0.1:$TEST_NGINX_DNS valid=1s ipv6=off;

    upstream redis_rw {
        server 127.0.0.1:$TEST_NGINX_M10;
        redis_server r10.test:$TEST_NGINX_R10 max_servers=2;
        redis_server gone10.test:$TEST_NGINX_R10 max_servers=3;
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
    upstream redis_hostile {
        redis_server "<b>&\"'\\x.test:$TEST_NGINX_H10" max_servers=1;
        redis_server "<img src=x onerror=document.title=1>\"\n# TYPE x gauge\n.test:$TEST_NGINX_H10";
        redis_master;
        redis_check interval=200ms timeout=500ms;
    }
--- stream_server_config
    proxy_pass redis_rw;
--- init
my ($M, $R, $H) = map { $ENV{"TEST_NGINX_$_"} } qw(M10 R10 H10);
my $markup = "$markup10:$H";
my $lf = qq{<img src=x onerror=document.title=1>"\n# TYPE x gauge\n.test:$H};

my $json = StatusPage::wait_status(sub {
    my $rw = StatusPage::upstream($_[0], 'redis_rw') or return;
    my $h = StatusPage::upstream($_[0], 'redis_hostile') or return;
    my $r = StatusPage::server_of($rw, $R);
    my %n = map { $_->{name} => $_ } @{ $rw->{names} // [] }, @{ $h->{names} // [] };
    return $r && $r->{place} eq 'follower' && $h->{master}
           && $n{"gone10.test:$R"} && defined $n{"gone10.test:$R"}{error}
           && $n{$lf} && $n{$lf}{resolutions} >= 1;
}, 30, 'the name\'s replica to follow the master, the hostile name\'s master, the other names tried');

my $rw = StatusPage::upstream($json, 'redis_rw');
Test::More::is_deeply([map { $_->{address} } @{ $rw->{servers} }],
                      ["127.0.0.1:$M", "127.0.0.1:$R"],
                      'the servers: the static one and the one address of r10.test; no seat without an address');
my ($sm, $sr) = map { StatusPage::server_of($rw, $_) } $M, $R;
Test::More::is_deeply([@{$sr}{qw(server name address state role place)}],
                      ["r10.test:$R", "r10.test:$R", "127.0.0.1:$R", 'up', 'replica', 'follower'],
                      'the server the name brought: its name, its seat\'s address, as any server');
Test::More::ok(!exists $sm->{name}, 'a server listed by address has no "name"');
Test::More::is($rw->{master}, "127.0.0.1:$M", 'the master');

my %names = map { $_->{name} => $_ } @{ $rw->{names} };
Test::More::is_deeply([map { $_->{name} } @{ $rw->{names} }],
                      ["r10.test:$R", "gone10.test:$R"], 'the names, in configuration order');
my ($n, $g) = @names{"r10.test:$R", "gone10.test:$R"};
Test::More::is_deeply([@{$n}{qw(addresses max_servers failures error cut)}],
                      [["127.0.0.1:$R"], 2, 0, undef, 0],
                      'r10.test: its address, its bound, no failure, no error');
Test::More::cmp_ok($n->{resolutions}, '>=', 1, 'r10.test: resolved');
Test::More::ok(defined $n->{resolved} && $n->{resolved} >= 0 && $n->{resolved} <= 10,
               'r10.test: seconds since its last answer');
Test::More::is_deeply([@{$g}{qw(addresses max_servers error)}],
                      [[], 3, 'Host not found'],
                      'gone10.test: no address, the resolver\'s words for NXDOMAIN');
Test::More::ok(defined $g->{resolved}, 'gone10.test: an answer without an address is an answer');

# Prometheus: the servers by address, the names by name
my $prom = StatusPage::get_status(query => 'format=prometheus')->{content};
my ($rc, $out) = StatusPage::promtool_check($prom);
Test::More::is($rc, 0, 'promtool check metrics accepts it') or Test::More::diag($out);
Test::More::is($out, '', 'without a lint warning') or Test::More::diag($out);
my %want = (
    qq{redis_master_name_servers{upstream="redis_rw",name="r10.test:$R"}} => 1,
    qq{redis_master_name_servers{upstream="redis_rw",name="gone10.test:$R"}} => 0,
    qq{redis_master_name_resolution_failures_total{upstream="redis_rw",name="r10.test:$R"}} => 0,
    qq{redis_master_server_up{upstream="redis_rw",server="127.0.0.1:$R"}} => 1,
    qq{redis_master_is_master{upstream="redis_rw",server="127.0.0.1:$M"}} => 1,
);
for my $sample (sort keys %want) {
    my ($value) = $prom =~ /^\Q$sample\E (\S+)$/m;
    Test::More::is($value, $want{$sample}, $sample);
}
Test::More::like($prom, qr/^redis_master_name_resolutions_total\{upstream="redis_rw",name="r10\.test:$R"\} [1-9]\d*$/m,
                 'the resolutions counted');
for my $metric (qw(redis_master_name_resolutions_total redis_master_name_resolution_failures_total)) {
    Test::More::like($prom, qr/^# TYPE $metric counter$/m, "$metric is a counter");
}
Test::More::like($prom, qr/^# TYPE redis_master_name_servers gauge$/m, 'redis_master_name_servers is a gauge');
my @up = $prom =~ /^redis_master_server_up\{upstream="redis_rw",server="([^"]+)"\}/mg;
Test::More::is_deeply(\@up, ["127.0.0.1:$M", "127.0.0.1:$R"], 'the exposition: each server once, by address');

# HTML: the Names table, the server's name
my $html = StatusPage::get_status(query => 'format=html')->{content};
my @rows = $html =~ /<div class="srv [a-z]+" data-address="([^"]+)">/g;
Test::More::is_deeply([sort @rows], [sort "127.0.0.1:$M", "127.0.0.1:$R", "127.0.0.1:$H"],
                      'the page: the servers by address, no seat without one');
Test::More::like($html, qr{<div class="srv follower" data-address="127\.0\.0\.1:$R"><div class="addr">127\.0\.0\.1:$R</div><table class="kv"><tr><td>name</td><td class="name">r10\.test:$R</td></tr>},
                 'the server the name brought, with its name');
Test::More::like($html, qr{<h3>Names</h3>}, 'a Names table');
Test::More::like($html, qr{<tr><td class="addr">r10\.test:$R</td><td>127\.0\.0\.1:$R \(max_servers=2\)</td><td>\d+ s ago</td><td>\d+ / 0</td><td class="err"></td></tr>},
                 'r10.test: its address, when it resolved, no error')
    or Test::More::diag($html =~ m{(<h3>Names</h3>.*?</table>)}s);
Test::More::like($html, qr{<tr><td class="addr">gone10\.test:$R</td><td>&mdash; \(max_servers=3\)</td><td>\d+ s ago</td><td>\d+ / 0</td><td class="err">Host not found</td></tr>},
                 'gone10.test: no address, its error')
    or Test::More::diag($html =~ m{(<h3>Names</h3>.*?</table>)}s);

# a name's text is the configuration's: escaped once in each format
my $h = StatusPage::upstream($json, 'redis_hostile');
my %hn = map { $_->{name} => $_ } @{ $h->{names} };
Test::More::is_deeply([sort keys %hn], [sort $markup, $lf], 'JSON: the names as written');
Test::More::is_deeply($hn{$markup}{addresses}, ["127.0.0.1:$H"], 'the name of markup resolves');
Test::More::is_deeply([map { [$_->{server}, $_->{name}, $_->{address}] } @{ $h->{servers} }],
                      [[$markup, $markup, "127.0.0.1:$H"]], 'and brings its server');
Test::More::is($h->{master}, "127.0.0.1:$H", 'its master, by address');
Test::More::is_deeply($hn{$lf}{addresses}, [], 'the name with a line feed brings none');
my $strict = eval { StatusPage::json_strict(StatusPage::get_status(query => 'format=json')->{content}) };
Test::More::ok($strict, 'the JSON parses strictly') or Test::More::diag($@);

Test::More::is_deeply([StatusPage::foreign_markup($html)], [], 'the HTML has no markup but the module\'s');
Test::More::ok(index($html, '<td class="name">&lt;b&gt;&amp;&quot;&#39;\x.test:' . $H . '</td>') >= 0,
               'HTML: the name of markup escaped, in its server');
Test::More::ok(index($html, '<td class="addr">&lt;img src=x onerror=document.title=1&gt;&quot;' . "\n") >= 0,
               'HTML: the name with a line feed escaped, in the Names table');
my $page = StatusPage::chromium_render(StatusPage::status_url());
my ($title) = $page->{dom} =~ m{<title>(.*?)</title>}s;
Test::More::is($title, 'Redis masters', 'the rendered page keeps its title: no script ran');
Test::More::is_deeply([StatusPage::foreign_markup($page->{dom})], [],
                      'the DOM has no element or attribute but the module\'s');

Test::More::ok(index($prom, qq{redis_master_name_servers{upstream="redis_hostile",name="<b>&\\"'\\\\x.test:$H"} 1\n}) >= 0,
               'Prometheus: the name of markup, its quote and backslash escaped');
Test::More::ok(index($prom, qq{redis_master_name_servers{upstream="redis_hostile",name="<img src=x onerror=document.title=1>\\"\\n# TYPE x gauge\\n.test:$H"} 0\n}) >= 0,
               'Prometheus: the line feeds of a name escaped');
Test::More::unlike($prom, qr/^# TYPE x /m, 'no line forged by a name');
Test::More::unlike($prom, qr/server="[^"]*\.test/, 'no server labelled by its name');

# the name moves: its server is the new address, the old one is gone
$dns->set('r10.test' => '127.0.0.2');
my $moved = StatusPage::wait_status(sub {
    my $n = StatusPage::upstream($_[0], 'redis_rw')->{names}[0];
    return ($n->{addresses}[0] // '') eq "127.0.0.2:$R";
}, 20, 'r10.test to move');
my $rw2 = StatusPage::upstream($moved, 'redis_rw');
Test::More::is_deeply([map { [$_->{address}, $_->{name} // ''] } @{ $rw2->{servers} }],
                      [["127.0.0.1:$M", ''], ["127.0.0.2:$R", "r10.test:$R"]],
                      'after the move: the server at its new address, the old one not listed');
Test::More::ok(!StatusPage::server_of($rw2, $R), 'nothing at the old address');
--- request
GET /redis/?format=json
--- response_body_like: "names":\[\{"name":"r10\.test:\d+","addresses":\["127\.0\.0\.[12]:\d+"\]
--- no_error_log
[alert]
[crit]

