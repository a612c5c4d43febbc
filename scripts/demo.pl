#!/usr/bin/perl
# demo.pl - what "make demo" runs: a local Redis topology (a master, two
# replicas, three Sentinels) behind Debian's nginx with this module, a write
# and a read through nginx, then the master is killed and the script shows
# the Sentinels promoting a replica and nginx routing writes to it.
#
# Usage (from the repository root, after "make"):
#     perl -I t/lib scripts/demo.pl
#
# Exits 0 on success, non-zero with a message when a step times out.  nginx
# and every Redis process are stopped in all cases; DEMO_KEEP=1 keeps the
# nginx directory (config and error log) for a look afterwards, and
# DEMO_NGINX names another nginx binary than /usr/sbin/nginx.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path ();
use File::Temp ();
use HTTP::Tiny;
use IO::Select;
use JSON::PP ();
use POSIX ();
use Time::HiRes qw(time sleep);

use RedisTopo qw(start_redis start_sentinel free_port wait_until stop_all);

$| = 1;

my $ROOT   = abs_path(dirname(__FILE__) . '/..');
my $NGINX  = $ENV{DEMO_NGINX} || '/usr/sbin/nginx';
my $STREAM = '/usr/lib/nginx/modules/ngx_stream_module.so';
my $MODULE = "$ROOT/build/ngx_stream_redis_master_module.so";
my $CLI    = $RedisTopo::REDIS_CLI;
my $NAME   = 'mymaster';           # the Sentinels' name for the master

my $CREATOR = $$;
my ($dir, $nginx_pid, @nginx_workers, $failed);

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

sub step { print "\n== $_[0]\n" }
sub say_ { print '   ', @_, "\n" }

# cli(PORT, ARGS..., [\INPUT]): run redis-cli against 127.0.0.1:PORT with a
# 3 s limit; returns its stdout and stderr, trailing newline removed.  With
# \INPUT and no ARGS, redis-cli runs the lines of INPUT on one connection.
sub cli {
    my ($port, @args) = @_;
    my $input = ref $args[-1] eq 'SCALAR' ? ${ pop @args } : '';

    pipe(my $in_r, my $in_w) or die "pipe: $!\n";
    my $pid = open(my $out, '-|') // die "fork: $!\n";

    if (!$pid) {
        close $in_w;
        open STDIN,  '<&', $in_r   or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        { no warnings 'exec'; exec $CLI, '-h', '127.0.0.1', '-p', $port, @args; }
        POSIX::_exit(127);
    }

    close $in_r;
    print {$in_w} $input;
    close $in_w;

    my $buf = '';
    my $sel = IO::Select->new($out);
    my $deadline = time + 3;

    while (1) {
        my $left = $deadline - time;
        if ($left <= 0) {
            kill 'KILL', $pid;
            close $out;
            die "redis-cli -p $port @args did not finish within 3 s\n";
        }
        next unless $sel->can_read($left);
        my $n = sysread $out, $buf, 65536, length $buf;
        last unless $n;
    }

    close $out;    # reaps redis-cli
    $buf =~ s/\n+\z//;
    return $buf;
}

# the port of the server a new connection through nginx reaches, or undef
sub reached {
    my ($port) = @_;
    my $out = eval { cli($port, qw(CONFIG GET port)) } // '';
    return $out =~ /\Aport\n(\d+)\z/ ? $1 : undef;
}

# GET KEY and CONFIG GET port on one connection: (value, server port)
sub get_and_port {
    my ($port, $key) = @_;
    my $out = eval { cli($port, \"GET $key\nCONFIG GET port\n") } // '';
    return $out =~ /\A(.*)\nport\n(\d+)\z/s ? ($1, $2) : ();
}

sub elapsed { sprintf '%.2f s', time - $_[0] }
sub since   { sprintf '+%5.2f s', time - $_[0] }

# Become the reaper of orphaned descendants (PR_SET_CHILD_SUBREAPER), so
# that the daemonized nginx master is reparented to this script, which
# reaps it, rather than to an init that may not.  Best effort.
sub become_subreaper {
    eval {
        local $SIG{__DIE__};
        require 'syscall.ph';    ## no critic
        syscall(&SYS_prctl, 36, 1, 0, 0, 0);
        1;
    };
}

# a process that exists and is not a zombie; reaps it if it is our child
sub running {
    my ($pid) = @_;
    { local $?; waitpid $pid, POSIX::WNOHANG(); }
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // return 0;
    my ($state) = substr($stat, rindex($stat, ')') + 2) =~ /^(\S)/;
    return $state ne 'Z';
}

sub read_pid {
    my ($file) = @_;
    open my $fh, '<', $file or return;
    my $pid = <$fh> // return;
    return $pid =~ /^(\d+)/ ? $1 : undef;
}

sub stop_nginx {
    return unless $nginx_pid;
    my $pid = $nginx_pid;
    undef $nginx_pid;

    # graceful first; worker_shutdown_timeout bounds it
    kill 'QUIT', $pid if running($pid);
    my $gone = eval { wait_until(sub { !running($pid) }, 10, 'nginx to quit'); 1 };

    for my $sig (qw(TERM KILL)) {
        last if $gone;
        kill $sig, $pid;
        $gone = eval { wait_until(sub { !running($pid) }, 5,
                                  "nginx to exit after SIG$sig"); 1 };
    }

    # the workers end with their master; make sure of it
    for my $w (@nginx_workers) {
        next unless running($w);
        kill 'KILL', $w;
    }

    warn "nginx (pid $pid) did not stop\n" unless $gone;
    return $gone;
}

sub cleanup {
    stop_nginx();
    stop_all();
    if ($dir && -d $dir) {
        if ($ENV{DEMO_KEEP} || $failed) {
            print "   nginx files kept in $dir\n";
        } else {
            File::Path::remove_tree($dir);
        }
        undef $dir;
    }
}

END {
    # keep the exit status: the waits below would clobber $?
    local $?;
    cleanup() if $$ == $CREATOR;
}

sub error_log_lines {
    my ($level) = @_;
    open my $fh, '<', "$dir/error.log" or return ();
    return grep { /\[\Q$level\E\]/ } map { chomp; $_ } <$fh>;
}

# ---------------------------------------------------------------------------
# the demo
# ---------------------------------------------------------------------------

sub demo {
    die "build the module first (make): $MODULE is missing\n" unless -f $MODULE;
    die "$NGINX is missing (apt-get install nginx libnginx-mod-stream)\n"
        unless -x $NGINX;
    die "$STREAM is missing (apt-get install libnginx-mod-stream)\n"
        unless -f $STREAM;

    # --- Redis ---------------------------------------------------------------

    step '1. Redis: a master, two replicas, three Sentinels';

    my $master = start_redis();
    my @replicas = map { start_redis(replicaof => $master->port) } 1 .. 2;
    my %replica = map { $_->port => $_ } @replicas;

    say_ sprintf 'master    127.0.0.1:%d (pid %d)', $master->port, $master->pid;
    say_ sprintf 'replica   127.0.0.1:%d (pid %d)', $_->port, $_->pid
        for @replicas;

    my @sentinels = map {
        start_sentinel(monitor => [$NAME, $master->port, 2], down_after => 1000)
    } 1 .. 3;

    say_ sprintf 'sentinel  127.0.0.1:%d (pid %d)', $_->port, $_->pid
        for @sentinels;
    say_ "Sentinels monitor \"$NAME\": quorum 2, down-after-milliseconds 1000";

    my $t = time;
    wait_until(sub {
        for my $s (@sentinels) {
            my $line = $s->info('sentinel')->{master0} // '';
            return 0 unless $line =~ /status=ok/ && $line =~ /slaves=2\b/
                            && $line =~ /sentinels=3\b/;
        }
        1;
    }, 30, 'each Sentinel to see both replicas and the two other Sentinels');
    say_ 'every Sentinel sees both replicas and the other two Sentinels ('
         . elapsed($t) . ')';

    # --- nginx -----------------------------------------------------------------

    step '2. nginx with the module';

    $dir = File::Temp::tempdir('redis-master-demo-XXXXXX', TMPDIR => 1,
                               CLEANUP => 0);
    my ($rw, $ro, $web) = (free_port(), free_port(), free_port());
    my $servers = join '',
        map { "        server 127.0.0.1:$_;\n" }
        $master->port, map { $_->port } @replicas;

    my $conf = <<"CONF";
load_module $STREAM;
load_module $MODULE;

worker_processes 2;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
worker_shutdown_timeout 5s;

events {
    worker_connections 1024;
}

stream {
    upstream redis_rw {
$servers        redis_master;
        redis_check interval=200ms timeout=500ms;
    }

    upstream redis_ro {
$servers        redis_replica;
        redis_check interval=200ms timeout=500ms;
    }

    server {
        listen 127.0.0.1:$rw;
        proxy_pass redis_rw;
    }

    server {
        listen 127.0.0.1:$ro;
        proxy_pass redis_ro;
    }
}

http {
    access_log off;

    server {
        listen 127.0.0.1:$web;

        # the status page (docs/status.md)
        location /redis/ {
            allow 127.0.0.1;
            deny all;
            redis_master_status;
        }
    }
}
CONF

    open my $fh, '>', "$dir/nginx.conf" or die "cannot write $dir/nginx.conf: $!\n";
    print {$fh} $conf;
    close $fh or die "cannot write $dir/nginx.conf: $!\n";

    say_ "config: $dir/nginx.conf";
    say_ "  upstream redis_rw (redis_master)  listens on 127.0.0.1:$rw";
    say_ "  upstream redis_ro (redis_replica) listens on 127.0.0.1:$ro";
    say_ "  status page: http://127.0.0.1:$web/redis/ "
         . '(?format=json, ?format=prometheus)';

    system($NGINX, '-p', "$dir/", '-c', "$dir/nginx.conf") == 0
        or die "nginx did not start (exit status " . ($? >> 8) . ")\n";

    $nginx_pid = wait_until(sub { read_pid("$dir/nginx.pid") }, 5,
                            "nginx to write $dir/nginx.pid");
    @nginx_workers = @{ wait_until(sub {
        my @w = RedisTopo::children_of($nginx_pid);
        @w >= 2 ? \@w : undef;
    }, 5, 'two nginx workers') };
    say_ "nginx started: master pid $nginx_pid, workers @nginx_workers";

    # --- routing -----------------------------------------------------------------

    step '3. writes go to the master, reads to a replica';

    $t = time;
    say_ "\$ redis-cli -p $rw CONFIG GET port    (repeated until it answers)";
    my $got = wait_until(sub { reached($rw) }, 10,
                         "redis-cli -p $rw CONFIG GET port to answer");
    die "nginx sent the first write connection to port $got, not to the "
        . "master " . $master->port . "\n" if $got != $master->port;
    say_ "port $got: the master (" . elapsed($t) . ' after nginx started)';

    my $value = 'written-' . time;
    say_ "\$ redis-cli -p $rw SET demo:key $value";
    my $out = cli($rw, 'SET', 'demo:key', $value);
    say_ $out;
    die "SET through nginx failed: $out\n" unless $out eq 'OK';

    say_ "\$ printf 'GET demo:key\\nCONFIG GET port\\n' | redis-cli -p $ro";
    my ($v, $port) = wait_until(sub {
        my @r = get_and_port($ro, 'demo:key');
        @r && $r[0] eq $value && $replica{ $r[1] } ? \@r : undef;
    }, 10, "a replica to answer GET demo:key through port $ro")->@*;
    say_ "$v  (answered by replica 127.0.0.1:$port)";

    # --- failover -------------------------------------------------------------

    step '4. failover: kill -9 the master';

    my %seen;
    my @attempts;    # what write attempts got while there was no master
    my $kill = time;
    $master->kill9;
    say_ sprintf '%s  master 127.0.0.1:%d killed', since($kill), $master->port;

    my ($promoted, $written, $named);
    wait_until(sub {
        my $tick = time;

        if (!$promoted) {
            for my $r (@replicas) {
                next unless (eval { $r->info('replication')->{role} } // '')
                            eq 'master';
                $promoted = $r;
                say_ sprintf '%s  replica 127.0.0.1:%d reports role:master '
                             . '(promoted by the Sentinels)',
                             since($kill), $r->port;
                last;
            }
        }

        if ($promoted && !$named) {
            my $n = grep {
                (eval { $_->cmd('SENTINEL', 'get-master-addr-by-name', $NAME) }
                 // '') eq "127.0.0.1\n" . $promoted->port
            } @sentinels;
            if ($n == @sentinels) {
                $named = 1;
                say_ sprintf '%s  all three Sentinels name 127.0.0.1:%d',
                             since($kill), $promoted->port;
            }
        }

        if (!$written) {
            my $r = eval { cli($rw, 'SET', 'demo:after', $value) } // $@;
            if ($r eq 'OK') {
                $written = time - $kill;
                say_ sprintf '%s  SET through nginx (port %d) succeeds again',
                             since($kill), $rw;
            } else {
                $r =~ s/\n.*//s;
                push @attempts, $r;
            }
        }

        return 1 if $promoted && $named && $written;

        my $rest = 0.1 - (time - $tick);
        sleep $rest if $rest > 0;
        return 0;
    }, 30, 'the Sentinels to promote a replica and writes through nginx '
           . 'to succeed');

    my %why;
    $why{ $_ eq '' ? '(no reply)' : $_ }++ for @attempts;
    say_ sprintf 'writes through nginx were refused for %.2f s; '
                 . '%d attempts failed:', $written, scalar @attempts;
    say_ "  $why{$_} x $_" for sort keys %why;

    $got = reached($rw) // 'none';
    say_ "\$ redis-cli -p $rw CONFIG GET port";
    say_ "port $got" . ($got eq $promoted->port ? ': the new master' : '');
    die "writes go to port $got, not to the new master " . $promoted->port
        . "\n" if $got ne $promoted->port;

    # what the status page says now
    my $res = HTTP::Tiny->new(timeout => 5)
        ->get("http://127.0.0.1:$web/redis/?format=json");
    if ($res->{success}) {
        my ($rw_status) = grep { $_->{name} eq 'redis_rw' }
                          @{ JSON::PP::decode_json($res->{content})->{upstreams} };
        say_ "status page: redis_rw master $rw_status->{master} (rule "
             . "$rw_status->{rule}), master changes "
             . "$rw_status->{counters}{failovers}, sessions closed "
             . "$rw_status->{counters}{sessions_closed}";
    }

    my ($other) = grep { $_ != $promoted } @replicas;
    $t = time;
    say_ "\$ printf 'GET demo:after\\nCONFIG GET port\\n' | redis-cli -p $ro"
         . '    (repeated until a replica answers)';
    ($v, $port) = wait_until(sub {
        my @r = get_and_port($ro, 'demo:after');
        @r && $r[0] eq $value && $r[1] == $other->port ? \@r : undef;
    }, 20, "the remaining replica " . $other->port . " to answer reads "
           . "through port $ro")->@*;
    say_ "$v  (answered by replica 127.0.0.1:$port, now a replica of "
         . $promoted->port . ', after ' . elapsed($t) . ')';

    # --- the log ---------------------------------------------------------------

    step "5. nginx's error log: the [warn] lines";

    print "   $_\n" for error_log_lines('warn');
    my $errors = () = error_log_lines('error');
    say_ "(and $errors [error] lines: failed probes of the dead master and "
         . 'connections refused while there was no master)' if $errors;

    step '6. stopping nginx and Redis';
    stop_nginx() or die "nginx did not stop\n";
    stop_all();
    say_ 'done';
}

become_subreaper();

my $ok = eval { demo(); 1 };

if (!$ok) {
    my $err = $@ || "unknown error\n";
    $failed = 1;
    print STDERR "\ndemo failed: $err";
    if ($dir && -f "$dir/error.log") {
        my @lines = do { open my $fh, '<', "$dir/error.log"; <$fh> };
        splice @lines, 0, @lines - 30 if @lines > 30;
        print STDERR "--- last lines of $dir/error.log ---\n", @lines;
    }
    exit 1;
}

exit 0;
