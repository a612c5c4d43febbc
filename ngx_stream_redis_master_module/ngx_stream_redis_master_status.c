
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page: an http module in the same .so as the stream module
 * (see docs/status.md), whose handler ("redis_master_status") shows what
 * the shared zone holds, as HTML, JSON or the Prometheus text format.  It
 * reads the zone only through ngx_stream_redis_master_read_status() and
 * judges the copy with the policy's own functions, so the page says what
 * the balancer sees.  Nothing it prints comes from the configuration's
 * credentials.  What servers sent was made safe before it was stored, by
 * ngx_stream_redis_master_safe_text(): the credentials masked, then every
 * byte printable (a replication id is 40 hex digits or nothing); every
 * text from the zone or the configuration goes through the one escaping of
 * each format, in ngx_stream_redis_master_status_text().
 */


#include <ngx_http.h>

#include "ngx_stream_redis_master_state.h"
#include "ngx_stream_redis_master_policy.h"


#define NGX_STREAM_REDIS_MASTER_STATUS_VERSION   1
#define NGX_STREAM_REDIS_MASTER_STATUS_REFRESH   2

#define NGX_STREAM_REDIS_MASTER_FORMAT_HTML      0
#define NGX_STREAM_REDIS_MASTER_FORMAT_JSON      1
#define NGX_STREAM_REDIS_MASTER_FORMAT_PROM      2

/* where a server stands in its upstream's topology */
#define NGX_STREAM_REDIS_MASTER_PLACE_MASTER     0
#define NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER   1
#define NGX_STREAM_REDIS_MASTER_PLACE_CLAIMANT   2
#define NGX_STREAM_REDIS_MASTER_PLACE_OTHER      3
#define NGX_STREAM_REDIS_MASTER_PLACE_DOWN       4

#define NGX_STREAM_REDIS_MASTER_SHORT_REPLID     8


/* the response being built: a chain of buffers */
typedef struct {
    ngx_http_request_t                  *r;
    ngx_chain_t                         *out;
    ngx_chain_t                        **last;
    ngx_buf_t                           *b;
    ngx_uint_t                           format;
    ngx_int_t                            rc;
} ngx_stream_redis_master_status_out_t;


/* a Prometheus metric */
typedef struct {
    const char                          *name;
    ngx_uint_t                           id;
    ngx_uint_t                           scope;
    ngx_uint_t                           counter;
    const char                          *help;
} ngx_stream_redis_master_status_metric_t;


/* one upstream as the page shows it: a copy of its state, judged */
typedef struct {
    ngx_stream_redis_master_srv_conf_t   conf;
    ngx_stream_redis_master_route_t      route;
    ngx_uint_t                           master;
    uintptr_t                           *eligible;
    ngx_uint_t                          *place;
} ngx_stream_redis_master_status_view_t;


static char *ngx_stream_redis_master_status(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_stream_redis_master_status_handler(
    ngx_http_request_t *r);
static ngx_uint_t ngx_stream_redis_master_status_format(
    ngx_http_request_t *r);
static ngx_int_t ngx_stream_redis_master_status_view(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_status_view_t *view);
static void ngx_stream_redis_master_status_json(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views);
static void ngx_stream_redis_master_status_json_server(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i);
static void ngx_stream_redis_master_status_prom(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views);
static void ngx_stream_redis_master_status_sample(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_metric_t *m,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_uint_t role);
static void ngx_stream_redis_master_status_html(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views);
static void ngx_stream_redis_master_status_html_upstream(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view);
static void ngx_stream_redis_master_status_html_server(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i);
static const char *ngx_stream_redis_master_status_state(
    ngx_stream_redis_master_node_t *node);
static const char *ngx_stream_redis_master_status_rule(
    ngx_stream_redis_master_status_view_t *view);
static const char *ngx_stream_redis_master_status_why(
    ngx_stream_redis_master_status_view_t *view);
static ngx_int_t ngx_stream_redis_master_status_lag_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_msec_int_t *lag);
static ngx_int_t ngx_stream_redis_master_status_lag_bytes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i, off_t *lag);
static size_t ngx_stream_redis_master_status_named(
    ngx_stream_redis_master_node_t *s, u_char *buf);
static ngx_uint_t ngx_stream_redis_master_status_agrees(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t j);
static time_t ngx_stream_redis_master_status_checked(
    ngx_stream_redis_master_node_t *node);
static void ngx_stream_redis_master_status_printf(
    ngx_stream_redis_master_status_out_t *o, const char *fmt, ...);
static void ngx_stream_redis_master_status_text(
    ngx_stream_redis_master_status_out_t *o, u_char *data, size_t len);
static void ngx_stream_redis_master_status_replid(
    ngx_stream_redis_master_status_out_t *o, u_char *replid);
static u_char *ngx_stream_redis_master_status_escape_html(u_char *dst,
    u_char *src, size_t size);
static u_char *ngx_stream_redis_master_status_escape_label(u_char *dst,
    u_char *src, size_t size);
static void ngx_stream_redis_master_status_write(
    ngx_stream_redis_master_status_out_t *o, u_char *data, size_t len);


static ngx_command_t  ngx_stream_redis_master_status_commands[] = {

    { ngx_string("redis_master_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_stream_redis_master_status,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_redis_master_status_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_redis_master_status_module = {
    NGX_MODULE_V1,
    &ngx_http_redis_master_status_module_ctx, /* module context */
    ngx_stream_redis_master_status_commands, /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_stream_redis_master_status_types[] = {
    ngx_string("text/html; charset=utf-8"),
    ngx_string("application/json"),
    ngx_string("text/plain; version=0.0.4; charset=utf-8")
};


static const char  *ngx_stream_redis_master_status_places[] = {
    "master", "follower", "claimant", "other", "down"
};


/* the Prometheus metrics, in the order they are written */

#define NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM   0
#define NGX_STREAM_REDIS_MASTER_SCOPE_SERVER     1
#define NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL   2

/* the counters' ids are their NGX_STREAM_REDIS_MASTER_COUNT_* indexes */
#define NGX_STREAM_REDIS_MASTER_M_UP             100
#define NGX_STREAM_REDIS_MASTER_M_CLAIMANTS      101
#define NGX_STREAM_REDIS_MASTER_M_SERVER_UP      102
#define NGX_STREAM_REDIS_MASTER_M_ROLE           103
#define NGX_STREAM_REDIS_MASTER_M_IS_MASTER      104
#define NGX_STREAM_REDIS_MASTER_M_ELIGIBLE       105
#define NGX_STREAM_REDIS_MASTER_M_LINK_UP        106
#define NGX_STREAM_REDIS_MASTER_M_SYNCING        107
#define NGX_STREAM_REDIS_MASTER_M_LOADING        108
#define NGX_STREAM_REDIS_MASTER_M_LAG_SECONDS    109
#define NGX_STREAM_REDIS_MASTER_M_LAG_BYTES      110
#define NGX_STREAM_REDIS_MASTER_M_PROBE_DURATION 111
#define NGX_STREAM_REDIS_MASTER_M_LAST_CHECK     112
#define NGX_STREAM_REDIS_MASTER_M_ROLE_CHANGE    113
#define NGX_STREAM_REDIS_MASTER_M_RISE           114
#define NGX_STREAM_REDIS_MASTER_M_FALL           115
#define NGX_STREAM_REDIS_MASTER_M_SENTINEL_UP    116
#define NGX_STREAM_REDIS_MASTER_M_SENTINEL_AGREE 117
#define NGX_STREAM_REDIS_MASTER_M_LAST_IO        118


static ngx_stream_redis_master_status_metric_t
    ngx_stream_redis_master_status_metrics[] =
{
    { "redis_master_up", NGX_STREAM_REDIS_MASTER_M_UP,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 0,
      "Whether the upstream has a master (write pool) or one to read "
      "from (read pool)" },
    { "redis_master_claimants", NGX_STREAM_REDIS_MASTER_M_CLAIMANTS,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 0,
      "Servers that claim master (more than 1: split brain)" },
    { "redis_master_server_up", NGX_STREAM_REDIS_MASTER_M_SERVER_UP,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Whether the checks take the server for up" },
    { "redis_master_server_role", NGX_STREAM_REDIS_MASTER_M_ROLE,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "The role the server reported last, 1 for its role" },
    { "redis_master_is_master", NGX_STREAM_REDIS_MASTER_M_IS_MASTER,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Whether the server is the upstream's chosen master" },
    { "redis_master_server_eligible", NGX_STREAM_REDIS_MASTER_M_ELIGIBLE,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Whether the upstream sends connections to the server" },
    { "redis_master_replica_link_up", NGX_STREAM_REDIS_MASTER_M_LINK_UP,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Whether the replica's link to its master is up" },
    { "redis_master_replica_syncing", NGX_STREAM_REDIS_MASTER_M_SYNCING,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Whether the replica is in a full sync" },
    { "redis_master_server_loading", NGX_STREAM_REDIS_MASTER_M_LOADING,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Whether the server is loading its data set" },
    { "redis_master_replica_lag_seconds",
      NGX_STREAM_REDIS_MASTER_M_LAG_SECONDS,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "How stale the replica is, as max_lag judges it" },
    { "redis_master_replica_last_io_seconds",
      NGX_STREAM_REDIS_MASTER_M_LAST_IO,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Seconds since the replica last heard from its master "
      "(master_last_io_seconds_ago)" },
    { "redis_master_replica_lag_bytes", NGX_STREAM_REDIS_MASTER_M_LAG_BYTES,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Bytes of replication stream the replica is behind the chosen "
      "master" },
    { "redis_master_probe_duration_seconds",
      NGX_STREAM_REDIS_MASTER_M_PROBE_DURATION,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "How long the last probe of the server took" },
    { "redis_master_last_check_timestamp_seconds",
      NGX_STREAM_REDIS_MASTER_M_LAST_CHECK,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "When the server was last checked" },
    { "redis_master_role_change_timestamp_seconds",
      NGX_STREAM_REDIS_MASTER_M_ROLE_CHANGE,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "When the server last reported a new role" },
    { "redis_master_server_rise", NGX_STREAM_REDIS_MASTER_M_RISE,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Consecutive successful probes" },
    { "redis_master_server_fall", NGX_STREAM_REDIS_MASTER_M_FALL,
      NGX_STREAM_REDIS_MASTER_SCOPE_SERVER, 0,
      "Consecutive failed probes" },
    { "redis_master_sentinel_up", NGX_STREAM_REDIS_MASTER_M_SENTINEL_UP,
      NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL, 0,
      "Whether the Sentinel answers" },
    { "redis_master_sentinel_agree",
      NGX_STREAM_REDIS_MASTER_M_SENTINEL_AGREE,
      NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL, 0,
      "Whether the Sentinel names the chosen master" },
    { "redis_master_failovers_total",
      NGX_STREAM_REDIS_MASTER_COUNT_FAILOVERS,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Times the chosen master became another server" },
    { "redis_master_sessions_closed_total",
      NGX_STREAM_REDIS_MASTER_COUNT_CLOSED,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Sessions closed because their server lost its place" },
    { "redis_master_connections_held_total",
      NGX_STREAM_REDIS_MASTER_COUNT_HELD,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Connections held by wait= for want of a master" },
    { "redis_master_connections_released_total",
      NGX_STREAM_REDIS_MASTER_COUNT_RELEASED,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Held connections sent to a master" },
    { "redis_master_connections_timed_out_total",
      NGX_STREAM_REDIS_MASTER_COUNT_TIMED_OUT,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Held connections closed when wait= ran out" },
    { "redis_master_connections_left_total",
      NGX_STREAM_REDIS_MASTER_COUNT_LEFT,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Held connections whose client left" },
    { "redis_master_connections_refused_total",
      NGX_STREAM_REDIS_MASTER_COUNT_REFUSED,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Connections refused for want of a master or a replica" },
    { "redis_master_fallbacks_total",
      NGX_STREAM_REDIS_MASTER_COUNT_FALLBACKS,
      NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM, 1,
      "Read connections sent to the master for want of a replica" },
    { NULL, 0, 0, 0, NULL }
};


static const char  *ngx_stream_redis_master_status_counters[] = {
    "failovers", "sessions_closed", "held", "released", "timed_out",
    "left", "refused", "fallbacks"
};


static char *
ngx_stream_redis_master_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_stream_redis_master_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                               rc;
    ngx_uint_t                              i, n;
    ngx_chain_t                            *cl;
    ngx_table_elt_t                        *h;
    ngx_stream_redis_master_status_out_t    o;
    ngx_stream_redis_master_srv_conf_t    **rmcfp;
    ngx_stream_redis_master_main_conf_t    *rmmcf;
    ngx_stream_redis_master_status_view_t  *views;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    /* the stream configuration of the running cycle, if it has one */

    rmmcf = ngx_stream_cycle_get_module_main_conf(ngx_cycle,
                                               ngx_stream_redis_master_module);

    n = 0;
    views = NULL;

    if (rmmcf && rmmcf->shpool) {
        n = rmmcf->upstreams.nelts;
        rmcfp = rmmcf->upstreams.elts;

        views = ngx_pcalloc(r->pool,
                       (n + 1) * sizeof(ngx_stream_redis_master_status_view_t));
        if (views == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        for (i = 0; i < n; i++) {
            if (ngx_stream_redis_master_status_view(r->pool, rmcfp[i],
                                                    &views[i])
                != NGX_OK)
            {
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }
        }

    } else {
        rmmcf = NULL;
    }

    ngx_memzero(&o, sizeof(ngx_stream_redis_master_status_out_t));
    o.r = r;
    o.last = &o.out;
    o.format = ngx_stream_redis_master_status_format(r);
    o.rc = NGX_OK;

    switch (o.format) {

    case NGX_STREAM_REDIS_MASTER_FORMAT_JSON:
        ngx_stream_redis_master_status_json(&o, rmmcf, views);
        break;

    case NGX_STREAM_REDIS_MASTER_FORMAT_PROM:
        ngx_stream_redis_master_status_prom(&o, rmmcf, views);
        break;

    default:
        ngx_stream_redis_master_status_html(&o, rmmcf, views);
    }

    if (o.rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (o.b == NULL) {
        ngx_stream_redis_master_status_write(&o, (u_char *) "", 0);

        if (o.rc != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    o.b->last_buf = (r == r->main) ? 1 : 0;
    o.b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = ngx_stream_redis_master_status_types[
                                                                   o.format];
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_length_n = 0;

    for (cl = o.out; cl; cl = cl->next) {
        r->headers_out.content_length_n += cl->buf->last - cl->buf->pos;
    }

    /* the page is the state of this moment: never cached */

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, o.out);
}


/*
 * ?format=html|json|prometheus, or else the Accept header: JSON when it
 * names application/json, the Prometheus text format when it names
 * text/plain or OpenMetrics and not text/html, HTML otherwise.
 */

static ngx_uint_t
ngx_stream_redis_master_status_format(ngx_http_request_t *r)
{
    ngx_str_t         value, *accept;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ngx_http_arg(r, (u_char *) "format", 6, &value) == NGX_OK) {

        if (value.len == 4 && ngx_strncasecmp(value.data, (u_char *) "json", 4)
                              == 0)
        {
            return NGX_STREAM_REDIS_MASTER_FORMAT_JSON;
        }

        if ((value.len == 10
             && ngx_strncasecmp(value.data, (u_char *) "prometheus", 10) == 0)
            || (value.len == 4
                && ngx_strncasecmp(value.data, (u_char *) "prom", 4) == 0))
        {
            return NGX_STREAM_REDIS_MASTER_FORMAT_PROM;
        }

        return NGX_STREAM_REDIS_MASTER_FORMAT_HTML;
    }

    accept = NULL;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 6
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept", 6) == 0)
        {
            accept = &h[i].value;
            break;
        }
    }

    if (accept == NULL) {
        return NGX_STREAM_REDIS_MASTER_FORMAT_HTML;
    }

    if (ngx_strlcasestrn(accept->data, accept->data + accept->len,
                         (u_char *) "application/json", 16 - 1)
        != NULL)
    {
        return NGX_STREAM_REDIS_MASTER_FORMAT_JSON;
    }

    if (ngx_strlcasestrn(accept->data, accept->data + accept->len,
                         (u_char *) "text/html", 9 - 1)
        == NULL
        && (ngx_strlcasestrn(accept->data, accept->data + accept->len,
                             (u_char *) "text/plain", 10 - 1)
            != NULL
            || ngx_strlcasestrn(accept->data, accept->data + accept->len,
                                (u_char *) "openmetrics", 11 - 1)
               != NULL))
    {
        return NGX_STREAM_REDIS_MASTER_FORMAT_PROM;
    }

    return NGX_STREAM_REDIS_MASTER_FORMAT_HTML;
}


/*
 * A copy of one upstream's state, judged by the policy as the balancer
 * judges it: the view is a shallow copy of the upstream's configuration
 * whose snapshots are the page's own, so the worker's are left alone.
 */

static ngx_int_t
ngx_stream_redis_master_status_view(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_status_view_t *view)
{
    size_t                               node;
    ngx_uint_t                           i, n;
    ngx_stream_redis_master_node_t      *snap, *m;
    ngx_stream_redis_master_target_t   **tp;
    ngx_stream_redis_master_srv_conf_t  *conf;

    conf = &view->conf;
    *conf = *rmcf;

    n = rmcf->targets.nelts;
    node = sizeof(ngx_stream_redis_master_node_t);

    conf->snapshot = ngx_pcalloc(pool, (n + 1) * node);
    conf->sentinel_snapshot = ngx_pcalloc(pool,
                                          (rmcf->sentinels.nelts + 1) * node);
    view->eligible = ngx_pcalloc(pool,
                                 ngx_stream_redis_master_map_size(n + 1)
                                 * sizeof(uintptr_t));
    view->place = ngx_pcalloc(pool, (n + 1) * sizeof(ngx_uint_t));

    if (conf->snapshot == NULL || conf->sentinel_snapshot == NULL
        || view->eligible == NULL || view->place == NULL)
    {
        return NGX_ERROR;
    }

    if (conf->down == NULL) {

        /* the balancer has not started here: no server marked down */

        conf->down = ngx_pcalloc(pool, ngx_stream_redis_master_map_size(n + 1)
                                       * sizeof(uintptr_t));
        if (conf->down == NULL) {
            return NGX_ERROR;
        }
    }

    ngx_stream_redis_master_read_status(rmcf, conf->snapshot,
                                        conf->sentinel_snapshot,
                                        &view->route);

    /* the master is the one announced, if it is still of this upstream */

    tp = rmcf->targets.elts;
    view->master = NGX_STREAM_REDIS_MASTER_NONE;

    for (i = 0; i < n; i++) {
        if (view->route.master && tp[i]->node == view->route.master) {
            view->master = i;
            break;
        }
    }

    /*
     * Replica lag is measured against the route's history of the master's
     * offsets, as the worker that decides keeps it: the page takes the
     * copy it read, and "now" for a replica whose probes are overdue.
     */

    conf->history_master = NGX_STREAM_REDIS_MASTER_NONE;
    conf->nhistory = 0;
    conf->decided = ngx_current_msec;

    for (i = 0; i < n; i++) {
        if (view->route.history_node
            && tp[i]->node == view->route.history_node)
        {
            conf->history_master = i;
            conf->nhistory = ngx_min(view->route.nhistory,
                                     NGX_STREAM_REDIS_MASTER_HISTORY);
            ngx_memcpy(conf->history, view->route.history,
                       conf->nhistory
                       * sizeof(ngx_stream_redis_master_seen_t));
            break;
        }
    }

    ngx_stream_redis_master_eligible(conf, view->master, view->eligible);

    snap = conf->snapshot;
    m = (view->master == NGX_STREAM_REDIS_MASTER_NONE)
        ? NULL : &snap[view->master];

    for (i = 0; i < n; i++) {

        if (i == view->master) {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_MASTER;

        } else if (!snap[i].up && !snap[i].stalled) {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_DOWN;

        } else if (ngx_stream_redis_master_is_master(&snap[i])
                   && ngx_stream_redis_master_claims(conf, i))
        {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_CLAIMANT;

        } else if (m
                   && snap[i].info.role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
                   && snap[i].info.replid[0] != '\0'
                   && ngx_strcmp(snap[i].info.replid, m->info.replid) == 0)
        {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER;

        } else {
            view->place[i] = NGX_STREAM_REDIS_MASTER_PLACE_OTHER;
        }
    }

    return NGX_OK;
}


static const char *
ngx_stream_redis_master_status_state(ngx_stream_redis_master_node_t *node)
{
    if (node->probes == 0) {
        return "unchecked";
    }

    if (node->up) {
        return "up";
    }

    return node->stalled ? "stalled" : "down";
}


/* the rule that chose the master, or what stands for its want */

static const char *
ngx_stream_redis_master_status_rule(
    ngx_stream_redis_master_status_view_t *view)
{
    if (view->route.announced == 0 && view->route.master == NULL) {
        return "unprobed";
    }

    switch (view->route.rule) {

    case NGX_STREAM_REDIS_MASTER_RULE_KEPT:
        return "kept";

    case NGX_STREAM_REDIS_MASTER_RULE_NONE:
        return "none";

    case NGX_STREAM_REDIS_MASTER_RULE_SOLE:
        return "sole";

    case NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS:
        return "followers";

    case NGX_STREAM_REDIS_MASTER_RULE_ORDER:
        return "order";

    case NGX_STREAM_REDIS_MASTER_RULE_TIE:
        return "tie";

    default:
        return "unprobed";
    }
}


/* the rule, or the want of a master, in words */

static const char *
ngx_stream_redis_master_status_why(ngx_stream_redis_master_status_view_t *view)
{
    ngx_uint_t  quorum;

    if (view->master != NGX_STREAM_REDIS_MASTER_NONE) {

        if (view->conf.sentinel) {
            quorum = ngx_stream_redis_master_quorum(&view->conf,
                                                    view->master);

            if (quorum == NGX_STREAM_REDIS_MASTER_QUORUM_PROMOTED) {
                return "promoted from a master that a majority of the "
                       "Sentinels sees down";
            }

            if (quorum == NGX_STREAM_REDIS_MASTER_QUORUM_NAMED
                && view->route.rule == NGX_STREAM_REDIS_MASTER_RULE_SOLE)
            {
                return "the only server that says master and that a "
                       "majority of the Sentinels names";
            }
        }

        switch (view->route.rule) {

        case NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS:
            return "of the servers that say master, the one most replicas "
                   "follow";

        case NGX_STREAM_REDIS_MASTER_RULE_ORDER:
            return "first in configuration order: lineage was a tie and "
                   "split_brain=lineage";

        case NGX_STREAM_REDIS_MASTER_RULE_KEPT:
            return "kept while other servers are checked";

        default:
            return "the only server that says master (sole claimant)";
        }
    }

    if (view->route.rule == NGX_STREAM_REDIS_MASTER_RULE_TIE) {
        return "split brain: several servers claim master, as many "
               "replicas follow each, and split_brain=refuse: writes are "
               "refused";
    }

    if (view->route.rule == NGX_STREAM_REDIS_MASTER_RULE_NONE) {
        return view->conf.sentinel
               ? "no server says master with a majority of the Sentinels "
                 "agreeing"
               : "no server that is up and not superseded says master";
    }

    return "not every server has been checked yet";
}


/*
 * How stale a follower of the chosen master is, in milliseconds, as
 * max_lag judges it (ngx_stream_redis_master_lag()); NGX_DECLINED when
 * that is not known or does not apply: a write pool keeps no history of
 * the master's offsets.
 */

static ngx_int_t
ngx_stream_redis_master_status_lag_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_msec_int_t *lag)
{
    if (view->conf.balancer != NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA
        || view->master == NGX_STREAM_REDIS_MASTER_NONE
        || !view->conf.snapshot[i].up
        || view->place[i] != NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER)
    {
        return NGX_DECLINED;
    }

    *lag = ngx_stream_redis_master_lag(&view->conf, i, view->master);

    return (*lag < 0) ? NGX_DECLINED : NGX_OK;
}


/* how far a replica is behind the chosen master, in bytes */

static ngx_int_t
ngx_stream_redis_master_status_lag_bytes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i, off_t *lag)
{
    ngx_stream_redis_master_node_t  *snap;

    snap = view->conf.snapshot;

    if (view->master == NGX_STREAM_REDIS_MASTER_NONE
        || snap[i].info.role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
        || !snap[i].up
        || view->place[i] != NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER)
    {
        return NGX_DECLINED;
    }

    *lag = snap[view->master].info.master_repl_offset
           - snap[i].info.slave_repl_offset;

    if (*lag < 0) {
        *lag = 0;
    }

    return NGX_OK;
}


/* the address a Sentinel names as master, as "host:port", or 0 */

static size_t
ngx_stream_redis_master_status_named(ngx_stream_redis_master_node_t *s,
    u_char *buf)
{
    if (!s->up || s->info.master_port == 0) {
        return 0;
    }

    return ngx_sprintf(buf, ngx_strchr(s->info.master_host, ':') ? "[%s]:%d"
                                                                 : "%s:%d",
                       s->info.master_host, (int) s->info.master_port)
           - buf;
}


/* whether Sentinel "j" names the chosen master */

static ngx_uint_t
ngx_stream_redis_master_status_agrees(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t j)
{
    size_t                              len;
    u_char                              addr[NGX_STREAM_REDIS_MASTER_HOST_LEN
                                             + NGX_INT_T_LEN + 4];
    ngx_stream_redis_master_target_t  **tp, *t;

    if (view->master == NGX_STREAM_REDIS_MASTER_NONE) {
        return 0;
    }

    len = ngx_stream_redis_master_status_named(
                                      &view->conf.sentinel_snapshot[j], addr);
    if (len == 0) {
        return 0;
    }

    tp = view->conf.targets.elts;
    t = tp[view->master];

    return (len == t->name.len
            && ngx_strncasecmp(addr, t->name.data, len) == 0)
           || (len == t->server.len
               && ngx_strncasecmp(addr, t->server.data, len) == 0);
}


/* the wall-clock time of a node's last check, from the monotonic clock */

static time_t
ngx_stream_redis_master_status_checked(ngx_stream_redis_master_node_t *node)
{
    ngx_msec_int_t  ago;

    if (node->probes == 0) {
        return 0;
    }

    ago = (ngx_msec_int_t) (ngx_current_msec - node->checked);

    return ngx_time() - (ago > 0 ? ago / 1000 : 0);
}


/* JSON (docs/status.md: every field, and the version's meaning) */

static void
ngx_stream_redis_master_status_json(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views)
{
    size_t                                  len;
    u_char                                  addr[
                             NGX_STREAM_REDIS_MASTER_HOST_LEN
                             + NGX_INT_T_LEN + 4];
    ngx_uint_t                              u, i, n;
    ngx_stream_redis_master_node_t         *s;
    ngx_stream_redis_master_target_t      **tp;
    ngx_stream_redis_master_status_view_t  *view;

    n = rmmcf ? rmmcf->upstreams.nelts : 0;

    ngx_stream_redis_master_status_printf(o,
                      "{\"version\":%d,\"nginx\":\"%s\",\"pid\":%P,"
                      "\"time\":%T,\"upstreams\":[",
                      NGX_STREAM_REDIS_MASTER_STATUS_VERSION, NGINX_VERSION,
                      ngx_pid, ngx_time());

    for (u = 0; u < n; u++) {
        view = &views[u];
        tp = view->conf.targets.elts;

        ngx_stream_redis_master_status_printf(o, "%s{\"name\":\"",
                                              u ? "," : "");
        ngx_stream_redis_master_status_text(o, view->conf.name->data,
                                            view->conf.name->len);

        ngx_stream_redis_master_status_printf(o,
                      "\",\"kind\":\"%s\",\"master\":",
                      view->conf.balancer
                      == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA
                      ? "replica" : "master");

        if (view->master == NGX_STREAM_REDIS_MASTER_NONE) {
            ngx_stream_redis_master_status_printf(o, "null");

        } else {
            ngx_stream_redis_master_status_printf(o, "\"");
            ngx_stream_redis_master_status_text(o,
                                            tp[view->master]->name.data,
                                            tp[view->master]->name.len);
            ngx_stream_redis_master_status_printf(o, "\"");
        }

        ngx_stream_redis_master_status_printf(o,
                      ",\"rule\":\"%s\",\"why\":\"%s\",\"claimants\":%ui,"
                      "\"split_brain\":\"%s\",\"fallback\":%s,"
                      "\"counters\":{",
                      ngx_stream_redis_master_status_rule(view),
                      ngx_stream_redis_master_status_why(view),
                      view->route.claimants,
                      view->conf.split_brain
                      == NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE
                      ? "lineage" : "refuse",
                      view->route.fallback ? "true" : "false");

        for (i = 0; i < NGX_STREAM_REDIS_MASTER_NCOUNTERS; i++) {
            ngx_stream_redis_master_status_printf(o, "%s\"%s\":%uA",
                                i ? "," : "",
                                ngx_stream_redis_master_status_counters[i],
                                view->route.counters[i]);
        }

        ngx_stream_redis_master_status_printf(o, "},\"servers\":[");

        for (i = 0; i < view->conf.targets.nelts; i++) {
            ngx_stream_redis_master_status_printf(o, i ? "," : "");
            ngx_stream_redis_master_status_json_server(o, view, i);
        }

        ngx_stream_redis_master_status_printf(o, "],\"sentinels\":[");

        tp = view->conf.sentinels.elts;

        for (i = 0; i < view->conf.sentinels.nelts; i++) {
            s = &view->conf.sentinel_snapshot[i];

            ngx_stream_redis_master_status_printf(o, "%s{\"address\":\"",
                                                  i ? "," : "");
            ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                                tp[i]->name.len);
            ngx_stream_redis_master_status_printf(o,
                          "\",\"state\":\"%s\",\"up\":%s,\"names\":",
                          ngx_stream_redis_master_status_state(s),
                          s->up ? "true" : "false");

            len = ngx_stream_redis_master_status_named(s, addr);

            if (len) {
                ngx_stream_redis_master_status_printf(o, "\"");
                ngx_stream_redis_master_status_text(o, addr, len);
                ngx_stream_redis_master_status_printf(o, "\"");

            } else {
                ngx_stream_redis_master_status_printf(o, "null");
            }

            ngx_stream_redis_master_status_printf(o,
                          ",\"sees_master_down\":%s,\"agrees\":%s,"
                          "\"error\":",
                          s->up && s->info.master_down ? "true" : "false",
                          ngx_stream_redis_master_status_agrees(view, i)
                          ? "true" : "false");

            if (!s->up && s->reason_len) {
                ngx_stream_redis_master_status_printf(o, "\"");
                ngx_stream_redis_master_status_text(o, s->reason,
                                                    s->reason_len);
                ngx_stream_redis_master_status_printf(o, "\"");

            } else {
                ngx_stream_redis_master_status_printf(o, "null");
            }

            ngx_stream_redis_master_status_printf(o,
                          ",\"last_check\":%T,\"probe_ms\":%uD}",
                          ngx_stream_redis_master_status_checked(s),
                          (uint32_t) s->latency);
        }

        ngx_stream_redis_master_status_printf(o, "]}");
    }

    ngx_stream_redis_master_status_printf(o, "]}\n");
}


static void
ngx_stream_redis_master_status_json_server(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    off_t                               lag;
    ngx_msec_int_t                      ms;
    ngx_stream_redis_master_node_t     *s;
    ngx_stream_redis_master_info_t     *info;
    ngx_stream_redis_master_target_t  **tp;

    tp = view->conf.targets.elts;
    s = &view->conf.snapshot[i];
    info = &s->info;

    ngx_stream_redis_master_status_printf(o, "{\"address\":\"");
    ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                        tp[i]->name.len);
    ngx_stream_redis_master_status_printf(o, "\",\"server\":\"");
    ngx_stream_redis_master_status_text(o, tp[i]->server.data,
                                        tp[i]->server.len);

    ngx_stream_redis_master_status_printf(o,
                  "\",\"state\":\"%s\",\"up\":%s,\"error\":",
                  ngx_stream_redis_master_status_state(s),
                  s->up ? "true" : "false");

    if ((!s->up || s->failures) && s->reason_len) {
        ngx_stream_redis_master_status_printf(o, "\"");
        ngx_stream_redis_master_status_text(o, s->reason, s->reason_len);
        ngx_stream_redis_master_status_printf(o, "\"");

    } else {
        ngx_stream_redis_master_status_printf(o, "null");
    }

    ngx_stream_redis_master_status_printf(o,
                  ",\"role\":\"%s\",\"place\":\"%s\",\"master\":%s,"
                  "\"claims\":%s,\"eligible\":%s,\"marked_down\":%s,"
                  "\"link\":",
                  ngx_stream_redis_master_role_name(info->role),
                  ngx_stream_redis_master_status_places[view->place[i]],
                  i == view->master ? "true" : "false",
                  ngx_stream_redis_master_is_master(s)
                  && ngx_stream_redis_master_claims(&view->conf, i)
                  ? "true" : "false",
                  ngx_stream_redis_master_bit(view->eligible, i)
                  ? "true" : "false",
                  ngx_stream_redis_master_bit(view->conf.down, i)
                  ? "true" : "false");

    if (info->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA) {
        ngx_stream_redis_master_status_printf(o,
                      "\"%s\",\"sync_in_progress\":%s,",
                      info->link_up ? "up" : "down",
                      info->sync_in_progress ? "true" : "false");

    } else {
        ngx_stream_redis_master_status_printf(o,
                      "null,\"sync_in_progress\":false,");
    }

    ngx_stream_redis_master_status_printf(o, "\"loading\":%s,\"lag_seconds\":",
                                          info->loading ? "true" : "false");

    if (info->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
        && info->master_last_io >= 0)
    {
        ngx_stream_redis_master_status_printf(o, "%i", info->master_last_io);

    } else {
        ngx_stream_redis_master_status_printf(o, "null");
    }

    ngx_stream_redis_master_status_printf(o, ",\"lag_ms\":");

    if (ngx_stream_redis_master_status_lag_ms(view, i, &ms) == NGX_OK) {
        ngx_stream_redis_master_status_printf(o, "%M", (ngx_msec_t) ms);

    } else {
        ngx_stream_redis_master_status_printf(o, "null");
    }

    ngx_stream_redis_master_status_printf(o, ",\"lag_bytes\":");

    if (ngx_stream_redis_master_status_lag_bytes(view, i, &lag) == NGX_OK) {
        ngx_stream_redis_master_status_printf(o, "%O", lag);

    } else {
        ngx_stream_redis_master_status_printf(o, "null");
    }

    ngx_stream_redis_master_status_printf(o, ",\"offset\":%O,\"replid\":\"",
                  info->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
                  ? info->slave_repl_offset : info->master_repl_offset);
    ngx_stream_redis_master_status_replid(o, info->replid);
    ngx_stream_redis_master_status_printf(o, "\",\"replid2\":\"");
    ngx_stream_redis_master_status_replid(o, info->replid2);
    ngx_stream_redis_master_status_printf(o, "\",\"follows\":");

    if (info->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
        && info->master_port)
    {
        ngx_stream_redis_master_status_printf(o,
                      ngx_strchr(info->master_host, ':') ? "\"[" : "\"");
        ngx_stream_redis_master_status_text(o, info->master_host,
                                            ngx_strlen(info->master_host));
        ngx_stream_redis_master_status_printf(o,
                      ngx_strchr(info->master_host, ':') ? "]:%d\"" : ":%d\"",
                      (int) info->master_port);

    } else {
        ngx_stream_redis_master_status_printf(o, "null");
    }

    ngx_stream_redis_master_status_printf(o,
                  ",\"last_check\":%T,\"probe_ms\":%uD,\"role_changed\":",
                  ngx_stream_redis_master_status_checked(s),
                  (uint32_t) s->latency);

    if (s->role_changed) {
        ngx_stream_redis_master_status_printf(o, "%T",
                                              (time_t) s->role_changed);

    } else {
        ngx_stream_redis_master_status_printf(o, "null");
    }

    ngx_stream_redis_master_status_printf(o,
                  ",\"rise\":%uD,\"fall\":%uD,\"probes\":%uD}",
                  s->successes, s->failures, s->probes);
}


/* the Prometheus text format (docs/status.md names every metric) */

static void
ngx_stream_redis_master_status_prom(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views)
{
    ngx_uint_t                                u, i, k, n, role, roles;
    ngx_stream_redis_master_status_metric_t  *m;
    ngx_stream_redis_master_status_view_t    *view;

    n = rmmcf ? rmmcf->upstreams.nelts : 0;

    ngx_stream_redis_master_status_printf(o,
                  "# HELP redis_master_status_info The status page's format "
                  "version.\n"
                  "# TYPE redis_master_status_info gauge\n"
                  "redis_master_status_info{version=\"%d\"} 1\n",
                  NGX_STREAM_REDIS_MASTER_STATUS_VERSION);

    /* a metric's samples are written together, after its HELP and TYPE */

    for (m = ngx_stream_redis_master_status_metrics; m->name; m++) {

        ngx_stream_redis_master_status_printf(o,
                      "# HELP %s %s.\n# TYPE %s %s\n", m->name, m->help,
                      m->name, m->counter ? "counter" : "gauge");

        for (u = 0; u < n; u++) {
            view = &views[u];

            if (m->scope == NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM) {
                ngx_stream_redis_master_status_sample(o, m, view,
                                              NGX_STREAM_REDIS_MASTER_NONE, 0);
                continue;
            }

            k = (m->scope == NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL)
                ? view->conf.sentinels.nelts : view->conf.targets.nelts;
            roles = (m->id == NGX_STREAM_REDIS_MASTER_M_ROLE) ? 3 : 1;

            for (i = 0; i < k; i++) {
                for (role = 0; role < roles; role++) {
                    ngx_stream_redis_master_status_sample(o, m, view, i,
                                                          role);
                }
            }
        }
    }
}


/*
 * One sample: of an upstream (i is NONE), or of its server or Sentinel
 * "i"; "role" picks the role label of redis_master_server_role.  Values
 * that do not apply (a master's lag, a server never probed) are left out.
 */

static void
ngx_stream_redis_master_status_sample(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_metric_t *m,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_uint_t role)
{
    off_t                               lag;
    u_char                             *p;
    u_char                              value[NGX_OFF_T_LEN + 8];
    ngx_uint_t                          k, replica;
    ngx_msec_int_t                      ms;
    ngx_stream_redis_master_node_t     *s;
    ngx_stream_redis_master_target_t  **tp;

    static const char  *roles[] = { "master", "replica", "unknown" };

    s = NULL;
    tp = NULL;
    replica = 0;

    if (m->scope == NGX_STREAM_REDIS_MASTER_SCOPE_SERVER) {
        s = &view->conf.snapshot[i];
        tp = view->conf.targets.elts;
        replica = (s->info.role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA);

    } else if (m->scope == NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL) {
        s = &view->conf.sentinel_snapshot[i];
        tp = view->conf.sentinels.elts;
    }

    p = value;

    switch (m->id) {

    case NGX_STREAM_REDIS_MASTER_M_UP:
        k = 0;

        for (i = 0; i < view->conf.targets.nelts; i++) {
            k |= ngx_stream_redis_master_bit(view->eligible, i) ? 1 : 0;
        }

        p = ngx_sprintf(p, "%ui", k);
        break;

    case NGX_STREAM_REDIS_MASTER_M_CLAIMANTS:
        p = ngx_sprintf(p, "%ui", view->route.claimants);
        break;

    case NGX_STREAM_REDIS_MASTER_M_SERVER_UP:
    case NGX_STREAM_REDIS_MASTER_M_SENTINEL_UP:
        p = ngx_sprintf(p, "%d", s->up ? 1 : 0);
        break;

    case NGX_STREAM_REDIS_MASTER_M_ROLE:
        k = (s->info.role == NGX_STREAM_REDIS_MASTER_ROLE_MASTER) ? 0
            : replica ? 1 : 2;
        p = ngx_sprintf(p, "%d", k == role ? 1 : 0);
        break;

    case NGX_STREAM_REDIS_MASTER_M_IS_MASTER:
        p = ngx_sprintf(p, "%d", i == view->master ? 1 : 0);
        break;

    case NGX_STREAM_REDIS_MASTER_M_ELIGIBLE:
        p = ngx_sprintf(p, "%d",
                        ngx_stream_redis_master_bit(view->eligible, i) ? 1 : 0);
        break;

    case NGX_STREAM_REDIS_MASTER_M_LINK_UP:
        if (!replica) {
            return;
        }

        p = ngx_sprintf(p, "%d", s->info.link_up ? 1 : 0);
        break;

    case NGX_STREAM_REDIS_MASTER_M_SYNCING:
        if (!replica) {
            return;
        }

        p = ngx_sprintf(p, "%d", s->info.sync_in_progress ? 1 : 0);
        break;

    case NGX_STREAM_REDIS_MASTER_M_LOADING:
        p = ngx_sprintf(p, "%d", s->info.loading ? 1 : 0);
        break;

    case NGX_STREAM_REDIS_MASTER_M_LAG_SECONDS:
        if (ngx_stream_redis_master_status_lag_ms(view, i, &ms) != NGX_OK) {
            return;
        }

        p = ngx_sprintf(p, "%M.%03M", (ngx_msec_t) ms / 1000,
                        (ngx_msec_t) ms % 1000);
        break;

    case NGX_STREAM_REDIS_MASTER_M_LAST_IO:
        if (!replica || s->info.master_last_io < 0) {
            return;
        }

        p = ngx_sprintf(p, "%i", s->info.master_last_io);
        break;

    case NGX_STREAM_REDIS_MASTER_M_LAG_BYTES:
        if (ngx_stream_redis_master_status_lag_bytes(view, i, &lag)
            != NGX_OK)
        {
            return;
        }

        p = ngx_sprintf(p, "%O", lag);
        break;

    case NGX_STREAM_REDIS_MASTER_M_PROBE_DURATION:
        if (s->probes == 0) {
            return;
        }

        p = ngx_sprintf(p, "%uD.%03uD", (uint32_t) s->latency / 1000,
                        (uint32_t) s->latency % 1000);
        break;

    case NGX_STREAM_REDIS_MASTER_M_LAST_CHECK:
        if (s->probes == 0) {
            return;
        }

        p = ngx_sprintf(p, "%T", ngx_stream_redis_master_status_checked(s));
        break;

    case NGX_STREAM_REDIS_MASTER_M_ROLE_CHANGE:
        if (s->role_changed == 0) {
            return;
        }

        p = ngx_sprintf(p, "%T", (time_t) s->role_changed);
        break;

    case NGX_STREAM_REDIS_MASTER_M_RISE:
        p = ngx_sprintf(p, "%uD", (uint32_t) s->successes);
        break;

    case NGX_STREAM_REDIS_MASTER_M_FALL:
        p = ngx_sprintf(p, "%uD", (uint32_t) s->failures);
        break;

    case NGX_STREAM_REDIS_MASTER_M_SENTINEL_AGREE:
        p = ngx_sprintf(p, "%d",
                        ngx_stream_redis_master_status_agrees(view, i) ? 1 : 0);
        break;

    default: /* a counter: its id is its index in the routing record */
        p = ngx_sprintf(p, "%uA", view->route.counters[m->id]);
    }

    ngx_stream_redis_master_status_printf(o, "%s{upstream=\"", m->name);
    ngx_stream_redis_master_status_text(o, view->conf.name->data,
                                        view->conf.name->len);

    if (tp) {
        ngx_stream_redis_master_status_printf(o, "\",server=\"");
        ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                            tp[i]->name.len);
    }

    if (m->id == NGX_STREAM_REDIS_MASTER_M_ROLE) {
        ngx_stream_redis_master_status_printf(o, "\",role=\"%s",
                                              roles[role]);
    }

    ngx_stream_redis_master_status_printf(o, "\"} %*s\n", p - value, value);
}


/*
 * One page that refreshes itself, without scripts or external assets:
 * each upstream as its topology, the master first, then the replicas that
 * follow it, then the servers that are down or of another lineage.
 */

static void
ngx_stream_redis_master_status_html(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views)
{
    u_char      when[sizeof("1970-01-01 00:00:00")];
    ngx_tm_t    tm;
    ngx_uint_t  u, n;

    n = rmmcf ? rmmcf->upstreams.nelts : 0;

    ngx_gmtime(ngx_time(), &tm);
    ngx_sprintf(when, "%4d-%02d-%02d %02d:%02d:%02d%Z",
                tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday,
                tm.ngx_tm_hour, tm.ngx_tm_min, tm.ngx_tm_sec);

    ngx_stream_redis_master_status_printf(o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"refresh\" content=\"%d\">"
        "<link rel=\"icon\" href=\"data:,\">"
        "<title>Redis masters</title><style>\n"
        "body{font:14px/1.4 sans-serif;margin:1em;background:#f4f5f7;"
        "color:#222}\n"
        "h1{font-size:20px;margin:0 0 .5em}h2{font-size:17px;margin:0}\n"
        "section{background:#fff;border:1px solid #ccd;border-radius:6px;"
        "padding:.8em;margin:0 0 1em}\n"
        ".banner{font-size:16px;font-weight:bold;padding:.5em .8em;"
        "border-radius:4px;margin:.5em 0}\n"
        ".ok{background:#dff5e1;border:2px solid #2e7d32;color:#1b5e20}\n"
        ".none{background:#fde0e0;border:3px solid #c62828;color:#b71c1c}\n"
        ".topo{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start;"
        "margin:.4em 0}\n"
        ".tier{display:flex;flex-direction:column;gap:.6em}\n"
        ".tier>h3{font-size:13px;margin:.4em 0 0;color:#555}\n"
        ".srv{border:1px solid #99a;border-radius:4px;padding:.4em .6em;"
        "min-width:15em;background:#fafafa}\n"
        ".srv.master{border:3px solid #2e7d32;background:#eefaef}\n"
        ".srv.claimant{border:3px solid #c62828;background:#fff0f0}\n"
        ".srv.follower{border-color:#1565c0}\n"
        ".srv.down{background:#eee;color:#777}\n"
        ".srv.other{border-style:dashed}\n"
        ".addr{font:bold 15px monospace}.err{color:#b71c1c}\n"
        "table{border-collapse:collapse}td,th{padding:1px 6px;"
        "text-align:left;vertical-align:top}\n"
        ".kv td:first-child{color:#666}\n"
        ".counters td,.counters th{border:1px solid #dde}\n"
        "</style></head><body>\n"
        "<h1>Redis masters as nginx sees them</h1>\n"
        "<p>%s UTC, worker %P, nginx %s; refreshes every %d s; also as "
        "<a href=\"?format=json\">JSON</a> and "
        "<a href=\"?format=prometheus\">Prometheus</a>.</p>\n",
        NGX_STREAM_REDIS_MASTER_STATUS_REFRESH, when, ngx_pid, NGINX_VERSION,
        NGX_STREAM_REDIS_MASTER_STATUS_REFRESH);

    if (n == 0) {
        ngx_stream_redis_master_status_printf(o,
                      "<p>No upstream uses redis_master or redis_replica."
                      "</p>\n");
    }

    for (u = 0; u < n; u++) {
        ngx_stream_redis_master_status_html_upstream(o, &views[u]);
    }

    ngx_stream_redis_master_status_printf(o, "</body></html>\n");
}


static void
ngx_stream_redis_master_status_html_upstream(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view)
{
    size_t                              len;
    u_char                              addr[NGX_STREAM_REDIS_MASTER_HOST_LEN
                                             + NGX_INT_T_LEN + 4];
    ngx_uint_t                          i, tier, shown;
    ngx_stream_redis_master_node_t     *s;
    ngx_stream_redis_master_target_t  **tp;

    static const char  *tiers[] = {
        "master", "replicas that follow it",
        "servers that claim master too", "other lineage or role",
        "down"
    };

    tp = view->conf.targets.elts;

    ngx_stream_redis_master_status_printf(o,
                  "<section class=\"upstream\" data-upstream=\"");
    ngx_stream_redis_master_status_text(o, view->conf.name->data,
                                        view->conf.name->len);
    ngx_stream_redis_master_status_printf(o, "\"><h2>upstream ");
    ngx_stream_redis_master_status_text(o, view->conf.name->data,
                                        view->conf.name->len);
    ngx_stream_redis_master_status_printf(o, " <small>(%s)</small></h2>\n",
                  view->conf.balancer
                  == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA
                  ? "redis_replica: read pool" : "redis_master: write pool");

    if (view->master != NGX_STREAM_REDIS_MASTER_NONE) {
        ngx_stream_redis_master_status_printf(o,
                      "<div class=\"banner ok\" id=\"master\">MASTER "
                      "<span class=\"addr\">");
        ngx_stream_redis_master_status_text(o, tp[view->master]->name.data,
                                            tp[view->master]->name.len);
        ngx_stream_redis_master_status_printf(o,
                      "</span> &mdash; chosen by rule &ldquo;%s&rdquo;: "
                      "%s%s</div>\n",
                      ngx_stream_redis_master_status_rule(view),
                      ngx_stream_redis_master_status_why(view),
                      view->route.fallback
                      ? "; no qualified replica: reads fall back to it" : "");

    } else {
        ngx_stream_redis_master_status_printf(o,
                      "<div class=\"banner none\" id=\"no-master\">NO MASTER"
                      " &mdash; %s%s",
                      view->route.rule == NGX_STREAM_REDIS_MASTER_RULE_TIE
                      ? "SPLIT BRAIN REFUSED: " : "",
                      ngx_stream_redis_master_status_why(view));

        if (view->route.claimants > 1) {
            ngx_stream_redis_master_status_printf(o, " (%ui claimants:",
                                                  view->route.claimants);

            for (i = 0; i < view->conf.targets.nelts; i++) {
                if (view->place[i] == NGX_STREAM_REDIS_MASTER_PLACE_CLAIMANT) {
                    ngx_stream_redis_master_status_printf(o, " ");
                    ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                                        tp[i]->name.len);
                }
            }

            ngx_stream_redis_master_status_printf(o, ")");
        }

        ngx_stream_redis_master_status_printf(o, "</div>\n");
    }

    ngx_stream_redis_master_status_printf(o, "<div class=\"topo\">\n");

    for (tier = 0; tier < 5; tier++) {
        shown = 0;

        for (i = 0; i < view->conf.targets.nelts; i++) {
            if (view->place[i] != tier) {
                continue;
            }

            if (shown++ == 0) {
                ngx_stream_redis_master_status_printf(o,
                              "<div class=\"tier\"><h3>%s</h3>\n",
                              tiers[tier]);
            }

            ngx_stream_redis_master_status_html_server(o, view, i);
        }

        if (shown) {
            ngx_stream_redis_master_status_printf(o, "</div>\n");
        }
    }

    ngx_stream_redis_master_status_printf(o, "</div>\n");

    if (view->conf.sentinels.nelts) {
        ngx_stream_redis_master_status_printf(o,
                      "<h3>Sentinels</h3><table class=\"counters\">"
                      "<tr><th>Sentinel</th><th>state</th><th>names</th>"
                      "<th>agrees</th><th>error</th></tr>\n");

        tp = view->conf.sentinels.elts;

        for (i = 0; i < view->conf.sentinels.nelts; i++) {
            s = &view->conf.sentinel_snapshot[i];

            ngx_stream_redis_master_status_printf(o, "<tr><td class=\"addr\">");
            ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                                tp[i]->name.len);
            ngx_stream_redis_master_status_printf(o, "</td><td>%s</td><td>",
                                  ngx_stream_redis_master_status_state(s));

            len = ngx_stream_redis_master_status_named(s, addr);

            if (len) {
                ngx_stream_redis_master_status_text(o, addr, len);
                ngx_stream_redis_master_status_printf(o, "%s",
                              s->info.master_down ? " (sees it down)" : "");

            } else {
                ngx_stream_redis_master_status_printf(o, "&mdash;");
            }

            ngx_stream_redis_master_status_printf(o,
                              "</td><td>%s</td><td class=\"err\">",
                              ngx_stream_redis_master_status_agrees(view, i)
                              ? "yes" : "no");

            if (!s->up) {
                ngx_stream_redis_master_status_text(o, s->reason,
                                                    s->reason_len);
            }

            ngx_stream_redis_master_status_printf(o, "</td></tr>\n");
        }

        ngx_stream_redis_master_status_printf(o, "</table>\n");
    }

    ngx_stream_redis_master_status_printf(o,
                  "<h3>Counters</h3><table class=\"counters\"><tr>"
                  "<th>master changes</th><th>sessions closed</th>"
                  "<th>held</th><th>released</th><th>timed out</th>"
                  "<th>left while held</th><th>refused</th>"
                  "<th>fallbacks to master</th></tr><tr>");

    for (i = 0; i < NGX_STREAM_REDIS_MASTER_NCOUNTERS; i++) {
        ngx_stream_redis_master_status_printf(o, "<td>%uA</td>",
                                              view->route.counters[i]);
    }

    ngx_stream_redis_master_status_printf(o, "</tr></table></section>\n");
}


static void
ngx_stream_redis_master_status_html_server(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i)
{
    off_t                               lag;
    u_char                              when[sizeof("00:00:00")];
    ngx_tm_t                            tm;
    ngx_msec_int_t                      ms;
    ngx_stream_redis_master_node_t     *s;
    ngx_stream_redis_master_info_t     *info;
    ngx_stream_redis_master_target_t  **tp;

    tp = view->conf.targets.elts;
    s = &view->conf.snapshot[i];
    info = &s->info;

    ngx_stream_redis_master_status_printf(o,
                  "<div class=\"srv %s\" data-address=\"",
                  ngx_stream_redis_master_status_places[view->place[i]]);
    ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                        tp[i]->name.len);
    ngx_stream_redis_master_status_printf(o, "\"><div class=\"addr\">");
    ngx_stream_redis_master_status_text(o, tp[i]->name.data,
                                        tp[i]->name.len);
    ngx_stream_redis_master_status_printf(o,
                  "</div><table class=\"kv\">"
                  "<tr><td>state</td><td>%s%s%s</td></tr>"
                  "<tr><td>role</td><td>%s</td></tr>",
                  ngx_stream_redis_master_status_state(s),
                  ngx_stream_redis_master_bit(view->conf.down, i)
                  ? ", marked down" : "",
                  ngx_stream_redis_master_bit(view->eligible, i)
                  ? ", in use" : "",
                  ngx_stream_redis_master_role_name(info->role));

    if ((!s->up || s->failures) && s->reason_len) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>error</td><td class=\"err\">");
        ngx_stream_redis_master_status_text(o, s->reason, s->reason_len);
        ngx_stream_redis_master_status_printf(o, "</td></tr>");
    }

    if (info->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>link</td><td>%s%s%s</td></tr>",
                      info->link_up ? "up" : "down",
                      info->sync_in_progress ? ", syncing" : "",
                      info->loading ? ", loading" : "");

        if (ngx_stream_redis_master_status_lag_ms(view, i, &ms) == NGX_OK) {
            ngx_stream_redis_master_status_printf(o,
                          "<tr><td>lag</td><td>%M ms", (ngx_msec_t) ms);

        } else {
            ngx_stream_redis_master_status_printf(o,
                          "<tr><td>lag</td><td>&mdash;");
        }

        if (ngx_stream_redis_master_status_lag_bytes(view, i, &lag)
            == NGX_OK)
        {
            ngx_stream_redis_master_status_printf(o, ", %O bytes", lag);
        }

        ngx_stream_redis_master_status_printf(o, "</td></tr>");

        if (info->master_last_io >= 0) {
            ngx_stream_redis_master_status_printf(o,
                          "<tr><td>last io</td><td>%i s ago</td></tr>",
                          info->master_last_io);
        }

    } else if (info->loading) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>link</td><td>loading</td></tr>");
    }

    if (info->replid[0]) {
        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>replid</td><td><code>");
        ngx_stream_redis_master_status_replid(o, info->replid);
        ngx_stream_redis_master_status_printf(o, "</code></td></tr>");
    }

    if (s->probes) {
        ngx_gmtime(ngx_stream_redis_master_status_checked(s), &tm);
        ngx_sprintf(when, "%02d:%02d:%02d%Z", tm.ngx_tm_hour, tm.ngx_tm_min,
                    tm.ngx_tm_sec);

        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>checked</td><td>%s, in %uD ms</td></tr>",
                      when, (uint32_t) s->latency);
    }

    if (s->role_changed) {
        ngx_gmtime((time_t) s->role_changed, &tm);
        ngx_sprintf(when, "%02d:%02d:%02d%Z", tm.ngx_tm_hour, tm.ngx_tm_min,
                    tm.ngx_tm_sec);

        ngx_stream_redis_master_status_printf(o,
                      "<tr><td>role since</td><td>%s</td></tr>", when);
    }

    ngx_stream_redis_master_status_printf(o,
                  "<tr><td>rise/fall</td><td>%uD / %uD</td></tr>"
                  "</table></div>\n", s->successes, s->failures);
}


/* appends formatted text; one call writes less than its buffer */

static void
ngx_stream_redis_master_status_printf(ngx_stream_redis_master_status_out_t *o,
    const char *fmt, ...)
{
    u_char   *p;
    u_char    buf[4096];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    ngx_stream_redis_master_status_write(o, buf, p - buf);
}


/*
 * Appends text from the zone or the configuration, escaped for the format:
 * the one path every such text takes to the page.
 */

static void
ngx_stream_redis_master_status_text(ngx_stream_redis_master_status_out_t *o,
    u_char *data, size_t len)
{
    u_char  *p;
    u_char   buf[NGX_STREAM_REDIS_MASTER_REASON_LEN * 6];
    size_t   chunk;

    while (len) {
        chunk = ngx_min(len, NGX_STREAM_REDIS_MASTER_REASON_LEN);

        switch (o->format) {

        case NGX_STREAM_REDIS_MASTER_FORMAT_JSON:
            p = (u_char *) ngx_escape_json(buf, data, chunk);
            break;

        case NGX_STREAM_REDIS_MASTER_FORMAT_HTML:
            p = ngx_stream_redis_master_status_escape_html(buf, data, chunk);
            break;

        default:
            p = ngx_stream_redis_master_status_escape_label(buf, data, chunk);
        }

        ngx_stream_redis_master_status_write(o, buf, p - buf);

        data += chunk;
        len -= chunk;
    }
}


/* a replication id in its short form, escaped as any other text */

static void
ngx_stream_redis_master_status_replid(ngx_stream_redis_master_status_out_t *o,
    u_char *replid)
{
    size_t  len;

    len = ngx_strlen(replid);

    ngx_stream_redis_master_status_text(o, replid,
                            ngx_min(len, NGX_STREAM_REDIS_MASTER_SHORT_REPLID));
}


/*
 * HTML text and attribute values (quoted with either quote): nginx's own
 * ngx_escape_html() leaves the single quote alone.  At most 6 bytes for 1.
 */

static u_char *
ngx_stream_redis_master_status_escape_html(u_char *dst, u_char *src,
    size_t size)
{
    while (size--) {

        switch (*src) {

        case '<':
            dst = ngx_cpymem(dst, "&lt;", sizeof("&lt;") - 1);
            break;

        case '>':
            dst = ngx_cpymem(dst, "&gt;", sizeof("&gt;") - 1);
            break;

        case '&':
            dst = ngx_cpymem(dst, "&amp;", sizeof("&amp;") - 1);
            break;

        case '"':
            dst = ngx_cpymem(dst, "&quot;", sizeof("&quot;") - 1);
            break;

        case '\'':
            dst = ngx_cpymem(dst, "&#39;", sizeof("&#39;") - 1);
            break;

        default:
            *dst++ = *src;
        }

        src++;
    }

    return dst;
}


/* a Prometheus label value: backslash, double quote and line feed */

static u_char *
ngx_stream_redis_master_status_escape_label(u_char *dst, u_char *src,
    size_t size)
{
    while (size--) {

        if (*src == '\\' || *src == '"') {
            *dst++ = '\\';
            *dst++ = *src;

        } else if (*src == '\n') {
            *dst++ = '\\';
            *dst++ = 'n';

        } else {
            *dst++ = *src;
        }

        src++;
    }

    return dst;
}


static void
ngx_stream_redis_master_status_write(ngx_stream_redis_master_status_out_t *o,
    u_char *data, size_t len)
{
    size_t        size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (o->rc != NGX_OK) {
        return;
    }

    b = o->b;

    if (b == NULL || (size_t) (b->end - b->last) < len) {
        size = ngx_max(len, 16384);

        b = ngx_create_temp_buf(o->r->pool, size);
        if (b == NULL) {
            o->rc = NGX_ERROR;
            return;
        }

        cl = ngx_alloc_chain_link(o->r->pool);
        if (cl == NULL) {
            o->rc = NGX_ERROR;
            return;
        }

        cl->buf = b;
        cl->next = NULL;
        *o->last = cl;
        o->last = &cl->next;
        o->b = b;
    }

    b->last = ngx_cpymem(b->last, data, len);
}
