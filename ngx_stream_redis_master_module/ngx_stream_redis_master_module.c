
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Directives and configuration: parsing redis_master, redis_replica and
 * redis_check, collecting probe targets, adding the shared zone, and
 * starting the per-worker machinery.
 */


#include "ngx_stream_redis_master_version.h"
#include "ngx_stream_redis_master_state.h"
#include "ngx_stream_redis_master_peer.h"
#include "ngx_stream_redis_master_balancer.h"
#include "ngx_stream_redis_master_check.h"

#include <hiredis/hiredis.h>


static void *ngx_stream_redis_master_create_main_conf(ngx_conf_t *cf);
static char *ngx_stream_redis_master_init_main_conf(ngx_conf_t *cf,
    void *conf);
static void *ngx_stream_redis_master_create_srv_conf(ngx_conf_t *cf);
static char *ngx_stream_redis_master_master(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_stream_redis_master_replica(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_stream_redis_master_check(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_stream_redis_master_sentinel(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_stream_redis_master_credential(ngx_conf_t *cf,
    ngx_str_t *value, ngx_stream_redis_master_check_conf_t *cc,
    ngx_str_t *file);
static char *ngx_stream_redis_master_credentials_done(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_stream_redis_master_check_conf_t *cc,
    ngx_str_t *file);
static char *ngx_stream_redis_master_set_balancer(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t balancer);
static ngx_int_t ngx_stream_redis_master_servers_before(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *uscf, ngx_uint_t balancer);
static ngx_uint_t ngx_stream_redis_master_is_number(u_char *p, size_t len);
static ngx_int_t ngx_stream_redis_master_time_param(ngx_conf_t *cf,
    ngx_str_t *value, size_t skip, ngx_msec_t low, ngx_msec_t high,
    ngx_msec_t *ms);
static ngx_int_t ngx_stream_redis_master_num_param(ngx_conf_t *cf,
    ngx_str_t *value, size_t skip, ngx_int_t low, ngx_int_t high,
    ngx_int_t *n);
static ngx_int_t ngx_stream_redis_master_out_of_range(ngx_conf_t *cf,
    ngx_str_t *value, const char *what, off_t low, off_t high,
    u_char *(*print)(u_char *p, off_t v));
static u_char *ngx_stream_redis_master_print_msec(u_char *p, off_t ms);
static u_char *ngx_stream_redis_master_print_num(u_char *p, off_t n);
static u_char *ngx_stream_redis_master_print_size(u_char *p, off_t size);
static size_t ngx_stream_redis_master_masked(ngx_str_t *value);
static size_t ngx_stream_redis_master_address_masked(ngx_str_t *value);
static char *ngx_stream_redis_master_bad_param(ngx_conf_t *cf,
    ngx_str_t *value);
static char *ngx_stream_redis_master_read_password(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *path, ngx_str_t *password);
static ngx_int_t ngx_stream_redis_master_target_key(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *key);
static ngx_uint_t ngx_stream_redis_master_same_check(
    ngx_stream_redis_master_check_conf_t *a,
    ngx_stream_redis_master_check_conf_t *b);
static ngx_int_t ngx_stream_redis_master_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us);
static ngx_int_t ngx_stream_redis_master_init_min_replicas(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_int_t ngx_stream_redis_master_add_peers(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_upstream_rr_peers_t *peers);
static ngx_int_t ngx_stream_redis_master_add_sentinels(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_int_t ngx_stream_redis_master_add_sentinel(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_target_t *t);
static ngx_resolver_t *ngx_stream_redis_master_resolver(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_msec_t *timeout);
static ngx_uint_t ngx_stream_redis_master_is_name(ngx_str_t *host);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_add_named(
    ngx_conf_t *cf, ngx_stream_redis_master_srv_conf_t *rmcf, ngx_url_t *u,
    ngx_resolver_t *resolver, ngx_msec_t timeout);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_add_target(
    ngx_conf_t *cf, ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t kind, ngx_addr_t *addr, ngx_str_t *server,
    ngx_stream_redis_master_check_conf_t *check);
static ngx_int_t ngx_stream_redis_master_init_module(ngx_cycle_t *cycle);
#if (NGX_STREAM_SSL)
static ngx_int_t ngx_stream_redis_master_merge_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_int_t ngx_stream_redis_master_set_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_ssl_conf_t *sc, const char *prefix);
static ngx_uint_t ngx_stream_redis_master_same_ssl(
    ngx_stream_redis_master_ssl_conf_t *a,
    ngx_stream_redis_master_ssl_conf_t *b);
static ngx_int_t ngx_stream_redis_master_ssl_name(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *server);
static void ngx_stream_redis_master_warn_unverified(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static char *ngx_stream_redis_master_ssl_verify_depth(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_stream_redis_master_check_ssl_name(ngx_conf_t *cf,
    void *post, void *data);
#endif
static ngx_int_t ngx_stream_redis_master_init_process(ngx_cycle_t *cycle);
static void ngx_stream_redis_master_exit_process(ngx_cycle_t *cycle);
static void ngx_stream_redis_master_sweep_handler(ngx_event_t *ev);
static ngx_int_t ngx_stream_redis_master_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_stream_redis_master_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);
static ngx_msec_t ngx_stream_redis_master_next_sweep(
    ngx_stream_redis_master_main_conf_t *rmmcf);
static ngx_uint_t ngx_stream_redis_master_taking_over(
    ngx_stream_redis_master_main_conf_t *rmmcf);
static void ngx_stream_redis_master_hurry(ngx_cycle_t *cycle);


#define NGX_STREAM_REDIS_MASTER_PARAM(value, lit)                             \
    ((value)->len > sizeof(lit) - 1                                           \
     && ngx_strncmp((value)->data, lit, sizeof(lit) - 1) == 0)

#define ngx_stream_redis_master_same_str(a, b)                                \
    ((a)->len == (b)->len                                                     \
     && ngx_strncmp((a)->data, (b)->data, (a)->len) == 0)


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


#if (NGX_STREAM_SSL)

static ngx_conf_bitmask_t  ngx_stream_redis_master_ssl_protocols[] = {
    { ngx_string("SSLv2"), NGX_SSL_SSLv2 },
    { ngx_string("SSLv3"), NGX_SSL_SSLv3 },
    { ngx_string("TLSv1"), NGX_SSL_TLSv1 },
    { ngx_string("TLSv1.1"), NGX_SSL_TLSv1_1 },
    { ngx_string("TLSv1.2"), NGX_SSL_TLSv1_2 },
    { ngx_string("TLSv1.3"), NGX_SSL_TLSv1_3 },
    { ngx_null_string, 0 }
};


static ngx_conf_post_t  ngx_stream_redis_master_ssl_name_post = {
    ngx_stream_redis_master_check_ssl_name
};

#endif


static ngx_command_t  ngx_stream_redis_master_commands[] = {

    { ngx_string("redis_master"),
      NGX_STREAM_UPS_CONF|NGX_CONF_ANY,
      ngx_stream_redis_master_master,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("redis_replica"),
      NGX_STREAM_UPS_CONF|NGX_CONF_ANY,
      ngx_stream_redis_master_replica,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("redis_check"),
      NGX_STREAM_UPS_CONF|NGX_CONF_ANY,
      ngx_stream_redis_master_check,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("redis_sentinel"),
      NGX_STREAM_UPS_CONF|NGX_CONF_2MORE,
      ngx_stream_redis_master_sentinel,
      NGX_STREAM_SRV_CONF_OFFSET,
      0,
      NULL },

#if (NGX_STREAM_SSL)

    { ngx_string("redis_ssl"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.enable),
      NULL },

    { ngx_string("redis_ssl_session_reuse"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.session_reuse),
      NULL },

    { ngx_string("redis_ssl_protocols"),
      NGX_STREAM_UPS_CONF|NGX_CONF_1MORE,
      ngx_conf_set_bitmask_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.protocols),
      &ngx_stream_redis_master_ssl_protocols },

    { ngx_string("redis_ssl_ciphers"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.ciphers),
      NULL },

    { ngx_string("redis_ssl_name"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.name),
      &ngx_stream_redis_master_ssl_name_post },

    { ngx_string("redis_ssl_server_name"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.server_name),
      NULL },

    { ngx_string("redis_ssl_verify"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.verify),
      NULL },

    { ngx_string("redis_ssl_verify_depth"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_stream_redis_master_ssl_verify_depth,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.verify_depth),
      NULL },

    { ngx_string("redis_ssl_trusted_certificate"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.trusted_certificate),
      NULL },

    { ngx_string("redis_ssl_certificate"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.certificate),
      NULL },

    { ngx_string("redis_ssl_certificate_key"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, ssl.certificate_key),
      NULL },

    { ngx_string("redis_sentinel_ssl"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.enable),
      NULL },

    { ngx_string("redis_sentinel_ssl_session_reuse"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.session_reuse),
      NULL },

    { ngx_string("redis_sentinel_ssl_protocols"),
      NGX_STREAM_UPS_CONF|NGX_CONF_1MORE,
      ngx_conf_set_bitmask_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.protocols),
      &ngx_stream_redis_master_ssl_protocols },

    { ngx_string("redis_sentinel_ssl_ciphers"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.ciphers),
      NULL },

    { ngx_string("redis_sentinel_ssl_name"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.name),
      &ngx_stream_redis_master_ssl_name_post },

    { ngx_string("redis_sentinel_ssl_server_name"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.server_name),
      NULL },

    { ngx_string("redis_sentinel_ssl_verify"),
      NGX_STREAM_UPS_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.verify),
      NULL },

    { ngx_string("redis_sentinel_ssl_verify_depth"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_stream_redis_master_ssl_verify_depth,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.verify_depth),
      NULL },

    { ngx_string("redis_sentinel_ssl_trusted_certificate"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t,
               sentinel_ssl.trusted_certificate),
      NULL },

    { ngx_string("redis_sentinel_ssl_certificate"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t, sentinel_ssl.certificate),
      NULL },

    { ngx_string("redis_sentinel_ssl_certificate_key"),
      NGX_STREAM_UPS_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_STREAM_SRV_CONF_OFFSET,
      offsetof(ngx_stream_redis_master_srv_conf_t,
               sentinel_ssl.certificate_key),
      NULL },

#endif

      ngx_null_command
};


#define NGX_STREAM_REDIS_MASTER_VAR_ROLE       0
#define NGX_STREAM_REDIS_MASTER_VAR_MASTER     1
#define NGX_STREAM_REDIS_MASTER_VAR_WAIT_TIME  2
#define NGX_STREAM_REDIS_MASTER_VAR_DECISION   3


static ngx_stream_variable_t  ngx_stream_redis_master_vars[] = {

    { ngx_string("redis_master_role"), NULL,
      ngx_stream_redis_master_variable, NGX_STREAM_REDIS_MASTER_VAR_ROLE,
      NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("redis_master_master"), NULL,
      ngx_stream_redis_master_variable, NGX_STREAM_REDIS_MASTER_VAR_MASTER,
      NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("redis_master_wait_time"), NULL,
      ngx_stream_redis_master_variable,
      NGX_STREAM_REDIS_MASTER_VAR_WAIT_TIME, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("redis_master_decision"), NULL,
      ngx_stream_redis_master_variable,
      NGX_STREAM_REDIS_MASTER_VAR_DECISION, NGX_STREAM_VAR_NOCACHEABLE, 0 },

      ngx_stream_null_variable
};


/* $redis_master_decision, by NGX_STREAM_REDIS_MASTER_PLACED_* */
static ngx_str_t  ngx_stream_redis_master_placed_names[] = {
    ngx_null_string,
    ngx_string("master"),
    ngx_string("replica"),
    ngx_string("fallback"),
    ngx_string("held"),
    ngx_string("refused")
};


static ngx_stream_module_t  ngx_stream_redis_master_module_ctx = {
    ngx_stream_redis_master_add_variables, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_stream_redis_master_create_main_conf, /* create main configuration */
    ngx_stream_redis_master_init_main_conf, /* init main configuration */

    ngx_stream_redis_master_create_srv_conf, /* create server configuration */
    NULL                                   /* merge server configuration */
};


ngx_module_t  ngx_stream_redis_master_module = {
    NGX_MODULE_V1,
    &ngx_stream_redis_master_module_ctx,   /* module context */
    ngx_stream_redis_master_commands,      /* module directives */
    NGX_STREAM_MODULE,                     /* module type */
    NULL,                                  /* init master */
    ngx_stream_redis_master_init_module,   /* init module */
    ngx_stream_redis_master_init_process,  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_stream_redis_master_exit_process,  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_stream_redis_master_create_main_conf(ngx_conf_t *cf)
{
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_redis_master_main_conf_t));
    if (rmmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&rmmcf->upstreams, cf->pool, 4,
                       sizeof(ngx_stream_redis_master_srv_conf_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&rmmcf->targets, cf->pool, 8,
                       sizeof(ngx_stream_redis_master_target_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&rmmcf->created, cf->pool, 8, sizeof(ngx_queue_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return rmmcf;
}


static void *
ngx_stream_redis_master_create_srv_conf(ngx_conf_t *cf)
{
    ngx_stream_redis_master_srv_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_stream_redis_master_srv_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->balancer = NGX_STREAM_REDIS_MASTER_BALANCER_NONE;
     *     rmcf->check.username = { 0, NULL };
     *     rmcf->check.password = { 0, NULL };
     *     rmcf->split_brain = NGX_STREAM_REDIS_MASTER_SPLIT_REFUSE;
     *     rmcf->fallback = NGX_STREAM_REDIS_MASTER_FALLBACK_MASTER;
     *     rmcf->min_replicas = 0;
     *     rmcf->upstream = NULL;
     */

    rmcf->check.interval = NGX_CONF_UNSET_MSEC;
    rmcf->check.timeout = NGX_CONF_UNSET_MSEC;
    rmcf->check.rise = NGX_CONF_UNSET_UINT;
    rmcf->check.fall = NGX_CONF_UNSET_UINT;
    rmcf->max_lag = NGX_CONF_UNSET_MSEC;
    rmcf->max_lag_bytes = NGX_CONF_UNSET;
    rmcf->min_replicas_max_lag = NGX_CONF_UNSET_MSEC;
    rmcf->wait_queue = 1024;

    /*
     * set by ngx_pcalloc(), for rmcf->ssl and rmcf->sentinel_ssl:
     *
     *     protocols = 0;
     *     ciphers, name, trusted_certificate = { 0, NULL };
     *     certificate, certificate_key = { 0, NULL };
     *     ssl = NULL;
     */

    rmcf->ssl.enable = NGX_CONF_UNSET;
    rmcf->ssl.session_reuse = NGX_CONF_UNSET;
    rmcf->ssl.server_name = NGX_CONF_UNSET;
    rmcf->ssl.verify = NGX_CONF_UNSET;
    rmcf->ssl.verify_depth = NGX_CONF_UNSET_UINT;
    rmcf->sentinel_ssl = rmcf->ssl;

    return rmcf;
}


/*
 * Runs after every upstream block has been initialized, so that all probe
 * targets are known: a misplaced directive is reported here, and the one
 * shared zone is sized for the targets.
 */

static char *
ngx_stream_redis_master_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_stream_redis_master_main_conf_t *rmmcf = conf;

    size_t                               size;
    ngx_str_t                            name;
    ngx_uint_t                           i;
    ngx_pool_cleanup_t                  *cln;
    ngx_stream_upstream_srv_conf_t     **uscfp;
    ngx_stream_redis_master_srv_conf_t  *rmcf;
    ngx_stream_upstream_main_conf_t     *umcf;

    umcf = ngx_stream_conf_get_module_main_conf(cf, ngx_stream_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = 0; i < umcf->upstreams.nelts; i++) {

        if (uscfp[i]->srv_conf == NULL) {
            continue;
        }

        rmcf = ngx_stream_conf_upstream_srv_conf(uscfp[i],
                                               ngx_stream_redis_master_module);

        if (rmcf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_NONE) {

            if (rmcf->check.interval != NGX_CONF_UNSET_MSEC
                || rmcf->sentinel
                || rmcf->ssl.enable != NGX_CONF_UNSET
                || rmcf->sentinel_ssl.enable != NGX_CONF_UNSET)
            {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"%s\" in upstream \"%V\" requires "
                              "\"redis_master\" or \"redis_replica\" in %s:%ui",
                              rmcf->sentinel ? "redis_sentinel"
                              : rmcf->check.interval != NGX_CONF_UNSET_MSEC
                                ? "redis_check"
                              : rmcf->ssl.enable != NGX_CONF_UNSET
                                ? "redis_ssl" : "redis_sentinel_ssl",
                              &uscfp[i]->host, uscfp[i]->file_name,
                              uscfp[i]->line);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (uscfp[i]->peer.init_upstream
            != ngx_stream_redis_master_init_upstream)
        {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"%s\" in upstream \"%V\" is overridden by another "
                          "load balancing method in %s:%ui",
                          rmcf->balancer
                          == NGX_STREAM_REDIS_MASTER_BALANCER_MASTER
                          ? "redis_master" : "redis_replica",
                          &uscfp[i]->host, uscfp[i]->file_name,
                          uscfp[i]->line);
            return NGX_CONF_ERROR;
        }
    }

    if (rmmcf->targets.nelts == 0) {
        return NGX_CONF_OK;
    }

    /*
     * A zone is reused across reloads only while its size is unchanged, so
     * the size moves in whole megabytes: adding a few servers keeps state.
     */

    size = ngx_align(rmmcf->targets.nelts * 2048 + 65536, 1024 * 1024);

    ngx_str_set(&name, "redis_master");

    rmmcf->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                            &ngx_stream_redis_master_module);
    if (rmmcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    rmmcf->shm_zone->init = ngx_stream_redis_master_init_zone;
    rmmcf->shm_zone->data = rmmcf;

    /* worker_processes is final by the time the zone is set up */
    rmmcf->core = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                                   ngx_core_module);

    /* a reload that fails after the zone was set up takes back its part */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_stream_redis_master_forget_zone;
    cln->data = rmmcf;

    return NGX_CONF_OK;
}


static char *
ngx_stream_redis_master_master(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_stream_redis_master_srv_conf_t *rmcf = conf;

    char        *rv;
    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   i;

    rv = ngx_stream_redis_master_set_balancer(cf, rmcf,
                                       NGX_STREAM_REDIS_MASTER_BALANCER_MASTER);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "split_brain=refuse") == 0) {
            rmcf->split_brain = NGX_STREAM_REDIS_MASTER_SPLIT_REFUSE;
            continue;
        }

        if (ngx_strcmp(value[i].data, "split_brain=lineage") == 0) {
            rmcf->split_brain = NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE;
            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "wait=")) {
            if (ngx_stream_redis_master_time_param(cf, &value[i], 5, 0,
                                             NGX_STREAM_REDIS_MASTER_MAX_TIME,
                                             &rmcf->wait)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "wait_queue=")) {
            if (ngx_stream_redis_master_num_param(cf, &value[i], 11, 1,
                                       NGX_STREAM_REDIS_MASTER_MAX_WAIT_QUEUE,
                                       &n)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            rmcf->wait_queue = n;
            continue;
        }

        if (ngx_strcmp(value[i].data, "min_replicas=majority") == 0) {
            rmcf->min_replicas = NGX_STREAM_REDIS_MASTER_MAJORITY;
            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "min_replicas=")) {
            if (ngx_stream_redis_master_num_param(cf, &value[i], 13, 0,
                                             NGX_STREAM_REDIS_MASTER_SLAVES,
                                             &n)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            rmcf->min_replicas = n;
            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i],
                                          "min_replicas_max_lag="))
        {
            if (ngx_stream_redis_master_time_param(cf, &value[i], 21,
                                      NGX_STREAM_REDIS_MASTER_MIN_REPLICA_LAG,
                                      NGX_STREAM_REDIS_MASTER_MAX_TIME,
                                      &rmcf->min_replicas_max_lag)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        return ngx_stream_redis_master_bad_param(cf, &value[i]);
    }

    return NGX_CONF_OK;
}


static char *
ngx_stream_redis_master_replica(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_stream_redis_master_srv_conf_t *rmcf = conf;

    char        *rv;
    off_t        size;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    rv = ngx_stream_redis_master_set_balancer(cf, rmcf,
                                      NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "max_lag=")) {
            if (ngx_stream_redis_master_time_param(cf, &value[i], 8, 0,
                                             NGX_STREAM_REDIS_MASTER_MAX_TIME,
                                             &rmcf->max_lag)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "max_lag_bytes=")) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            size = ngx_parse_offset(&s);
            if (size == NGX_ERROR
                || size > NGX_STREAM_REDIS_MASTER_MAX_LAG_BYTES)
            {
                (void) ngx_stream_redis_master_out_of_range(cf, &value[i],
                                      "a size", 0,
                                      NGX_STREAM_REDIS_MASTER_MAX_LAG_BYTES,
                                      ngx_stream_redis_master_print_size);
                return NGX_CONF_ERROR;
            }

            rmcf->max_lag_bytes = size;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fallback=master") == 0) {
            rmcf->fallback = NGX_STREAM_REDIS_MASTER_FALLBACK_MASTER;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fallback=none") == 0) {
            rmcf->fallback = NGX_STREAM_REDIS_MASTER_FALLBACK_NONE;
            continue;
        }

        return ngx_stream_redis_master_bad_param(cf, &value[i]);
    }

    return NGX_CONF_OK;
}


static char *
ngx_stream_redis_master_set_balancer(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t balancer)
{
    ngx_str_t                       *value;
    ngx_stream_upstream_srv_conf_t  *uscf;

    value = cf->args->elts;

    if (rmcf->balancer == balancer) {
        return "is duplicate";
    }

    if (rmcf->balancer != NGX_STREAM_REDIS_MASTER_BALANCER_NONE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" cannot be combined with \"%s\"",
                           &value[0],
                           balancer == NGX_STREAM_REDIS_MASTER_BALANCER_MASTER
                           ? "redis_replica" : "redis_master");
        return NGX_CONF_ERROR;
    }

    uscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_upstream_module);

    if (ngx_stream_redis_master_servers_before(cf, uscf, balancer) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (uscf->peer.init_upstream) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "load balancing method redefined");
    }

    rmcf->balancer = balancer;
    rmcf->upstream = uscf;
    rmcf->name = &uscf->host;

    uscf->peer.init_upstream = ngx_stream_redis_master_init_upstream;

    /*
     * The Redis checks replace passive failure counting, so max_fails and
     * fail_timeout are refused rather than silently ignored.  A master pool
     * has no use for "backup": the master is whichever server says so.
     */

    uscf->flags = NGX_STREAM_UPSTREAM_CREATE
                  |NGX_STREAM_UPSTREAM_WEIGHT
                  |NGX_STREAM_UPSTREAM_MAX_CONNS
                  |NGX_STREAM_UPSTREAM_DOWN;

    if (balancer == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA) {
        uscf->flags |= NGX_STREAM_UPSTREAM_BACKUP;
    }

    return NGX_CONF_OK;
}


/*
 * nginx checks server parameters against the balancer as each "server"
 * line is read: those written before redis_master or redis_replica were
 * let through, and are checked here.
 */

static ngx_int_t
ngx_stream_redis_master_servers_before(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *uscf, ngx_uint_t balancer)
{
    ngx_str_t                      *value;
    ngx_uint_t                      i;
    ngx_stream_upstream_server_t   *server;

    if (uscf->servers == NULL) {
        return NGX_OK;
    }

    value = cf->args->elts;
    server = uscf->servers->elts;

    for (i = 0; i < uscf->servers->nelts; i++) {

        if (server[i].max_fails != 1 || server[i].fail_timeout != 10) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" does not support \"max_fails=\" and "
                               "\"fail_timeout=\" (server \"%V\")",
                               &value[0], &server[i].name);
            return NGX_ERROR;
        }

        if (server[i].backup
            && balancer == NGX_STREAM_REDIS_MASTER_BALANCER_MASTER)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" does not support backup servers "
                               "(server \"%V\")", &value[0],
                               &server[i].name);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static char *
ngx_stream_redis_master_check(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_stream_redis_master_srv_conf_t *rmcf = conf;

    ngx_int_t     n;
    ngx_str_t    *value, s, file;
    ngx_uint_t    i, interval;
    ngx_msec_t    ms;

    if (rmcf->check.interval != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;
    ngx_str_null(&file);

    rmcf->check.interval = 1000;
    rmcf->check.timeout = 1000;
    rmcf->check.rise = 1;
    rmcf->check.fall = 2;

    for (i = 1; i < cf->args->nelts; i++) {

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "interval=")
            || NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "timeout="))
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;
            interval = (value[i].data[0] == 'i');

            if (ngx_stream_redis_master_time_param(cf, &value[i],
                                    s.data - value[i].data,
                                    interval
                                    ? NGX_STREAM_REDIS_MASTER_MIN_INTERVAL
                                    : NGX_STREAM_REDIS_MASTER_MIN_TIMEOUT,
                                    NGX_STREAM_REDIS_MASTER_MAX_TIME, &ms)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            /*
             * a bare number is seconds in nginx, milliseconds in HAProxy's
             * "inter": "interval=500" is most likely a mistake
             */

            if (ms > 100000
                && ngx_stream_redis_master_is_number(s.data, s.len))
            {
                ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                                   "\"%V\" in \"%V\" has no unit and means "
                                   "%M seconds; write \"%Vms\" for "
                                   "milliseconds",
                                   &value[i], &cmd->name, ms / 1000,
                                   &value[i]);
            }

            if (interval) {
                rmcf->check.interval = ms;

            } else {
                rmcf->check.timeout = ms;
            }

            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "rise=")
            || NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "fall="))
        {
            if (ngx_stream_redis_master_num_param(cf, &value[i], 5, 1,
                                           NGX_STREAM_REDIS_MASTER_MAX_COUNT,
                                           &n)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            if (value[i].data[0] == 'r') {
                rmcf->check.rise = n;

            } else {
                rmcf->check.fall = n;
            }

            continue;
        }

        /* the probes may reach a server on a port of their own */

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "port=")) {
            if (ngx_stream_redis_master_num_param(cf, &value[i], 5, 1, 65535,
                                                  &n)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            rmcf->check.port = (in_port_t) n;
            continue;
        }

        if (ngx_stream_redis_master_credential(cf, &value[i], &rmcf->check,
                                               &file)
            == NGX_OK)
        {
            continue;
        }

        return ngx_stream_redis_master_bad_param(cf, &value[i]);
    }

    return ngx_stream_redis_master_credentials_done(cf, &cmd->name,
                                                    &rmcf->check, &file);
}


/* username=, password= and password_file=, shared by two directives */

static ngx_int_t
ngx_stream_redis_master_credential(ngx_conf_t *cf, ngx_str_t *value,
    ngx_stream_redis_master_check_conf_t *cc, ngx_str_t *file)
{
    if (NGX_STREAM_REDIS_MASTER_PARAM(value, "username=")) {
        cc->username.data = value->data + 9;
        cc->username.len = value->len - 9;
        return NGX_OK;
    }

    if (NGX_STREAM_REDIS_MASTER_PARAM(value, "password=")) {
        cc->password.data = value->data + 9;
        cc->password.len = value->len - 9;
        return NGX_OK;
    }

    if (NGX_STREAM_REDIS_MASTER_PARAM(value, "password_file=")) {
        file->data = value->data + 14;
        file->len = value->len - 14;
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static char *
ngx_stream_redis_master_credentials_done(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_stream_redis_master_check_conf_t *cc,
    ngx_str_t *file)
{
    if (file->len && cc->password.len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" takes \"password=\" or "
                           "\"password_file=\", not both", directive);
        return NGX_CONF_ERROR;
    }

    if (cc->username.len && cc->password.len == 0 && file->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" with \"username=\" needs "
                           "\"password=\" or \"password_file=\"", directive);
        return NGX_CONF_ERROR;
    }

    if (file->len) {
        return ngx_stream_redis_master_read_password(cf, directive, file,
                                                     &cc->password);
    }

    return NGX_CONF_OK;
}


/*
 * redis_sentinel name=NAME [username=] [password=|password_file=] ADDR...;
 * The addresses are resolved once the stream block is read: host names
 * at run time if there is a resolver, else then.  The Sentinels are
 * checked with the upstream's redis_check interval and timeout.
 */

static char *
ngx_stream_redis_master_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_stream_redis_master_srv_conf_t *rmcf = conf;

    char                                     *rv;
    size_t                                    len;
    ngx_url_t                                *u;
    ngx_str_t                                *value, file;
    ngx_uint_t                                i;
    ngx_stream_redis_master_sentinel_conf_t  *sc;

    if (rmcf->sentinel) {
        return "is duplicate";
    }

    sc = ngx_pcalloc(cf->pool, sizeof(ngx_stream_redis_master_sentinel_conf_t));
    if (sc == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&sc->addrs, cf->pool, 3, sizeof(ngx_url_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;
    ngx_str_null(&file);

    for (i = 1; i < cf->args->nelts; i++) {

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "name=")) {
            sc->name.data = value[i].data + 5;
            sc->name.len = value[i].len - 5;

            /* its first 64 bytes: nginx cuts an error line at 1024 */

            if (sc->name.len > NGX_STREAM_REDIS_MASTER_MAX_MASTER_NAME) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"name=%*s...\" in \"%V\": "
                                   "it must be a name of 1 to %d bytes, not "
                                   "%uz", (size_t) 64, sc->name.data,
                                   &cmd->name,
                                   NGX_STREAM_REDIS_MASTER_MAX_MASTER_NAME,
                                   sc->name.len);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_stream_redis_master_credential(cf, &value[i], &sc->check,
                                               &file)
            == NGX_OK)
        {
            continue;
        }

        if (ngx_strlchr(value[i].data, value[i].data + value[i].len, '=')) {
            return ngx_stream_redis_master_bad_param(cf, &value[i]);
        }

        u = ngx_array_push(&sc->addrs);
        if (u == NULL) {
            return NGX_CONF_ERROR;
        }

        /* names are resolved once the resolver is known (add_sentinels) */

        ngx_memzero(u, sizeof(ngx_url_t));
        u->url = value[i];
        u->no_resolve = 1;

        if (ngx_parse_url(cf->pool, u) != NGX_OK || u->no_port) {

            /* it may be a mistyped secret: echoed as bad_param() does */

            len = ngx_stream_redis_master_address_masked(&value[i]);

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid Sentinel address \"%*s%s\" in "
                               "\"%V\"%s%s", len, value[i].data,
                               len < value[i].len ? "..." : "", &cmd->name,
                               u->err ? ": " : "", u->err ? u->err : "");
            return NGX_CONF_ERROR;
        }
    }

    if (sc->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"redis_sentinel\" needs \"name=\", the name "
                           "Sentinels monitor the master under");
        return NGX_CONF_ERROR;
    }

    if (sc->addrs.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"redis_sentinel\" needs at least one address");
        return NGX_CONF_ERROR;
    }

    rv = ngx_stream_redis_master_credentials_done(cf, &cmd->name, &sc->check,
                                                  &file);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    rmcf->sentinel = sc;

    return NGX_CONF_OK;
}


/*
 * An unknown parameter may be a mistyped "password=" ("password:s3cret"),
 * or a secret written on its own: only its leading name, letters and "_"
 * up to an "=" or any other character, is echoed, so that a secret never
 * reaches the error log.
 */

static ngx_uint_t
ngx_stream_redis_master_is_number(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }

    return len > 0;
}


/*
 * "name=TIME" (the name is "skip" bytes), within [low, high]; otherwise
 * nginx -t says so, with the value and the range.
 */

static ngx_int_t
ngx_stream_redis_master_time_param(ngx_conf_t *cf, ngx_str_t *value,
    size_t skip, ngx_msec_t low, ngx_msec_t high, ngx_msec_t *ms)
{
    ngx_str_t   s;
    ngx_msec_t  v;

    s.data = value->data + skip;
    s.len = value->len - skip;

    v = ngx_parse_time(&s, 0);

    if (v == (ngx_msec_t) NGX_ERROR || v < low || v > high) {
        return ngx_stream_redis_master_out_of_range(cf, value, "a time",
                                          (off_t) low, (off_t) high,
                                          ngx_stream_redis_master_print_msec);
    }

    *ms = v;

    return NGX_OK;
}


/* "name=N", as above */

static ngx_int_t
ngx_stream_redis_master_num_param(ngx_conf_t *cf, ngx_str_t *value,
    size_t skip, ngx_int_t low, ngx_int_t high, ngx_int_t *n)
{
    ngx_int_t  v;

    v = ngx_atoi(value->data + skip, value->len - skip);

    if (v == NGX_ERROR || v < low || v > high) {
        return ngx_stream_redis_master_out_of_range(cf, value, "a number",
                                           (off_t) low, (off_t) high,
                                           ngx_stream_redis_master_print_num);
    }

    *n = v;

    return NGX_OK;
}


/* only names and numbers get here, never a password */

static ngx_int_t
ngx_stream_redis_master_out_of_range(ngx_conf_t *cf, ngx_str_t *value,
    const char *what, off_t low, off_t high,
    u_char *(*print)(u_char *p, off_t v))
{
    u_char      range[2 * NGX_OFF_T_LEN + 16], *p;
    ngx_str_t  *args;

    args = cf->args->elts;

    p = print(range, low);
    p = ngx_cpymem(p, " to ", 4);
    p = print(p, high);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\": it must be %s "
                       "from %*s", value, &args[0], what, p - range, range);

    return NGX_ERROR;
}


/* a time as it is best written: "1h", "1m", "1s" or "50ms" */

static u_char *
ngx_stream_redis_master_print_msec(u_char *p, off_t ms)
{
    if (ms == 0) {
        *p = '0';
        return p + 1;
    }

    if (ms % (3600 * 1000) == 0) {
        return ngx_sprintf(p, "%Oh", ms / (3600 * 1000));
    }

    if (ms % (60 * 1000) == 0) {
        return ngx_sprintf(p, "%Om", ms / (60 * 1000));
    }

    if (ms % 1000 == 0) {
        return ngx_sprintf(p, "%Os", ms / 1000);
    }

    return ngx_sprintf(p, "%Oms", ms);
}


static u_char *
ngx_stream_redis_master_print_num(u_char *p, off_t n)
{
    return ngx_sprintf(p, "%O", n);
}


static u_char *
ngx_stream_redis_master_print_size(u_char *p, off_t size)
{
    if (size && size % (1 << 30) == 0) {
        return ngx_sprintf(p, "%Og", size >> 30);
    }

    if (size && size % (1 << 20) == 0) {
        return ngx_sprintf(p, "%Om", size >> 20);
    }

    if (size && size % 1024 == 0) {
        return ngx_sprintf(p, "%Ok", size >> 10);
    }

    return ngx_sprintf(p, "%O", size);
}


/*
 * How much of a parameter an error may echo: its leading name, letters
 * and "_" up to an "=" or any other character, with the "=".
 */

static size_t
ngx_stream_redis_master_masked(ngx_str_t *value)
{
    u_char  c;
    size_t  len;

    for (len = 0; len < value->len && len < 32; len++) {
        c = (u_char) (value->data[len] | 0x20);

        if ((c < 'a' || c > 'z') && value->data[len] != '_') {
            break;
        }
    }

    if (len < value->len && value->data[len] == '=') {
        len++;
    }

    return len;
}


/*
 * How much of a Sentinel address an error may echo, since it may be a
 * mistyped "password:s3cret": an IP address, or a host name of letters
 * (".", "-", "_" too, but no digit, as in a secret), then ":" and the
 * digits of a port; an IPv6 address in brackets, then its port.
 */

static size_t
ngx_stream_redis_master_address_masked(ngx_str_t *value)
{
    u_char      c, *p, *last;
    ngx_uint_t  letters, digits;

    p = value->data;
    last = p + value->len;

    if (p < last && *p == '[') {

        for (p++; p < last && *p != ']'; p++) {
            c = (u_char) (*p | 0x20);

            if ((*p < '0' || *p > '9') && (c < 'a' || c > 'f')
                && *p != ':' && *p != '.')
            {
                return p - value->data;
            }
        }

        if (p == last) {
            return p - value->data;
        }

        p++;

    } else {
        letters = 0;
        digits = 0;

        for ( /* void */ ; p < last && *p != ':'; p++) {
            c = (u_char) (*p | 0x20);

            if (c >= 'a' && c <= 'z' && !digits) {
                letters = 1;
                continue;
            }

            if (*p >= '0' && *p <= '9' && !letters) {
                digits = 1;
                continue;
            }

            if (*p != '.' && *p != '-' && *p != '_') {
                return p - value->data;
            }
        }
    }

    if (p < last && *p == ':') {
        for (p++; p < last && *p >= '0' && *p <= '9'; p++) {
            /* void */
        }
    }

    return p - value->data;
}


static char *
ngx_stream_redis_master_bad_param(ngx_conf_t *cf, ngx_str_t *value)
{
    size_t      len;
    ngx_str_t  *args;

    args = cf->args->elts;
    len = ngx_stream_redis_master_masked(value);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%*s%s\" in \"%V\"",
                       len, value->data, len < value->len ? "..." : "",
                       &args[0]);

    return NGX_CONF_ERROR;
}


static char *
ngx_stream_redis_master_read_password(ngx_conf_t *cf, ngx_str_t *directive,
    ngx_str_t *path, ngx_str_t *password)
{
    u_char           *buf;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_str_t         name;
    ngx_file_info_t   fi;

    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    /*
     * Opening a FIFO for reading would block the master until a writer
     * comes: only a regular file is opened, and it must still be one then.
     */

    if (ngx_file_info(name.data, &fi) != NGX_FILE_ERROR
        && !ngx_is_file(&fi))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" password_file \"%V\" is not a regular "
                           "file", directive, &name);
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot open password_file \"%V\"",
                           directive, &name);
        return NGX_CONF_ERROR;
    }

    buf = NULL;
    n = NGX_ERROR;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        goto failed;
    }

    if (!ngx_is_file(&fi)) {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" password_file \"%V\" is not a regular "
                           "file", directive, &name);
        return NGX_CONF_ERROR;
    }

    if (ngx_file_access(&fi) & S_IROTH) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "\"%V\" password_file \"%V\" can be read by any "
                           "user: make it readable only by nginx's master "
                           "(chmod 600 or 640)", directive, &name);
    }

    len = (size_t) ngx_file_size(&fi);

    if (len > 4096) {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" password_file \"%V\" is larger "
                           "than 4096 bytes", directive, &name);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->pool, len + 1);
    if (buf == NULL) {
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, len);

failed:

    if (n == NGX_ERROR || (size_t) n != len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" cannot read password_file \"%V\"",
                           directive, &name);
        ngx_close_file(fd);
        return NGX_CONF_ERROR;
    }

    ngx_close_file(fd);

    /* the usual editor's trailing newline is not part of the secret */

    while (len && (buf[len - 1] == LF || buf[len - 1] == CR)) {
        len--;
    }

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" password_file \"%V\" is empty",
                           directive, &name);
        return NGX_CONF_ERROR;
    }

    password->data = buf;
    password->len = len;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_stream_redis_master_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_uint_t                            n;
    ngx_stream_upstream_rr_peers_t       *peers;
    ngx_stream_redis_master_srv_conf_t   *rmcf, **rmcfp;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    if (ngx_stream_upstream_init_round_robin(cf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_stream_redis_master_init_peer;

    rmcf = ngx_stream_conf_upstream_srv_conf(us,
                                             ngx_stream_redis_master_module);
    peers = us->peer.data;

    if (rmcf->check.interval == NGX_CONF_UNSET_MSEC) {
        rmcf->check.interval = 1000;
        rmcf->check.timeout = 1000;
        rmcf->check.rise = 1;
        rmcf->check.fall = 2;
    }

    ngx_conf_init_msec_value(rmcf->max_lag, 15000);

#if (NGX_STREAM_SSL)
    if (ngx_stream_redis_master_merge_ssl(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_stream_redis_master_warn_unverified(cf, rmcf);
#endif

    n = peers->number + (peers->next ? peers->next->number : 0);

    if (ngx_array_init(&rmcf->targets, cf->pool, n,
                       sizeof(ngx_stream_redis_master_target_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_add_peers(cf, rmcf, peers) != NGX_OK) {
        return NGX_ERROR;
    }

    if (peers->next
        && ngx_stream_redis_master_add_peers(cf, rmcf, peers->next) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_add_sentinels(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_init_min_replicas(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    rmmcf = ngx_stream_conf_get_module_main_conf(cf,
                                               ngx_stream_redis_master_module);

    rmcfp = ngx_array_push(&rmmcf->upstreams);
    if (rmcfp == NULL) {
        return NGX_ERROR;
    }

    *rmcfp = rmcf;

    return NGX_OK;
}


/*
 * min_replicas=majority: the fewest replicas for which two servers of the
 * upstream can never both qualify.  Two masters leave n - 2 servers that
 * can follow one of them, each following one at a time: N > (n - 2) / 2
 * makes both having N impossible, and n / 2 (rounded down) is the least
 * such N (docs/failover.md, "Fleet agreement").
 */

static ngx_int_t
ngx_stream_redis_master_init_min_replicas(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_uint_t  n;

    n = rmcf->targets.nelts;

    ngx_conf_init_msec_value(rmcf->min_replicas_max_lag, 10000);

    if (rmcf->min_replicas == NGX_STREAM_REDIS_MASTER_MAJORITY) {
        rmcf->min_replicas = ngx_max(n / 2, 1);

        if (rmcf->min_replicas > NGX_STREAM_REDIS_MASTER_SLAVES) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"redis_master min_replicas=majority\" in "
                               "upstream \"%V\" is %ui replicas, more than "
                               "the %d it can count", rmcf->name,
                               rmcf->min_replicas,
                               NGX_STREAM_REDIS_MASTER_SLAVES);
            return NGX_ERROR;
        }
    }

    if (rmcf->min_replicas >= n && rmcf->min_replicas) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"redis_master min_replicas=%ui\" in upstream "
                           "\"%V\" asks for more replicas than the %ui "
                           "other servers it has: no server could take "
                           "writes", rmcf->min_replicas, rmcf->name,
                           n ? n - 1 : 0);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_add_peers(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_upstream_rr_peers_t *peers)
{
    ngx_uint_t                           i;
    ngx_addr_t                           addr;
    ngx_stream_upstream_rr_peer_t       *peer, *other;
    ngx_stream_upstream_rr_peers_t      *owner;
    ngx_stream_redis_master_target_t    *t, **tp;

    for (peer = peers->peer; peer; peer = peer->next) {

        addr.sockaddr = peer->sockaddr;
        addr.socklen = peer->socklen;
        addr.name = peer->name;

        t = ngx_stream_redis_master_add_target(cf, rmcf,
                                          NGX_STREAM_REDIS_MASTER_KIND_REDIS,
                                          &addr, &peer->server, &rmcf->check);
        if (t == NULL) {
            return NGX_ERROR;
        }

        /*
         * One Redis server listed twice would count twice as a follower,
         * and claim master twice: a tie that refuses every write.
         */

        tp = rmcf->targets.elts;

        for (i = 0; i < rmcf->targets.nelts; i++) {
            if (tp[i] == t) {
                other = ngx_stream_redis_master_peer(rmcf->upstream->peer.data,
                                                     i, &owner);

                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "server \"%V\" in upstream \"%V\" has "
                                   "the address %V of server \"%V\": list "
                                   "each Redis server once", &peer->server,
                                   rmcf->name, &peer->name, &other->server);
                return NGX_ERROR;
            }
        }

        tp = ngx_array_push(&rmcf->targets);
        if (tp == NULL) {
            return NGX_ERROR;
        }

        *tp = t;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_add_sentinels(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_str_t                                 url;
    ngx_url_t                                *u;
    ngx_msec_t                                timeout;
    ngx_uint_t                                i, k;
    ngx_resolver_t                           *resolver;
    ngx_stream_redis_master_target_t         *t;
    ngx_stream_redis_master_sentinel_conf_t  *sc;

    sc = rmcf->sentinel;

    if (sc == NULL) {
        return NGX_OK;
    }

    /* Sentinels are checked as often as the servers, with their own AUTH */

    sc->check.interval = rmcf->check.interval;
    sc->check.timeout = rmcf->check.timeout;
    sc->check.rise = 1;
    sc->check.fall = rmcf->check.fall;

#if (NGX_STREAM_SSL)
    if (rmcf->sentinel_ssl.enable) {
        sc->check.ssl = &rmcf->sentinel_ssl;
    }
#endif

    if (ngx_array_init(&rmcf->sentinels, cf->pool, sc->addrs.nelts,
                       sizeof(ngx_stream_redis_master_target_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    resolver = ngx_stream_redis_master_resolver(cf, rmcf, &timeout);

    u = sc->addrs.elts;

    for (i = 0; i < sc->addrs.nelts; i++) {

        if (resolver && ngx_stream_redis_master_is_name(&u[i].host)) {
            t = ngx_stream_redis_master_add_named(cf, rmcf, &u[i], resolver,
                                                  timeout);
            if (t == NULL) {
                return NGX_ERROR;
            }

            if (ngx_stream_redis_master_add_sentinel(rmcf, t) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        /* without a resolver, a name is resolved now, and for good */

        url = u[i].url;
        ngx_memzero(&u[i], sizeof(ngx_url_t));
        u[i].url = url;

        if (ngx_parse_url(cf->pool, &u[i]) != NGX_OK) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "invalid Sentinel address \"%V\" in "
                          "\"redis_sentinel\" of upstream \"%V\"%s%s%s",
                          &url, rmcf->name, u[i].err ? ": " : "",
                          u[i].err ? u[i].err : "",
                          resolver ? ""
                          : " (with a \"resolver\" in stream{}, Sentinel "
                            "names are resolved at run time)");
            return NGX_ERROR;
        }

        for (k = 0; k < u[i].naddrs; k++) {

            t = ngx_stream_redis_master_add_target(cf, rmcf,
                                       NGX_STREAM_REDIS_MASTER_KIND_SENTINEL,
                                       &u[i].addrs[k], &u[i].url, &sc->check);
            if (t == NULL) {
                return NGX_ERROR;
            }

            if (ngx_stream_redis_master_add_sentinel(rmcf, t) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_add_sentinel(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_target_t *t)
{
    ngx_uint_t                          i;
    ngx_stream_redis_master_target_t  **tp;

    /* a Sentinel listed twice still has one vote */

    tp = rmcf->sentinels.elts;

    for (i = 0; i < rmcf->sentinels.nelts; i++) {
        if (tp[i] == t) {
            return NGX_OK;
        }
    }

    tp = ngx_array_push(&rmcf->sentinels);
    if (tp == NULL) {
        return NGX_ERROR;
    }

    *tp = t;

    return NGX_OK;
}


/*
 * The resolver that resolves Sentinel names at run time: the upstream's
 * own (nginx 1.27.3 and later), else the one of stream{}; NULL if none
 * has a name server.
 */

static ngx_resolver_t *
ngx_stream_redis_master_resolver(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_msec_t *timeout)
{
    ngx_resolver_t              *resolver;
    ngx_stream_core_srv_conf_t  *cscf;

    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);

    resolver = cscf->resolver;
    *timeout = cscf->resolver_timeout;

#if (nginx_version >= 1027003)
    if (rmcf->upstream->resolver) {
        resolver = rmcf->upstream->resolver;

        if (rmcf->upstream->resolver_timeout != NGX_CONF_UNSET_MSEC) {
            *timeout = rmcf->upstream->resolver_timeout;
        }
    }
#endif

    if (*timeout == NGX_CONF_UNSET_MSEC) {
        *timeout = 30000;
    }

    if (resolver == NULL || resolver == NGX_CONF_UNSET_PTR
        || resolver->connections.nelts == 0)
    {
        return NULL;
    }

    return resolver;
}


static ngx_uint_t
ngx_stream_redis_master_is_name(ngx_str_t *host)
{
    if (host->len == 0 || host->data[0] == '[') {
        return 0;
    }

    return ngx_inet_addr(host->data, host->len) == INADDR_NONE;
}


/*
 * A Sentinel named by a host name is one Sentinel, whatever addresses the
 * name has: its target is known by the name, and the checker resolves it.
 */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_add_named(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_url_t *u,
    ngx_resolver_t *resolver, ngx_msec_t timeout)
{
    ngx_addr_t                         addr;
    ngx_stream_redis_master_target_t  *t;

    ngx_memzero(&addr, sizeof(ngx_addr_t));
    addr.name = u->url;

    t = ngx_stream_redis_master_add_target(cf, rmcf,
                                       NGX_STREAM_REDIS_MASTER_KIND_SENTINEL,
                                       &addr, &u->url, &rmcf->sentinel->check);
    if (t == NULL) {
        return NULL;
    }

    t->host = u->host;
    t->port = u->port;
    t->resolver = resolver;
    t->resolver_timeout = timeout;

    return t;
}


/*
 * Returns the probe target for one address, creating it unless another
 * upstream already has it; that upstream must check it the same way.
 */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_add_target(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t kind,
    ngx_addr_t *addr, ngx_str_t *server,
    ngx_stream_redis_master_check_conf_t *check)
{
    ngx_uint_t                             i;
    ngx_stream_redis_master_target_t       probe, *t, **tp;
    ngx_stream_redis_master_srv_conf_t   **pool;
    ngx_stream_redis_master_main_conf_t   *rmmcf;

    rmmcf = ngx_stream_conf_get_module_main_conf(cf,
                                               ngx_stream_redis_master_module);

    ngx_memzero(&probe, sizeof(ngx_stream_redis_master_target_t));

    probe.kind = kind;
    probe.name = addr->name;
    probe.check = check;

    if (kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL) {
        probe.master_name = rmcf->sentinel->name;
    }

    if (ngx_stream_redis_master_target_key(cf, &probe, &probe.key) != NGX_OK) {
        return NULL;
    }

    t = NULL;
    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        if (tp[i]->key.len == probe.key.len
            && ngx_memcmp(tp[i]->key.data, probe.key.data, probe.key.len)
               == 0)
        {
            t = tp[i];
            break;
        }
    }

    if (t && t->check != check
        && !ngx_stream_redis_master_same_check(t->check, check))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" in upstream \"%V\" is checked with "
                           "other settings or credentials than in upstream "
                           "\"%V\": each server is probed once, with one set "
                           "of settings", kind
                           == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
                           ? "Sentinel" : "server", server, rmcf->name,
                           &t->upstreams);
        return NULL;
    }

    if (t == NULL) {
        t = ngx_palloc(cf->pool, sizeof(ngx_stream_redis_master_target_t));
        if (t == NULL) {
            return NULL;
        }

        *t = probe;
        t->server = *server;
        t->sockaddr = addr->sockaddr;
        t->socklen = addr->socklen;

        /* "port=": the probes go elsewhere than the clients */

        if (check->port) {
            t->sockaddr = ngx_palloc(cf->pool, addr->socklen);
            if (t->sockaddr == NULL) {
                return NULL;
            }

            ngx_memcpy(t->sockaddr, addr->sockaddr, addr->socklen);
            ngx_inet_set_port(t->sockaddr, check->port);
        }

#if (NGX_STREAM_SSL)
        if (check->ssl
            && ngx_stream_redis_master_ssl_name(cf, t, server) != NGX_OK)
        {
            return NULL;
        }
#endif

        if (ngx_array_init(&t->pools, cf->pool, 2,
                           sizeof(ngx_stream_redis_master_srv_conf_t *))
            != NGX_OK)
        {
            return NULL;
        }

        tp = ngx_array_push(&rmmcf->targets);
        if (tp == NULL) {
            return NULL;
        }

        *tp = t;
    }

    /* upstreams are set up one at a time: ours may be the last one */

    pool = t->pools.elts;

    if (t->pools.nelts && pool[t->pools.nelts - 1] == rmcf) {
        return t;
    }

    pool = ngx_array_push(&t->pools);
    if (pool == NULL) {
        return NULL;
    }

    *pool = rmcf;

    /* the names of every upstream sharing it, for log lines */

    if (t->pools.nelts == 1) {
        t->upstreams = *rmcf->name;
        return t;
    }

    probe.upstreams.len = t->upstreams.len + 1 + rmcf->name->len;
    probe.upstreams.data = ngx_pnalloc(cf->pool, probe.upstreams.len);
    if (probe.upstreams.data == NULL) {
        return NULL;
    }

    ngx_sprintf(probe.upstreams.data, "%V,%V", &t->upstreams, rmcf->name);
    t->upstreams = probe.upstreams;

    return t;
}


/*
 * The key that identifies a target in the shared zone across reloads: what
 * it is and its address, never its settings.  Workers of an older
 * configuration go on reading the state that the new one's workers
 * refresh, whatever a reload changed in redis_check, the credentials
 * included; and no secret, nor a username, is stored in shared memory.
 */

static ngx_int_t
ngx_stream_redis_master_target_key(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *key)
{
    size_t  len;

    len = sizeof("sentinel:||") + t->name.len + t->master_name.len;

    key->data = ngx_pnalloc(cf->pool, len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = ngx_snprintf(key->data, len, "%s%V|%V",
                            t->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
                            ? "sentinel:" : "", &t->name, &t->master_name)
               - key->data;

    return NGX_OK;
}


/* whether two upstreams check one server the same way */

static ngx_uint_t
ngx_stream_redis_master_same_check(ngx_stream_redis_master_check_conf_t *a,
    ngx_stream_redis_master_check_conf_t *b)
{
#if (NGX_STREAM_SSL)
    if ((a->ssl == NULL) != (b->ssl == NULL)
        || (a->ssl && !ngx_stream_redis_master_same_ssl(a->ssl, b->ssl)))
    {
        return 0;
    }
#endif

    return a->interval == b->interval
           && a->timeout == b->timeout
           && a->rise == b->rise
           && a->fall == b->fall
           && a->port == b->port
           && a->username.len == b->username.len
           && ngx_strncmp(a->username.data, b->username.data,
                          a->username.len) == 0
           && a->password.len == b->password.len
           && ngx_strncmp(a->password.data, b->password.data,
                          a->password.len) == 0;
}


#if (NGX_STREAM_SSL)

/*
 * The Sentinels take from redis_ssl_* whatever redis_sentinel_ssl_* leaves
 * unset; each side gets a context of its own once enabled.
 */

static ngx_int_t
ngx_stream_redis_master_merge_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_stream_redis_master_ssl_conf_t  *conf, *prev;

    conf = &rmcf->sentinel_ssl;
    prev = &rmcf->ssl;

    ngx_conf_init_value(prev->enable, 0);
    ngx_conf_init_value(prev->session_reuse, 1);
    ngx_conf_init_value(prev->server_name, 0);
    ngx_conf_init_value(prev->verify, 0);
    ngx_conf_init_uint_value(prev->verify_depth, 1);

    if (prev->protocols == 0) {
        prev->protocols = NGX_CONF_BITMASK_SET|NGX_SSL_TLSv1_2
                          |NGX_SSL_TLSv1_3;
    }

    if (prev->ciphers.data == NULL) {
        ngx_str_set(&prev->ciphers, "DEFAULT");
    }

    /* what is left unset is as the redis_ssl_* directives have it */

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->session_reuse, prev->session_reuse, 1);
    ngx_conf_merge_value(conf->server_name, prev->server_name, 0);
    ngx_conf_merge_value(conf->verify, prev->verify, 0);
    ngx_conf_merge_uint_value(conf->verify_depth, prev->verify_depth, 1);
    ngx_conf_merge_bitmask_value(conf->protocols, prev->protocols,
                                 (NGX_CONF_BITMASK_SET|NGX_SSL_TLSv1_2
                                  |NGX_SSL_TLSv1_3));
    ngx_conf_merge_str_value(conf->ciphers, prev->ciphers, "DEFAULT");
    ngx_conf_merge_str_value(conf->name, prev->name, "");
    ngx_conf_merge_str_value(conf->trusted_certificate,
                             prev->trusted_certificate, "");
    ngx_conf_merge_str_value(conf->certificate, prev->certificate, "");
    ngx_conf_merge_str_value(conf->certificate_key, prev->certificate_key,
                             "");

    if (prev->enable) {
        if (ngx_stream_redis_master_set_ssl(cf, prev, "redis_ssl")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        rmcf->check.ssl = prev;
    }

    if (rmcf->sentinel == NULL || !conf->enable) {
        return NGX_OK;
    }

    /* the same settings share one context */

    if (prev->enable && ngx_stream_redis_master_same_ssl(conf, prev)) {
        conf->ssl = prev->ssl;
        return NGX_OK;
    }

    return ngx_stream_redis_master_set_ssl(cf, conf, "redis_sentinel_ssl");
}


/* as ngx_stream_proxy_set_ssl() does for proxy_ssl_* */

static ngx_int_t
ngx_stream_redis_master_set_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_ssl_conf_t *sc, const char *prefix)
{
    ngx_pool_cleanup_t  *cln;

    sc->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (sc->ssl == NULL) {
        return NGX_ERROR;
    }

    sc->ssl->log = cf->log;

    if (ngx_ssl_create(sc->ssl, sc->protocols, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(sc->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = sc->ssl;

    if (ngx_ssl_ciphers(cf, sc->ssl, &sc->ciphers, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (sc->certificate.len) {
        if (sc->certificate_key.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "no \"%s_certificate_key\" is defined for "
                          "certificate \"%V\"", prefix, &sc->certificate);
            return NGX_ERROR;
        }

        if (ngx_ssl_certificate(cf, sc->ssl, &sc->certificate,
                                &sc->certificate_key, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (sc->certificate_key.len) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "no \"%s_certificate\" is defined for key \"%V\"",
                      prefix, &sc->certificate_key);
        return NGX_ERROR;
    }

    if (sc->verify) {
        if (sc->trusted_certificate.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "no \"%s_trusted_certificate\" for \"%s_verify\"",
                          prefix, prefix);
            return NGX_ERROR;
        }

        if (ngx_ssl_trusted_certificate(cf, sc->ssl, &sc->trusted_certificate,
                                        sc->verify_depth)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_ssl_client_session_cache(cf, sc->ssl, sc->session_reuse)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_stream_redis_master_same_ssl(ngx_stream_redis_master_ssl_conf_t *a,
    ngx_stream_redis_master_ssl_conf_t *b)
{
    return a->enable == b->enable
           && a->session_reuse == b->session_reuse
           && a->server_name == b->server_name
           && a->verify == b->verify
           && a->verify_depth == b->verify_depth
           && a->protocols == b->protocols
           && ngx_stream_redis_master_same_str(&a->ciphers, &b->ciphers)
           && ngx_stream_redis_master_same_str(&a->name, &b->name)
           && ngx_stream_redis_master_same_str(&a->trusted_certificate,
                                               &b->trusted_certificate)
           && ngx_stream_redis_master_same_str(&a->certificate,
                                               &b->certificate)
           && ngx_stream_redis_master_same_str(&a->certificate_key,
                                               &b->certificate_key);
}


/*
 * The name a server's certificate must bear: redis_ssl_name, or else the
 * host of the "server" (or Sentinel) address as written, without its port.
 */

static ngx_int_t
ngx_stream_redis_master_ssl_name(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *server)
{
    u_char     *p, *last;
    ngx_str_t   name;

    name = t->check->ssl->name.len ? t->check->ssl->name : *server;

    p = name.data;
    last = name.data + name.len;

    if (name.len && *p == '[') {
        p = ngx_strlchr(p, last, ']');

        if (p == NULL) {
            p = name.data;
        }
    }

    p = ngx_strlchr(p, last, ':');

    if (p != NULL) {
        name.len = p - name.data;
    }

    /* SSL_set_tlsext_host_name() takes a null-terminated string */

    t->ssl_name.data = ngx_pnalloc(cf->pool, name.len + 1);
    if (t->ssl_name.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(t->ssl_name.data, name.data, name.len + 1);
    t->ssl_name.len = name.len;

    return NGX_OK;
}


/*
 * TLS that does not check the peer's certificate gives AUTH to whoever
 * answers at the address: nginx -t says so (docs/tls.md says why it is a
 * warning, not a refusal).
 */

static void
ngx_stream_redis_master_warn_unverified(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_stream_upstream_srv_conf_t  *uscf;

    uscf = rmcf->upstream;

    if (rmcf->ssl.enable && !rmcf->ssl.verify && rmcf->check.password.len) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "upstream \"%V\" sends the \"redis_check\" password "
                      "over TLS without checking the servers' certificates, "
                      "to any server that answers: set \"redis_ssl_verify "
                      "on\" and \"redis_ssl_trusted_certificate\" in %s:%ui",
                      rmcf->name, uscf->file_name, uscf->line);
    }

    if (rmcf->sentinel && rmcf->sentinel_ssl.enable
        && !rmcf->sentinel_ssl.verify && rmcf->sentinel->check.password.len)
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "upstream \"%V\" sends the \"redis_sentinel\" "
                      "password over TLS without checking the Sentinels' "
                      "certificates, to any Sentinel that answers: set "
                      "\"redis_sentinel_ssl_verify on\" (or "
                      "\"redis_ssl_verify on\", which it inherits) and a "
                      "trusted certificate in %s:%ui",
                      rmcf->name, uscf->file_name, uscf->line);
    }
}


/* redis_ssl_verify_depth and redis_sentinel_ssl_verify_depth: 0 to 100 */

static char *
ngx_stream_redis_master_ssl_verify_depth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t  *np;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n > NGX_STREAM_REDIS_MASTER_MAX_VERIFY_DEPTH) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": it must be a "
                           "number from 0 to %d", &value[1], &cmd->name,
                           NGX_STREAM_REDIS_MASTER_MAX_VERIFY_DEPTH);
        return NGX_CONF_ERROR;
    }

    *np = n;

    return NGX_CONF_OK;
}


/* redis_ssl_name and redis_sentinel_ssl_name: a DNS name, 1 to 253 bytes */

static char *
ngx_stream_redis_master_check_ssl_name(ngx_conf_t *cf, void *post,
    void *data)
{
    ngx_str_t  *name = data;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (name->len == 0 || name->len > NGX_STREAM_REDIS_MASTER_MAX_SSL_NAME) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": it must be a "
                           "name of 1 to %d bytes", &value[1], &value[0],
                           NGX_STREAM_REDIS_MASTER_MAX_SSL_NAME);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}

#endif


/*
 * the configuration is committed: what it added to the zone stays, and its
 * generation is the one nginx runs; the version is logged as nginx logs
 * its own at start-up
 */

static ngx_int_t
ngx_stream_redis_master_init_module(ngx_cycle_t *cycle)
{
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                  NGX_STREAM_REDIS_MASTER_VER " (hiredis %d.%d.%d)",
                  HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH);

    rmmcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                               ngx_stream_redis_master_module);

    if (rmmcf) {
        rmmcf->committed = 1;
        ngx_stream_redis_master_commit(cycle);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                            i;
    ngx_stream_redis_master_target_t    **tp;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    rmmcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                               ngx_stream_redis_master_module);

    if (rmmcf == NULL || rmmcf->shm_zone == NULL) {
        return NGX_OK;
    }

    /* before it reads a node: the zone keeps its configuration's entries */

    ngx_stream_redis_master_register(cycle, 0);

    /* the layers below trigger these through their callbacks */

    ngx_stream_redis_master_kicked = ngx_stream_redis_master_run_kicks;
    ngx_stream_redis_master_tracked = ngx_stream_redis_master_hurry;

    if (ngx_stream_redis_master_init_balancer(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_init_checkers(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the watch looks for targets to take over once the shortest interval */

    rmmcf->watch = NGX_STREAM_REDIS_MASTER_WATCH;
    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        rmmcf->watch = ngx_min(rmmcf->watch, tp[i]->check->interval);
    }

    rmmcf->started = ngx_current_msec;
    rmmcf->watched = ngx_current_msec;
    rmmcf->probing = ngx_stream_redis_master_watch(cycle);

    rmmcf->sweep.handler = ngx_stream_redis_master_sweep_handler;
    rmmcf->sweep.data = rmmcf;
    rmmcf->sweep.log = cycle->log;
    rmmcf->sweep.cancelable = 1;

    ngx_add_timer(&rmmcf->sweep, ngx_stream_redis_master_next_sweep(rmmcf));

    return NGX_OK;
}


static void
ngx_stream_redis_master_exit_process(ngx_cycle_t *cycle)
{
    ngx_stream_redis_master_close_checkers(cycle);
    ngx_stream_redis_master_disown(ngx_stream_cycle_get_module_main_conf(
                                     cycle, ngx_stream_redis_master_module));
    ngx_stream_redis_master_register(cycle, 1);
}


/*
 * Each sweep runs the checks other workers asked for, then acts on what
 * the checks of every worker recorded; once a watch period it looks for
 * targets to take over.
 */

static void
ngx_stream_redis_master_sweep_handler(ngx_event_t *ev)
{
    ngx_uint_t                            watched;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ev->data;
    watched = 0;

    ngx_stream_redis_master_run_kicks((ngx_cycle_t *) ngx_cycle);
    ngx_stream_redis_master_reroute((ngx_cycle_t *) ngx_cycle);

    if ((ngx_msec_int_t) (ngx_current_msec - rmmcf->watched)
        >= (ngx_msec_int_t) rmmcf->watch
        || ngx_stream_redis_master_taking_over(rmmcf))
    {
        rmmcf->watched = ngx_current_msec;
        rmmcf->probing = ngx_stream_redis_master_watch((ngx_cycle_t *)
                                                       ngx_cycle);
        watched = 1;
    }

    /*
     * The first worker gives back the entries that no running worker
     * reads: at each sweep for its first seconds, while the workers of the
     * configuration before exit, then at each watch.
     */

    if (ngx_worker == 0
        && (watched
            || (ngx_msec_int_t) (ngx_current_msec - rmmcf->started)
               < NGX_STREAM_REDIS_MASTER_TAKEOVER))
    {
        ngx_stream_redis_master_reclaim((ngx_cycle_t *) ngx_cycle);
    }

    if (!ngx_terminate) {
        ngx_add_timer(ev, ngx_stream_redis_master_next_sweep(rmmcf));
    }
}


/*
 * A worker that probes servers, or proxies sessions that a change of
 * master must close, sweeps every NGX_STREAM_REDIS_MASTER_SWEEP; any other
 * one only watches.  Sweeps fall on the probes' slots: one wakeup does
 * both.
 */

static ngx_msec_t
ngx_stream_redis_master_next_sweep(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    if (rmmcf->probing
        || ngx_stream_redis_master_taking_over(rmmcf)
        || ngx_stream_redis_master_tracking((ngx_cycle_t *) ngx_cycle))
    {
        return ngx_stream_redis_master_slot(NGX_STREAM_REDIS_MASTER_SWEEP,
                                            NGX_STREAM_REDIS_MASTER_WATCH);
    }

    return ngx_stream_redis_master_slot(rmmcf->watch, rmmcf->watch);
}


/*
 * Whether the first worker, in its first seconds, has yet to take targets
 * over from the workers of the configuration before a reload: they hand
 * them over as they exit, and it watches every sweep meanwhile, so that
 * probing pauses for a sweep rather than a watch period.
 */

static ngx_uint_t
ngx_stream_redis_master_taking_over(ngx_stream_redis_master_main_conf_t *rmmcf)
{
    return ngx_worker == 0
           && rmmcf->probing < rmmcf->targets.nelts
           && (ngx_msec_int_t) (ngx_current_msec - rmmcf->started)
              < NGX_STREAM_REDIS_MASTER_TAKEOVER;
}


/*
 * A session or a held connection began in this worker: sweep soon, as a
 * change of master must reach it within one sweep.
 */

static void
ngx_stream_redis_master_hurry(ngx_cycle_t *cycle)
{
    ngx_msec_t                            delay;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                               ngx_stream_redis_master_module);

    if (!rmmcf->sweep.timer_set) {
        return;
    }

    delay = ngx_stream_redis_master_slot(NGX_STREAM_REDIS_MASTER_SWEEP,
                                         NGX_STREAM_REDIS_MASTER_WATCH);

    if ((ngx_msec_int_t) (rmmcf->sweep.timer.key - ngx_current_msec)
        > (ngx_msec_int_t) delay)
    {
        ngx_del_timer(&rmmcf->sweep);
        ngx_add_timer(&rmmcf->sweep, delay);
    }
}


static ngx_int_t
ngx_stream_redis_master_add_variables(ngx_conf_t *cf)
{
    ngx_stream_variable_t  *var, *v;

    for (v = ngx_stream_redis_master_vars; v->name.len; v++) {
        var = ngx_stream_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * How the balancer placed the session: the role of the server it used,
 * the upstream's master when the session started, how long wait= held it,
 * and the decision.  Not found in a session of another balancer.
 */

static ngx_int_t
ngx_stream_redis_master_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    u_char                               *p;
    const char                           *role;
    ngx_str_t                            *name;
    ngx_stream_redis_master_target_t    **tp;
    ngx_stream_redis_master_peer_data_t  *pd;

    pd = ngx_stream_get_module_ctx(s, ngx_stream_redis_master_module);

    if (pd == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_STREAM_REDIS_MASTER_VAR_ROLE:
        if (pd->role == NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN) {
            v->not_found = 1;
            return NGX_OK;
        }

        role = ngx_stream_redis_master_role_name(pd->role);
        v->data = (u_char *) role;
        v->len = ngx_strlen(role);
        break;

    case NGX_STREAM_REDIS_MASTER_VAR_MASTER:
        if (pd->first_master == NGX_STREAM_REDIS_MASTER_NONE) {
            v->not_found = 1;
            return NGX_OK;
        }

        tp = pd->conf->targets.elts;
        name = &tp[pd->first_master]->name;
        v->data = name->data;
        v->len = name->len;
        break;

    case NGX_STREAM_REDIS_MASTER_VAR_WAIT_TIME:
        p = ngx_pnalloc(s->connection->pool, NGX_TIME_T_LEN + 4);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_sprintf(p, "%T.%03M", (time_t) pd->wait_time / 1000,
                             pd->wait_time % 1000)
                 - p;
        break;

    default: /* NGX_STREAM_REDIS_MASTER_VAR_DECISION */
        name = &ngx_stream_redis_master_placed_names[pd->placed];

        if (name->len == 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        v->data = name->data;
        v->len = name->len;
        break;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
