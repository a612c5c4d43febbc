# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# ===========================================================================
# RedisTopo::Tls - certificates made at test time with openssl
# ===========================================================================
#
# RedisTopo::Tls->new makes, in a temporary directory, a CA, a server
# certificate it signed (for the names redis.test and sentinel.test and the
# address 127.0.0.1; Redis also presents it as a client to its master and
# its Sentinels), a client certificate it signed, and a second CA that
# signed nothing of these: what a wrong trusted CA looks like.  Keys are
# 2048-bit RSA, so that making them takes a moment only.

package RedisTopo::Tls;

use strict;
use warnings;
use Carp qw(croak);
use File::Temp ();
use RedisTopo ();

my $OPENSSL = $ENV{TOPO_OPENSSL} || 'openssl';

sub new {
    my ($class) = @_;
    my $dir = RedisTopo::_tempdir('tls');
    my $self = bless { dir => $dir }, $class;

    $self->_ca('ca');
    $self->_ca('other-ca');
    $self->_signed('server', 'redis.test',
                   'subjectAltName=DNS:redis.test,DNS:sentinel.test,'
                   . 'IP:127.0.0.1');
    $self->_signed('client', 'nginx-check', '');
    return $self;
}

sub dir { $_[0]{dir} }

# file(NAME): the path of ca.crt, server.crt, server.key, client.crt,
# client.key or other-ca.crt
sub file {
    my ($self, $name) = @_;
    my $f = "$self->{dir}/$name";
    croak "no $f" unless -f $f;
    return $f;
}

# redis_conf(): the lines that make a redis-server or Sentinel take TLS
# only, ask clients for a certificate, and speak TLS to its master
sub redis_conf {
    my ($self) = @_;
    return (
        'tls-cert-file ' . $self->file('server.crt'),
        'tls-key-file ' . $self->file('server.key'),
        'tls-ca-cert-file ' . $self->file('ca.crt'),
        'tls-auth-clients yes',
        'tls-replication yes',
    );
}

# cli_args(): what redis-cli needs to talk to such a server
sub cli_args {
    my ($self) = @_;
    return ('--tls', '--cert', $self->file('client.crt'),
            '--key', $self->file('client.key'),
            '--cacert', $self->file('ca.crt'));
}

sub _openssl {
    my ($self, @args) = @_;
    my ($out, $err, $status) = RedisTopo::_run_capture(60, $OPENSSL, @args);
    croak "openssl @args failed: $err" if $status;
    return $out;
}

sub _ca {
    my ($self, $name) = @_;
    my $d = $self->{dir};
    $self->_openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes',
                    '-keyout', "$d/$name.key", '-out', "$d/$name.crt",
                    '-days', '2', '-subj', "/CN=test $name");
}

sub _signed {
    my ($self, $name, $cn, $ext) = @_;
    my $d = $self->{dir};
    $self->_openssl('req', '-newkey', 'rsa:2048', '-nodes',
                    '-keyout', "$d/$name.key", '-out', "$d/$name.csr",
                    '-subj', "/CN=$cn");
    my $extfile = "$d/$name.ext";
    open my $fh, '>', $extfile or croak "$extfile: $!";
    print {$fh} "basicConstraints=CA:FALSE\n", ($ext ? "$ext\n" : '');
    close $fh;
    $self->_openssl('x509', '-req', '-in', "$d/$name.csr",
                    '-CA', "$d/ca.crt", '-CAkey', "$d/ca.key",
                    '-CAcreateserial', '-days', '2',
                    '-extfile', $extfile, '-out', "$d/$name.crt");
    chmod 0644, "$d/$name.key";
}

1;
