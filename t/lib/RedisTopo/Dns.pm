# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# ===========================================================================
# RedisTopo::Dns - a tiny DNS server whose answers the test changes
# ===========================================================================
#
# A test fixture, not a Redis fake: it answers the A queries of nginx's
# resolver over UDP from a records file the test rewrites with set() and
# unset(), re-read on every query.  A name it has no record for gets
# NXDOMAIN; AAAA and other types get an empty answer.  Answers carry a TTL
# of one second.  Started by RedisTopo::start_dns(records => {NAME => IP}).

package RedisTopo::Dns;

use strict;
use warnings;
use RedisTopo ();
use RedisTopo::Proc ();
use IO::Socket::INET;
use Socket qw(inet_aton);
use Carp qw(croak);
our @ISA = ('RedisTopo::Proc');

sub records_file { $_[0]{records_file} }

# records(): { NAME => IP } as the file has them now
sub records {
    my ($self) = @_;
    return _read_records($self->{records_file});
}

# set(NAME => IP, ...): answer NAME with IP from now on
sub set {
    my ($self, %add) = @_;
    my $r = $self->records;
    @$r{ map { lc } keys %add } = values %add;
    $self->_write($r);
    return $self;
}

# unset(NAME, ...): NXDOMAIN for NAME from now on
sub unset {
    my ($self, @names) = @_;
    my $r = $self->records;
    delete @$r{ map { lc } @names };
    $self->_write($r);
    return $self;
}

sub _write {
    my ($self, $r) = @_;
    for my $ip (values %$r) {
        croak "not an IPv4 address: $ip" unless defined inet_aton($ip)
            && $ip =~ /\A\d+\.\d+\.\d+\.\d+\z/;
    }
    RedisTopo::_write_state($self->{records_file},
                            join '', map { "$_ $r->{$_}\n" } sort keys %$r);
}

sub _read_records {
    my ($file) = @_;
    my %r;
    open my $fh, '<', $file or return \%r;
    while (my $line = <$fh>) {
        my ($name, $ip) = split ' ', $line;
        $r{ lc $name } = $ip if defined $ip;
    }
    return \%r;
}


# ---------------------------------------------------------------------------
# The DNS child
# ---------------------------------------------------------------------------

sub _main {
    my ($records_file, $sock) = @_;
    while (1) {
        my $peer = recv($sock, my $query, 512, 0);
        next unless defined $peer && length $query >= 12;
        my $answer = _answer($query, _read_records($records_file));
        send($sock, $answer, 0, $peer) if defined $answer;
    }
}

# the reply to one query: its id and question, and an A record if known
sub _answer {
    my ($query, $records) = @_;
    my ($id, $flags, $qdcount) = unpack 'n n n', $query;
    return unless $qdcount == 1;

    my ($pos, @labels) = (12);
    while (1) {
        return if $pos >= length $query;
        my $len = ord substr $query, $pos, 1;
        $pos++;
        last if $len == 0;
        return if $len > 63;
        push @labels, substr $query, $pos, $len;
        $pos += $len;
    }
    return if $pos + 4 > length $query;
    my ($qtype, $qclass) = unpack 'n n', substr $query, $pos, 4;
    my $question = substr $query, 12, $pos + 4 - 12;
    my $name = lc join '.', @labels;

    my $ip = $records->{$name};
    my $rcode = defined $ip ? 0 : 3;                  # NXDOMAIN
    my @rr;
    if (defined $ip && $qtype == 1 && $qclass == 1) {
        push @rr, pack('n n n N n', 0xc00c, 1, 1, 1, 4) . inet_aton($ip);
    }

    # QR, the query's RD, RA
    my $rflags = 0x8000 | ($flags & 0x0100) | 0x0080 | $rcode;
    return pack('n n n n n n', $id, $rflags, 1, scalar @rr, 0, 0)
           . $question . join '', @rr;
}

1;
