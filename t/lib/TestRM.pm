# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package TestRM;

# TestRM - what every suite of this module shares: where the module and
# Debian's nginx are, and small helpers to wait on nginx's error log and to
# talk to nginx like a Redis client.  Load it before Test::Nginx: Test::Nginx
# reads its TEST_NGINX_* settings when it is loaded.
#
# Every deadline is multiplied by TEST_NGINX_TIMEOUT_SCALE (default 3, see
# RedisTopo): the waits here and in RedisTopo, and in Test::Nginx its
# default timeout (TEST_NGINX_TIMEOUT, unless set: 5 s times the scale) and
# each block's "--- timeout".  A block's configuration can write a time as
# "scaled(10s)" or "scaled(700ms)": it becomes that time times the scale, in
# milliseconds.  Use it where a test compares a deadline with a time of the
# configuration (a hold, an interval), so that both grow together.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname basename);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes ();
use Exporter qw(import);

use RedisTopo qw(:all);

our @EXPORT = qw(
    port_reply error_log wait_error_log error_log_size nginx_pid
    count_error_log probe_window
    stream_port redis_session session_closed ask_nginx
    ask_nginx_send ask_nginx_answer
    free_port start_redis start_sentinel start_relay start_hostile start_dns
    start_writer
    wait_until wait_log log_size children_of stop_all scaled
    worker_pids rss_kb shared_memory_has cpu_seconds each_error_line
    secret_pieces
);

my $ROOT;

BEGIN {
    $ROOT = abs_path(dirname(__FILE__) . '/../..');

    my $modules = '/usr/lib/nginx/modules';

    # the Lua and NDK modules, and the Lua libraries they load, unpacked in
    # .deps/lua by scripts/fetch-test-nginx.sh (make deps), never installed
    # nor enabled in /etc/nginx; nginx's master reads LUA_PATH when it
    # creates the Lua VM
    my $lua = "$ROOT/.deps/lua";

    $ENV{TEST_NGINX_BINARY} ||= '/usr/sbin/nginx';
    $ENV{TEST_NGINX_TIMEOUT} ||= scaled(5);
    $ENV{TEST_NGINX_LOAD_MODULES} ||= join ' ',
        "$modules/ngx_stream_module.so",
        "$ROOT/build/ngx_stream_redis_master_module.so",
        "$lua$modules/ndk_http_module.so",
        "$lua$modules/ngx_http_lua_module.so";
    $ENV{LUA_PATH} ||= "$lua/usr/share/lua/5.1/?.lua;;";

    die "the Lua modules are missing: run make deps "
        . "(scripts/fetch-test-nginx.sh unpacks them in $lua)\n"
        unless -f "$lua$modules/ngx_http_lua_module.so";

    # one server root per suite, so that a failed suite's logs stay
    (my $name = basename($0)) =~ s/\.t$//;
    $ENV{TEST_NGINX_SERVROOT} ||= "$ROOT/t/servroot-$name";

    die "build the module first (make): "
        . "$ROOT/build/ngx_stream_redis_master_module.so is missing\n"
        unless -f "$ROOT/build/ngx_stream_redis_master_module.so";
}

# The nginx that Test::Nginx starts is a daemon: a test process that dies
# without running its END blocks (SIGKILL, the OOM killer, a SIGPIPE once
# prove is gone) would leave it running, holding the suites' ports.  A
# guard, forked now in a session of its own, waits for the test process
# to go and then stops the nginx named by this suite's pid file: TERM,
# then KILL to the master and its workers.  Redis servers and the other
# children of RedisTopo die with the test process by themselves (a
# parent-death signal, see RedisTopo::_die_with_parent).  When the test's
# own parent goes first (prove killed), the guard sends the test a TERM:
# it ends at once, through its END blocks, rather than at its next line
# of TAP.

sub _nginx_of_servroot {
    my ($servroot) = @_;
    open my $fh, '<', "$servroot/logs/nginx.pid" or return;
    my $pid = <$fh> // return;
    ($pid) = $pid =~ /^(\d+)/ or return;
    open my $cmd, '<', "/proc/$pid/cmdline" or return;
    my $line = do { local $/; <$cmd> } // return;
    # a reused pid is not killed: the master names its prefix
    return index($line, "$servroot/") >= 0 && $line =~ /nginx/ ? $pid : ();
}

sub stop_nginx_of_servroot {
    my ($servroot) = @_;
    my $master = _nginx_of_servroot($servroot) or return 0;
    my @all = ($master, children_of($master));
    kill 'TERM', $master;
    my $deadline = Time::HiRes::time() + 5;
    while (Time::HiRes::time() < $deadline && grep { kill 0, $_ } @all) {
        Time::HiRes::sleep(0.05);
    }
    kill 'KILL', grep { kill 0, $_ } @all;
    return 1;
}

sub _start_guard {
    my $servroot = $ENV{TEST_NGINX_SERVROOT};
    my $parent = $$;
    my $runner = getppid();
    my $pid = fork;
    return unless defined $pid;
    return if $pid;

    # --- the guard ---
    POSIX::setsid();
    $SIG{$_} = 'IGNORE' for qw(INT HUP PIPE QUIT);
    if (opendir my $dh, '/proc/self/fd') {
        POSIX::close($_) for grep { /^\d+\z/ && $_ > 2 } readdir $dh;
    }
    open STDIN,  '<', '/dev/null';
    open STDOUT, '>', '/dev/null';
    open STDERR, '>', '/dev/null';
    my $told = $runner == 1;
    while (getppid() == $parent) {
        Time::HiRes::sleep(0.2);
        next if $told;
        my $stat = RedisTopo::_proc_stat($parent) or next;
        next if $stat->{ppid} == $runner;
        kill 'TERM', $parent;
        $told = 1;
    }
    eval { stop_nginx_of_servroot($servroot) };
    POSIX::_exit(0);
}

_start_guard() unless $ENV{TEST_NGINX_NO_CLEAN};

# Test::Nginx is loaded after this module: give it the scale once it is
# there (an INIT block runs once the test file is compiled)
INIT {
    &Test::Nginx::Util::add_block_preprocessor(\&scale_block)
        if defined &Test::Nginx::Util::add_block_preprocessor;
}

# scale_block(BLOCK): "--- timeout" times the scale, and "scaled(TIME)" in
# the configuration sections written out in milliseconds
sub scale_block {
    my ($block) = @_;

    if (defined(my $t = $block->timeout)) {
        $t = Test::Nginx::Util::parse_time($t);
        $block->set_value('timeout', scaled($t));
    }

    for my $section (qw(main_config stream_config stream_server_config
                        stream_server_config2 stream_server_config3
                        http_config config))
    {
        my $text = $block->$section;
        next unless defined $text && $text =~ /scaled\(/;
        $text =~ s{scaled\((\d+(?:\.\d+)?)(ms|s)\)}
                  {int(scaled($2 eq 's' ? $1 * 1000 : $1) + 0.5) . 'ms'}ge;
        $block->set_value($section, $text);
    }
}

# what "CONFIG GET port" then "QUIT" answer: tells which server was reached
sub port_reply {
    my ($port) = @_;
    return "*2\r\n\$4\r\nport\r\n\$" . length($port) . "\r\n$port\r\n+OK\r\n";
}

sub error_log { "$ENV{TEST_NGINX_SERVROOT}/logs/error.log" }

sub error_log_size { log_size(error_log()) }

# wait_error_log(REGEX, [TIMEOUT], [FROM]): the first matching line after
# byte offset FROM; dies after scaled(TIMEOUT) seconds
sub wait_error_log {
    my ($re, $timeout, $from) = @_;
    return wait_log(error_log(), $re, $timeout // 10, $from // 0);
}

# count_error_log(REGEX, [FROM]): how many lines of the error log after
# byte offset FROM match
sub count_error_log {
    my ($re, $from) = @_;
    my $n = 0;
    each_error_line(sub { $n++ if /$re/ }, $from);
    return $n;
}

# each_error_line(CODE, [FROM]): CODE for each line of the error log after
# byte offset FROM, the line in $_; read piece by piece, never whole (see
# RedisTopo::scan_log)
sub each_error_line {
    my ($code, $from) = @_;
    RedisTopo::scan_log(error_log(), $from // 0,
                       sub { local $_ = $_[0]; $code->(); 0 });
    return;
}

# cpu_seconds(PID): the CPU time process PID has used, user and system
sub cpu_seconds {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $line = <$fh> // return 0;
    my @f = split ' ', substr($line, rindex($line, ')') + 2);
    # fields 14 and 15 of proc(5), counted from "state", the third
    return ($f[11] + $f[12]) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
}

# probe_window(SERVER, N, TIMEOUT): wait until nginx's debug log shows N
# more probes of SERVER (a RedisTopo::Server) starting; returns a hash of
# probes (how many Redis saw meanwhile, two INFO calls each), seconds (how
# long that took) and pids (the workers that logged the probes).  Nothing
# is assumed about how fast probes come: the window lasts until N of them
# have come, and a rate is computed from its measured length.
sub probe_window {
    my ($server, $n, $timeout) = @_;
    my $port = $server->port;
    my $re = qr/(\d+)#\d+: redis check: probing 127\.0\.0\.1:$port\b/;

    my $from = error_log_size();
    my $t0 = Time::HiRes::time();
    my $before = $server->count_calls('info');
    wait_until(sub { count_error_log($re, $from) >= $n }, $timeout,
               "$n probes of 127.0.0.1:$port");
    my $after = $server->count_calls('info');
    my $seconds = Time::HiRes::time() - $t0;

    my %pids;
    each_error_line(sub { $pids{$1}++ if $_ =~ $re }, $from);

    # minus the INFO commandstats of the first count_calls()
    return { probes => ($after - $before - 1) / 2, seconds => $seconds,
             pids => [sort keys %pids] };
}

sub nginx_pid {
    my $file = "$ENV{TEST_NGINX_SERVROOT}/logs/nginx.pid";
    open my $fh, '<', $file or die "cannot read $file: $!";
    my $pid = <$fh>;
    chomp $pid;
    return $pid;
}

# the worker processes of the nginx under test
sub worker_pids { children_of(nginx_pid()) }

# rss_kb(PID): the resident set of a process, in KiB
sub rss_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) {
        return $1 if /^VmRSS:\s+(\d+)/;
    }
    return 0;
}

# secret_pieces(SECRET): what of a credential that is not ASCII would betray
# it if it reached a log, the zone or the status page: each 4 bytes of it
# with a byte of UTF-8 in them, as they are, and each 5 characters of its
# printable form (every byte that is not printable ASCII made "?", as the
# module writes a server's text) with a "?" and 2 other characters in them
sub secret_pieces {
    my ($secret) = @_;
    (my $printable = $secret) =~ s/[^\x20-\x7e]/?/g;
    my %pieces;
    for my $i (0 .. length($secret) - 4) {
        my $piece = substr $secret, $i, 4;
        $pieces{$piece} = 1 if $piece =~ /[^\x00-\x7f]/;
    }
    for my $i (0 .. length($printable) - 5) {
        my $piece = substr $printable, $i, 5;
        $pieces{$piece} = 1 if $piece =~ /\?/ && ($piece =~ tr/?//c) >= 2;
    }
    return sort keys %pieces;
}

# shared_memory_has(PID, STRING): whether STRING is anywhere in the shared
# anonymous mappings (nginx's shared zones) of process PID
sub shared_memory_has {
    my ($pid, $needle) = @_;
    open my $maps, '<', "/proc/$pid/maps" or die "no /proc/$pid/maps: $!";
    open my $mem, '<:raw', "/proc/$pid/mem" or die "no /proc/$pid/mem: $!";
    my $seen = 0;
    while (my $line = <$maps>) {
        my ($from, $to, $perms, $name) =
            $line =~ /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/
            or next;
        next unless $perms =~ /^rw.s/ && $name =~ m{^/dev/zero|^$|SYSV};
        ($from, $to) = map { no warnings 'portable'; hex } $from, $to;
        my $size = $to - $from;
        sysseek $mem, $from, 0 or next;
        my $buf;
        my $got = sysread $mem, $buf, $size;
        next unless $got;
        $seen++;
        return 1 if index($buf, $needle) >= 0;
    }
    die "no shared mapping found in process $pid\n" unless $seen;
    return 0;
}

# the stream server of Test::Nginx::Socket::Lua::Stream (first, 2nd, 3rd)
sub stream_port {
    my ($n) = @_;
    return ($ENV{TEST_NGINX_STREAM_PORT}
            // ($Test::Nginx::Util::ServerPort + 1)) + ($n // 0);
}

# a client session through nginx that has seen the server's port
sub redis_session {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $port // stream_port(),
                                  Timeout  => scaled(5))
        or die "cannot connect to nginx: $!";
    print {$s} "CONFIG GET port\r\n";
    my $buf = '';
    wait_until(sub {
        my $n = sysread($s, $buf, 4096, length $buf);
        die "session closed before the reply\n" if defined $n && $n == 0;
        return $buf =~ /\r\n(\d+)\r\n$/;
    }, 5, 'a reply through nginx');
    my ($reached) = $buf =~ /\r\n(\d+)\r\n$/;
    return ($s, $reached);
}

# ask_nginx(): what a client that sends "CONFIG GET port" then "QUIT" gets
# back through nginx ('' when nginx closes the connection unanswered);
# ask_nginx_send() and ask_nginx_answer(SOCKET) do it in two steps
sub ask_nginx { ask_nginx_answer(ask_nginx_send()) }

sub ask_nginx_send {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => stream_port(),
                                  Timeout  => scaled(5))
        or die "cannot connect to nginx: $!";
    print {$s} "CONFIG GET port\r\nQUIT\r\n";
    return $s;
}

sub ask_nginx_answer {
    my ($s) = @_;
    my $buf = '';
    $s->blocking(0);
    wait_until(sub {
        my $n = sysread($s, $buf, 4096, length $buf);
        return defined $n ? $n == 0 : !$!{EAGAIN};
    }, 10, 'nginx to answer and close');
    return $buf;
}

# session_closed(SOCKET, TIMEOUT): true once nginx has closed the session
# (false if it has not within scaled(TIMEOUT) seconds)
sub session_closed {
    my ($s, $timeout) = @_;
    $s->blocking(0);
    return eval {
        wait_until(sub {
            my $n = sysread($s, my $buf, 4096);
            return defined $n ? $n == 0 : $!{ECONNRESET};
        }, $timeout, 'the session to be closed');
        1;
    };
}

1;
