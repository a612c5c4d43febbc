# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# ===========================================================================
# RedisTopo::Hostile - a fake, misbehaving Redis
# ===========================================================================

package RedisTopo::Hostile;

use strict;
use warnings;
use RedisTopo ();
use RedisTopo::Proc ();
use IO::Socket::INET;
use IO::Select;
use POSIX qw(EINTR EAGAIN EWOULDBLOCK);
use Time::HiRes ();
our @ISA = ('RedisTopo::Proc');

sub mode  { $_[0]{mode} }

# stats(): { seq, state (the mode), active, accepted, sent, flooding }:
# sent is how many bytes of floods it wrote, all connections together,
# flooding how many connections it floods within their bounds, as last
# written (every 100 ms or so once it flooded)
sub stats { RedisTopo::_read_state($_[0]{state_file}) }

# What a flooding fake sends on one connection at most, and for how long:
# a flood ends with its connection (nginx stops at the end of each block)
# and, whatever nginx does, at these bounds (start_hostile's flood_bytes
# and flood_seconds), so that no peer of a suite floods without end.
our $FLOOD_BYTES   = 64 * 1024 * 1024;
our $FLOOD_SECONDS = 120;


# ---------------------------------------------------------------------------
# The hostile fake Redis child
# ---------------------------------------------------------------------------

# Count complete commands in $$bufref (RESP arrays or inline lines) and
# remove them from the buffer.
sub _take_commands {
    my ($bufref) = @_;
    my $count = 0;
    while (length $$bufref) {
        if ($$bufref =~ /\A\*(-?\d+)\r\n/) {
            my ($n, $pos) = ($1, $+[0]);
            my $complete = 1;
            for (1 .. ($n > 0 ? $n : 0)) {
                pos($$bufref) = $pos;
                if ($$bufref =~ /\G\$(\d+)\r\n/gc) {
                    my $end = pos($$bufref) + $1 + 2;
                    if ($end > length $$bufref) { $complete = 0; last }
                    $pos = $end;
                } elsif ($$bufref =~ /\G[^\r\n]*\r?\n/gc) {
                    $pos = pos($$bufref);    # malformed element: skip a line
                } else {
                    $complete = 0;
                    last;
                }
            }
            last unless $complete;
            substr($$bufref, 0, $pos, '');
            $count++;
        } elsif ($$bufref =~ s/\A([^\n]*)\n//) {
            my $line = $1;
            $count++ if $line =~ /\S/;
        } else {
            last;    # incomplete
        }
    }
    return $count;
}

# Take the complete RESP commands out of $$bufref: a list of [ARGS...].
sub _take_args {
    my ($bufref) = @_;
    my @cmds;
    while ($$bufref =~ /\A\*(\d+)\r\n/) {
        my ($n, $pos, @args) = ($1, $+[0]);
        for (1 .. $n) {
            pos($$bufref) = $pos;
            last unless $$bufref =~ /\G\$(\d+)\r\n/gc;
            my $start = pos($$bufref);
            last if $start + $1 + 2 > length $$bufref;
            push @args, substr($$bufref, $start, $1);
            $pos = $start + $1 + 2;
        }
        last if @args < $n;
        substr($$bufref, 0, $pos, '');
        push @cmds, \@args;
    }
    return @cmds;
}

sub _bulk { '$' . length($_[0]) . "\r\n$_[0]\r\n" }

# The replies of the hostile Sentinels and of 'echo' to one command.
sub _hostile_reply {
    my ($mode, $c, $args) = @_;
    my $cmd = uc($args->[0] // '');
    my $sub = lc($args->[1] // '');

    if ($cmd eq 'AUTH') {
        $c->{creds} = join ' ', @$args[1 .. $#$args];
        return "+OK\r\n";
    }

    my $creds = $c->{creds} // 'none';

    if ($cmd eq 'SENTINEL' && $sub eq 'get-master-addr-by-name') {
        return $mode eq 'echo' ? "*2\r\n" . _bulk($creds) . _bulk('6379')
                               : "*-1\r\n";
    }

    if ($cmd eq 'SENTINEL') {
        return "-ERR No such master with that name\r\n";
    }

    # a subscribed connection answers PING as Redis does in RESP2
    if ($cmd eq 'PING' && $c->{flood}) {
        return "*2\r\n" . _bulk('pong') . _bulk('');
    }

    if ($cmd eq 'SUBSCRIBE') {
        my $out = '';
        for my $i (1 .. $#$args) {
            $out .= "*3\r\n" . _bulk('subscribe') . _bulk($args->[$i])
                  . ":$i\r\n";
        }
        $c->{flood} = $mode;
        $c->{flood_since} = RedisTopo::_now();
        $c->{flooded} = 0;
        $c->{out_after} = $mode eq 'echo'
            ? "*3\r\n" . _bulk('message') . _bulk('+switch-master')
              . _bulk("mymaster $creds 6379 $creds 6380")
            : $mode eq 'sentinel-stall' ? "\$100\r\nonly a part"
            : $mode eq 'sentinel-endless' ? "\$99999999999\r\n"
            : '';
        return $out;
    }

    return "-ERR you sent me: $creds\r\n";
}

# The replies of 'inject' to one command: what the options given to
# start_hostile put in each place a server's text reaches (docs/status.md),
# never a secret.  Options:
#   error       every command but AUTH gets "-ERROR" (as a server: PING; as
#               a Sentinel: get-master-addr-by-name; SUBSCRIBE too)
#   role        INFO's role (default master); with "slave": master_host,
#               master_port (default 6379), the link up
#   replid, replid2   INFO's master_replid and master_replid2, as they are
#               (either left out when undef)
#   names       as a Sentinel, the master's host (port 6379) it names
sub _inject_reply {
    my ($opt, $args) = @_;
    my $cmd = uc($args->[0] // '');
    my $sub = lc($args->[1] // '');

    return "+OK\r\n" if $cmd eq 'AUTH';
    return "-$opt->{error}\r\n" if defined $opt->{error};
    return "+PONG\r\n" if $cmd eq 'PING';

    if ($cmd eq 'INFO' && $sub eq 'replication') {
        my $role = $opt->{role} // 'master';
        my @lines = ('# Replication', "role:$role");
        push @lines, "master_host:$opt->{master_host}",
                     'master_port:' . ($opt->{master_port} // 6379),
                     'master_link_status:up', 'master_last_io_seconds_ago:0',
                     'master_sync_in_progress:0', 'slave_repl_offset:0'
            if $role eq 'slave';
        push @lines, 'connected_slaves:0';
        push @lines, "master_replid:$opt->{replid}" if defined $opt->{replid};
        push @lines, "master_replid2:$opt->{replid2}"
            if defined $opt->{replid2};
        push @lines, 'master_repl_offset:0';
        return _bulk(join("\r\n", @lines) . "\r\n");
    }
    return _bulk("# Persistence\r\nloading:0\r\n") if $cmd eq 'INFO';

    if ($cmd eq 'SENTINEL' && $sub eq 'get-master-addr-by-name') {
        return defined $opt->{names}
            ? "*2\r\n" . _bulk($opt->{names}) . _bulk('6379') : "*-1\r\n";
    }
    return "-ERR No such master with that name\r\n" if $cmd eq 'SENTINEL';

    if ($cmd eq 'SUBSCRIBE') {
        return join '', map {
            "*3\r\n" . _bulk('subscribe') . _bulk($args->[$_]) . ":$_\r\n"
        } 1 .. $#$args;
    }

    return "-ERR unknown command\r\n";
}

# Whether connection $c floods now: a flooding mode, within its bounds.
sub _flooding {
    my ($c, $limits) = @_;
    return 0 unless $c->{flood} && $c->{flood} =~ /endless|nested|chatty/;
    return 0 if $c->{flooded} >= $limits->{bytes}
             || RedisTopo::_now() - $c->{flood_since} >= $limits->{seconds};
    return 1;
}

# An endless stream for a flooding Sentinel: 'x' after the endless bulk
# header, or arrays of 1024 elements nested 5 deep, whose leaves are ":1".
sub _flood_chunk {
    my ($c) = @_;
    return 'x' x 65536 if $c->{flood} eq 'sentinel-endless';
    return ("*3\r\n" . _bulk('message') . _bulk('+sdown')
            . _bulk('master mymaster 127.0.0.1 6379')) x 512
        if $c->{flood} eq 'sentinel-chatty';
    return '' unless $c->{flood} eq 'sentinel-nested';
    my $out = '';
    my $stack = $c->{stack} //= [];
    while (length $out < 65536) {
        if (@$stack < 5) {
            $out .= "*1024\r\n";
            push @$stack, 1024;
            next;
        }
        $out .= ":1\r\n";
        while (@$stack && --$stack->[-1] == 0) {
            pop @$stack;
        }
    }
    return $out;
}

sub _main {
    my ($mode, $limits, $listener, $state_file, $parent, $opt) = @_;
    $listener->blocking(0);
    my %conns;     # fileno => { fh, in, out, ... }
    my $accepted = 0;
    my $sent     = 0;    # bytes of floods written
    my $reported = 0;
    my $huge_len = 1073741824;
    my $drip     = "+PONG\r\n";
    my $report = sub {
        my $flooding = grep { _flooding($_, $limits) } values %conns;
        RedisTopo::_write_state($state_file,
            "0 $mode " . scalar(keys %conns) . " $accepted $sent $flooding\n");
        $reported = RedisTopo::_now();
    };
    $report->();

    while (1) {
        POSIX::_exit(0) if getppid() != $parent;    # the test went away

        my $now = RedisTopo::_now();
        my $timeout = 0.2;
        my $rsel = IO::Select->new($listener);
        my $wsel = IO::Select->new;
        for my $c (values %conns) {
            $rsel->add($c->{fh});
            $wsel->add($c->{fh})
                if length $c->{out} || ($c->{huge_left} && $c->{huge_left} > 0)
                   || _flooding($c, $limits);
            if (defined $c->{drip_at}) {
                my $d = $c->{drip_at} - $now;
                $timeout = $d < 0 ? 0 : $d if $d < $timeout;
            }
        }
        my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $timeout);

        for my $fh (@{ $r || [] }) {
            if ($fh == $listener) {
                while (my $s = $listener->accept) {
                    $s->blocking(0);
                    $accepted++;
                    $conns{ fileno $s } = { fh => $s, in => '', out => '' };
                }
                $report->();
                next;
            }
            my $c = $conns{ fileno $fh } or next;
            my $n = sysread $fh, my $data, 65536;
            next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
            if (!$n) {
                delete $conns{ fileno $fh };
                close $fh;
                $report->();
                next;
            }
            if ($mode eq 'garbage') {
                $c->{out} .= "%%% this is not RESP at all\r\n";
            } elsif ($mode eq 'wrongtype' || $mode eq 'error') {
                $c->{in} .= $data;
                my $cmds = _take_commands(\$c->{in});
                $c->{out} .= ($mode eq 'wrongtype' ? ":42\r\n"
                                                   : "-ERR fake failure\r\n")
                    x $cmds;
            } elsif ($mode eq 'huge') {
                if (!defined $c->{huge_left}) {
                    $c->{out} = "\$$huge_len\r\n";
                    $c->{huge_left} = $huge_len;
                }
            } elsif ($mode eq 'echo' || $mode =~ /^sentinel-/) {
                $c->{in} .= $data;
                $c->{out} .= _hostile_reply($mode, $c, $_)
                    for _take_args(\$c->{in});
                $c->{out} .= delete $c->{out_after}
                    if defined $c->{out_after};
            } elsif ($mode eq 'inject') {
                $c->{in} .= $data;
                $c->{out} .= _inject_reply($opt, $_)
                    for _take_args(\$c->{in});
            } elsif ($mode eq 'drip') {
                if (!defined $c->{drip_at}) {
                    $c->{drip_at}  = RedisTopo::_now();    # first byte right away
                    $c->{drip_pos} = 0;
                }
            }
            # 'silence': read and discard.
        }

        for my $fh (@{ $w || [] }) {
            my $c = $conns{ fileno $fh } or next;
            my $flood = !length $c->{out} && _flooding($c, $limits);
            $c->{out} = _flood_chunk($c) if $flood;
            if (!length $c->{out} && $c->{huge_left}) {
                # Refill the stream of 'x'; the final "\r\n" ends the bulk.
                my $chunk = $c->{huge_left} < 65536 ? $c->{huge_left} : 65536;
                $c->{out} = 'x' x $chunk;
                $c->{huge_left} -= $chunk;
                $c->{out} .= "\r\n" if $c->{huge_left} == 0;
            }
            my $n = syswrite $fh, $c->{out};
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
                delete $conns{ fileno $fh };
                close $fh;
                $report->();
                next;
            }
            substr($c->{out}, 0, $n, '');
            if ($c->{flood}) {
                $c->{flooded} += $n;
                $sent += $n;
            }
        }
        $report->() if $sent && RedisTopo::_now() - $reported >= 0.1;

        # 'drip': one byte of "+PONG\r\n" (cyclically) every 300 ms.
        $now = RedisTopo::_now();
        for my $c (values %conns) {
            next unless defined $c->{drip_at} && $c->{drip_at} <= $now;
            my $byte = substr $drip, $c->{drip_pos}++ % length($drip), 1;
            syswrite $c->{fh}, $byte;    # one byte never blocks in practice
            $c->{drip_at} = $now + 0.3;
        }
    }
}

1;
