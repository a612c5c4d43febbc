
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Peers: a server of an upstream by its flat index (primary servers, then
 * backup ones), and the round-robin accounting of a connection given to
 * it, shared by the balancer and by the hold of wait=.
 */


#include "ngx_stream_redis_master_decision.h"
#include "ngx_stream_redis_master_peer.h"


static ngx_stream_upstream_rr_peer_t *ngx_stream_redis_master_peer_ref(
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t index,
    ngx_stream_upstream_rr_peers_t **owner);


/*
 * Builds the upstream's index -> peer table, once per worker (the peers
 * are in the upstream's zone by then, if it has one), so that a
 * connection finds its server in O(1) rather than along the list.
 */

ngx_int_t
ngx_stream_redis_master_init_peer_refs(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_uint_t                           n;
    ngx_stream_upstream_rr_peer_t       *peer;
    ngx_stream_upstream_rr_peers_t      *peers;
    ngx_stream_redis_master_peer_ref_t  *ref;

    n = 0;

    for (peers = rmcf->upstream->peer.data; peers; peers = peers->next) {
        n += peers->number;
    }

    ref = ngx_palloc(pool, n * sizeof(ngx_stream_redis_master_peer_ref_t));
    if (ref == NULL) {
        return NGX_ERROR;
    }

    rmcf->peer_refs = ref;
    rmcf->npeer_refs = n;

    for (peers = rmcf->upstream->peer.data; peers; peers = peers->next) {
        for (peer = peers->peer; peer; peer = peer->next) {
            ref->peer = peer;
            ref->peers = peers;
            ref++;
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_stream_redis_master_use_peer(ngx_peer_connection_t *pc,
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t index)
{
    ngx_stream_upstream_rr_peer_t   *peer;
    ngx_stream_upstream_rr_peers_t  *peers;
    ngx_stream_redis_master_seat_t  *seat;

    /*
     * A server a redis_server name brought is at its seat's address, as
     * the worker's decision has it (read without a lock); nginx's peer
     * has a placeholder.
     */

    seat = ngx_stream_redis_master_seat_in_view(pd->conf, index);

    if (seat && seat->socklen == 0) {
        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "a server of upstream %V has no address now",
                      pd->conf->name);
        return NGX_BUSY;
    }

    /*
     * A backup server's counters are guarded by the backup list's lock, as
     * in ngx_stream_redis_master_free_peer() and nginx's own balancers.
     */

    peer = ngx_stream_redis_master_peer_ref(pd, index, &peers);

    ngx_stream_upstream_rr_peers_wlock(peers);

    if (peer->max_conns && peer->conns >= peer->max_conns) {
        ngx_stream_upstream_rr_peers_unlock(peers);

        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "server %V in upstream %V is at max_conns",
                      &peer->name, pd->conf->name);
        return NGX_BUSY;
    }

    peer->conns++;

    pc->sockaddr = peer->sockaddr;
    pc->socklen = peer->socklen;
    pc->name = &peer->name;

    ngx_stream_upstream_rr_peers_unlock(peers);

    pd->seated = (seat != NULL);

    if (seat) {
        ngx_memcpy(&pd->sockaddr, &seat->addr, seat->socklen);
        pd->epoch = seat->epoch;
        pd->name.data = pd->text;
        pd->name.len = ngx_sock_ntop(&pd->sockaddr.sockaddr, seat->socklen,
                                     pd->text, NGX_SOCKADDR_STRLEN, 1);

        pc->sockaddr = &pd->sockaddr.sockaddr;
        pc->socklen = seat->socklen;
        pc->name = &pd->name;
    }

    /* round robin's notify and SSL session hooks read "current" */
    pd->rrp.current = peer;

    pd->peers = peers;
    pd->peer = peer;
    pd->index = index;

    /* the balancer sends a session to the master or to a replica */
    pd->role = (index == ngx_stream_redis_master_cached_master(pd->conf))
               ? NGX_STREAM_REDIS_MASTER_ROLE_MASTER
               : NGX_STREAM_REDIS_MASTER_ROLE_REPLICA;

    ngx_stream_redis_master_set_bit(pd->tried, index);

    if (!pd->linked) {
        ngx_queue_insert_tail(&pd->conf->sessions, &pd->queue);
        pd->linked = 1;

        ngx_stream_redis_master_post_tracked(pd->conf->main);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_STREAM, pc->log, 0,
                   "redis balancer: upstream %V peer %V",
                   pd->conf->name, pc->name);

    return NGX_OK;
}


/* the server at a flat index: primary servers first, then backup */

ngx_stream_upstream_rr_peer_t *
ngx_stream_redis_master_peer(ngx_stream_upstream_rr_peers_t *peers,
    ngx_uint_t index, ngx_stream_upstream_rr_peers_t **owner)
{
    ngx_stream_upstream_rr_peer_t  *peer;

    if (index >= peers->number) {
        index -= peers->number;
        peers = peers->next;
    }

    *owner = peers;

    for (peer = peers->peer; index; index--) {
        peer = peer->next;
    }

    return peer;
}


/* a session's server by index: from the table, or along the list */

static ngx_stream_upstream_rr_peer_t *
ngx_stream_redis_master_peer_ref(ngx_stream_redis_master_peer_data_t *pd,
    ngx_uint_t index, ngx_stream_upstream_rr_peers_t **owner)
{
    ngx_stream_redis_master_srv_conf_t  *rmcf;

    rmcf = pd->conf;

    if (index < rmcf->npeer_refs
        && rmcf->peer_refs[0].peers == pd->rrp.peers)
    {
        *owner = rmcf->peer_refs[index].peers;
        return rmcf->peer_refs[index].peer;
    }

    return ngx_stream_redis_master_peer(pd->rrp.peers, index, owner);
}


/*
 * A session or a held connection began in this worker: posts the event
 * that the sweep registered (rmmcf->tracked), as a change of master must
 * reach the connection within one sweep.
 */

void
ngx_stream_redis_master_post_tracked(
    ngx_stream_redis_master_main_conf_t *rmmcf)
{
    if (rmmcf->tracked.handler) {
        ngx_post_event(&rmmcf->tracked, &ngx_posted_events);
    }
}
