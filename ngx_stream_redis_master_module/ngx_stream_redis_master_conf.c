
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The configuration as nginx reads it: the main and upstream
 * configurations that the handlers of redis_master, redis_replica,
 * redis_check and redis_sentinel fill in (with the password files), and
 * the zone sized for the targets.
 */


#include "ngx_stream_redis_master_conf.h"


static char *ngx_stream_redis_master_set_balancer(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t balancer);
static ngx_int_t ngx_stream_redis_master_servers_before(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *uscf, ngx_uint_t balancer);
static ngx_int_t ngx_stream_redis_master_credential(ngx_conf_t *cf,
    ngx_str_t *value, ngx_stream_redis_master_check_conf_t *cc,
    ngx_str_t *file);
static char *ngx_stream_redis_master_credentials_done(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_stream_redis_master_check_conf_t *cc,
    ngx_str_t *file);
static ngx_stream_redis_master_name_conf_t *
    ngx_stream_redis_master_add_seats(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_str_t *server,
    ngx_uint_t max, ngx_int_t weight, ngx_int_t max_conns, ngx_uint_t backup,
    ngx_uint_t down);
static char *ngx_stream_redis_master_read_password(ngx_conf_t *cf,
    ngx_str_t *directive, ngx_str_t *path, ngx_str_t *password);


#define NGX_STREAM_REDIS_MASTER_PARAM(value, lit)                             \
    ((value)->len > sizeof(lit) - 1                                           \
     && ngx_strncmp((value)->data, lit, sizeof(lit) - 1) == 0)


/*
 * The zone's size: a fixed part for the slab pool's own pages, the zone's
 * header and the records of the workers of each configuration, and a part
 * per target for its node (under 512 bytes with its key) and its share of
 * the routes of its upstreams (a route's history alone is 528 bytes), with
 * room for the slab allocator's rounding.  It moves in whole megabytes
 * (see init_main_conf).
 */

#define NGX_STREAM_REDIS_MASTER_ZONE_BASE        65536
#define NGX_STREAM_REDIS_MASTER_ZONE_PER_TARGET  2048

/*
 * A Sentinel of an upstream with discover= keeps its report after its
 * node (2 KB for 65 addresses): the slab allocator gives it a page.
 */

#define NGX_STREAM_REDIS_MASTER_ZONE_PER_REPORT  4096
#define NGX_STREAM_REDIS_MASTER_ZONE_STEP        (1024 * 1024)


/*
 * A password file holds one secret: a larger file is not one (a wrong
 * path: a key, a log), and is refused rather than read into the
 * configuration's memory.
 */

#define NGX_STREAM_REDIS_MASTER_MAX_PASSWORD_FILE  4096


/*
 * A bare number of milliseconds above this (100 s) in redis_check is
 * most likely meant in milliseconds, as HAProxy's "inter" has it.
 */

#define NGX_STREAM_REDIS_MASTER_UNITLESS_WARN  100000


/*
 * How much of a too long "name=" an error echoes: nginx cuts an error line
 * at NGX_MAX_CONF_ERRSTR (1024 bytes), which the name may fill.
 */

#define NGX_STREAM_REDIS_MASTER_ECHO_NAME      64


/*
 * What nginx's "server" sets when "max_fails=" and "fail_timeout=" are
 * not given (ngx_stream_upstream_server()): a server with other values
 * was given them.
 */

#define NGX_STREAM_REDIS_MASTER_MAX_FAILS     1
#define NGX_STREAM_REDIS_MASTER_FAIL_TIMEOUT  10


void *
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


void *
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
    rmcf->wait_queue = NGX_STREAM_REDIS_MASTER_DEFAULT_WAIT_QUEUE;

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

char *
ngx_stream_redis_master_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_stream_redis_master_main_conf_t *rmmcf = conf;

    size_t                               size;
    ngx_str_t                            name;
    ngx_uint_t                           i, reports;
    ngx_pool_cleanup_t                  *cln;
    ngx_stream_upstream_srv_conf_t     **uscfp;
    ngx_stream_redis_master_target_t   **tp;
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
                || rmcf->names
                || rmcf->ssl.enable != NGX_CONF_UNSET
                || rmcf->sentinel_ssl.enable != NGX_CONF_UNSET)
            {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"%s\" in upstream \"%V\" requires "
                              "\"redis_master\" or \"redis_replica\" in %s:%ui",
                              rmcf->sentinel ? "redis_sentinel"
                              : rmcf->names ? "redis_server"
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

    tp = rmmcf->targets.elts;
    reports = 0;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        reports += (tp[i]->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
                    && tp[i]->discover);
    }

    size = ngx_align(rmmcf->targets.nelts
                     * NGX_STREAM_REDIS_MASTER_ZONE_PER_TARGET
                     + reports * NGX_STREAM_REDIS_MASTER_ZONE_PER_REPORT
                     + NGX_STREAM_REDIS_MASTER_ZONE_BASE,
                     NGX_STREAM_REDIS_MASTER_ZONE_STEP);

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


char *
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


char *
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
    ngx_str_t                     *value;
    ngx_uint_t                     i;
    ngx_stream_upstream_server_t  *server;

    if (uscf->servers == NULL) {
        return NGX_OK;
    }

    value = cf->args->elts;
    server = uscf->servers->elts;

    for (i = 0; i < uscf->servers->nelts; i++) {

        if (server[i].max_fails != NGX_STREAM_REDIS_MASTER_MAX_FAILS
            || server[i].fail_timeout != NGX_STREAM_REDIS_MASTER_FAIL_TIMEOUT)
        {
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


char *
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

    rmcf->check.interval = NGX_STREAM_REDIS_MASTER_DEFAULT_INTERVAL;
    rmcf->check.timeout = NGX_STREAM_REDIS_MASTER_DEFAULT_TIMEOUT;
    rmcf->check.rise = NGX_STREAM_REDIS_MASTER_DEFAULT_RISE;
    rmcf->check.fall = NGX_STREAM_REDIS_MASTER_DEFAULT_FALL;

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

            if (ms > NGX_STREAM_REDIS_MASTER_UNITLESS_WARN
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
            if (ngx_stream_redis_master_num_param(cf, &value[i], 5, 1,
                                            NGX_STREAM_REDIS_MASTER_MAX_PORT,
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
 * redis_sentinel name=NAME [username=] [password=|password_file=]
 * [discover[=N]] [discover_grace=TIME] ADDR...;
 * The addresses are resolved once the stream block is read: host names
 * at run time if there is a resolver, else then.  The Sentinels are
 * checked with the upstream's redis_check interval and timeout.  With
 * discover, the servers they report are N seats of the upstream, as a
 * redis_server name's are ("sentinel:NAME").
 */

char *
ngx_stream_redis_master_sentinel(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_stream_redis_master_srv_conf_t *rmcf = conf;

    char                                     *rv;
    u_char                                   *p;
    size_t                                    len;
    ngx_int_t                                 n;
    ngx_url_t                                *u;
    ngx_str_t                                *value, file, server;
    ngx_uint_t                                i;
    ngx_msec_t                                grace;
    ngx_stream_redis_master_name_conf_t      *nc;
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
    grace = NGX_CONF_UNSET_MSEC;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == sizeof("discover") - 1
            && ngx_strncmp(value[i].data, "discover", value[i].len) == 0)
        {
            sc->discover = NGX_STREAM_REDIS_MASTER_DEFAULT_MAX_SERVERS;
            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "discover=")) {
            if (ngx_stream_redis_master_num_param(cf, &value[i],
                                         sizeof("discover=") - 1, 1,
                                         NGX_STREAM_REDIS_MASTER_MAX_SERVERS,
                                         &n)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            sc->discover = n;
            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "discover_grace=")) {
            if (ngx_stream_redis_master_time_param(cf, &value[i],
                                             sizeof("discover_grace=") - 1, 0,
                                             NGX_STREAM_REDIS_MASTER_MAX_TIME,
                                             &grace)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "name=")) {
            sc->name.data = value[i].data + 5;
            sc->name.len = value[i].len - 5;

            /* only its first bytes: the name alone may fill a line */

            if (sc->name.len > NGX_STREAM_REDIS_MASTER_MAX_MASTER_NAME) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid value \"name=%*s...\" in \"%V\": "
                                   "it must be a name of 1 to %d bytes, not "
                                   "%uz",
                                   (size_t) NGX_STREAM_REDIS_MASTER_ECHO_NAME,
                                   sc->name.data, &cmd->name,
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

    if (grace != NGX_CONF_UNSET_MSEC && sc->discover == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"redis_sentinel\" takes \"discover_grace=\" "
                           "only with \"discover\"");
        return NGX_CONF_ERROR;
    }

    if (sc->discover == 0) {
        return NGX_CONF_OK;
    }

    /* the servers the Sentinels report: "sentinel:NAME", one per seat */

    server.len = sizeof("sentinel:") - 1 + sc->name.len;
    server.data = ngx_pnalloc(cf->pool, server.len);
    if (server.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(server.data, "sentinel:%V", &sc->name);

    nc = ngx_stream_redis_master_add_seats(cf, rmcf, &server, sc->discover, 1,
                                           0, 0, 0);
    if (nc == NULL) {
        return NGX_CONF_ERROR;
    }

    nc->discover = 1;
    nc->grace = grace;

    /*
     * Its keys name the master and the Sentinels as written (two groups
     * may monitor masters of one name): "sentinels/LEN:NAME@ADDR,ADDR",
     * which no other key begins with; upstreams that list the same share
     * its servers.
     */

    u = sc->addrs.elts;
    len = sizeof("sentinels/:@") + NGX_SIZE_T_LEN + sc->name.len;

    for (i = 0; i < sc->addrs.nelts; i++) {
        len += u[i].url.len + 1;
    }

    nc->id.data = ngx_pnalloc(cf->pool, len);
    if (nc->id.data == NULL) {
        return NGX_CONF_ERROR;
    }

    p = ngx_sprintf(nc->id.data, "sentinels/%uz:%V@", sc->name.len,
                    &sc->name);

    for (i = 0; i < sc->addrs.nelts; i++) {
        p = ngx_sprintf(p, "%s%V", i ? "," : "", &u[i].url);
    }

    nc->id.len = p - nc->id.data;

    return NGX_CONF_OK;
}


/*
 * redis_server NAME:PORT [max_servers=N] [weight=N] [max_conns=N]
 * [backup] [down]: a name resolved at run time, each of its addresses
 * one server.  Its servers are nginx's too (their weights, max_conns, the
 * backup list), with placeholder addresses nothing connects to: the
 * balancer connects to the address the name's seat has now.
 */

char *
ngx_stream_redis_master_server(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_stream_redis_master_srv_conf_t *rmcf = conf;

    ngx_int_t                             weight, max_conns, max;
    ngx_url_t                             u;
    ngx_str_t                            *value;
    ngx_uint_t                            i, backup, down;
    ngx_stream_upstream_srv_conf_t       *uscf;
    ngx_stream_redis_master_name_conf_t  *nc;

    value = cf->args->elts;

    weight = 1;
    max_conns = 0;
    max = NGX_STREAM_REDIS_MASTER_DEFAULT_MAX_SERVERS;
    backup = 0;
    down = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "max_servers=")) {
            if (ngx_stream_redis_master_num_param(cf, &value[i],
                                         sizeof("max_servers=") - 1, 1,
                                         NGX_STREAM_REDIS_MASTER_MAX_SERVERS,
                                         &max)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "weight=")) {
            if (ngx_stream_redis_master_num_param(cf, &value[i],
                                         sizeof("weight=") - 1, 1,
                                         NGX_STREAM_REDIS_MASTER_MAX_WEIGHT,
                                         &weight)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (NGX_STREAM_REDIS_MASTER_PARAM(&value[i], "max_conns=")) {
            if (ngx_stream_redis_master_num_param(cf, &value[i],
                                         sizeof("max_conns=") - 1, 0,
                                         NGX_STREAM_REDIS_MASTER_MAX_CONNS,
                                         &max_conns)
                != NGX_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (value[i].len == sizeof("backup") - 1
            && ngx_strncmp(value[i].data, "backup", value[i].len) == 0)
        {
            if (rmcf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_MASTER) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"redis_master\" does not support backup "
                                   "servers (redis_server \"%V\")",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }

            backup = 1;
            continue;
        }

        if (value[i].len == sizeof("down") - 1
            && ngx_strncmp(value[i].data, "down", value[i].len) == 0)
        {
            down = 1;
            continue;
        }

        return ngx_stream_redis_master_bad_param(cf, &value[i]);
    }

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = value[1];
    u.no_resolve = 1;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.no_port
        || u.host.len == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid address \"%V\" in \"redis_server\"%s%s",
                           &value[1], u.err ? ": " : "",
                           u.err ? u.err : u.no_port ? ": no port" : "");
        return NGX_CONF_ERROR;
    }

    uscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_upstream_module);

    if (u.host.data[0] == '['
        || ngx_inet_addr(u.host.data, u.host.len) != INADDR_NONE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"redis_server\" \"%V\" in upstream \"%V\" is "
                           "an address: list it with \"server\"", &value[1],
                           &uscf->host);
        return NGX_CONF_ERROR;
    }

    if (rmcf->names) {
        nc = rmcf->names->elts;

        for (i = 0; i < rmcf->names->nelts; i++) {
            if (nc[i].server.len == value[1].len
                && ngx_strncasecmp(nc[i].server.data, value[1].data,
                                   value[1].len) == 0)
            {
                return "is duplicate";
            }
        }
    }

    nc = ngx_stream_redis_master_add_seats(cf, rmcf, &value[1], max, weight,
                                           max_conns, backup, down);
    if (nc == NULL) {
        return NGX_CONF_ERROR;
    }

    nc->host = u.host;
    nc->port = u.port;

    return NGX_CONF_OK;
}


/*
 * The seats of a redis_server name or of redis_sentinel discover=: "max"
 * servers added to the upstream, as nginx's "server" would add them, each
 * with a placeholder address (0.0.0.0 port 0) that no connect could
 * reach; the balancer connects to the address the seat has at run time.
 */

static ngx_stream_redis_master_name_conf_t *
ngx_stream_redis_master_add_seats(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_str_t *server,
    ngx_uint_t max, ngx_int_t weight, ngx_int_t max_conns, ngx_uint_t backup,
    ngx_uint_t down)
{
    ngx_uint_t                            n;
    struct sockaddr_in                   *sin;
    ngx_stream_upstream_server_t         *us;
    ngx_stream_upstream_srv_conf_t       *uscf;
    ngx_stream_redis_master_name_conf_t  *nc;

    if (rmcf->names == NULL) {
        rmcf->names = ngx_array_create(cf->pool, 2,
                                 sizeof(ngx_stream_redis_master_name_conf_t));
        if (rmcf->names == NULL) {
            return NULL;
        }
    }

    nc = ngx_array_push(rmcf->names);
    if (nc == NULL) {
        return NULL;
    }

    ngx_memzero(nc, sizeof(ngx_stream_redis_master_name_conf_t));

    nc->server = *server;
    nc->id = *server;
    nc->max = max;
    nc->grace = NGX_CONF_UNSET_MSEC;

    nc->addrs = ngx_pcalloc(cf->pool, max * sizeof(ngx_addr_t));
    if (nc->addrs == NULL) {
        return NULL;
    }

    uscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_upstream_module);

    for (n = 0; n < max; n++) {

        sin = ngx_pcalloc(cf->pool, sizeof(struct sockaddr_in));
        if (sin == NULL) {
            return NULL;
        }

        sin->sin_family = AF_INET;

        nc->addrs[n].sockaddr = (struct sockaddr *) sin;
        nc->addrs[n].socklen = sizeof(struct sockaddr_in);
        nc->addrs[n].name = *server;

        us = ngx_array_push(uscf->servers);
        if (us == NULL) {
            return NULL;
        }

        ngx_memzero(us, sizeof(ngx_stream_upstream_server_t));

        us->name = *server;
        us->addrs = &nc->addrs[n];
        us->naddrs = 1;
        us->weight = weight;
        us->max_conns = max_conns;
        us->max_fails = NGX_STREAM_REDIS_MASTER_MAX_FAILS;
        us->fail_timeout = NGX_STREAM_REDIS_MASTER_FAIL_TIMEOUT;
        us->down = down;
        us->backup = backup;
    }

    return nc;
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

    if (len > NGX_STREAM_REDIS_MASTER_MAX_PASSWORD_FILE) {
        ngx_close_file(fd);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" password_file \"%V\" is larger "
                           "than %d bytes", directive, &name,
                           NGX_STREAM_REDIS_MASTER_MAX_PASSWORD_FILE);
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
