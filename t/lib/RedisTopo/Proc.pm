# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# ===========================================================================
# RedisTopo::Proc - common base: a child process tracked by pid
# ===========================================================================

package RedisTopo::Proc;

use strict;
use warnings;
use Time::HiRes ();
use RedisTopo ();
use POSIX qw(WNOHANG);
use Carp qw(croak);

sub pid  { $_[0]{pid} }
sub port { $_[0]{port} }
sub dir  { $_[0]{dir} }

# Reap without blocking; true if the process is gone.
sub _reap {
    my ($self) = @_;
    return 1 if $self->{reaped};
    local $?;
    my $r = waitpid $self->{pid}, WNOHANG;
    if ($r == $self->{pid}) {
        $self->{reaped} = 1;
        $self->{exit_status} = $?;
        return 1;
    }
    if ($r == -1 && !kill 0, $self->{pid}) {    # not our child / already reaped
        $self->{reaped} = 1;
        return 1;
    }
    return 0;
}

# alive(): the process exists (running or SIGSTOPped) and is not a zombie.
sub alive { !$_[0]->_reap }

# stop(): TERM (plus CONT, in case it is SIGSTOPped), wait up to 5 s, then
# KILL and wait.  Idempotent.
sub stop {
    my ($self) = @_;
    return 1 if $self->{stopped};
    if ($self->alive) {
        kill 'TERM', $self->{pid};
        kill 'CONT', $self->{pid};
        my $deadline = Time::HiRes::time() + 5;
        while ($self->alive && Time::HiRes::time() < $deadline) {
            Time::HiRes::sleep(0.02);
        }
        if ($self->alive) {
            kill 'KILL', $self->{pid};
            RedisTopo::wait_until(sub { !$self->alive }, 5,
                                  "pid $self->{pid} to die after SIGKILL");
        }
    }
    $self->{stopped} = 1;
    return 1;
}

# kill9(): SIGKILL and reap at once.
sub kill9 {
    my ($self) = @_;
    return 1 if $self->{stopped} || !$self->alive;
    kill 'KILL', $self->{pid};
    RedisTopo::wait_until(sub { !$self->alive }, 5,
                          "pid $self->{pid} to die after SIGKILL");
    $self->{stopped} = 1;
    return 1;
}

# sigstop()/sigcont(): freeze / thaw; return once /proc shows the new state.
sub sigstop {
    my ($self) = @_;
    kill 'STOP', $self->{pid} or croak "kill STOP $self->{pid}: $!";
    RedisTopo::wait_until(sub {
        my $st = RedisTopo::_proc_stat($self->{pid});
        $st && $st->{state} eq 'T';
    }, 5, "pid $self->{pid} to be stopped");
    return 1;
}

sub sigcont {
    my ($self) = @_;
    kill 'CONT', $self->{pid} or croak "kill CONT $self->{pid}: $!";
    RedisTopo::wait_until(sub {
        my $st = RedisTopo::_proc_stat($self->{pid});
        !$st || $st->{state} ne 'T';
    }, 5, "pid $self->{pid} to continue");
    return 1;
}

1;
