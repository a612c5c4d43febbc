# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Configuration errors fail "nginx -t" with a message naming the directive
# and the value, and never echo a secret.  Debian's real nginx checks each
# configuration; the table lists what must be said for each mistake.

use strict;
use warnings;

use lib 't/lib';
use TestRM;
use Test::More;
use File::Temp qw(tempdir);
use IPC::Open3 qw(open3);
use POSIX ();

my $dir = tempdir(CLEANUP => 1);
my @modules = grep { /stream|redis/ } split ' ', $ENV{TEST_NGINX_LOAD_MODULES};

open my $pw, '>', "$dir/password" or die $!;
print {$pw} "from-a-file\n";
close $pw;
chmod 0600, "$dir/password" or die $!;

# the same password, readable by everybody
open $pw, '>', "$dir/open-password" or die $!;
print {$pw} "from-a-file\n";
close $pw;
chmod 0644, "$dir/open-password" or die $!;

# certificates for the TLS directives
my $tls = RedisTopo::Tls->new;
symlink $tls->dir, "$dir/tls" or die "symlink: $!";

# a FIFO: opening it for reading would block nginx's master
POSIX::mkfifo("$dir/fifo", 0600) or die "mkfifo: $!";

sub nginx_t {
    my ($stream, $error_log) = @_;

    $error_log //= "$dir/error.log";

    my $conf = join '', map({ "load_module $_;\n" } @modules),
        "error_log $error_log;\npid $dir/nginx.pid;\n",
        "events {}\nstream {\n$stream\n}\n";

    open my $fh, '>', "$dir/nginx.conf" or die $!;
    print {$fh} $conf;
    close $fh;

    my $pid = open3(my $in, my $out, undef, $ENV{TEST_NGINX_BINARY},
                    '-t', '-p', $dir, '-c', "$dir/nginx.conf");
    my $said = do { local $/; <$out> };
    waitpid $pid, 0;

    return ($? >> 8, $said);
}

sub upstream {
    my ($body) = @_;
    return "upstream u {\n server 127.0.0.1:6379;\n $body\n}\n"
         . "server { listen 127.0.0.1:1; proxy_pass u; }";
}

my @bad = (
    [ 'unknown parameter',
      upstream('redis_master; redis_check interval=1s bogus=1;'),
      qr/invalid parameter "bogus=\.\.\." in "redis_check"/ ],
    [ 'mistyped password keyword does not echo the secret',
      upstream('redis_master; redis_check pasword=s3cret;'),
      qr/invalid parameter "pasword=\.\.\." in "redis_check"/, 's3cret' ],
    [ 'a secret typed with ":" instead of "=" is not echoed',
      upstream('redis_master; redis_check password:s3cret;'),
      qr/invalid parameter "password\.\.\." in "redis_check"/, 's3cret' ],
    [ 'a bare secret is not echoed',
      upstream('redis_master; redis_check s3cret42;'),
      qr/invalid parameter "s\.\.\." in "redis_check"/, 's3cret' ],
    [ 'password_file that is a FIFO',
      upstream("redis_master; redis_check password_file=$dir/fifo;"),
      qr/"redis_check" password_file "\Q$dir\E\/fifo" is not a regular file/ ],
    [ 'password_file that is a directory',
      upstream("redis_master; redis_check password_file=$dir;"),
      qr/"redis_check" password_file "\Q$dir\E" is not a regular file/ ],
    [ 'one server checked two ways by two upstreams',
      upstream('redis_master; redis_check interval=1s;')
      . "\nupstream v {\n server 127.0.0.1:6379;\n redis_replica;\n"
      . " redis_check interval=2s;\n}\n"
      . "server { listen 127.0.0.1:2; proxy_pass v; }",
      qr/server "127\.0\.0\.1:6379" in upstream "v" is checked with other settings or credentials than in upstream "u"/ ],
    [ 'one server checked with two passwords by two upstreams',
      upstream('redis_master; redis_check password=one-s3cret;')
      . "\nupstream v {\n server 127.0.0.1:6379;\n redis_replica;\n"
      . " redis_check password=two-s3cret;\n}\n"
      . "server { listen 127.0.0.1:2; proxy_pass v; }",
      qr/server "127\.0\.0\.1:6379" in upstream "v" is checked with other settings or credentials than in upstream "u"/,
      's3cret' ],
    [ 'bad time',
      upstream('redis_master; redis_check interval=fast;'),
      qr/invalid value "interval=fast" in "redis_check"/ ],
    [ 'zero timeout',
      upstream('redis_master; redis_check timeout=0;'),
      qr/invalid value "timeout=0" in "redis_check"/ ],
    [ 'rise of 0',
      upstream('redis_master; redis_check rise=0;'),
      qr/invalid value "rise=0" in "redis_check"/ ],
    [ 'fall of 0',
      upstream('redis_master; redis_check fall=0;'),
      qr/invalid value "fall=0" in "redis_check"/ ],
    [ 'redis_check outside an upstream',
      "server { listen 127.0.0.1:1; redis_check; return ok; }",
      qr/"redis_check" directive is not allowed here/ ],
    [ 'redis_master outside an upstream',
      "server { listen 127.0.0.1:1; redis_master; return ok; }",
      qr/"redis_master" directive is not allowed here/ ],
    [ 'redis_master twice',
      upstream('redis_master; redis_master;'),
      qr/"redis_master" directive is duplicate/ ],
    [ 'redis_check twice',
      upstream('redis_master; redis_check; redis_check;'),
      qr/"redis_check" directive is duplicate/ ],
    [ 'redis_master with redis_replica',
      upstream('redis_master; redis_replica;'),
      qr/"redis_replica" cannot be combined with "redis_master"/ ],
    [ 'redis_check without a Redis balancer',
      upstream('redis_check;'),
      qr/"redis_check" in upstream "u" requires "redis_master" or "redis_replica"/ ],
    [ 'another balancer overrides redis_master',
      upstream('redis_master; least_conn;'),
      qr/"redis_master" in upstream "u" is overridden by another load balancing method/ ],
    [ 'unreadable password_file',
      upstream("redis_master; redis_check password_file=$dir/missing;"),
      qr/"redis_check" cannot open password_file "\Q$dir\E\/missing" \(2: No such file or directory\)/ ],
    [ 'password and password_file together',
      upstream("redis_master; redis_check password=x password_file=$dir/password;"),
      qr/"redis_check" takes "password=" or "password_file=", not both/ ],
    [ 'username without a password',
      upstream('redis_master; redis_check username=checker;'),
      qr/"redis_check" with "username=" needs "password=" or "password_file="/ ],
    [ 'bad split_brain',
      upstream('redis_master split_brain=maybe;'),
      qr/invalid parameter "split_brain=\.\.\." in "redis_master"/ ],
    [ 'bad max_lag',
      upstream('redis_replica max_lag=soon;'),
      qr/invalid value "max_lag=soon" in "redis_replica"/ ],
    [ 'bad max_lag_bytes',
      upstream('redis_replica max_lag_bytes=lots;'),
      qr/invalid value "max_lag_bytes=lots" in "redis_replica"/ ],
    [ 'bad fallback',
      upstream('redis_replica fallback=anyone;'),
      qr/invalid parameter "fallback=\.\.\." in "redis_replica"/ ],
    [ 'max_fails on a server line before redis_master',
      "upstream u {\n server 127.0.0.1:6379 max_fails=3;\n redis_master;\n}\n"
      . "server { listen 127.0.0.1:1; proxy_pass u; }",
      qr/"redis_master" does not support "max_fails=" and "fail_timeout=" \(server "127\.0\.0\.1:6379"\)/ ],
    [ 'backup on a server line before redis_master',
      "upstream u {\n server 127.0.0.1:6379 backup;\n redis_master;\n}\n"
      . "server { listen 127.0.0.1:1; proxy_pass u; }",
      qr/"redis_master" does not support backup servers \(server "127\.0\.0\.1:6379"\)/ ],
    [ 'one Redis server listed twice',
      upstream("server localhost:6379;\n redis_master;"),
      qr/server "localhost:6379" in upstream "u" has the address 127\.0\.0\.1:6379 of server "127\.0\.0\.1:6379": list each Redis server once/ ],
    [ 'listed twice, the first spelling shared with another upstream',
      "upstream a {\n server 127.0.0.1:6379;\n redis_master;\n}\n"
      . "upstream u {\n server localhost:6379;\n server 127.0.0.1:6379;\n"
      . " redis_master;\n}\nserver { listen 127.0.0.1:1; proxy_pass u; }",
      qr/server "127\.0\.0\.1:6379" in upstream "u" has the address 127\.0\.0\.1:6379 of server "localhost:6379": list each Redis server once/ ],
    [ 'redis_sentinel without a Redis balancer',
      upstream('redis_sentinel name=m 127.0.0.1:26379;'),
      qr/"redis_sentinel" in upstream "u" requires "redis_master" or "redis_replica"/ ],
    [ 'fail_timeout in a read pool',
      "upstream u {\n redis_replica;\n server 127.0.0.1:6379 fail_timeout=3s;\n}\n"
      . "server { listen 127.0.0.1:1; proxy_pass u; }",
      qr/balancing method does not support parameter "fail_timeout=3s"/ ],
    [ 'bad wait',
      upstream('redis_master wait=later;'),
      qr/invalid value "wait=later" in "redis_master"/ ],
    [ 'zero wait_queue',
      upstream('redis_master wait=1s wait_queue=0;'),
      qr/invalid value "wait_queue=0" in "redis_master"/ ],
    [ 'bad min_replicas',
      upstream('redis_master min_replicas=some;'),
      qr/invalid value "min_replicas=some" in "redis_master"/ ],
    [ 'min_replicas beyond what a master lists',
      upstream('redis_master min_replicas=9;'),
      qr/invalid value "min_replicas=9" in "redis_master"/ ],
    [ 'bad min_replicas_max_lag',
      upstream('redis_master min_replicas=1 min_replicas_max_lag=soon;'),
      qr/invalid value "min_replicas_max_lag=soon" in "redis_master"/ ],
    [ 'min_replicas as many as the servers',
      "upstream u {\n server 127.0.0.1:6379;\n server 127.0.0.1:6380;\n"
      . " redis_master min_replicas=2;\n}\n"
      . "server { listen 127.0.0.1:1; proxy_pass u; }",
      qr/"redis_master min_replicas=2" in upstream "u" asks for more replicas than the 1 other servers it has/ ],
    [ 'redis_sentinel without name=',
      upstream('redis_master; redis_sentinel 127.0.0.1:26379 127.0.0.1:26380;'),
      qr/"redis_sentinel" needs "name=", the name Sentinels monitor the master under/ ],
    [ 'redis_sentinel without an address',
      upstream('redis_master; redis_sentinel name=m password=x;'),
      qr/"redis_sentinel" needs at least one address/ ],
    [ 'redis_sentinel address without a port',
      upstream('redis_master; redis_sentinel name=m 127.0.0.1;'),
      qr/invalid Sentinel address "127\.0\.0\.1" in "redis_sentinel"/ ],
    [ 'redis_sentinel twice',
      upstream('redis_master; redis_sentinel name=m 127.0.0.1:1; '
               . 'redis_sentinel name=m 127.0.0.1:2;'),
      qr/"redis_sentinel" directive is duplicate/ ],
    [ 'redis_sentinel unknown parameter hides its value',
      upstream('redis_master; redis_sentinel name=m pasword=s3cret 127.0.0.1:1;'),
      qr/invalid parameter "pasword=\.\.\." in "redis_sentinel"/, 's3cret' ],
    [ 'a secret typed with ":" in redis_sentinel is not echoed as an address',
      upstream('redis_master; redis_sentinel name=m password:S3cret 127.0.0.1:1;'),
      qr/invalid Sentinel address "password:\.\.\." in "redis_sentinel": invalid port/,
      'S3cret' ],
    [ 'a bare secret in redis_sentinel is not echoed as an address',
      upstream('redis_master; redis_sentinel name=m S3cret 127.0.0.1:1;'),
      qr/invalid Sentinel address "S\.\.\." in "redis_sentinel"/, 'S3cret' ],
    [ 'redis_sentinel unreadable password_file',
      upstream("redis_master; redis_sentinel name=m password_file=$dir/none 127.0.0.1:1;"),
      qr/"redis_sentinel" cannot open password_file "\Q$dir\E\/none"/ ],
    [ 'backup server after redis_master',
      "upstream u {\n redis_master;\n server 127.0.0.1:6379 backup;\n}\n"
      . "server { listen 127.0.0.1:1; proxy_pass u; }",
      qr/balancing method does not support parameter "backup"/ ],
    [ 'probe port out of range',
      upstream('redis_master; redis_check port=70000;'),
      qr/invalid value "port=70000" in "redis_check"/ ],
    [ 'max_lag that is no time',
      upstream('redis_replica max_lag=soon;'),
      qr/invalid value "max_lag=soon" in "redis_replica"/ ],
    [ 'redis_ssl without a Redis balancer',
      upstream('redis_ssl on;'),
      qr/"redis_ssl" in upstream "u" requires "redis_master" or "redis_replica"/ ],
    [ 'redis_ssl_verify without a CA',
      upstream('redis_master; redis_ssl on; redis_ssl_verify on;'),
      qr/no "redis_ssl_trusted_certificate" for "redis_ssl_verify"/ ],
    [ 'redis_ssl_certificate without its key',
      upstream("redis_master; redis_ssl on; redis_ssl_certificate $dir/tls/client.crt;"),
      qr/no "redis_ssl_certificate_key" is defined for certificate "\Q$dir\E\/tls\/client\.crt"/ ],
    [ 'redis_sentinel_ssl_verify without a CA',
      upstream('redis_master; redis_sentinel name=m 127.0.0.1:26379; '
               . 'redis_sentinel_ssl on; redis_sentinel_ssl_verify on;'),
      qr/no "redis_sentinel_ssl_trusted_certificate" for "redis_sentinel_ssl_verify"/ ],
    [ 'redis_ssl twice',
      upstream('redis_master; redis_ssl on; redis_ssl off;'),
      qr/"redis_ssl" directive is duplicate/ ],
    [ 'one server with TLS in one upstream and not in another',
      upstream('redis_master; redis_ssl on;')
      . "\nupstream v {\n server 127.0.0.1:6379;\n redis_replica;\n}\n"
      . "server { listen 127.0.0.1:2; proxy_pass v; }",
      qr/server "127\.0\.0\.1:6379" in upstream "v" is checked with other settings/ ],
    [ 'a Sentinel name that does not resolve, without a resolver',
      upstream('redis_master; redis_sentinel name=m no-such-host.invalid:26379;'),
      qr/invalid Sentinel address "no-such-host\.invalid:26379" in "redis_sentinel" of upstream "u": host not found \(with a "resolver" in stream\{\}, Sentinel names are resolved at run time\)/ ],
    [ 'max_fails in a master pool',
      "upstream u {\n redis_master;\n server 127.0.0.1:6379 max_fails=3;\n}\n"
      . "server { listen 127.0.0.1:1; proxy_pass u; }",
      qr/balancing method does not support parameter "max_fails=3"/ ],
);

for my $case (@bad) {
    my ($name, $stream, $expect, $secret) = @$case;
    my ($status, $said) = nginx_t($stream);

    isnt($status, 0, "$name: nginx -t fails");
    like($said, $expect, "$name: the message names directive and value");
    like($said, qr/\[emerg\]/, "$name: at emerg level");
    unlike($said, qr/\Q$secret\E/, "$name: the secret is not echoed")
        if $secret;
}

my @good = (
    [ 'master pool with every check parameter',
      upstream('redis_master split_brain=lineage; redis_check interval=250ms '
               . 'timeout=100ms rise=2 fall=3 username=checker '
               . "password_file=$dir/password;") ],
    [ 'read pool with every parameter',
      upstream('redis_replica max_lag=3s max_lag_bytes=1m fallback=none; '
               . 'redis_check "password=with # and space";') ],
    [ 'master pool with Sentinels and a hold',
      upstream('redis_master wait=5s wait_queue=100; redis_check interval=1s; '
               . 'redis_sentinel name=mymaster username=s '
               . "password_file=$dir/password 127.0.0.1:26379 localhost:26380;") ],
    [ 'master pool with min_replicas',
      "upstream u {\n server 127.0.0.1:6379;\n server 127.0.0.1:6380;\n"
      . " server 127.0.0.1:6381;\n"
      . " redis_master min_replicas=majority min_replicas_max_lag=1500ms"
      . " wait=5s;\n}\n"
      . "server { listen 127.0.0.1:1; proxy_pass u; }" ],
    [ 'balancer without redis_check takes the defaults',
      upstream('redis_master;') ],
    [ 'read pool with max_lag in milliseconds',
      upstream('redis_replica max_lag=500ms; redis_check port=6380;') ],
    [ 'a Sentinel name that does not resolve yet, with a resolver',
      "resolver 127.0.0.1:1 valid=1s;\n"
      . upstream('redis_master; redis_sentinel name=m no-such-host.invalid:26379 '
                 . '127.0.0.1:26379 localhost:26380;') ],
    [ 'TLS to servers and Sentinels, every setting',
      upstream('redis_master; redis_sentinel name=m 127.0.0.1:26379; '
               . "redis_ssl on; redis_ssl_certificate $dir/tls/client.crt; "
               . "redis_ssl_certificate_key $dir/tls/client.key; "
               . "redis_ssl_trusted_certificate $dir/tls/ca.crt; "
               . 'redis_ssl_verify on; redis_ssl_verify_depth 2; '
               . 'redis_ssl_name redis.test; redis_ssl_server_name on; '
               . 'redis_ssl_protocols TLSv1.2 TLSv1.3; '
               . 'redis_ssl_ciphers HIGH:!aNULL; redis_ssl_session_reuse off; '
               . 'redis_sentinel_ssl_name sentinel.test; '
               . "redis_sentinel_ssl_trusted_certificate $dir/tls/other-ca.crt;") ],
);

for my $case (@good) {
    my ($name, $stream) = @$case;
    my ($status, $said) = nginx_t($stream);

    is($status, 0, "$name: nginx -t passes") or diag $said;
    unlike($said, qr/can be read by any user/,
           "$name: no warning about the password file");
}

# a password file others can read works, with a warning
{
    my ($status, $said) = nginx_t(upstream(
        "redis_master; redis_check password_file=$dir/open-password;"));

    is($status, 0, 'a password_file readable by all: nginx -t passes')
        or diag $said;
    like($said, qr/\[warn\].*"redis_check" password_file "\Q$dir\E\/open-password" can be read by any user/,
         'a password_file readable by all: a warning names it');
}

# one server in two upstreams checked the same way is probed once: fine
{
    my ($status, $said) = nginx_t(
        upstream('redis_master; redis_check interval=1s password=x;')
        . "\nupstream v {\n server 127.0.0.1:6379;\n redis_replica;\n"
        . " redis_check interval=1s password=x;\n}\n"
        . "server { listen 127.0.0.1:2; proxy_pass v; }");

    is($status, 0, 'one server checked alike by two upstreams: nginx -t passes')
        or diag $said;
}

# a bare number is seconds: one above 100 looks like HAProxy's milliseconds,
# and nginx -t says so, naming the directive and the value, but accepts it
for my $case (['interval=500', 500], ['timeout=2000', 2000]) {
    my ($param, $n) = @$case;
    my ($status, $said) = nginx_t(upstream("redis_master; redis_check $param;"));

    is($status, 0, "redis_check $param: nginx -t passes") or diag $said;
    like($said, qr/\[warn\].*"\Q$param\E" in "redis_check" has no unit and means $n seconds; write "\Q${param}ms\E" for milliseconds/,
         "redis_check $param: a warning names the directive and the value");
}

for my $param ('interval=100', 'interval=30', 'interval=500ms',
               'timeout=2s', 'interval=1m')
{
    my ($status, $said) = nginx_t(upstream("redis_master; redis_check $param;"));

    is($status, 0, "redis_check $param: nginx -t passes") or diag $said;
    unlike($said, qr/has no unit/, "redis_check $param: no unit warning");
}

# Every parameter has a range, and nginx -t refuses a value outside with
# the directive, the value (its start, if long) and the range: for each
# bound, the last value accepted and the first refused.  ARG in the
# configuration is the value.
my $nine = join '', map { " server 127.0.0.1:" . (6379 + $_) . ";\n" } 0 .. 8;
my %conf = (
    check    => upstream('redis_master; redis_check ARG;'),
    master   => "upstream u {\n$nine redis_master ARG;\n}\n"
                . "server { listen 127.0.0.1:1; proxy_pass u; }",
    replica  => upstream('redis_replica ARG;'),
    sentinel => upstream('redis_master; redis_sentinel ARG 127.0.0.1:26379;'),
    ssl      => upstream('redis_master; redis_ssl on; ARG;'),
    sssl     => upstream('redis_master; redis_sentinel name=m 127.0.0.1:26379; '
                         . 'redis_sentinel_ssl on; ARG;'),
);

my $long_name = 'n' x 1024;
my $dns_name = join('.', ('a' x 63) x 4) =~ s/^a/b/r;   # 255 bytes
$dns_name = substr $dns_name, 2;                         # 253 bytes
my $secret = 'S3cretXY' x 512;

my @ranges = (
    # conf, directive, last accepted, first refused, the range it states
    [ check => 'redis_check', 'interval=50ms', 'interval=49ms',
      'a time from 50ms to 1h' ],
    [ check => 'redis_check', 'interval=1h', 'interval=3600001ms',
      'a time from 50ms to 1h' ],
    [ check => 'redis_check', 'interval=60m', 'interval=1ms',
      'a time from 50ms to 1h' ],
    [ check => 'redis_check', 'timeout=10ms', 'timeout=9ms',
      'a time from 10ms to 1h' ],
    [ check => 'redis_check', 'timeout=3600s', 'timeout=3601s',
      'a time from 10ms to 1h' ],
    [ check => 'redis_check', 'rise=1', 'rise=0', 'a number from 1 to 1000' ],
    [ check => 'redis_check', 'rise=1000', 'rise=1001',
      'a number from 1 to 1000' ],
    [ check => 'redis_check', 'fall=1', 'fall=0', 'a number from 1 to 1000' ],
    [ check => 'redis_check', 'fall=1000', 'fall=1001',
      'a number from 1 to 1000' ],
    [ check => 'redis_check', 'fall=1000', 'fall=4294967297',
      'a number from 1 to 1000' ],
    [ check => 'redis_check', 'port=1', 'port=0', 'a number from 1 to 65535' ],
    [ check => 'redis_check', 'port=65535', 'port=65536',
      'a number from 1 to 65535' ],
    [ master => 'redis_master', 'wait=0', 'wait=-1', 'a time from 0 to 1h' ],
    [ master => 'redis_master', 'wait=1h', 'wait=3600001ms',
      'a time from 0 to 1h' ],
    [ master => 'redis_master', 'wait=1s wait_queue=1', 'wait_queue=0',
      'a number from 1 to 65536' ],
    [ master => 'redis_master', 'wait_queue=65536', 'wait_queue=65537',
      'a number from 1 to 65536' ],
    [ master => 'redis_master', 'min_replicas=0', 'min_replicas=-1',
      'a number from 0 to 8' ],
    [ master => 'redis_master', 'min_replicas=8', 'min_replicas=9',
      'a number from 0 to 8' ],
    [ master => 'redis_master', 'min_replicas=1 min_replicas_max_lag=1s',
      'min_replicas_max_lag=999ms', 'a time from 1s to 1h' ],
    [ master => 'redis_master', 'min_replicas=1 min_replicas_max_lag=1h',
      'min_replicas_max_lag=3600001ms', 'a time from 1s to 1h' ],
    [ replica => 'redis_replica', 'max_lag=0', 'max_lag=-1ms',
      'a time from 0 to 1h' ],
    [ replica => 'redis_replica', 'max_lag=1h', 'max_lag=3600001ms',
      'a time from 0 to 1h' ],
    [ replica => 'redis_replica', 'max_lag_bytes=0', 'max_lag_bytes=-1',
      'a size from 0 to 1024g' ],
    [ replica => 'redis_replica', 'max_lag_bytes=1024g',
      'max_lag_bytes=1099511627777', 'a size from 0 to 1024g' ],
    [ sentinel => 'redis_sentinel', "name=$long_name",
      "name=${long_name}n", 'a name of 1 to 1024 bytes, not 1025',
      'name=' . ('n' x 64) . '...' ],
    [ ssl => 'redis_ssl_verify_depth', 'redis_ssl_verify_depth 100',
      'redis_ssl_verify_depth 101', 'a number from 0 to 100' ],
    [ ssl => 'redis_ssl_verify_depth', 'redis_ssl_verify_depth 0',
      'redis_ssl_verify_depth -1', 'a number from 0 to 100' ],
    [ sssl => 'redis_sentinel_ssl_verify_depth',
      'redis_sentinel_ssl_verify_depth 100',
      'redis_sentinel_ssl_verify_depth 101', 'a number from 0 to 100' ],
    [ ssl => 'redis_ssl_name', "redis_ssl_name $dns_name",
      "redis_ssl_name a$dns_name", 'a name of 1 to 253 bytes' ],
    [ ssl => 'redis_ssl_name', 'redis_ssl_name r', 'redis_ssl_name ""',
      'a name of 1 to 253 bytes' ],
    [ sssl => 'redis_sentinel_ssl_name', "redis_sentinel_ssl_name $dns_name",
      "redis_sentinel_ssl_name a$dns_name", 'a name of 1 to 253 bytes' ],
);

for my $case (@ranges) {
    my ($conf, $directive, $ok, $bad, $range, $echoed) = @$case;

    my ($status, $said) = nginx_t($conf{$conf} =~ s/ARG/$ok/r);
    is($status, 0, "$directive $ok: accepted") or diag $said;

    ($status, $said) = nginx_t($conf{$conf} =~ s/ARG/$bad/r);
    my $value = $bad =~ s/^\Q$directive\E //r;
    $value = '' if $value eq '""';
    $value = $echoed if defined $echoed;
    isnt($status, 0, "$directive $bad: refused");
    like($said, qr/\[emerg\].*invalid value "\Q$value\E" in "\Q$directive\E": it must be \Q$range\E/,
         "$directive $bad: the message names the directive, the value and the range");
}

# a Sentinel's port is nginx's to check: 1 to 65535
for my $case (['127.0.0.1:65535', 0], ['127.0.0.1:65536', 1],
              ['127.0.0.1:1', 0], ['127.0.0.1:0', 1])
{
    my ($addr, $refused) = @$case;
    my ($status, $said) = nginx_t(upstream("redis_master; redis_sentinel name=m $addr;"));

    if ($refused) {
        like($said, qr/\[emerg\].*invalid Sentinel address "\Q$addr\E" in "redis_sentinel": invalid port/,
             "Sentinel $addr: refused, naming the address");
    } else {
        is($status, 0, "Sentinel $addr: accepted") or diag $said;
    }
}

# the credentials: nginx's parser reads a parameter of about 4 KB at most
# (4095 bytes, less where the line began late in its buffer) and refuses a
# longer one itself, echoing its first 10 bytes (the name, "=" and the
# secret's first byte); password_file= holds up to 4096 bytes
for my $directive ('redis_check', 'redis_sentinel name=m') {
    my $tail = $directive =~ /sentinel/ ? ' 127.0.0.1:26379' : '';
    (my $name = $directive) =~ s/ .*//;

    for my $param ('password', 'username') {
        my $value = substr $secret, 0, 4000;
        my $creds = $param eq 'password' ? "password=$value"
                                         : "username=$value password=x";
        my ($status, $said) = nginx_t(upstream("redis_master; $directive $creds$tail;"));
        is($status, 0, "$name $param= of 4000 bytes: accepted") or diag $said;

        $creds =~ s/\Q$value\E/$secret/;
        ($status, $said) = nginx_t(upstream("redis_master; $directive $creds$tail;"));
        isnt($status, 0, "$name $param= of 4096 bytes: refused");
        like($said, qr/\[emerg\].*too long parameter "$param=S\.\.\."/,
             "$name $param= of 4096 bytes: nginx's parser refuses it");
        unlike($said, qr/S3cret/, "$name $param= of 4096 bytes: not echoed");
    }

    for my $case ([$secret, 0], ["$secret\n", 1]) {
        my ($content, $refused) = @$case;
        open my $fh, '>', "$dir/long-password" or die $!;
        print {$fh} $content;
        close $fh;
        chmod 0600, "$dir/long-password" or die $!;

        my ($status, $said) = nginx_t(upstream(
            "redis_master; $directive password_file=$dir/long-password$tail;"));
        my $size = length $content;

        if ($refused) {
            like($said, qr/\[emerg\].*"\Q$name\E" password_file "\Q$dir\E\/long-password" is larger than 4096 bytes/,
                 "$name password_file of $size bytes: refused");
        } else {
            is($status, 0, "$name password_file of $size bytes: accepted")
                or diag $said;
        }
        unlike($said, qr/S3cret/, "$name password_file of $size bytes: not echoed");
    }
}

# TLS that does not check the peer's certificate would give AUTH to any
# server (or Sentinel) that answers: nginx -t warns, naming the upstream
# and what to set; with verification, or without credentials, it does not
{
    my $verify = "redis_ssl_verify on; "
               . "redis_ssl_trusted_certificate $dir/tls/ca.crt;";
    my $sentinel = 'redis_sentinel name=m password=x 127.0.0.1:26379;';
    my $servers_warn = qr/\[warn\].*upstream "u" sends the "redis_check" password over TLS without checking the servers' certificates, to any server that answers: set "redis_ssl_verify on" and "redis_ssl_trusted_certificate"/;
    my $sentinels_warn = qr/\[warn\].*upstream "u" sends the "redis_sentinel" password over TLS without checking the Sentinels' certificates, to any Sentinel that answers: set "redis_sentinel_ssl_verify on"/;

    my @tls = (
        # name, upstream body, warns about servers, about Sentinels
        [ 'server password over TLS, no verify',
          'redis_check password=x; redis_ssl on;', 1, 0 ],
        [ 'server password_file over TLS, no verify',
          "redis_check password_file=$dir/password; redis_ssl on;", 1, 0 ],
        [ 'server password over TLS, verified',
          "redis_check password=x; redis_ssl on; $verify", 0, 0 ],
        [ 'no credentials over TLS, no verify',
          "redis_ssl on; $sentinel" =~ s/ password=x//r, 0, 0 ],
        [ 'Sentinel password over TLS (inherited), no verify',
          "redis_ssl on; $sentinel", 0, 1 ],
        [ 'Sentinel password over TLS of its own, no verify',
          "redis_sentinel_ssl on; $sentinel", 0, 1 ],
        [ 'Sentinel password over TLS, verify inherited',
          "redis_ssl on; $verify $sentinel", 0, 0 ],
        [ 'Sentinel password over TLS, verify turned off for Sentinels',
          "redis_ssl on; $verify $sentinel redis_sentinel_ssl_verify off;",
          0, 1 ],
        [ 'both passwords over TLS, no verify',
          "redis_check password=y; redis_ssl on; $sentinel", 1, 1 ],
    );

    for my $case (@tls) {
        my ($name, $body, $servers, $sentinels) = @$case;
        my ($status, $said) = nginx_t(upstream("redis_master; $body"));

        is($status, 0, "$name: nginx -t passes") or diag $said;

        if ($servers) {
            like($said, $servers_warn, "$name: warns about the servers");
        } else {
            unlike($said, qr/"redis_check" password over TLS/,
                   "$name: no warning about the servers");
        }

        if ($sentinels) {
            like($said, $sentinels_warn, "$name: warns about the Sentinels");
        } else {
            unlike($said, qr/"redis_sentinel" password over TLS/,
                   "$name: no warning about the Sentinels");
        }

        unlike($said, qr/\Q"x"\E|password=x/, "$name: no secret echoed");
    }
}

# the version, from the one header that holds it, is logged at notice
# whenever a configuration is loaded, as nginx logs its own
{
    open my $h, '<', 'ngx_stream_redis_master_module/ngx_stream_redis_master_version.h'
        or die $!;
    my ($version) = map { /^#define NGX_STREAM_REDIS_MASTER_VERSION\s+"([^"]+)"/ ? $1 : () } <$h>;
    ok(defined $version && $version =~ /^\d+\.\d+\.\d+$/,
       'the version header holds a version');

    my ($status, $said) = nginx_t(upstream('redis_master;'),
                                  'stderr notice');
    is($status, 0, 'error_log at notice: nginx -t passes') or diag $said;
    like($said, qr/\[notice\].*ngx_stream_redis_master_module\/\Q$version\E \(hiredis \d+\.\d+\.\d+\)/,
         'the version is logged at notice');
}

done_testing();
