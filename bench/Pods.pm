# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

package Pods;

# Pods - the rolling-restart drill's topology, as a Redis StatefulSet with
# Sentinel runs in Kubernetes: three Redis "pods" (redis-0.redis,
# redis-1.redis, redis-2.redis, all on port 22379) and three Sentinels
# (sentinel-0.sentinel ..., port 22026), each on a loopback address of its
# own, known by name only.  A pod restarted comes back on a new address
# under its name.  Two views of the names, rewritten together at each move:
#   - a DNS server (RedisTopo::Dns, TTL 1 s) for the proxies' resolvers;
#   - a hosts file that every Redis and Sentinel process sees as its
#     /etc/hosts (bench/pod-redis-server: a mount namespace of its own, the
#     file bind-mounted), for their system resolver: Sentinel
#     (resolve-hostnames yes, announce-hostnames yes) and replicaof follow
#     the names through it.
# A pod that stops leaves both (the name gets NXDOMAIN, as a headless
# Service without the pod); it is back under its new address when it
# starts, before it is ready (publishNotReadyAddresses, which Sentinel
# needs).  Needs root (unshare --mount, mount --bind).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib";

use Carp qw(croak);
use File::Basename qw(dirname);
use RedisTopo qw(start_sentinel start_dns wait_until);
use Time::HiRes qw(sleep);

our $PORT          = 22379;        # every pod's port, as 6379 in a cluster
our $SENTINEL_PORT = 22026;        # every Sentinel's, as 26379
our $NET           = '127.0.22';   # the drill's loopback addresses
our $FIRST_POD_IP  = 100;          # pods take .100 up, one a start: every
                                   # address is as long, and the hosts file
                                   # keeps its length when rewritten
our $FIRST_SENTINEL_IP = 11;
our $SERVER        = dirname(__FILE__) . '/pod-redis-server';
our @ACL           = ('user checker on >checkpass +ping +info',
                      'user app on >apppass ~* &* +@all');
our $MASTER_NAME   = 'mymaster';
our $HOSTS_WIDTH   = 16;           # a hosts line's address column
our $PAUSE_MS      = 22000;        # the chart's preStop: CLIENT PAUSE, and
our $PRESTOP_SECONDS = 20;         # how long it waits for the failover


# Pods->new([down_after => MS]): the DNS server and hosts file, three pods
# (redis-0 the master) and three Sentinels that know each other and both
# replicas by name
sub new {
    my ($class, %opt) = @_;
    my $self = bless { next_ip => $FIRST_POD_IP, pods => [], ips => {},
                       moves => [] }, $class;

    $self->{dns} = start_dns();
    $self->{hosts} = "$self->{dns}{dir}/hosts";
    $self->{ips}{ $self->sentinel_name($_) } = "$NET." . ($FIRST_SENTINEL_IP + $_)
        for 0 .. 2;
    $self->{ips}{ $self->name($_) } = $self->_new_ip for 0 .. 2;
    $self->_publish;

    $self->{pods}[0] = $self->_start_pod(0);
    $self->{pods}[$_] = $self->_start_pod($_, $self->name(0)) for 1, 2;

    my $down_after = $opt{down_after} // 5000;
    local $RedisTopo::REDIS_SERVER = $SERVER;
    local $ENV{DRILL_HOSTS} = $self->{hosts};
    $self->{sentinels} = [ map {
        start_sentinel(port => $SENTINEL_PORT,
                       bind => $self->{ips}{ $self->sentinel_name($_) },
                       conf => [
            'sentinel resolve-hostnames yes',
            'sentinel announce-hostnames yes',
            'sentinel announce-ip ' . $self->sentinel_name($_),
            "sentinel announce-port $SENTINEL_PORT",
            "sentinel monitor $MASTER_NAME " . $self->name(0) . " $PORT 2",
            "sentinel down-after-milliseconds $MASTER_NAME $down_after",
            "sentinel failover-timeout $MASTER_NAME 10000",
            "sentinel parallel-syncs $MASTER_NAME 1",
        ])
    } 0 .. 2 ];
    push @{ $self->{started} }, @{ $self->{sentinels} };

    my $s = $self->{sentinels}[0];
    wait_until(sub {
        my $peers = $s->cmd('SENTINEL', 'SENTINELS', $MASTER_NAME);
        my $reps = $s->cmd('SENTINEL', 'REPLICAS', $MASTER_NAME);
        return (() = $peers =~ /^name$/mg) == 2
               && (() = $reps =~ /^name$/mg) == 2;
    }, 30, 'the Sentinels to know each other and both replicas');

    return $self;
}

sub name          { "redis-$_[1].redis" }
sub sentinel_name { "sentinel-$_[1].sentinel" }
sub pod           { $_[0]{pods}[$_[1]] }
sub pods          { @{ $_[0]{pods} } }
sub sentinels     { @{ $_[0]{sentinels} } }
sub dns           { $_[0]{dns} }
sub ip            { $_[0]{ips}{ $_[0]->name($_[1]) } }
sub moves         { @{ $_[0]{moves} } }

# the index of the pod NAME, or undef
sub index_of {
    my ($self, $name) = @_;
    return $name =~ /^redis-(\d+)\.redis$/ ? $1 : undef;
}

sub _new_ip {
    my ($self) = @_;
    croak 'out of pod addresses' if $self->{next_ip} > 254;
    return "$NET." . $self->{next_ip}++;
}

# both views of the names from $self->{ips} (an undef address: NXDOMAIN);
# the hosts file is rewritten in place, at one length, by one write: the
# processes' bind mount holds its inode, and a reader never sees it short
sub _publish {
    my ($self) = @_;
    my $ips = $self->{ips};
    my @names = sort keys %$ips;

    $self->{dns}->set(map { $_ => $ips->{$_} } grep { defined $ips->{$_} } @names);
    $self->{dns}->unset(grep { !defined $ips->{$_} } @names);

    my $text = "127.0.0.1       localhost\n" . join '', map {
        sprintf "%-*s%s\n", $HOSTS_WIDTH, $ips->{$_} // '#', $_
    } @names;
    open my $fh, (-e $self->{hosts} ? '+<' : '>'), $self->{hosts}
        or croak "$self->{hosts}: $!";
    defined syswrite($fh, $text) or croak "write $self->{hosts}: $!";
    truncate $fh, length $text;
    close $fh;
}

# a pod's Redis server at its current address, a replica of the pod
# MASTER (a name) if given: announced by its name, as the chart's
# replica-announce-ip does
sub _start_pod {
    my ($self, $i, $master) = @_;
    my $ip = $self->ip($i);
    my $dir = RedisTopo::_tempdir("pod-$i-$ip");
    my $log = "$dir/redis.log";
    my @conf = (
        "bind $ip", "port $PORT", "dir $dir", "logfile $log", 'save ""',
        'appendonly no', 'daemonize no', 'protected-mode no',
        'repl-diskless-sync-delay 0',
        'replica-announce-ip ' . $self->name($i),
        "replica-announce-port $PORT",
        @ACL,
    );
    push @conf, "replicaof $master $PORT" if defined $master;
    RedisTopo::_write_file("$dir/redis.conf", join("\n", @conf) . "\n");

    local $RedisTopo::REDIS_SERVER = $SERVER;
    local $ENV{DRILL_HOSTS} = $self->{hosts};
    my $srv = RedisTopo::_start_server(
        kind => 'redis-server', port => $PORT, dir => $dir, log_file => $log,
        conf_file => "$dir/redis.conf", host => $ip);
    $srv->set_auth(user => 'app', pass => 'apppass');
    $srv->{pod} = $i;
    push @{ $self->{started} }, $srv;
    $srv->wait_link_up(30) if defined $master;
    return $srv;
}

# the name the Sentinels agree on as master (every one of them), or undef
sub sentinel_master {
    my ($self) = @_;
    my %named;
    for my $s ($self->sentinels) {
        my ($host, $port) = split /\n/,
            eval { $s->cmd('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', $MASTER_NAME) }
            // '';
        $named{$host}++ if $host;
    }
    my ($name) = grep { $named{$_} == $self->sentinels } keys %named;
    return $name;
}

# master_index(): the pod every Sentinel names master
sub master_index {
    my ($self) = @_;
    my $name = wait_until(sub { $self->sentinel_master }, 30,
                          'the Sentinels to agree on a master');
    my $i = $self->index_of($name)
        // croak "the Sentinels name $name, not a pod";
    return $i;
}

# ready(I): the pod is up and, if a replica, in sync and listed online by
# its master (a readiness probe's "master_link_status:up" and a bit more)
sub ready {
    my ($self, $i) = @_;
    my $info = eval { $self->pod($i)->info('replication') } or return 0;
    return 1 if ($info->{role} // '') eq 'master';
    return 0 unless ($info->{master_link_status} // '') eq 'up';
    my $m = $self->index_of($info->{master_host} // '') // return 0;
    my $minfo = eval { $self->pod($m)->info('replication') } or return 0;
    my $me = $self->name($i);
    return scalar grep { /ip=\Q$me\E,.*state=online/ } values %$minfo;
}

# restart(I, [LOG], [PRESTOP]): the pod I restarted as Kubernetes does it:
# its preStop hook if it is the master, SIGTERM, its name gone, a second
# later a new address under its name, the server started as a replica of
# the master the Sentinels name (the chart's start script), until it is
# ready.  PRESTOP, for the master:
#   pause     the Bitnami chart's: CLIENT PAUSE 22000 WRITE, SENTINEL
#             FAILOVER, then up to 20 s until that Sentinel names another
#             master (the default)
#   failover  SENTINEL FAILOVER, then until every Sentinel names another
#             master and the pod has been made a replica
#   none      no hook: the master is stopped, Sentinel fails over after
#             down-after-milliseconds, and the pod starts once the
#             Sentinels name another master (else it would come back as
#             an empty master)
# LOG->(TEXT) is told each step.
sub restart {
    my ($self, $i, $log, $prestop) = @_;
    $log //= sub {};
    $prestop //= 'pause';
    my $name = $self->name($i);
    my $old = $self->ip($i);
    my %move = (pod => $i, name => $name, from => $old,
                start => Time::HiRes::time());
    my $s = $self->{sentinels}[0];
    my $was_master = $self->master_index == $i;

    if ($was_master && $prestop ne 'none') {
        $log->("$name is master: preStop ($prestop)");
        $move{failover} = 1;
        $self->pod($i)->cmd('CLIENT', 'PAUSE', $PAUSE_MS, 'WRITE')
            if $prestop eq 'pause';
        wait_until(sub {
            my $r = $s->cmd('SENTINEL', 'FAILOVER', $MASTER_NAME);
            $r =~ /^OK/;
        }, 30, 'SENTINEL FAILOVER to be accepted');
        if ($prestop eq 'pause') {
            eval {
                wait_until(sub {
                    my ($host) = split /\n/, $s->cmd('SENTINEL',
                        'GET-MASTER-ADDR-BY-NAME', $MASTER_NAME);
                    return ($host // $name) ne $name;
                }, $PRESTOP_SECONDS / $RedisTopo::TIMEOUT_SCALE,
                'the Sentinel to name another master');
                1;
            } or $log->("preStop gave up: $@");
        } else {
            wait_until(sub {
                my $m = $self->sentinel_master;
                return 0 unless defined $m && $m ne $name;
                my $role = eval { $self->pod($i)->info('replication')->{role} };
                return ($role // '') eq 'slave';
            }, 60, "the Sentinels to name another master than $name");
        }
        $log->("$name preStop done");
    } elsif ($was_master) {
        $move{failover} = 1;
    }

    $self->pod($i)->stop;
    $self->{ips}{$name} = undef;
    $self->_publish;
    $move{stopped} = Time::HiRes::time();
    $log->("$name stopped ($old), its name gone");

    sleep 1;

    if ($was_master && $prestop eq 'none') {
        $log->("$name was master: waiting for the Sentinels to fail over");
        wait_until(sub {
            my $m = $self->sentinel_master;
            return defined $m && $m ne $name;
        }, 60, "the Sentinels to name another master than $name");
    }

    my $new = $self->{ips}{$name} = $self->_new_ip;
    $self->_publish;
    $move{published} = Time::HiRes::time();
    my $master = $self->name($self->master_index);
    $log->("$name on $new, a replica of $master");
    $self->{pods}[$i] = $self->_start_pod($i, $master);

    wait_until(sub { $self->ready($i) }, 60, "$name to be ready");
    $move{ready} = Time::HiRes::time();
    $move{to} = $new;
    $log->("$name ready");
    push @{ $self->{moves} }, \%move;
    return \%move;
}

# save_logs(DIR): every Redis and Sentinel log of the drill into DIR, as
# pod-I-ADDRESS.log and sentinel-I.log
sub save_logs {
    my ($self, $dir) = @_;
    for my $srv (@{ $self->{started} }) {
        my $to = defined $srv->{pod} ? "pod-$srv->{pod}-$srv->{host}.log"
                                     : "sentinel-$srv->{host}.log";
        system('cp', $srv->log_file, "$dir/$to");
    }
}


# converge(): the pod every Sentinel names master, once every pod follows
# it in sync
sub converge {
    my ($self) = @_;
    my $m;
    wait_until(sub {
        $m = $self->index_of($self->sentinel_master // '') // return 0;
        for my $i (0 .. 2) {
            my $info = eval { $self->pod($i)->info('replication') }
                or return 0;
            if ($i == $m) {
                return 0 unless ($info->{role} // '') eq 'master';
            } else {
                return 0 unless ($info->{master_host} // '') eq $self->name($m)
                    && ($info->{master_link_status} // '') eq 'up';
            }
        }
        return 1;
    }, 60, 'Sentinels and pods to agree on the final master');
    return $m;
}

1;
