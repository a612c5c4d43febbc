
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 5, mechanisms: the hold of new connections while there is no
 * master (redis_master wait=).
 */


#ifndef _NGX_STREAM_REDIS_MASTER_HOLD_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_HOLD_H_INCLUDED_


#include "ngx_stream_redis_master_peer.h"


ngx_int_t ngx_stream_redis_master_hold(ngx_peer_connection_t *pc,
    void *data);
void ngx_stream_redis_master_release(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t master, ngx_log_t *log);
void ngx_stream_redis_master_unhold(void *data);


#endif /* _NGX_STREAM_REDIS_MASTER_HOLD_H_INCLUDED_ */
