# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Every suite that exchanges bytes with Redis servers, Sentinels or the DNS
# fixture, run again with nginx's socket reads and writes failing with
# EAGAIN and stopping short at random: xt/eagain/eagain.c, preloaded into
# nginx alone (Test::Nginx's TEST_NGINX_LD_PRELOAD), not into Perl, Redis
# or the Sentinels.  Each suite must pass, and the shim must have faked
# calls in both directions during it, so that a shim that did nothing
# cannot pass.
#
# Not part of "make test" (prove -r t): "make test-eagain" builds the shim
# and runs it from the project's directory.  EAGAIN_SEED (make picks one
# at random and prints it) fixes the sequence of fakes; EAGAIN_SUITES
# (names like "t/09-sentinel.t", space-separated) runs some suites only.
# See docs/testing.md, "Partial reads and writes".
#
# Left out, as they start no nginx that talks to a server: t/00-topo.t
# (the Redis fixture's self-test), t/01-config.t (nginx -t), t/13-hygiene.t
# (the repository's files), t/30-deb.t, t/31-etc-manifest.t and
# t/32-docs.t (the package, /etc/nginx, nginx -t of the documents).

use strict;
use warnings;

use Cwd qw(abs_path);
use Test::More;

my @suites = qw(t/02-master.t t/03-auth.t t/04-workers.t t/05-reload.t
                t/06-hostile.t t/07-replica.t t/08-split-brain.t
                t/09-sentinel.t t/10-hold.t t/12-stall.t t/14-tls.t
                t/15-dns.t t/16-lag.t t/17-min-replicas.t t/18-status.t);
@suites = split ' ', $ENV{EAGAIN_SUITES} if $ENV{EAGAIN_SUITES};

# the least a suite, and the whole run, must fake in each direction
my $LEAST = 10;
my $LEAST_ALL = 1000;
my %all;

my $shim = abs_path('build/eagain/eagain.so');
ok(defined $shim && -f $shim, 'the shim is built (make test-eagain)')
    or BAIL_OUT('no build/eagain/eagain.so');

my $seed = $ENV{EAGAIN_SEED} // 1;
diag "EAGAIN_SEED=$seed";

for my $suite (@suites) {
    (my $name = $suite) =~ s{^t/|\.t$}{}g;
    my $stats = abs_path('build/eagain') . "/$name.stats";
    unlink $stats;

    local $ENV{TEST_NGINX_LD_PRELOAD} = $shim;
    local $ENV{EAGAIN_SEED} = $seed;
    local $ENV{EAGAIN_STATS} = $stats;

    my $out = `prove $suite 2>&1`;
    my $status = $? >> 8;

    is($status, 0, "$suite passes with EAGAIN_SEED=$seed") or diag $out;

    my %sum;
    if (open my $fh, '<', $stats) {
        while (<$fh>) {
            $sum{$1} += $2 while /\b(eagain_\w+|short_\w+|events)=(\d+)/g;
        }
    }

    my $reads = ($sum{eagain_reads} // 0) + ($sum{short_reads} // 0);
    my $writes = ($sum{eagain_writes} // 0) + ($sum{short_writes} // 0);

    diag sprintf "%s: %d EAGAIN and %d short reads, %d EAGAIN and %d "
                 . "short writes, %d events added", $suite,
                 map { $sum{$_} // 0 } qw(eagain_reads short_reads
                                          eagain_writes short_writes events);

    cmp_ok($reads, '>=', $LEAST, "$suite: the shim faked reads");
    cmp_ok($writes, '>=', $LEAST, "$suite: the shim faked writes");

    $all{reads} += $reads;
    $all{writes} += $writes;
}

unless ($ENV{EAGAIN_SUITES}) {
    cmp_ok($all{reads}, '>=', $LEAST_ALL, "$all{reads} reads faked in all");
    cmp_ok($all{writes}, '>=', $LEAST_ALL,
           "$all{writes} writes faked in all");
}

done_testing();
