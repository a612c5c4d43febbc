
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 1, wire: requests, the kept-open link to a target, the pace of the
 * probes over it, and what a parsed reply means.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_WIRE_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_WIRE_H_INCLUDED_


#include "ngx_stream_redis_master_types.h"


/*
 * What ngx_stream_redis_master_reply_pong() returns for a server that
 * answers but cannot serve (-BUSY, -MISCONF): a stall.  It is no nginx
 * code, so that it is never taken upstream for NGX_BUSY, which refuses a
 * connection there.
 */
#define NGX_STREAM_REDIS_MASTER_STALL             1


/*
 * What one read from a link takes: the reader keeps what a reply spans
 * across reads, so this bounds only a read, not a reply (a page, as
 * nginx's own reads of a peer take).
 */
#define NGX_STREAM_REDIS_MASTER_READ              4096


/*
 * The pace of the probes over a link, as fractions of redis_check's
 * interval.  A probe comes up to interval / JITTER early or late, so that
 * probes of many servers drift apart while each server is probed once an
 * interval on average; the timers share a grid of SLOTS slots an interval,
 * so a worker probing many servers wakes up that often, not once per
 * server; while no master is known, probes come FAST_FACTOR times as
 * often.
 */
#define NGX_STREAM_REDIS_MASTER_JITTER            20
#define NGX_STREAM_REDIS_MASTER_SLOTS             20
#define NGX_STREAM_REDIS_MASTER_FAST_FACTOR       10

/*
 * The least time between two things done once an interval (a log line, a
 * reconnection): a tenth less than the interval, since the probes that
 * pace them come up to a twentieth early (JITTER).
 */
#define NGX_STREAM_REDIS_MASTER_ONCE(interval)                                \
    ((interval) - (interval) / 10)


u_char *ngx_stream_redis_master_request(ngx_pool_t *pool,
    ngx_stream_redis_master_check_conf_t *cc, size_t size,
    ngx_str_t *request);
u_char *ngx_stream_redis_master_command(u_char *p, ngx_uint_t n,
    ngx_str_t *args);
ngx_int_t ngx_stream_redis_master_open_link(
    ngx_stream_redis_master_target_t *t, ngx_peer_connection_t *pc,
    struct redisReader **reader);
void ngx_stream_redis_master_close_link(ngx_peer_connection_t *pc,
    struct redisReader **reader);
#if (NGX_STREAM_SSL)
ngx_int_t ngx_stream_redis_master_link_tls(
    ngx_stream_redis_master_target_t *t, ngx_connection_t *c,
    ngx_connection_handler_pt handler);
ngx_int_t ngx_stream_redis_master_link_verified(
    ngx_stream_redis_master_target_t *t, ngx_connection_t *c,
    u_char *reason, size_t len);
u_char *ngx_stream_redis_master_link_error(ngx_connection_t *c);
void ngx_stream_redis_master_link_forget(
    ngx_stream_redis_master_target_t *t);
#endif

void *ngx_stream_redis_master_reader_create(void);
ngx_int_t ngx_stream_redis_master_reply_ok(void *reply, const char *what,
    u_char *reason, size_t len);
ngx_int_t ngx_stream_redis_master_reply_auth(void *reply, u_char *reason,
    size_t len);
ngx_int_t ngx_stream_redis_master_reply_pong(void *reply, u_char *reason,
    size_t len);
ngx_int_t ngx_stream_redis_master_reply_info(void *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len);
ngx_int_t ngx_stream_redis_master_reply_master_addr(void *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len);
ngx_int_t ngx_stream_redis_master_reply_sentinel_master(void *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len);
ngx_int_t ngx_stream_redis_master_reply_replicas(void *reply,
    ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_report_t *report, u_char *reason, size_t len);
ngx_int_t ngx_stream_redis_master_reply_event(void *reply, ngx_str_t *name,
    u_char *event, size_t len);
const char *ngx_stream_redis_master_role_name(ngx_uint_t role);
void ngx_stream_redis_master_safe_text(u_char *text, size_t len,
    ngx_stream_redis_master_check_conf_t *cc);


#endif /* _NGX_STREAM_REDIS_MASTER_WIRE_H_INCLUDED_ */
