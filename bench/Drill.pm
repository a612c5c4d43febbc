# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package Drill;

# Drill - what bench/failover and bench/fleet share: the drill's topology
# (a master, two replicas, three Sentinels), its proxies (nginx with this
# module, HAProxy's recipe), the writer, and reading the outcome.  The
# processes are RedisTopo's, or the proxies', stopped by pid.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib";

use Exporter qw(import);
use POSIX qw(mktime);
use RedisTopo qw(free_port start_redis start_sentinel wait_until);
use Pods ();

our @EXPORT_OK = qw(
    topology start_nginx start_haproxy stop_proxies wait_writes start_writer
    missing converge first_log_time start_nginx_names start_haproxy_names
);

our $ROOT   = "$FindBin::Bin/..";
our $MODULE = $ENV{DRILL_MODULE}    # a module built elsewhere
             // "$ROOT/build/ngx_stream_redis_master_module.so";
our $WRITER = "$FindBin::Bin/writer.py";
our $LOG_LEVEL = $ENV{DRILL_LOG} // 'warn';
our @ACL    = ('user checker on >checkpass +ping +info',
               'user app on >apppass ~* &* +@all');
our @proxies;

END { local $?; stop_proxies() }


# topology(DOWN_AFTER_MS) -> ($master, [replicas], [Sentinels]): a master,
# two replicas, three Sentinels (quorum 2) that know each other and both
# replicas; the test's own commands authenticate as "app"
sub topology {
    my ($down_after) = @_;
    my $m = start_redis(conf => [@ACL]);
    my @r = map { start_redis(replicaof => $m->port, conf => [@ACL]) } 1, 2;
    my @s = map {
        start_sentinel(monitor => ['mymaster', $m->port, 2],
                       down_after => $down_after,
                       failover_timeout => $down_after >= 10000 ? 30000 : 3000)
    } 1 .. 3;
    $_->set_auth(user => 'app', pass => 'apppass') for $m, @r;

    wait_until(sub {
        my $peers = $s[0]->cmd('SENTINEL', 'SENTINELS', 'mymaster');
        my $reps = $s[0]->cmd('SENTINEL', 'REPLICAS', 'mymaster');
        return (() = $peers =~ /^name$/mg) == 2
               && (() = $reps =~ /^name$/mg) == 2;
    }, 30, 'the Sentinels to know each other and both replicas');

    return ($m, \@r, \@s);
}


# wait_writes(PORT, NAME): until fresh connections all land on a master
# (HAProxy starts with every server up until checks fail)
sub wait_writes {
    my ($port, $name) = @_;
    wait_until(sub {
        for (1 .. 6) {
            my $out = `redis-cli -p $port --user app --pass apppass --no-auth-warning SET ready 1 2>&1`;
            return 0 unless $out =~ /^OK/;
        }
        return 1;
    }, 30, "writes through $name");
}


# start_writer(MODE, PORT, LOG, SECONDS, TIMEOUT, [PREFIX]) -> pid: the
# writer (bench/writer.py), "write" or "fleet", keys PREFIX:<i>; returns
# once it is steady
sub start_writer {
    my ($mode, $port, $log, $seconds, $timeout, $prefix) = @_;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $ENV{WRITER_PREFIX} = $prefix // 'k';
        exec '/usr/bin/python3', $WRITER, $mode, '127.0.0.1', $port,
             'app', 'apppass', $log, $seconds, $timeout;
        die "exec: $!";
    }
    wait_until(sub { -s $log && `grep -c ' ok\\b' $log` > 100 }, 10,
               'the writer to be steady');
    return $pid;
}


# missing(FINAL_PORT, LOG, [PREFIX]): the acknowledged writes of LOG that
# the server at FINAL_PORT lacks
sub missing {
    my ($final, $log, $prefix) = @_;
    local $ENV{WRITER_PREFIX} = $prefix // 'k';
    my @missing = split ' ',
        `/usr/bin/python3 $WRITER verify $final app apppass $log`;
    die "verify failed\n" if $?;
    return @missing;
}


# the master the Sentinels agree on, once every live server follows it
sub converge {
    my ($m, $r, $s) = @_;
    my $final;

    wait_until(sub {
        my %named;
        for my $sentinel (@$s) {
            my ($host, $port) = split /\n/,
                $sentinel->cmd('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster');
            $named{$port}++ if $port;
        }
        ($final) = grep { $named{$_} == @$s } keys %named;
        return 0 unless $final;

        for my $srv ($m, @$r) {
            next unless $srv->alive;
            my $info = $srv->info('replication');
            return 0 if $srv->port == $final
                        ? ($info->{role} // '') ne 'master'
                        : ($info->{master_port} // 0) != $final
                          || ($info->{master_link_status} // '') ne 'up';
        }
        return 1;
    }, 60, 'Sentinels and servers to agree on the final master');

    return $final;
}


# the first line matching REGEX in these servers' logs after T0, as seconds
# after T0 (Redis logs local time with milliseconds)
sub first_log_time {
    my ($servers, $re, $t0) = @_;
    my $first;

    for my $srv (@$servers) {
        open my $fh, '<', $srv->log_file or next;
        while (<$fh>) {
            next unless /$re/;
            next unless /(\d+) (\w{3}) (\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{3})/;
            my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4,
                       Jun => 5, Jul => 6, Aug => 7, Sep => 8, Oct => 9,
                       Nov => 10, Dec => 11);
            my $t = mktime($6, $5, $4, $1, $mon{$2}, $3 - 1900) + $7 / 1000;
            next if $t < $t0;
            $first = $t if !defined $first || $t < $first;
            last;
        }
    }

    return defined $first ? $first - $t0 : undef;
}


# start_nginx(DIR, MASTER, [REPLICAS], [SENTINELS], MINREP) -> port: nginx
# with this module in DIR; redis_sentinel when SENTINELS are given; with
# MINREP, min_replicas=1 min_replicas_max_lag=1s, interval=250ms and a
# wait= longer than any failover of the drills
sub start_nginx {
    my ($dir, $m, $r, $s, $minrep) = @_;
    my $port = free_port();
    my $servers = join '', map { "        server 127.0.0.1:" . $_->port . ";\n" }
                           $m, @$r;
    my $sentinels = @$s ? 'redis_sentinel name=mymaster '
                          . join(' ', map { '127.0.0.1:' . $_->port } @$s)
                          . ';' : '';
    my $master = $minrep
        ? 'redis_master min_replicas=1 min_replicas_max_lag=1s wait=40s;'
        : 'redis_master wait=5s;';
    my $interval = $minrep ? '250ms' : '1s';
    # a hold is cut short by proxy_connect_timeout (docs/directives.md)
    my $connect = $minrep ? '45s' : '6s';

    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print {$fh} <<"CONF";
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $MODULE;
worker_processes 2;
error_log $dir/error.log $LOG_LEVEL;
pid $dir/nginx.pid;
events { worker_connections 1024; }
stream {
    upstream redis_rw {
$servers        $master
        redis_check interval=$interval timeout=500ms username=checker password=checkpass;
        $sentinels
    }
    server {
        listen 127.0.0.1:$port;
        proxy_pass redis_rw;
        proxy_connect_timeout $connect;
    }
}
CONF
    close $fh;

    system('/usr/sbin/nginx', '-p', $dir, '-c', "$dir/nginx.conf") == 0
        or die "nginx did not start\n";
    my $pid = wait_until(sub { -s "$dir/nginx.pid" && `cat $dir/nginx.pid` },
                         10, 'nginx.pid');
    chomp $pid;
    push @proxies, $pid;
    return $port;
}


# start_haproxy(DIR, MASTER, [REPLICAS], [SHUT]) -> port: HAProxy's
# recipe, a tcp-check that expects role:master; with SHUT, "on-marked-down
# shutdown-sessions" too: HAProxy closes the sessions to a server its
# checks mark down
sub start_haproxy {
    my ($dir, $m, $r, $shut) = @_;
    my $port = free_port();
    my $n = 0;
    my $opt = $shut ? ' on-marked-down shutdown-sessions' : '';
    my $servers = join '', map {
        "    server r" . $n++ . " 127.0.0.1:" . $_->port . " check inter 1s$opt\n"
    } $m, @$r;

    open my $fh, '>', "$dir/haproxy.cfg" or die $!;
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
$servers
CONF
    close $fh;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/haproxy.log";
        open STDERR, '>&', \*STDOUT;
        exec '/usr/sbin/haproxy', '-db', '-f', "$dir/haproxy.cfg";
        die "exec: $!";
    }

    push @proxies, $pid;
    return $port;
}


# start_nginx_names(DIR, PODS, PORT) -> PORT: nginx with this module in
# front of the pods of PODS (bench/Pods.pm) by name, as in a cluster: one
# "redis_server NAME:PORT max_servers=1" a pod, the Sentinels by name,
# min_replicas=1, wait=, and the drill's DNS server as the resolver of
# stream{}, valid=1s; its status page on STATUS_PORT, /status
sub start_nginx_names {
    my ($dir, $pods, $port, $status) = @_;
    my $servers = join '', map {
        "        redis_server " . $pods->name($_) . ":$Pods::PORT max_servers=1;\n"
    } 0 .. 2;
    my $sentinels = join ' ', map { $pods->sentinel_name($_) . ":$Pods::SENTINEL_PORT" }
                              0 .. 2;
    my $dns = $pods->dns->port;

    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print {$fh} <<"CONF";
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
load_module $MODULE;
worker_processes 2;
error_log $dir/error.log $LOG_LEVEL;
pid $dir/nginx.pid;
events { worker_connections 1024; }
stream {
    resolver 127.0.0.1:$dns valid=1s ipv6=off;
    resolver_timeout 1s;

    upstream redis_rw {
        redis_master wait=10s min_replicas=1;
        redis_check interval=500ms timeout=500ms username=checker password=checkpass;
        redis_sentinel name=$Pods::MASTER_NAME $sentinels;
$servers    }
    server {
        listen 127.0.0.1:$port;
        proxy_pass redis_rw;
        proxy_connect_timeout 12s;
    }
}
http {
    access_log off;
    server {
        listen 127.0.0.1:$status;
        location /status { redis_master_status; }
    }
}
CONF
    close $fh;

    system('/usr/sbin/nginx', '-p', $dir, '-c', "$dir/nginx.conf") == 0
        or die "nginx did not start\n";
    my $pid = wait_until(sub { -s "$dir/nginx.pid" && `cat $dir/nginx.pid` },
                         10, 'nginx.pid');
    chomp $pid;
    push @proxies, $pid;
    return $port;
}


# start_haproxy_names(DIR, PODS, PORT, [SHUT]) -> PORT: HAProxy's recipe
# (start_haproxy) in front of the pods by name, as users configure it for
# a cluster: a "resolvers" section on the drill's DNS server with "hold
# valid 1s", each server "init-addr none" with those resolvers
sub start_haproxy_names {
    my ($dir, $pods, $port, $shut) = @_;
    my $opt = $shut ? ' on-marked-down shutdown-sessions' : '';
    my $servers = join '', map {
        "    server redis-$_ " . $pods->name($_) . ":$Pods::PORT check inter 1s"
        . " resolvers drill resolve-prefer ipv4 init-addr none$opt\n"
    } 0 .. 2;
    my $dns = $pods->dns->port;

    open my $fh, '>', "$dir/haproxy.cfg" or die $!;
    print {$fh} <<"CONF";
resolvers drill
    nameserver dns 127.0.0.1:$dns
    hold valid 1s

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
$servers
CONF
    close $fh;

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/haproxy.log";
        open STDERR, '>&', \*STDOUT;
        exec '/usr/sbin/haproxy', '-db', '-f', "$dir/haproxy.cfg";
        die "exec: $!";
    }

    push @proxies, $pid;
    return $port;
}


# stop_proxies(): every proxy started, by pid
sub stop_proxies {
    while (my $pid = pop @proxies) {
        kill 'TERM', $pid;
        eval { wait_until(sub { waitpid($pid, POSIX::WNOHANG()); !kill 0, $pid },
                          10, "proxy $pid to exit") };
    }
}

1;
