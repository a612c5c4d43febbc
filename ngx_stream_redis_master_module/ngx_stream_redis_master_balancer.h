
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 6, entry points: the balancer, for each proxied connection, and
 * the closing of sessions that lost their place.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_BALANCER_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_BALANCER_H_INCLUDED_


#include "ngx_stream_redis_master_decision.h"
#include "ngx_stream_redis_master_hold.h"


ngx_int_t ngx_stream_redis_master_init_peer(ngx_stream_session_t *s,
    ngx_stream_upstream_srv_conf_t *us);
ngx_int_t ngx_stream_redis_master_init_balancer(ngx_cycle_t *cycle,
    ngx_stream_redis_master_main_conf_t *rmmcf);
void ngx_stream_redis_master_reroute(
    ngx_stream_redis_master_main_conf_t *rmmcf, ngx_log_t *log);
ngx_uint_t ngx_stream_redis_master_tracking(
    ngx_stream_redis_master_main_conf_t *rmmcf);
void ngx_stream_redis_master_recorded_probe(
    ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after);


#endif /* _NGX_STREAM_REDIS_MASTER_BALANCER_H_INCLUDED_ */
