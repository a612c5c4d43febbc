# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# ===========================================================================
# RedisTopo::Server - a redis-server or sentinel
# ===========================================================================

package RedisTopo::Server;

use strict;
use warnings;
use RedisTopo ();
use RedisTopo::Proc ();
our @ISA = ('RedisTopo::Proc');

sub password { $_[0]{password} }
sub user     { $_[0]{user} }
sub pass     { $_[0]{pass} }
sub log_file { $_[0]{log_file} }
sub conf_file { $_[0]{conf} }

# host(): the address it listens on (127.0.0.1 unless started with bind)
sub host { $_[0]{host} // '127.0.0.1' }

# set_auth(user => U, pass => P): later cmd() calls authenticate.
sub set_auth {
    my ($self, %a) = @_;
    $self->{user} = $a{user};
    $self->{pass} = $a{pass};
    return $self;
}

sub _cli_argv {
    my ($self, @args) = @_;
    my @argv = ($RedisTopo::REDIS_CLI, '-h', $self->{host} // '127.0.0.1',
                '-p', $self->{port},
                '--no-auth-warning',
                $self->{tls} ? $self->{tls}->cli_args : ());
    if (defined $self->{user} && defined $self->{pass}) {
        push @argv, '--user', $self->{user}, '--pass', $self->{pass};
    } elsif (defined $self->{pass}) {
        push @argv, '-a', $self->{pass};
    }
    return (@argv, @args);
}

# Run redis-cli with a timeout; returns stdout without the trailing newline.
sub _cli {
    my ($self, $timeout, @args) = @_;
    my ($out, $err, $status) =
        RedisTopo::_run_capture($timeout, $self->_cli_argv(@args));
    $self->{last_err}    = $err;
    $self->{last_status} = $status;
    chomp $out;
    return $out;
}

# cmd(@args): redis-cli output (raw mode, as redis-cli prints it when not on
# a terminal).  stderr and the exit status of the last call are kept in
# last_err() / last_status().  Dies after scaled($RedisTopo::CMD_TIMEOUT)
# seconds.
sub cmd {
    my ($self, @args) = @_;
    return $self->_cli($RedisTopo::CMD_TIMEOUT, @args);
}

sub last_err    { $_[0]{last_err} }
sub last_status { $_[0]{last_status} }

# info($section): hashref of the "key:value" lines.
sub info {
    my ($self, $section) = @_;
    my $out = $self->cmd('INFO', defined $section ? $section : ());
    my %h;
    for my $line (split /\n/, $out) {
        $line =~ s/\r\z//;
        next if $line eq '' || $line =~ /^#/;
        my ($k, $v) = split /:/, $line, 2;
        $h{$k} = $v if defined $v;
    }
    return \%h;
}

# role(): 'master', 'slave' or 'sentinel' from INFO (replication).
sub role {
    my ($self) = @_;
    return $self->info('replication')->{role} // $self->info('server')->{redis_mode};
}

# count_calls($cmd): calls= of cmdstat_<cmd> in INFO commandstats, or 0.
sub count_calls {
    my ($self, $cmd) = @_;
    my $v = $self->info('commandstats')->{ 'cmdstat_' . lc $cmd } // '';
    return $v =~ /(?:^|,)calls=(\d+)/ ? $1 : 0;
}

# wait_link_up([TIMEOUT]): wait until a replica's master link is up.
sub wait_link_up {
    my ($self, $timeout) = @_;
    RedisTopo::wait_until(sub {
        die "redis-server on port $self->{port} died\n" unless $self->alive;
        my $i = eval { $self->info('replication') } or return;
        ($i->{master_link_status} // '') eq 'up';
    }, $timeout // 10, "replica on port $self->{port} to have master_link_status:up");
    return 1;
}

1;
