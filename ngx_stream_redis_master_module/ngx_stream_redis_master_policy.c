
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Policy: which server of an upstream is its master, which replicas
 * qualify for reads, why the others do not, and whether a probe's news
 * matters to that, as pure functions of a view of the upstream (its
 * settings and a snapshot of its nodes, ngx_stream_redis_master_view_t).
 * Nothing here does I/O, logs, or changes state: the decision module acts
 * on what these functions answer.
 */


#include "ngx_stream_redis_master_policy.h"


static ngx_uint_t ngx_stream_redis_master_all_probed(
    ngx_stream_redis_master_view_t *v);
static ngx_uint_t ngx_stream_redis_master_arbitrate(
    ngx_stream_redis_master_view_t *v, ngx_uint_t *rule);
static ngx_uint_t ngx_stream_redis_master_sole_heir(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i, ngx_uint_t m);
static ngx_uint_t ngx_stream_redis_master_votes(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i, ngx_uint_t old);
static ngx_uint_t ngx_stream_redis_master_unfollowed(
    ngx_stream_redis_master_view_t *v, ngx_uint_t j, ngx_uint_t i);
static ngx_uint_t ngx_stream_redis_master_in_sync(
    ngx_stream_redis_master_node_t *node);
static ngx_uint_t ngx_stream_redis_master_followers(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i);
static ngx_uint_t ngx_stream_redis_master_acked(
    ngx_stream_redis_master_info_t *m, ngx_msec_t max_lag);
static ngx_uint_t ngx_stream_redis_master_acks_late(
    ngx_stream_redis_master_info_t *m);
static ngx_uint_t ngx_stream_redis_master_following(
    ngx_stream_redis_master_view_t *v, ngx_uint_t i);
static ngx_uint_t ngx_stream_redis_master_lost(
    ngx_stream_redis_master_view_t *v, ngx_stream_redis_master_decision_t *d,
    ngx_uint_t i);
static ngx_uint_t ngx_stream_redis_master_info_differs(
    ngx_stream_redis_master_info_t *a, ngx_stream_redis_master_info_t *b);


/* the words of the reason codes, for the log and the status page */

static const char  *ngx_stream_redis_master_why[] = {
    "takes writes",
    "does not say master",
    "is marked down",
    "a replica promoted from its lineage is master now",
    "no majority of the Sentinels agrees on it",
    "too few replicas follow it",
    "there is no master",
    "is not up",
    "is not a replica",
    "its link to the master is down",
    "it is syncing with the master",
    "it is loading its data",
    "it follows another replication history",
    "how far it lags is not known",
    "it lags more than max_lag",
    "it lags more than max_lag_bytes",
    "fewer replicas follow it than the master",
    "as many replicas follow the master, which comes first in configuration "
    "order",
    "as many replicas follow another server that says master, and "
    "split_brain=refuse",
    "not every server has been checked yet",
};


/*
 * The words of why a master is master, or why there is none: the rules
 * (NGX_STREAM_REDIS_MASTER_RULE_*), then NGX_STREAM_REDIS_MASTER_CHOSE_*
 */

static const char  *ngx_stream_redis_master_chose[] = {
    "not every server has been checked yet",
    "kept while other servers are checked",
    "no server says master",
    "the only server that says master",
    "the one most replicas follow",
    "by configuration order, lineage being a tie",
    "lineage is a tie and split_brain=refuse",
    "no server that says master may take writes: each server says why not",
    "the only server that says master and that a majority of the Sentinels "
    "names",
    "promoted from a master that a majority of the Sentinels sees down",
};

/*
 * The master of an upstream, with the rule that chose it and how many
 * servers claimed it; "previous" is the node announced before.
 *
 * Until every server and Sentinel has answered or failed once, the first
 * server to answer "master" may not be the only one: choosing it would
 * spread writes at start-up.  A master chosen before a reload that added
 * servers stays meanwhile, while it still claims.
 */

void
ngx_stream_redis_master_decide(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d)
{
    ngx_uint_t                          i, n;
    ngx_stream_redis_master_target_t  **tp;

    tp = v->conf->targets.elts;
    n = v->conf->targets.nelts;

    d->master = NGX_STREAM_REDIS_MASTER_NONE;
    d->claimants = 0;
    d->suspect = 0;

    if (!ngx_stream_redis_master_all_probed(v)) {
        d->rule = NGX_STREAM_REDIS_MASTER_RULE_UNPROBED;

        for (i = 0; i < n; i++) {
            if (previous == tp[i]->node
                && ngx_stream_redis_master_claimant(v, i))
            {
                d->master = i;
                d->rule = NGX_STREAM_REDIS_MASTER_RULE_KEPT;
                return;
            }
        }

        return;
    }

    for (i = 0; i < n; i++) {
        if (ngx_stream_redis_master_claimant(v, i)) {
            d->claimants++;
            d->master = i;
        }
    }

    if (d->claimants > 1) {
        d->master = ngx_stream_redis_master_arbitrate(v, &d->rule);
        d->suspect = ngx_stream_redis_master_suspect(v, d->master);
        return;
    }

    d->rule = d->claimants ? NGX_STREAM_REDIS_MASTER_RULE_SOLE
                           : NGX_STREAM_REDIS_MASTER_RULE_NONE;

    d->suspect = ngx_stream_redis_master_suspect(v, d->master);
}


/*
 * The master is suspect when it keeps min_replicas with no replica to
 * spare and something is already amiss: a server of the upstream that
 * does not follow it, or a replica it lists that is not online or missed
 * an acknowledgement.  One more loss would stop its writes, so its
 * upstream is probed faster, to see that loss sooner.  A master with as
 * many replicas as it needs, all well, is not suspect: an upstream of a
 * master and one replica with min_replicas=1 is probed at the normal rate.
 */

ngx_uint_t
ngx_stream_redis_master_suspect(ngx_stream_redis_master_view_t *v,
    ngx_uint_t master)
{
    ngx_uint_t  n;

    if (v->conf->min_replicas == 0 || master == NGX_STREAM_REDIS_MASTER_NONE)
    {
        return 0;
    }

    n = ngx_stream_redis_master_replicated(v, master);

    if (n > ngx_stream_redis_master_min_replicas(v)) {
        return 0;
    }

    return n + 1 < v->conf->targets.nelts
           || ngx_stream_redis_master_acks_late(&v->nodes[master].info);
}


/*
 * The servers an upstream may use now, given its master: the master for a
 * write pool; for a read pool the qualified replicas and, with
 * fallback=master, the master, whose sessions that fell back may stay.
 */

void
ngx_stream_redis_master_usable(ngx_stream_redis_master_view_t *v,
    ngx_uint_t master, uintptr_t *map)
{
    ngx_uint_t  i, n;

    n = v->conf->targets.nelts;

    ngx_memzero(map, ngx_stream_redis_master_map_size(n) * sizeof(uintptr_t));

    if (v->conf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA) {
        for (i = 0; i < n; i++) {
            if (ngx_stream_redis_master_qualifies(v, i, master)) {
                ngx_stream_redis_master_set_bit(map, i);
            }
        }

        if (v->conf->fallback != NGX_STREAM_REDIS_MASTER_FALLBACK_MASTER) {
            return;
        }
    }

    if (master != NGX_STREAM_REDIS_MASTER_NONE) {
        ngx_stream_redis_master_set_bit(map, master);
    }
}


static ngx_uint_t
ngx_stream_redis_master_all_probed(ngx_stream_redis_master_view_t *v)
{
    ngx_uint_t  i;

    for (i = 0; i < v->conf->targets.nelts; i++) {
        if (v->nodes[i].probes == 0) {
            return 0;
        }
    }

    for (i = 0; i < v->conf->sentinels.nelts; i++) {
        if (v->sentinels[i].probes == 0) {
            return 0;
        }
    }

    return 1;
}


/*
 * Server "i" may take writes: its check says master, it is not marked
 * "down", no server promoted from its lineage says master too, with
 * redis_sentinel the Sentinels agree (ngx_stream_redis_master_agreed()),
 * and with min_replicas enough replicas follow it
 * (ngx_stream_redis_master_replicated()).
 */

ngx_uint_t
ngx_stream_redis_master_claimant(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i)
{
    return ngx_stream_redis_master_why_not(v, i)
           == NGX_STREAM_REDIS_MASTER_WHY_OK;
}


/*
 * Why server "i" does not take writes, in the order of the conditions
 * above, or NGX_STREAM_REDIS_MASTER_WHY_OK when it may.
 */

ngx_uint_t
ngx_stream_redis_master_why_not(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i)
{
    if (!ngx_stream_redis_master_is_master(&v->nodes[i])) {
        return NGX_STREAM_REDIS_MASTER_WHY_NOT_MASTER;
    }

    if (ngx_stream_redis_master_bit(v->down, i)) {
        return NGX_STREAM_REDIS_MASTER_WHY_MARKED_DOWN;
    }

    if (ngx_stream_redis_master_superseded(v, i)) {
        return NGX_STREAM_REDIS_MASTER_WHY_SUPERSEDED;
    }

    if (!ngx_stream_redis_master_agreed(v, i)) {
        return NGX_STREAM_REDIS_MASTER_WHY_NO_QUORUM;
    }

    if (v->conf->min_replicas
        && ngx_stream_redis_master_replicated(v, i)
           < ngx_stream_redis_master_min_replicas(v))
    {
        return NGX_STREAM_REDIS_MASTER_WHY_FEW_REPLICAS;
    }

    return NGX_STREAM_REDIS_MASTER_WHY_OK;
}


/*
 * Why a view's decision "d" does not let the upstream use server "i" the
 * way its role asks (a reason code): for a write pool, or a server that
 * says master, why it does not take writes, including a claimant that
 * lost the arbitration (ngx_stream_redis_master_lost()); for a replica of
 * a read pool why it does not serve reads.
 */

ngx_uint_t
ngx_stream_redis_master_explain(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_decision_t *d, ngx_uint_t i)
{
    ngx_uint_t  why;

    if (i == d->master && d->master != NGX_STREAM_REDIS_MASTER_NONE) {
        return NGX_STREAM_REDIS_MASTER_WHY_OK;
    }

    if (v->conf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_MASTER
        || ngx_stream_redis_master_is_master(&v->nodes[i]))
    {
        why = ngx_stream_redis_master_why_not(v, i);

        if (why != NGX_STREAM_REDIS_MASTER_WHY_OK) {
            return why;
        }

        return ngx_stream_redis_master_lost(v, d, i);
    }

    return ngx_stream_redis_master_why_unqualified(v, i, d->master);
}


/*
 * Why claimant "i", which may take writes, is not the master of decision
 * "d": fewer replicas follow it than the master (or than the servers of a
 * refused tie), as many follow the master and configuration order put the
 * master first, it is in a refused tie, or not every server has been
 * checked yet, as ngx_stream_redis_master_arbitrate() and
 * ngx_stream_redis_master_decide() judge it.
 */

static ngx_uint_t
ngx_stream_redis_master_lost(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_decision_t *d, ngx_uint_t i)
{
    ngx_uint_t  j, most, mine;

    if (d->rule == NGX_STREAM_REDIS_MASTER_RULE_UNPROBED
        || d->rule == NGX_STREAM_REDIS_MASTER_RULE_KEPT)
    {
        return NGX_STREAM_REDIS_MASTER_WHY_UNPROBED;
    }

    if (d->rule != NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS
        && d->rule != NGX_STREAM_REDIS_MASTER_RULE_ORDER
        && d->rule != NGX_STREAM_REDIS_MASTER_RULE_TIE)
    {
        return NGX_STREAM_REDIS_MASTER_WHY_OK;
    }

    most = 0;

    for (j = 0; j < v->conf->targets.nelts; j++) {
        if (ngx_stream_redis_master_claimant(v, j)) {
            most = ngx_max(most, ngx_stream_redis_master_following(v, j));
        }
    }

    mine = ngx_stream_redis_master_following(v, i);

    if (mine < most || d->rule == NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS) {
        return NGX_STREAM_REDIS_MASTER_WHY_OUTVOTED;
    }

    return (d->rule == NGX_STREAM_REDIS_MASTER_RULE_ORDER)
           ? NGX_STREAM_REDIS_MASTER_WHY_LATER_IN_ORDER
           : NGX_STREAM_REDIS_MASTER_WHY_TIE;
}


/* how many servers of the upstream follow server "i", for arbitration */

static ngx_uint_t
ngx_stream_redis_master_following(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i)
{
    ngx_uint_t  j, followers;

    followers = 0;

    for (j = 0; j < v->conf->targets.nelts; j++) {
        followers += ngx_stream_redis_master_follows(v, j, i);
    }

    return followers;
}


/*
 * Why decision "d" of view "v" has its master, or none: promoted from a
 * master the Sentinels see down, the only claimant and named by a majority
 * of the Sentinels, no claimant though servers say master (each has its
 * reason, ngx_stream_redis_master_why_not()), or the decision's rule.
 */

ngx_uint_t
ngx_stream_redis_master_why_master(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_decision_t *d)
{
    ngx_uint_t  i, quorum;

    if (d->master != NGX_STREAM_REDIS_MASTER_NONE && v->conf->sentinel) {
        quorum = ngx_stream_redis_master_agreed(v, d->master);

        if (quorum == NGX_STREAM_REDIS_MASTER_QUORUM_PROMOTED) {
            return NGX_STREAM_REDIS_MASTER_CHOSE_PROMOTED;
        }

        if (quorum == NGX_STREAM_REDIS_MASTER_QUORUM_NAMED
            && d->rule == NGX_STREAM_REDIS_MASTER_RULE_SOLE)
        {
            return NGX_STREAM_REDIS_MASTER_CHOSE_NAMED;
        }
    }

    if (d->master == NGX_STREAM_REDIS_MASTER_NONE
        && d->rule == NGX_STREAM_REDIS_MASTER_RULE_NONE)
    {
        for (i = 0; i < v->conf->targets.nelts; i++) {
            if (ngx_stream_redis_master_is_master(&v->nodes[i])) {
                return NGX_STREAM_REDIS_MASTER_CHOSE_INELIGIBLE;
            }
        }
    }

    return d->rule;
}


/* the words for why_master()'s code, as the log and the status page say it */

const char *
ngx_stream_redis_master_rule_text(ngx_uint_t why)
{
    if (why > NGX_STREAM_REDIS_MASTER_CHOSE_LAST) {
        return "";
    }

    return ngx_stream_redis_master_chose[why];
}


/* the words for a reason code, as the log and the status page say it */

const char *
ngx_stream_redis_master_why_text(ngx_uint_t why)
{
    if (why > NGX_STREAM_REDIS_MASTER_WHY_LAST) {
        return "";
    }

    return ngx_stream_redis_master_why[why];
}


/*
 * How many replicas follow server "i", for min_replicas: the smaller of
 * its two views.
 *
 * The replicas' view (ngx_stream_redis_master_followers()) names servers
 * of the upstream, each of which follows one master at a time: that is
 * what makes two masters unable to both have a majority of them (see
 * docs/failover.md, "Fleet agreement").  The master's view
 * (ngx_stream_redis_master_acked()) is the one that knows when a replica
 * last acknowledged, and it drops a replica as soon as its link closes.
 * Both are needed; neither is matched to the other by address, which NAT
 * and replica-announce-ip make unreliable.
 */

ngx_uint_t
ngx_stream_redis_master_replicated(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i)
{
    return ngx_min(ngx_stream_redis_master_followers(v, i),
                   ngx_stream_redis_master_acked(&v->nodes[i].info,
                                           v->conf->min_replicas_max_lag));
}


/*
 * Server "j" follows server "i", in its own last answer: another server,
 * up (not stalled: a replica that does not answer cannot be vouched for),
 * a replica with its link up, on the replication id of "i" (host and port
 * are not compared: NAT and hostnames make them unreliable).  Whether it
 * is in sync is asked apart (ngx_stream_redis_master_in_sync()).
 */

ngx_uint_t
ngx_stream_redis_master_follows(ngx_stream_redis_master_view_t *v,
    ngx_uint_t j, ngx_uint_t i)
{
    return ngx_stream_redis_master_unfollowed(v, j, i)
           == NGX_STREAM_REDIS_MASTER_WHY_OK;
}


static ngx_uint_t
ngx_stream_redis_master_unfollowed(ngx_stream_redis_master_view_t *v,
    ngx_uint_t j, ngx_uint_t i)
{
    ngx_stream_redis_master_info_t     *info;
    ngx_stream_redis_master_target_t  **tp;

    tp = v->conf->targets.elts;
    info = &v->nodes[j].info;

    if (tp[j]->node == tp[i]->node) {
        return NGX_STREAM_REDIS_MASTER_WHY_NOT_REPLICA;
    }

    if (!v->nodes[j].up) {
        return NGX_STREAM_REDIS_MASTER_WHY_NOT_UP;
    }

    if (info->role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA) {
        return NGX_STREAM_REDIS_MASTER_WHY_NOT_REPLICA;
    }

    if (!info->link_up) {
        return NGX_STREAM_REDIS_MASTER_WHY_UNLINKED;
    }

    if (info->replid[0] == '\0'
        || ngx_strcmp(info->replid, v->nodes[i].info.replid) != 0)
    {
        return NGX_STREAM_REDIS_MASTER_WHY_OTHER_LINEAGE;
    }

    return NGX_STREAM_REDIS_MASTER_WHY_OK;
}


/* a follower that has its master's data: neither syncing nor loading */

static ngx_uint_t
ngx_stream_redis_master_in_sync(ngx_stream_redis_master_node_t *node)
{
    return !node->info.sync_in_progress && !node->info.loading;
}


/* the servers of the upstream that follow server "i", in sync */

static ngx_uint_t
ngx_stream_redis_master_followers(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i)
{
    ngx_uint_t  j, n;

    n = 0;

    for (j = 0; j < v->conf->targets.nelts; j++) {
        n += ngx_stream_redis_master_follows(v, j, i)
             && ngx_stream_redis_master_in_sync(&v->nodes[j]);
    }

    return n;
}


/*
 * The replicas a master lists online and acknowledging within "max_lag"
 * (ms), and those not online or that missed an acknowledgement.  Redis
 * gives a replica's "lag" as the difference of two readings of its clock
 * in whole seconds: a lag of L means the last acknowledgement is between
 * L - 1 and L + 1 seconds old.  A replica stops counting once that age
 * surely exceeds the limit (L - 1 >= limit): a healthy replica,
 * acknowledging every second, shows L = 1 now and then, and must not flap.
 */

static ngx_uint_t
ngx_stream_redis_master_acked(ngx_stream_redis_master_info_t *m,
    ngx_msec_t max_lag)
{
    ngx_uint_t  k, n;

    n = 0;

    for (k = 0; k < m->nslaves && k < NGX_STREAM_REDIS_MASTER_SLAVES; k++) {
        n += (m->slaves[k].online
              && (ngx_msec_t) m->slaves[k].lag * 1000 < max_lag + 1000);
    }

    return n;
}


static ngx_uint_t
ngx_stream_redis_master_acks_late(ngx_stream_redis_master_info_t *m)
{
    ngx_uint_t  k, n;

    n = 0;

    for (k = 0; k < m->nslaves && k < NGX_STREAM_REDIS_MASTER_SLAVES; k++) {
        n += (!m->slaves[k].online || m->slaves[k].lag >= 2);
    }

    return n;
}


/*
 * A promoted replica's master_replid2 is the replid of the master it took
 * over from.  Once it says master, the old master is stale, whatever the
 * Sentinels have yet to publish: writes to it would be discarded when it
 * is demoted.
 */

ngx_uint_t
ngx_stream_redis_master_superseded(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i)
{
    ngx_uint_t                       j;
    ngx_stream_redis_master_node_t  *snap;

    snap = v->nodes;

    if (snap[i].info.replid[0] == '\0') {
        return 0;
    }

    for (j = 0; j < v->conf->targets.nelts; j++) {
        if (j != i && ngx_stream_redis_master_is_master(&snap[j])
            && ngx_strcmp(snap[j].info.replid2, snap[i].info.replid) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Several servers claim master, none promoted from another's lineage (see
 * ngx_stream_redis_master_superseded()): the one that more replicas follow
 * wins, counting those still syncing: they follow its lineage.  The
 * replication offset is never used: a stale master keeps growing it.  A
 * tie is refused, unless split_brain=lineage asks for the first server in
 * configuration order.
 */

static ngx_uint_t
ngx_stream_redis_master_arbitrate(ngx_stream_redis_master_view_t *v,
    ngx_uint_t *rule)
{
    ngx_uint_t  i, n, best, ties, followers, most;

    n = v->conf->targets.nelts;
    best = NGX_STREAM_REDIS_MASTER_NONE;
    most = 0;
    ties = 0;

    for (i = 0; i < n; i++) {

        if (!ngx_stream_redis_master_claimant(v, i)) {
            continue;
        }

        followers = ngx_stream_redis_master_following(v, i);

        if (best == NGX_STREAM_REDIS_MASTER_NONE || followers > most) {
            best = i;
            most = followers;
            ties = 0;

        } else if (followers == most) {
            ties++;
        }
    }

    if (ties == 0) {
        *rule = NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS;
        return best;
    }

    if (v->conf->split_brain == NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE) {
        *rule = NGX_STREAM_REDIS_MASTER_RULE_ORDER;
        return best;
    }

    *rule = NGX_STREAM_REDIS_MASTER_RULE_TIE;

    return NGX_STREAM_REDIS_MASTER_NONE;
}


/*
 * Whether the Sentinels agree that server "i" is the master (always, without
 * redis_sentinel):
 *
 * NAMED: a strict majority of them name it.
 *
 * PROMOTED: it was promoted from the lineage of a master "m" (its
 * master_replid2 is the replid m had), no other server that says master
 * was, and a strict majority of the Sentinels either name it or name m
 * and see m down.  That is a failover in
 * progress: Sentinels only promote a replica once a majority has elected a
 * leader, and the others learn the new master from the leader a second or
 * so later.  Waiting for them would add that second to every crash, while
 * the old master they abandoned can no longer take writes.
 *
 * A Sentinel that is down or does not answer counts for nobody, so losing
 * Sentinels never hands writes to a server.
 */

ngx_uint_t
ngx_stream_redis_master_agreed(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i)
{
    ngx_uint_t                       m, n;
    ngx_stream_redis_master_node_t  *snap;

    if (v->conf->sentinel == NULL) {
        return NGX_STREAM_REDIS_MASTER_QUORUM_NAMED;
    }

    n = v->conf->sentinels.nelts;

    if (ngx_stream_redis_master_votes(v, i, NGX_STREAM_REDIS_MASTER_NONE) * 2
        > n)
    {
        return NGX_STREAM_REDIS_MASTER_QUORUM_NAMED;
    }

    snap = v->nodes;

    if (snap[i].info.replid2[0] == '\0') {
        return NGX_STREAM_REDIS_MASTER_QUORUM_NONE;
    }

    for (m = 0; m < v->conf->targets.nelts; m++) {

        if (m == i
            || snap[m].info.role != NGX_STREAM_REDIS_MASTER_ROLE_MASTER
            || ngx_strcmp(snap[i].info.replid2, snap[m].info.replid) != 0)
        {
            continue;
        }

        if (ngx_stream_redis_master_votes(v, i, m) * 2 > n
            && ngx_stream_redis_master_sole_heir(v, i, m))
        {
            return NGX_STREAM_REDIS_MASTER_QUORUM_PROMOTED;
        }
    }

    return NGX_STREAM_REDIS_MASTER_QUORUM_NONE;
}


/*
 * Whether server "i" is the only server that says master and was promoted
 * from the lineage of "m".  Two of them (one promoted by hand, or by a
 * failover that was aborted and tried again) leave it to the Sentinels to
 * name one: a vote for leaving "m" is not a vote for either.
 */

static ngx_uint_t
ngx_stream_redis_master_sole_heir(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i, ngx_uint_t m)
{
    ngx_uint_t                          j;
    ngx_stream_redis_master_node_t     *snap;
    ngx_stream_redis_master_target_t  **tp;

    snap = v->nodes;
    tp = v->conf->targets.elts;

    for (j = 0; j < v->conf->targets.nelts; j++) {
        if (tp[j]->node != tp[i]->node
            && ngx_stream_redis_master_is_master(&snap[j])
            && ngx_strcmp(snap[j].info.replid2, snap[m].info.replid) == 0)
        {
            return 0;
        }
    }

    return 1;
}


/*
 * The Sentinels that name server "i" and do not see it down, plus, when
 * "old" is a server, those that name "old" and see it down.
 */

static ngx_uint_t
ngx_stream_redis_master_votes(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i, ngx_uint_t old)
{
    ngx_uint_t                       j, votes;
    ngx_stream_redis_master_node_t  *s;

    votes = 0;

    for (j = 0; j < v->conf->sentinels.nelts; j++) {
        s = &v->sentinels[j];

        if (ngx_stream_redis_master_names(v, i, s)) {
            votes += !s->info.master_down;

        } else if (old != NGX_STREAM_REDIS_MASTER_NONE
                   && ngx_stream_redis_master_names(v, old, s))
        {
            votes += s->info.master_down;
        }
    }

    return votes;
}


/*
 * Sentinel "s" names server "i" as master: by the address it announces
 * (ngx_stream_redis_master_named()), matched against the server's
 * address and against its name as written in the upstream, so that
 * hostnames Sentinel announces also match.  A server a redis_server name
 * brought has the address of its seat, and the name only when the name
 * brings one server (a name of several addresses names none of them).
 */

ngx_uint_t
ngx_stream_redis_master_names(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i, ngx_stream_redis_master_node_t *s)
{
    size_t                              len, n;
    u_char                              addr[NGX_STREAM_REDIS_MASTER_ADDR_LEN];
    u_char                              text[NGX_SOCKADDR_STRLEN];
    ngx_stream_redis_master_seat_t     *seat;
    ngx_stream_redis_master_target_t   *t, **tp;

    len = ngx_stream_redis_master_named(s, addr);

    if (len == 0) {
        return 0;
    }

    tp = v->conf->targets.elts;
    t = tp[i];

    if (t->of == NULL) {
        return (len == t->name.len
                && ngx_strncasecmp(addr, t->name.data, len) == 0)
               || (len == t->server.len
                   && ngx_strncasecmp(addr, t->server.data, len) == 0);
    }

    seat = v->seats ? &v->seats[i] : NULL;

    if (seat == NULL || seat->socklen == 0) {
        return 0;
    }

    n = ngx_sock_ntop(&seat->addr.sockaddr, seat->socklen, text,
                      NGX_SOCKADDR_STRLEN, 1);

    return (len == n && ngx_strncasecmp(addr, text, len) == 0)
           || (t->of->seats.nelts == 1
               && len == t->server.len
               && ngx_strncasecmp(addr, t->server.data, len) == 0);
}


/*
 * min_replicas as a number: "majority" of an upstream with redis_server
 * counts its servers that have an address now (see init_min_replicas()).
 */

ngx_uint_t
ngx_stream_redis_master_min_replicas(ngx_stream_redis_master_view_t *v)
{
    ngx_uint_t                          i, n;
    ngx_stream_redis_master_target_t  **tp;

    if (v->conf->min_replicas != NGX_STREAM_REDIS_MASTER_MAJORITY) {
        return v->conf->min_replicas;
    }

    tp = v->conf->targets.elts;
    n = 0;

    for (i = 0; i < v->conf->targets.nelts; i++) {
        n += (tp[i]->of == NULL || (v->seats && v->seats[i].socklen));
    }

    return ngx_min(ngx_max(n / 2, 1), NGX_STREAM_REDIS_MASTER_SLAVES);
}


/*
 * The address Sentinel "s" names as master, as "host:port" or
 * "[host]:port" in "buf" (NGX_STREAM_REDIS_MASTER_ADDR_LEN bytes), and its
 * length; 0 when the Sentinel is not up or names none.
 */

size_t
ngx_stream_redis_master_named(ngx_stream_redis_master_node_t *s, u_char *buf)
{
    if (!s->up || s->info.master_port == 0) {
        return 0;
    }

    return ngx_sprintf(buf, ngx_strchr(s->info.master_host, ':') ? "[%s]:%d"
                                                                 : "%s:%d",
                       s->info.master_host, (int) s->info.master_port)
           - buf;
}


/*
 * A replica serves reads only while it is a fresh follower of the current
 * master (ngx_stream_redis_master_follows()), in sync, and within max_lag
 * and max_lag_bytes.
 */

ngx_uint_t
ngx_stream_redis_master_qualifies(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i, ngx_uint_t master)
{
    return ngx_stream_redis_master_why_unqualified(v, i, master)
           == NGX_STREAM_REDIS_MASTER_WHY_OK;
}


/* why replica "i" does not serve reads, or NGX_STREAM_REDIS_MASTER_WHY_OK */

ngx_uint_t
ngx_stream_redis_master_why_unqualified(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i, ngx_uint_t master)
{
    ngx_uint_t                       why;
    ngx_msec_int_t                   lag;
    ngx_stream_redis_master_info_t  *info, *m;

    if (master == NGX_STREAM_REDIS_MASTER_NONE) {
        return NGX_STREAM_REDIS_MASTER_WHY_NO_MASTER;
    }

    why = ngx_stream_redis_master_unfollowed(v, i, master);

    if (why != NGX_STREAM_REDIS_MASTER_WHY_OK) {
        return why;
    }

    info = &v->nodes[i].info;
    m = &v->nodes[master].info;

    if (info->sync_in_progress) {
        return NGX_STREAM_REDIS_MASTER_WHY_SYNCING;
    }

    if (info->loading) {
        return NGX_STREAM_REDIS_MASTER_WHY_LOADING;
    }

    lag = ngx_stream_redis_master_staleness(v, i, master);

    if (lag < 0) {
        return NGX_STREAM_REDIS_MASTER_WHY_LAG_UNKNOWN;
    }

    if ((ngx_msec_t) lag > v->conf->max_lag) {
        return NGX_STREAM_REDIS_MASTER_WHY_LAGGING;
    }

    if (v->conf->max_lag_bytes != NGX_CONF_UNSET
        && m->master_repl_offset - info->slave_repl_offset
           > v->conf->max_lag_bytes)
    {
        return NGX_STREAM_REDIS_MASTER_WHY_BYTES_BEHIND;
    }

    return NGX_STREAM_REDIS_MASTER_WHY_OK;
}


/*
 * How stale replica "i" is, in milliseconds: how long ago the master was
 * first found beyond the offset the replica last reported, by the history
 * of the master's offsets (v->history).  Counted up to the replica's last
 * probe while its probes come in time; once one is overdue, up to now
 * (v->now), as a replica that stopped answering grows staler.  0 when the
 * replica has all the master had at its last probe; -1 when it is behind
 * every offset remembered, and how far is not known.
 */

ngx_msec_int_t
ngx_stream_redis_master_staleness(ngx_stream_redis_master_view_t *v,
    ngx_uint_t i, ngx_uint_t master)
{
    off_t                               offset;
    ngx_msec_t                          at, due;
    ngx_uint_t                          k;
    ngx_msec_int_t                      lag;
    ngx_stream_redis_master_node_t     *replica;
    ngx_stream_redis_master_history_t  *h;

    replica = &v->nodes[i];
    offset = replica->info.slave_repl_offset;
    h = &v->history;

    if (offset >= v->nodes[master].info.master_repl_offset) {
        return 0;
    }

    if (h->master != master) {
        return -1;
    }

    for (k = 0; k < h->n; k++) {
        if (h->seen[k].offset > offset) {
            break;
        }
    }

    if (k == 0 || k == h->n) {
        return k ? 0 : -1;
    }

    /* a probe comes an interval after the last, up to a tenth late */

    due = v->conf->check.interval + v->conf->check.interval / 10
          + NGX_STREAM_REDIS_MASTER_PROBE_SLACK;

    at = (replica->failures
          || (ngx_msec_int_t) (v->now - replica->checked)
             > (ngx_msec_int_t) due)
         ? v->now : replica->checked;

    lag = (ngx_msec_int_t) (at - h->seen[k].seen);

    return lag > 0 ? lag : 0;
}


/*
 * Which offset a full history can do without.  Whether a replica is within
 * max_lag needs one offset found longer ago than max_lag (and a probe's
 * delay), and every one since: the oldest goes while the next is that old
 * too.  Otherwise, as when the master's offset moved at more probes than
 * the history holds within max_lag, the one whose neighbours are closest
 * in time goes, so that the steps stay as even as they can.
 */

ngx_uint_t
ngx_stream_redis_master_forgettable(ngx_stream_redis_master_view_t *v,
    ngx_stream_redis_master_history_t *h)
{
    ngx_msec_t                       gap, best, window;
    ngx_uint_t                       k, n, forget;
    ngx_stream_redis_master_seen_t  *s;

    s = h->seen;
    n = h->n;

    window = v->conf->max_lag + 2 * v->conf->check.interval
             + NGX_STREAM_REDIS_MASTER_PROBE_SLACK;

    if ((ngx_msec_int_t) (v->now - s[1].seen) > (ngx_msec_int_t) window) {
        return 0;
    }

    forget = 1;
    best = (ngx_msec_t) -1;

    for (k = 1; k < n - 1; k++) {
        gap = s[k + 1].seen - s[k - 1].seen;

        if (gap < best) {
            best = gap;
            forget = k;
        }
    }

    return forget;
}


/*
 * A copy of the node of a server a redis_server name brought, as its seat
 * has it: with no address it is down and says nothing ("not resolved"),
 * and holds no decision back; at an address its node was not probed at
 * yet (the seat moved), it is down and not yet probed there.  Nothing
 * judged at an earlier address counts.  Changes the copy alone.
 */

void
ngx_stream_redis_master_forget_unseated(ngx_stream_redis_master_node_t *copy,
    ngx_stream_redis_master_seat_t *seat)
{
    static u_char  unresolved[] = "not resolved";
    static u_char  unprobed[] = "not yet probed at its new address";

    if (seat->socklen && copy->epoch == seat->epoch) {
        return;
    }

    copy->up = 0;
    copy->stalled = 0;
    copy->successes = 0;
    copy->role_changed = 0;
    ngx_memzero(&copy->info, sizeof(ngx_stream_redis_master_info_t));
    copy->info.master_last_io = -1;

    if (seat->socklen == 0) {
        copy->probes = 1;
        copy->reason_len = sizeof(unresolved) - 1;
        ngx_memcpy(copy->reason, unresolved, sizeof(unresolved) - 1);
        return;
    }

    copy->probes = 0;
    copy->reason_len = sizeof(unprobed) - 1;
    ngx_memcpy(copy->reason, unprobed, sizeof(unprobed) - 1);
}


/*
 * A copy of a node that no worker has refreshed for longer than it stays
 * fresh (a server a reload removed, read by the workers of the older
 * configuration) counts as a server that is down and says nothing, and
 * says so as its reason, for the status page.  Changes the copy alone.
 */

void
ngx_stream_redis_master_forget_stale(ngx_stream_redis_master_node_t *copy,
    ngx_msec_t now)
{
    static u_char  stale[] = "no recent check";

    if (copy->probes == 0
        || (ngx_msec_int_t) (now - copy->checked)
           <= (ngx_msec_int_t) copy->fresh)
    {
        return;
    }

    copy->up = 0;
    copy->stalled = 0;
    copy->info.role = NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN;
    copy->info.master_port = 0;
    copy->reason_len = sizeof(stale) - 1;
    ngx_memcpy(copy->reason, stale, sizeof(stale) - 1);
}


/*
 * Whether a probe of a server of upstream "rmcf" changed what a decision
 * reads, from node "before" to node "after": the role version moves when
 * it changed who may be master or what qualifies, the lag version when it
 * moved the master's offset, and MATTERS_REPLICA for a replica's probe
 * that moved only its own offset or time, which can change whether that
 * replica qualifies and nothing else.  A probe that repeats the last one,
 * or changes only what no decision reads, moves nothing, and costs no
 * decision.
 */

ngx_uint_t
ngx_stream_redis_master_matters(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *before,
    ngx_stream_redis_master_node_t *after)
{
    ngx_uint_t                       matters;
    ngx_msec_t                       max_lag;
    ngx_stream_redis_master_info_t  *a, *b;

    a = &before->info;
    b = &after->info;
    matters = 0;

    /*
     * a kick answered matters too: a held connection goes back to a server
     * whose connect failed only once a probe since has succeeded (hold.c)
     */

    if (before->probes == 0
        || before->up != after->up
        || before->stalled != after->stalled
        || (before->failures == 0) != (after->failures == 0)
        || before->kick_probed != after->kick_probed
        || ngx_stream_redis_master_info_differs(a, b))
    {
        matters |= NGX_STREAM_REDIS_MASTER_MATTERS_ROLE;
    }

    /*
     * min_replicas reads a master's "slaveN:" lines: how many replicas
     * acknowledged within the limit, and how many are not online or missed
     * an acknowledgement (ngx_stream_redis_master_suspect()).  An age that
     * moves within those bounds, as a healthy replica's does every second,
     * changes no decision.
     */

    if (rmcf->min_replicas) {
        max_lag = rmcf->min_replicas_max_lag;

        if (ngx_stream_redis_master_acked(a, max_lag)
            != ngx_stream_redis_master_acked(b, max_lag)
            || ngx_stream_redis_master_acks_late(a)
               != ngx_stream_redis_master_acks_late(b))
        {
            matters |= NGX_STREAM_REDIS_MASTER_MATTERS_ROLE;
        }
    }

    /*
     * Only a read pool reads offsets: a master's master_repl_offset (the
     * history, and every replica's lag measured against it), and a
     * replica's own slave_repl_offset, whose lag is measured up to the
     * time of its probe (ngx_stream_redis_master_staleness()): each
     * probe of a replica, its offset moved or not, may change its place
     * and no other server's.  Neither a replica's master_repl_offset nor
     * master_last_io_seconds_ago, which an idle replica's probe finds
     * moved every second, is read by any decision.
     */

    if (rmcf->balancer != NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA) {
        return matters;
    }

    if (ngx_stream_redis_master_is_master(after)) {
        if (a->master_repl_offset != b->master_repl_offset) {
            matters |= NGX_STREAM_REDIS_MASTER_MATTERS_LAG;
        }

    } else if (b->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
               && (before->checked != after->checked
                   || a->slave_repl_offset != b->slave_repl_offset))
    {
        matters |= NGX_STREAM_REDIS_MASTER_MATTERS_REPLICA;
    }

    return matters;
}


/* whether two probes differ in what a decision reads, lag apart */

static ngx_uint_t
ngx_stream_redis_master_info_differs(ngx_stream_redis_master_info_t *a,
    ngx_stream_redis_master_info_t *b)
{
    return a->role != b->role
           || a->link_up != b->link_up
           || a->sync_in_progress != b->sync_in_progress
           || a->loading != b->loading
           || a->master_down != b->master_down
           || a->master_port != b->master_port
           || ngx_strcmp(a->master_host, b->master_host) != 0
           || ngx_strcmp(a->replid, b->replid) != 0
           || ngx_strcmp(a->replid2, b->replid2) != 0;
}
