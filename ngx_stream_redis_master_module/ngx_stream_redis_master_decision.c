
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The decision: each worker's decision of an upstream (its master and the
 * servers it may use), and the only code that writes it.  A probe's news
 * raises the route's versions if policy says it matters; the next
 * connection or sweep that finds them moved adopts the decision another
 * worker published, or takes a view of the zone (a snapshot of the nodes
 * and the master's offset history), decides, announces, and publishes it
 * for the others.  Between two changes a connection reads two words.
 */


#include "ngx_stream_redis_master_decision.h"


/*
 * A worker's decision for one upstream (decision.c alone writes it): the
 * view it was made or adopted with, the master, the servers the upstream
 * may use, the route's versions it was made at, the generation of the
 * published decision it matches, and when; "refreshes" counts the
 * refreshes that may have changed the map, so that a reader sees in one
 * word whether it is the one it last read.
 */
struct ngx_stream_redis_master_cache_s {
    ngx_stream_redis_master_view_t     view;
    uintptr_t                         *eligible;
    ngx_uint_t                         master;
    ngx_uint_t                         version;
    ngx_uint_t                         generation;
    ngx_uint_t                         refreshes;
    ngx_msec_t                         decided;
    unsigned                           fresh:1;
};


/* the longest server name the decision's log lines say (said()) */
#define NGX_STREAM_REDIS_MASTER_SAID_LEN  512


static ngx_uint_t ngx_stream_redis_master_adopted(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t version,
    ngx_log_t *log);
static void ngx_stream_redis_master_announce_decision(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_decision_t *d, ngx_log_t *log);
static void ngx_stream_redis_master_log_choice(
    ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_decision_t *d, ngx_log_t *log);
static void ngx_stream_redis_master_judged(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d, uintptr_t *map,
    ngx_uint_t remember);
static void ngx_stream_redis_master_remember(
    ngx_stream_redis_master_view_t *v, ngx_uint_t master);
static ngx_uint_t ngx_stream_redis_master_add_offset(
    ngx_stream_redis_master_view_t *v, ngx_uint_t master,
    ngx_stream_redis_master_history_t *h);
static void ngx_stream_redis_master_age(ngx_stream_redis_master_view_t *v);
static uintptr_t *ngx_stream_redis_master_down_map(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_str_t *ngx_stream_redis_master_said(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i, ngx_str_t *text);
static ngx_uint_t ngx_stream_redis_master_stands(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);


/*
 * The worker's decision of an upstream, and its view: room for a snapshot
 * of every server and Sentinel, the servers marked "down", and the map of
 * the servers it may use.
 */

ngx_int_t
ngx_stream_redis_master_init_decision(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    size_t                            node;
    ngx_stream_redis_master_cache_t  *c;

    node = sizeof(ngx_stream_redis_master_node_t);

    c = ngx_pcalloc(pool, sizeof(ngx_stream_redis_master_cache_t));
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->view.conf = rmcf;
    c->view.nodes = ngx_pcalloc(pool, (rmcf->targets.nelts + 1) * node);
    c->view.sentinels = ngx_pcalloc(pool, (rmcf->sentinels.nelts + 1) * node);
    c->view.down = ngx_stream_redis_master_down_map(pool, rmcf);
    c->view.history.master = NGX_STREAM_REDIS_MASTER_NONE;

    if (rmcf->names) {
        c->view.seats = ngx_pcalloc(pool, rmcf->targets.nelts
                                        * sizeof(ngx_stream_redis_master_seat_t));
        if (c->view.seats == NULL) {
            return NGX_ERROR;
        }
    }

    c->eligible = ngx_pcalloc(pool,
                              ngx_stream_redis_master_map_size(
                                  rmcf->targets.nelts) * sizeof(uintptr_t));

    if (c->view.nodes == NULL || c->view.sentinels == NULL
        || c->view.down == NULL || c->eligible == NULL)
    {
        return NGX_ERROR;
    }

    rmcf->cache = c;

    return NGX_OK;
}


/*
 * The nodes a view copied, as the policy counts a node that no worker
 * refreshed lately (ngx_stream_redis_master_forget_stale()), and one of a
 * server a name brought that was not probed at its seat's address
 * (ngx_stream_redis_master_forget_unseated())
 */

static void
ngx_stream_redis_master_age(ngx_stream_redis_master_view_t *v)
{
    ngx_uint_t                          i;
    ngx_stream_redis_master_target_t  **tp;

    tp = v->conf->targets.elts;

    for (i = 0; i < v->conf->targets.nelts; i++) {
        ngx_stream_redis_master_forget_stale(&v->nodes[i], v->now);

        if (v->seats && tp[i]->of) {
            ngx_stream_redis_master_forget_unseated(&v->nodes[i],
                                                    &v->seats[i]);
        }
    }

    for (i = 0; i < v->conf->sentinels.nelts; i++) {
        ngx_stream_redis_master_forget_stale(&v->sentinels[i], v->now);
    }
}


/* servers marked "down" in the upstream never take writes */

static uintptr_t *
ngx_stream_redis_master_down_map(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    uintptr_t                       *map;
    ngx_uint_t                       i;
    ngx_stream_upstream_rr_peer_t   *peer;
    ngx_stream_upstream_rr_peers_t  *peers;

    map = ngx_pcalloc(pool,
                      ngx_stream_redis_master_map_size(rmcf->targets.nelts)
                      * sizeof(uintptr_t));
    if (map == NULL) {
        return NULL;
    }

    i = 0;

    for (peers = rmcf->upstream->peer.data; peers; peers = peers->next) {
        for (peer = peers->peer; peer; peer = peer->next, i++) {
            if (peer->down) {
                ngx_stream_redis_master_set_bit(map, i);
            }
        }
    }

    return map;
}


/*
 * Whether the worker's decision still stands, and its master: the route's
 * versions (two words of the zone, read without its mutex) have not moved
 * since it was made or adopted, and it is younger than
 * NGX_STREAM_REDIS_MASTER_RECHECK (state goes stale).  Changes nothing.
 */

ngx_uint_t
ngx_stream_redis_master_current(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t *master)
{
    ngx_stream_redis_master_cache_t  *c;

    c = rmcf->cache;

    if (!c->fresh
        || ngx_stream_redis_master_version(rmcf) != c->version
        || (ngx_msec_int_t) (ngx_current_msec - c->decided)
           >= NGX_STREAM_REDIS_MASTER_RECHECK)
    {
        return 0;
    }

    *master = c->master;

    return 1;
}


/*
 * Brings the worker's decision up to date and returns its master, with
 * the servers the upstream may use in the cache's map: the decision
 * published in the zone if it is current (one map copied), else one made
 * here, once for all workers, and published.  Asked when current() said
 * no: after a probe recorded something the decision depends on, or once
 * the decision has aged.
 */

ngx_uint_t
ngx_stream_redis_master_refresh(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_log_t *log)
{
    ngx_uint_t                           version;
    ngx_stream_redis_master_cache_t     *c;
    ngx_stream_redis_master_decision_t   d;

    c = rmcf->cache;

    /* the version is read first: a change meanwhile brings one more turn */

    version = ngx_stream_redis_master_version(rmcf);

    c->version = version;
    c->fresh = 1;
    c->refreshes++;

    if (ngx_stream_redis_master_adopted(rmcf, version, log)) {
        return c->master;
    }

    c->decided = ngx_current_msec;
    c->view.now = c->decided;

    ngx_stream_redis_master_snapshot(rmcf, c->view.nodes, c->view.sentinels,
                                     c->view.seats);
    ngx_stream_redis_master_age(&c->view);
    ngx_stream_redis_master_judged(&c->view,
                             ngx_stream_redis_master_announced_master(rmcf),
                             &d, c->eligible, 1);
    ngx_stream_redis_master_announce_decision(rmcf, &d, log);

    c->master = d.master;

    if (!ngx_exiting) {
        c->version = ngx_stream_redis_master_publish(rmcf, version, &d,
                                                     c->eligible,
                                                     &c->generation);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_STREAM, log, 0,
                   "redis balancer: upstream %V decided, master %i",
                   rmcf->name, (ngx_int_t) c->master);

    return c->master;
}


/*
 * Takes the decision published in the zone, if a worker of this
 * configuration made it from "version".  The workers of an older
 * configuration, still serving sessions after a reload, decide for
 * themselves: their server lists may differ.
 */

static ngx_uint_t
ngx_stream_redis_master_adopted(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t version, ngx_log_t *log)
{
    ngx_stream_redis_master_cache_t  *c;

    c = rmcf->cache;

    if (ngx_exiting
        || !ngx_stream_redis_master_adopt(rmcf, version, c->eligible,
                                          &c->master, &c->generation,
                                          &c->decided, c->view.seats))
    {
        return 0;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_STREAM, log, 0,
                   "redis balancer: upstream %V takes decision %ui, "
                   "master %i", rmcf->name, c->generation,
                   (ngx_int_t) c->master);

    /*
     * A held connection whose connect failed goes back to that server
     * once it has answered a check since (see hold.c): judged on the
     * master's state as it is now, not as this worker last saw it when it
     * last decided.  Held connections ask about the master alone: its
     * node is copied, not every server's.
     */

    if (rmcf->nheld && c->master != NGX_STREAM_REDIS_MASTER_NONE) {
        ngx_stream_redis_master_read_node(rmcf, c->master, c->view.nodes);
        ngx_stream_redis_master_forget_stale(&c->view.nodes[c->master],
                                             ngx_current_msec);

        if (c->view.seats) {
            ngx_stream_redis_master_forget_unseated(&c->view.nodes[c->master],
                                               &c->view.seats[c->master]);
        }
    }

    return 1;
}


/* whether the worker's decision lets the upstream use server "i" */

ngx_uint_t
ngx_stream_redis_master_may_use(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    return ngx_stream_redis_master_bit(rmcf->cache->eligible, i) != 0;
}


/* the worker's decision's master: a server index, or none */

ngx_uint_t
ngx_stream_redis_master_cached_master(ngx_stream_redis_master_srv_conf_t *rmcf)
{
    return rmcf->cache->master;
}


/*
 * The servers the worker's decision lets the upstream use, a map, and the
 * refreshes that may have changed it: a reader that keeps a copy compares
 * the map again only when that count moved.
 */

const uintptr_t *
ngx_stream_redis_master_eligible(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t *refreshes)
{
    *refreshes = rmcf->cache->refreshes;

    return rmcf->cache->eligible;
}


/*
 * The seat of server "i" (a server a redis_server name brought) in the
 * worker's view, its address as the worker's decision was made or
 * adopted with it; NULL for a server listed by address.
 */

ngx_stream_redis_master_seat_t *
ngx_stream_redis_master_seat_in_view(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;

    if (rmcf->cache->view.seats == NULL || tp[i]->of == NULL) {
        return NULL;
    }

    return &rmcf->cache->view.seats[i];
}


/*
 * The node of server "i" in the worker's view: as the last decision
 * was made with it, or as it was copied when one was adopted
 * (ngx_stream_redis_master_adopted()), for a held connection.
 */

ngx_stream_redis_master_node_t *
ngx_stream_redis_master_node_of(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    return &rmcf->cache->view.nodes[i];
}


/*
 * A probe of "t" was recorded, its node going from "before" to "after":
 * the routes of the upstreams of the target move only if that matters to
 * their decisions (ngx_stream_redis_master_matters()), so that a probe
 * that repeats the last one costs every worker nothing.  A probe of a
 * replica of a read pool that changed nothing else (its offset, the time
 * its lag is measured to) moves the lag version only if that replica,
 * judged alone, no longer stands where the decision put it.
 */

void
ngx_stream_redis_master_noted(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after)
{
    ngx_uint_t                            i, matters, lag, *index;
    ngx_stream_redis_master_srv_conf_t  **pool;

    pool = t->pools.elts;
    index = t->indexes.elts;
    lag = NGX_STREAM_REDIS_MASTER_MATTERS_LAG
          | NGX_STREAM_REDIS_MASTER_MATTERS_REPLICA;

    for (i = 0; i < t->pools.nelts; i++) {
        matters = ngx_stream_redis_master_matters(pool[i], before, after);

        if (matters == NGX_STREAM_REDIS_MASTER_MATTERS_REPLICA
            && ngx_stream_redis_master_stands(pool[i], index[i]))
        {
            continue;
        }

        if (matters) {
            ngx_stream_redis_master_raise(pool[i],
                               matters & NGX_STREAM_REDIS_MASTER_MATTERS_ROLE,
                               matters & lag);
        }
    }
}


/*
 * Whether this worker's decision of a read upstream still stands for
 * replica "i", whose probe changed nothing but its own offset or time: the
 * replica, judged alone against the master and the offset history as the
 * zone has them now, qualifies exactly when the decision lets the
 * upstream use it.
 * O(1), where a decision is O(servers); 0 (decide again) unless the
 * decision is current, as the decision that follows the version's move
 * would judge the replica with everything else that moved.  The nodes
 * read are kept in the worker's view, as fresher copies of the same.
 */

static ngx_uint_t
ngx_stream_redis_master_stands(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    ngx_uint_t                          master;
    ngx_stream_redis_master_view_t      v;
    ngx_stream_redis_master_cache_t    *c;
    ngx_stream_redis_master_target_t  **tp;

    c = rmcf->cache;

    if (c == NULL || i == NGX_STREAM_REDIS_MASTER_NONE || ngx_exiting
        || !ngx_stream_redis_master_current(rmcf, &master))
    {
        return 0;
    }

    /* without a master no replica qualifies, whatever its offset */

    if (master == NGX_STREAM_REDIS_MASTER_NONE) {
        return 1;
    }

    tp = rmcf->targets.elts;

    if (tp[i]->node == tp[master]->node) {
        return 0;
    }

    v = c->view;
    v.now = ngx_current_msec;

    ngx_stream_redis_master_glance(rmcf, i, master, v.nodes, v.seats,
                                   &v.history);
    ngx_stream_redis_master_forget_stale(&v.nodes[i], v.now);
    ngx_stream_redis_master_forget_stale(&v.nodes[master], v.now);

    if (v.seats) {
        ngx_stream_redis_master_forget_unseated(&v.nodes[i], &v.seats[i]);
        ngx_stream_redis_master_forget_unseated(&v.nodes[master],
                                                &v.seats[master]);
    }

    v.history.master = (v.history.node == tp[master]->node
                        && v.history.epoch == v.nodes[master].epoch)
                       ? master : NGX_STREAM_REDIS_MASTER_NONE;

    return ngx_stream_redis_master_qualifies(&v, i, master)
           == (ngx_stream_redis_master_bit(c->eligible, i) != 0);
}


/*
 * A view of an upstream as the zone has it now, for a reader that decides
 * nothing (the status page): the nodes of this configuration's servers
 * and Sentinels and the route ("route", a copy), read together, the
 * servers marked "down", and the route's offset history.  judge() and
 * explain() then answer of it as the balancer's refresh() would.
 */

ngx_int_t
ngx_stream_redis_master_take_view(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_route_t *route)
{
    size_t                              node;
    ngx_uint_t                          i;
    ngx_stream_redis_master_target_t  **tp;

    node = sizeof(ngx_stream_redis_master_node_t);

    v->conf = rmcf;
    v->nodes = ngx_pcalloc(pool, (rmcf->targets.nelts + 1) * node);
    v->sentinels = ngx_pcalloc(pool, (rmcf->sentinels.nelts + 1) * node);
    v->down = ngx_stream_redis_master_down_map(pool, rmcf);
    v->seats = NULL;

    if (v->nodes == NULL || v->sentinels == NULL || v->down == NULL) {
        return NGX_ERROR;
    }

    if (rmcf->names) {
        v->seats = ngx_pcalloc(pool, rmcf->targets.nelts
                                     * sizeof(ngx_stream_redis_master_seat_t));
        if (v->seats == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_stream_redis_master_read_status(rmcf, v->nodes, v->sentinels,
                                        v->seats, route);

    v->now = ngx_current_msec;

    ngx_stream_redis_master_age(v);
    v->history.node = route->history_node;
    v->history.epoch = route->history_epoch;
    v->history.master = NGX_STREAM_REDIS_MASTER_NONE;
    v->history.n = 0;

    tp = rmcf->targets.elts;

    for (i = 0; i < rmcf->targets.nelts; i++) {
        if (route->history_node && tp[i]->node == route->history_node
            && v->nodes[i].epoch == route->history_epoch)
        {
            v->history.master = i;
            v->history.n = ngx_min(route->nhistory,
                                   NGX_STREAM_REDIS_MASTER_HISTORY);
            ngx_memcpy(v->history.seen, route->history,
                       v->history.n * sizeof(ngx_stream_redis_master_seen_t));
            break;
        }
    }

    return NGX_OK;
}


/*
 * The decision a view makes, and the servers it lets the upstream use: as
 * refresh() makes it, for a view taken elsewhere (the status page, the
 * unit tests), without announcing or publishing anything.
 */

void
ngx_stream_redis_master_judge(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d, uintptr_t *map)
{
    ngx_stream_redis_master_judged(v, previous, d, map, 0);
}


/*
 * The one judging of a view, the balancer's (refresh()) and the readers'
 * (judge()): the decision, then the servers it lets the upstream use.
 * refresh() alone also remembers the master's offset in the route's
 * history ("remember"), which a read pool's replicas are judged by.
 */

static void
ngx_stream_redis_master_judged(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d, uintptr_t *map,
    ngx_uint_t remember)
{
    ngx_stream_redis_master_decide(v, previous, d);

    if (remember
        && v->conf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA)
    {
        ngx_stream_redis_master_remember(v, d->master);
    }

    ngx_stream_redis_master_usable(v, d->master, map);
}


/*
 * A decision that changes is recorded in the zone and logged, once, by the
 * worker that makes it.  The workers of an older configuration, still
 * serving sessions after a reload, act on the decision but leave
 * announcing it to the current ones: their server lists may differ, and
 * the record would flip.
 */

static void
ngx_stream_redis_master_announce_decision(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_decision_t *d, ngx_log_t *log)
{
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;

    if (d->rule == NGX_STREAM_REDIS_MASTER_RULE_KEPT || ngx_exiting) {
        return;
    }

    if (d->rule == NGX_STREAM_REDIS_MASTER_RULE_UNPROBED) {

        /* the master known before is gone: say so, and probe faster */

        if (ngx_stream_redis_master_announced_master(rmcf)
            && ngx_stream_redis_master_announce(rmcf, NULL, 0, d->rule))
        {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "redis master: upstream %V has no master",
                          rmcf->name);
        }

        return;
    }

    ngx_stream_redis_master_announce_suspect(rmcf, d->suspect);

    if (ngx_stream_redis_master_announce(rmcf,
                             d->master == NGX_STREAM_REDIS_MASTER_NONE
                             ? NULL : tp[d->master]->node, d->claimants,
                             d->rule))
    {
        ngx_stream_redis_master_log_choice(&rmcf->cache->view, d, log);
    }
}


/* the choice, why several claimants came to one, why others do not */

static void
ngx_stream_redis_master_log_choice(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_decision_t *d, ngx_log_t *log)
{
    u_char                              *p, *last;
    u_char                               list[512];
    ngx_uint_t                           i, why;
    ngx_str_t                            said;
    ngx_stream_redis_master_srv_conf_t  *rmcf;

    u_char  text[NGX_STREAM_REDIS_MASTER_SAID_LEN];

    rmcf = v->conf;
    said.data = text;

    if (d->claimants > 1) {
        p = list;
        last = list + sizeof(list);

        for (i = 0; i < rmcf->targets.nelts; i++) {
            if (ngx_stream_redis_master_claimant(v, i)) {
                p = ngx_slprintf(p, last, "%s%V", p == list ? "" : " ",
                                 ngx_stream_redis_master_said(v, i, &said));
            }
        }

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis master: %ui servers claim master in upstream "
                      "%V (%*s), chose %s%s", d->claimants, rmcf->name,
                      p - list, list,
                      d->master == NGX_STREAM_REDIS_MASTER_NONE
                      ? "none: " : "",
                      ngx_stream_redis_master_rule_text(d->rule));
    }

    /* why servers that say master do not take writes */

    for (i = 0; i < rmcf->targets.nelts; i++) {
        why = ngx_stream_redis_master_why_not(v, i);

        if (why == NGX_STREAM_REDIS_MASTER_WHY_OK
            || why == NGX_STREAM_REDIS_MASTER_WHY_NOT_MASTER)
        {
            continue;
        }

        if (why == NGX_STREAM_REDIS_MASTER_WHY_FEW_REPLICAS) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "redis master: server %V in upstream %V says "
                          "master but only %ui replicas follow it "
                          "(min_replicas=%ui)",
                          ngx_stream_redis_master_said(v, i, &said),
                          rmcf->name,
                          ngx_stream_redis_master_replicated(v, i),
                          ngx_stream_redis_master_min_replicas(v));
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis master: server %V in upstream %V says master "
                      "but %s", ngx_stream_redis_master_said(v, i, &said),
                      rmcf->name,
                      ngx_stream_redis_master_why_text(why));
    }

    if (d->master == NGX_STREAM_REDIS_MASTER_NONE) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis master: upstream %V has no master", rmcf->name);
        return;
    }

    why = ngx_stream_redis_master_why_master(v, d);

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "redis master: upstream %V master is %V%s%s",
                  rmcf->name,
                  ngx_stream_redis_master_said(v, d->master, &said),
                  why == NGX_STREAM_REDIS_MASTER_CHOSE_PROMOTED ? ", " : "",
                  why == NGX_STREAM_REDIS_MASTER_CHOSE_PROMOTED
                  ? ngx_stream_redis_master_rule_text(why) : "");
}


/*
 * A server as the decision's log lines name it: as listed, and a server
 * a redis_server name brought with its seat's address in the view
 * ("NAME:PORT at ADDR"), whichever worker logs it.  "text->data" has
 * NGX_STREAM_REDIS_MASTER_SAID_LEN bytes.
 */

static ngx_str_t *
ngx_stream_redis_master_said(ngx_stream_redis_master_view_t *v, ngx_uint_t i,
    ngx_str_t *text)
{
    u_char                             *p, *last;
    ngx_stream_redis_master_seat_t     *seat;
    ngx_stream_redis_master_target_t  **tp;

    tp = v->conf->targets.elts;
    seat = v->seats ? &v->seats[i] : NULL;

    if (tp[i]->of == NULL || seat == NULL || seat->socklen == 0) {
        return &tp[i]->name;
    }

    last = text->data + NGX_STREAM_REDIS_MASTER_SAID_LEN - NGX_SOCKADDR_STRLEN;
    p = ngx_slprintf(text->data, last, "%V at ", &tp[i]->server);
    p += ngx_sock_ntop(&seat->addr.sockaddr, seat->socklen, p,
                       NGX_SOCKADDR_STRLEN, 1);
    text->len = p - text->data;

    return text;
}


/*
 * Adds the master's offset, as the view of a read upstream has it, to the
 * route's history that measures replica lag, with the time of the
 * master's probe that found it, and keeps the history in the view for
 * the policy (ngx_stream_redis_master_staleness()).  The worker that
 * decides adds it: one decision follows each probe that moved the offset.
 * A new master, or an offset that went back (a new replication history),
 * starts it again.  Two workers deciding at once add to the same history:
 * the second adds to what the first stored.
 */

static void
ngx_stream_redis_master_remember(ngx_stream_redis_master_view_t *v,
    ngx_uint_t master)
{
    ngx_stream_redis_master_history_t    was, now;
    ngx_stream_redis_master_srv_conf_t  *rmcf;

    rmcf = v->conf;

    if (master == NGX_STREAM_REDIS_MASTER_NONE) {

        /* no master: the history is forgotten, whoever stored it last */

        ngx_memzero(&now, sizeof(ngx_stream_redis_master_history_t));

        ngx_stream_redis_master_read_history(rmcf, &was);

        while ((was.node || was.n)
               && !ngx_stream_redis_master_store_history(rmcf, &was, &now))
        {
            /* void */
        }

        v->history.master = NGX_STREAM_REDIS_MASTER_NONE;
        v->history.n = 0;
        return;
    }

    ngx_stream_redis_master_read_history(rmcf, &was);

    for ( ;; ) {
        now = was;

        if (!ngx_stream_redis_master_add_offset(v, master, &now)
            || ngx_stream_redis_master_store_history(rmcf, &was, &now))
        {
            break;
        }
    }

    v->history = now;
    v->history.master = master;
}


/* adds the master's offset to history "h"; 0 when it has it already */

static ngx_uint_t
ngx_stream_redis_master_add_offset(ngx_stream_redis_master_view_t *v,
    ngx_uint_t master, ngx_stream_redis_master_history_t *h)
{
    off_t                               offset;
    ngx_uint_t                          k, n;
    ngx_stream_redis_master_node_t     *node;
    ngx_stream_redis_master_target_t  **tp;

    tp = v->conf->targets.elts;
    node = tp[master]->node;
    offset = v->nodes[master].info.master_repl_offset;
    n = h->n;

    if (h->node != node || h->epoch != v->nodes[master].epoch || n == 0
        || offset < h->seen[n - 1].offset)
    {
        h->node = node;
        h->epoch = v->nodes[master].epoch;
        n = 0;

    } else if (offset == h->seen[n - 1].offset) {
        return 0;
    }

    if (n == NGX_STREAM_REDIS_MASTER_HISTORY) {
        k = ngx_stream_redis_master_forgettable(v, h);

        ngx_memmove(&h->seen[k], &h->seen[k + 1],
                    (n - 1 - k) * sizeof(ngx_stream_redis_master_seen_t));
        n--;
    }

    h->seen[n].offset = offset;
    h->seen[n].seen = v->nodes[master].checked;
    h->n = n + 1;

    return 1;
}
