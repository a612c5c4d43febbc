# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
#
# scripts/check-layers fails where it must: each scenario is a directory of
# tiny sources named like the module's files, checked by the script, with
# its exit code and what it says.  No nginx runs.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use Cwd qw(abs_path);

my $script = abs_path('scripts/check-layers');
my $prefix = 'ngx_stream_redis_master_';
my $n = 0;

# checks a directory made of FILES (short name => text); returns the exit
# code and what the script printed
sub check_files {
    my (%files) = @_;
    my $dir = tempdir('layers-XXXX', TMPDIR => 1, CLEANUP => 1);

    for my $short (keys %files) {
        open my $fh, '>', "$dir/$prefix$short" or die "$short: $!";
        print $fh $files{$short};
        close $fh;
    }

    my $out = `perl '$script' '$dir' 2>&1`;
    return ($? >> 8, $out);
}

# what check-layers says, literally: "P" stands for the module's prefix
sub says {
    my ($text) = @_;
    $text =~ s/\bP_/$prefix/g;
    return $text;
}

# a function definition in the module's style: NAME() calling BODY
sub fn {
    my ($name, $body, $static) = @_;
    return ($static ? 'static ' : '') . "void\n$prefix$name(void)\n{\n"
           . ($body // '') . "}\n\n\n";
}

sub fails_with {
    my ($name, $files, @rx) = @_;
    my ($rc, $out) = check_files(%$files);

    subtest $name => sub {
        is $rc, 1, 'check-layers fails' or diag $out;
        for my $says (@rx) {
            like $out, ref $says ? $says : qr/\Q$says\E/, 'and says why';
        }
    };
}

sub passes {
    my ($name, $files) = @_;
    my ($rc, $out) = check_files(%$files);

    subtest $name => sub {
        is $rc, 0, 'check-layers passes' or diag $out;
        like $out, qr/all downward/, 'and says so';
    };
}

passes 'a downward call', {
    'shm.c'    => fn('record', ''),
    'check.c'  => fn('probe', "    ${prefix}record();\n"),
};

fails_with 'an upward direct call', {
    'shm.c'    => fn('record', "    ${prefix}probe();\n"),
    'check.c'  => fn('probe', ''),
}, says('shm.c (layer 2) calls P_probe() of check.c (layer 6)');

fails_with 'an upward header', {
    'shm.c'    => "#include \"${prefix}check.h\"\n",
    'check.h'  => '',
}, says('shm.c (layer 2) includes check.h (layer 6)');

fails_with 'an upward call through a global pointer set by a higher layer', {
    'types.h'  => "typedef void (*${prefix}handler_pt)(void);\n",
    'shm.c'    => "${prefix}handler_pt  ${prefix}kicked;\n\n\n"
                  . fn('kick', "    if (${prefix}kicked) {\n"
                              . "        ${prefix}kicked();\n    }\n"),
    'check.c'  => fn('run_kicks', ''),
    'module.c' => fn('init_process',
                     "    ${prefix}kicked = ${prefix}run_kicks;\n"),
}, says('shm.c (layer 2) calls P_run_kicks() through global P_kicked'
        . ' (set in module.c) of check.c (layer 6)');

fails_with 'an upward call through a field of a struct of the module', {
    'types.h'  => "typedef struct {\n    void  (*done)(void *data);\n"
                  . "    void   *data;\n} ${prefix}job_t;\n",
    'peer.c'   => "void\n${prefix}finish(${prefix}job_t *job)\n{\n"
                  . "    job->done(job->data);\n}\n",
    'balancer.c' => "static void\n${prefix}reroute(void *data)\n{\n}\n\n\n"
                  . fn('start', "    ${prefix}job_t  job;\n\n"
                              . "    job.done = ${prefix}reroute;\n"
                              . "    ${prefix}finish(&job);\n"),
}, says('peer.c (layer 5) calls P_reroute() through field done'
        . ' (set in balancer.c) of balancer.c (layer 6)');

fails_with 'an upward call through a parameter', {
    'link.c'   => "void\n${prefix}each(void (*f)(void))\n{\n"
                  . "    f();\n}\n",
    'check.c'  => "static void\n${prefix}one(void)\n{\n}\n\n\n"
                  . fn('all', "    ${prefix}each(${prefix}one);\n"),
}, says('link.c (layer 1) calls P_one() (given to P_each())'
        . ' from check.c through a pointer of check.c (layer 6)');

fails_with 'a circle of two files in one layer', {
    'check.c'    => fn('probe', "    ${prefix}reroute();\n"),
    'balancer.c' => fn('reroute', "    ${prefix}probe();\n"),
}, 'circle: balancer.c -> check.c -> balancer.c';

fails_with 'a circle of three files, one edge a pointer', {
    'types.h'    => "typedef void (*${prefix}handler_pt)(void);\n",
    'peer.c'     => fn('use', "    ${prefix}hold();\n"),
    'hold.c'     => "${prefix}handler_pt  ${prefix}held;\n\n\n"
                    . fn('hold', "    ${prefix}held();\n"),
    'sentinel.c' => fn('subscribe', "    ${prefix}use();\n")
                    . fn('init', "    ${prefix}held = ${prefix}subscribe;\n"),
}, 'circle: hold.c -> sentinel.c -> peer.c -> hold.c';

fails_with "the cycle's configuration read in layer 2", {
    'shm.c' => fn('pool', "    void  *c;\n\n"
                 . "    c = ngx_stream_cycle_get_module_main_conf(ngx_cycle,\n"
                 . "                                 ${prefix}module);\n"),
    'link.c' => fn('conf', "    void  *c;\n\n"
                 . "    c = ngx_cycle->conf_ctx;\n"),
}, says("shm.c (layer 2) reads the cycle's configuration"
        . ' (ngx_stream_cycle_get_module_main_conf) in P_pool()'),
   "link.c (layer 1) reads the cycle's configuration (->conf_ctx)";

passes "the cycle's configuration read by an entry point", {
    'check.c' => fn('init', "    void  *c;\n\n"
                 . "    c = ngx_stream_cycle_get_module_main_conf(ngx_cycle,\n"
                 . "                                 ${prefix}module);\n"),
};

fails_with 'an event handler registered by a layer below its own', {
    'shm.c'   => fn('arm', "    ev->handler = ${prefix}run;\n"
                         . "    ngx_post_event(ev, &ngx_posted_events);\n"),
    'check.c' => fn('run', ''),
}, says('shm.c (layer 2) takes the address of P_run()'
        . ' of check.c (layer 6)');

passes 'an event its owner registered, posted by a lower layer', {
    'types.h' => "typedef struct {\n    ngx_event_t  kick;\n"
                 . "} ${prefix}main_conf_t;\n",
    'shm.c'   => "void\n${prefix}kick(${prefix}main_conf_t *rmmcf)\n{\n"
                 . "    ngx_post_event(&rmmcf->kick, &ngx_posted_events);\n"
                 . "}\n",
    'check.c' => "static void\n${prefix}run_kicks(ngx_event_t *ev)\n{\n}"
                 . "\n\n\n"
                 . "void\n${prefix}init(${prefix}main_conf_t *rmmcf)\n{\n"
                 . "    rmmcf->kick.handler = ${prefix}run_kicks;\n"
                 . "    ${prefix}kick(rmmcf);\n}\n",
};

passes 'a handler handed to nginx by a lower layer is not a call', {
    'link.c'  => "void\n${prefix}tls(ngx_connection_t *c,"
                 . " ngx_ssl_handler_pt handler)\n{\n"
                 . "    c->ssl->handler = handler;\n}\n",
    'check.c' => "static void\n${prefix}handshaked(ngx_connection_t *c)\n"
                 . "{\n}\n\n\n"
                 . fn('start', "    ${prefix}tls(c, ${prefix}handshaked);\n"),
};

fails_with 'a file in no layer', {
    'extra.c' => fn('x', ''),
}, 'extra.c: in no layer';

my $rc = system("perl '$script' >/dev/null 2>&1") >> 8;
note "the module's own sources: check-layers exits $rc";

done_testing;
