
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 5, mechanisms: an upstream's server by index, and the accounting
 * of a connection given to it.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_PEER_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_PEER_H_INCLUDED_


#include "ngx_stream_redis_master_types.h"


ngx_stream_upstream_rr_peer_t *ngx_stream_redis_master_peer(
    ngx_stream_upstream_rr_peers_t *peers, ngx_uint_t index,
    ngx_stream_upstream_rr_peers_t **owner);
ngx_int_t ngx_stream_redis_master_init_peer_refs(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf);
ngx_int_t ngx_stream_redis_master_use_peer(ngx_peer_connection_t *pc,
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t index);
void ngx_stream_redis_master_post_tracked(
    ngx_stream_redis_master_main_conf_t *rmmcf);


#endif /* _NGX_STREAM_REDIS_MASTER_PEER_H_INCLUDED_ */
