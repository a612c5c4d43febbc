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

fails_with 'an upward call through a local copied from a field', {
    'types.h'  => "typedef struct {\n    void  (*done)(void *data);\n"
                  . "    void   *data;\n} ${prefix}job_t;\n",
    'peer.c'   => "void\n${prefix}finish(${prefix}job_t *job)\n{\n"
                  . "    void  (*h)(void *data);\n\n"
                  . "    h = job->done;\n    h(job->data);\n}\n",
    'balancer.c' => "static void\n${prefix}reroute(void *data)\n{\n}\n\n\n"
                  . fn('start', "    ${prefix}job_t  job;\n\n"
                              . "    job.done = ${prefix}reroute;\n"
                              . "    ${prefix}finish(&job);\n"),
}, says('peer.c (layer 5) calls P_reroute() through field done'
        . ' (set in balancer.c, copied to h in P_finish())'
        . ' of balancer.c (layer 6)');

fails_with 'an upward call through a local copied from a global', {
    'types.h'  => "typedef void (*${prefix}handler_pt)(void);\n",
    'shm.c'    => "${prefix}handler_pt  ${prefix}kicked;\n\n\n"
                  . fn('kick', "    ${prefix}handler_pt  h;\n\n"
                              . "    h = ${prefix}kicked;\n"
                              . "    (*h)();\n"),
    'check.c'  => fn('run_kicks', ''),
    'module.c' => fn('init_process',
                     "    ${prefix}kicked = ${prefix}run_kicks;\n"),
}, says('shm.c (layer 2) calls P_run_kicks() through global P_kicked'
        . ' (set in module.c, copied to h in P_kick())'
        . ' of check.c (layer 6)');

passes 'a local copied from a field that holds no function is no call', {
    'peer.c'   => "void\n${prefix}finish(ngx_event_t *ev)\n{\n"
                  . "    void  *data;\n\n"
                  . "    data = ev->data;\n    ngx_free(data);\n}\n",
    'check.c'  => fn('run', ''),
};

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

fails_with "the cycle's configuration read by an entry point", {
    'check.c' => fn('run_kicks', "    void  *c;\n\n"
                 . "    c = ngx_stream_cycle_get_module_main_conf(ngx_cycle,\n"
                 . "                                 ${prefix}module);\n"),
    'check_io.c' => fn('read', "    ${prefix}disown(ngx_stream_cycle_get"
                 . "_module_main_conf(\n"
                 . "                        ngx_cycle, ${prefix}module));\n"),
}, says("check.c (layer 6) reads the cycle's configuration"
        . ' (ngx_stream_cycle_get_module_main_conf) in P_run_kicks():'
        . ' below layer 7'),
   "check_io.c (layer 6) reads the cycle's configuration";

passes "the cycle's configuration read by the module layer", {
    'module.c' => fn('init_process', "    void  *c;\n\n"
                 . "    c = ngx_stream_cycle_get_module_main_conf(ngx_cycle,\n"
                 . "                                 ${prefix}module);\n"),
};

passes "an entry point reads its srv conf out of what nginx hands it", {
    'balancer.c' => "ngx_int_t\n${prefix}init_peer(ngx_stream_session_t *s,"
                 . "\n    ngx_stream_upstream_srv_conf_t *us)\n{\n"
                 . "    void  *rmcf;\n\n"
                 . "    rmcf = ngx_stream_conf_upstream_srv_conf(us,\n"
                 . "                                 ${prefix}module);\n"
                 . "    rmcf = ngx_stream_get_module_srv_conf(s,"
                 . " ${prefix}module);\n"
                 . "    return NGX_OK;\n}\n",
    'status.c' => "static ngx_int_t\n${prefix}status_page(ngx_http_request_t"
                 . " *r)\n{\n    void  *lcf;\n\n"
                 . "    lcf = ngx_http_get_module_loc_conf(r,"
                 . " ngx_http_redis_master_status_module);\n"
                 . "    return NGX_OK;\n}\n",
};

passes "the status page's http handler reads the stream configuration", {
    'status.c' => "static ngx_int_t\n${prefix}status_handler("
                 . "ngx_http_request_t *r)\n{\n    void  *c;\n\n"
                 . "    c = ngx_stream_cycle_get_module_main_conf(ngx_cycle,\n"
                 . "                                 ${prefix}module);\n"
                 . "    return NGX_OK;\n}\n",
};

fails_with "any other function of the status page that does", {
    'status.c' => fn('status_views', "    void  *c;\n\n"
                 . "    c = ngx_stream_cycle_get_module_main_conf(ngx_cycle,\n"
                 . "                                 ${prefix}module);\n"),
}, says("status.c (layer 6) reads the cycle's configuration"
        . ' (ngx_stream_cycle_get_module_main_conf) in P_status_views()');

fails_with "an entry point reads a srv conf out of what it found itself", {
    'balancer.c' => fn('tracking', "    void  *rmcf;\n\n"
                 . "    rmcf = ngx_stream_conf_upstream_srv_conf(uscfp[0],\n"
                 . "                                 ${prefix}module);\n"
                 . "    rmcf = ngx_stream_get_module_main_conf(s,"
                 . " ${prefix}module);\n"),
}, says("balancer.c (layer 6) reads the cycle's configuration"
        . ' (ngx_stream_conf_upstream_srv_conf) in P_tracking()'),
   "balancer.c (layer 6) reads the cycle's configuration"
   . ' (ngx_stream_get_module_main_conf)';

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

my $out = `perl '$script' 2>&1`;
is $? >> 8, 0, "the module's own sources pass" or diag $out;

done_testing;
