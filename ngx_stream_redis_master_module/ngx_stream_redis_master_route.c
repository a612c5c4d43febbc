
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The routes: what the zone keeps of each upstream's decision, for the
 * decision module (decision.c) and the status page.  The copies of an
 * upstream's nodes a decision is made from, its two versions, the
 * decision published for every worker and its adoption, the announced
 * master, the history of the master's offsets, the counters, and the
 * status page's copy of it all.
 */


#include "ngx_stream_redis_master_state.h"


static void ngx_stream_redis_master_copy_history(
    ngx_stream_redis_master_route_t *route,
    ngx_stream_redis_master_history_t *h);
static void ngx_stream_redis_master_copy_seat(
    ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_seat_t *seat);


/* a consistent copy of every server's state, for one routing decision */

void
ngx_stream_redis_master_snapshot(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_node_t *sentinels,
    ngx_stream_redis_master_seat_t *seats)
{
    ngx_uint_t                          i;
    ngx_slab_pool_t                    *shpool;
    ngx_stream_redis_master_target_t  **tp;

    shpool = rmcf->shpool;
    tp = rmcf->targets.elts;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < rmcf->targets.nelts; i++) {
        nodes[i] = *tp[i]->node;

        if (seats) {
            ngx_stream_redis_master_copy_seat(tp[i], &seats[i]);
        }
    }

    tp = rmcf->sentinels.elts;

    for (i = 0; i < rmcf->sentinels.nelts; i++) {
        sentinels[i] = *tp[i]->node;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * The node of the master last announced for an upstream (NULL: none), read
 * under the zone's mutex: the one a decision keeps while servers are still
 * being checked.
 */

ngx_stream_redis_master_node_t *
ngx_stream_redis_master_announced_master(
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_uint_t                          i;
    ngx_slab_pool_t                    *shpool;
    ngx_stream_redis_master_node_t     *master;
    ngx_stream_redis_master_seat_t      seat;
    ngx_stream_redis_master_target_t  **tp;

    shpool = rmcf->shpool;
    tp = rmcf->targets.elts;

    ngx_shmtx_lock(&shpool->mutex);

    master = rmcf->route->master;

    /* a seat's master that has since moved is another server: none */

    for (i = 0; master && rmcf->names && i < rmcf->targets.nelts; i++) {
        if (tp[i]->node != master || tp[i]->of == NULL) {
            continue;
        }

        ngx_stream_redis_master_copy_seat(tp[i], &seat);

        if (seat.socklen == 0 || seat.epoch != rmcf->route->master_epoch) {
            master = NULL;
        }

        break;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return master;
}


/*
 * The seat of a server a redis_server name brought, as the name's owner
 * last placed it; a server listed by address has none (zeroed).  The
 * caller holds the lock.
 */

static void
ngx_stream_redis_master_copy_seat(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_seat_t *seat)
{
    if (t->of == NULL || t->of->zname == NULL) {
        ngx_memzero(seat, sizeof(ngx_stream_redis_master_seat_t));
        return;
    }

    *seat = t->of->zname->seats[t->seat];
}


/*
 * Publishes a decision this worker made from the route's "version" (read
 * before the snapshot it was made from).  Done by the worker that made it,
 * as it is made: after a probe it recorded, or on the first connection or
 * sweep that finds the published one out of date.  A decision that
 * changes raises the generation, and the role version too when no probe
 * raised it meanwhile, so that the other workers take the new decision at
 * once even when no probe brought it (state went stale).  Returns the
 * version the decision stands for, with its generation in "generation".
 */

ngx_uint_t
ngx_stream_redis_master_publish(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t version, ngx_stream_redis_master_decision_t *d,
    uintptr_t *map, ngx_uint_t *generation)
{
    size_t                                words;
    ngx_slab_pool_t                      *shpool;
    ngx_stream_redis_master_published_t  *pub;

    shpool = rmcf->shpool;
    words = ngx_stream_redis_master_map_size(rmcf->targets.nelts);

    ngx_shmtx_lock(&shpool->mutex);

    pub = rmcf->route->published;

    if (pub->conf != rmcf->conf
        || pub->master != d->master
        || ngx_memcmp(pub->map, map, words * sizeof(uintptr_t)) != 0)
    {
        pub->generation++;

        if (ngx_stream_redis_master_version(rmcf) == version) {
            (void) ngx_atomic_fetch_add(&rmcf->route->role_version, 1);
            version++;
        }
    }

    pub->conf = rmcf->conf;
    pub->version = version;
    pub->decided = ngx_current_msec;
    pub->master = d->master;
    ngx_memcpy(pub->map, map, words * sizeof(uintptr_t));

    *generation = pub->generation;

    ngx_shmtx_unlock(&shpool->mutex);

    return version;
}


/*
 * Takes the published decision of an upstream, if a worker of this
 * configuration made it from "version" less than
 * NGX_STREAM_REDIS_MASTER_RECHECK ago: its master, server map, generation
 * and time.  Copies one map, not the servers' state; asked only when the
 * version has moved or the last decision has aged.
 *
 * Returns 0 when this worker is to decide.  Of the workers that find the
 * same decision aged, only the first decides: it marks the decision as
 * new, and the others keep it until its maker publishes again.
 */

ngx_uint_t
ngx_stream_redis_master_adopt(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t version, uintptr_t *map, ngx_uint_t *master,
    ngx_uint_t *generation, ngx_msec_t *decided,
    ngx_stream_redis_master_seat_t *seats)
{
    size_t                                words;
    ngx_uint_t                            i, adopted;
    ngx_stream_redis_master_target_t    **tp;
    ngx_slab_pool_t                      *shpool;
    ngx_stream_redis_master_published_t  *pub;

    shpool = rmcf->shpool;
    words = ngx_stream_redis_master_map_size(rmcf->targets.nelts);

    ngx_shmtx_lock(&shpool->mutex);

    pub = rmcf->route->published;

    adopted = pub->conf == rmcf->conf && pub->version == version;

    if (adopted
        && (ngx_msec_int_t) (ngx_current_msec - pub->decided)
           >= NGX_STREAM_REDIS_MASTER_RECHECK)
    {
        pub->decided = ngx_current_msec;
        adopted = 0;
    }

    if (adopted) {
        *master = pub->master;
        *generation = pub->generation;
        *decided = pub->decided;
        ngx_memcpy(map, pub->map, words * sizeof(uintptr_t));

        /*
         * The seats as they are now are those the decision was made with:
         * a seat that moves raises the version, under this lock.
         */

        tp = rmcf->targets.elts;

        for (i = 0; seats && i < rmcf->targets.nelts; i++) {
            ngx_stream_redis_master_copy_seat(tp[i], &seats[i]);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return adopted;
}


/*
 * What an upstream's decision was last made from: the role version, and
 * for a read pool the lag version too.  Read without the lock: a value
 * read just before a probe raises it only makes that decision come a
 * little later, on the next connection or sweep.
 */

ngx_uint_t
ngx_stream_redis_master_version(ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_stream_redis_master_route_t  *route;

    route = rmcf->route;

    if (rmcf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA) {
        return route->role_version + route->lag_version;
    }

    return route->role_version;
}


/*
 * Whether an upstream of the target lacks a master, or has one that is
 * suspect (one lost replica from min_replicas): probe it faster.
 */

ngx_uint_t
ngx_stream_redis_master_lacks_master(ngx_stream_redis_master_target_t *t)
{
    ngx_uint_t                            i;
    ngx_stream_redis_master_srv_conf_t  **pool;

    pool = t->pools.elts;

    for (i = 0; i < t->pools.nelts; i++) {
        if (pool[i]->route
            && (pool[i]->route->master == NULL || pool[i]->route->suspect))
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Records a routing decision of an upstream; returns 1 only to the first
 * worker that sees it change, so that each decision is logged once.
 */

ngx_uint_t
ngx_stream_redis_master_announce(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *master, ngx_uint_t claimants,
    ngx_uint_t rule)
{
    ngx_uint_t                        changed, moved;
    ngx_slab_pool_t                  *shpool;
    ngx_stream_redis_master_route_t  *route;

    shpool = rmcf->shpool;
    route = rmcf->route;

    ngx_shmtx_lock(&shpool->mutex);

    /* a seat's master at another address is another master */

    moved = master && route->master == master
            && route->master_epoch != master->epoch;

    changed = !route->announced
              || route->master != master
              || moved
              || route->claimants != claimants;

    route->announced = 1;
    route->master = master;
    route->master_epoch = master ? master->epoch : 0;
    route->claimants = claimants;
    route->rule = rule;

    /* a master other than the last one counts as a failover */

    if (master) {
        if (route->previous && (route->previous != master || moved)) {
            route->counters[NGX_STREAM_REDIS_MASTER_COUNT_FAILOVERS]++;
        }

        route->previous = master;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return changed;
}


/* records whether the master is suspect (see lacks_master()) */

void
ngx_stream_redis_master_announce_suspect(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t suspect)
{
    ngx_slab_pool_t                  *shpool;
    ngx_stream_redis_master_route_t  *route;

    route = rmcf->route;

    if (route->suspect == suspect) {
        return;
    }

    shpool = rmcf->shpool;

    ngx_shmtx_lock(&shpool->mutex);
    route->suspect = suspect;
    ngx_shmtx_unlock(&shpool->mutex);
}


/* like announce, for the read pool's fallback to the master */

ngx_uint_t
ngx_stream_redis_master_announce_fallback(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t fallback)
{
    ngx_uint_t                        changed;
    ngx_slab_pool_t                  *shpool;
    ngx_stream_redis_master_route_t  *route;

    shpool = rmcf->shpool;
    route = rmcf->route;

    /* asked for each connection of a read pool: no lock when unchanged */

    if (route->fallback == fallback) {
        return 0;
    }

    ngx_shmtx_lock(&shpool->mutex);

    changed = (route->fallback != fallback);
    route->fallback = fallback;

    ngx_shmtx_unlock(&shpool->mutex);

    return changed;
}


/*
 * Raises the versions of an upstream's route by what a probe changed (see
 * ngx_stream_redis_master_matters()), after the node was written: a worker
 * that reads the old version with the new node decides once more, never
 * the other way round.
 */

void
ngx_stream_redis_master_raise(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t role, ngx_uint_t lag)
{
    if (rmcf->route == NULL) {
        return;
    }

    if (role) {
        (void) ngx_atomic_fetch_add(&rmcf->route->role_version, 1);
    }

    if (lag) {
        (void) ngx_atomic_fetch_add(&rmcf->route->lag_version, 1);
    }
}


/*
 * The route's history of the master's offsets, which measures a read
 * upstream's replica lag, copied under the lock; "master" is left to the
 * caller, who knows the server index of "node".
 */

void
ngx_stream_redis_master_read_history(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_history_t *h)
{
    ngx_shmtx_lock(&rmcf->shpool->mutex);
    ngx_stream_redis_master_copy_history(rmcf->route, h);
    ngx_shmtx_unlock(&rmcf->shpool->mutex);
}


/* the route's history copied into "h"; the caller holds the lock */

static void
ngx_stream_redis_master_copy_history(ngx_stream_redis_master_route_t *route,
    ngx_stream_redis_master_history_t *h)
{
    h->node = route->history_node;
    h->epoch = route->history_epoch;
    h->n = ngx_min(route->nhistory, NGX_STREAM_REDIS_MASTER_HISTORY);
    ngx_memcpy(h->seen, route->history,
               h->n * sizeof(ngx_stream_redis_master_seen_t));
}


/*
 * Server "i"'s node, copied under the lock into "nodes" at its index, as a
 * snapshot copies it: for a worker that adopted a decision and holds
 * connections, which ask about the master's node alone (hold.c).
 */

void
ngx_stream_redis_master_read_node(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_stream_redis_master_node_t *nodes)
{
    ngx_slab_pool_t                    *shpool;
    ngx_stream_redis_master_target_t  **tp;

    shpool = rmcf->shpool;
    tp = rmcf->targets.elts;

    ngx_shmtx_lock(&shpool->mutex);
    nodes[i] = *tp[i]->node;
    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * The state one replica's qualification reads, copied under the lock as
 * a snapshot copies it: the nodes of servers "i" and "master" into
 * "nodes" (at their indexes) and the route's history of the master's
 * offsets into "h".  O(1): a probe of a replica that changed nothing else
 * re-judges that replica, not the upstream.
 */

void
ngx_stream_redis_master_glance(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_uint_t master, ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_seat_t *seats,
    ngx_stream_redis_master_history_t *h)
{
    ngx_slab_pool_t                    *shpool;
    ngx_stream_redis_master_target_t  **tp;

    shpool = rmcf->shpool;
    tp = rmcf->targets.elts;

    ngx_shmtx_lock(&shpool->mutex);

    nodes[i] = *tp[i]->node;
    nodes[master] = *tp[master]->node;

    if (seats) {
        ngx_stream_redis_master_copy_seat(tp[i], &seats[i]);
        ngx_stream_redis_master_copy_seat(tp[master], &seats[master]);
    }

    ngx_stream_redis_master_copy_history(rmcf->route, h);

    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * Stores history "now" in the route if it still is "was", as this worker
 * read it; otherwise another worker stored one meanwhile: "was" becomes
 * that one, and 0 asks the caller to add to it instead.
 */

ngx_uint_t
ngx_stream_redis_master_store_history(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_history_t *was,
    ngx_stream_redis_master_history_t *now)
{
    size_t                            size;
    ngx_uint_t                        same;
    ngx_slab_pool_t                  *shpool;
    ngx_stream_redis_master_route_t  *route;

    route = rmcf->route;
    shpool = rmcf->shpool;
    size = sizeof(ngx_stream_redis_master_seen_t);

    ngx_shmtx_lock(&shpool->mutex);

    same = route->history_node == was->node
           && route->history_epoch == was->epoch
           && route->nhistory == was->n
           && ngx_memcmp(route->history, was->seen, was->n * size) == 0;

    if (same) {
        route->history_node = now->node;
        route->history_epoch = now->epoch;
        route->nhistory = now->n;
        ngx_memcpy(route->history, now->seen, now->n * size);

    } else {
        was->node = route->history_node;
        was->epoch = route->history_epoch;
        was->n = ngx_min(route->nhistory, NGX_STREAM_REDIS_MASTER_HISTORY);
        ngx_memcpy(was->seen, route->history, was->n * size);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return same;
}


/* counts an event of an upstream, without the lock */

void
ngx_stream_redis_master_count(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t counter, ngx_uint_t n)
{
    if (rmcf->route == NULL || n == 0) {
        return;
    }

    (void) ngx_atomic_fetch_add(&rmcf->route->counters[counter], n);
}


/*
 * What the status page shows of an upstream: its routing record and its
 * servers' and Sentinels' state, copied together under the lock.  Only
 * the servers of this configuration are read, so that nodes a reload left
 * behind in the zone never show.
 */

void
ngx_stream_redis_master_read_status(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_node_t *sentinels,
    ngx_stream_redis_master_seat_t *seats,
    ngx_stream_redis_master_route_t *route)
{
    ngx_uint_t                          i;
    ngx_slab_pool_t                    *shpool;
    ngx_stream_redis_master_target_t  **tp;

    shpool = rmcf->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    *route = *rmcf->route;

    tp = rmcf->targets.elts;

    for (i = 0; i < rmcf->targets.nelts; i++) {
        nodes[i] = *tp[i]->node;

        if (seats) {
            ngx_stream_redis_master_copy_seat(tp[i], &seats[i]);
        }
    }

    tp = rmcf->sentinels.elts;

    for (i = 0; i < rmcf->sentinels.nelts; i++) {
        sentinels[i] = *tp[i]->node;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}
