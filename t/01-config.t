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
