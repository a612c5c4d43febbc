
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The checkers: one per probe target in each worker, from the worker's
 * start to its exit, and when each one probes: its timer, set where this
 * worker owns the target, by the watch and by kicks.  The probe itself is
 * resolve.c's and check_io.c's.
 */


#include "ngx_stream_redis_master_checker.h"


/*
 * A probe's requests besides the master's name, which the Sentinel
 * commands give twice: with the RESP framing of the name at its longest,
 * SENTINEL get-master-addr-by-name takes 73 bytes and SENTINEL master 55;
 * a server's PING and two INFOs take 78.
 */

#define NGX_STREAM_REDIS_MASTER_PROBE_SIZE   128


/*
 * SENTINEL replicas NAME (discover=), besides the name: with the RESP
 * framing of the name at its longest, 41 bytes.
 */

#define NGX_STREAM_REDIS_MASTER_REPLICAS_SIZE  48


/*
 * The first probe of a target comes within this much of the worker's
 * start (ms), or within an interval if that is shorter.
 */

#define NGX_STREAM_REDIS_MASTER_FIRST_PROBE  1000


/*
 * How many check periods (an interval and a timeout) an owner may leave
 * its mark unrefreshed before another worker takes its target over: one
 * late probe is no reason to.
 */

#define NGX_STREAM_REDIS_MASTER_STALE_PERIODS  2


static ngx_int_t ngx_stream_redis_master_build_request(ngx_cycle_t *cycle,
    ngx_stream_redis_master_checker_t *ck);
static void ngx_stream_redis_master_timer_handler(ngx_event_t *ev);
static void ngx_stream_redis_master_kick_handler(ngx_event_t *ev);
static void ngx_stream_redis_master_probe(
    ngx_stream_redis_master_checker_t *ck);


ngx_int_t
ngx_stream_redis_master_init_checkers(ngx_cycle_t *cycle,
    ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_msec_t                          delay, interval;
    ngx_uint_t                          i;
    ngx_stream_redis_master_checker_t  *ck;
    ngx_stream_redis_master_target_t  **tp;

    /* kick() (state) posts it: a kick asked for in this worker, at once */

    rmmcf->kicked.handler = ngx_stream_redis_master_kick_handler;
    rmmcf->kicked.data = rmmcf;
    rmmcf->kicked.log = cycle->log;

    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {

        ck = ngx_pcalloc(cycle->pool,
                         sizeof(ngx_stream_redis_master_checker_t));
        if (ck == NULL) {
            return NGX_ERROR;
        }

        ck->target = tp[i];
        ck->rmmcf = rmmcf;
        tp[i]->checker = ck;

        if (ngx_stream_redis_master_build_request(cycle, ck) != NGX_OK) {
            return NGX_ERROR;
        }

        /* a Sentinel asked for its replicas: its report, as it is read */

        if (tp[i]->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
            && tp[i]->discover)
        {
            ck->report = ngx_palloc(cycle->pool,
                                    sizeof(ngx_stream_redis_master_report_t));
            if (ck->report == NULL) {
                return NGX_ERROR;
            }
        }

        interval = tp[i]->check->interval;

        /* the owner refreshes its mark at least this often */
        ck->stale = NGX_STREAM_REDIS_MASTER_STALE_PERIODS
                    * (interval + tp[i]->check->timeout);

        ck->timer.handler = ngx_stream_redis_master_timer_handler;
        ck->timer.data = ck;
        ck->timer.log = cycle->log;
        ck->timer.cancelable = 1;

        /*
         * The first worker probes every free target; the others watch
         * (ngx_stream_redis_master_watch()).  A random first delay keeps
         * servers out of step; it stays short even for long intervals, as
         * nothing is routed before the first check.
         */

        if (ngx_stream_redis_master_claimable(tp[i], ck->stale)) {
            delay = ngx_random()
                    % ngx_min(interval, NGX_STREAM_REDIS_MASTER_FIRST_PROBE);

            ngx_add_timer(&ck->timer,
                          ngx_stream_redis_master_slot(delay, interval));
        }
    }

    return NGX_OK;
}


/*
 * Schedules a probe of the targets this worker may take over (see
 * ngx_stream_redis_master_claimable()); returns how many targets this
 * worker probes.  Run once a watch period, not once a sweep: a worker that
 * probes nothing and proxies nothing wakes up only for this.
 */

ngx_uint_t
ngx_stream_redis_master_watch(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                          i, probing;
    ngx_stream_redis_master_checker_t  *ck;
    ngx_stream_redis_master_target_t  **tp;

    tp = rmmcf->targets.elts;
    probing = 0;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        ck = tp[i]->checker;

        if (ck == NULL) {
            continue;
        }

        if (!ck->timer.timer_set
            && !ngx_exiting && !ngx_terminate
            && ngx_stream_redis_master_claimable(tp[i], ck->stale))
        {
            ngx_add_timer(&ck->timer, 1);
        }

        if (ck->timer.timer_set) {
            probing++;
        }
    }

    return probing;
}


/*
 * A server gets [AUTH,] PING, INFO replication, INFO persistence; a
 * Sentinel [AUTH,] SENTINEL get-master-addr-by-name and SENTINEL master,
 * and SENTINEL replicas when an upstream of it discovers its servers.
 * Built once: the password stays in this buffer and is never logged.
 */

static ngx_int_t
ngx_stream_redis_master_build_request(ngx_cycle_t *cycle,
    ngx_stream_redis_master_checker_t *ck)
{
    u_char                            *p;
    ngx_str_t                          args[3];
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;

    /* the Sentinel commands name the master twice */

    p = ngx_stream_redis_master_request(cycle->pool, t->check,
                                   NGX_STREAM_REDIS_MASTER_PROBE_SIZE
                                   + 2 * t->master_name.len
                                   + (t->discover
                                      ? NGX_STREAM_REDIS_MASTER_REPLICAS_SIZE
                                        + t->master_name.len
                                      : 0),
                                   &ck->request);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ck->auth = (t->check->password.len != 0);

    if (t->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL) {
        ngx_str_set(&args[0], "SENTINEL");
        ngx_str_set(&args[1], "get-master-addr-by-name");
        args[2] = t->master_name;
        p = ngx_stream_redis_master_command(p, 3, args);

        /* its flags tell whether the Sentinel sees that master down */
        ngx_str_set(&args[1], "master");
        p = ngx_stream_redis_master_command(p, 3, args);

        /* discover=: the replicas it knows */

        if (t->discover) {
            ngx_str_set(&args[1], "replicas");
            p = ngx_stream_redis_master_command(p, 3, args);
        }

        ck->request.len = p - ck->request.data;
        ck->expect = ck->auth + 2 + (t->discover != 0);

        return NGX_OK;
    }

    ngx_str_set(&args[0], "PING");
    p = ngx_stream_redis_master_command(p, 1, args);

    ngx_str_set(&args[0], "INFO");
    ngx_str_set(&args[1], "replication");
    p = ngx_stream_redis_master_command(p, 2, args);

    /* Redis before 7 takes one section per INFO: "loading" is here */
    ngx_str_set(&args[1], "persistence");
    p = ngx_stream_redis_master_command(p, 2, args);

    ck->request.len = p - ck->request.data;
    ck->expect = ck->auth + 3;

    return NGX_OK;
}


/* on exit: hiredis's readers are not in a pool, so they are freed here */

void
ngx_stream_redis_master_close_checkers(
    ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                          i;
    ngx_stream_redis_master_target_t  **tp;

    if (rmmcf == NULL) {
        return;
    }

    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        if (tp[i]->checker) {
            ngx_stream_redis_master_close(tp[i]->checker);
        }

        ngx_stream_redis_master_unsubscribe(tp[i]);

#if (NGX_STREAM_SSL)
        ngx_stream_redis_master_link_forget(tp[i]);
#endif
    }
}


/*
 * An event from a Sentinel raised the kick counter of targets: their
 * owners check them now instead of at the end of the interval.
 */

void
ngx_stream_redis_master_run_kicks(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                          i, kicks;
    ngx_msec_int_t                      elapsed;
    ngx_stream_redis_master_checker_t  *ck;
    ngx_stream_redis_master_target_t  **tp;

    static ngx_uint_t  seen;

    /* nothing to look for while no kick was asked for since the last look */

    kicks = ngx_stream_redis_master_kicks(rmmcf);

    if (kicks == seen) {
        return;
    }

    seen = kicks;

    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        ck = tp[i]->checker;

        /* lock-free reads: a stale value only delays the kick by a sweep */

        if (ck == NULL || ck->kick_seen == tp[i]->node->kick
            || tp[i]->node->owner != ngx_pid)
        {
            continue;
        }

        ck->kick_seen = tp[i]->node->kick;

        /*
         * What the event announces may take a moment to happen (a
         * promotion is published as it is sent): keep checking fast for
         * two intervals.
         */

        ck->fast_until = ngx_current_msec + 2 * tp[i]->check->interval;

        /* many failed connects must not become back-to-back probes */

        if (!ck->busy && !ngx_exiting && !ngx_terminate) {
            elapsed = (ngx_msec_int_t) (ngx_current_msec
                                        - tp[i]->node->checked);

            /*
             * ngx_add_timer() keeps a timer that is already set within
             * NGX_TIMER_LAZY_DELAY (300ms) of the new time: "now" could
             * come that much late.
             */

            if (ck->timer.timer_set) {
                ngx_del_timer(&ck->timer);
            }

            ngx_add_timer(&ck->timer,
                          elapsed >= NGX_STREAM_REDIS_MASTER_MIN_FAST
                          ? 1 : NGX_STREAM_REDIS_MASTER_MIN_FAST - elapsed);
        }
    }
}


/* the event kick() posts (rmmcf->kicked): the kicks run at once */

static void
ngx_stream_redis_master_kick_handler(ngx_event_t *ev)
{
    ngx_stream_redis_master_run_kicks(ev->data);
}


static void
ngx_stream_redis_master_timer_handler(ngx_event_t *ev)
{
    ngx_stream_redis_master_checker_t  *ck;

    ck = ev->data;

    if (ngx_exiting || ngx_terminate) {
        ngx_stream_redis_master_close(ck);
        ngx_stream_redis_master_unsubscribe(ck->target);
        ngx_stream_redis_master_disown(ck->rmmcf);
        return;
    }

    if (ck->busy) {

        /* connected, and no answer: a stall, not yet a lost server */

        ck->stalled = !ck->connecting;

        ngx_stream_redis_master_fail(ck, 0, "timed out after %Mms%s",
                                     ck->target->check->timeout,
                                     ck->connecting ? " connecting" : "");
        return;
    }

    if (!ngx_stream_redis_master_own(ck->target, ck->stale)) {

        /*
         * Another worker probes it: do not hold a second connection, and
         * leave it to the watch.
         */

        ngx_stream_redis_master_close(ck);
        ngx_stream_redis_master_unsubscribe(ck->target);
        return;
    }

    ngx_stream_redis_master_probe(ck);
}


static void
ngx_stream_redis_master_probe(ngx_stream_redis_master_checker_t *ck)
{
    ngx_log_debug1(NGX_LOG_DEBUG_STREAM, ngx_cycle->log, 0,
                   "redis check: probing %V", &ck->target->name);

    /*
     * A redis_server name is resolved, not probed (resolve.c); the servers
     * of discover= are found in the Sentinels' reports.
     */

    if (ck->target->kind == NGX_STREAM_REDIS_MASTER_KIND_NAME) {
        if (ck->target->discover) {
            ngx_stream_redis_master_discover(ck);

        } else {
            ngx_stream_redis_master_resolve_name(ck);
        }

        return;
    }

    /* a seat without an address has nothing to probe until it gets one */

    if (ck->target->of && ngx_stream_redis_master_take_seat(ck) != NGX_OK) {
        ngx_add_timer(&ck->timer,
                      ngx_stream_redis_master_slot(
                          ck->target->check->interval,
                          ck->target->check->interval));
        return;
    }

    ck->busy = 1;
    ck->stalled = 0;
    ck->kick_start = ck->target->node->kick;
    ck->started = ngx_current_msec;
    ck->got = 0;
    ck->sent = 0;
    ck->received = 0;
    ngx_memzero(&ck->info, sizeof(ngx_stream_redis_master_info_t));
    ck->info.master_last_io = -1;

    ngx_add_timer(&ck->timer, ck->target->check->timeout);

    if (ck->target->resolver) {
        ngx_stream_redis_master_resolve(ck);
        return;
    }

    ngx_stream_redis_master_send_probe(ck);
}
