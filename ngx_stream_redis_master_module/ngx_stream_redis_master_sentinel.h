
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 5, mechanisms: the subscription to a Sentinel's failover events.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_SENTINEL_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_SENTINEL_H_INCLUDED_


#include "ngx_stream_redis_master_wire.h"
#include "ngx_stream_redis_master_state.h"


void ngx_stream_redis_master_subscribe(ngx_stream_redis_master_target_t *t);
void ngx_stream_redis_master_unsubscribe(
    ngx_stream_redis_master_target_t *t);


#endif /* _NGX_STREAM_REDIS_MASTER_SENTINEL_H_INCLUDED_ */
