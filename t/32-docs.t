# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Every nginx configuration example in README.md and docs/*.md passes
# "nginx -t" with the module loaded, without a warning.
#
# The examples are the fenced blocks labelled "nginx". The test fills in
# what an example leaves out or cannot have here: the load_module lines
# (and Debian's "include /etc/nginx/modules-enabled/*.conf", which it
# replaces with them), "events {}", a "stream {}" around a block that
# starts with "upstream" or "server", a password file for each
# password_file= path, a certificate, key or CA made with openssl for each
# *_certificate, *_certificate_key and *_trusted_certificate path (the TLS
# examples), a distinct port for each placeholder port (":MASTER", ":P1"),
# 1 for "worker_processes W", and a "resolver" for a fragment (a block
# without its stream {}) that lists a "redis_server" name: nothing is
# resolved by nginx -t, so any address will do. A complete example must
# have its own resolver.
#
# A fenced block that looks like nginx configuration but is not labelled
# "nginx" fails the test, unless the line before it is a comment
# "<!-- not-nginx-config: WHAT -->" that says what it is.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use RedisTopo::Tls ();
use File::Temp qw(tempdir);
use Cwd qw(abs_path);

my $root = abs_path('.');
my $module = "$root/build/ngx_stream_redis_master_module.so";
my $stream = '/usr/lib/nginx/modules/ngx_stream_module.so';
my $nginx = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';

die "build the module first (make): $module is missing\n" unless -f $module;

my $dir = tempdir(CLEANUP => 1);

open my $pw, '>', "$dir/password" or die $!;
print {$pw} "secret\n";
close $pw;
chmod 0600, "$dir/password" or die $!;

my $looks_like_nginx = qr/^\s*(?:(?:stream|upstream\s+\S+|events|http)\s*\{
                                |load_module\s|proxy_pass\s|redis_(?:master|replica|check|sentinel)\b
                                |redis_server\s+\S+:\S+)/mx;

# certificates for the TLS examples, made once
my $tls = RedisTopo::Tls->new;

# the fenced blocks of FILE: (line, info, text, marked)
sub blocks {
    my ($file) = @_;
    my (@blocks, $in, $marked, $prev);

    open my $fh, '<', $file or die "$file: $!";
    while (my $line = <$fh>) {
        if ($line =~ /^(\s*)```\s*(\S*)/) {
            my ($indent, $info) = (length $1, $2);
            if (!$in) {
                my $marked = ($prev // '') =~ /<!-- not-nginx-config: \S/;
                $in = { line => $., info => $info, indent => $indent,
                        text => '', marked => $marked ? 1 : 0 };
            } else {
                push @blocks, $in;
                undef $in;
            }
        } elsif ($in) {
            my $l = $line;
            $l =~ s/^ {0,$in->{indent}}//;
            $in->{text} .= $l;
        }
        $prev = $line unless $line =~ /^\s*$/ && !$in;
    }
    close $fh;
    return @blocks;
}

# the example made into a configuration nginx -t can check here
sub complete {
    my ($text) = @_;
    my %port;
    my $next = 21000;

    $text =~ s{^\s*include\s+/etc/nginx/modules-enabled/\*\.conf;}
              {load_module modules/ngx_stream_module.so;\nload_module modules/ngx_stream_redis_master_module.so;}m;
    $text =~ s{load_module\s+\S*/?ngx_stream_module\.so;}{load_module $stream;}g;
    $text =~ s{load_module\s+\S*/?ngx_stream_redis_master_module\.so;}{load_module $module;}g;
    $text =~ s{password_file=\S+?(;?)(\s)}{password_file=$dir/password$1$2}g;
    $text =~ s{(_ssl_certificate_key\s+)\S+;}{$1 . $tls->file('client.key') . ';'}ge;
    $text =~ s{(_ssl_trusted_certificate\s+)\S+;}{$1 . $tls->file('ca.crt') . ';'}ge;
    $text =~ s{(_ssl_certificate\s+)\S+;}{$1 . $tls->file('client.crt') . ';'}ge;
    $text =~ s{(:)([A-Z][A-Z0-9_]*)\b}{$1 . ($port{$2} //= $next++)}ge;
    $text =~ s{^(\s*worker_processes\s+)[A-Z]+;}{${1}1;}m;

    if ($text !~ /^\s*(?:stream|events|http)\s*\{/m
        && $text =~ /^\s*(?:upstream|server|resolver)\b/m)
    {
        $text = "resolver 127.0.0.1:53 ipv6=off;\n$text"
            if $text =~ /^\s*redis_server\s/m && $text !~ /^\s*resolver\s/m;
        $text = "stream {\n$text}\n";
    }
    $text = "load_module $stream;\nload_module $module;\n$text"
        unless $text =~ /load_module/;
    $text .= "events {}\n" unless $text =~ /^\s*events\s*\{/m;

    return "error_log $dir/error.log;\npid $dir/nginx.pid;\n$text";
}

my @files = ('README.md', glob('docs/*.md'));
my $examples = 0;

for my $file (@files) {
    for my $b (blocks($file)) {
        my $where = "$file:$b->{line}";

        if ($b->{info} ne 'nginx') {
            ok(!($b->{info} =~ /^(?:|text|conf)$/ && $b->{text} =~ $looks_like_nginx
                 && !$b->{marked}),
               "$where: not an nginx example, or marked as not one")
                or diag "label it ```nginx, or put <!-- not-nginx-config: WHAT --> before it:\n$b->{text}";
            next;
        }

        $examples++;
        my $conf = complete($b->{text});
        open my $fh, '>', "$dir/nginx.conf" or die $!;
        print {$fh} $conf;
        close $fh;

        my $out = `$nginx -t -p $dir -c $dir/nginx.conf 2>&1`;
        is($?, 0, "$where: nginx -t passes") or diag "$out\n$conf";
        unlike($out, qr/\[(?:warn|emerg|alert)\]/, "$where: without a warning")
            or diag $out;
    }
}

# the docs have examples: README's, directives.md's, production.md's and
# migration.md's at least
cmp_ok($examples, '>=', 10, "$examples nginx examples checked");

done_testing();
