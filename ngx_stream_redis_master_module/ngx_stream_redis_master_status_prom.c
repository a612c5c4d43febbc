
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page in the Prometheus text format (docs/status.md names
 * every metric): a metric for each row of the field tables that has one
 * (status_fields.c), those of the upstreams first, then those of the
 * servers, of the Sentinels, of the redis_server names, and the counters.
 */


#include "ngx_stream_redis_master_status.h"


/* what a metric's samples are of, and so their labels */
#define NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM   0
#define NGX_STREAM_REDIS_MASTER_SCOPE_SERVER     1
#define NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL   2
#define NGX_STREAM_REDIS_MASTER_SCOPE_NAME       3


static void ngx_stream_redis_master_status_prom_fields(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_field_t *fields, ngx_uint_t scope,
    ngx_stream_redis_master_status_view_t *views, ngx_uint_t n);
static void ngx_stream_redis_master_status_sample(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_field_t *f,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t scope,
    ngx_uint_t i);
static void ngx_stream_redis_master_status_labels(
    ngx_stream_redis_master_status_out_t *o, const char *name,
    ngx_stream_redis_master_status_view_t *view, const char *label,
    ngx_str_t *value);


/* the role label of redis_master_server_role, a sample each */
static const char  *ngx_stream_redis_master_status_roles[] = {
    "master", "replica", "unknown"
};


void
ngx_stream_redis_master_status_prom(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views)
{
    ngx_uint_t                                 u, k, n;
    ngx_stream_redis_master_status_counter_t  *c;

    n = rmmcf ? rmmcf->upstreams.nelts : 0;

    ngx_stream_redis_master_status_printf(o,
                  "# HELP redis_master_status_info The status page's format "
                  "version.\n"
                  "# TYPE redis_master_status_info gauge\n"
                  "redis_master_status_info{version=\"%d\"} 1\n",
                  NGX_STREAM_REDIS_MASTER_STATUS_VERSION);

    /* a metric's samples are written together, after its HELP and TYPE */

    ngx_stream_redis_master_status_prom_fields(o,
                                ngx_stream_redis_master_status_upstream_fields,
                                NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM,
                                views, n);
    ngx_stream_redis_master_status_prom_fields(o,
                                ngx_stream_redis_master_status_server_fields,
                                NGX_STREAM_REDIS_MASTER_SCOPE_SERVER,
                                views, n);
    ngx_stream_redis_master_status_prom_fields(o,
                                ngx_stream_redis_master_status_sentinel_fields,
                                NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL,
                                views, n);
    ngx_stream_redis_master_status_prom_fields(o,
                                ngx_stream_redis_master_status_name_fields,
                                NGX_STREAM_REDIS_MASTER_SCOPE_NAME,
                                views, n);

    for (k = 0; k < NGX_STREAM_REDIS_MASTER_NCOUNTERS; k++) {
        c = &ngx_stream_redis_master_status_counters[k];

        ngx_stream_redis_master_status_printf(o,
                      "# HELP %s %s.\n# TYPE %s counter\n", c->prom, c->help,
                      c->prom);

        for (u = 0; u < n; u++) {
            ngx_stream_redis_master_status_labels(o, c->prom, &views[u],
                                                  NULL, NULL);
            ngx_stream_redis_master_status_printf(o, "\"} %uA\n",
                                                  views[u].route.counters[k]);
        }
    }
}


/* the metrics of one table's rows, each with its samples of every upstream */

static void
ngx_stream_redis_master_status_prom_fields(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_field_t *fields, ngx_uint_t scope,
    ngx_stream_redis_master_status_view_t *views, ngx_uint_t n)
{
    ngx_uint_t                               u, i, k;
    ngx_stream_redis_master_status_field_t  *f;

    for (f = fields; f->get; f++) {

        if (f->prom == NULL) {
            continue;
        }

        ngx_stream_redis_master_status_printf(o,
                      "# HELP %s %s.\n# TYPE %s %s\n", f->prom, f->help,
                      f->prom,
                      (f->flags & NGX_STREAM_REDIS_MASTER_FIELD_COUNTER)
                      ? "counter" : "gauge");

        for (u = 0; u < n; u++) {

            if (scope == NGX_STREAM_REDIS_MASTER_SCOPE_UPSTREAM) {
                ngx_stream_redis_master_status_sample(o, f, &views[u], scope,
                                                 NGX_STREAM_REDIS_MASTER_NONE);
                continue;
            }

            k = (scope == NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL)
                ? views[u].conf->sentinels.nelts
                : (scope == NGX_STREAM_REDIS_MASTER_SCOPE_NAME)
                ? views[u].nnames
                : views[u].conf->targets.nelts;

            for (i = 0; i < k; i++) {

                /* a seat without an address is no server */

                if (scope == NGX_STREAM_REDIS_MASTER_SCOPE_SERVER
                    && !ngx_stream_redis_master_status_listed(&views[u], i))
                {
                    continue;
                }

                ngx_stream_redis_master_status_sample(o, f, &views[u], scope,
                                                      i);
            }
        }
    }
}


/*
 * The samples of a field: of an upstream (i is NONE), or of its server,
 * Sentinel or redis_server name "i".  Values that do not apply (a
 * master's lag, a server never probed) are left out.  A server's label
 * is its address (its seat's, for a server a name brought), a name's
 * the name as written.
 */

static void
ngx_stream_redis_master_status_sample(ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_status_field_t *f,
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t scope,
    ngx_uint_t i)
{
    ngx_str_t                               *value;
    ngx_uint_t                               role, own;
    const char                              *label;
    ngx_stream_redis_master_node_t          *s;
    ngx_stream_redis_master_target_t       **tp;
    ngx_stream_redis_master_status_value_t   v;

    s = NULL;
    label = NULL;
    value = NULL;

    if (scope == NGX_STREAM_REDIS_MASTER_SCOPE_SERVER) {
        s = &view->v.nodes[i];
        label = "server";
        value = &view->address[i];

    } else if (scope == NGX_STREAM_REDIS_MASTER_SCOPE_SENTINEL) {
        s = &view->v.sentinels[i];
        tp = view->conf->sentinels.elts;
        label = "server";
        value = &tp[i]->name;

    } else if (scope == NGX_STREAM_REDIS_MASTER_SCOPE_NAME) {
        s = &view->names[i].node;
        label = "name";
        value = &view->names[i].conf->server;
    }

    if (((f->flags & NGX_STREAM_REDIS_MASTER_FIELD_PROBED) && s->probes == 0)
        || ((f->flags & NGX_STREAM_REDIS_MASTER_FIELD_REPLICA)
            && s->info.role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA))
    {
        return;
    }

    if (f->get(view, i, s, &v) != NGX_OK) {
        return;
    }

    switch (f->type) {

    case NGX_STREAM_REDIS_MASTER_FIELD_ROLE:
        own = (v.number == NGX_STREAM_REDIS_MASTER_ROLE_MASTER) ? 0
              : (v.number == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA) ? 1 : 2;

        for (role = 0;
             role < sizeof(ngx_stream_redis_master_status_roles)
                    / sizeof(ngx_stream_redis_master_status_roles[0]);
             role++)
        {
            ngx_stream_redis_master_status_labels(o, f->prom, view, label,
                                              value);
            ngx_stream_redis_master_status_printf(o, "\",role=\"%s\"} %d\n",
                                 ngx_stream_redis_master_status_roles[role],
                                 own == role ? 1 : 0);
        }

        return;

    case NGX_STREAM_REDIS_MASTER_FIELD_BOOL:
        ngx_stream_redis_master_status_labels(o, f->prom, view, label,
                                              value);
        ngx_stream_redis_master_status_printf(o, "\"} %d\n",
                                              v.number ? 1 : 0);
        return;

    case NGX_STREAM_REDIS_MASTER_FIELD_MSEC:
        ngx_stream_redis_master_status_labels(o, f->prom, view, label,
                                              value);
        ngx_stream_redis_master_status_printf(o, "\"} %M.%03M\n",
                                              (ngx_msec_t) v.number / 1000,
                                              (ngx_msec_t) v.number % 1000);
        return;

    default: /* NGX_STREAM_REDIS_MASTER_FIELD_NUMBER */
        ngx_stream_redis_master_status_labels(o, f->prom, view, label,
                                              value);
        ngx_stream_redis_master_status_printf(o, "\"} %O\n", v.number);
    }
}


/*
 * A sample's name and labels, up to the last label's value: the upstream,
 * and the server, the Sentinel or the name ("label" = "value") if there
 * is one.
 */

static void
ngx_stream_redis_master_status_labels(ngx_stream_redis_master_status_out_t *o,
    const char *name, ngx_stream_redis_master_status_view_t *view,
    const char *label, ngx_str_t *value)
{
    ngx_stream_redis_master_status_printf(o, "%s{upstream=\"", name);
    ngx_stream_redis_master_status_text(o, view->conf->name->data,
                                        view->conf->name->len);

    if (label) {
        ngx_stream_redis_master_status_printf(o, "\",%s=\"", label);
        ngx_stream_redis_master_status_text(o, value->data, value->len);
    }
}
