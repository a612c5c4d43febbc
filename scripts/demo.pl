#!/usr/bin/perl
# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# demo.pl - what "make demo" runs: a local Redis topology (a master, two
# replicas, three Sentinels, ACL users) behind Debian's nginx with this
# module in the configuration docs/failover.md recommends: redis_sentinel,
# redis_master wait=, a read pool, a check user with a password_file.  It
# shows, with timings:
#   1. writes go to the master and reads to a replica;
#   2. a planned switchover (SENTINEL FAILOVER): a session opened to the old
#      master before it is closed by nginx, instead of getting READONLY;
#   3. the master is killed: a write sent at that moment waits for the
#      promoted replica instead of failing;
#   4. a partition: the master is cut off from the Sentinels and replicas
#      but not from the proxies; the HAProxy tcp-check recipe keeps writing
#      to it and loses those writes when it is demoted, the module stops.
#
# Usage (from the repository root, after "make"):
#     perl -I t/lib scripts/demo.pl
#
# Exits 0 on success, non-zero with a message when a step times out.  nginx,
# HAProxy and every Redis process are stopped in all cases.  Knobs:
#   DEMO_KEEP=1     keep the nginx directory (config, error log) afterwards
#   DEMO_HAPROXY=0  leave out HAProxy in the partition (nginx alone)
#   DEMO_NGINX=PATH another nginx binary than /usr/sbin/nginx

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path ();
use File::Temp ();
use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);

use RedisTopo qw(start_redis start_sentinel free_port wait_until stop_all);

$| = 1;

my $ROOT    = abs_path(dirname(__FILE__) . '/..');
my $NGINX   = $ENV{DEMO_NGINX} || '/usr/sbin/nginx';
my $HAPROXY = '/usr/sbin/haproxy';
my $USE_HAPROXY = $ENV{DEMO_HAPROXY} // 1;
my $STREAM  = '/usr/lib/nginx/modules/ngx_stream_module.so';
my $MODULE  = "$ROOT/build/ngx_stream_redis_master_module.so";
my $CLI     = $RedisTopo::REDIS_CLI;
my $NAME    = 'mymaster';           # the Sentinels' name for the master

# ACL users on every server: "checker" for nginx's and HAProxy's checks,
# "app" for the clients; Sentinels and replicas use "default"
my @ACL = ('user checker on >checkpass +ping +info',
           'user app on >apppass ~* &* +@all');

my $CREATOR = $$;
my ($dir, $nginx_pid, @nginx_workers, $haproxy_pid, $failed);

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

sub step { print "\n== $_[0]\n" }
sub say_ { print '   ', @_, "\n" }

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

sub stop_haproxy {
    return unless $haproxy_pid;
    my $pid = $haproxy_pid;
    undef $haproxy_pid;
    kill 'TERM', $pid;
    eval { wait_until(sub { waitpid($pid, POSIX::WNOHANG()); !kill 0, $pid },
                      10, 'HAProxy to exit'); 1 } or kill 'KILL', $pid;
}

sub cleanup {
    stop_haproxy();
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
# a RESP client of its own (no test tools needed): sessions through nginx
# or HAProxy as the user "app"
# ---------------------------------------------------------------------------

# parse one reply from the front of BUF: (value, bytes used) or () if BUF
# holds no complete reply yet; errors come back as "-...", arrays joined
# with "\n"
sub parse_reply {
    my ($buf, $at) = @_;
    $at //= 0;
    my $eol = index($$buf, "\r\n", $at);
    return if $eol < 0;
    my $type = substr($$buf, $at, 1);
    my $line = substr($$buf, $at + 1, $eol - $at - 1);
    my $next = $eol + 2;

    return ($line, $next) if $type eq '+' || $type eq ':';
    return ("-$line", $next) if $type eq '-';

    if ($type eq '$') {
        return ('', $next) if $line < 0;
        return if length($$buf) < $next + $line + 2;
        return (substr($$buf, $next, $line), $next + $line + 2);
    }

    if ($type eq '*') {
        my @items;
        for (1 .. ($line < 0 ? 0 : $line)) {
            my ($v, $n) = parse_reply($buf, $next) or return;
            push @items, $v;
            $next = $n;
        }
        return (join("\n", @items), $next);
    }

    return ("-protocol error", length $$buf);
}

# command(SESSION, TIMEOUT, ARGS...): the reply, or undef if the session
# was closed or the reply did not come within TIMEOUT seconds
sub command {
    my ($s, $timeout, @args) = @_;
    my $req = '*' . @args . "\r\n"
              . join('', map { '$' . length($_) . "\r\n$_\r\n" } @args);
    local $SIG{PIPE} = 'IGNORE';
    defined syswrite($s->{sock}, $req) or return;

    my $deadline = time + $timeout;
    my $sel = IO::Select->new($s->{sock});

    while (1) {
        my ($v, $n) = parse_reply(\$s->{buf});
        if (defined $n) {
            substr($s->{buf}, 0, $n, '');
            return $v;
        }
        my $left = $deadline - time;
        return if $left <= 0 || !$sel->can_read($left);
        my $got = sysread $s->{sock}, $s->{buf}, 65536, length $s->{buf};
        return unless $got;
    }
}

# session(PORT, TIMEOUT): a connection that passed AUTH as "app", or undef
sub session {
    my ($port, $timeout) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Timeout => 2)
        or return;
    my $s = { sock => $sock, buf => '' };
    my $r = command($s, $timeout, 'AUTH', 'app', 'apppass');
    return (defined $r && $r eq 'OK') ? $s : undef;
}

# closed(SESSION): the other end closed it (EOF or reset), without reading
# a reply away
sub closed {
    my ($s) = @_;
    return 0 unless IO::Select->new($s->{sock})->can_read(0);
    my $got = sysread $s->{sock}, $s->{buf}, 65536, length $s->{buf};
    return !$got;
}

sub port_of {
    my ($s) = @_;
    my $r = command($s, 3, 'CONFIG', 'GET', 'port') // '';
    return $r =~ /\Aport\n(\d+)\z/ ? $1 : undef;
}

# writer(PORT, TAG, SECONDS): a child that SETs demo:TAG:<i> every 20 ms
# over one session, as a client with one retry would: a write that fails
# on its session is sent once more on a new one, 50 ms later (a connection
# that reached the master as it was killed is reset: no proxy hides that).  Its log has one line
# per write: "i sent done ok|err|conn".  Returns (pid, log file).
sub writer {
    my ($port, $tag, $seconds) = @_;
    my $log = "$dir/writes-$tag";
    my $pid = fork // die "fork: $!\n";
    return ($pid, $log) if $pid;

    open my $fh, '>', $log or POSIX::_exit(1);
    $fh->autoflush(1);
    my ($s, $i);
    my $end = time + $seconds;

    while (time < $end) {
        my $t = time;
        $i++;
        my $r;
        for my $try (1, 2) {
            $s //= session($port, 8);
            $r = $s ? command($s, 8, 'SET', "demo:$tag:$i", $i) : undef;
            last if defined $r && $r eq 'OK';
            undef $s;
            sleep 0.05 if $try == 1;
        }
        printf {$fh} "%d %.3f %.3f %s\n", $i, $t, time,
               !defined $r ? 'conn' : $r eq 'OK' ? 'ok' : 'err';
        my $rest = 0.02 - (time - $t);
        sleep $rest if $rest > 0;
    }

    POSIX::_exit(0);
}

# what a writer's log says: (acked i => done time, failed count, longest
# write in seconds)
sub writes {
    my ($log) = @_;
    my (%acked, $failed, $longest);
    open my $fh, '<', $log or die "$log: $!\n";
    while (<$fh>) {
        my ($i, $sent, $done, $result) = split;
        if ($result eq 'ok') { $acked{$i} = $done } else { $failed++ }
        $longest = $done - $sent if !$longest || $done - $sent > $longest;
    }
    return (\%acked, $failed // 0, $longest // 0);
}

sub wait_pid {
    my ($pid, $seconds, $what) = @_;
    wait_until(sub { waitpid($pid, POSIX::WNOHANG()) == $pid }, $seconds,
               $what);
}

# the current master: the server a new session through nginx reaches
sub master_of {
    my ($servers, $rw) = @_;
    my $s = session($rw, 8) or return;
    my $port = port_of($s) or return;
    my ($m) = grep { $_->port == $port } @$servers;
    return $m;
}

# the master the Sentinels agree on, once every live server follows it
sub converge {
    my ($servers, $sentinels) = @_;
    my $final;

    wait_until(sub {
        my %named;
        for my $sentinel (@$sentinels) {
            my ($host, $port) = split /\n/,
                $sentinel->cmd('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', $NAME);
            $named{$port}++ if $port;
        }
        ($final) = grep { $named{$_} == @$sentinels } keys %named;
        return 0 unless $final;

        for my $srv (@$servers) {
            next unless $srv->alive;
            my $info = $srv->info('replication');
            return 0 if $srv->port == $final
                        ? ($info->{role} // '') ne 'master'
                        : ($info->{master_port} // 0) != $final
                          || ($info->{master_link_status} // '') ne 'up';
        }
        return 1;
    }, 60, 'the Sentinels and servers to agree on the master');

    my ($m) = grep { $_->port == $final } @$servers;
    return $m;
}

# ---------------------------------------------------------------------------
# the proxies
# ---------------------------------------------------------------------------

sub start_nginx {
    my ($servers, $sentinels) = @_;

    my ($rw, $ro) = (free_port(), free_port());
    my $list = join '', map { "        server 127.0.0.1:" . $_->port . ";\n" }
                        @$servers;
    my $sent = join ' ', map { '127.0.0.1:' . $_->port } @$sentinels;
    my $check = "redis_check interval=500ms timeout=500ms username=checker\n"
              . "                    password_file=$dir/checker.password;";

    open my $pw, '>', "$dir/checker.password" or die "$dir: $!\n";
    print {$pw} "checkpass\n";
    close $pw;
    chmod 0600, "$dir/checker.password";

    # the status page (issue #10) goes here once the module has one
    my $status = '';

    my $conf = <<"CONF";
load_module $STREAM;
load_module $MODULE;

worker_processes 2;
error_log $dir/error.log notice;
pid $dir/nginx.pid;
worker_shutdown_timeout 5s;

events {
    worker_connections 1024;
}

stream {
    # writes: the master a majority of the Sentinels agree on; a new
    # connection waits up to 5 s while there is none
    upstream redis_rw {
        redis_master wait=5s;
        $check
        redis_sentinel name=$NAME $sent;
$list    }

    # reads: replicas linked to that master, within 5 s of it
    upstream redis_ro {
        redis_replica max_lag=5s;
        $check
$list    }

    server {
        listen 127.0.0.1:$rw;
        proxy_pass redis_rw;
        proxy_connect_timeout 6s;    # longer than wait=
    }

    server {
        listen 127.0.0.1:$ro;
        proxy_pass redis_ro;
    }
$status}
CONF

    open my $fh, '>', "$dir/nginx.conf" or die "cannot write $dir/nginx.conf: $!\n";
    print {$fh} $conf;
    close $fh or die "cannot write $dir/nginx.conf: $!\n";

    system($NGINX, '-p', "$dir/", '-c', "$dir/nginx.conf") == 0
        or die "nginx did not start (exit status " . ($? >> 8) . ")\n";

    $nginx_pid = wait_until(sub { read_pid("$dir/nginx.pid") }, 5,
                            "nginx to write $dir/nginx.pid");
    @nginx_workers = @{ wait_until(sub {
        my @w = RedisTopo::children_of($nginx_pid);
        @w >= 2 ? \@w : undef;
    }, 5, 'two nginx workers') };

    return ($rw, $ro);
}

# HAProxy's public recipe: tcp-check AUTH, PING, INFO replication expecting
# role:master, QUIT (docs/migration.md)
sub start_haproxy {
    my ($servers) = @_;
    my $port = free_port();
    my $n = 0;
    my $list = join '', map {
        "    server r" . $n++ . " 127.0.0.1:" . $_->port . " check inter 1s\n"
    } @$servers;

    open my $fh, '>', "$dir/haproxy.cfg" or die "$dir: $!\n";
    print {$fh} <<"CONF";
defaults
    mode tcp
    timeout connect 1s
    timeout client 60s
    timeout server 60s

frontend redis_rw
    bind 127.0.0.1:$port
    default_backend redis_master

backend redis_master
    option tcp-check
    tcp-check connect
    tcp-check send AUTH\\ checker\\ checkpass\\r\\n
    tcp-check expect string +OK
    tcp-check send PING\\r\\n
    tcp-check expect string +PONG
    tcp-check send info\\ replication\\r\\n
    tcp-check expect string role:master
    tcp-check send QUIT\\r\\n
    tcp-check expect string +OK
$list
CONF
    close $fh;

    $haproxy_pid = fork // die "fork: $!\n";
    if ($haproxy_pid == 0) {
        open STDOUT, '>', "$dir/haproxy.log";
        open STDERR, '>&', \*STDOUT;
        { no warnings 'exec'; exec $HAPROXY, '-db', '-f', "$dir/haproxy.cfg"; }
        POSIX::_exit(127);
    }

    return $port;
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
    die "$HAPROXY is missing (apt-get install haproxy, or DEMO_HAPROXY=0)\n"
        if $USE_HAPROXY && !-x $HAPROXY;

    # --- Redis ---------------------------------------------------------------

    step '0. Redis: a master, two replicas, three Sentinels';

    my $m0 = start_redis(conf => [@ACL]);
    my @servers = ($m0, map { start_redis(replicaof => $m0->port,
                                          conf => [@ACL]) } 1 .. 2);
    $_->set_auth(user => 'app', pass => 'apppass') for @servers;

    my @sentinels = map {
        start_sentinel(monitor => [$NAME, $m0->port, 2], down_after => 1000)
    } 1 .. 3;

    say_ sprintf '%-8s 127.0.0.1:%d', $_ == $m0 ? 'master' : 'replica',
                 $_->port for @servers;
    say_ 'Sentinels 127.0.0.1:' . join(', ', map { $_->port } @sentinels)
         . " (\"$NAME\", quorum 2, down-after-milliseconds 1000)";
    say_ 'ACL users: "checker" (+ping +info) for the checks, "app" for clients';

    my $t = time;
    wait_until(sub {
        for my $s (@sentinels) {
            my $line = $s->info('sentinel')->{master0} // '';
            return 0 unless $line =~ /status=ok/ && $line =~ /slaves=2\b/
                            && $line =~ /sentinels=3\b/;
        }
        1;
    }, 30, 'each Sentinel to see both replicas and the two other Sentinels');
    say_ 'every Sentinel sees both replicas and the other two (' . elapsed($t) . ')';

    # --- nginx -----------------------------------------------------------------

    step '1. nginx: redis_sentinel, redis_master wait=5s, a read pool';

    $dir = File::Temp::tempdir('redis-master-demo-XXXXXX', TMPDIR => 1,
                               CLEANUP => 0);
    my ($rw, $ro) = start_nginx(\@servers, \@sentinels);
    my ($version) = grep { /ngx_stream_redis_master_module\// }
                    error_log_lines('notice');
    $version =~ s/.*?(ngx_stream_redis_master_module\/)/$1/ if $version;
    say_ "config: $dir/nginx.conf";
    say_ "nginx pid $nginx_pid: " . ($version // 'no version line logged');
    say_ "writes 127.0.0.1:$rw (redis_rw), reads 127.0.0.1:$ro (redis_ro)";

    my $hp = $USE_HAPROXY ? start_haproxy(\@servers) : undef;
    say_ "HAProxy tcp-check recipe on 127.0.0.1:$hp (for step 4)" if $hp;

    $t = time;
    my $m = wait_until(sub { master_of(\@servers, $rw) }, 15,
                       "a write session through 127.0.0.1:$rw");
    die "nginx sent writes to " . $m->port . ", not to the master "
        . $m0->port . "\n" if $m != $m0;
    my $s = session($rw, 3) or die "no session through nginx\n";
    my $out = command($s, 3, 'SET', 'demo:key', 'hello') // 'no reply';
    die "SET through nginx: $out\n" unless $out eq 'OK';
    say_ sprintf 'SET demo:key through nginx: %s, on 127.0.0.1:%d, the master '
                 . '(%s after nginx started)', $out, $m->port, elapsed($t);

    my ($v, $port) = wait_until(sub {
        my $r = session($ro, 3) or return;
        my $got = command($r, 3, 'GET', 'demo:key') // '';
        my $p = port_of($r) // 0;
        $got eq 'hello' && $p != $m->port ? [$got, $p] : undef;
    }, 15, "a replica to answer GET demo:key through 127.0.0.1:$ro")->@*;
    say_ "GET demo:key through the read pool: $v, from replica 127.0.0.1:$port";

    # --- switchover: the open session is closed ----------------------------

    step '2. SENTINEL FAILOVER: a session open on the old master is closed';

    my $old = $m;
    my $held = session($rw, 3) or die "no session through nginx\n";
    my $p = port_of($held) // 0;
    die "the session reached $p, not the master\n" if $p != $old->port;
    say_ "a client session through nginx is open on 127.0.0.1:$p, the master";

    my $t0 = time;
    $sentinels[0]->cmd('SENTINEL', 'FAILOVER', $NAME);
    say_ since($t0) . '  SENTINEL FAILOVER';

    my ($promoted, $closed, $demoted);
    wait_until(sub {
        if (!$promoted) {
            ($promoted) = grep {
                $_ != $old && (eval { $_->role } // '') eq 'master'
            } @servers;
            say_ since($t0) . '  127.0.0.1:' . $promoted->port
                 . ' says role:master' if $promoted;
        }
        if (!$closed && closed($held)) {
            $closed = 1;
            say_ since($t0) . '  nginx closed the session to 127.0.0.1:'
                 . $old->port;
        }
        if (!$demoted && (eval { $old->role } // '') eq 'slave') {
            $demoted = 1;
            say_ since($t0) . '  127.0.0.1:' . $old->port
                 . ' says role:slave (demoted)';
        }
        $promoted && $closed && $demoted;
    }, 30, 'the switchover, and nginx closing the session to the old master');

    my $direct = session($old->port, 3);
    $out = $direct ? command($direct, 3, 'SET', 'demo:key', 'late') : undef;
    $out = ($out // 'no reply') =~ s/^-//r;
    say_ "a session left on 127.0.0.1:" . $old->port . " would get: $out";

    $t = time;
    $m = wait_until(sub {
        my $n = master_of(\@servers, $rw);
        $n && $n == $promoted ? $n : undef;
    }, 15, 'writes through nginx to reach the promoted replica');
    say_ 'a new session writes to 127.0.0.1:' . $m->port;

    # --- kill: the write waits -------------------------------------------------

    step '3. kill -9 of the master: writes wait instead of failing';

    my ($wpid, $wlog) = writer($rw, 'kill', 8);
    wait_until(sub { -s $wlog && `wc -l < $wlog` > 20 }, 10,
               'the writer to be steady');

    $t0 = time;
    $m->kill9;
    say_ since($t0) . '  127.0.0.1:' . $m->port . ' killed; a client writes '
         . 'through nginx every 20 ms (one retry after 50 ms, as clients do)';

    # a new connection right after the kill: nginx holds it (wait=) until
    # the promoted replica takes writes
    my $sent = time;
    my $w = session($rw, 8);
    $out = $w ? command($w, 8, 'SET', 'demo:during', 'kill') : undef;
    my $answered = time;
    my $on = $w ? port_of($w) : undef;
    die "the write sent during the failover failed: "
        . ($out // 'no reply') . "\n" unless ($out // '') eq 'OK';
    say_ sprintf '%s  a client that connected at %s to AUTH and SET gets %s '
                 . 'from 127.0.0.1:%s, the promoted replica: it waited '
                 . '%.2f s instead of failing',
                 since($t0), sprintf('+%.2f s', $sent - $t0), $out,
                 $on // '?', $answered - $sent;

    wait_pid($wpid, 20, 'the writer to finish');
    my ($acked, $failed, $longest) = writes($wlog);
    say_ sprintf 'the writer: %d writes acknowledged, %d failed; the longest '
                 . 'took %.2f s', scalar keys %$acked, $failed, $longest;

    # --- partition: HAProxy loses writes, the module stops them ------------------

    step '4. partition: the master is cut off from the Sentinels and '
         . 'replicas, not from the proxies';

    my @alive = grep { $_->alive } @servers;
    $m = converge(\@alive, \@sentinels);
    say_ '127.0.0.1:' . $m->port . ' is the master; for 8 s it refuses the '
         . 'user Sentinels and replicas connect as (ACL SETUSER default off)';
    say_ $hp ? 'two clients write every 20 ms: one through nginx, one '
               . 'through HAProxy'
             : 'a client writes every 20 ms through nginx';

    my %log;
    my @writers;
    for my $proxy ($hp ? (['nginx', $rw], ['haproxy', $hp]) : (['nginx', $rw])) {
        my ($pid, $log) = writer($proxy->[1], $proxy->[0], 12);
        $log{ $proxy->[0] } = $log;
        push @writers, $pid;
    }
    wait_until(sub { !grep { !-s $_ || `wc -l < $_` < 20 } values %log },
               10, 'the writers to be steady');

    $t0 = time;
    $m->cmd('ACL', 'SETUSER', 'default', 'off');
    $m->cmd('CLIENT', 'KILL', 'USER', 'default');
    say_ since($t0) . '  partition';
    sleep 8;
    $m->cmd('ACL', 'SETUSER', 'default', 'on');
    say_ since($t0) . '  the partition heals; the Sentinels demote 127.0.0.1:'
         . $m->port . ', which drops what it took meanwhile';

    wait_pid($_, 30, 'the writers to finish') for @writers;
    my $final = converge(\@alive, \@sentinels);
    say_ since($t0) . '  127.0.0.1:' . $final->port . ' is the master';

    for my $proxy (sort keys %log) {
        my ($acked) = writes($log{$proxy});
        my %have = map { $_ => 1 }
                   split /\n/, $final->cmd('KEYS', "demo:$proxy:*");
        my @lost = sort { $acked->{$a} <=> $acked->{$b} }
                   grep { !$have{"demo:$proxy:$_"} } keys %$acked;
        my $last = @lost ? sprintf(', the last acknowledged at +%.2f s',
                                   $acked->{ $lost[-1] } - $t0) : '';
        say_ sprintf '%-8s %4d writes acknowledged, %4d of them lost%s',
                     $proxy eq 'nginx' ? 'module' : 'HAProxy',
                     scalar keys %$acked, scalar @lost, $last;
    }
    say_ '(the module stops writes to the cut-off master once a majority of '
         . 'the Sentinels sees it down, about 1 s in'
         . ($hp ? '; HAProxy\'s check still reads role:master there until '
                  . 'the Sentinels demote it, after the partition heals)'
                : ')');

    # --- the log ---------------------------------------------------------------

    step "5. nginx's error log: the master choices ([warn])";

    print "   $_\n" for map { s/^\S+ \S+ //r }
                      grep { /redis master: upstream/ } error_log_lines('warn');

    step '6. stopping nginx' . ($hp ? ', HAProxy' : '') . ' and Redis';
    stop_haproxy();
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
