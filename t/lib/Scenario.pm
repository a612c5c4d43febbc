# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package Scenario;

# Scenario - the actions a suite's blocks perform on a topology, named:
# promote a replica, repoint a server, switch over, kill the master and
# start it again on its port, cut a server off (a partition through a
# relay, or with the ACL), and run an action once nginx logs something;
# and the fixture steps a block starts with (a replica that follows its
# master, a relay that relays, Sentinels that know each other).  The
# blocks' "--- init" sections call these instead of repeating the Perl.  Waiting is
# always for a condition (RedisTopo::wait_until and the log waits); the
# processes are RedisTopo's, stopped by pid.

use strict;
use warnings;

use Carp qw(croak);
use POSIX ();
use Exporter qw(import);

use RedisTopo ();

our @EXPORT_OK = qw(
    promote replicate_from orphan switchover kill_master restart
    follow partition heal healed cut_off_by_acl when_logged sentinels_watching
);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

# promote(SERVER): REPLICAOF NO ONE.
sub promote {
    my ($s) = @_;
    $s->cmd('REPLICAOF', 'NO', 'ONE');
    return $s;
}

# replicate_from(SERVER, PORT): REPLICAOF 127.0.0.1 PORT (PORT may be a
# server object: then its address and port).
sub replicate_from {
    my ($s, $to) = @_;
    my $host = ref $to ? $to->host : '127.0.0.1';
    $to = $to->port if ref $to;
    $s->cmd('REPLICAOF', $host, $to);
    return $s;
}

# orphan(SERVER, DEAD_PORT): a replica of nobody (of a port where nothing
# listens), so that it never has a link up.
sub orphan { replicate_from(@_) }

# follow(REPLICA, MASTER, [TIMEOUT]): a fixture step: make REPLICA a
# replica of MASTER (a server object or a port) with its link up.  It is
# repointed only when it follows another port or none; either way the
# call returns once master_link_status is up.
sub follow {
    my ($s, $to, $timeout) = @_;
    $to = $to->port if ref $to;
    my $info = $s->info('replication');
    replicate_from($s, $to)
        unless ($info->{role} // '') eq 'slave'
               && ($info->{master_port} // 0) == $to;
    $s->wait_link_up($timeout);
    return $s;
}

# switchover(NEW, OLD, [OTHER_REPLICAS...]): promote the replica NEW, then
# make the old master OLD and every other replica replicas of NEW, in that
# order (the order the suites rely on: the new master is a master before
# the old one is demoted).
sub switchover {
    my ($new, $old, @others) = @_;
    promote($new);
    replicate_from($_, $new) for grep { defined } $old, @others;
    return $new;
}

# kill_master(SERVER): SIGKILL, reaped at once; the port stays free for
# restart().
sub kill_master { $_[0]->kill9; $_[0] }

# restart(SERVER, [START_REDIS OPTIONS]): a new redis-server on the port of
# SERVER (killed or stopped first if it still runs); returns the new one.
sub restart {
    my ($s, %opt) = @_;
    $s->stop if $s->alive;
    return RedisTopo::start_redis(%opt, port => $s->port);
}

# partition(RELAY) / heal(RELAY): the server behind RELAY is cut off from
# whoever reaches it through the relay (its connections go silent and stay
# open), then reachable again.
sub partition { $_[0]->pause; $_[0] }
sub heal      { $_[0]->resume; $_[0] }

# healed(RELAY): a fixture step: RELAY relays (resumed if it was paused).
sub healed {
    my ($relay) = @_;
    my $st = $relay->stats;
    $relay->resume if $st && $st->{state} eq 'paused';
    return $relay;
}

# sentinels_watching(NAME, MASTER, QUORUM, [N => 3], [REPLICAS => 1],
#                    [per => CODE]) -> list of Sentinels: start N Sentinels
# monitoring MASTER (a server object) under NAME, and wait until the first
# one knows REPLICAS replicas and its N-1 peers.  CODE->(I) gives the extra
# start_sentinel options of the I-th (from 1).
sub sentinels_watching {
    my ($name, $master, $quorum, %opt) = @_;
    my $n = $opt{N} // 3;
    my $want = $opt{REPLICAS} // 1;
    my @s = map {
        RedisTopo::start_sentinel(monitor => [$name, $master->port, $quorum],
                                  $opt{per} ? $opt{per}->($_) : ())
    } 1 .. $n;
    RedisTopo::wait_until(sub {
        my @replicas = grep { /^\d+$/ } split /\n/,
            $s[0]->cmd('SENTINEL', 'REPLICAS', $name);
        my $peers = $s[0]->cmd('SENTINEL', 'SENTINELS', $name);
        return (() = $peers =~ /^name$/mg) == $n - 1 && @replicas >= $want;
    }, 20, "the Sentinels of $name to discover the replicas and each other");
    return @s;
}

# cut_off_by_acl(SERVER, user => U, pass => P): a partition made with the
# ACL: from now on SERVER's own calls authenticate as U (a user with every
# right), the "default" user is switched off and its clients are killed,
# so the Sentinels and replicas (which come as "default") are cut off while
# a check user of its own still gets in.
sub cut_off_by_acl {
    my ($s, %opt) = @_;
    $s->set_auth(user => $opt{user}, pass => $opt{pass});
    $s->cmd('ACL', 'SETUSER', 'default', 'off');
    $s->cmd('CLIENT', 'KILL', 'USER', 'default');
    return $s;
}

# when_logged(REGEX, CODE, [FROM]): in a child, run CODE once REGEX shows in
# nginx's error log (after byte offset FROM); returns the child's pid.  For
# actions that must happen while nginx holds a client's connection.
sub when_logged {
    my ($re, $code, $from) = @_;
    require TestRM;    # loaded by every suite already
    my $pid = fork // croak "fork: $!";
    return $pid if $pid;
    eval { TestRM::wait_error_log($re, 10, $from); $code->() };
    POSIX::_exit($@ ? 1 : 0);
}

1;
