# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Self-test of t/lib/RedisTopo.pm (and of t/lib/Scenario.pm's actions)
# against real redis-server processes.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);
use RedisTopo qw(:all);

plan skip_all => 'redis-server/redis-cli not installed'
    unless -x $RedisTopo::REDIS_SERVER && -x $RedisTopo::REDIS_CLI;

my @pids;    # every pid started, checked at the end

# Connect to 127.0.0.1:PORT.
sub connect_to {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 2)
        or die "connect to $port: $!";
    $s->autoflush(1);
    return $s;
}

# Read whatever arrives within TIMEOUT seconds, stopping once WANT bytes
# arrived (if given) or at EOF.  Returns the bytes read ('' on silence).
# With WANT, TIMEOUT is a deadline and is scaled (TEST_NGINX_TIMEOUT_SCALE);
# without it, it is a window of silence and is not.
sub read_for {
    my ($sock, $timeout, $want) = @_;
    my $buf = '';
    $timeout = scaled($timeout) if defined $want;
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($sock);
    while ((my $left = $deadline - time) > 0) {
        last if defined $want && length $buf >= $want;
        $sel->can_read($left) or next;
        my $n = sysread $sock, $buf, 65536, length $buf;
        last unless $n;
    }
    return $buf;
}

# True once the peer has closed SOCK (EOF, or a reset), within the scaled
# TIMEOUT; whatever arrives before is discarded.
sub closed_within {
    my ($sock, $timeout) = @_;
    my $sel = IO::Select->new($sock);
    my $deadline = time + scaled($timeout);
    while ((my $left = $deadline - time) > 0) {
        $sel->can_read($left) or next;
        my $n = sysread $sock, my $buf, 65536;
        return 1 if !$n;
    }
    return 0;
}

# --- free_port ------------------------------------------------------------
{
    my %seen;
    my @ports = map { free_port() } 1 .. 20;
    $seen{$_}++ for @ports;
    is scalar(keys %seen), 20, 'free_port never repeats';
}

# --- master + replica -----------------------------------------------------
my $master = start_redis();
push @pids, $master->pid;
ok $master->alive, 'master started, pid ' . $master->pid;
is $master->role, 'master', 'master role';

my $replica = start_redis(replicaof => $master->port);
push @pids, $replica->pid;
is $replica->role, 'slave', 'replica role is slave';
is $replica->info('replication')->{master_link_status}, 'up', 'replica link up';
is $replica->info('replication')->{master_port}, $master->port,
    'replica points at the master';

is $master->cmd(qw(SET topo:k hello)), 'OK', 'SET through master';
is $master->cmd(qw(GET topo:k)), 'hello', 'GET through master';
wait_until(sub { $replica->cmd(qw(GET topo:k)) eq 'hello' }, 5,
           'topo:k to reach the replica');
pass 'value replicated';

# --- auth ---------------------------------------------------------------
{
    my $auth = start_redis(requirepass => 's3cret');
    push @pids, $auth->pid;
    is $auth->cmd('PING'), 'PONG', 'requirepass server answers with -a';
    is $auth->cmd(qw(ACL SETUSER topo on >pw ~* +@all)), 'OK', 'ACL user created';
    $auth->set_auth(user => 'topo', pass => 'pw');
    is $auth->cmd(qw(ACL WHOAMI)), 'topo', 'set_auth(user, pass) used by cmd';
    $auth->stop;
    ok !$auth->alive, 'stop() stops a server';
    ok $auth->stop, 'stop() is idempotent';
}

# --- wait_log / log_size ----------------------------------------------------
{
    $replica->cmd(qw(CONFIG SET loglevel verbose));
    my $off = log_size($replica->log_file);
    my $c = connect_to($replica->port);    # verbose logs "Accepted" lines
    my $lport = $c->sockport;
    my $line = wait_log($replica->log_file, qr/Accepted 127\.0\.0\.1:$lport\b/,
                        5, $off);
    like $line, qr/Accepted/, 'wait_log finds a new log line';
    eval { wait_log($replica->log_file, qr/Accepted 127\.0\.0\.1:$lport\b/,
                    0.2, log_size($replica->log_file)) };
    like $@, qr/timed out/, 'wait_log ignores lines before FROM_OFFSET';
    close $c;
    eval { wait_log($replica->log_file, qr/no such line ever/, 0.2) };
    like $@, qr/timed out after [\d.]+s \(0\.2s x TEST_NGINX_TIMEOUT_SCALE [\d.]+\) waiting for/,
        'wait_log times out';
    eval { wait_until(sub { 0 }, 0.1, 'nothing') };
    like $@, qr/^timed out after [\d.]+s \(0\.1s x TEST_NGINX_TIMEOUT_SCALE [\d.]+\) waiting for nothing/,
        'wait_until dies';
    my $t0 = time;
    eval { wait_until(sub { 0 }, 0.1, 'nothing') };
    cmp_ok time - $t0, '>=', scaled(0.1) - 0.01,
        'wait_until waits the deadline times TEST_NGINX_TIMEOUT_SCALE';
    is wait_until(sub { 42 }, 1, 'x'), 42, 'wait_until returns the value';
}

# --- relay --------------------------------------------------------------
{
    my $relay = start_relay(to => $master->port);
    push @pids, $relay->pid;
    my $s = connect_to($relay->port);
    print {$s} "PING\r\n";
    is read_for($s, 2, 7), "+PONG\r\n", 'PING through the relay';

    $relay->pause;
    is $relay->stats->{state}, 'paused', 'relay acknowledged pause';
    print {$s} "PING\r\n";
    is read_for($s, 1), '', 'paused relay: no answer within 1 s';
    my $s2 = connect_to($relay->port);    # lands in the backlog
    print {$s2} "PING\r\n";
    is read_for($s2, 0.3), '', 'paused relay: new connection gets silence';

    $relay->resume;
    is read_for($s, 2, 7), "+PONG\r\n", 'resumed: the held PING is answered';
    is read_for($s2, 2, 7), "+PONG\r\n", 'resumed: the new connection works';

    $relay->cut;
    ok closed_within($s, 2), 'cut: connection closed (EOF)';
    my $s3 = connect_to($relay->port);
    print {$s3} "PING\r\n";
    is read_for($s3, 2, 7), "+PONG\r\n", 'after cut the relay still listens';
    is $relay->stats->{accepted}, 3, 'relay counted 3 connections';
    close $_ for $s, $s2, $s3;
    $relay->stop;
    ok !$relay->alive, 'relay stopped';
}

# --- hostile backends -------------------------------------------------------
{
    my $ping = "*1\r\n\$4\r\nPING\r\n";
    my %want = (
        garbage   => "%%% this is not RESP at all\r\n",
        wrongtype => ":42\r\n:42\r\n",
        error     => "-ERR fake failure\r\n-ERR fake failure\r\n",
    );
    for my $mode (sort keys %want) {
        my $h = start_hostile(mode => $mode);
        push @pids, $h->pid;
        for my $round (1, 2) {    # sequential connections work
            my $s = connect_to($h->port);
            print {$s} $mode eq 'garbage' ? $ping : $ping x 2;
            is read_for($s, 2, length $want{$mode}), $want{$mode},
                "hostile $mode answers (connection $round)";
            close $s;
        }
    }

    my $huge = start_hostile(mode => 'huge');
    push @pids, $huge->pid;
    my $s = connect_to($huge->port);
    print {$s} $ping;
    my $got = read_for($s, 2, 200_000);
    like $got, qr/\A\$1073741824\r\nxxxx/, 'hostile huge: header then x stream';
    cmp_ok length $got, '>=', 200_000, 'hostile huge streams a lot';
    close $s;

    # the drip sends its first byte once it reads the request, and each
    # next one 300 ms after the previous one: the second byte cannot come
    # sooner than 300 ms after the request, however late we read
    my $drip = start_hostile(mode => 'drip');
    push @pids, $drip->pid;
    $s = connect_to($drip->port);
    my $t0 = time;
    print {$s} $ping;
    is read_for($s, 2, 2), '+P', 'hostile drip: the first two bytes arrive';
    cmp_ok time - $t0, '>=', 0.29,
        'hostile drip: the second byte comes 300 ms after the first';
    close $s;

    my $silence = start_hostile(mode => 'silence');
    push @pids, $silence->pid;
    $s = connect_to($silence->port);
    print {$s} $ping;
    wait_until(sub { $silence->stats->{accepted} }, 5,
               'hostile silence to accept the connection');
    is read_for($s, 0.5), '', 'hostile silence: nothing';
    ok $silence->alive, 'hostile silence still running';
    close $s;

    # a flooding fake stops at its bounds, whatever the peer does: bytes,
    # then seconds; subscribed, it answers PING as Redis does in RESP2
    my $subscribe = "*2\r\n\$9\r\nSUBSCRIBE\r\n\$6\r\n+sdown\r\n";
    my $until_quiet = sub {    # what comes until scaled(1) s of silence
        my ($sock) = @_;
        my ($buf, $sel) = ('', IO::Select->new($sock));
        my $deadline = time + scaled(30);
        while (time < $deadline) {
            $sel->can_read(scaled(1)) or return $buf;
            sysread($sock, $buf, 65536, length $buf) or return $buf;
        }
        die "the flood did not stop within " . scaled(30) . " s\n";
    };
    my $capped = start_hostile(mode => 'sentinel-chatty', flood_bytes => 1 << 20);
    push @pids, $capped->pid;
    $s = connect_to($capped->port);
    print {$s} $subscribe;
    my $flood = $until_quiet->($s);
    cmp_ok length $flood, '>=', 1 << 20, 'hostile flood: up to its bound';
    cmp_ok length $flood, '<=', (1 << 20) + 65536, 'hostile flood: not past it';
    is $capped->stats->{sent}, length $flood, 'hostile flood: counted in stats';
    print {$s} $ping;
    is read_for($s, 2, 16), "*2\r\n\$4\r\npong\r\n\$0\r\n\r\n",
        'hostile sentinel: PING once subscribed';
    close $s;

    my $brief = start_hostile(mode => 'sentinel-chatty', flood_seconds => 1);
    push @pids, $brief->pid;
    $s = connect_to($brief->port);
    $t0 = time;
    print {$s} $subscribe;
    $flood = $until_quiet->($s);
    cmp_ok time - $t0, '>=', 1, 'hostile flood: lasts its seconds';
    cmp_ok length $flood, '>', 0, 'hostile flood: floods meanwhile';
    ok $brief->stats->{active}, 'hostile flood: over, the connection open';
    close $s;
}

# --- sentinel -----------------------------------------------------------
{
    my $sentinel = start_sentinel(monitor => ['topo', $master->port, 1]);
    push @pids, $sentinel->pid;
    is $sentinel->role, 'sentinel', 'sentinel role';
    my @addr = split /\n/,
        $sentinel->cmd(qw(SENTINEL get-master-addr-by-name topo));
    is_deeply \@addr, ['127.0.0.1', $master->port],
        'sentinel reports the master address';

    my $before = $master->count_calls('ping');
    $master->cmd('PING') for 1 .. 2;
    cmp_ok $master->count_calls('ping'), '>=', $before + 2, 'count_calls grows';
    is $master->count_calls('nosuchcommand'), 0, 'count_calls of unseen cmd is 0';
}

# --- signals: sigstop / sigcont / kill9 ---------------------------------
{
    my $r = start_redis();
    push @pids, $r->pid;
    $r->sigstop;
    my $s = connect_to($r->port);
    print {$s} "PING\r\n";
    is read_for($s, 0.3), '', 'SIGSTOPped server is silent';
    $r->sigcont;
    is read_for($s, 2, 7), "+PONG\r\n", 'SIGCONT: answer arrives';
    close $s;
    $r->kill9;
    ok !$r->alive, 'kill9 kills';
}

# --- Scenario: switchover, follow, kill and restart on the same port ---------
{
    require Scenario;
    my $m = start_redis();
    my $r1 = start_redis(replicaof => $m->port);
    my $r2 = start_redis(replicaof => $m->port);
    push @pids, map { $_->pid } $m, $r1, $r2;
    Scenario::switchover($r1, $m, $r2);
    is $r1->role, 'master', 'switchover: the replica is promoted';
    Scenario::follow($_, $r1) for $m, $r2;    # waits for the links
    is $_->info('replication')->{master_port}, $r1->port,
        'switchover: ' . $_->port . ' follows the new master'
        for $m, $r2;
    my $port = $r1->port;
    Scenario::kill_master($r1);
    ok !$r1->alive, 'kill_master kills';
    my $again = Scenario::restart($r1);
    push @pids, $again->pid;
    is $again->port, $port, 'restart: on the same port';
    is $again->cmd('PING'), 'PONG', 'restart: it answers';
}

# --- children_of ------------------------------------------------------------
{
    my %kids = map { $_ => 1 } children_of($$);
    ok $kids{ $master->pid } && $kids{ $replica->pid },
        'children_of($$) lists the redis servers';
}

# --- stop everything ------------------------------------------------------
stop_all();
for my $pid (@pids) {
    ok !kill(0, $pid) && !-e "/proc/$pid", "pid $pid is gone";
}
is_deeply [children_of($$)], [], 'no children left';

done_testing;
