# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# ===========================================================================
# RedisTopo::Relay - a forked TCP relay controlled by signals
# ===========================================================================

package RedisTopo::Relay;

use strict;
use warnings;
use RedisTopo ();
use RedisTopo::Proc ();
use IO::Socket::INET;
use IO::Select;
use POSIX qw(EINTR EAGAIN EWOULDBLOCK);
use Time::HiRes ();
use Carp qw(croak);
our @ISA = ('RedisTopo::Proc');

sub to { $_[0]{to} }

# stats(): { seq, state ('running'|'paused'), active, accepted } as last
# written by the relay.
sub stats { RedisTopo::_read_state($_[0]{state_file}) }

sub _wait_ack {
    my ($self, $want_state) = @_;
    my $seq = $self->{seq};
    RedisTopo::wait_until(sub {
        die "relay (pid $self->{pid}) died\n" unless $self->alive;
        my $st = $self->stats or return;
        $st->{seq} >= $seq && (!$want_state || $st->{state} eq $want_state);
    }, 5, "relay on port $self->{port} to acknowledge"
          . ($want_state ? " state '$want_state'" : ' a control signal'));
}

sub _control {
    my ($self, $sig, $want_state) = @_;
    croak "relay on port $self->{port} is not running" unless $self->alive;
    $self->{seq}++;
    kill $sig, $self->{pid} or croak "kill $sig $self->{pid}: $!";
    $self->_wait_ack($want_state);
    return 1;
}

# pause(): stop accepting and reading/writing on every connection (peers see
# silence, connections stay open).  resume(): undo.  cut(): close every
# current connection, keep listening.
sub pause  { $_[0]->_control('USR1', 'paused') }
sub resume { $_[0]->_control('USR2', 'running') }
sub cut    { $_[0]->_control('HUP') }


# ---------------------------------------------------------------------------
# The relay child
# ---------------------------------------------------------------------------
#
# Signals: USR1 = pause, USR2 = resume, HUP = cut; TERM (default) ends it.
# After handling a signal it rewrites its state file with the number of
# control signals handled so far, which the parent waits for.

sub _main {
    my ($to, $listener, $state_file, $parent) = @_;
    my %pending;
    $SIG{USR1} = sub { $pending{pause}++ };
    $SIG{USR2} = sub { $pending{resume}++ };
    $SIG{HUP}  = sub { $pending{cut}++ };

    $listener->blocking(0);
    my $paused   = 0;
    my $acked    = 0;
    my $accepted = 0;
    my %conns;    # id => { a => client, b => upstream, ab => buf, ba => buf, closing }
    my $next_id  = 0;
    my $limit    = 1 << 20;    # max bytes buffered per direction

    my $report = sub {
        RedisTopo::_write_state($state_file, join(' ', $acked,
            ($paused ? 'paused' : 'running'), scalar(keys %conns),
            $accepted) . "\n");
    };
    my $close = sub {
        my ($id) = @_;
        my $c = delete $conns{$id} or return;
        close $c->{a};
        close $c->{b};
    };
    $report->();

    while (1) {
        POSIX::_exit(0) if getppid() != $parent;    # the test went away

        # Apply control requests (delete is one op: no lost signal).
        my $changed = 0;
        if (my $n = delete $pending{pause})  { $paused = 1; $acked += $n; $changed = 1 }
        if (my $n = delete $pending{resume}) { $paused = 0; $acked += $n; $changed = 1 }
        if (my $n = delete $pending{cut}) {
            $close->($_) for keys %conns;
            $acked += $n;
            $changed = 1;
        }
        $report->() if $changed;

        my $rsel = IO::Select->new;
        my $wsel = IO::Select->new;
        my %by_fd;    # fileno => [id, side]
        unless ($paused) {
            $rsel->add($listener);
            for my $id (keys %conns) {
                my $c = $conns{$id};
                $by_fd{ fileno $c->{a} } = [$id, 'a'];
                $by_fd{ fileno $c->{b} } = [$id, 'b'];
                if (!$c->{closing}) {
                    $rsel->add($c->{a}) if length $c->{ab} < $limit;
                    $rsel->add($c->{b}) if length $c->{ba} < $limit;
                }
                $wsel->add($c->{b}) if length $c->{ab};
                $wsel->add($c->{a}) if length $c->{ba};
            }
        }
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, 0.2);
        next unless $r || $w;    # timeout or EINTR (a signal arrived)

        for my $fh (@{ $r || [] }) {
            if ($fh == $listener) {
                while (my $client = $listener->accept) {
                    $accepted++;
                    my $up = IO::Socket::INET->new(
                        PeerAddr => '127.0.0.1', PeerPort => $to,
                        Proto => 'tcp', Timeout => 2,
                    );
                    if (!$up) { close $client; next }    # peer sees a close
                    $client->blocking(0);
                    $up->blocking(0);
                    $conns{ ++$next_id } =
                        { a => $client, b => $up, ab => '', ba => '' };
                }
                $report->();
                next;
            }
            my $slot = $by_fd{ fileno $fh } or next;
            my ($id, $side) = @$slot;
            my $c = $conns{$id} or next;
            my $buf = $side eq 'a' ? 'ab' : 'ba';
            my $n = sysread $fh, $c->{$buf}, 65536, length $c->{$buf};
            next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
            if (!$n) {
                # EOF or error: flush what is buffered, then close both.
                $c->{closing} = 1;
                if (!length $c->{ab} && !length $c->{ba}) {
                    $close->($id);
                    $report->();
                }
            }
        }
        for my $fh (@{ $w || [] }) {
            my $slot = $by_fd{ fileno $fh } or next;
            my ($id, $side) = @$slot;
            my $c = $conns{$id} or next;
            my $buf = $side eq 'b' ? 'ab' : 'ba';
            my $n = syswrite $fh, $c->{$buf};
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                $close->($id);
                $report->();
                next;
            }
            substr($c->{$buf}, 0, $n, '');
            if ($c->{closing} && !length $c->{ab} && !length $c->{ba}) {
                $close->($id);
                $report->();
            }
        }
    }
}

1;
