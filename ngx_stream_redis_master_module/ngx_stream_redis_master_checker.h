
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 6, entry points: the checker's state, which only the checker's
 * files (check.c, resolve.c, check_io.c) see, and what they give each
 * other.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_CHECKER_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_CHECKER_H_INCLUDED_


#include "ngx_stream_redis_master_check.h"

#include <hiredis/hiredis.h>


/* the most of the addresses a name's bound cut that a log line lists */
#define NGX_STREAM_REDIS_MASTER_CUT_LIST  512


struct ngx_stream_redis_master_checker_s {
    /* first: a TLS link finds its target through its data */
    ngx_stream_redis_master_target_t  *target;
    /* the configuration it was started with, for its event handlers */
    ngx_stream_redis_master_main_conf_t  *rmmcf;
    ngx_event_t                        timer;
    ngx_peer_connection_t              pc;
    redisReader                       *reader;
    ngx_str_t                          request;
    ngx_uint_t                         auth;
    ngx_uint_t                         expect;
    ngx_uint_t                         got;
    size_t                             sent;
    size_t                             received;
    ngx_msec_t                         stale;
    ngx_uint_t                         kick_seen;
    ngx_uint_t                         kick_start;
    ngx_msec_t                         fast_until;
    ngx_msec_t                         started;
    ngx_msec_t                         retry_logged;
    ngx_uint_t                         retries_quiet;
    ngx_stream_redis_master_info_t     info;

    /* a Sentinel named by a host name: its address, as last resolved */
    ngx_resolver_ctx_t                *resolving;
    ngx_sockaddr_t                     resolved;

    /*
     * A server a redis_server name brought: the seat's epoch its address
     * was taken at (the probes are recorded at it), and the server's name
     * with that address, for log lines ("NAME:PORT at ADDR")
     */
    uint32_t                           epoch;
    ngx_str_t                          named;

    /*
     * a redis_server name: how many addresses the bound cut, and how many
     * were another server's, as last logged
     */
    ngx_uint_t                         cut;
    ngx_uint_t                         twins;

    /*
     * discover=: a Sentinel's report as its probe reads it; of a name,
     * the seats whose address no majority reports now, as logged
     */
    ngx_stream_redis_master_report_t  *report;
    uint64_t                           missing;

    unsigned                           busy:1;
    unsigned                           connecting:1;
    unsigned                           stalled:1;
    unsigned                           unresolved:1;
    unsigned                           reused:1;
    unsigned                           retry_once_logged:1;
    unsigned                           twin:1;
    /* a redis_server name whose answer has no address, as logged */
    unsigned                           unaddressed:1;
    /* discover=: the Sentinels' host names were said not to be followed */
    unsigned                           hostnames:1;
    u_char                             reason[
                                       NGX_STREAM_REDIS_MASTER_REASON_LEN];
};


/* resolve.c */
void ngx_stream_redis_master_resolve(ngx_stream_redis_master_checker_t *ck);
void ngx_stream_redis_master_resolve_name(
    ngx_stream_redis_master_checker_t *ck);
void ngx_stream_redis_master_discover(ngx_stream_redis_master_checker_t *ck);
ngx_int_t ngx_stream_redis_master_take_seat(
    ngx_stream_redis_master_checker_t *ck);

/* check_io.c */
void ngx_stream_redis_master_send_probe(
    ngx_stream_redis_master_checker_t *ck);
void ngx_stream_redis_master_fail(ngx_stream_redis_master_checker_t *ck,
    ngx_err_t err, const char *fmt, ...);
void ngx_stream_redis_master_close(ngx_stream_redis_master_checker_t *ck);


#endif /* _NGX_STREAM_REDIS_MASTER_CHECKER_H_INCLUDED_ */
