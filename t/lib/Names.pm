# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package Names;

# Names - what t/34-names.t does with servers named by DNS names
# (redis_server NAME:PORT): its servers listen on several loopback
# addresses with one port, as the pods of a Kubernetes service do, so a
# client tells which one nginx reached by its address ("CONFIG GET bind");
# the log lines a name's changes write, as docs/directives.md words them;
# the zone's notice line; and a reload that waits for its new workers.
# Waiting is always for a condition, with RedisTopo's deadlines.

use strict;
use warnings;

use IO::Socket::INET;
use Time::HiRes ();

use Test::More ();

use RedisTopo ();
use TestRM ();

# the request a client sends: which address did nginx reach, then QUIT
our $REQUEST = "CONFIG GET bind\r\nQUIT\r\n";

# bind_reply(ADDRESS): what that request gets back from the server
# listening on ADDRESS
sub bind_reply {
    my ($addr) = @_;
    return "*2\r\n\$4\r\nbind\r\n\$" . length($addr) . "\r\n$addr\r\n+OK\r\n";
}

# reached(REPLY): the address a reply to that request names, or '' when
# nginx closed the connection unanswered
sub reached {
    my ($reply) = @_;
    return $reply =~ /\A\*2\r\n\$4\r\nbind\r\n\$\d+\r\n([^\r]*)\r\n/ ? $1 : '';
}

sub _connect {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port // TestRM::stream_port(),
                                  Timeout  => RedisTopo::scaled(5))
        or die "cannot connect to nginx: $!";
    return $s;
}

# ask([PORT]): the address a new client reaches through nginx (its stream
# server on PORT, TestRM::stream_port() by default), '' if refused
sub ask {
    my ($port) = @_;
    my $s = _connect($port);
    print {$s} $REQUEST;
    return reached(TestRM::ask_nginx_answer($s));
}

# spread(N): N clients through nginx; { ADDRESS => how many reached it },
# '' for those refused
sub spread {
    my ($n) = @_;
    my %seen;
    $seen{ ask() }++ for 1 .. $n;
    return \%seen;
}

# wait_reached(ADDRESS, [TIMEOUT], [PORT]): wait until a new client
# reaches ADDRESS through nginx
sub wait_reached {
    my ($addr, $timeout, $port) = @_;
    my $last = '';
    RedisTopo::wait_until(sub { ($last = ask($port)) eq $addr },
                          $timeout // 10,
                          "a client to reach $addr (the last reached "
                          . "'$last')");
    return 1;
}

# session(): a client session through nginx that stays open, and the
# address it reached
sub session {
    my $s = _connect();
    my $addr = session_ask($s);
    return ($s, $addr);
}

# session_ask(SOCKET): on an open session, which address answers; dies
# if the session was closed
sub session_ask {
    my ($s) = @_;
    $s->blocking(1);
    print {$s} "CONFIG GET bind\r\n";
    my $buf = '';
    RedisTopo::wait_until(sub {
        my $n = sysread($s, $buf, 4096, length $buf);
        die "session closed before the reply\n" if !defined $n || $n == 0;
        return $buf =~ /\r\n[^\r]*\r\n\z/ && $buf =~ /bind\r\n\$\d+\r\n/;
    }, 5, 'a reply on the session');
    my ($addr) = $buf =~ /bind\r\n\$\d+\r\n([^\r]*)\r\n/;
    return $addr;
}

# session_to(ADDRESS, [TIMEOUT]): open sessions until one reaches ADDRESS
# (a read pool spreads them); returns it, the others closed
sub session_to {
    my ($addr, $timeout) = @_;
    my $found;
    RedisTopo::wait_until(sub {
        my ($s, $at) = session();
        return $found = $s if $at eq $addr;
        close $s;
        return 0;
    }, $timeout // 10, "a session to $addr");
    return $found;
}

# logged(REGEX, [TIMEOUT], [FROM], [WHAT]): a test that a line of the
# error log after byte offset FROM matches REGEX within scaled(TIMEOUT)
# seconds; returns the line, or undef (a failed test, not the end of the
# suite)
sub logged {
    my ($re, $timeout, $from, $what) = @_;
    my $line = eval { TestRM::wait_error_log($re, $timeout, $from) };
    Test::More::ok(defined $line, $what // "logged: $re")
        or Test::More::diag($@);
    return $line;
}

# The log lines of a name NAME:PORT in upstream UP (the words of
# docs/directives.md, "Log messages"); ADDR is ip:port
sub _q { quotemeta $_[0] }

sub joins {
    my ($name, $up, $addr) = @_;
    return qr/\[warn\] .*redis server ${\_q($name)} in upstream ${\_q($up)}: ${\_q($addr)} joins/;
}

sub leaves {
    my ($name, $up, $addr) = @_;
    return qr/\[warn\] .*redis server ${\_q($name)} in upstream ${\_q($up)}: ${\_q($addr)} leaves, the name no longer has it/;
}

sub no_address {
    my ($name, $up, $reason) = @_;
    return qr/\[warn\] .*redis server ${\_q($name)} in upstream ${\_q($up)} has no address \(${\_q($reason)}\): its servers leave/;
}

sub kept {
    my ($name, $up, $reason, $n) = @_;
    return qr/\[error\] .*redis server ${\_q($name)} in upstream ${\_q($up)} does not resolve \(${\_q($reason)}\): its $n address(?:es)? (?:are|is) kept/;
}

sub too_many {
    my ($name, $up, $n, $max) = @_;
    return qr/\[warn\] .*redis server ${\_q($name)} in upstream ${\_q($up)} has $n addresses, more than max_servers=$max: ([\d.:,]+) not used/;
}

# master_is(NAME, UP, ADDR): the decision's line naming a server of the
# name as master
sub master_is {
    my ($name, $up, $addr) = @_;
    return qr/upstream ${\_q($up)} master is ${\_q($name)} at ${\_q($addr)}\b/;
}

# is_up(NAME, UP, ADDR, ROLE): the check's line of a server of the name
# that is up
sub is_up {
    my ($name, $up, $addr, $role) = @_;
    return qr/server ${\_q($name)} at ${\_q($addr)} in upstream ${\_q($up)} is up, role $role/;
}

# the zone's notice line: servers, upstreams, free pages; the master logs
# it when it sets the zone up, a worker when it gives entries back
our $ZONE_LINE = qr/\[notice\] (\d+)#\d+: redis_master zone "redis_master": (\d+) servers, (\d+) upstreams, (\d+) free pages/;

# zone_lines(FROM): [pid, servers, upstreams, free pages] of each zone
# line after byte offset FROM
sub zone_lines {
    my ($from) = @_;
    my @lines;
    TestRM::each_error_line(sub { push @lines, [$1, $2, $3, $4] if /$ZONE_LINE/ },
                            $from);
    return @lines;
}

# edit_conf(EDIT): rewrite nginx.conf with EDIT (a sub on $_)
sub edit_conf {
    my ($edit) = @_;
    my $conf = "$ENV{TEST_NGINX_SERVROOT}/conf/nginx.conf";
    local $_ = do { local (@ARGV, $/) = ($conf); <> };
    $edit->();
    open my $fh, '>', $conf or die "$conf: $!";
    print {$fh} $_;
    close $fh or die "$conf: $!";
}

# reload([EDIT]): edit_conf(EDIT) if given, HUP, and wait until only new
# workers run (WORKERS of them); returns the master's zone line of the
# new configuration, [pid, servers, upstreams, free pages]
sub reload {
    my ($edit, $workers) = @_;
    edit_conf($edit) if $edit;
    my $master = TestRM::nginx_pid();
    my %old = map { $_ => 1 } TestRM::children_of($master);
    my $at = TestRM::error_log_size();
    kill 'HUP', $master;
    RedisTopo::wait_until(sub {
        my @now = TestRM::children_of($master);
        return @now == ($workers // 2) && !grep { $old{$_} } @now;
    }, 20, 'only new workers after the reload');
    my ($line) = grep { $_->[0] == $master } zone_lines($at);
    die "no zone line of the master after the reload\n" unless $line;
    return $line;
}

1;
