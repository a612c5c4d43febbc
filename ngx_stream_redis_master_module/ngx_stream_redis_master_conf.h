
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 7, the module: what its files (module.c, conf.c, registry.c,
 * tls.c, runtime.c, variable.c) give each other, and the ranges of the
 * directives' parameters.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_CONF_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_CONF_H_INCLUDED_


#include "ngx_stream_redis_master_balancer.h"
#include "ngx_stream_redis_master_check.h"


/*
 * The ranges of the parameters (docs/directives.md says why each): nginx
 * -t refuses a value outside, so that no value it accepts can overflow a
 * timer, a deadline or a 32-bit field of the zone.
 */

#define NGX_STREAM_REDIS_MASTER_MIN_INTERVAL      50
#define NGX_STREAM_REDIS_MASTER_MIN_TIMEOUT       10
#define NGX_STREAM_REDIS_MASTER_MAX_TIME          (3600 * 1000)
#define NGX_STREAM_REDIS_MASTER_MIN_REPLICA_LAG   1000
#define NGX_STREAM_REDIS_MASTER_MAX_COUNT         1000
#define NGX_STREAM_REDIS_MASTER_MAX_WAIT_QUEUE    65536
#define NGX_STREAM_REDIS_MASTER_MAX_LAG_BYTES     ((off_t) 1024 << 30)
#define NGX_STREAM_REDIS_MASTER_MAX_MASTER_NAME   1024
#define NGX_STREAM_REDIS_MASTER_MAX_VERIFY_DEPTH  100
#define NGX_STREAM_REDIS_MASTER_MAX_SSL_NAME      253
#define NGX_STREAM_REDIS_MASTER_MAX_PORT          65535
#define NGX_STREAM_REDIS_MASTER_MAX_WEIGHT        1000
#define NGX_STREAM_REDIS_MASTER_MAX_CONNS         1000000


/* the defaults of the parameters (docs/directives.md) */

#define NGX_STREAM_REDIS_MASTER_DEFAULT_INTERVAL    1000
#define NGX_STREAM_REDIS_MASTER_DEFAULT_TIMEOUT     1000
#define NGX_STREAM_REDIS_MASTER_DEFAULT_RISE        1
#define NGX_STREAM_REDIS_MASTER_DEFAULT_FALL        2
#define NGX_STREAM_REDIS_MASTER_DEFAULT_MAX_LAG     15000
#define NGX_STREAM_REDIS_MASTER_DEFAULT_WAIT_QUEUE  1024
#define NGX_STREAM_REDIS_MASTER_DEFAULT_MAX_SERVERS 8

/* discover_grace=: by default, this many of the upstream's intervals */
#define NGX_STREAM_REDIS_MASTER_DISCOVER_GRACE      3

/* Redis's own default of min-replicas-max-lag */
#define NGX_STREAM_REDIS_MASTER_DEFAULT_MIN_REPLICAS_MAX_LAG  10000


/* conf.c: the configurations and the directives */
void *ngx_stream_redis_master_create_main_conf(ngx_conf_t *cf);
void *ngx_stream_redis_master_create_srv_conf(ngx_conf_t *cf);
char *ngx_stream_redis_master_init_main_conf(ngx_conf_t *cf,
    void *conf);
char *ngx_stream_redis_master_master(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_stream_redis_master_replica(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_stream_redis_master_check(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_stream_redis_master_sentinel(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_stream_redis_master_server(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

/* param.c: the parameters' values, and errors */
ngx_uint_t ngx_stream_redis_master_is_number(u_char *p, size_t len);
ngx_int_t ngx_stream_redis_master_time_param(ngx_conf_t *cf,
    ngx_str_t *value, size_t skip, ngx_msec_t low, ngx_msec_t high,
    ngx_msec_t *ms);
ngx_int_t ngx_stream_redis_master_num_param(ngx_conf_t *cf,
    ngx_str_t *value, size_t skip, ngx_int_t low, ngx_int_t high,
    ngx_int_t *n);
ngx_int_t ngx_stream_redis_master_out_of_range(ngx_conf_t *cf,
    ngx_str_t *value, const char *what, off_t low, off_t high,
    u_char *(*print)(u_char *p, off_t v));
u_char *ngx_stream_redis_master_print_size(u_char *p, off_t size);
size_t ngx_stream_redis_master_address_masked(ngx_str_t *value);
char *ngx_stream_redis_master_bad_param(ngx_conf_t *cf,
    ngx_str_t *value);

/* registry.c: the probe targets */
ngx_int_t ngx_stream_redis_master_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us);

#if (NGX_STREAM_SSL)
/* tls.c: the TLS contexts */
ngx_int_t ngx_stream_redis_master_merge_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
ngx_uint_t ngx_stream_redis_master_same_ssl(
    ngx_stream_redis_master_ssl_conf_t *a,
    ngx_stream_redis_master_ssl_conf_t *b);
ngx_int_t ngx_stream_redis_master_ssl_name(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *server);
void ngx_stream_redis_master_warn_unverified(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
char *ngx_stream_redis_master_ssl_verify_depth(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
char *ngx_stream_redis_master_check_ssl_name(ngx_conf_t *cf,
    void *post, void *data);
#endif

/* runtime.c: the sweep */
ngx_int_t ngx_stream_redis_master_init_sweep(ngx_cycle_t *cycle);

/* variable.c: the stream variables */
ngx_int_t ngx_stream_redis_master_add_variables(ngx_conf_t *cf);


#endif /* _NGX_STREAM_REDIS_MASTER_CONF_H_INCLUDED_ */
