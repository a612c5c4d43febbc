
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 3, policy: the master of an upstream and its qualified replicas,
 * as pure functions of a snapshot.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_POLICY_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_POLICY_H_INCLUDED_


#include "ngx_stream_redis_master_types.h"


void ngx_stream_redis_master_decide(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d);
void ngx_stream_redis_master_eligible(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t master, uintptr_t *map);
ngx_uint_t ngx_stream_redis_master_claims(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_replicated(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_suspect(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t master);
ngx_uint_t ngx_stream_redis_master_superseded(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_quorum(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
ngx_msec_int_t ngx_stream_redis_master_lag(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i,
    ngx_uint_t master);


#endif /* _NGX_STREAM_REDIS_MASTER_POLICY_H_INCLUDED_ */
