# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# ===========================================================================
# RedisTopo::Dns - a tiny DNS server whose answers the test changes
# ===========================================================================
#
# A test fixture, not a Redis fake: it answers the queries of nginx's
# resolver over UDP from a records file the test rewrites, re-read on every
# query.  Started by RedisTopo::start_dns(records => {NAME => IP or [IP,
# ...]}, [ttl => SECONDS]).  What it answers for a name, as the test last
# said:
#
#   set(NAME => IP) or set(NAME => [IP, IP, ...])
#                    NOERROR with one A record per address, in that order
#                    (AAAA and other types: NOERROR, no record)
#   unset(NAME)      NXDOMAIN; also any name never set
#   nodata(NAME)     NOERROR with no record at all: the name exists but has
#                    no address (nginx's resolver calls it "Host not found",
#                    as NXDOMAIN)
#   servfail(NAME)   SERVFAIL: a failed resolution, not an answer
#   silence(NAME)    no answer at all: the resolver times out
#                    (resolver_timeout)
#
# Every record carries the TTL given to start_dns (default 1 second);
# ttl => 0 makes nginx's resolver ask again once the second of the answer
# is over (it keeps an answer for the rest of the second it came in).  A
# "valid=" of the resolver directive overrides any TTL.
#
# queries(NAME) counts the queries for NAME the server received (of any
# type, answered or not) since it started: a test waits for it to grow to
# know that nginx asked again after a change.

package RedisTopo::Dns;

use strict;
use warnings;
use RedisTopo ();
use RedisTopo::Proc ();
use IO::Socket::INET;
use Socket qw(inet_aton);
use Carp qw(croak);
our @ISA = ('RedisTopo::Proc');

# the modes a name may be given instead of addresses
my %MODES = map { $_ => 1 } qw(servfail silence nodata);

# the default TTL of the records, in seconds
our $TTL = 1;

# DNS codes used here (RFC 1035)
my ($NOERROR, $SERVFAIL, $NXDOMAIN) = (0, 2, 3);
my ($TYPE_A, $CLASS_IN) = (1, 1);

sub records_file { $_[0]{records_file} }
sub ttl          { $_[0]{ttl} }

# records(): { NAME => IP } as the file has them now: a name of one
# address maps to it, one of several to an array of them, one in a mode to
# the mode's name ("servfail", "silence", "nodata")
sub records {
    my ($self) = @_;
    my $r = _read_records($self->{records_file});
    return { map {
        my $e = $r->{$_};
        ($_ => $e->{mode} // (@{ $e->{ips} } == 1 ? $e->{ips}[0]
                                                  : [@{ $e->{ips} }]))
    } keys %$r };
}

# set(NAME => IP, NAME => [IP, ...], ...): answer NAME with these
# addresses from now on
sub set {
    my ($self, %add) = @_;
    my $r = _read_records($self->{records_file});
    for my $name (keys %add) {
        my @ips = ref $add{$name} eq 'ARRAY' ? @{ $add{$name} } : $add{$name};
        croak "set($name): no address" unless @ips;
        for my $ip (@ips) {
            croak "not an IPv4 address: " . ($ip // 'undef')
                unless defined $ip && $ip =~ /\A\d+\.\d+\.\d+\.\d+\z/
                       && defined inet_aton($ip);
        }
        $r->{ lc $name } = { ips => \@ips };
    }
    $self->_write($r);
    return $self;
}

# unset(NAME, ...): NXDOMAIN for NAME from now on
sub unset {
    my ($self, @names) = @_;
    my $r = _read_records($self->{records_file});
    delete @$r{ map { lc } @names };
    $self->_write($r);
    return $self;
}

# servfail(NAME, ...), silence(NAME, ...), nodata(NAME, ...): the mode of
# NAME from now on (see the top of the file)
sub servfail { $_[0]->_mode('servfail', @_[1 .. $#_]) }
sub silence  { $_[0]->_mode('silence',  @_[1 .. $#_]) }
sub nodata   { $_[0]->_mode('nodata',   @_[1 .. $#_]) }

sub _mode {
    my ($self, $mode, @names) = @_;
    my $r = _read_records($self->{records_file});
    $r->{ lc $_ } = { mode => $mode } for @names;
    $self->_write($r);
    return $self;
}

# queries(NAME): how many queries for NAME came in so far
sub queries {
    my ($self, $name) = @_;
    open my $fh, '<', $self->{counts_file} or return 0;
    while (my $line = <$fh>) {
        my ($n, $count) = split ' ', $line;
        return $count + 0 if defined $count && $n eq lc $name;
    }
    return 0;
}

# wait_queries(NAME, N, [TIMEOUT]): wait until N more queries for NAME
# than now came in; returns the count then
sub wait_queries {
    my ($self, $name, $n, $timeout) = @_;
    my $want = $self->queries($name) + $n;
    return RedisTopo::wait_until(sub {
        my $q = $self->queries($name);
        return $q >= $want ? $q : 0;
    }, $timeout // 10, "$n more DNS queries for $name");
}

# the file: one line per name, "NAME ip IP IP ..." or "NAME MODE"
sub _write {
    my ($self, $r) = @_;
    RedisTopo::_write_state($self->{records_file}, join '', map {
        my $e = $r->{$_};
        $e->{mode} ? "$_ $e->{mode}\n" : "$_ ip @{ $e->{ips} }\n"
    } sort keys %$r);
}

sub _read_records {
    my ($file) = @_;
    my %r;
    open my $fh, '<', $file or return \%r;
    while (my $line = <$fh>) {
        my ($name, $kind, @ips) = split ' ', $line;
        next unless defined $kind;
        if ($kind eq 'ip') {
            $r{ lc $name } = { ips => \@ips } if @ips;
        } elsif ($MODES{$kind}) {
            $r{ lc $name } = { mode => $kind };
        }
    }
    return \%r;
}


# ---------------------------------------------------------------------------
# The DNS child
# ---------------------------------------------------------------------------

sub _main {
    my ($records_file, $sock, $ttl, $counts_file) = @_;
    my %counts;
    while (1) {
        my $peer = recv($sock, my $query, 512, 0);
        next unless defined $peer && length $query >= 12;
        my ($answer, $name) =
            _answer($query, _read_records($records_file), $ttl);
        if (defined $name) {
            $counts{$name}++;
            RedisTopo::_write_state($counts_file, join '',
                map { "$_ $counts{$_}\n" } sort keys %counts);
        }
        send($sock, $answer, 0, $peer) if defined $answer;
    }
}

# the reply to one query (undef for none) and the name asked (undef if the
# query is not one this server reads)
sub _answer {
    my ($query, $records, $ttl) = @_;
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

    my $e = $records->{$name};
    my $mode = $e ? $e->{mode} // 'ip' : 'nxdomain';
    return (undef, $name) if $mode eq 'silence';

    my $rcode = $mode eq 'nxdomain' ? $NXDOMAIN
              : $mode eq 'servfail' ? $SERVFAIL
              :                       $NOERROR;
    my @rr;
    if ($mode eq 'ip' && $qtype == $TYPE_A && $qclass == $CLASS_IN) {
        # each record names the question's name by a pointer to it (0xc00c)
        push @rr, map { pack('n n n N n', 0xc00c, $TYPE_A, $CLASS_IN, $ttl, 4)
                        . inet_aton($_) } @{ $e->{ips} };
    }

    # QR, the query's RD, RA
    my $rflags = 0x8000 | ($flags & 0x0100) | 0x0080 | $rcode;
    return (pack('n n n n n n', $id, $rflags, 1, scalar @rr, 0, 0)
            . $question . join('', @rr), $name);
}

1;
