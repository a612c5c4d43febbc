
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The balancer: where each proxied connection goes (redis_master: the
 * master; redis_replica: a qualified replica, by weight), and the closing
 * of the sessions to a server that lost its place.
 */


#include "ngx_stream_redis_master_balancer.h"


static ngx_int_t ngx_stream_redis_master_get_peer(ngx_peer_connection_t *pc,
    void *data);
static ngx_int_t ngx_stream_redis_master_placed(
    ngx_stream_redis_master_peer_data_t *pd, ngx_int_t rc,
    ngx_uint_t placed);
static void ngx_stream_redis_master_free_peer(ngx_peer_connection_t *pc,
    void *data, ngx_uint_t state);
static void ngx_stream_redis_master_cleanup(void *data);
static void ngx_stream_redis_master_reroute_upstream(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_log_t *log);
static ngx_uint_t ngx_stream_redis_master_pick_replica(
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t master);
static ngx_uint_t ngx_stream_redis_master_moved(
    ngx_stream_redis_master_peer_data_t *pd);
static void ngx_stream_redis_master_close_sessions(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_log_t *log);


ngx_int_t
ngx_stream_redis_master_init_balancer(ngx_cycle_t *cycle,
    ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                           i;
    ngx_stream_redis_master_srv_conf_t  **rmcfp, *rmcf;

    rmcfp = rmmcf->upstreams.elts;

    for (i = 0; i < rmmcf->upstreams.nelts; i++) {
        rmcf = rmcfp[i];

        ngx_queue_init(&rmcf->sessions);
        ngx_queue_init(&rmcf->held);

        rmcf->eligible = ngx_pcalloc(cycle->pool,
                                     ngx_stream_redis_master_map_size(
                                         rmcf->targets.nelts)
                                     * sizeof(uintptr_t));
        if (rmcf->eligible == NULL) {
            return NGX_ERROR;
        }

        if (ngx_stream_redis_master_init_decision(cycle->pool, rmcf)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (ngx_stream_redis_master_init_peer_refs(cycle->pool, rmcf)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_stream_redis_master_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_pool_cleanup_t                   *cln;
    ngx_stream_redis_master_srv_conf_t   *rmcf;
    ngx_stream_redis_master_peer_data_t  *pd;

    rmcf = ngx_stream_conf_upstream_srv_conf(us,
                                             ngx_stream_redis_master_module);

    pd = ngx_pcalloc(s->connection->pool,
                     sizeof(ngx_stream_redis_master_peer_data_t));
    if (pd == NULL) {
        return NGX_ERROR;
    }

    pd->tried = ngx_pcalloc(s->connection->pool,
                            ngx_stream_redis_master_map_size(
                                rmcf->targets.nelts) * sizeof(uintptr_t));
    if (pd->tried == NULL) {
        return NGX_ERROR;
    }

    s->upstream->peer.data = &pd->rrp;

    if (ngx_stream_upstream_init_round_robin_peer(s, us) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the session leaves the worker's list however it ends */

    cln = ngx_pool_cleanup_add(s->connection->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_stream_redis_master_cleanup;
    cln->data = pd;

    pd->conf = rmcf;
    pd->session = s;
    pd->first_master = NGX_STREAM_REDIS_MASTER_NONE;

    /* the stream variables read how the session was placed */
    ngx_stream_set_ctx(s, pd, ngx_stream_redis_master_module);

    s->upstream->peer.get = ngx_stream_redis_master_get_peer;
    s->upstream->peer.free = ngx_stream_redis_master_free_peer;

    if (rmcf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_MASTER) {
        /*
         * There is one master: never fall through to another server.  With
         * wait=, a failed connect gets one more try, which waits for a
         * master (see ngx_stream_redis_master_get_peer()).
         */
        s->upstream->peer.tries = rmcf->wait ? 2 : 1;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_get_peer(ngx_peer_connection_t *pc, void *data)
{
    ngx_stream_redis_master_peer_data_t  *pd = data;

    ngx_int_t                            rc;
    ngx_uint_t                           master, index;
    ngx_stream_redis_master_srv_conf_t  *rmcf;

    rmcf = pd->conf;

    /* the decision stands (two words of the zone read), or is made again */

    if (!ngx_stream_redis_master_current(rmcf, &master)) {
        master = ngx_stream_redis_master_refresh(rmcf, pc->log);
    }

    if (!pd->seen) {
        pd->seen = 1;
        pd->first_master = master;
    }

    if (rmcf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_MASTER) {

        /*
         * A connect to the master that failed is the first sign of a crash
         * that the checks have yet to confirm: with wait=, the client
         * waits for the outcome rather than getting an error.
         */

        if (rmcf->wait && !pd->waited
            && (master == NGX_STREAM_REDIS_MASTER_NONE
                || ngx_stream_redis_master_bit(pd->tried, master)))
        {
            rc = ngx_stream_redis_master_hold(pc, pd);

            return ngx_stream_redis_master_placed(pd, rc,
                                          NGX_STREAM_REDIS_MASTER_PLACED_HELD);
        }

        if (master == NGX_STREAM_REDIS_MASTER_NONE
            || ngx_stream_redis_master_bit(pd->tried, master))
        {
            ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                          "no Redis master in upstream %V", rmcf->name);
            return ngx_stream_redis_master_placed(pd, NGX_BUSY, 0);
        }

        rc = ngx_stream_redis_master_use_peer(pc, pd, master);

        return ngx_stream_redis_master_placed(pd, rc,
                                        NGX_STREAM_REDIS_MASTER_PLACED_MASTER);
    }

    index = ngx_stream_redis_master_pick_replica(pd, master);

    if (index != NGX_STREAM_REDIS_MASTER_NONE) {
        if (ngx_stream_redis_master_announce_fallback(rmcf, 0)) {
            ngx_log_error(NGX_LOG_WARN, pc->log, 0,
                          "redis replica: upstream %V has qualified "
                          "replicas again", rmcf->name);
        }

        rc = ngx_stream_redis_master_use_peer(pc, pd, index);

        return ngx_stream_redis_master_placed(pd, rc,
                                       NGX_STREAM_REDIS_MASTER_PLACED_REPLICA);
    }

    if (rmcf->fallback == NGX_STREAM_REDIS_MASTER_FALLBACK_MASTER
        && master != NGX_STREAM_REDIS_MASTER_NONE
        && !ngx_stream_redis_master_bit(pd->tried, master))
    {
        if (ngx_stream_redis_master_announce_fallback(rmcf, 1)) {
            ngx_log_error(NGX_LOG_WARN, pc->log, 0,
                          "redis replica: no qualified replica in upstream "
                          "%V, falling back to the master",
                          rmcf->name);
        }

        rc = ngx_stream_redis_master_use_peer(pc, pd, master);

        return ngx_stream_redis_master_placed(pd, rc,
                                      NGX_STREAM_REDIS_MASTER_PLACED_FALLBACK);
    }

    ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                  "no qualified Redis replica in upstream %V", rmcf->name);

    return ngx_stream_redis_master_placed(pd, NGX_BUSY, 0);
}


/*
 * Notes how a session was placed, for the stream variables, and counts it
 * for the status page; a session refused is counted once.
 */

static ngx_int_t
ngx_stream_redis_master_placed(ngx_stream_redis_master_peer_data_t *pd,
    ngx_int_t rc, ngx_uint_t placed)
{
    ngx_uint_t  counter;

    if (rc == NGX_BUSY || rc == NGX_ERROR) {
        placed = NGX_STREAM_REDIS_MASTER_PLACED_REFUSED;
    }

    if (placed == pd->placed) {
        return rc;
    }

    pd->placed = placed;

    switch (placed) {

    case NGX_STREAM_REDIS_MASTER_PLACED_REFUSED:
        counter = NGX_STREAM_REDIS_MASTER_COUNT_REFUSED;
        break;

    case NGX_STREAM_REDIS_MASTER_PLACED_HELD:
        counter = NGX_STREAM_REDIS_MASTER_COUNT_HELD;
        break;

    case NGX_STREAM_REDIS_MASTER_PLACED_FALLBACK:
        counter = NGX_STREAM_REDIS_MASTER_COUNT_FALLBACKS;
        break;

    default:
        return rc;
    }

    ngx_stream_redis_master_count(pd->conf, counter, 1);

    return rc;
}


static void
ngx_stream_redis_master_free_peer(ngx_peer_connection_t *pc, void *data,
    ngx_uint_t state)
{
    ngx_stream_redis_master_peer_data_t  *pd = data;

    ngx_stream_upstream_rr_peer_t      *peer;
    ngx_stream_redis_master_target_t  **tp;

    ngx_stream_redis_master_cleanup(pd);

    if (pc->tries) {
        pc->tries--;
    }

    /* the extra try of wait= is for one wait only */

    if (pd->waited) {
        pc->tries = 0;
    }

    peer = pd->peer;

    if (peer == NULL) {
        return;
    }

    ngx_stream_upstream_rr_peers_rlock(pd->peers);
    ngx_stream_upstream_rr_peer_lock(pd->peers, peer);

    peer->conns--;

    if (state & NGX_PEER_FAILED) {
        peer->fails++;
        peer->accessed = ngx_time();
        peer->checked = peer->accessed;
    }

    ngx_stream_upstream_rr_peer_unlock(pd->peers, peer);
    ngx_stream_upstream_rr_peers_unlock(pd->peers);

    pd->peer = NULL;

    if (state & NGX_PEER_FAILED) {

        /*
         * A failed connect is news: its server is checked again at once.
         * A connection held after it goes back to that server only after
         * a probe that started after this kick has succeeded.
         */

        tp = (ngx_stream_redis_master_target_t **) pd->conf->targets.elts
             + pd->index;

        pd->kick = ngx_stream_redis_master_kick(pd->conf->main, tp, 1);
        pd->failed = 1;
    }
}


static void
ngx_stream_redis_master_cleanup(void *data)
{
    ngx_stream_redis_master_peer_data_t  *pd = data;

    if (pd->held) {
        ngx_stream_redis_master_unhold(pd);
        return;
    }

    if (pd->linked) {
        ngx_queue_remove(&pd->queue);
        pd->linked = 0;
    }
}


/* smooth weighted round robin over qualified replicas, as nginx does */

static ngx_uint_t
ngx_stream_redis_master_pick_replica(ngx_stream_redis_master_peer_data_t *pd,
    ngx_uint_t master)
{
    ngx_int_t                            total;
    ngx_uint_t                           i, base, best;
    ngx_stream_upstream_rr_peer_t       *peer, *bestp;
    ngx_stream_upstream_rr_peers_t      *peers;
    ngx_stream_redis_master_srv_conf_t  *rmcf;

    rmcf = pd->conf;
    best = NGX_STREAM_REDIS_MASTER_NONE;
    base = 0;

    /* primary servers first; backup servers only when none qualifies */

    for (peers = pd->rrp.peers; peers; peers = peers->next) {
        total = 0;
        bestp = NULL;

        ngx_stream_upstream_rr_peers_wlock(peers);

        for (peer = peers->peer, i = base; peer; peer = peer->next, i++) {

            if (peer->down
                || ngx_stream_redis_master_bit(pd->tried, i)
                || (peer->max_conns && peer->conns >= peer->max_conns)
                || i == master
                || !ngx_stream_redis_master_may_use(rmcf, i))
            {
                continue;
            }

            peer->current_weight += peer->effective_weight;
            total += peer->effective_weight;

            if (bestp == NULL || peer->current_weight > bestp->current_weight) {
                bestp = peer;
                best = i;
            }
        }

        if (bestp) {
            bestp->current_weight -= total;
            ngx_stream_upstream_rr_peers_unlock(peers);
            break;
        }

        ngx_stream_upstream_rr_peers_unlock(peers);

        base += peers->number;
    }

    return best;
}


/*
 * Compares every upstream's eligible servers with what this worker last
 * saw, and closes the sessions it proxies to servers that lost their place.
 */

void
ngx_stream_redis_master_reroute(ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_log_t *log)
{
    ngx_uint_t                           i;
    ngx_stream_redis_master_srv_conf_t  **rmcfp;

    rmcfp = rmmcf->upstreams.elts;

    for (i = 0; i < rmmcf->upstreams.nelts; i++) {
        ngx_stream_redis_master_reroute_upstream(rmcfp[i], log);
    }
}


/* whether this worker proxies or holds any connection of an upstream */

ngx_uint_t
ngx_stream_redis_master_tracking(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                           i;
    ngx_stream_redis_master_srv_conf_t  **rmcfp;

    rmcfp = rmmcf->upstreams.elts;

    for (i = 0; i < rmmcf->upstreams.nelts; i++) {
        if (rmcfp[i]->nheld || !ngx_queue_empty(&rmcfp[i]->sessions)) {
            return 1;
        }
    }

    return 0;
}


/*
 * After this worker recorded a probe of "t", its node going from "before"
 * to "after": the routes move if that matters, and the upstreams of that
 * target only are rerouted at once; the other workers follow at their
 * next sweep.
 */

void
ngx_stream_redis_master_recorded_probe(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after)
{
    ngx_uint_t                            i;
    ngx_stream_redis_master_srv_conf_t  **pool;

    ngx_stream_redis_master_noted(t, before, after);

    pool = t->pools.elts;

    for (i = 0; i < t->pools.nelts; i++) {
        ngx_stream_redis_master_reroute_upstream(pool[i], ngx_cycle->log);
    }
}


static void
ngx_stream_redis_master_reroute_upstream(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_log_t *log)
{
    size_t            size;
    ngx_uint_t        master, refreshes;
    const uintptr_t  *eligible;

    if (rmcf->cache == NULL) {
        return;
    }

    size = ngx_stream_redis_master_map_size(rmcf->targets.nelts)
           * sizeof(uintptr_t);

    if (!ngx_stream_redis_master_current(rmcf, &master)) {
        master = ngx_stream_redis_master_refresh(rmcf, log);
    }

    if (rmcf->nheld) {
        ngx_stream_redis_master_release(rmcf, master, log);
    }

    /* the map is compared only when a refresh may have changed it */

    eligible = ngx_stream_redis_master_eligible(rmcf, &refreshes);

    if (rmcf->rerouted == refreshes) {
        return;
    }

    rmcf->rerouted = refreshes;

    /* a seat that moved leaves the map unchanged only if it came back */

    if (ngx_memcmp(rmcf->eligible, eligible, size) == 0
        && rmcf->names == NULL)
    {
        return;
    }

    ngx_memcpy(rmcf->eligible, eligible, size);

    ngx_stream_redis_master_close_sessions(rmcf, log);
}


/*
 * A session is closed by shutting its upstream socket down and letting the
 * proxy module read the end of stream: the proxy finalizes the session in
 * its usual way, forwarding whatever the server had already answered.
 */

static void
ngx_stream_redis_master_close_sessions(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_log_t *log)
{
    ngx_uint_t                            closed;
    ngx_queue_t                          *q, *next;
    ngx_connection_t                     *c;
    ngx_stream_redis_master_peer_data_t  *pd;

    closed = 0;

    for (q = ngx_queue_head(&rmcf->sessions);
         q != ngx_queue_sentinel(&rmcf->sessions);
         q = next)
    {
        next = ngx_queue_next(q);
        pd = ngx_queue_data(q, ngx_stream_redis_master_peer_data_t, queue);

        if (ngx_stream_redis_master_bit(rmcf->eligible, pd->index)
            && !ngx_stream_redis_master_moved(pd))
        {
            continue;
        }

        ngx_queue_remove(q);
        pd->linked = 0;

        c = pd->session->upstream->peer.connection;

        if (c == NULL || c->fd == (ngx_socket_t) -1) {
            continue;
        }

        ngx_log_error(NGX_LOG_INFO, pd->session->connection->log, 0,
                      "redis balancer: closing session to %V, no longer "
                      "eligible in upstream %V",
                      pd->seated ? &pd->name : &pd->peer->name, rmcf->name);

        if (ngx_shutdown_socket(c->fd, SHUT_RDWR) == -1) {
            ngx_log_error(NGX_LOG_CRIT, log, ngx_socket_errno,
                          ngx_shutdown_socket_n " failed");
        }

        c->read->ready = 1;
        ngx_post_event(c->read, &ngx_posted_events);

        closed++;
    }

    ngx_stream_redis_master_count(rmcf, NGX_STREAM_REDIS_MASTER_COUNT_CLOSED,
                                  closed);

    if (closed) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis balancer: closed %ui sessions in upstream %V "
                      "to servers no longer eligible", closed, rmcf->name);
    }
}




/*
 * Whether a session's server, one a redis_server name brought, is no
 * longer at the address the session was connected to: its seat moved,
 * even if it has another server there now.
 */

static ngx_uint_t
ngx_stream_redis_master_moved(ngx_stream_redis_master_peer_data_t *pd)
{
    ngx_stream_redis_master_seat_t  *seat;

    if (!pd->seated) {
        return 0;
    }

    seat = ngx_stream_redis_master_seat_in_view(pd->conf, pd->index);

    return seat == NULL || seat->epoch != pd->epoch;
}
