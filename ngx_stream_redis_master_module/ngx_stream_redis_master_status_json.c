
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page in JSON (docs/status.md: every field, and the version's
 * meaning): each upstream, its servers, its Sentinels and its redis_server
 * names as objects whose fields are the rows of their tables in
 * status_fields.c, in the tables' order.
 */


#include "ngx_stream_redis_master_status.h"


static void ngx_stream_redis_master_status_json_object(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_field_t *fields,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *node, ngx_uint_t more);


void
ngx_stream_redis_master_status_json(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views)
{
    ngx_uint_t                              u, i, n, shown;
    ngx_stream_redis_master_status_view_t  *view;

    n = rmmcf ? rmmcf->upstreams.nelts : 0;

    ngx_stream_redis_master_status_printf(o,
                      "{\"version\":%d,\"nginx\":\"%s\",\"pid\":%P,"
                      "\"time\":%T,\"upstreams\":[",
                      NGX_STREAM_REDIS_MASTER_STATUS_VERSION, NGINX_VERSION,
                      ngx_pid, ngx_time());

    for (u = 0; u < n; u++) {
        view = &views[u];

        ngx_stream_redis_master_status_printf(o, u ? "," : "");
        ngx_stream_redis_master_status_json_object(o,
                                ngx_stream_redis_master_status_upstream_fields,
                                view, NGX_STREAM_REDIS_MASTER_NONE, NULL, 1);

        ngx_stream_redis_master_status_printf(o, ",\"counters\":{");

        for (i = 0; i < NGX_STREAM_REDIS_MASTER_NCOUNTERS; i++) {
            ngx_stream_redis_master_status_printf(o, "%s\"%s\":%uA",
                                i ? "," : "",
                                ngx_stream_redis_master_status_counters[i].json,
                                view->route.counters[i]);
        }

        ngx_stream_redis_master_status_printf(o, "},\"servers\":[");

        shown = 0;

        for (i = 0; i < view->conf->targets.nelts; i++) {

            /* a seat without an address is no server */

            if (!ngx_stream_redis_master_status_listed(view, i)) {
                continue;
            }

            ngx_stream_redis_master_status_printf(o, shown++ ? "," : "");
            ngx_stream_redis_master_status_json_object(o,
                                ngx_stream_redis_master_status_server_fields,
                                view, i, &view->v.nodes[i], 0);
        }

        ngx_stream_redis_master_status_printf(o, "],\"sentinels\":[");

        for (i = 0; i < view->conf->sentinels.nelts; i++) {
            ngx_stream_redis_master_status_printf(o, i ? "," : "");
            ngx_stream_redis_master_status_json_object(o,
                                ngx_stream_redis_master_status_sentinel_fields,
                                view, i, &view->v.sentinels[i], 0);
        }

        ngx_stream_redis_master_status_printf(o, "],\"names\":[");

        for (i = 0; i < view->nnames; i++) {
            ngx_stream_redis_master_status_printf(o, i ? "," : "");
            ngx_stream_redis_master_status_json_object(o,
                                ngx_stream_redis_master_status_name_fields,
                                view, i, &view->names[i].node, 0);
        }

        ngx_stream_redis_master_status_printf(o, "]}");
    }

    ngx_stream_redis_master_status_printf(o, "]}\n");
}


/*
 * An object of the fields of a table that JSON shows: a value that does
 * not apply is null, or left out with its key (FIELD_OPTIONAL); "more"
 * leaves the object open for more fields.
 */

static void
ngx_stream_redis_master_status_json_object(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_field_t *fields,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *node, ngx_uint_t more)
{
    ngx_int_t                                rc;
    ngx_uint_t                               k;
    const char                              *sep;
    ngx_stream_redis_master_status_field_t  *f;
    ngx_stream_redis_master_status_value_t   v;

    sep = "{";

    for (f = fields; f->get; f++) {

        if (f->json == NULL) {
            continue;
        }

        rc = f->get(view, i, node, &v);

        if (rc != NGX_OK && (f->flags & NGX_STREAM_REDIS_MASTER_FIELD_OPTIONAL))
        {
            continue;
        }

        ngx_stream_redis_master_status_printf(o, "%s\"%s\":", sep, f->json);
        sep = ",";

        if (rc != NGX_OK) {
            ngx_stream_redis_master_status_printf(o, "null");
            continue;
        }

        switch (f->type) {

        case NGX_STREAM_REDIS_MASTER_FIELD_BOOL:
            ngx_stream_redis_master_status_printf(o, "%s",
                                          v.number ? "true" : "false");
            break;

        case NGX_STREAM_REDIS_MASTER_FIELD_MSEC:
            ngx_stream_redis_master_status_printf(o, "%M",
                                                  (ngx_msec_t) v.number);
            break;

        case NGX_STREAM_REDIS_MASTER_FIELD_STRING:
            ngx_stream_redis_master_status_printf(o, "\"%s\"", v.string);
            break;

        case NGX_STREAM_REDIS_MASTER_FIELD_TEXT:
            ngx_stream_redis_master_status_printf(o, "\"");
            ngx_stream_redis_master_status_text(o, v.data, v.len);
            ngx_stream_redis_master_status_printf(o, "\"");
            break;

        case NGX_STREAM_REDIS_MASTER_FIELD_TEXTS:
            ngx_stream_redis_master_status_printf(o, "[");

            for (k = 0; k < v.ntexts; k++) {
                ngx_stream_redis_master_status_printf(o, k ? ",\"" : "\"");
                ngx_stream_redis_master_status_text(o, v.texts[k].data,
                                                    v.texts[k].len);
                ngx_stream_redis_master_status_printf(o, "\"");
            }

            ngx_stream_redis_master_status_printf(o, "]");
            break;

        case NGX_STREAM_REDIS_MASTER_FIELD_ROLE:
            ngx_stream_redis_master_status_printf(o, "\"%s\"",
                             ngx_stream_redis_master_role_name(v.number));
            break;

        default: /* NGX_STREAM_REDIS_MASTER_FIELD_NUMBER */
            ngx_stream_redis_master_status_printf(o, "%O", v.number);
        }
    }

    if (!more) {
        ngx_stream_redis_master_status_printf(o, "}");
    }
}
