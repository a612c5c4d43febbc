
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 6, entry points: the checker, which probes its targets on timers.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_CHECK_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_CHECK_H_INCLUDED_


#include "ngx_stream_redis_master_wire.h"
#include "ngx_stream_redis_master_state.h"
#include "ngx_stream_redis_master_sentinel.h"


ngx_int_t ngx_stream_redis_master_init_checkers(ngx_cycle_t *cycle,
    ngx_stream_redis_master_main_conf_t *rmmcf);
void ngx_stream_redis_master_run_kicks(
    ngx_stream_redis_master_main_conf_t *rmmcf);
ngx_uint_t ngx_stream_redis_master_watch(
    ngx_stream_redis_master_main_conf_t *rmmcf);
ngx_msec_t ngx_stream_redis_master_slot(ngx_msec_t delay,
    ngx_msec_t interval);
void ngx_stream_redis_master_close_checkers(
    ngx_stream_redis_master_main_conf_t *rmmcf);


#endif /* _NGX_STREAM_REDIS_MASTER_CHECK_H_INCLUDED_ */
