
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 2, state: the shared zone, with every target's state and every
 * upstream's routing record.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_STATE_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_STATE_H_INCLUDED_


#include "ngx_stream_redis_master_wire.h"


ngx_int_t ngx_stream_redis_master_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
void ngx_stream_redis_master_forget_zone(void *data);
ngx_uint_t ngx_stream_redis_master_own(ngx_stream_redis_master_target_t *t,
    ngx_msec_t stale);
ngx_uint_t ngx_stream_redis_master_claimable(
    ngx_stream_redis_master_target_t *t, ngx_msec_t stale);
void ngx_stream_redis_master_disown(
    ngx_stream_redis_master_main_conf_t *rmmcf);
void ngx_stream_redis_master_commit(
    ngx_stream_redis_master_main_conf_t *rmmcf);
void ngx_stream_redis_master_register(
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_uint_t exiting);
void ngx_stream_redis_master_reclaim(
    ngx_stream_redis_master_main_conf_t *rmmcf);
void ngx_stream_redis_master_record(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_info_t *info, ngx_uint_t kick, u_char *reason,
    size_t len, ngx_uint_t stalled, ngx_msec_t latency, uint32_t epoch,
    ngx_log_t *log, ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after);
void ngx_stream_redis_master_read_seat(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_seat_t *seat);
void ngx_stream_redis_master_read_name(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_node_t *node,
    ngx_stream_redis_master_name_t *name);
ngx_uint_t ngx_stream_redis_master_place(ngx_stream_redis_master_target_t *t,
    ngx_int_t state, u_char *error, size_t len,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs, ngx_stream_redis_master_target_t **twins,
    ngx_msec_t grace,
    ngx_stream_redis_master_seat_t *before,
    ngx_stream_redis_master_seat_t *after);
ngx_uint_t ngx_stream_redis_master_report(
    ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_report_t *report);
ngx_int_t ngx_stream_redis_master_read_report(
    ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_report_t *report);
void ngx_stream_redis_master_raise(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t role, ngx_uint_t lag);
void ngx_stream_redis_master_snapshot(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_node_t *sentinels,
    ngx_stream_redis_master_seat_t *seats);
ngx_uint_t ngx_stream_redis_master_announce(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *master, ngx_uint_t claimants,
    ngx_uint_t rule);
void ngx_stream_redis_master_announce_suspect(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t suspect);
ngx_uint_t ngx_stream_redis_master_announce_fallback(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t fallback);
ngx_uint_t ngx_stream_redis_master_kick(
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_target_t **tp,
    ngx_uint_t n);
ngx_uint_t ngx_stream_redis_master_kicks(
    ngx_stream_redis_master_main_conf_t *rmmcf);
ngx_uint_t ngx_stream_redis_master_publish(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t version,
    ngx_stream_redis_master_decision_t *d, uintptr_t *map,
    ngx_uint_t *generation);
ngx_uint_t ngx_stream_redis_master_adopt(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t version,
    uintptr_t *map, ngx_uint_t *master, ngx_uint_t *generation,
    ngx_msec_t *decided, ngx_stream_redis_master_seat_t *seats);
ngx_uint_t ngx_stream_redis_master_version(
    ngx_stream_redis_master_srv_conf_t *rmcf);
ngx_stream_redis_master_node_t *ngx_stream_redis_master_announced_master(
    ngx_stream_redis_master_srv_conf_t *rmcf);
void ngx_stream_redis_master_read_history(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_history_t *h);
void ngx_stream_redis_master_read_node(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i,
    ngx_stream_redis_master_node_t *nodes);
void ngx_stream_redis_master_glance(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i, ngx_uint_t master,
    ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_seat_t *seats,
    ngx_stream_redis_master_history_t *h);
ngx_uint_t ngx_stream_redis_master_store_history(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_history_t *was,
    ngx_stream_redis_master_history_t *now);
ngx_uint_t ngx_stream_redis_master_lacks_master(
    ngx_stream_redis_master_target_t *t);
void ngx_stream_redis_master_count(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t counter, ngx_uint_t n);
void ngx_stream_redis_master_read_status(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_node_t *sentinels,
    ngx_stream_redis_master_seat_t *seats,
    ngx_stream_redis_master_route_t *route);


#endif /* _NGX_STREAM_REDIS_MASTER_STATE_H_INCLUDED_ */
