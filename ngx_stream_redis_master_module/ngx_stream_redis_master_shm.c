
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Shared state: one zone holds the state of every probe target and the
 * routing record of every upstream, so that all workers route the same way
 * and a reload keeps what the checks have learned.  This file sets the
 * zone up, gives its entries back, owns the targets and records their
 * probes; what the zone keeps of the decisions is in route.c.
 */


#include "ngx_stream_redis_master_state.h"


/* the most a node's latency keeps: its field is 30 bits (12 days of ms) */

#define NGX_STREAM_REDIS_MASTER_MAX_LATENCY    0x3fffffff


/*
 * How many check periods (an interval and a timeout) a node's last probe
 * counts for: a worker takes a target over once its owner has been silent
 * for NGX_STREAM_REDIS_MASTER_STALE_PERIODS (check.c), so a node keeps
 * counting until the new owner's first probe.
 */

#define NGX_STREAM_REDIS_MASTER_FRESH_PERIODS  3


static ngx_stream_redis_master_node_t *ngx_stream_redis_master_node(
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_target_t *t);
static void *ngx_stream_redis_master_record_of(
    ngx_stream_redis_master_node_t *node);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_taken(
    ngx_stream_redis_master_target_t *t, ngx_stream_redis_master_inet_t *addr,
    socklen_t socklen);
static ngx_stream_redis_master_route_t *ngx_stream_redis_master_route(
    ngx_stream_redis_master_main_conf_t *rmmcf, ngx_str_t *name,
    size_t words);
static ngx_int_t ngx_stream_redis_master_make_room(
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_uint_t ngx_stream_redis_master_embedded(
    ngx_stream_redis_master_route_t *route);
static ngx_stream_redis_master_generation_t *
    ngx_stream_redis_master_generation(
    ngx_stream_redis_master_main_conf_t *rmmcf);
static ngx_uint_t ngx_stream_redis_master_horizon(
    ngx_stream_redis_master_main_conf_t *rmmcf);
static ngx_uint_t ngx_stream_redis_master_older(ngx_uint_t used,
    ngx_uint_t horizon);
static ngx_uint_t ngx_stream_redis_master_alive(ngx_pid_t pid);
static ngx_int_t ngx_stream_redis_master_created(
    ngx_stream_redis_master_main_conf_t *rmmcf, ngx_queue_t *q);
static void ngx_stream_redis_master_log_zone(ngx_shm_zone_t *shm_zone,
    ngx_stream_redis_master_main_conf_t *rmmcf);
static ngx_uint_t ngx_stream_redis_master_repeated(
    ngx_stream_redis_master_target_t *t, u_char *reason, size_t len);


ngx_int_t
ngx_stream_redis_master_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_stream_redis_master_main_conf_t  *octx = data;

    size_t                                len;
    ngx_uint_t                            i;
    ngx_stream_redis_master_target_t    **tp;
    ngx_stream_redis_master_srv_conf_t  **rmcfp;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = shm_zone->data;

    if (octx) {
        rmmcf->sh = octx->sh;
        rmmcf->shpool = octx->shpool;
        rmmcf->reused = 1;

    } else {
        rmmcf->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

        if (shm_zone->shm.exists) {
            rmmcf->sh = rmmcf->shpool->data;

        } else {
            rmmcf->sh = ngx_slab_alloc(rmmcf->shpool,
                                     sizeof(ngx_stream_redis_master_shctx_t));
            if (rmmcf->sh == NULL) {
                return NGX_ERROR;
            }

            rmmcf->shpool->data = rmmcf->sh;

            ngx_queue_init(&rmmcf->sh->nodes);
            ngx_queue_init(&rmmcf->sh->routes);
            ngx_queue_init(&rmmcf->sh->generations);
            rmmcf->sh->kicks = 0;
            rmmcf->sh->confs = 0;
            rmmcf->sh->current = 0;
            rmmcf->sh->horizon = 0;

            len = sizeof(" in redis_master zone \"\"") + shm_zone->shm.name.len;

            rmmcf->shpool->log_ctx = ngx_slab_alloc(rmmcf->shpool, len);
            if (rmmcf->shpool->log_ctx == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(rmmcf->shpool->log_ctx,
                        " in redis_master zone \"%V\"%Z", &shm_zone->shm.name);
        }
    }

    /* workers of the previous cycle may still be probing */

    ngx_shmtx_lock(&rmmcf->shpool->mutex);

    rmmcf->conf = ++rmmcf->sh->confs;

    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        tp[i]->node = ngx_stream_redis_master_node(rmmcf, tp[i]);
        if (tp[i]->node == NULL) {
            goto failed;
        }

        if (tp[i]->kind == NGX_STREAM_REDIS_MASTER_KIND_NAME) {
            tp[i]->zname = ngx_stream_redis_master_record_of(tp[i]->node);

        } else if (tp[i]->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
                   && tp[i]->discover)
        {
            tp[i]->zreport = ngx_stream_redis_master_record_of(tp[i]->node);
        }

        tp[i]->shpool = rmmcf->shpool;
    }

    rmcfp = rmmcf->upstreams.elts;

    for (i = 0; i < rmmcf->upstreams.nelts; i++) {
        rmcfp[i]->route = ngx_stream_redis_master_route(rmmcf,
                                 rmcfp[i]->name,
                                 ngx_stream_redis_master_map_size(
                                     rmcfp[i]->targets.nelts));
        if (rmcfp[i]->route == NULL) {
            goto failed;
        }

        rmcfp[i]->shpool = rmmcf->shpool;
        rmcfp[i]->main = rmmcf;
        rmcfp[i]->conf = rmmcf->conf;

        if (ngx_stream_redis_master_make_room(rmmcf, rmcfp[i]) != NGX_OK) {
            goto failed;
        }
    }

    rmmcf->generation = ngx_stream_redis_master_generation(rmmcf);
    if (rmmcf->generation == NULL) {
        goto failed;
    }

    ngx_shmtx_unlock(&rmmcf->shpool->mutex);

    ngx_stream_redis_master_log_zone(shm_zone, rmmcf);

    return NGX_OK;

failed:

    ngx_shmtx_unlock(&rmmcf->shpool->mutex);

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "not enough space in redis_master zone for %ui servers",
                  rmmcf->targets.nelts);

    return NGX_ERROR;
}


/*
 * A target's node: the one kept from earlier cycles, or a new one, down;
 * marked as used by this configuration, under the same lock as it is
 * found, so that no worker gives it back meanwhile (see reclaim()).
 */

static ngx_stream_redis_master_node_t *
ngx_stream_redis_master_node(ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_target_t *t)
{
    size_t                           size;
    ngx_str_t                       *key;
    ngx_uint_t                       seats;
    ngx_queue_t                     *q;
    ngx_stream_redis_master_node_t  *node;
    ngx_stream_redis_master_name_t  *name;

    key = &t->key;
    seats = t->seats.nelts;

    for (q = ngx_queue_head(&rmmcf->sh->nodes);
         q != ngx_queue_sentinel(&rmmcf->sh->nodes);
         q = ngx_queue_next(q))
    {
        node = ngx_queue_data(q, ngx_stream_redis_master_node_t, queue);

        if (node->key.len == key->len
            && ngx_memcmp(node->key.data, key->data, key->len) == 0)
        {
            node->used = (uint32_t) rmmcf->conf;
            return node;
        }
    }

    /*
     * A name's record, with its seats, follows its key (record_of()), and
     * so does the report of a Sentinel asked for its replicas: their keys
     * say which, so that a node found has the size it was made with.
     */

    size = sizeof(ngx_stream_redis_master_node_t) + key->len;

    if (seats) {
        size = ngx_align(size, sizeof(uintptr_t))
               + offsetof(ngx_stream_redis_master_name_t, seats)
               + seats * sizeof(ngx_stream_redis_master_seat_t);

    } else if (t->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
               && t->discover)
    {
        size = ngx_align(size, sizeof(uintptr_t))
               + sizeof(ngx_stream_redis_master_report_t);
    }

    node = ngx_slab_calloc_locked(rmmcf->shpool, size);
    if (node == NULL) {
        return NULL;
    }

    if (ngx_stream_redis_master_created(rmmcf, &node->queue) != NGX_OK) {
        ngx_slab_free_locked(rmmcf->shpool, node);
        return NULL;
    }

    node->key.data = (u_char *) node + sizeof(ngx_stream_redis_master_node_t);
    node->key.len = key->len;
    ngx_memcpy(node->key.data, key->data, key->len);

    if (seats) {
        name = ngx_stream_redis_master_record_of(node);
        name->nseats = seats;
    }

    /* free from now on: the first worker takes it at once, others later */
    node->owner_seen = ngx_current_msec;
    node->used = (uint32_t) rmmcf->conf;

    ngx_queue_insert_tail(&rmmcf->sh->nodes, &node->queue);

    return node;
}


/*
 * A name's record, or a Sentinel's report, in the zone: after its node's
 * key (whose length, with the name's bound, is the same for every
 * configuration that finds it).
 */

static void *
ngx_stream_redis_master_record_of(ngx_stream_redis_master_node_t *node)
{
    return ngx_align_ptr(node->key.data + node->key.len, sizeof(uintptr_t));
}


/* the seat of a server a name brought, as its name's owner placed it */

void
ngx_stream_redis_master_read_seat(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_seat_t *seat)
{
    ngx_slab_pool_t  *shpool;

    shpool = t->shpool;

    ngx_shmtx_lock(&shpool->mutex);
    *seat = t->of->zname->seats[t->seat];
    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * What the zone keeps of name "t" (kind NAME), copied under the lock for
 * the status page: its node (the last error as "reason", the owner) and
 * its record, seats included ("name" has room for t->seats.nelts seats).
 */

void
ngx_stream_redis_master_read_name(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_node_t *node,
    ngx_stream_redis_master_name_t *name)
{
    ngx_slab_pool_t  *shpool;

    shpool = t->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    *node = *t->node;
    ngx_memcpy(name, t->zname,
               offsetof(ngx_stream_redis_master_name_t, seats)
               + t->zname->nseats * sizeof(ngx_stream_redis_master_seat_t));

    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * The server of one of name "t"'s upstreams that has this address
 * already, if any: one listed by address, or a seat of this name or
 * another.  Two entries at one address would claim master twice, a tie
 * that refuses every write; nginx -t refuses a server listed twice, and
 * this keeps a name from repeating one.  The caller holds the lock.
 */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_taken(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_inet_t *addr, socklen_t socklen)
{
    size_t                                len;
    u_char                                text[NGX_SOCKADDR_STRLEN];
    ngx_uint_t                            i, j;
    ngx_stream_redis_master_seat_t       *seat;
    ngx_stream_redis_master_target_t    **tp, *s;
    ngx_stream_redis_master_srv_conf_t  **pools;

    len = ngx_sock_ntop(&addr->sockaddr, socklen, text, NGX_SOCKADDR_STRLEN,
                        1);

    pools = t->pools.elts;

    for (i = 0; i < t->pools.nelts; i++) {
        tp = pools[i]->targets.elts;

        for (j = 0; j < pools[i]->targets.nelts; j++) {
            s = tp[j];

            if (s->of == NULL) {
                if (s->name.len == len
                    && ngx_strncmp(s->name.data, text, len) == 0)
                {
                    return s;
                }

                continue;
            }

            if (s->of->zname == NULL) {
                continue;
            }

            seat = &s->of->zname->seats[s->seat];

            if (seat->socklen
                && ngx_cmp_sockaddr(&seat->addr.sockaddr, seat->socklen,
                                    &addr->sockaddr, socklen, 1)
                   == NGX_OK)
            {
                return s;
            }
        }
    }

    return NULL;
}


/*
 * Records a resolution of name "t", by its owner: with an answer
 * ("state" 0, or NXDOMAIN: a name without an address), the addresses
 * that stay keep their seats, those gone leave theirs, new ones take the
 * free seats in the answer's order, and the rest are cut; a failure
 * (timed out, a server failure) keeps every seat and records "error".
 * The seats before and after are handed back, and for each address of
 * the answer that another server of the name's upstreams has already,
 * that server ("twins"); returns how many of the answer's addresses the
 * bound left out.  A seat that changes raises the role
 * version of its server's upstreams, under the same lock, so that a
 * decision adopted at the version it had saw these seats.  With a
 * "grace" (discover=), an address the answer no longer has keeps its
 * seat until no answer has had it for that long.
 */

ngx_uint_t
ngx_stream_redis_master_place(ngx_stream_redis_master_target_t *t,
    ngx_int_t state, u_char *error, size_t len,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs, ngx_stream_redis_master_target_t **twins,
    ngx_msec_t grace,
    ngx_stream_redis_master_seat_t *before,
    ngx_stream_redis_master_seat_t *after)
{
    ngx_uint_t                           i, k, cut, seated;
    ngx_slab_pool_t                     *shpool;
    ngx_stream_redis_master_name_t      *name;
    ngx_stream_redis_master_node_t      *node;
    ngx_stream_redis_master_seat_t      *seat;
    ngx_stream_redis_master_target_t   **seats;
    ngx_stream_redis_master_srv_conf_t **pools;

    u_char  placed[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];

    shpool = t->shpool;
    node = t->node;
    name = t->zname;
    seats = t->seats.elts;
    cut = 0;

    naddrs = ngx_min(naddrs, NGX_STREAM_REDIS_MASTER_MAX_ANSWER);
    ngx_memzero(placed, naddrs);
    ngx_memzero(twins, naddrs * sizeof(ngx_stream_redis_master_target_t *));

    ngx_shmtx_lock(&shpool->mutex);

    ngx_memcpy(before, name->seats,
               name->nseats * sizeof(ngx_stream_redis_master_seat_t));

    name->resolutions++;
    node->checked = ngx_current_msec;
    node->owner_seen = ngx_current_msec;
    node->probes++;

    if (state && state != NGX_RESOLVE_NXDOMAIN) {
        name->failures++;
        name->failed = ngx_current_msec;
        node->failures++;
        node->reason_len = ngx_min(len,
                                  NGX_STREAM_REDIS_MASTER_KEPT_REASON_LEN);
        ngx_memcpy(node->reason, error, node->reason_len);
        goto done;
    }

    if (state) {
        node->reason_len = ngx_min(len,
                                  NGX_STREAM_REDIS_MASTER_KEPT_REASON_LEN);
        ngx_memcpy(node->reason, error, node->reason_len);
        naddrs = 0;

    } else {
        node->reason_len = 0;
    }

    name->resolved = ngx_current_msec;
    name->answered = (uint32_t) naddrs;
    node->successes++;
    node->failures = 0;

    /* the addresses that stay keep their seats */

    for (k = 0; k < name->nseats; k++) {
        seat = &name->seats[k];

        if (seat->socklen == 0) {
            continue;
        }

        for (i = 0; i < naddrs; i++) {
            if (!placed[i]
                && ngx_cmp_sockaddr(&addrs[i].sockaddr, socklens[i],
                                    &seat->addr.sockaddr, seat->socklen, 1)
                   == NGX_OK)
            {
                placed[i] = 1;
                seat->seen = ngx_current_msec;
                break;
            }
        }

        if (i == naddrs
            && (ngx_msec_int_t) (ngx_current_msec - seat->seen)
               >= (ngx_msec_int_t) grace)
        {
            seat->socklen = 0;
            seat->epoch++;
            seat->since = ngx_current_msec;
        }
    }

    /* new addresses take the free seats, in the answer's order */

    k = 0;

    for (i = 0; i < naddrs; i++) {
        if (placed[i]) {
            continue;
        }

        /* an address is one server, however many entries reach it */

        twins[i] = ngx_stream_redis_master_taken(t, &addrs[i], socklens[i]);

        if (twins[i]) {
            continue;
        }

        while (k < name->nseats && name->seats[k].socklen) {
            k++;
        }

        if (k == name->nseats) {
            cut++;
            continue;
        }

        seat = &name->seats[k];
        ngx_memcpy(&seat->addr, &addrs[i], socklens[i]);
        seat->socklen = socklens[i];
        seat->epoch++;
        seat->since = ngx_current_msec;
        seat->seen = ngx_current_msec;
    }

    name->cut = (uint32_t) cut;

done:

    seated = 0;

    for (k = 0; k < name->nseats; k++) {
        seated += (name->seats[k].socklen != 0);

        if (name->seats[k].epoch != before[k].epoch) {
            pools = seats[k]->pools.elts;

            for (i = 0; i < seats[k]->pools.nelts; i++) {
                ngx_stream_redis_master_raise(pools[i], 1, 1);
            }
        }
    }

    node->up = (seated != 0);

    ngx_memcpy(after, name->seats,
               name->nseats * sizeof(ngx_stream_redis_master_seat_t));

    ngx_shmtx_unlock(&shpool->mutex);

    return cut;
}


/*
 * Stores what Sentinel "t" (discover=) reported of its master's servers,
 * by its prober, after a probe that read them; returns whether they
 * differ from the last report's.
 */

ngx_uint_t
ngx_stream_redis_master_report(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_report_t *report)
{
    size_t                             size;
    ngx_uint_t                         changed;
    ngx_slab_pool_t                   *shpool;
    ngx_stream_redis_master_report_t  *zr;

    shpool = t->shpool;
    zr = t->zreport;

    size = ngx_min(report->naddrs, NGX_STREAM_REDIS_MASTER_MAX_REPORT)
           * sizeof(ngx_stream_redis_master_reported_t);

    ngx_shmtx_lock(&shpool->mutex);

    changed = (zr->reported == 0 || zr->naddrs != report->naddrs
               || ngx_memcmp(zr->addrs, report->addrs, size) != 0);

    zr->reported = ngx_current_msec;
    zr->listed = report->listed;
    zr->skipped = report->skipped;
    zr->hostnames = report->hostnames;
    zr->naddrs = (uint32_t) (size / sizeof(ngx_stream_redis_master_reported_t));
    ngx_memcpy(zr->addrs, report->addrs, size);

    ngx_shmtx_unlock(&shpool->mutex);

    return changed;
}


/*
 * Sentinel "t"'s last report, copied under the lock: NGX_OK when it
 * counts (the Sentinel is up, and the report is as fresh as its node
 * must be to count), NGX_AGAIN when the Sentinel was never probed yet,
 * else NGX_DECLINED.
 */

ngx_int_t
ngx_stream_redis_master_read_report(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_report_t *report)
{
    ngx_int_t                          rc;
    ngx_slab_pool_t                   *shpool;
    ngx_stream_redis_master_report_t  *zr;

    shpool = t->shpool;
    zr = t->zreport;

    ngx_shmtx_lock(&shpool->mutex);

    ngx_memcpy(report, zr, offsetof(ngx_stream_redis_master_report_t, addrs)
                           + ngx_min(zr->naddrs,
                                     NGX_STREAM_REDIS_MASTER_MAX_REPORT)
                             * sizeof(ngx_stream_redis_master_reported_t));

    if (t->node->up && zr->reported
        && (ngx_msec_int_t) (ngx_current_msec - zr->reported)
           < (ngx_msec_int_t) t->node->fresh)
    {
        rc = NGX_OK;

    } else {
        rc = (t->node->probes == 0) ? NGX_AGAIN : NGX_DECLINED;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    report->naddrs = ngx_min(report->naddrs,
                             NGX_STREAM_REDIS_MASTER_MAX_REPORT);

    return rc;
}


static ngx_stream_redis_master_route_t *
ngx_stream_redis_master_route(ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_str_t *name, size_t words)
{
    size_t                            size;
    ngx_queue_t                      *q;
    ngx_stream_redis_master_route_t  *route;

    for (q = ngx_queue_head(&rmmcf->sh->routes);
         q != ngx_queue_sentinel(&rmmcf->sh->routes);
         q = ngx_queue_next(q))
    {
        route = ngx_queue_data(q, ngx_stream_redis_master_route_t, queue);

        if (route->name.len == name->len
            && ngx_memcmp(route->name.data, name->data, name->len) == 0)
        {
            /* the server list may have changed: announce afresh */
            route->announced = 0;
            route->used = rmmcf->conf;
            return route;
        }
    }

    /*
     * A new route carries its first published block, so that a failed
     * reload that frees the route frees the block too.
     */

    size = ngx_align(sizeof(ngx_stream_redis_master_route_t) + name->len,
                     sizeof(uintptr_t));

    route = ngx_slab_calloc_locked(rmmcf->shpool,
                                   size
                                   + sizeof(ngx_stream_redis_master_published_t)
                                   + (words - 1) * sizeof(uintptr_t));
    if (route == NULL) {
        return NULL;
    }

    route->published = (ngx_stream_redis_master_published_t *)
                           ((u_char *) route + size);
    route->published->words = words;

    if (ngx_stream_redis_master_created(rmmcf, &route->queue) != NGX_OK) {
        ngx_slab_free_locked(rmmcf->shpool, route);
        return NULL;
    }

    route->name.data = (u_char *) route
                       + sizeof(ngx_stream_redis_master_route_t);
    route->name.len = name->len;
    ngx_memcpy(route->name.data, name->data, name->len);
    route->used = rmmcf->conf;

    ngx_queue_insert_tail(&rmmcf->sh->routes, &route->queue);

    return route;
}


/*
 * Gives a route that this configuration took over a block for its
 * published decision with room for this configuration's server map.  A
 * block that is large enough is kept; a larger one replaces it, under the
 * lock that every reader and writer of the block holds, and keeps its
 * size should the reload fail: the block never shrinks, so a worker of
 * any configuration still running fits in it.
 */

static ngx_int_t
ngx_stream_redis_master_make_room(ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    size_t                                words;
    ngx_stream_redis_master_route_t      *route;
    ngx_stream_redis_master_published_t  *pub;

    route = rmcf->route;
    words = ngx_stream_redis_master_map_size(rmcf->targets.nelts);

    if (route->published->words >= words) {
        return NGX_OK;
    }

    words = ngx_max(words, 2 * route->published->words);

    pub = ngx_slab_calloc_locked(rmmcf->shpool,
                                 sizeof(ngx_stream_redis_master_published_t)
                                 + (words - 1) * sizeof(uintptr_t));
    if (pub == NULL) {
        return NGX_ERROR;
    }

    pub->words = words;

    if (!ngx_stream_redis_master_embedded(route)) {
        ngx_slab_free_locked(rmmcf->shpool, route->published);
    }

    route->published = pub;

    return NGX_OK;
}


/* whether a route's published block is its first, in the route's chunk */

static ngx_uint_t
ngx_stream_redis_master_embedded(ngx_stream_redis_master_route_t *route)
{
    return (u_char *) route->published
           == ngx_align_ptr((u_char *) route
                            + sizeof(ngx_stream_redis_master_route_t)
                            + route->name.len, sizeof(uintptr_t));
}


/*
 * The record of this configuration's workers, with a slot for each
 * (worker_processes): they fill it in as they start and exit, so that the
 * zone knows which generations still run (see reclaim()).
 */

static ngx_stream_redis_master_generation_t *
ngx_stream_redis_master_generation(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                             n;
    ngx_stream_redis_master_generation_t  *gen;

    n = 1;

    if (rmmcf->core && rmmcf->core->worker_processes > 1) {
        n = rmmcf->core->worker_processes;
    }

    gen = ngx_slab_calloc_locked(rmmcf->shpool,
                                 sizeof(ngx_stream_redis_master_generation_t)
                                 + (n - 1)
                                   * sizeof(ngx_stream_redis_master_worker_t));
    if (gen == NULL) {
        return NULL;
    }

    if (ngx_stream_redis_master_created(rmmcf, &gen->queue) != NGX_OK) {
        ngx_slab_free_locked(rmmcf->shpool, gen);
        return NULL;
    }

    gen->conf = rmmcf->conf;
    gen->created = ngx_time();
    gen->nworkers = n;

    ngx_queue_insert_tail(&rmmcf->sh->generations, &gen->queue);

    return gen;
}


/*
 * Remembers an entry this configuration added to a zone it took over from
 * the running one: should the reload fail after all, the entry is freed
 * (nginx frees a zone of its own whole).  The entry's queue link is first
 * in it.
 */

static ngx_int_t
ngx_stream_redis_master_created(ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_queue_t *q)
{
    ngx_queue_t  **entry;

    if (!rmmcf->reused) {
        return NGX_OK;
    }

    entry = ngx_array_push(&rmmcf->created);
    if (entry == NULL) {
        return NGX_ERROR;
    }

    *entry = q;

    return NGX_OK;
}


/* the pool cleanup of a configuration: runs when its cycle is destroyed */

void
ngx_stream_redis_master_forget_zone(void *data)
{
    ngx_stream_redis_master_main_conf_t  *rmmcf = data;

    ngx_uint_t     i;
    ngx_queue_t  **entry;

    if (rmmcf->committed || rmmcf->created.nelts == 0) {
        return;
    }

    entry = rmmcf->created.elts;

    ngx_shmtx_lock(&rmmcf->shpool->mutex);

    for (i = 0; i < rmmcf->created.nelts; i++) {
        ngx_queue_remove(entry[i]);
        ngx_slab_free_locked(rmmcf->shpool, entry[i]);
    }

    ngx_shmtx_unlock(&rmmcf->shpool->mutex);

    rmmcf->created.nelts = 0;
}


/* how full the zone is, at each start and reload */

static void
ngx_stream_redis_master_log_zone(ngx_shm_zone_t *shm_zone,
    ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t    nodes, routes;
    ngx_queue_t  *q;

    nodes = 0;
    routes = 0;

    ngx_shmtx_lock(&rmmcf->shpool->mutex);

    for (q = ngx_queue_head(&rmmcf->sh->nodes);
         q != ngx_queue_sentinel(&rmmcf->sh->nodes);
         q = ngx_queue_next(q))
    {
        nodes++;
    }

    for (q = ngx_queue_head(&rmmcf->sh->routes);
         q != ngx_queue_sentinel(&rmmcf->sh->routes);
         q = ngx_queue_next(q))
    {
        routes++;
    }

    ngx_shmtx_unlock(&rmmcf->shpool->mutex);

    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "redis_master zone \"%V\": %ui servers, %ui upstreams, "
                  "%ui free pages", &shm_zone->shm.name, nodes, routes,
                  rmmcf->shpool->pfree);
}


/*
 * Whether this worker may take a target over: one that another worker
 * owns and has left silent for "stale" milliseconds, or that a worker gone
 * owned; or a free one (at start, or handed over on exit), which the first
 * worker takes at once and the others only once it has stayed free for
 * half of "stale", so that one worker probes all while it runs.
 */

ngx_uint_t
ngx_stream_redis_master_claimable(ngx_stream_redis_master_target_t *t,
    ngx_msec_t stale)
{
    ngx_pid_t                        owner;
    ngx_msec_int_t                   quiet;
    ngx_stream_redis_master_node_t  *node;

    node = t->node;
    owner = node->owner;

    if (owner == ngx_pid) {
        return 0;
    }

    /* workers refresh their cached time independently: use signed */

    quiet = (ngx_msec_int_t) (ngx_current_msec - node->owner_seen);

    if (owner == 0) {
        return ngx_worker == 0 || quiet >= (ngx_msec_int_t) stale / 2;
    }

    return quiet >= (ngx_msec_int_t) stale
           || !ngx_stream_redis_master_alive(owner);
}


/*
 * Whether a worker still runs.  The probes of one slot ask it about the
 * same few owners: the answer is kept for as long as the cached time
 * stays, so that a worker makes a few kill() calls a slot, not one a
 * target.
 */

static ngx_uint_t
ngx_stream_redis_master_alive(ngx_pid_t pid)
{
    static ngx_pid_t   alive;
    static ngx_msec_t  asked;

    if (pid == alive && asked == ngx_current_msec) {
        return 1;
    }

    if (kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH) {
        return 0;
    }

    alive = pid;
    asked = ngx_current_msec;

    return 1;
}


/*
 * Decides whether this worker probes a target now.  One worker owns each
 * target; another takes over when the owner has shown no sign of life for
 * "stale" milliseconds, or at once when the owner process is gone.
 *
 * The owner asks this before each probe, the others when a target is
 * claimable: the common answers are read without the lock, and only a
 * takeover takes it.  The owner refreshes its mark without the lock too: a
 * takeover needs the owner to have been silent for "stale" milliseconds,
 * so a refresh that races with one costs one probe twice.
 */

ngx_uint_t
ngx_stream_redis_master_own(ngx_stream_redis_master_target_t *t,
    ngx_msec_t stale)
{
    ngx_pid_t                        previous;
    ngx_slab_pool_t                 *shpool;
    ngx_stream_redis_master_node_t  *node;

    node = t->node;
    previous = node->owner;

    if (previous == ngx_pid) {
        node->owner_seen = ngx_current_msec;
        return 1;
    }

    if (!ngx_stream_redis_master_claimable(t, stale)) {
        return 0;
    }

    shpool = t->shpool;

    ngx_shmtx_lock(&shpool->mutex);

    previous = node->owner;

    if (previous != ngx_pid && !ngx_stream_redis_master_claimable(t, stale)) {
        ngx_shmtx_unlock(&shpool->mutex);
        return 0;
    }

    node->owner = ngx_pid;
    node->owner_seen = ngx_current_msec;

    ngx_shmtx_unlock(&shpool->mutex);

    if (previous != ngx_pid && previous != 0) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "redis check: worker %P takes over probing server %V "
                      "in upstream %V from worker %P",
                      ngx_pid, &t->name, &t->upstreams, previous);
    }

    return 1;
}


/* on exit a worker hands its targets over at once, not after "stale" */

void
ngx_stream_redis_master_disown(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                            i;
    ngx_stream_redis_master_target_t    **tp;

    if (rmmcf == NULL || rmmcf->shpool == NULL) {
        return;
    }

    tp = rmmcf->targets.elts;

    ngx_shmtx_lock(&rmmcf->shpool->mutex);

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        if (tp[i]->node->owner == ngx_pid) {
            tp[i]->node->owner = 0;
            tp[i]->node->owner_seen = ngx_current_msec;
        }
    }

    ngx_shmtx_unlock(&rmmcf->shpool->mutex);
}


/*
 * The configuration is committed: nginx runs its workers from now on, and
 * respawns them should they die, so its generation always counts as
 * running.  Called by the master (init_module).
 */

void
ngx_stream_redis_master_commit(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    if (rmmcf == NULL || rmmcf->sh == NULL) {
        return;
    }

    ngx_shmtx_lock(&rmmcf->shpool->mutex);
    rmmcf->sh->current = rmmcf->conf;
    ngx_shmtx_unlock(&rmmcf->shpool->mutex);
}


/*
 * A worker says it runs, in its configuration's slot for it (a respawned
 * worker takes the slot of the one it replaces), and that it reads the
 * entries of its own generation only; at exit it says it is gone.
 */

void
ngx_stream_redis_master_register(ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_uint_t exiting)
{
    ngx_stream_redis_master_worker_t      *w;
    ngx_stream_redis_master_generation_t  *gen;

    if (ngx_process != NGX_PROCESS_WORKER
        || rmmcf == NULL
        || rmmcf->generation == NULL
        || (ngx_uint_t) ngx_worker >= rmmcf->generation->nworkers)
    {
        return;
    }

    gen = rmmcf->generation;
    w = &gen->workers[ngx_worker];

    ngx_shmtx_lock(&rmmcf->shpool->mutex);

    if (!exiting) {
        w->pid = ngx_pid;
        w->oldest = (uint32_t) gen->conf;

    } else if (w->pid == ngx_pid) {
        w->pid = NGX_INVALID_PID;
    }

    ngx_shmtx_unlock(&rmmcf->shpool->mutex);
}


/*
 * Gives back the zone's entries that no running worker may read: the
 * nodes of servers and Sentinels, and the routes of upstreams, that no
 * configuration with a worker still running has.  Each entry carries the
 * newest generation that has it (marked as the master sets the zone up);
 * each running worker, the oldest generation whose entries it may read
 * (its own: a worker of an older configuration, still serving sessions
 * after a reload, reads the nodes of its servers).  An entry older than
 * every running worker's oldest generation, the horizon, is freed.
 *
 * The first worker asks this at each watch: the horizon moves only when
 * the last worker of a generation exits or dies (kill(pid, 0), as for the
 * owners of targets), so it costs a few kill() calls until then, and a
 * pass over the entries after.  Not in a single process, which keeps
 * every configuration it ever loaded.
 */

void
ngx_stream_redis_master_reclaim(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                            horizon, nodes, routes;
    ngx_queue_t                          *q, *next;
    ngx_slab_pool_t                      *shpool;
    ngx_stream_redis_master_node_t       *node;
    ngx_stream_redis_master_route_t      *route;


    if (ngx_process != NGX_PROCESS_WORKER
        || rmmcf == NULL
        || rmmcf->sh == NULL)
    {
        return;
    }

    /* read without the lock: nothing older than nginx's configuration */

    if (rmmcf->sh->horizon == rmmcf->sh->current) {
        return;
    }

    shpool = rmmcf->shpool;
    nodes = 0;
    routes = 0;

    ngx_shmtx_lock(&shpool->mutex);

    horizon = ngx_stream_redis_master_horizon(rmmcf);

    if (!ngx_stream_redis_master_older(rmmcf->sh->horizon, horizon)) {
        ngx_shmtx_unlock(&shpool->mutex);
        return;
    }

    /* routes first: those that stay forget the nodes that go */

    for (q = ngx_queue_head(&rmmcf->sh->routes);
         q != ngx_queue_sentinel(&rmmcf->sh->routes);
         q = next)
    {
        next = ngx_queue_next(q);
        route = ngx_queue_data(q, ngx_stream_redis_master_route_t, queue);

        if (ngx_stream_redis_master_older(route->used, horizon)) {
            if (!ngx_stream_redis_master_embedded(route)) {
                ngx_slab_free_locked(shpool, route->published);
            }

            ngx_queue_remove(q);
            ngx_slab_free_locked(shpool, route);
            routes++;
            continue;
        }

        if (route->master
            && ngx_stream_redis_master_older(route->master->used, horizon))
        {
            route->master = NULL;
        }

        if (route->previous
            && ngx_stream_redis_master_older(route->previous->used, horizon))
        {
            route->previous = NULL;
        }

        if (route->history_node
            && ngx_stream_redis_master_older(route->history_node->used,
                                             horizon))
        {
            route->history_node = NULL;
            route->nhistory = 0;
        }
    }

    for (q = ngx_queue_head(&rmmcf->sh->nodes);
         q != ngx_queue_sentinel(&rmmcf->sh->nodes);
         q = next)
    {
        next = ngx_queue_next(q);
        node = ngx_queue_data(q, ngx_stream_redis_master_node_t, queue);

        if (ngx_stream_redis_master_older(node->used, horizon)) {
            ngx_queue_remove(q);
            ngx_slab_free_locked(shpool, node);
            nodes++;
        }
    }

    rmmcf->sh->horizon = horizon;

    ngx_shmtx_unlock(&shpool->mutex);

    if (nodes || routes) {
        ngx_log_debug2(NGX_LOG_DEBUG_STREAM, ngx_cycle->log, 0,
                       "redis_master zone: %ui servers and %ui upstreams "
                       "given back", nodes, routes);

        ngx_stream_redis_master_log_zone(rmmcf->shm_zone, rmmcf);
    }
}


/*
 * The oldest generation a running worker may read; the records of
 * generations whose workers have all exited or died go meanwhile.  The
 * generation nginx runs counts as running, and so does a newer one that
 * the master is setting up.  A worker forked for an older one that has
 * yet to say it started counts as running for
 * NGX_STREAM_REDIS_MASTER_STARTING, and its record stays.
 * Called with the zone locked.
 */

static ngx_uint_t
ngx_stream_redis_master_horizon(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    ngx_uint_t                             i, horizon, running, starting;
    ngx_queue_t                           *q, *next;
    ngx_stream_redis_master_worker_t      *w;
    ngx_stream_redis_master_generation_t  *gen;

    horizon = rmmcf->sh->current;

    for (q = ngx_queue_head(&rmmcf->sh->generations);
         q != ngx_queue_sentinel(&rmmcf->sh->generations);
         q = next)
    {
        next = ngx_queue_next(q);
        gen = ngx_queue_data(q, ngx_stream_redis_master_generation_t, queue);

        running = !ngx_stream_redis_master_older(gen->conf,
                                                 rmmcf->sh->current);
        starting = 0;

        if (running && ngx_stream_redis_master_older(gen->conf, horizon)) {
            horizon = gen->conf;
        }

        for (i = 0; i < gen->nworkers; i++) {
            w = &gen->workers[i];

            if (w->pid == 0) {
                starting = 1;

                if (ngx_time() - gen->created
                    < NGX_STREAM_REDIS_MASTER_STARTING)
                {
                    running = 1;

                    if (ngx_stream_redis_master_older(gen->conf, horizon)) {
                        horizon = gen->conf;
                    }
                }

                continue;
            }

            if (w->pid == NGX_INVALID_PID
                || !ngx_stream_redis_master_alive(w->pid))
            {
                continue;
            }

            running = 1;

            if (ngx_stream_redis_master_older(w->oldest, horizon)) {
                horizon = w->oldest;
            }
        }

        if (!running && !starting) {
            ngx_queue_remove(q);
            ngx_slab_free_locked(rmmcf->shpool, gen);
        }
    }

    return horizon;
}


/* whether generation "used" is older than "horizon", in 32 bits as nodes */

static ngx_uint_t
ngx_stream_redis_master_older(ngx_uint_t used, ngx_uint_t horizon)
{
    return (int32_t) ((uint32_t) used - (uint32_t) horizon) < 0;
}


/*
 * Stores the outcome of one probe: "info" on success, else the failure
 * "reason" ("stalled" when it timed out on a connection the server
 * accepted, or the server answered that it cannot serve now: -BUSY,
 * -MISCONF), and the kick counter as it was when the probe started.  rise
 * and fall decide up and down; a role is taken at once, since a demoted
 * master must stop taking writes without delay.  A server that is down
 * only because it stalls keeps its role: a slow command, a fork or a long
 * script must cost clients latency, not their sessions.
 *
 * The node as it was and as it is now are copied into "before" and
 * "after", for the decision module to ask whether the probe changed what
 * a decision reads (ngx_stream_redis_master_noted()).
 */

void
ngx_stream_redis_master_record(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_info_t *info, ngx_uint_t kick, u_char *reason,
    size_t len, ngx_uint_t stalled, ngx_msec_t latency, uint32_t epoch,
    ngx_log_t *log, ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after)
{
    ngx_uint_t                       old_role, up, down, role, named;
    ngx_uint_t                       quiet, lost, stall;
    ngx_slab_pool_t                 *shpool;
    ngx_stream_redis_master_node_t  *node;

    shpool = t->shpool;
    node = t->node;
    up = 0;
    down = 0;
    role = 0;
    named = 0;
    quiet = 0;
    lost = 0;
    stall = 0;

    ngx_shmtx_lock(&shpool->mutex);

    *before = *node;

    /*
     * A seat's server probed at another address than its node's last
     * probe is another server: nothing judged at the old address counts,
     * its rise and fall start again.
     */

    if (node->epoch != epoch) {
        node->epoch = epoch;
        node->up = 0;
        node->stalled = 0;
        node->probes = 0;
        node->successes = 0;
        node->failures = 0;
        node->hard_failures = 0;
        node->role_changed = 0;
        node->failure_logged = 0;
        node->reason_len = 0;
        ngx_memzero(&node->info, sizeof(ngx_stream_redis_master_info_t));
    }

    node->checked = ngx_current_msec;
    node->owner_seen = ngx_current_msec;
    node->probes++;
    node->kick_probed = kick;
    node->latency = ngx_min(latency, NGX_STREAM_REDIS_MASTER_MAX_LATENCY);
    old_role = node->info.role;

    /* what nobody refreshes for this long stops counting */
    node->fresh = NGX_STREAM_REDIS_MASTER_FRESH_PERIODS
                  * (t->check->interval + t->check->timeout);

    if (info) {
        named = (info->role == NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL
                 && (node->info.master_port != info->master_port
                     || node->info.master_down != info->master_down
                     || ngx_strcmp(node->info.master_host, info->master_host)
                        != 0));

        node->failures = 0;
        node->hard_failures = 0;
        node->stalled = 0;
        node->successes++;
        node->info = *info;

        if (old_role != NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN
            && old_role != info->role)
        {
            node->role_changed = (uint32_t) ngx_time();
        }

        node->reason_len = 0;

        if (!node->up && node->successes >= t->check->rise) {
            node->up = 1;
            up = 1;

        } else if (node->up && old_role != info->role) {
            role = 1;
        }

    } else {
        quiet = ngx_stream_redis_master_repeated(t, reason, len);

        if (!quiet) {
            node->failure_logged = ngx_current_msec;
        }

        node->successes = 0;
        node->failures++;
        node->hard_failures += !stalled;
        node->reason_len = ngx_min(len,
                                  NGX_STREAM_REDIS_MASTER_KEPT_REASON_LEN);
        ngx_memcpy(node->reason, reason, node->reason_len);

        if (node->up && node->failures >= t->check->fall) {
            node->up = 0;
            node->stalled = (node->hard_failures < t->check->fall);
            down = !node->stalled;
            stall = node->stalled;

        } else if (node->stalled && node->hard_failures >= t->check->fall) {
            node->stalled = 0;
            lost = 1;
        }
    }

    /* what the decision layer asks policy about (did this matter?) */

    *after = *node;

    ngx_shmtx_unlock(&shpool->mutex);

    if (info == NULL && !quiet) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "redis check: server %V in upstream %V probe failed: "
                      "%*s", &t->name, &t->upstreams, len, reason);

    } else if (info == NULL) {
        ngx_log_debug3(NGX_LOG_DEBUG_STREAM, log, 0,
                       "redis check: server %V probe failed again: %*s",
                       &t->name, len, reason);
    }

    if (up) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis check: server %V in upstream %V is up, role %s",
                      &t->name, &t->upstreams,
                      ngx_stream_redis_master_role_name(info->role));
    }

    if (role) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis check: server %V in upstream %V changed role "
                      "from %s to %s", &t->name, &t->upstreams,
                      ngx_stream_redis_master_role_name(old_role),
                      ngx_stream_redis_master_role_name(info->role));
    }

    if (down) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis check: server %V in upstream %V is down: %*s",
                      &t->name, &t->upstreams, len, reason);
    }

    if (stall) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis check: server %V in upstream %V stalls: %*s; "
                      "it accepts connections, so it keeps its role and "
                      "sessions until it fails otherwise or another server "
                      "takes over", &t->name, &t->upstreams, len, reason);
    }

    if (lost) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis check: server %V in upstream %V is down after "
                      "stalling: %*s", &t->name, &t->upstreams, len, reason);
    }

    if (named && info->master_port == 0) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis sentinel: %V in upstream %V names no master "
                      "\"%V\"", &t->name, &t->upstreams, &t->master_name);

    } else if (named) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "redis sentinel: %V in upstream %V names %s port %d as "
                      "master \"%V\"%s", &t->name, &t->upstreams,
                      info->master_host, (int) info->master_port,
                      &t->master_name,
                      info->master_down ? " and sees it down" : "");
    }
}


/*
 * Whether a failure only repeats the previous probe's, and was logged less
 * than an interval ago (a tenth early: probes come up to a twentieth
 * early): a dead server probed every interval/10 while there is no master
 * must not flood the log.
 * Called with the zone locked.
 */

static ngx_uint_t
ngx_stream_redis_master_repeated(ngx_stream_redis_master_target_t *t,
    u_char *reason, size_t len)
{
    ngx_msec_t                       interval;
    ngx_stream_redis_master_node_t  *node;

    node = t->node;
    interval = t->check->interval;
    len = ngx_min(len, NGX_STREAM_REDIS_MASTER_KEPT_REASON_LEN);

    return node->failures > 0
           && node->reason_len == len
           && ngx_memcmp(node->reason, reason, len) == 0
           && (ngx_msec_int_t) (ngx_current_msec - node->failure_logged)
              < (ngx_msec_int_t) NGX_STREAM_REDIS_MASTER_ONCE(interval);
}


/*
 * Asks the owners of these targets to check them now; returns the kick
 * counter of the last one.  The owners notice it at their next sweep; in
 * this worker, at once: kick() posts the event that the checker registered
 * (rmmcf->kicked), which runs after the event at hand.
 */

ngx_uint_t
ngx_stream_redis_master_kick(ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_target_t **tp, ngx_uint_t n)
{
    ngx_uint_t  i, kick;

    kick = 0;

    ngx_shmtx_lock(&rmmcf->shpool->mutex);

    for (i = 0; i < n; i++) {
        kick = ++tp[i]->node->kick;
    }

    rmmcf->sh->kicks++;

    ngx_shmtx_unlock(&rmmcf->shpool->mutex);

    if (rmmcf->kicked.handler) {
        ngx_post_event(&rmmcf->kicked, &ngx_posted_events);
    }

    return kick;
}


/*
 * How many kicks were asked for, all targets together: read without the
 * lock, once a sweep, so that a worker looks for kicks only after one.
 */

ngx_uint_t
ngx_stream_redis_master_kicks(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    return rmmcf->sh->kicks;
}
