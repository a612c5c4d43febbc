# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package RedisTopo;

# RedisTopo - orchestrate real redis-server / sentinel processes, TCP relays
# and hostile fake backends for the test suites.
#
# Every process started here is a direct child of the process that loaded
# this module; it is registered, and stopped by pid (TERM, up to 5 s, then
# KILL, then waitpid) by stop()/stop_all() and by the END block.  Waiting is
# always polling a condition against a deadline (wait_until), never a bare
# sleep.  Every deadline is multiplied by TEST_NGINX_TIMEOUT_SCALE (see
# scaled()).  See the POD at the end of the file for the API; the objects'
# classes and the children's main loops are in t/lib/RedisTopo/*.pm.

use strict;
use warnings;

use Exporter qw(import);
use Carp qw(croak);
use IO::Socket::INET;
use IO::Select;
use POSIX qw(WNOHANG EINTR EAGAIN EWOULDBLOCK);
use Time::HiRes ();
use File::Temp ();
use File::Path ();

our $VERSION = '0.01';

# the classes of the objects returned, one file each (t/lib/RedisTopo/)
use RedisTopo::Proc;
use RedisTopo::Server;
use RedisTopo::Relay;
use RedisTopo::Hostile;
use RedisTopo::Tls;
use RedisTopo::Dns;

our @EXPORT_OK = qw(
    free_port start_redis start_sentinel start_relay start_hostile start_dns
    start_writer
    wait_until wait_log log_size children_of stop_all scaled
);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

# Binaries; overridable from the environment.
our $REDIS_SERVER = $ENV{TOPO_REDIS_SERVER} || '/usr/bin/redis-server';
our $REDIS_CLI    = $ENV{TOPO_REDIS_CLI}    || '/usr/bin/redis-cli';

# Upper bound for a single redis-cli invocation (a SIGSTOPped server would
# otherwise hang cmd() forever); scaled like every deadline.
our $CMD_TIMEOUT = 10;

# The one timeout scale: every deadline (wait_until and the helpers built on
# it, redis-cli calls, the suites' own numbers) is multiplied by it.  The
# numbers written in the suites are what an idle machine needs, with a
# margin; the default of 3 is for a shared machine whose cores are busy.
# Deadlines are upper bounds: a wait returns as soon as its condition
# holds, so a larger scale costs time only when something fails.
our $TIMEOUT_SCALE = _timeout_scale($ENV{TEST_NGINX_TIMEOUT_SCALE});

sub _timeout_scale {
    my ($v) = @_;
    return 3 if !defined $v || $v eq '';
    croak "TEST_NGINX_TIMEOUT_SCALE must be a positive number, not '$v'"
        unless $v =~ /\A(?:\d+(?:\.\d*)?|\.\d+)\z/ && $v > 0;
    return $v + 0;
}

# scaled(SECONDS): SECONDS times TEST_NGINX_TIMEOUT_SCALE.
sub scaled { $_[0] * $TIMEOUT_SCALE }

# Only the process that loaded the module cleans up; forked children that
# happen to run END blocks must not kill their siblings.
my $CREATOR = $$;

my @PROCS;        # every RedisTopo::Proc started, in start order
my @DIRS;         # temp dirs to remove at the end
my %USED_PORTS;   # ports handed out (or explicitly used) in this process

END {
    # Keep the test's exit status: waitpid() below would clobber $?.
    local $?;
    stop_all() if $$ == $CREATOR;
}

# Make Ctrl-C / a plain kill of the test still run END (and so the cleanup),
# unless somebody else already manages these signals.
{
    my %code = (HUP => 129, INT => 130, TERM => 143);
    for my $sig (sort keys %code) {
        $SIG{$sig} = sub { exit $code{$sig} }
            if !defined $SIG{$sig} || $SIG{$sig} eq '' || $SIG{$sig} eq 'DEFAULT';
    }
}

# ---------------------------------------------------------------------------
# Generic helpers
# ---------------------------------------------------------------------------

sub _now { Time::HiRes::time() }

# wait_until(CODE, TIMEOUT, DESCRIPTION): poll CODE every 20 ms until it
# returns true; return that value, or die after scaled(TIMEOUT) seconds.
# Exceptions from CODE propagate (use that to abort early, e.g. "process
# died").
sub wait_until {
    my ($code, $timeout, $desc) = @_;
    croak 'wait_until: CODE required' unless ref $code eq 'CODE';
    $timeout //= 10;
    $desc    //= 'condition';
    my $limit = scaled($timeout);
    my $deadline = _now() + $limit;
    while (1) {
        my $v = $code->();
        return $v if $v;
        croak "timed out after ${limit}s ("
              . "${timeout}s x TEST_NGINX_TIMEOUT_SCALE $TIMEOUT_SCALE) "
              . "waiting for $desc"
            if _now() >= $deadline;
        Time::HiRes::sleep(0.02);
    }
}

# log_size(FILE): current size of FILE in bytes (0 if it does not exist).
sub log_size {
    my ($file) = @_;
    return (-s $file) || 0;
}

# A log line longer than this is cut (the rest of it is skipped): a
# hostile peer must not make a test hold its whole log in memory.
our $MAX_LINE = 64 * 1024;

# scan_log(FILE, FROM, CODE): CODE->(LINE) for each complete line of FILE
# after byte offset FROM (chomped, without its "\r"), read 64 KiB at a
# time; returns the offset after the last complete line, where a later
# scan goes on.  CODE returns true to stop at that line (the offset is
# then just past it).
sub scan_log {
    my ($file, $from, $code) = @_;
    open my $fh, '<:raw', $file or return $from;
    sysseek $fh, $from, 0 or return $from;
    my ($buf, $offset, $skipping) = ('', $from, 0);
    while (1) {
        my $n = sysread $fh, $buf, 65536, length $buf;
        last unless $n;
        while ((my $nl = index $buf, "\n") >= 0) {
            my $line = substr $buf, 0, $nl + 1, '';
            $offset += length $line;
            if ($skipping) {    # the rest of a cut line
                $skipping = 0;
                next;
            }
            chomp $line;
            $line =~ s/\r\z//;
            return $offset if $code->($line);
        }
        if (length $buf > $MAX_LINE) {
            # a line without end: look at its start, skip what follows
            my $line = substr $buf, 0, $MAX_LINE;
            $offset += length $buf;
            $buf = '';
            return $offset if !$skipping && $code->($line);
            $skipping = 1;
        }
    }
    return $offset;
}

# wait_log(FILE, REGEX, TIMEOUT, [FROM_OFFSET]): wait until a line of FILE
# after byte offset FROM_OFFSET matches REGEX; return that line (chomped).
# Each look reads on from where the last one stopped.
sub wait_log {
    my ($file, $re, $timeout, $from) = @_;
    $re   = qr/$re/ unless ref $re eq 'Regexp';
    $from //= 0;
    $timeout //= 10;
    my $at = $from;
    return wait_until(sub {
        my $found;
        $at = scan_log($file, $at, sub {
            return 0 unless $_[0] =~ $re;
            $found = $_[0];
            return 1;
        });
        return $found;
    }, $timeout, "/$re/ in $file after offset $from");
}

# children_of(PID): pids whose parent is PID, from /proc/*/stat.
sub children_of {
    my ($ppid) = @_;
    my @kids;
    opendir my $dh, '/proc' or return;
    for my $pid (grep { /^\d+\z/ } readdir $dh) {
        my $stat = _proc_stat($pid) or next;
        push @kids, $pid + 0 if $stat->{ppid} == $ppid;
    }
    closedir $dh;
    return sort { $a <=> $b } @kids;
}

# Parse /proc/PID/stat: { state => 'S', ppid => N } or undef.
sub _proc_stat {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return;
    my $line = do { local $/; <$fh> } // return;
    # "pid (comm) state ppid ..." - comm may contain spaces and parens.
    my $rp = rindex $line, ')';
    return if $rp < 0;
    my ($state, $ppid) = split ' ', substr($line, $rp + 2);
    return { state => $state, ppid => $ppid };
}

sub _tempdir {
    my ($tag) = @_;
    my $dir = File::Temp::tempdir("redistopo-$tag-XXXXXX",
                                  TMPDIR => 1, CLEANUP => 0);
    push @DIRS, $dir;
    return $dir;
}

# Listen on 127.0.0.1:PORT (PORT 0 = pick one that was not handed out yet).
sub _listen {
    my ($port) = @_;
    my @held;    # sockets on already-used ports, held so we don't get them again
    for (1 .. 50) {
        my $sock = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => $port || 0,
            Proto     => 'tcp',
            Listen    => 128,
            ReuseAddr => 1,
        ) or croak "cannot listen on 127.0.0.1:" . ($port || 0) . ": $!";
        my $got = $sock->sockport;
        if (!$port && $USED_PORTS{$got}) {
            push @held, $sock;
            next;
        }
        $USED_PORTS{$got} = 1;
        return $sock;
    }
    croak 'cannot find a free port that was not handed out before';
}

# free_port(): a free TCP port on 127.0.0.1, never the same twice.
sub free_port {
    my $sock = _listen(0);
    my $port = $sock->sockport;
    close $sock;
    return $port;
}

# Run a command (list form, no shell) with a deadline of scaled(TIMEOUT)
# seconds; returns (stdout, stderr, wait status).  Dies if it does not
# finish in time.
sub _run_capture {
    my ($timeout, @cmd) = @_;
    $timeout = scaled($timeout);
    pipe(my $out_r, my $out_w) or croak "pipe: $!";
    pipe(my $err_r, my $err_w) or croak "pipe: $!";
    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        close $out_r;
        close $err_r;
        open STDIN,  '<',  '/dev/null' or POSIX::_exit(126);
        open STDOUT, '>&', $out_w      or POSIX::_exit(126);
        open STDERR, '>&', $err_w      or POSIX::_exit(126);
        { no warnings q(exec); exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0]: $!\n";
        POSIX::_exit(127);
    }
    close $out_w;
    close $err_w;
    # Buffers keyed by the handle's file number, fixed before any close.
    my %name = (fileno($out_r) => 'out', fileno($err_r) => 'err');
    my %buf  = (out => '', err => '');
    my $sel  = IO::Select->new($out_r, $err_r);
    my $deadline = _now() + $timeout;
    while ($sel->count) {
        my $left = $deadline - _now();
        if ($left <= 0) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            croak "timed out after ${timeout}s running: @cmd";
        }
        for my $fh ($sel->can_read($left)) {
            my $n = sysread $fh, my $chunk, 65536;
            if (!defined $n && ($! == EINTR || $! == EAGAIN)) { next }
            if (!$n) { $sel->remove($fh); close $fh; next }
            $buf{ $name{fileno $fh} } .= $chunk;
        }
    }
    waitpid $pid, 0;
    return ($buf{out}, $buf{err}, $?);
}

sub _tail {
    my ($file, $lines) = @_;
    open my $fh, '<', $file or return "(no $file)";
    # the last 64 KiB at most: never a whole log
    my $size = -s $fh;
    seek $fh, $size - 65536, 0 if $size > 65536;
    my @l = <$fh>;
    shift @l if $size > 65536;    # a line cut at its start
    splice @l, 0, @l - $lines if @l > $lines;
    return join '', "--- tail of $file ---\n", @l;
}

# ---------------------------------------------------------------------------
# Starting things
# ---------------------------------------------------------------------------

# In a freshly forked child: ask the kernel to SIGKILL us when the parent
# dies (prctl PR_SET_PDEATHSIG, which survives exec), so that even a
# SIGKILLed test run leaves no redis-server behind.  Best effort: silently
# skipped where syscall.ph is not available.
sub _die_with_parent {
    my ($parent) = @_;
    eval {
        local $SIG{__DIE__};
        require 'syscall.ph';    ## no critic
        syscall(&SYS_prctl, 1, 9, 0, 0, 0);    # PR_SET_PDEATHSIG, SIGKILL
        1;
    };
    POSIX::_exit(1) if getppid() != $parent;   # parent already gone
}

# Fork+exec ARGV with stdout/stderr to STDIO_LOG; returns the pid.
sub _spawn_exec {
    my ($stdio_log, @argv) = @_;
    my $parent = $$;
    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        _die_with_parent($parent);
        open STDIN,  '<',  '/dev/null' or POSIX::_exit(126);
        open STDOUT, '>>', $stdio_log  or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT    or POSIX::_exit(126);
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP PIPE USR1 USR2 CHLD);
        { no warnings q(exec); exec { $argv[0] } @argv; }
        print STDERR "exec $argv[0]: $!\n";
        POSIX::_exit(127);
    }
    return $pid;
}

# Start redis-server or sentinel from a config; wait for PING (to answer
# +PONG, or also -LOADING with loading_ok).
sub _start_server {
    my (%a) = @_;
    my $self = bless {
        kind     => $a{kind},
        port     => $a{port},
        dir      => $a{dir},
        log_file => $a{log_file},
        conf     => $a{conf_file},
        password => $a{password},
        user     => undef,
        pass     => $a{password},
        tls      => $a{tls},
        host     => $a{host} // '127.0.0.1',
    }, 'RedisTopo::Server';
    my $stdio = "$a{dir}/stdio.log";
    $self->{pid} = _spawn_exec($stdio, $REDIS_SERVER, $a{conf_file},
                               @{ $a{extra_argv} || [] });
    push @PROCS, $self;

    eval {
        wait_until(sub {
            die "$a{kind} on port $self->{port} exited during startup\n"
                unless $self->alive;
            my ($out) = eval { $self->_cli(2, 'PING') };
            return defined $out
                   && ($out eq 'PONG'
                       || ($a{loading_ok} && $out =~ /^LOADING /));
        }, 10, "$a{kind} on port $self->{port} to answer PING");
        1;
    } or do {
        my $err = $@;
        croak join "\n", $err, _tail($self->{log_file}, 20), _tail($stdio, 20);
    };
    return $self;
}

sub _write_file {
    my ($file, $text) = @_;
    open my $fh, '>', $file or croak "cannot write $file: $!";
    print {$fh} $text;
    close $fh or croak "cannot write $file: $!";
}

# a value as a double-quoted redis.conf string (spaces, "#" and quotes)
sub _quote {
    my ($v) = @_;
    $v =~ s/(["\\])/\\$1/g;
    return qq{"$v"};
}

# start_redis(%opt) -> RedisTopo::Server
sub start_redis {
    my (%opt) = @_;
    my $port = $opt{port} || free_port();
    $USED_PORTS{$port} = 1;
    # bind => ADDRESS: another loopback address (127.0.0.5), so that one
    # port may be a server at each of several addresses
    my $bind = $opt{bind} // '127.0.0.1';
    my $dir  = _tempdir($bind eq '127.0.0.1' ? "redis-$port"
                                            : "redis-$bind-$port");
    my $log  = "$dir/redis.log";
    my @conf = (
        "bind $bind",
        # tls => RedisTopo::Tls: TLS only, with client certificates
        $opt{tls} ? ('port 0', "tls-port $port", $opt{tls}->redis_conf)
                  : ("port $port"),
        "dir $dir",
        "logfile $log",
        'save ""',
        'appendonly no',
        'daemonize no',
        'protected-mode no',
        # Full syncs start at once instead of after the 5 s default delay.
        'repl-diskless-sync-delay 0',
    );
    push @conf, 'replicaof ' . ($opt{replicaof_host} // '127.0.0.1')
                . " $opt{replicaof}" if $opt{replicaof};
    # a replica at another address says so to its master (and so to the
    # Sentinels), as a pod does: the kernel would give its connection the
    # source address 127.0.0.1
    push @conf, "replica-announce-ip $bind" if $bind ne '127.0.0.1';
    push @conf, 'requirepass ' . _quote($opt{requirepass})
        if defined $opt{requirepass};
    push @conf, 'masterauth ' . _quote($opt{masterauth})
        if defined $opt{masterauth};
    push @conf, @{ $opt{conf} || [] };
    my $conf_file = "$dir/redis.conf";
    _write_file($conf_file, join("\n", @conf) . "\n");

    my $srv = _start_server(
        kind      => 'redis-server',
        port      => $port,
        dir       => $dir,
        log_file  => $log,
        conf_file => $conf_file,
        password  => $opt{requirepass},
        tls       => $opt{tls},
        loading_ok => $opt{loading_ok},
        host      => $bind,
    );
    $srv->{replicaof} = $opt{replicaof};

    if ($opt{replicaof} && ($opt{wait_replica_up} // 1)) {
        $srv->wait_link_up;
    }
    return $srv;
}

# start_sentinel(%opt) -> RedisTopo::Server (a sentinel)
sub start_sentinel {
    my (%opt) = @_;
    my $port = $opt{port} || free_port();
    $USED_PORTS{$port} = 1;
    my $dir  = _tempdir("sentinel-$port");
    my $log  = "$dir/sentinel.log";
    my $bind = $opt{bind} // '127.0.0.1';
    my @conf = (
        "bind $bind",
        $opt{tls} ? ('port 0', "tls-port $port", $opt{tls}->redis_conf)
                  : ("port $port"),
        "dir $dir",
        "logfile $log",
        'daemonize no',
        'protected-mode no',
        'sentinel resolve-hostnames no',
    );
    if (my $m = $opt{monitor}) {
        my ($name, $mport, $quorum, $mhost) = @$m;
        $quorum ||= 1;
        $mhost //= '127.0.0.1';
        push @conf,
            "sentinel monitor $name $mhost $mport $quorum",
            "sentinel down-after-milliseconds $name " . ($opt{down_after} // 1000),
            "sentinel failover-timeout $name " . ($opt{failover_timeout} // 3000),
            "sentinel parallel-syncs $name " . ($opt{parallel_syncs} // 1);
        push @conf, "sentinel auth-pass $name $opt{auth_pass}"
            if defined $opt{auth_pass};
    }
    push @conf, @{ $opt{conf} || [] };
    # Sentinel rewrites its config file, so it must be a writable copy.
    my $conf_file = "$dir/sentinel.conf";
    _write_file($conf_file, join("\n", @conf) . "\n");

    my $s = _start_server(
        kind       => 'sentinel',
        port       => $port,
        dir        => $dir,
        log_file   => $log,
        conf_file  => $conf_file,
        extra_argv => ['--sentinel'],
        tls        => $opt{tls},
        host       => $bind,
    );
    $s->{monitor} = $opt{monitor};
    return $s;
}

# Fork a perl child that runs CODE->(LISTENER, STATE_FILE) around a
# listening socket bound by the parent (so the port is ready at once).
# Returns (pid, dir).  The child never returns and never runs END blocks.
sub _spawn_loop {
    my ($tag, $listener, $code) = @_;
    my $dir   = _tempdir("$tag-" . $listener->sockport);
    my $state = "$dir/state";
    my $errlog = "$dir/stderr.log";
    my $parent = $$;
    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        # --- child ---
        _die_with_parent($parent);
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP USR1 USR2 CHLD ALRM);
        $SIG{PIPE} = 'IGNORE';     # writes to dead peers must return EPIPE
        delete $SIG{__DIE__};
        delete $SIG{__WARN__};
        # Drop every inherited descriptor except stdio and the listener, so
        # the child does not hold the test's pipes (e.g. prove's) open.
        my $keep = fileno $listener;
        if (opendir my $dh, '/proc/self/fd') {
            my @fds = grep { /^\d+\z/ && $_ > 2 && $_ != $keep } readdir $dh;
            closedir $dh;
            POSIX::close($_) for @fds;
        }
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', $errlog;
        my $ok = eval { $code->($listener, $state, $parent); 1 };
        print STDERR "$tag: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    close $listener;
    return ($pid, $dir, $state);
}

# Atomically (re)write a child's state file.
sub _write_state {
    my ($file, $text) = @_;
    my $tmp = "$file.tmp";
    open my $fh, '>', $tmp or return;
    print {$fh} $text;
    close $fh;
    rename $tmp, $file;
}

sub _read_state {
    my ($file) = @_;
    open my $fh, '<', $file or return;
    my $line = <$fh> // return;
    chomp $line;
    my ($seq, $state, $active, $accepted, $sent, $flooding) = split ' ', $line;
    return { seq => $seq, state => $state, active => $active,
             accepted => $accepted, sent => $sent // 0,
             flooding => $flooding // 0 };
}

# start_relay(to => PORT, [port => LISTEN_PORT]) -> RedisTopo::Relay
sub start_relay {
    my (%opt) = @_;
    my $to = $opt{to} or croak 'start_relay: "to" port required';
    my $listener = _listen($opt{port});
    my $port = $listener->sockport;
    my ($pid, $dir, $state) =
        _spawn_loop('relay', $listener, sub { RedisTopo::Relay::_main($to, @_) });
    my $self = bless {
        port => $port, pid => $pid, to => $to, dir => $dir,
        state_file => $state, seq => 0,
    }, 'RedisTopo::Relay';
    push @PROCS, $self;
    # Wait for the first state write: the signal handlers are installed.
    $self->_wait_ack('running');
    return $self;
}

# start_writer(SERVER, [every => SECONDS]) -> RedisTopo::Proc: a redis-cli
# that writes a key on SERVER every 20 ms (or SECONDS) until stopped
sub start_writer {
    my ($srv, %opt) = @_;
    my $dir = _tempdir('writer-' . $srv->port);
    my $self = bless { port => $srv->port, dir => $dir }, 'RedisTopo::Proc';
    $self->{pid} = _spawn_exec("$dir/stdio.log", $srv->_cli_argv(
        '-r', '100000000', '-i', $opt{every} // 0.02,
        'SET', 'written', 'x' x 64));
    push @PROCS, $self;
    return $self;
}

# start_dns([records => { NAME => IP or [IP, ...] }], [ttl => SECONDS]) ->
# RedisTopo::Dns: a DNS server on 127.0.0.1, UDP, whose answers the test
# changes (set, unset, servfail, silence, nodata); its records carry the
# TTL (default 1 second)
sub start_dns {
    my (%opt) = @_;
    my $ttl = $opt{ttl} // $RedisTopo::Dns::TTL;
    croak "start_dns: ttl must be a whole number of seconds, not '$ttl'"
        unless $ttl =~ /\A\d+\z/;
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                     LocalPort => 0, Proto => 'udp')
        or croak "cannot bind a UDP socket on 127.0.0.1: $!";
    my $port = $sock->sockport;
    my $dir = _tempdir("dns-$port");
    my $records = "$dir/records";
    my $counts = "$dir/queries";
    my $self = bless {
        port => $port, dir => $dir, records_file => $records, ttl => $ttl,
        counts_file => $counts,
    }, 'RedisTopo::Dns';
    $self->set(%{ $opt{records} || {} });
    my $parent = $$;
    my $pid = fork // croak "fork: $!";
    if (!$pid) {
        _die_with_parent($parent);
        $SIG{$_} = 'DEFAULT' for qw(INT TERM HUP USR1 USR2 CHLD ALRM);
        open STDIN,  '<', '/dev/null';
        open STDOUT, '>', '/dev/null';
        open STDERR, '>>', "$dir/stderr.log";
        my $ok = eval {
            RedisTopo::Dns::_main($records, $sock, $ttl, $counts);
            1;
        };
        print STDERR "dns: $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    close $sock;
    $self->{pid} = $pid;
    push @PROCS, $self;
    return $self;
}

# start_hostile(mode => MODE, [port => P], [flood_bytes => N],
#               [flood_seconds => S], [OPTIONS]) -> RedisTopo::Hostile
#   garbage wrongtype huge drip silence error: a fake Redis server
#   echo: answers AUTH with +OK, then repeats the credentials it was sent in
#         every other reply: PING gets an error quoting them; as a Sentinel
#         it names them as the master's host and publishes them in events
#   sentinel-endless, sentinel-nested, sentinel-stall, sentinel-chatty: a
#         Sentinel that answers its probes (no such master) and confirms
#         SUBSCRIBE, then sends a bulk string that never ends, arrays
#         nested without end, the start of a reply and nothing more, or
#         +sdown events about "mymaster" without end; each flood ends
#         with its connection, after flood_bytes (64 MiB) or flood_seconds
#         (120 s), whichever comes first
#   inject: a server or Sentinel that answers its probes with the texts
#         given as options (replid, replid2, role, master_host, error,
#         names: see RedisTopo::Hostile::_inject_reply)
my %HOSTILE_MODES = map { $_ => 1 }
    qw(garbage wrongtype huge drip silence error echo
       sentinel-endless sentinel-nested sentinel-stall sentinel-chatty
       inject);

sub start_hostile {
    my (%opt) = @_;
    my $mode = $opt{mode} // '';
    croak "start_hostile: unknown mode '$mode'" unless $HOSTILE_MODES{$mode};
    my $listener = _listen($opt{port});
    my $port = $listener->sockport;
    my $limits = {
        bytes   => $opt{flood_bytes} // $RedisTopo::Hostile::FLOOD_BYTES,
        seconds => $opt{flood_seconds} // $RedisTopo::Hostile::FLOOD_SECONDS,
    };
    my ($pid, $dir, $state) =
        _spawn_loop("hostile-$mode", $listener,
                    sub { RedisTopo::Hostile::_main($mode, $limits, @_,
                                                    \%opt) });
    my $self = bless {
        port => $port, pid => $pid, mode => $mode, dir => $dir,
        state_file => $state,
    }, 'RedisTopo::Hostile';
    push @PROCS, $self;
    wait_until(sub {
        die "hostile '$mode' exited during startup\n" unless $self->alive;
        _read_state($state);
    }, 5, "hostile '$mode' on port $port to start");
    return $self;
}

# stop_all(): stop everything started so far (newest first), remove the
# temp dirs unless $ENV{TOPO_KEEP}.
sub stop_all {
    my @errors;
    for my $p (reverse @PROCS) {
        eval { $p->stop; 1 } or push @errors, $@;
    }
    @PROCS = ();
    if ($ENV{TOPO_KEEP}) {
        print STDERR "# RedisTopo: keeping $_\n" for @DIRS;
    } else {
        File::Path::remove_tree($_) for @DIRS;
    }
    @DIRS = ();
    warn "RedisTopo::stop_all: $_" for @errors;
    return 1;
}

1;

__END__

=head1 NAME

RedisTopo - real redis-server/sentinel topologies, relays and hostile
backends for tests

=head1 SYNOPSIS

    use lib 't/lib';
    use RedisTopo qw(:all);

    my $m = start_redis();
    my $r = start_redis(replicaof => $m->port);      # waits for link up
    my $s = start_sentinel(monitor => ['mymaster', $m->port, 1]);
    my $relay = start_relay(to => $m->port);
    $relay->pause; $relay->resume; $relay->cut;
    my $h = start_hostile(mode => 'drip');
    $m->cmd(qw(SET k v));
    wait_until(sub { $r->cmd('GET', 'k') eq 'v' }, 5, 'replication of k');
    stop_all();   # also done in END

=head1 FUNCTIONS

free_port, start_redis, start_sentinel, start_relay, start_hostile,
start_dns, start_writer, wait_until, wait_log, log_size, children_of, stop_all, scaled.

Every TIMEOUT is a deadline in seconds that is multiplied by
C<TEST_NGINX_TIMEOUT_SCALE> (default 3); C<scaled(SECONDS)> gives the
product.

start_redis options: port, bind (an address other than 127.0.0.1, such as
127.0.0.5: with the same port, a server "restarted on a new address"),
replicaof (a port), replicaof_host (its address, default 127.0.0.1),
requirepass, masterauth, conf, wait_replica_up, loading_ok (return once
PING answers -LOADING too, for a server that loads a data set at start).
The base config also sets C<repl-diskless-sync-delay 0> so replicas come
up fast (override via C<conf>), and for a server bound to another
address C<replica-announce-ip> that address.

start_redis and start_sentinel take C<tls> (a RedisTopo::Tls, from
F<t/lib/RedisTopo/Tls.pm>): TLS only on the port, with client
certificates.

start_sentinel options: port, bind (an address other than 127.0.0.1, such
as 127.0.0.2), monitor => [NAME, PORT, QUORUM, [HOST]] (the master at
HOST:PORT, 127.0.0.1 unless given), down_after,
failover_timeout, parallel_syncs, auth_pass, tls, conf.

start_writer(SERVER, [every => SECONDS]): a redis-cli that sets a key on
SERVER every 20 ms until it is stopped (a master that takes writes).

start_dns(records => { NAME => IP or [IP, ...] }, [ttl => SECONDS]): a
DNS server on 127.0.0.1 (UDP) for nginx's resolver; C<< $dns->set(NAME =>
IP) >>, C<< $dns->set(NAME => [IP, IP]) >> (several A records),
C<< $dns->unset(NAME) >> (NXDOMAIN), C<< $dns->nodata(NAME) >> (no
record), C<< $dns->servfail(NAME) >> (SERVFAIL) and
C<< $dns->silence(NAME) >> (no answer) change its answers, and
C<< $dns->queries(NAME) >> counts the queries for NAME; the records'
TTL is 1 second unless C<ttl> says otherwise (F<t/lib/RedisTopo/Dns.pm>).

=head1 OBJECTS

One file per class: F<t/lib/RedisTopo/Proc.pm> (the base class),
F<Server.pm>, F<Relay.pm> (with the relay child's main loop) and
F<Hostile.pm> (with the hostile child's main loop), all loaded by
C<use RedisTopo>.

All objects: pid, port, dir, alive, stop, kill9, sigstop, sigcont.

RedisTopo::Server: cmd, info, role, count_calls, set_auth, wait_link_up,
log_file, conf_file, password, user, pass, last_err, last_status.

RedisTopo::Relay: pause, resume, cut, stats, to.

RedisTopo::Hostile: mode, stats (seq, state, active, accepted, and for a
flooding fake sent and flooding).  start_hostile takes flood_bytes
(default 64 MiB) and flood_seconds (default 120): a flood on one
connection ends at either, or with the connection.

=head1 ENVIRONMENT

TOPO_KEEP keeps the temp dirs; TOPO_REDIS_SERVER / TOPO_REDIS_CLI override
the binaries; TEST_NGINX_TIMEOUT_SCALE multiplies every deadline.

=cut
