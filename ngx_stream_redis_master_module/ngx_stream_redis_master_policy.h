
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Layer 3, policy: the master of an upstream and its qualified replicas,
 * why a server is not either, and whether a probe's news matters, as pure
 * functions of a view (ngx_stream_redis_master_view_t).
 */


#ifndef _NGX_STREAM_REDIS_MASTER_POLICY_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_POLICY_H_INCLUDED_


#include "ngx_stream_redis_master_types.h"


/*
 * A server whose last answer was "master" and that has not been lost since:
 * up, or "stalled" (its probes time out on connections it still accepts,
 * as when a slow command blocks it, or it answers -BUSY or -MISCONF),
 * which is no evidence that writes must stop there.
 */
#define ngx_stream_redis_master_is_master(node)                               \
    (((node)->up || (node)->stalled)                                          \
     && (node)->info.role == NGX_STREAM_REDIS_MASTER_ROLE_MASTER)

/*
 * A server has answered a probe started at or after kick "kick" (kick
 * counters order them, not clocks: a probe answered just before a crash
 * may be recorded after the failure) and has not failed since: a held
 * connection whose connect to it failed may go back to it.  A macro, as
 * ngx_stream_redis_master_is_master(): hold.c asks it of a node alone.
 */
#define ngx_stream_redis_master_answered_since(node, kick)                    \
    ((node)->failures == 0                                                    \
     && (ngx_int_t) ((node)->kick_probed - (kick)) >= 0)

/*
 * What a probe's news changes: the role version, the lag version, or only
 * whether the probed replica itself qualifies (its offset, or the time its
 * lag is measured to, moved), which the decision judges for that one server
 */
#define NGX_STREAM_REDIS_MASTER_MATTERS_ROLE      1
#define NGX_STREAM_REDIS_MASTER_MATTERS_LAG       2
#define NGX_STREAM_REDIS_MASTER_MATTERS_REPLICA   4

/*
 * Why a server takes writes or does not (ngx_stream_redis_master_why_not()),
 * and why a replica serves reads or does not
 * (ngx_stream_redis_master_why_unqualified()); 0 is "it does"
 */
#define NGX_STREAM_REDIS_MASTER_WHY_OK            0
#define NGX_STREAM_REDIS_MASTER_WHY_NOT_MASTER    1
#define NGX_STREAM_REDIS_MASTER_WHY_MARKED_DOWN   2
#define NGX_STREAM_REDIS_MASTER_WHY_SUPERSEDED    3
#define NGX_STREAM_REDIS_MASTER_WHY_NO_QUORUM     4
#define NGX_STREAM_REDIS_MASTER_WHY_FEW_REPLICAS  5
#define NGX_STREAM_REDIS_MASTER_WHY_NO_MASTER     6
#define NGX_STREAM_REDIS_MASTER_WHY_NOT_UP        7
#define NGX_STREAM_REDIS_MASTER_WHY_NOT_REPLICA   8
#define NGX_STREAM_REDIS_MASTER_WHY_UNLINKED      9
#define NGX_STREAM_REDIS_MASTER_WHY_SYNCING       10
#define NGX_STREAM_REDIS_MASTER_WHY_LOADING       11
#define NGX_STREAM_REDIS_MASTER_WHY_OTHER_LINEAGE 12
#define NGX_STREAM_REDIS_MASTER_WHY_LAG_UNKNOWN   13
#define NGX_STREAM_REDIS_MASTER_WHY_LAGGING       14
#define NGX_STREAM_REDIS_MASTER_WHY_BYTES_BEHIND  15
#define NGX_STREAM_REDIS_MASTER_WHY_OUTVOTED      16
#define NGX_STREAM_REDIS_MASTER_WHY_LATER_IN_ORDER 17
#define NGX_STREAM_REDIS_MASTER_WHY_TIE           18
#define NGX_STREAM_REDIS_MASTER_WHY_UNPROBED      19
#define NGX_STREAM_REDIS_MASTER_WHY_LAST          19

/*
 * Why the master of a decision is master, or why there is none
 * (ngx_stream_redis_master_why_master()), with its words in
 * ngx_stream_redis_master_rule_text(): the decision's rule itself (0 to
 * NGX_STREAM_REDIS_MASTER_RULE_TIE, types.h), or what the Sentinels or the
 * claimants' reasons add to it
 */
#define NGX_STREAM_REDIS_MASTER_CHOSE_INELIGIBLE  7
#define NGX_STREAM_REDIS_MASTER_CHOSE_NAMED       8
#define NGX_STREAM_REDIS_MASTER_CHOSE_PROMOTED    9
#define NGX_STREAM_REDIS_MASTER_CHOSE_LAST        9

/* an address as "host:port" or "[host]:port", with its terminating zero */
#define NGX_STREAM_REDIS_MASTER_ADDR_LEN                                      \
    (NGX_STREAM_REDIS_MASTER_HOST_LEN + NGX_INT_T_LEN + sizeof("[]:"))

/*
 * How late a probe may come beyond its interval and a tenth: its timer
 * falls on a slot of the grid (NGX_STREAM_REDIS_MASTER_SLOT), and the
 * exchange itself takes about a slot on a busy host.  A replica's lag is
 * counted to now only once its probe is later than that, and the history
 * keeps an offset older than max_lag by that much more.
 */
#define NGX_STREAM_REDIS_MASTER_PROBE_SLACK                                   \
    (2 * NGX_STREAM_REDIS_MASTER_SLOT)


void ngx_stream_redis_master_decide(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d);
void ngx_stream_redis_master_usable(ngx_stream_redis_master_view_t *v,
    ngx_uint_t master, uintptr_t *map);
ngx_uint_t ngx_stream_redis_master_claimant(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_replicated(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_suspect(ngx_stream_redis_master_view_t *v,
    ngx_uint_t master);
ngx_uint_t ngx_stream_redis_master_superseded(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_agreed(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_names(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i, ngx_stream_redis_master_node_t *s);
ngx_uint_t ngx_stream_redis_master_min_replicas(
    ngx_stream_redis_master_view_t *v);
size_t ngx_stream_redis_master_named(ngx_stream_redis_master_node_t *s,
    u_char *buf);
ngx_uint_t ngx_stream_redis_master_follows(ngx_stream_redis_master_view_t *v,
    ngx_uint_t j, ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_qualifies(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i, ngx_uint_t master);
ngx_msec_int_t ngx_stream_redis_master_staleness(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i, ngx_uint_t master);
void ngx_stream_redis_master_forget_unseated(
    ngx_stream_redis_master_node_t *copy,
    ngx_stream_redis_master_seat_t *seat);
void ngx_stream_redis_master_forget_stale(
    ngx_stream_redis_master_node_t *copy, ngx_msec_t now);
ngx_uint_t ngx_stream_redis_master_forgettable(
    ngx_stream_redis_master_view_t *v, ngx_stream_redis_master_history_t *h);
ngx_uint_t ngx_stream_redis_master_why_not(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i);
ngx_uint_t ngx_stream_redis_master_why_unqualified(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i, ngx_uint_t master);
ngx_uint_t ngx_stream_redis_master_explain(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_decision_t *d, ngx_uint_t i);
const char *ngx_stream_redis_master_why_text(ngx_uint_t why);
ngx_uint_t ngx_stream_redis_master_why_master(
    ngx_stream_redis_master_view_t *v, ngx_stream_redis_master_decision_t *d);
const char *ngx_stream_redis_master_rule_text(ngx_uint_t why);
ngx_uint_t ngx_stream_redis_master_matters(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after);


#endif /* _NGX_STREAM_REDIS_MASTER_POLICY_H_INCLUDED_ */
