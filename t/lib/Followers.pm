# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package Followers;

# Followers - the scenario steps of t/17-min-replicas.t, named: a master's
# replicas leave it or come back, a replica stops acknowledging, replicas
# are restarted one at a time, and the master's own view of them (its
# "slaveN:" lines) is read.  Waiting is always for a condition
# (RedisTopo::wait_until); the processes are RedisTopo's, stopped by pid.

use strict;
use warnings;

use Exporter qw(import);

use RedisTopo ();
use Scenario ();

our @EXPORT_OK = qw(
    leave come_back master_lists wait_listed acks_late rolling_restart
);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

# leave(DEAD_PORT, REPLICAS...): every replica follows a port where nothing
# listens: its link is down, and its master drops its "slaveN:" line.
sub leave {
    my ($dead, @replicas) = @_;
    Scenario::orphan($_, $dead) for @replicas;
    return @replicas;
}

# come_back(MASTER, REPLICAS...): every replica follows MASTER again, with
# its link up.
sub come_back {
    my ($master, @replicas) = @_;
    Scenario::follow($_, $master) for @replicas;
    return @replicas;
}

# master_lists(MASTER) -> list of { port, state, lag }: the master's own
# view of its replicas, from INFO replication.
sub master_lists {
    my ($master) = @_;
    my $info = $master->info('replication');
    my @lines;
    for my $key (sort grep { /^slave\d+$/ } keys %$info) {
        my %f = map { split /=/, $_, 2 } split /,/, $info->{$key};
        push @lines, \%f;
    }
    return @lines;
}

# wait_listed(MASTER, N, [TIMEOUT]): until MASTER lists N online replicas.
sub wait_listed {
    my ($master, $n, $timeout) = @_;
    RedisTopo::wait_until(sub {
        (grep { ($_->{state} // '') eq 'online' } master_lists($master)) == $n
    }, $timeout // 10, "port " . $master->port . " to list $n online replicas");
}

# acks_late(MASTER, REPLICA, SECONDS, [TIMEOUT]): until MASTER reports a
# lag of at least SECONDS for REPLICA (stopped: it sends no REPLCONF ACK)
# while still listing it online.
sub acks_late {
    my ($master, $replica, $seconds, $timeout) = @_;
    RedisTopo::wait_until(sub {
        grep {
            ($_->{port} // 0) == $replica->port
            && ($_->{state} // '') eq 'online'
            && ($_->{lag} // 0) >= $seconds
        } master_lists($master)
    }, $timeout // 10,
       "the master to see no acknowledgement from port " . $replica->port
       . " for $seconds s");
}

# rolling_restart(MASTER, [REPLICAS], [between => CODE]): stop each replica
# and start it again on its port, following MASTER, one at a time, waiting
# for its link to be up and for MASTER to list it online before the next;
# CODE->(I) runs while replica I is down.  Returns the new servers.
sub rolling_restart {
    my ($master, $replicas, %opt) = @_;
    my @new;
    for my $i (0 .. $#$replicas) {
        my $r = $replicas->[$i];
        $r->stop;
        $opt{between}->($i) if $opt{between};
        push @new, RedisTopo::start_redis(port => $r->port,
                                          replicaof => $master->port);
        wait_listed($master, scalar @$replicas);
    }
    return @new;
}

1;
