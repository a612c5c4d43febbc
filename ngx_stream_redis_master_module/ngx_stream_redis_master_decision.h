
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 4, decision: a worker's decision of each upstream, made once
 * for all workers from a view of the zone and published, or adopted.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_DECISION_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_DECISION_H_INCLUDED_


#include "ngx_stream_redis_master_state.h"
#include "ngx_stream_redis_master_policy.h"


ngx_int_t ngx_stream_redis_master_init_decision(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf);
ngx_uint_t ngx_stream_redis_master_current(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t *master);
ngx_uint_t ngx_stream_redis_master_refresh(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_log_t *log);
ngx_uint_t ngx_stream_redis_master_may_use(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_cached_master(
    ngx_stream_redis_master_srv_conf_t *rmcf);
const uintptr_t *ngx_stream_redis_master_eligible(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t *refreshes);
ngx_stream_redis_master_node_t *ngx_stream_redis_master_node_of(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
ngx_stream_redis_master_seat_t *ngx_stream_redis_master_seat_in_view(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
void ngx_stream_redis_master_noted(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after);
ngx_int_t ngx_stream_redis_master_take_view(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_route_t *route);
void ngx_stream_redis_master_judge(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d, uintptr_t *map);


#endif /* _NGX_STREAM_REDIS_MASTER_DECISION_H_INCLUDED_ */
