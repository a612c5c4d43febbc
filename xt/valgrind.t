# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# Hostile replies, failed AUTH, Sentinel events, held connections, TLS
# links, Sentinels resolved at run time and the status page, run again
# under valgrind: no invalid memory access, and nothing this module or
# hiredis allocated is lost.  (nginx's own ngx_set_environment() leak in the
# master process is not ours and is ignored.)
#
# Not part of "make test" (prove -r t): "make test-valgrind" runs it from
# the project's directory.  nginx under valgrind is many times slower, so
# the suites' deadlines get TEST_NGINX_TIMEOUT_SCALE times $SLOWER.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use RedisTopo ();

my @suites = qw(t/06-hostile.t t/03-auth.t t/09-sentinel.t t/10-hold.t
                t/14-tls.t t/15-dns.t t/18-status.t);
my $SLOWER = 5;

# make test-valgrind installs valgrind: its absence is a failure, not a skip
ok(-x '/usr/bin/valgrind', 'valgrind is installed') or BAIL_OUT('no valgrind');

local $ENV{TEST_NGINX_USE_VALGRIND} = 1;
local $ENV{TEST_NGINX_TIMEOUT_SCALE} = RedisTopo::scaled($SLOWER);
my $out = `prove @suites 2>&1`;
my $status = $? >> 8;

is($status, 0, 'the suites pass under valgrind') or diag $out;

my @errors = $out =~ /^(==\d+== (?:Invalid (?:read|write)|Conditional jump|Use of uninitialised|Syscall param).*)$/mg;
is_deeply(\@errors, [], 'no invalid memory access');

# a loss record is one "definitely lost" line and the stack under it
my @ours;
while ($out =~ /(==\d+== [\d,]+ (?:\([^)]*\) )?bytes in [\d,]+ blocks are definitely lost.*?)\n==\d+== \n/sg) {
    my $record = $1;
    push @ours, $record if $record =~ /ngx_stream_redis_master|hiredis/;
}
is_deeply(\@ours, [], 'nothing of the module or hiredis definitely lost');

like($out, qr/definitely lost|All tests successful/,
     'valgrind did run the suites');

done_testing();
