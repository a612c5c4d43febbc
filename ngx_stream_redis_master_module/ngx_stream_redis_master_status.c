
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page's http module, in the same .so as the stream module (see
 * docs/status.md): the "redis_master_status" directive and its handler,
 * which builds the view of each upstream of the running cycle
 * (ngx_stream_redis_master_status_view.c), picks the format, has the
 * format's renderer write the page (..._status_html.c, _json.c, _prom.c)
 * and sends it.  Nothing the page prints comes from the configuration's
 * credentials.  What servers sent was made safe before it was stored, by
 * ngx_stream_redis_master_safe_text(): the credentials masked, then every
 * byte printable (a replication id is 40 hex digits or nothing); every
 * text from the zone or the configuration goes through the one escaping of
 * each format, in ngx_stream_redis_master_status_text().
 */


#include "ngx_stream_redis_master_status.h"


static char *ngx_stream_redis_master_status(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_stream_redis_master_status_handler(
    ngx_http_request_t *r);
static ngx_uint_t ngx_stream_redis_master_status_format(
    ngx_http_request_t *r);


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
    ngx_stream_redis_master_srv_conf_t    **rmcfp;
    ngx_stream_redis_master_main_conf_t    *rmmcf;
    ngx_stream_redis_master_status_out_t    o;
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
