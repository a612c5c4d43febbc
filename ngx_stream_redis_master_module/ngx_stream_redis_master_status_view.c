
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page's view of each upstream, its servers and Sentinels: a
 * copy of the zone read through ngx_stream_redis_master_read_status(),
 * judged with the policy's own functions so that the page says what the
 * balancer sees; and the words and numbers the renderers derive from it.
 * Every call of the policy is in the part "the judging" below.
 */


#include "ngx_stream_redis_master_status.h"
#include "ngx_stream_redis_master_state.h"
#include "ngx_stream_redis_master_policy.h"


const char  *ngx_stream_redis_master_status_places[] = {
    "master", "follower", "claimant", "other", "down"
};


/*
 * The judging: the page's every call of the policy is in the four
 * functions that follow: ngx_stream_redis_master_status_view(),
 * ngx_stream_redis_master_status_why(),
 * ngx_stream_redis_master_status_lag_ms() and
 * ngx_stream_redis_master_status_claims().
 */


/*
 * A copy of one upstream's state, judged by the policy as the balancer
 * judges it: the view is a shallow copy of the upstream's configuration
 * whose snapshots are the page's own, so the worker's are left alone.
 */

ngx_int_t
ngx_stream_redis_master_status_view(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_status_view_t *view)
{
    size_t                               node;
    ngx_uint_t                           i, n;
    ngx_stream_redis_master_node_t      *snap, *m;
    ngx_stream_redis_master_target_t   **tp;
    ngx_stream_redis_master_srv_conf_t  *conf;

    conf = &view->conf;
    *conf = *rmcf;

    n = rmcf->targets.nelts;
    node = sizeof(ngx_stream_redis_master_node_t);

    conf->snapshot = ngx_pcalloc(pool, (n + 1) * node);
    conf->sentinel_snapshot = ngx_pcalloc(pool,
                                          (rmcf->sentinels.nelts + 1) * node);
    view->eligible = ngx_pcalloc(pool,
                                 ngx_stream_redis_master_map_size(n + 1)
                                 * sizeof(uintptr_t));
    view->place = ngx_pcalloc(pool, (n + 1) * sizeof(ngx_uint_t));

    if (conf->snapshot == NULL || conf->sentinel_snapshot == NULL
        || view->eligible == NULL || view->place == NULL)
    {
        return NGX_ERROR;
    }

    if (conf->down == NULL) {

        /* the balancer has not started here: no server marked down */

        conf->down = ngx_pcalloc(pool, ngx_stream_redis_master_map_size(n + 1)
                                       * sizeof(uintptr_t));
        if (conf->down == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_stream_redis_master_read_status(rmcf, conf->snapshot,
                                        conf->sentinel_snapshot,
                                        &view->route);

    /* the master is the one announced, if it is still of this upstream */

    tp = rmcf->targets.elts;
    view->master = NGX_STREAM_REDIS_MASTER_NONE;

    for (i = 0; i < n; i++) {
        if (view->route.master && tp[i]->node == view->route.master) {
            view->master = i;
            break;
        }
    }

    /*
     * Replica lag is measured against the route's history of the master's
     * offsets, as the worker that decides keeps it: the page takes the
     * copy it read, and "now" for a replica whose probes are overdue.
     */

    conf->history_master = NGX_STREAM_REDIS_MASTER_NONE;
    conf->nhistory = 0;
    conf->decided = ngx_current_msec;

    for (i = 0; i < n; i++) {
        if (view->route.history_node
            && tp[i]->node == view->route.history_node)
        {
            conf->history_master = i;
            conf->nhistory = ngx_min(view->route.nhistory,
                                     NGX_STREAM_REDIS_MASTER_HISTORY);
            ngx_memcpy(conf->history, view->route.history,
                       conf->nhistory
                       * sizeof(ngx_stream_redis_master_seen_t));
            break;
        }
    }

    ngx_stream_redis_master_eligible(conf, view->master, view->eligible);

    snap = conf->snapshot;
    m = (view->master == NGX_STREAM_REDIS_MASTER_NONE)
        ? NULL : &snap[view->master];

    for (i = 0; i < n; i++) {

        if (i == view->master) {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_MASTER;

        } else if (!snap[i].up && !snap[i].stalled) {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_DOWN;

        } else if (ngx_stream_redis_master_is_master(&snap[i])
                   && ngx_stream_redis_master_claims(conf, i))
        {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_CLAIMANT;

        } else if (m
                   && snap[i].info.role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
                   && snap[i].info.replid[0] != '\0'
                   && ngx_strcmp(snap[i].info.replid, m->info.replid) == 0)
        {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER;

        } else {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_OTHER;
        }
    }

    return NGX_OK;
}


/* the rule, or the want of a master, in words */

const char *
ngx_stream_redis_master_status_why(ngx_stream_redis_master_status_view_t *view)
{
    ngx_uint_t  quorum;

    if (view->master != NGX_STREAM_REDIS_MASTER_NONE) {

        if (view->conf.sentinel) {
            quorum = ngx_stream_redis_master_quorum(&view->conf,
                                                    view->master);

            if (quorum == NGX_STREAM_REDIS_MASTER_QUORUM_PROMOTED) {
                return "promoted from a master that a majority of the "
                       "Sentinels sees down";
            }

            if (quorum == NGX_STREAM_REDIS_MASTER_QUORUM_NAMED
                && view->route.rule == NGX_STREAM_REDIS_MASTER_RULE_SOLE)
            {
                return "the only server that says master and that a "
                       "majority of the Sentinels names";
            }
        }

        switch (view->route.rule) {

        case NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS:
            return "of the servers that say master, the one most replicas "
                   "follow";

        case NGX_STREAM_REDIS_MASTER_RULE_ORDER:
            return "first in configuration order: lineage was a tie and "
                   "split_brain=lineage";

        case NGX_STREAM_REDIS_MASTER_RULE_KEPT:
            return "kept while other servers are checked";

        default:
            return "the only server that says master (sole claimant)";
        }
    }

    if (view->route.rule == NGX_STREAM_REDIS_MASTER_RULE_TIE) {
        return "split brain: several servers claim master, as many "
               "replicas follow each, and split_brain=refuse: writes are "
               "refused";
    }

    if (view->route.rule == NGX_STREAM_REDIS_MASTER_RULE_NONE) {
        return view->conf.sentinel
               ? "no server says master with a majority of the Sentinels "
                 "agreeing"
               : "no server that is up and not superseded says master";
    }

    return "not every server has been checked yet";
}


/*
 * How stale a follower of the chosen master is, in milliseconds, as
 * max_lag judges it (ngx_stream_redis_master_lag()); NGX_DECLINED when
 * that is not known or does not apply: a write pool keeps no history of
 * the master's offsets.
 */

ngx_int_t
ngx_stream_redis_master_status_lag_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_msec_int_t *lag)
{
    if (view->conf.balancer != NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA
        || view->master == NGX_STREAM_REDIS_MASTER_NONE
        || !view->conf.snapshot[i].up
        || view->place[i] != NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER)
    {
        return NGX_DECLINED;
    }

    *lag = ngx_stream_redis_master_lag(&view->conf, i, view->master);

    return (*lag < 0) ? NGX_DECLINED : NGX_OK;
}


/* whether server "i" claims master, as the policy counts claimants */

ngx_uint_t
ngx_stream_redis_master_status_claims(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    return ngx_stream_redis_master_is_master(&view->conf.snapshot[i])
           && ngx_stream_redis_master_claims(&view->conf, i);
}


/* the end of the judging: what follows reads the view and only the view */


const char *
ngx_stream_redis_master_status_state(ngx_stream_redis_master_node_t *node)
{
    if (node->probes == 0) {
        return "unchecked";
    }

    if (node->up) {
        return "up";
    }

    return node->stalled ? "stalled" : "down";
}


/* the rule that chose the master, or what stands for its want */

const char *
ngx_stream_redis_master_status_rule(
    ngx_stream_redis_master_status_view_t *view)
{
    if (view->route.announced == 0 && view->route.master == NULL) {
        return "unprobed";
    }

    switch (view->route.rule) {

    case NGX_STREAM_REDIS_MASTER_RULE_KEPT:
        return "kept";

    case NGX_STREAM_REDIS_MASTER_RULE_NONE:
        return "none";

    case NGX_STREAM_REDIS_MASTER_RULE_SOLE:
        return "sole";

    case NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS:
        return "followers";

    case NGX_STREAM_REDIS_MASTER_RULE_ORDER:
        return "order";

    case NGX_STREAM_REDIS_MASTER_RULE_TIE:
        return "tie";

    default:
        return "unprobed";
    }
}


/* how far a replica is behind the chosen master, in bytes */

ngx_int_t
ngx_stream_redis_master_status_lag_bytes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i, off_t *lag)
{
    ngx_stream_redis_master_node_t  *snap;

    snap = view->conf.snapshot;

    if (view->master == NGX_STREAM_REDIS_MASTER_NONE
        || snap[i].info.role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
        || !snap[i].up
        || view->place[i] != NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER)
    {
        return NGX_DECLINED;
    }

    *lag = snap[view->master].info.master_repl_offset
           - snap[i].info.slave_repl_offset;

    if (*lag < 0) {
        *lag = 0;
    }

    return NGX_OK;
}


/* the address a Sentinel names as master, as "host:port", or 0 */

size_t
ngx_stream_redis_master_status_named(ngx_stream_redis_master_node_t *s,
    u_char *buf)
{
    if (!s->up || s->info.master_port == 0) {
        return 0;
    }

    return ngx_sprintf(buf, ngx_strchr(s->info.master_host, ':') ? "[%s]:%d"
                                                                 : "%s:%d",
                       s->info.master_host, (int) s->info.master_port)
           - buf;
}


/* whether Sentinel "j" names the chosen master */

ngx_uint_t
ngx_stream_redis_master_status_agrees(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t j)
{
    size_t                              len;
    u_char                              addr[NGX_STREAM_REDIS_MASTER_ADDR_LEN];
    ngx_stream_redis_master_target_t  **tp, *t;

    if (view->master == NGX_STREAM_REDIS_MASTER_NONE) {
        return 0;
    }

    len = ngx_stream_redis_master_status_named(
                                      &view->conf.sentinel_snapshot[j], addr);
    if (len == 0) {
        return 0;
    }

    tp = view->conf.targets.elts;
    t = tp[view->master];

    return (len == t->name.len
            && ngx_strncasecmp(addr, t->name.data, len) == 0)
           || (len == t->server.len
               && ngx_strncasecmp(addr, t->server.data, len) == 0);
}


/* the wall-clock time of a node's last check, from the monotonic clock */

time_t
ngx_stream_redis_master_status_checked(ngx_stream_redis_master_node_t *node)
{
    ngx_msec_int_t  ago;

    if (node->probes == 0) {
        return 0;
    }

    ago = (ngx_msec_int_t) (ngx_current_msec - node->checked);

    return ngx_time() - (ago > 0 ? ago / 1000 : 0);
}

