
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The worker's runtime: the sweep timer that runs kicks, reroutes and
 * watches for targets to take over, and how soon it next runs.
 */


#include "ngx_stream_redis_master_conf.h"


static void ngx_stream_redis_master_sweep_handler(ngx_event_t *ev);
static ngx_msec_t ngx_stream_redis_master_next_sweep(
    ngx_stream_redis_master_main_conf_t *rmmcf);
static ngx_uint_t ngx_stream_redis_master_taking_over(
    ngx_stream_redis_master_main_conf_t *rmmcf);
static void ngx_stream_redis_master_hurry(ngx_event_t *ev);


/*
 * A worker's sweep: the watch period, the first sweep's timer.  Called as
 * the worker starts, once its checkers are set up.
 */

ngx_int_t
ngx_stream_redis_master_init_sweep(ngx_cycle_t *cycle)
{
    ngx_uint_t                            i;
    ngx_stream_redis_master_target_t    **tp;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                               ngx_stream_redis_master_module);

    /* the watch looks for targets to take over once the shortest interval */

    rmmcf->watch = NGX_STREAM_REDIS_MASTER_WATCH;
    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        rmmcf->watch = ngx_min(rmmcf->watch, tp[i]->check->interval);
    }

    rmmcf->started = ngx_current_msec;
    rmmcf->watched = ngx_current_msec;
    rmmcf->probing = ngx_stream_redis_master_watch(rmmcf);

    rmmcf->sweep.handler = ngx_stream_redis_master_sweep_handler;
    rmmcf->sweep.data = rmmcf;
    rmmcf->sweep.log = cycle->log;
    rmmcf->sweep.cancelable = 1;

    ngx_add_timer(&rmmcf->sweep, ngx_stream_redis_master_next_sweep(rmmcf));

    /* posted as a session or a held connection begins (peer.c) */

    rmmcf->tracked.handler = ngx_stream_redis_master_hurry;
    rmmcf->tracked.data = rmmcf;
    rmmcf->tracked.log = cycle->log;

    return NGX_OK;
}


/*
 * Each sweep runs the checks other workers asked for, then acts on what
 * the checks of every worker recorded; once a watch period it looks for
 * targets to take over.
 */

static void
ngx_stream_redis_master_sweep_handler(ngx_event_t *ev)
{
    ngx_uint_t                            watched;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ev->data;
    watched = 0;

    ngx_stream_redis_master_run_kicks(rmmcf);
    ngx_stream_redis_master_reroute(rmmcf, ev->log);

    if ((ngx_msec_int_t) (ngx_current_msec - rmmcf->watched)
        >= (ngx_msec_int_t) rmmcf->watch
        || ngx_stream_redis_master_taking_over(rmmcf))
    {
        rmmcf->watched = ngx_current_msec;
        rmmcf->probing = ngx_stream_redis_master_watch(rmmcf);
        watched = 1;
    }

    /*
     * The first worker gives back the entries that no running worker
     * reads: at each sweep for its first seconds, while the workers of the
     * configuration before exit, then at each watch.
     */

    if (ngx_worker == 0
        && (watched
            || (ngx_msec_int_t) (ngx_current_msec - rmmcf->started)
               < NGX_STREAM_REDIS_MASTER_TAKEOVER))
    {
        ngx_stream_redis_master_reclaim(rmmcf);
    }

    if (!ngx_terminate) {
        ngx_add_timer(ev, ngx_stream_redis_master_next_sweep(rmmcf));
    }
}


/*
 * A worker that probes servers, or proxies sessions that a change of
 * master must close, sweeps every NGX_STREAM_REDIS_MASTER_SWEEP; any other
 * one only watches.  Sweeps fall on the probes' slots: one wakeup does
 * both.
 */

static ngx_msec_t
ngx_stream_redis_master_next_sweep(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    if (rmmcf->probing
        || ngx_stream_redis_master_taking_over(rmmcf)
        || ngx_stream_redis_master_tracking(rmmcf))
    {
        return ngx_stream_redis_master_slot(NGX_STREAM_REDIS_MASTER_SWEEP,
                                            NGX_STREAM_REDIS_MASTER_WATCH);
    }

    return ngx_stream_redis_master_slot(rmmcf->watch, rmmcf->watch);
}


/*
 * Whether the first worker, in its first seconds, has yet to take targets
 * over from the workers of the configuration before a reload: they hand
 * them over as they exit, and it watches every sweep meanwhile, so that
 * probing pauses for a sweep rather than a watch period.
 */

static ngx_uint_t
ngx_stream_redis_master_taking_over(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    return ngx_worker == 0
           && rmmcf->probing < rmmcf->targets.nelts
           && (ngx_msec_int_t) (ngx_current_msec - rmmcf->started)
              < NGX_STREAM_REDIS_MASTER_TAKEOVER;
}


/*
 * A session or a held connection began in this worker (rmmcf->tracked,
 * posted by peer.c): sweep soon, as a change of master must reach it
 * within one sweep.
 */

static void
ngx_stream_redis_master_hurry(ngx_event_t *ev)
{
    ngx_msec_t                            delay;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ev->data;

    if (!rmmcf->sweep.timer_set) {
        return;
    }

    delay = ngx_stream_redis_master_slot(NGX_STREAM_REDIS_MASTER_SWEEP,
                                         NGX_STREAM_REDIS_MASTER_WATCH);

    if ((ngx_msec_int_t) (rmmcf->sweep.timer.key - ngx_current_msec)
        > (ngx_msec_int_t) delay)
    {
        ngx_del_timer(&rmmcf->sweep);
        ngx_add_timer(&rmmcf->sweep, delay);
    }
}
