
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 6, entry: what the files of the status page share, and no other
 * file sees: the view of an upstream, the field tables that JSON and
 * Prometheus both read, the response being built and its one escaping
 * per format, and the three renderers.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_STATUS_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_STATUS_H_INCLUDED_


#include <ngx_http.h>

#include "ngx_stream_redis_master_decision.h"


#define NGX_STREAM_REDIS_MASTER_STATUS_VERSION   1
#define NGX_STREAM_REDIS_MASTER_STATUS_REFRESH   2

#define NGX_STREAM_REDIS_MASTER_FORMAT_HTML      0
#define NGX_STREAM_REDIS_MASTER_FORMAT_JSON      1
#define NGX_STREAM_REDIS_MASTER_FORMAT_PROM      2

/* where a server stands in its upstream's topology, the HTML's tiers */
#define NGX_STREAM_REDIS_MASTER_PLACE_MASTER     0
#define NGX_STREAM_REDIS_MASTER_PLACE_FOLLOWER   1
#define NGX_STREAM_REDIS_MASTER_PLACE_CLAIMANT   2
#define NGX_STREAM_REDIS_MASTER_PLACE_OTHER      3
#define NGX_STREAM_REDIS_MASTER_PLACE_DOWN       4
#define NGX_STREAM_REDIS_MASTER_NPLACES          5

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


/*
 * A redis_server name of an upstream as the page shows it: its
 * configuration, its node and record as the zone keeps them (the last
 * error is the node's reason), and the addresses it brings now, those of
 * the view's seats, so that they are the servers the page lists.
 */
typedef struct {
    ngx_stream_redis_master_name_conf_t  *conf;
    ngx_stream_redis_master_node_t       node;
    ngx_stream_redis_master_name_t      *record;
    ngx_str_t                           *addresses;
    ngx_uint_t                           naddresses;
} ngx_stream_redis_master_status_name_t;


/*
 * One upstream as the page shows it: the view the decision module took of
 * it ("v", with the route it read), the decision judge() made of it, the
 * servers that decision lets it use, for each server its address now
 * (a server a name brought: its seat's; none, len 0, for a seat without
 * one, which the page does not list), its place in the topology and
 * explain()'s reason code, for each Sentinel the address it names and
 * whether that is the decision's master, and its redis_server names.
 */
typedef struct {
    ngx_stream_redis_master_srv_conf_t  *conf;
    ngx_stream_redis_master_view_t       v;
    ngx_stream_redis_master_route_t      route;
    ngx_stream_redis_master_decision_t   decision;
    ngx_uint_t                           master;
    uintptr_t                           *eligible;
    ngx_str_t                           *address;
    ngx_uint_t                          *place;
    ngx_uint_t                          *why;
    ngx_str_t                           *named;
    ngx_uint_t                          *agrees;
    ngx_stream_redis_master_status_name_t  *names;
    ngx_uint_t                           nnames;
} ngx_stream_redis_master_status_view_t;


/*
 * A field's value as a getter gives it: "number" for the types that are
 * numbers, "string" for a constant, "data" and "len" for a text that is
 * escaped on its way out ("buf" holds it when the getter composes it),
 * "texts" and "ntexts" for a list of texts.
 */
typedef struct {
    off_t                                number;
    const char                          *string;
    u_char                              *data;
    size_t                               len;
    ngx_str_t                           *texts;
    ngx_uint_t                           ntexts;
    u_char                               buf[
                                            NGX_STREAM_REDIS_MASTER_ADDR_LEN];
} ngx_stream_redis_master_status_value_t;


/* NGX_OK, or NGX_DECLINED where it does not apply: null, or no sample */
typedef ngx_int_t (*ngx_stream_redis_master_status_get_pt)(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *node,
    ngx_stream_redis_master_status_value_t *value);


/*
 * A field of an upstream, of a server, of a Sentinel or of a name: its
 * key in the
 * JSON object and its metric in Prometheus (NULL: not in that format), the
 * type of its value, how Prometheus treats it, its getter, its HELP.
 * JSON writes the fields of a table in the table's order, Prometheus the
 * metrics in the table's order, after those of the tables before it.
 */
typedef struct {
    const char                          *json;
    const char                          *prom;
    ngx_uint_t                           type;
    ngx_uint_t                           flags;
    ngx_stream_redis_master_status_get_pt  get;
    const char                          *help;
} ngx_stream_redis_master_status_field_t;

/* JSON true or false, Prometheus 1 or 0 */
#define NGX_STREAM_REDIS_MASTER_FIELD_BOOL       0
/* a number, as it is in both */
#define NGX_STREAM_REDIS_MASTER_FIELD_NUMBER     1
/* milliseconds: JSON as they are, Prometheus in seconds */
#define NGX_STREAM_REDIS_MASTER_FIELD_MSEC       2
/* a constant string (JSON only): not escaped */
#define NGX_STREAM_REDIS_MASTER_FIELD_STRING     3
/* a text from the zone or the configuration (JSON only): escaped */
#define NGX_STREAM_REDIS_MASTER_FIELD_TEXT       4
/* a role: JSON its name, Prometheus one sample per role, 1 for its own */
#define NGX_STREAM_REDIS_MASTER_FIELD_ROLE       5
/* texts from the zone or the configuration (JSON only): an array, escaped */
#define NGX_STREAM_REDIS_MASTER_FIELD_TEXTS      6

/* Prometheus leaves the sample out while the server is unprobed */
#define NGX_STREAM_REDIS_MASTER_FIELD_PROBED     0x01
/* Prometheus leaves the sample out for a server that is not a replica */
#define NGX_STREAM_REDIS_MASTER_FIELD_REPLICA    0x02
/* a counter to Prometheus (its TYPE), not a gauge */
#define NGX_STREAM_REDIS_MASTER_FIELD_COUNTER    0x04
/* JSON leaves the key out, not null, where the value does not apply */
#define NGX_STREAM_REDIS_MASTER_FIELD_OPTIONAL   0x08


/* an upstream's counter, by its NGX_STREAM_REDIS_MASTER_COUNT_* index */
typedef struct {
    const char                          *json;
    const char                          *prom;
    const char                          *html;
    const char                          *help;
} ngx_stream_redis_master_status_counter_t;


/* the view (ngx_stream_redis_master_status_view.c) */

ngx_int_t ngx_stream_redis_master_status_view(ngx_pool_t *pool,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_status_view_t *view);
const char *ngx_stream_redis_master_status_state(
    ngx_stream_redis_master_node_t *node);
const char *ngx_stream_redis_master_status_rule(
    ngx_stream_redis_master_status_view_t *view);
const char *ngx_stream_redis_master_status_why(
    ngx_stream_redis_master_status_view_t *view);
ngx_int_t ngx_stream_redis_master_status_lag_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_msec_int_t *lag);
ngx_int_t ngx_stream_redis_master_status_lag_bytes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i, off_t *lag);
ngx_uint_t ngx_stream_redis_master_status_claims(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i);
const char *ngx_stream_redis_master_status_why_not(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i);
time_t ngx_stream_redis_master_status_checked(
    ngx_stream_redis_master_node_t *node);
ngx_uint_t ngx_stream_redis_master_status_listed(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i);
ngx_int_t ngx_stream_redis_master_status_resolved(
    ngx_stream_redis_master_status_name_t *name, ngx_msec_t *ago);

extern const char  *ngx_stream_redis_master_status_places[];


/* the fields (ngx_stream_redis_master_status_fields.c) */

extern ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_upstream_fields[];
extern ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_server_fields[];
extern ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_sentinel_fields[];
extern ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_name_fields[];
extern ngx_stream_redis_master_status_counter_t
    ngx_stream_redis_master_status_counters[];


/* the response and its escaping (ngx_stream_redis_master_status_out.c) */

void ngx_stream_redis_master_status_printf(
    ngx_stream_redis_master_status_out_t *o, const char *fmt, ...);
void ngx_stream_redis_master_status_text(
    ngx_stream_redis_master_status_out_t *o, u_char *data, size_t len);
void ngx_stream_redis_master_status_replid(
    ngx_stream_redis_master_status_out_t *o, u_char *replid);
void ngx_stream_redis_master_status_write(
    ngx_stream_redis_master_status_out_t *o, u_char *data, size_t len);


/* the renderers, one file each */

void ngx_stream_redis_master_status_json(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views);
void ngx_stream_redis_master_status_prom(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views);
void ngx_stream_redis_master_status_html(
    ngx_stream_redis_master_status_out_t *o,
    ngx_stream_redis_master_main_conf_t *rmmcf,
    ngx_stream_redis_master_status_view_t *views);


#endif /* _NGX_STREAM_REDIS_MASTER_STATUS_H_INCLUDED_ */
