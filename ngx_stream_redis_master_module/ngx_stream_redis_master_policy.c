
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Policy: which server of an upstream is its master, and which replicas
 * qualify for reads, as pure functions of the upstream's snapshot (taken
 * by ngx_stream_redis_master_snapshot()) and its configuration.  Nothing
 * here does I/O, logs, or changes state: the balancer acts on and
 * announces what these functions answer.
 */


#include "ngx_stream_redis_master_policy.h"


static ngx_uint_t ngx_stream_redis_master_all_probed(
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_uint_t ngx_stream_redis_master_says_master(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
static ngx_uint_t ngx_stream_redis_master_arbitrate(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t *rule);
static ngx_uint_t ngx_stream_redis_master_sole_heir(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i, ngx_uint_t m);
static ngx_uint_t ngx_stream_redis_master_votes(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i, ngx_uint_t old);
static ngx_uint_t ngx_stream_redis_master_names(
    ngx_stream_redis_master_target_t *t, ngx_stream_redis_master_node_t *s);
static ngx_uint_t ngx_stream_redis_master_followers(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i);
static ngx_uint_t ngx_stream_redis_master_qualifies(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t i,
    ngx_uint_t master);


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
ngx_stream_redis_master_decide(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *previous,
    ngx_stream_redis_master_decision_t *d)
{
    ngx_uint_t                          i;
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;

    d->master = NGX_STREAM_REDIS_MASTER_NONE;
    d->claimants = 0;
    d->suspect = 0;

    if (!ngx_stream_redis_master_all_probed(rmcf)) {
        d->rule = NGX_STREAM_REDIS_MASTER_RULE_UNPROBED;

        for (i = 0; i < rmcf->targets.nelts; i++) {
            if (previous == tp[i]->node
                && ngx_stream_redis_master_claims(rmcf, i))
            {
                d->master = i;
                d->rule = NGX_STREAM_REDIS_MASTER_RULE_KEPT;
                return;
            }
        }

        return;
    }

    for (i = 0; i < rmcf->targets.nelts; i++) {
        if (ngx_stream_redis_master_claims(rmcf, i)) {
            d->claimants++;
            d->master = i;
        }
    }

    if (d->claimants > 1) {
        d->master = ngx_stream_redis_master_arbitrate(rmcf, &d->rule);
        d->suspect = ngx_stream_redis_master_suspect(rmcf, d->master);
        return;
    }

    d->rule = d->claimants ? NGX_STREAM_REDIS_MASTER_RULE_SOLE
                           : NGX_STREAM_REDIS_MASTER_RULE_NONE;

    d->suspect = ngx_stream_redis_master_suspect(rmcf, d->master);
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
ngx_stream_redis_master_suspect(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t master)
{
    ngx_uint_t  n;

    if (rmcf->min_replicas == 0 || master == NGX_STREAM_REDIS_MASTER_NONE) {
        return 0;
    }

    n = ngx_stream_redis_master_replicated(rmcf, master);

    if (n > rmcf->min_replicas) {
        return 0;
    }

    return n + 1 < rmcf->targets.nelts
           || ngx_stream_redis_master_acks_late(&rmcf->snapshot[master].info);
}


/*
 * The servers an upstream may use now, given its master: the master for a
 * write pool; for a read pool the qualified replicas and, with
 * fallback=master, the master, whose sessions that fell back may stay.
 */

void
ngx_stream_redis_master_eligible(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t master, uintptr_t *map)
{
    ngx_uint_t  i, n;

    n = rmcf->targets.nelts;

    ngx_memzero(map, ngx_stream_redis_master_map_size(n) * sizeof(uintptr_t));

    if (rmcf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA) {
        for (i = 0; i < n; i++) {
            if (ngx_stream_redis_master_qualifies(rmcf, i, master)) {
                ngx_stream_redis_master_set_bit(map, i);
            }
        }

        if (rmcf->fallback != NGX_STREAM_REDIS_MASTER_FALLBACK_MASTER) {
            return;
        }
    }

    if (master != NGX_STREAM_REDIS_MASTER_NONE) {
        ngx_stream_redis_master_set_bit(map, master);
    }
}


static ngx_uint_t
ngx_stream_redis_master_all_probed(ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_uint_t  i;

    for (i = 0; i < rmcf->targets.nelts; i++) {
        if (rmcf->snapshot[i].probes == 0) {
            return 0;
        }
    }

    for (i = 0; i < rmcf->sentinels.nelts; i++) {
        if (rmcf->sentinel_snapshot[i].probes == 0) {
            return 0;
        }
    }

    return 1;
}


/*
 * Server "i" may take writes: its check says master, it is not marked
 * "down", no server promoted from its lineage says master too, with
 * redis_sentinel the Sentinels agree (ngx_stream_redis_master_quorum()),
 * and with min_replicas enough replicas follow it
 * (ngx_stream_redis_master_replicated()).
 */

ngx_uint_t
ngx_stream_redis_master_claims(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    return ngx_stream_redis_master_says_master(rmcf, i)
           && !ngx_stream_redis_master_bit(rmcf->down, i)
           && !ngx_stream_redis_master_superseded(rmcf, i)
           && ngx_stream_redis_master_quorum(rmcf, i)
           && (rmcf->min_replicas == 0
               || ngx_stream_redis_master_replicated(rmcf, i)
                  >= rmcf->min_replicas);
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
ngx_stream_redis_master_replicated(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    return ngx_min(ngx_stream_redis_master_followers(rmcf, i),
                   ngx_stream_redis_master_acked(&rmcf->snapshot[i].info,
                                             rmcf->min_replicas_max_lag));
}


/*
 * The servers of the upstream that say, in their own last answer, that
 * they are a replica linked to server "i": up (not stalled: a replica that
 * does not answer cannot be vouched for), link up, neither syncing nor
 * loading, with the master_replid of "i".
 */

static ngx_uint_t
ngx_stream_redis_master_followers(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    ngx_uint_t                          j, n;
    ngx_stream_redis_master_info_t     *info, *m;
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;
    m = &rmcf->snapshot[i].info;
    n = 0;

    if (m->replid[0] == '\0') {
        return 0;
    }

    for (j = 0; j < rmcf->targets.nelts; j++) {
        info = &rmcf->snapshot[j].info;

        if (tp[j]->node != tp[i]->node
            && rmcf->snapshot[j].up
            && info->role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
            && info->link_up && !info->sync_in_progress && !info->loading
            && ngx_strcmp(info->replid, m->replid) == 0)
        {
            n++;
        }
    }

    return n;
}


static ngx_uint_t
ngx_stream_redis_master_says_master(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    return ngx_stream_redis_master_is_master(&rmcf->snapshot[i]);
}


/*
 * A promoted replica's master_replid2 is the replid of the master it took
 * over from.  Once it says master, the old master is stale, whatever the
 * Sentinels have yet to publish: writes to it would be discarded when it
 * is demoted.
 */

ngx_uint_t
ngx_stream_redis_master_superseded(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    ngx_uint_t                       j;
    ngx_stream_redis_master_node_t  *snap;

    snap = rmcf->snapshot;

    if (snap[i].info.replid[0] == '\0') {
        return 0;
    }

    for (j = 0; j < rmcf->targets.nelts; j++) {
        if (j != i && ngx_stream_redis_master_says_master(rmcf, j)
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
 * wins.  The replication offset is never used: a stale master keeps
 * growing it.  A tie is refused, unless split_brain=lineage asks for the
 * first server in configuration order.
 */

static ngx_uint_t
ngx_stream_redis_master_arbitrate(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t *rule)
{
    ngx_uint_t                       i, j, n, best, ties, followers, most;
    ngx_stream_redis_master_node_t  *snap;

    snap = rmcf->snapshot;
    n = rmcf->targets.nelts;
    best = NGX_STREAM_REDIS_MASTER_NONE;
    most = 0;
    ties = 0;

    for (i = 0; i < n; i++) {

        if (!ngx_stream_redis_master_claims(rmcf, i)) {
            continue;
        }

        followers = 0;

        for (j = 0; j < n; j++) {
            if (snap[j].up
                && snap[j].info.role == NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
                && snap[j].info.link_up
                && ngx_strcmp(snap[j].info.replid, snap[i].info.replid) == 0)
            {
                followers++;
            }
        }

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

    if (rmcf->split_brain == NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE) {
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
ngx_stream_redis_master_quorum(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    ngx_uint_t                       m, n;
    ngx_stream_redis_master_node_t  *snap;

    if (rmcf->sentinel == NULL) {
        return NGX_STREAM_REDIS_MASTER_QUORUM_NAMED;
    }

    n = rmcf->sentinels.nelts;

    if (ngx_stream_redis_master_votes(rmcf, i, NGX_STREAM_REDIS_MASTER_NONE)
        * 2 > n)
    {
        return NGX_STREAM_REDIS_MASTER_QUORUM_NAMED;
    }

    snap = rmcf->snapshot;

    if (snap[i].info.replid2[0] == '\0') {
        return NGX_STREAM_REDIS_MASTER_QUORUM_NONE;
    }

    for (m = 0; m < rmcf->targets.nelts; m++) {

        if (m == i
            || snap[m].info.role != NGX_STREAM_REDIS_MASTER_ROLE_MASTER
            || ngx_strcmp(snap[i].info.replid2, snap[m].info.replid) != 0)
        {
            continue;
        }

        if (ngx_stream_redis_master_votes(rmcf, i, m) * 2 > n
            && ngx_stream_redis_master_sole_heir(rmcf, i, m))
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
ngx_stream_redis_master_sole_heir(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_uint_t m)
{
    ngx_uint_t                          j;
    ngx_stream_redis_master_node_t     *snap;
    ngx_stream_redis_master_target_t  **tp;

    snap = rmcf->snapshot;
    tp = rmcf->targets.elts;

    for (j = 0; j < rmcf->targets.nelts; j++) {
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
ngx_stream_redis_master_votes(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_uint_t old)
{
    ngx_uint_t                          j, votes;
    ngx_stream_redis_master_node_t     *s;
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;
    votes = 0;

    for (j = 0; j < rmcf->sentinels.nelts; j++) {
        s = &rmcf->sentinel_snapshot[j];

        if (ngx_stream_redis_master_names(tp[i], s)) {
            votes += !s->info.master_down;

        } else if (old != NGX_STREAM_REDIS_MASTER_NONE
                   && ngx_stream_redis_master_names(tp[old], s))
        {
            votes += s->info.master_down;
        }
    }

    return votes;
}


/*
 * Sentinel names a master by the address it announces.  That is matched
 * against the server's resolved address and against its name as written
 * in the upstream, so that hostnames Sentinel announces also match.
 */

static ngx_uint_t
ngx_stream_redis_master_names(ngx_stream_redis_master_target_t *t,
    ngx_stream_redis_master_node_t *s)
{
    size_t   len;
    u_char   addr[NGX_STREAM_REDIS_MASTER_HOST_LEN + NGX_INT_T_LEN + 4];

    if (!s->up || s->info.master_port == 0) {
        return 0;
    }

    len = ngx_sprintf(addr,
                      ngx_strchr(s->info.master_host, ':') ? "[%s]:%d"
                                                             : "%s:%d",
                      s->info.master_host, (int) s->info.master_port)
          - addr;

    return (len == t->name.len
            && ngx_strncasecmp(addr, t->name.data, len) == 0)
           || (len == t->server.len
               && ngx_strncasecmp(addr, t->server.data, len) == 0);
}


/*
 * A replica serves reads only while it is a fresh follower of the current
 * master: linked, not syncing or loading, on the master's replication id
 * (host and port are not compared: NAT and hostnames make them unreliable),
 * and within max_lag and max_lag_bytes.
 */

static ngx_uint_t
ngx_stream_redis_master_qualifies(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_uint_t master)
{
    ngx_msec_int_t                   lag;
    ngx_stream_redis_master_info_t  *info, *m;

    if (master == NGX_STREAM_REDIS_MASTER_NONE || !rmcf->snapshot[i].up) {
        return 0;
    }

    info = &rmcf->snapshot[i].info;
    m = &rmcf->snapshot[master].info;

    if (info->role != NGX_STREAM_REDIS_MASTER_ROLE_REPLICA
        || !info->link_up || info->sync_in_progress || info->loading
        || info->replid[0] == '\0'
        || ngx_strcmp(info->replid, m->replid) != 0)
    {
        return 0;
    }

    lag = ngx_stream_redis_master_lag(rmcf, i, master);

    if (lag < 0 || (ngx_msec_t) lag > rmcf->max_lag) {
        return 0;
    }

    if (rmcf->max_lag_bytes != NGX_CONF_UNSET
        && m->master_repl_offset - info->slave_repl_offset
           > rmcf->max_lag_bytes)
    {
        return 0;
    }

    return 1;
}


/*
 * How stale replica "i" is, in milliseconds: how long ago the master was
 * first found beyond the offset the replica last reported, by the history
 * of the master's offsets (rmcf->history).  Counted up to the replica's
 * last probe while its probes come in time; once one is overdue, up to
 * now (rmcf->decided), as a replica that stopped answering grows staler.
 * 0 when the replica has all the master had at its last probe; -1 when it
 * is behind every offset remembered, and how far is not known.
 */

ngx_msec_int_t
ngx_stream_redis_master_lag(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_uint_t master)
{
    off_t                            offset;
    ngx_msec_t                       at, due;
    ngx_uint_t                       k;
    ngx_msec_int_t                   lag;
    ngx_stream_redis_master_node_t  *replica;

    replica = &rmcf->snapshot[i];
    offset = replica->info.slave_repl_offset;

    if (offset >= rmcf->snapshot[master].info.master_repl_offset) {
        return 0;
    }

    if (rmcf->history_master != master) {
        return -1;
    }

    for (k = 0; k < rmcf->nhistory; k++) {
        if (rmcf->history[k].offset > offset) {
            break;
        }
    }

    if (k == 0 || k == rmcf->nhistory) {
        return k ? 0 : -1;
    }

    /* a probe comes an interval after the last, up to a twentieth late */

    due = rmcf->check.interval + rmcf->check.interval / 10 + 100;

    at = (replica->failures
          || (ngx_msec_int_t) (rmcf->decided - replica->checked)
             > (ngx_msec_int_t) due)
         ? rmcf->decided : replica->checked;

    lag = (ngx_msec_int_t) (at - rmcf->history[k].seen);

    return lag > 0 ? lag : 0;
}
