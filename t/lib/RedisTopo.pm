package RedisTopo;

# RedisTopo - orchestrate real redis-server / sentinel processes, TCP relays
# and hostile fake backends for the test suites.
#
# Every process started here is a direct child of the process that loaded
# this module; it is registered, and stopped by pid (TERM, up to 5 s, then
# KILL, then waitpid) by stop()/stop_all() and by the END block.  Waiting is
# always polling a condition against a deadline (wait_until), never a bare
# sleep.  Every deadline is multiplied by TEST_NGINX_TIMEOUT_SCALE (see
# scaled()).  See the POD at the end of the file for the API.

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

our @EXPORT_OK = qw(
    free_port start_redis start_sentinel start_relay start_hostile
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

# wait_log(FILE, REGEX, TIMEOUT, [FROM_OFFSET]): wait until a line of FILE
# after byte offset FROM_OFFSET matches REGEX; return that line (chomped).
sub wait_log {
    my ($file, $re, $timeout, $from) = @_;
    $re   = qr/$re/ unless ref $re eq 'Regexp';
    $from //= 0;
    $timeout //= 10;
    return wait_until(sub {
        open my $fh, '<', $file or return;
        binmode $fh;
        seek $fh, $from, 0 or return;
        local $/ = "\n";
        while (my $line = <$fh>) {
            chomp $line;
            $line =~ s/\r\z//;
            return $line if $line =~ $re;
        }
        return;
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
    my @l = <$fh>;
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

# Start redis-server or sentinel from a config; wait for PING.
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
            return defined $out && $out eq 'PONG';
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
    my $dir  = _tempdir("redis-$port");
    my $log  = "$dir/redis.log";
    my @conf = (
        'bind 127.0.0.1',
        "port $port",
        "dir $dir",
        "logfile $log",
        'save ""',
        'appendonly no',
        'daemonize no',
        'protected-mode no',
        # Full syncs start at once instead of after the 5 s default delay.
        'repl-diskless-sync-delay 0',
    );
    push @conf, "replicaof 127.0.0.1 $opt{replicaof}" if $opt{replicaof};
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
    my @conf = (
        'bind 127.0.0.1',
        "port $port",
        "dir $dir",
        "logfile $log",
        'daemonize no',
        'protected-mode no',
        'sentinel resolve-hostnames no',
    );
    if (my $m = $opt{monitor}) {
        my ($name, $mport, $quorum) = @$m;
        $quorum ||= 1;
        push @conf,
            "sentinel monitor $name 127.0.0.1 $mport $quorum",
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
    my ($seq, $state, $active, $accepted) = split ' ', $line;
    return { seq => $seq, state => $state, active => $active,
             accepted => $accepted };
}

# start_relay(to => PORT, [port => LISTEN_PORT]) -> RedisTopo::Relay
sub start_relay {
    my (%opt) = @_;
    my $to = $opt{to} or croak 'start_relay: "to" port required';
    my $listener = _listen($opt{port});
    my $port = $listener->sockport;
    my ($pid, $dir, $state) =
        _spawn_loop('relay', $listener, sub { _relay_main($to, @_) });
    my $self = bless {
        port => $port, pid => $pid, to => $to, dir => $dir,
        state_file => $state, seq => 0,
    }, 'RedisTopo::Relay';
    push @PROCS, $self;
    # Wait for the first state write: the signal handlers are installed.
    $self->_wait_ack('running');
    return $self;
}

# start_hostile(mode => MODE, [port => P]) -> RedisTopo::Hostile
#   garbage wrongtype huge drip silence error: a fake Redis server
#   echo: answers AUTH with +OK, then repeats the credentials it was sent in
#         every other reply: PING gets an error quoting them; as a Sentinel
#         it names them as the master's host and publishes them in events
#   sentinel-endless, sentinel-nested, sentinel-stall, sentinel-chatty: a
#         Sentinel that answers its probes (no such master) and confirms
#         SUBSCRIBE, then sends a bulk string that never ends, arrays
#         nested without end, the start of a reply and nothing more, or
#         +sdown events about "mymaster" without end
my %HOSTILE_MODES = map { $_ => 1 }
    qw(garbage wrongtype huge drip silence error echo
       sentinel-endless sentinel-nested sentinel-stall sentinel-chatty);

sub start_hostile {
    my (%opt) = @_;
    my $mode = $opt{mode} // '';
    croak "start_hostile: unknown mode '$mode'" unless $HOSTILE_MODES{$mode};
    my $listener = _listen($opt{port});
    my $port = $listener->sockport;
    my ($pid, $dir, $state) =
        _spawn_loop("hostile-$mode", $listener,
                    sub { _hostile_main($mode, @_) });
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

# ---------------------------------------------------------------------------
# The relay child
# ---------------------------------------------------------------------------
#
# Signals: USR1 = pause, USR2 = resume, HUP = cut; TERM (default) ends it.
# After handling a signal it rewrites its state file with the number of
# control signals handled so far, which the parent waits for.

sub _relay_main {
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
        _write_state($state_file, join(' ', $acked,
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

    if ($cmd eq 'SUBSCRIBE') {
        my $out = '';
        for my $i (1 .. $#$args) {
            $out .= "*3\r\n" . _bulk('subscribe') . _bulk($args->[$i])
                  . ":$i\r\n";
        }
        $c->{flood} = $mode;
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

sub _hostile_main {
    my ($mode, $listener, $state_file, $parent) = @_;
    $listener->blocking(0);
    my %conns;     # fileno => { fh, in, out, ... }
    my $accepted = 0;
    my $huge_len = 1073741824;
    my $drip     = "+PONG\r\n";
    my $report = sub {
        _write_state($state_file,
            "0 $mode " . scalar(keys %conns) . " $accepted\n");
    };
    $report->();

    while (1) {
        POSIX::_exit(0) if getppid() != $parent;    # the test went away

        my $now = _now();
        my $timeout = 0.2;
        my $rsel = IO::Select->new($listener);
        my $wsel = IO::Select->new;
        for my $c (values %conns) {
            $rsel->add($c->{fh});
            $wsel->add($c->{fh})
                if length $c->{out} || ($c->{huge_left} && $c->{huge_left} > 0)
                   || ($c->{flood} && $c->{flood} =~ /endless|nested|chatty/);
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
            } elsif ($mode eq 'drip') {
                if (!defined $c->{drip_at}) {
                    $c->{drip_at}  = _now();    # first byte right away
                    $c->{drip_pos} = 0;
                }
            }
            # 'silence': read and discard.
        }

        for my $fh (@{ $w || [] }) {
            my $c = $conns{ fileno $fh } or next;
            $c->{out} = _flood_chunk($c)
                if !length $c->{out} && $c->{flood};
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
        }

        # 'drip': one byte of "+PONG\r\n" (cyclically) every 300 ms.
        $now = _now();
        for my $c (values %conns) {
            next unless defined $c->{drip_at} && $c->{drip_at} <= $now;
            my $byte = substr $drip, $c->{drip_pos}++ % length($drip), 1;
            syswrite $c->{fh}, $byte;    # one byte never blocks in practice
            $c->{drip_at} = $now + 0.3;
        }
    }
}

# ===========================================================================
# RedisTopo::Proc - common base: a child process tracked by pid
# ===========================================================================

package RedisTopo::Proc;

use strict;
use warnings;
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

# ===========================================================================
# RedisTopo::Server - a redis-server or sentinel
# ===========================================================================

package RedisTopo::Server;

use strict;
use warnings;
our @ISA = ('RedisTopo::Proc');

sub password { $_[0]{password} }
sub user     { $_[0]{user} }
sub pass     { $_[0]{pass} }
sub log_file { $_[0]{log_file} }
sub conf_file { $_[0]{conf} }

# set_auth(user => U, pass => P): later cmd() calls authenticate.
sub set_auth {
    my ($self, %a) = @_;
    $self->{user} = $a{user};
    $self->{pass} = $a{pass};
    return $self;
}

sub _cli_argv {
    my ($self, @args) = @_;
    my @argv = ($RedisTopo::REDIS_CLI, '-h', '127.0.0.1', '-p', $self->{port},
                '--no-auth-warning');
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

# ===========================================================================
# RedisTopo::Relay - a forked TCP relay controlled by signals
# ===========================================================================

package RedisTopo::Relay;

use strict;
use warnings;
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

# ===========================================================================
# RedisTopo::Hostile - a fake, misbehaving Redis
# ===========================================================================

package RedisTopo::Hostile;

use strict;
use warnings;
our @ISA = ('RedisTopo::Proc');

sub mode  { $_[0]{mode} }
sub stats { RedisTopo::_read_state($_[0]{state_file}) }

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
wait_until, wait_log, log_size, children_of, stop_all, scaled.

Every TIMEOUT is a deadline in seconds that is multiplied by
C<TEST_NGINX_TIMEOUT_SCALE> (default 3); C<scaled(SECONDS)> gives the
product.

start_redis options: port, replicaof, requirepass, masterauth, conf,
wait_replica_up.  The base config also sets C<repl-diskless-sync-delay 0>
so replicas come up fast (override via C<conf>).

start_sentinel options: port, monitor => [NAME, PORT, QUORUM], down_after,
failover_timeout, parallel_syncs, auth_pass, conf.

=head1 OBJECTS

All objects: pid, port, dir, alive, stop, kill9, sigstop, sigcont.

RedisTopo::Server: cmd, info, role, count_calls, set_auth, wait_link_up,
log_file, conf_file, password, user, pass, last_err, last_status.

RedisTopo::Relay: pause, resume, cut, stats, to.

RedisTopo::Hostile: mode, stats.

=head1 ENVIRONMENT

TOPO_KEEP keeps the temp dirs; TOPO_REDIS_SERVER / TOPO_REDIS_CLI override
the binaries; TEST_NGINX_TIMEOUT_SCALE multiplies every deadline.

=cut
