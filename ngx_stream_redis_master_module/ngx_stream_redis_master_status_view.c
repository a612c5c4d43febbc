
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page's view of each upstream, its servers and Sentinels: the
 * view the decision module takes of the zone (take_view()), judged by its
 * functions (judge(), explain()) and the policy's relations (follows,
 * names), so that the page says what the balancer decides, in the
 * explainer's words; and the words and numbers the renderers derive from
 * it.  Every call of the decision module and the policy is in the part
 * "the judging" below; the page judges nothing of its own.
 */


#include "ngx_stream_redis_master_status.h"


static ngx_uint_t ngx_stream_redis_master_status_place(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i);
static ngx_int_t ngx_stream_redis_master_status_addresses(ngx_pool_t *pool,
    ngx_stream_redis_master_status_view_t *view);
static ngx_int_t ngx_stream_redis_master_status_names(ngx_pool_t *pool,
    ngx_stream_redis_master_status_view_t *view);


const char  *ngx_stream_redis_master_status_places[] = {
    "master", "follower", "claimant", "other", "down"
};


/*
 * The judging: the page's every call of the decision module and the
 * policy is in the functions that follow, from
 * ngx_stream_redis_master_status_view() to
 * ngx_stream_redis_master_status_claims().
 */


/*
 * One upstream's view, as the decision module takes it for a reader that
 * decides nothing, and the decision judge() makes of it, with the master
 * announced before as the one to keep, as refresh() does; for each server
 * explain()'s reason code and its place, for each Sentinel the address it
 * names and whether that is the master.
 */

ngx_int_t
ngx_stream_redis_master_status_view(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_status_view_t *view)
{
    ngx_uint_t                       i, j, n, ns;
    ngx_stream_redis_master_view_t  *v;

    v = &view->v;
    n = rmcf->targets.nelts;
    ns = rmcf->sentinels.nelts;

    view->conf = rmcf;
    view->eligible = ngx_pcalloc(pool,
                                 ngx_stream_redis_master_map_size(n + 1)
                                 * sizeof(uintptr_t));
    view->place = ngx_pcalloc(pool, (n + 1) * sizeof(ngx_uint_t));
    view->why = ngx_pcalloc(pool, (n + 1) * sizeof(ngx_uint_t));
    view->named = ngx_pcalloc(pool, (ns + 1) * sizeof(ngx_str_t));
    view->agrees = ngx_pcalloc(pool, (ns + 1) * sizeof(ngx_uint_t));

    if (view->eligible == NULL || view->place == NULL || view->why == NULL
        || view->named == NULL || view->agrees == NULL)
    {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_take_view(pool, rmcf, v, &view->route)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_stream_redis_master_judge(v, view->route.master, &view->decision,
                                  view->eligible);

    view->master = view->decision.master;

    for (i = 0; i < n; i++) {
        view->why[i] = ngx_stream_redis_master_explain(v, &view->decision,
                                                      i);
        view->place[i] = ngx_stream_redis_master_status_place(view, i);
    }

    for (j = 0; j < ns; j++) {
        view->named[j].data = ngx_pnalloc(pool,
                                          NGX_STREAM_REDIS_MASTER_ADDR_LEN);
        if (view->named[j].data == NULL) {
            return NGX_ERROR;
        }

        view->named[j].len = ngx_stream_redis_master_named(&v->sentinels[j],
                                                       view->named[j].data);

        view->agrees[j] = view->master != NGX_STREAM_REDIS_MASTER_NONE
                          && ngx_stream_redis_master_names(v, view->master,
                                                           &v->sentinels[j]);
    }

    if (ngx_stream_redis_master_status_addresses(pool, view) != NGX_OK
        || ngx_stream_redis_master_status_names(pool, view) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Where server "i" stands: the master; down; a claimant, which says
 * master and may take writes (the policy's claimant()) but was not
 * chosen (explain() says why); a follower of the master (the policy's
 * follows()); or other.
 */

static ngx_uint_t
ngx_stream_redis_master_status_place(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    ngx_stream_redis_master_node_t  *node;

    node = &view->v.nodes[i];

    if (i == view->master) {
        return NGX_STREAM_REDIS_MASTER_PLACE_MASTER;
    }

    if (!node->up && !node->stalled) {
        return NGX_STREAM_REDIS_MASTER_PLACE_DOWN;
    }

    if (ngx_stream_redis_master_claimant(&view->v, i)) {
        return NGX_STREAM_REDIS_MASTER_PLACE_CLAIMANT;
    }

    if (view->master != NGX_STREAM_REDIS_MASTER_NONE
        && ngx_stream_redis_master_follows(&view->v, i, view->master))
    {
        return NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER;
    }

    return NGX_STREAM_REDIS_MASTER_PLACE_OTHER;
}


/*
 * The rule that chose the master, or the want of one, in the words of the
 * balancer's log (ngx_stream_redis_master_why_master()); why a server that
 * says master is not chosen is each server's own
 * (ngx_stream_redis_master_status_why_not()).
 */

const char *
ngx_stream_redis_master_status_why(ngx_stream_redis_master_status_view_t *view)
{
    return ngx_stream_redis_master_rule_text(
               ngx_stream_redis_master_why_master(&view->v, &view->decision));
}


/*
 * Why server "i" is not used the way its role asks, in the explainer's
 * words (ngx_stream_redis_master_why_text()): for a write pool, or a
 * server that says master, why it does not take writes; for a replica of
 * a read pool, why it does not serve reads.  NULL when nothing is against
 * it.
 */

const char *
ngx_stream_redis_master_status_why_not(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    if (view->why[i] == NGX_STREAM_REDIS_MASTER_WHY_OK) {
        return NULL;
    }

    return ngx_stream_redis_master_why_text(view->why[i]);
}


/*
 * How stale a follower of the chosen master is, in milliseconds, as
 * max_lag judges it (ngx_stream_redis_master_staleness()); NGX_DECLINED
 * when that is not known or does not apply: a write pool keeps no history
 * of the master's offsets.
 */

ngx_int_t
ngx_stream_redis_master_status_lag_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_msec_int_t *lag)
{
    if (view->conf->balancer != NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA
        || view->master == NGX_STREAM_REDIS_MASTER_NONE
        || view->place[i] != NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER)
    {
        return NGX_DECLINED;
    }

    *lag = ngx_stream_redis_master_staleness(&view->v, i, view->master);

    return (*lag < 0) ? NGX_DECLINED : NGX_OK;
}


/*
 * Whether server "i" claims master, as the policy counts claimants
 * (ngx_stream_redis_master_claimant())
 */

ngx_uint_t
ngx_stream_redis_master_status_claims(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    return ngx_stream_redis_master_claimant(&view->v, i);
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


/* the rule that chose the master, or what stands for its want, by name */

const char *
ngx_stream_redis_master_status_rule(
    ngx_stream_redis_master_status_view_t *view)
{
    switch (view->decision.rule) {

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

    snap = view->v.nodes;

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


/*
 * Each server's address now: as configured, or for a server a name
 * brought its seat's address in the view, which the decision was judged
 * with; none (len 0) for a seat without an address.
 */

static ngx_int_t
ngx_stream_redis_master_status_addresses(ngx_pool_t *pool,
    ngx_stream_redis_master_status_view_t *view)
{
    ngx_uint_t                          i, n;
    ngx_stream_redis_master_seat_t     *seat;
    ngx_stream_redis_master_target_t  **tp;

    n = view->conf->targets.nelts;
    tp = view->conf->targets.elts;

    view->address = ngx_pcalloc(pool, (n + 1) * sizeof(ngx_str_t));
    if (view->address == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {

        if (tp[i]->of == NULL) {
            view->address[i] = tp[i]->name;
            continue;
        }

        seat = &view->v.seats[i];

        if (seat->socklen == 0) {
            continue;
        }

        view->address[i].data = ngx_pnalloc(pool, NGX_SOCKADDR_STRLEN);
        if (view->address[i].data == NULL) {
            return NGX_ERROR;
        }

        view->address[i].len = ngx_sock_ntop(&seat->addr.sockaddr,
                                             seat->socklen,
                                             view->address[i].data,
                                             NGX_SOCKADDR_STRLEN, 1);
    }

    return NGX_OK;
}


/*
 * The upstream's redis_server names: each name's node and record, as the
 * zone keeps them (read_name(), shm.c: its resolutions, its last error),
 * and the addresses it brings now, its seats' in the view, in seat order.
 */

static ngx_int_t
ngx_stream_redis_master_status_names(ngx_pool_t *pool,
    ngx_stream_redis_master_status_view_t *view)
{
    size_t                                  size;
    ngx_uint_t                              i, k, j;
    ngx_stream_redis_master_name_conf_t    *nc;
    ngx_stream_redis_master_status_name_t  *name;

    if (view->conf->names == NULL) {
        return NGX_OK;
    }

    nc = view->conf->names->elts;
    view->nnames = view->conf->names->nelts;

    size = sizeof(ngx_stream_redis_master_status_name_t);

    view->names = ngx_pcalloc(pool, view->nnames * size);
    if (view->names == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < view->nnames; i++) {
        name = &view->names[i];
        name->conf = &nc[i];

        name->record = ngx_pcalloc(pool,
                                   offsetof(ngx_stream_redis_master_name_t,
                                            seats)
                                   + nc[i].max
                                     * sizeof(ngx_stream_redis_master_seat_t));
        name->addresses = ngx_pcalloc(pool, (nc[i].max + 1)
                                            * sizeof(ngx_str_t));

        if (name->record == NULL || name->addresses == NULL) {
            return NGX_ERROR;
        }

        ngx_stream_redis_master_read_name(nc[i].target, &name->node,
                                          name->record);

        for (k = 0; k < nc[i].max; k++) {
            j = nc[i].first + k;

            if (view->address[j].len) {
                name->addresses[name->naddresses++] = view->address[j];
            }
        }
    }

    return NGX_OK;
}


/* whether the page lists server "i": not a seat without an address */

ngx_uint_t
ngx_stream_redis_master_status_listed(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    return view->address[i].len != 0;
}


/*
 * How long ago a name last had an answer (addresses, or none: NXDOMAIN),
 * in milliseconds; NGX_DECLINED if it never had one (every resolution
 * failed, or none was made yet).
 */

ngx_int_t
ngx_stream_redis_master_status_resolved(
    ngx_stream_redis_master_status_name_t *name, ngx_msec_t *ago)
{
    ngx_msec_int_t  ms;

    if (name->record->resolutions == name->record->failures) {
        return NGX_DECLINED;
    }

    ms = (ngx_msec_int_t) (ngx_current_msec - name->record->resolved);

    *ago = ms > 0 ? (ngx_msec_t) ms : 0;

    return NGX_OK;
}
