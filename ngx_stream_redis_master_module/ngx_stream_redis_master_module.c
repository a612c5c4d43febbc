
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The module: its directive table and contexts, and what nginx calls as a
 * configuration is committed and as a worker starts and exits.
 */


#include "ngx_stream_redis_master_version.h"
#include "ngx_stream_redis_master_conf.h"

#include <hiredis/hiredis.h>


static ngx_int_t ngx_stream_redis_master_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_stream_redis_master_init_process(ngx_cycle_t *cycle);
static void ngx_stream_redis_master_exit_process(ngx_cycle_t *cycle);


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

    { ngx_string("redis_server"),
      NGX_STREAM_UPS_CONF|NGX_CONF_1MORE,
      ngx_stream_redis_master_server,
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
        ngx_stream_redis_master_commit(rmmcf);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_init_process(ngx_cycle_t *cycle)
{
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

    ngx_stream_redis_master_register(rmmcf, 0);

    if (ngx_stream_redis_master_init_balancer(cycle, rmmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_init_checkers(cycle, rmmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_stream_redis_master_init_sweep(cycle);
}


static void
ngx_stream_redis_master_exit_process(ngx_cycle_t *cycle)
{
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ngx_stream_cycle_get_module_main_conf(cycle,
                                               ngx_stream_redis_master_module);

    ngx_stream_redis_master_close_checkers(rmmcf);
    ngx_stream_redis_master_disown(rmmcf);
    ngx_stream_redis_master_register(rmmcf, 1);
}
