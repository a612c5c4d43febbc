
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The fields of the status page that JSON and Prometheus both read: one
 * table for an upstream, one for a server, one for a Sentinel, one for
 * the counters, and the getter of each field, which reads the view
 * (ngx_stream_redis_master_status_view.c) and judges nothing itself.
 */


#include "ngx_stream_redis_master_status.h"


static ngx_int_t ngx_stream_redis_master_status_get_claims(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_name(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_kind(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_master(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_rule(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_why(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_up(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_claimants(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_split_brain(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_fallback(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_address(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_server(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_seat_name(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_state(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_node_up(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_error(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_role(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_place(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_is_master(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_why_not(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_eligible(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_marked_down(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_link(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_link_up(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_syncing(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_loading(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_last_io(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_lag_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_lag_bytes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_offset(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_replid(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_replid2(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_follows(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_last_check(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_probe_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_role_changed(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_rise(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_fall(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_probes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_names(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_sees_down(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_agrees(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_sentinel_error(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_sentinel_address(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_name_name(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_name_addresses(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_name_servers(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_max_servers(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_resolved(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_resolutions(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_resolution_failures(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_name_error(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);
static ngx_int_t ngx_stream_redis_master_status_get_cut(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v);


/*
 * The fields of an upstream, of a server, of a Sentinel (see the type in
 * ngx_stream_redis_master_status.h; docs/status.md names every one): a new
 * one is a row.  Where JSON and Prometheus show one value at different
 * places in their order ("lag_seconds" and "last_check"), it has a row
 * for each, so that both keep the order they always had.
 */

ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_upstream_fields[] =
{
    { "name", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_name, NULL },
    { "kind", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_kind, NULL },
    { "master", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_master, NULL },
    { "rule", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_rule, NULL },
    { "why", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_why, NULL },
    { NULL, "redis_master_up", NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_up,
      "Whether the upstream has a master (write pool) or one to read "
      "from (read pool)" },
    { "claimants", "redis_master_claimants",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_claimants,
      "Servers that claim master (more than 1: split brain)" },
    { "split_brain", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_split_brain, NULL },
    { "fallback", NULL, NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_fallback, NULL },
    { NULL, NULL, 0, 0, NULL, NULL }
};


ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_server_fields[] =
{
    { "address", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_address, NULL },
    { "server", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_server, NULL },
    { "name", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT,
      NGX_STREAM_REDIS_MASTER_FIELD_OPTIONAL,
      ngx_stream_redis_master_status_get_seat_name, NULL },
    { "state", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_state, NULL },
    { "up", "redis_master_server_up", NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_node_up,
      "Whether the checks take the server for up" },
    { "error", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_error, NULL },
    { "role", "redis_master_server_role", NGX_STREAM_REDIS_MASTER_FIELD_ROLE, 0,
      ngx_stream_redis_master_status_get_role,
      "The role the server reported last, 1 for its role" },
    { "place", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_place, NULL },
    { "master", "redis_master_is_master", NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_is_master,
      "Whether the server is the upstream's chosen master" },
    { "claims", NULL, NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_claims, NULL },
    { "why", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_why_not, NULL },
    { "eligible", "redis_master_server_eligible",
      NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_eligible,
      "Whether the upstream sends connections to the server" },
    { "marked_down", NULL, NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_marked_down, NULL },
    { "link", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_link, NULL },
    { NULL, "redis_master_replica_link_up", NGX_STREAM_REDIS_MASTER_FIELD_BOOL,
      NGX_STREAM_REDIS_MASTER_FIELD_REPLICA,
      ngx_stream_redis_master_status_get_link_up,
      "Whether the replica's link to its master is up" },
    { "sync_in_progress", "redis_master_replica_syncing",
      NGX_STREAM_REDIS_MASTER_FIELD_BOOL, NGX_STREAM_REDIS_MASTER_FIELD_REPLICA,
      ngx_stream_redis_master_status_get_syncing,
      "Whether the replica is in a full sync" },
    { "loading", "redis_master_server_loading",
      NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_loading,
      "Whether the server is loading its data set" },
    { "lag_seconds", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_last_io, NULL },
    { "lag_ms", "redis_master_replica_lag_seconds",
      NGX_STREAM_REDIS_MASTER_FIELD_MSEC, 0,
      ngx_stream_redis_master_status_get_lag_ms,
      "How stale the replica is, as max_lag judges it" },
    { NULL, "redis_master_replica_last_io_seconds",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_last_io,
      "Seconds since the replica last heard from its master "
      "(master_last_io_seconds_ago)" },
    { "lag_bytes", "redis_master_replica_lag_bytes",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_lag_bytes,
      "Bytes of replication stream the replica is behind the chosen "
      "master" },
    { "offset", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_offset, NULL },
    { "replid", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_replid, NULL },
    { "replid2", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_replid2, NULL },
    { "follows", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_follows, NULL },
    { "last_check", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_last_check, NULL },
    { "probe_ms", "redis_master_probe_duration_seconds",
      NGX_STREAM_REDIS_MASTER_FIELD_MSEC, NGX_STREAM_REDIS_MASTER_FIELD_PROBED,
      ngx_stream_redis_master_status_get_probe_ms,
      "How long the last probe of the server took" },
    { NULL, "redis_master_last_check_timestamp_seconds",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER,
      NGX_STREAM_REDIS_MASTER_FIELD_PROBED,
      ngx_stream_redis_master_status_get_last_check,
      "When the server was last checked" },
    { "role_changed", "redis_master_role_change_timestamp_seconds",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_role_changed,
      "When the server last reported a new role" },
    { "rise", "redis_master_server_rise",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_rise,
      "Consecutive successful probes" },
    { "fall", "redis_master_server_fall",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_fall,
      "Consecutive failed probes" },
    { "probes", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_probes, NULL },
    { NULL, NULL, 0, 0, NULL, NULL }
};


ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_sentinel_fields[] =
{
    { "address", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_sentinel_address, NULL },
    { "state", NULL, NGX_STREAM_REDIS_MASTER_FIELD_STRING, 0,
      ngx_stream_redis_master_status_get_state, NULL },
    { "up", "redis_master_sentinel_up", NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_node_up,
      "Whether the Sentinel answers" },
    { "names", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_names, NULL },
    { "sees_master_down", NULL, NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_sees_down, NULL },
    { "agrees", "redis_master_sentinel_agree",
      NGX_STREAM_REDIS_MASTER_FIELD_BOOL, 0,
      ngx_stream_redis_master_status_get_agrees,
      "Whether the Sentinel names the chosen master" },
    { "error", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_sentinel_error, NULL },
    { "last_check", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_last_check, NULL },
    { "probe_ms", NULL, NGX_STREAM_REDIS_MASTER_FIELD_MSEC, 0,
      ngx_stream_redis_master_status_get_probe_ms, NULL },
    { NULL, NULL, 0, 0, NULL, NULL }
};


ngx_stream_redis_master_status_field_t
    ngx_stream_redis_master_status_name_fields[] =
{
    { "name", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_name_name, NULL },
    { "addresses", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXTS, 0,
      ngx_stream_redis_master_status_get_name_addresses, NULL },
    { NULL, "redis_master_name_servers", NGX_STREAM_REDIS_MASTER_FIELD_NUMBER,
      0, ngx_stream_redis_master_status_get_name_servers,
      "Servers the redis_server name brings now, one per address" },
    { "max_servers", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_max_servers, NULL },
    { "resolved", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_resolved, NULL },
    { "resolutions", "redis_master_name_resolutions_total",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER,
      NGX_STREAM_REDIS_MASTER_FIELD_COUNTER,
      ngx_stream_redis_master_status_get_resolutions,
      "Resolutions of the redis_server name" },
    { "failures", "redis_master_name_resolution_failures_total",
      NGX_STREAM_REDIS_MASTER_FIELD_NUMBER,
      NGX_STREAM_REDIS_MASTER_FIELD_COUNTER,
      ngx_stream_redis_master_status_get_resolution_failures,
      "Resolutions of the redis_server name that failed, its addresses "
      "kept" },
    { "error", NULL, NGX_STREAM_REDIS_MASTER_FIELD_TEXT, 0,
      ngx_stream_redis_master_status_get_name_error, NULL },
    { "cut", NULL, NGX_STREAM_REDIS_MASTER_FIELD_NUMBER, 0,
      ngx_stream_redis_master_status_get_cut, NULL },
    { NULL, NULL, 0, 0, NULL, NULL }
};


/* an upstream's counters, in the order of their indexes */

ngx_stream_redis_master_status_counter_t
    ngx_stream_redis_master_status_counters[] =
{
    { "failovers", "redis_master_failovers_total", "master changes",
      "Times the chosen master became another server" },
    { "sessions_closed", "redis_master_sessions_closed_total",
      "sessions closed",
      "Sessions closed because their server lost its place" },
    { "held", "redis_master_connections_held_total", "held",
      "Connections held by wait= for want of a master" },
    { "released", "redis_master_connections_released_total", "released",
      "Held connections sent to a master" },
    { "timed_out", "redis_master_connections_timed_out_total", "timed out",
      "Held connections closed when wait= ran out" },
    { "left", "redis_master_connections_left_total", "left while held",
      "Held connections whose client left" },
    { "refused", "redis_master_connections_refused_total", "refused",
      "Connections refused for want of a master or a replica" },
    { "fallbacks", "redis_master_fallbacks_total", "fallbacks to master",
      "Read connections sent to the master for want of a replica" },
    { NULL, NULL, NULL, NULL }
};


/*
 * The getters of the fields: "i" is the server's, the Sentinel's or the
 * name's index, "s" its node in the view (NULL for an upstream's field).
 */

static ngx_int_t
ngx_stream_redis_master_status_get_name(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->data = view->conf->name->data;
    v->len = view->conf->name->len;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_kind(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->string = (view->conf->balancer
                 == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA)
                ? "replica" : "master";

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_master(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if (view->master == NGX_STREAM_REDIS_MASTER_NONE) {
        return NGX_DECLINED;
    }

    v->data = view->address[view->master].data;
    v->len = view->address[view->master].len;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_rule(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->string = ngx_stream_redis_master_status_rule(view);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_why(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->string = ngx_stream_redis_master_status_why(view);

    return NGX_OK;
}


/* whether any server is eligible: a master, or a replica to read from */

static ngx_int_t
ngx_stream_redis_master_status_get_up(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = 0;

    for (i = 0; i < view->conf->targets.nelts; i++) {
        v->number |= ngx_stream_redis_master_bit(view->eligible, i) ? 1 : 0;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_claimants(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->decision.claimants;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_split_brain(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->string = (view->conf->split_brain
                 == NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE)
                ? "lineage" : "refuse";

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_fallback(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->route.fallback ? 1 : 0;

    return NGX_OK;
}


/* the server's address: as configured, or its seat's now */

static ngx_int_t
ngx_stream_redis_master_status_get_address(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->data = view->address[i].data;
    v->len = view->address[i].len;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_server(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    ngx_stream_redis_master_target_t  **tp;

    tp = view->conf->targets.elts;

    v->data = tp[i]->server.data;
    v->len = tp[i]->server.len;

    return NGX_OK;
}


/* the redis_server name that brought the server, "NAME:PORT" */

static ngx_int_t
ngx_stream_redis_master_status_get_seat_name(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    ngx_stream_redis_master_target_t  **tp;

    tp = view->conf->targets.elts;

    if (tp[i]->of == NULL) {
        return NGX_DECLINED;
    }

    v->data = tp[i]->of->name.data;
    v->len = tp[i]->of->name.len;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_state(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->string = ngx_stream_redis_master_status_state(s);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_node_up(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = s->up ? 1 : 0;

    return NGX_OK;
}


/* the last probe's error, while the server is down or failing */

static ngx_int_t
ngx_stream_redis_master_status_get_error(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if ((s->up && s->failures == 0) || s->reason_len == 0) {
        return NGX_DECLINED;
    }

    v->data = s->reason;
    v->len = s->reason_len;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_role(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = s->info.role;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_place(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->string = ngx_stream_redis_master_status_places[view->place[i]];

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_is_master(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (i == view->master) ? 1 : 0;

    return NGX_OK;
}


/* why the server is not used the way its role asks, the explainer's words */

static ngx_int_t
ngx_stream_redis_master_status_get_why_not(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->string = ngx_stream_redis_master_status_why_not(view, i);

    return v->string ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_stream_redis_master_status_get_eligible(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = ngx_stream_redis_master_bit(view->eligible, i) ? 1 : 0;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_marked_down(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = ngx_stream_redis_master_bit(view->v.down, i) ? 1 : 0;

    return NGX_OK;
}


/* whether the server claims master, as the policy counts claimants */

static ngx_int_t
ngx_stream_redis_master_status_get_claims(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = ngx_stream_redis_master_status_claims(view, i) ? 1 : 0;

    return NGX_OK;
}


/* a replica's link to its master, in words */

static ngx_int_t
ngx_stream_redis_master_status_get_link(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if (s->info.role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA) {
        return NGX_DECLINED;
    }

    v->string = s->info.link_up ? "up" : "down";

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_link_up(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = s->info.link_up ? 1 : 0;

    return NGX_OK;
}


/* in a full sync: never, for a server that is not a replica */

static ngx_int_t
ngx_stream_redis_master_status_get_syncing(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (s->info.role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
                 && s->info.sync_in_progress) ? 1 : 0;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_loading(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = s->info.loading ? 1 : 0;

    return NGX_OK;
}


/* a replica's own master_last_io_seconds_ago */

static ngx_int_t
ngx_stream_redis_master_status_get_last_io(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if (s->info.role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
        || s->info.master_last_io < 0)
    {
        return NGX_DECLINED;
    }

    v->number = s->info.master_last_io;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_lag_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    ngx_msec_int_t  ms;

    if (ngx_stream_redis_master_status_lag_ms(view, i, &ms) != NGX_OK) {
        return NGX_DECLINED;
    }

    v->number = ms;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_lag_bytes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    return ngx_stream_redis_master_status_lag_bytes(view, i, &v->number);
}


/* a replica's offset in its master's stream, a master's own */

static ngx_int_t
ngx_stream_redis_master_status_get_offset(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (s->info.role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA)
                ? s->info.slave_repl_offset : s->info.master_repl_offset;

    return NGX_OK;
}


/* the replication ids in their short form */

static ngx_int_t
ngx_stream_redis_master_status_get_replid(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->data = s->info.replid;
    v->len = ngx_min(ngx_strlen(s->info.replid),
                     NGX_STREAM_REDIS_MASTER_SHORT_REPLID);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_replid2(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->data = s->info.replid2;
    v->len = ngx_min(ngx_strlen(s->info.replid2),
                     NGX_STREAM_REDIS_MASTER_SHORT_REPLID);

    return NGX_OK;
}


/* the master a replica says it follows, as "host:port" */

static ngx_int_t
ngx_stream_redis_master_status_get_follows(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if (s->info.role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
        || s->info.master_port == 0)
    {
        return NGX_DECLINED;
    }

    v->data = v->buf;
    v->len = ngx_sprintf(v->buf, ngx_strchr(s->info.master_host, ':')
                                 ? "[%s]:%d" : "%s:%d",
                         s->info.master_host, (int) s->info.master_port)
             - v->buf;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_last_check(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = ngx_stream_redis_master_status_checked(s);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_probe_ms(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (uint32_t) s->latency;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_role_changed(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if (s->role_changed == 0) {
        return NGX_DECLINED;
    }

    v->number = (time_t) s->role_changed;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_rise(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (uint32_t) s->successes;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_fall(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (uint32_t) s->failures;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_probes(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (uint32_t) s->probes;

    return NGX_OK;
}


/* the master a Sentinel names */

static ngx_int_t
ngx_stream_redis_master_status_get_names(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->data = view->named[i].data;
    v->len = view->named[i].len;

    return v->len ? NGX_OK : NGX_DECLINED;
}


static ngx_int_t
ngx_stream_redis_master_status_get_sees_down(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = (s->up && s->info.master_down) ? 1 : 0;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_agrees(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->agrees[i] ? 1 : 0;

    return NGX_OK;
}


/* a Sentinel's error, while it is down */

static ngx_int_t
ngx_stream_redis_master_status_get_sentinel_error(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if (s->up || s->reason_len == 0) {
        return NGX_DECLINED;
    }

    v->data = s->reason;
    v->len = s->reason_len;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_sentinel_address(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    ngx_stream_redis_master_target_t  **tp;

    tp = view->conf->sentinels.elts;

    v->data = tp[i]->name.data;
    v->len = tp[i]->name.len;

    return NGX_OK;
}


/* a redis_server name as written, "NAME:PORT" */

static ngx_int_t
ngx_stream_redis_master_status_get_name_name(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->data = view->names[i].conf->server.data;
    v->len = view->names[i].conf->server.len;

    return NGX_OK;
}


/* the addresses the name brings now, in seat order */

static ngx_int_t
ngx_stream_redis_master_status_get_name_addresses(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->texts = view->names[i].addresses;
    v->ntexts = view->names[i].naddresses;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_name_servers(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->names[i].naddresses;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_max_servers(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->names[i].conf->max;

    return NGX_OK;
}


/* seconds since the name's last answer; null if it never had one */

static ngx_int_t
ngx_stream_redis_master_status_get_resolved(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    ngx_msec_t  ago;

    if (ngx_stream_redis_master_status_resolved(&view->names[i], &ago)
        != NGX_OK)
    {
        return NGX_DECLINED;
    }

    v->number = ago / 1000;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_resolutions(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->names[i].record->resolutions;

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_status_get_resolution_failures(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->names[i].record->failures;

    return NGX_OK;
}


/* the last resolution's error (nginx's resolver's words), or null */

static ngx_int_t
ngx_stream_redis_master_status_get_name_error(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    if (s->reason_len == 0) {
        return NGX_DECLINED;
    }

    v->data = s->reason;
    v->len = s->reason_len;

    return NGX_OK;
}


/* the addresses of the last answer that max_servers left unused */

static ngx_int_t
ngx_stream_redis_master_status_get_cut(
    ngx_stream_redis_master_status_view_t *view, ngx_uint_t i,
    ngx_stream_redis_master_node_t *s,
    ngx_stream_redis_master_status_value_t *v)
{
    v->number = view->names[i].record->cut;

    return NGX_OK;
}
