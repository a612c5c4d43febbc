
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The resolving of names: a Sentinel named by a host name, before each of
 * its probes (the address its checker probes and subscribes to, and
 * whether that address is another Sentinel's: one Sentinel, one vote); a
 * redis_server name, once an interval by its owner (its addresses placed
 * in its seats); the servers of redis_sentinel discover=, found as
 * often, by its owner, in the Sentinels' reports and placed the same
 * way; and the address of a seat's server, taken before each of its
 * probes.
 */


#include "ngx_stream_redis_master_checker.h"


static ngx_int_t ngx_stream_redis_master_ask(
    ngx_stream_redis_master_checker_t *ck, ngx_resolver_handler_pt handler);
static void ngx_stream_redis_master_resolved(ngx_resolver_ctx_t *ctx);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_twin(
    ngx_stream_redis_master_target_t *t, ngx_str_t **upstream);
static void ngx_stream_redis_master_name_resolved(ngx_resolver_ctx_t *ctx);
static ngx_uint_t ngx_stream_redis_master_listed(
    ngx_stream_redis_master_target_t *t, struct sockaddr *sockaddr,
    socklen_t socklen);
static void ngx_stream_redis_master_answered(
    ngx_stream_redis_master_checker_t *ck, ngx_int_t state, u_char *error,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs);
static void ngx_stream_redis_master_log_missing(
    ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_seat_t *before,
    ngx_stream_redis_master_seat_t *after);
static void ngx_stream_redis_master_log_seats(
    ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_seat_t *before,
    ngx_stream_redis_master_seat_t *after, ngx_uint_t empty);
static void ngx_stream_redis_master_log_twins(
    ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs, ngx_stream_redis_master_target_t **twins);
static void ngx_stream_redis_master_log_cut(
    ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_seat_t *after,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs, ngx_uint_t cut);


/*
 * A Sentinel named by a host name is resolved before each probe; nginx's
 * resolver answers from its cache while the TTL (or valid=) lasts.  A new
 * address moves the probe and the event subscription there.
 */

void
ngx_stream_redis_master_resolve(ngx_stream_redis_master_checker_t *ck)
{
    if (ngx_stream_redis_master_ask(ck, ngx_stream_redis_master_resolved)
        != NGX_OK)
    {
        ngx_stream_redis_master_fail(ck, 0, "cannot resolve \"%V\"",
                                     &ck->target->host);
    }
}


/*
 * Asks the resolver for the target's host name, "handler" to be called
 * with the answer (perhaps before this returns); NGX_ERROR if it cannot.
 */

static ngx_int_t
ngx_stream_redis_master_ask(ngx_stream_redis_master_checker_t *ck,
    ngx_resolver_handler_pt handler)
{
    ngx_resolver_ctx_t                *ctx;
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;

    ctx = ngx_resolve_start(t->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        return NGX_ERROR;
    }

    ctx->name = t->host;
    ctx->handler = handler;
    ctx->data = ck;
    ctx->timeout = t->resolver_timeout;

    /* the handler may run before ngx_resolve_name() returns */

    ck->resolving = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        ck->resolving = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_stream_redis_master_resolved(ngx_resolver_ctx_t *ctx)
{
    u_char                              text[NGX_SOCKADDR_STRLEN];
    size_t                              len;
    ngx_str_t                          *upstream;
    ngx_int_t                           state;
    ngx_uint_t                          i;
    ngx_resolver_addr_t                *addr;
    ngx_stream_redis_master_target_t   *t, *twin;
    ngx_stream_redis_master_checker_t  *ck;

    ck = ctx->data;
    t = ck->target;
    ck->resolving = NULL;

    state = ctx->state;

    if (state) {
        ngx_resolve_name_done(ctx);

        if (!ck->unresolved) {
            ck->unresolved = 1;

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis sentinel: %V in upstream %V does not "
                          "resolve (%s): it counts as not agreeing until "
                          "it does", &t->name, &t->upstreams,
                          ngx_resolver_strerror(state));
        }

        ngx_stream_redis_master_fail(ck, 0, "cannot resolve \"%V\": %s",
                                     &t->host, ngx_resolver_strerror(state));
        return;
    }

    ck->unresolved = 0;

    /* of several addresses, the one in use stays while the name has it */

    addr = &ctx->addrs[0];

    for (i = 0; t->sockaddr && i < ctx->naddrs; i++) {
        if (ngx_cmp_sockaddr(ctx->addrs[i].sockaddr, ctx->addrs[i].socklen,
                             t->sockaddr, t->socklen, 0)
            == NGX_OK)
        {
            addr = NULL;
            break;
        }
    }

    if (addr && addr->socklen <= sizeof(ngx_sockaddr_t)) {

        /* the probe and the subscription go to the new address */

        ngx_stream_redis_master_close(ck);
        ngx_stream_redis_master_unsubscribe(t);

#if (NGX_STREAM_SSL)
        ngx_stream_redis_master_link_forget(t);
#endif

        ngx_memcpy(&ck->resolved, addr->sockaddr, addr->socklen);
        ngx_inet_set_port(&ck->resolved.sockaddr, t->port);

        len = ngx_sock_ntop(&ck->resolved.sockaddr, addr->socklen, text,
                            NGX_SOCKADDR_STRLEN, 1);

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "redis sentinel: %V in upstream %V %s %*s",
                      &t->name, &t->upstreams,
                      t->sockaddr ? "moved to" : "resolves to", len, text);

        t->sockaddr = &ck->resolved.sockaddr;
        t->socklen = addr->socklen;
    }

    ngx_resolve_name_done(ctx);

    /*
     * One Sentinel has one vote: a name that reaches the address another
     * Sentinel entry of an upstream has counts as not agreeing, as one
     * that does not resolve.
     */

    twin = ngx_stream_redis_master_twin(t, &upstream);

    if (twin) {
        len = ngx_sock_ntop(t->sockaddr, t->socklen, text,
                            NGX_SOCKADDR_STRLEN, 1);

        if (!ck->twin) {
            ck->twin = 1;

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis sentinel: %V in upstream %V resolves to "
                          "%*s, the address of Sentinel %V in upstream %V: "
                          "it does not vote twice, and counts as not "
                          "agreeing while it has that address",
                          &t->name, &t->upstreams, len, text, &twin->server,
                          upstream);
        }

        ngx_stream_redis_master_close(ck);
        ngx_stream_redis_master_unsubscribe(t);

        ngx_stream_redis_master_fail(ck, 0, "resolves to %*s, the address "
                                     "of Sentinel %V: it does not vote "
                                     "twice", len, text, &twin->server);
        return;
    }

    ck->twin = 0;

    ngx_stream_redis_master_send_probe(ck);
}


/*
 * Another Sentinel entry, of an upstream that lists "t", at the address
 * "t" resolved to: one listed by address, or one named earlier in that
 * upstream's redis_sentinel (so that of two names, the first one votes).
 * A name that another worker resolves is not seen: that worker's checker
 * holds its address.
 */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_twin(ngx_stream_redis_master_target_t *t,
    ngx_str_t **upstream)
{
    ngx_uint_t                            i, j, before;
    ngx_stream_redis_master_target_t    **sp, *s;
    ngx_stream_redis_master_srv_conf_t  **pools;

    if (t->sockaddr == NULL) {
        return NULL;
    }

    pools = t->pools.elts;

    for (i = 0; i < t->pools.nelts; i++) {

        sp = pools[i]->sentinels.elts;
        before = 1;

        for (j = 0; j < pools[i]->sentinels.nelts; j++) {
            s = sp[j];

            if (s == t) {
                before = 0;
                continue;
            }

            if (s->sockaddr == NULL || (s->resolver && !before)) {
                continue;
            }

            if (ngx_cmp_sockaddr(s->sockaddr, s->socklen, t->sockaddr,
                                 t->socklen, 1)
                == NGX_OK)
            {
                *upstream = pools[i]->name;
                return s;
            }
        }
    }

    return NULL;
}


/*
 * A redis_server name, resolved by its owner once an interval (nginx's
 * resolver answers from its cache while the TTL or valid= lasts): never
 * on a connection's path.  One resolution at a time.
 */

void
ngx_stream_redis_master_resolve_name(ngx_stream_redis_master_checker_t *ck)
{
    if (ck->resolving) {
        return;
    }

    if (ngx_stream_redis_master_ask(ck, ngx_stream_redis_master_name_resolved)
        != NGX_OK)
    {
        ngx_stream_redis_master_answered(ck, NGX_RESOLVE_SERVFAIL, NULL,
                                         NULL, NULL, 0);
    }
}


static void
ngx_stream_redis_master_name_resolved(ngx_resolver_ctx_t *ctx)
{
    ngx_int_t                           state;
    ngx_uint_t                          i, n;
    ngx_stream_redis_master_checker_t  *ck;

    socklen_t                       socklens[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];
    ngx_stream_redis_master_inet_t  addrs[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];

    ck = ctx->data;
    ck->resolving = NULL;
    state = ctx->state;
    n = 0;

    for (i = 0; state == 0 && i < ctx->naddrs; i++) {
        if (n == NGX_STREAM_REDIS_MASTER_MAX_ANSWER
            || ctx->addrs[i].socklen > sizeof(ngx_stream_redis_master_inet_t))
        {
            continue;
        }

        ngx_memcpy(&addrs[n], ctx->addrs[i].sockaddr, ctx->addrs[i].socklen);
        ngx_inet_set_port(&addrs[n].sockaddr, ck->target->port);
        socklens[n++] = ctx->addrs[i].socklen;
    }

    ngx_resolve_name_done(ctx);

    ngx_stream_redis_master_answered(ck, state, NULL, addrs, socklens, n);
}


/*
 * The servers of redis_sentinel discover=, found by the name's owner once
 * an interval, and at once when a Sentinel's report changes: not by DNS,
 * but in the latest reports of the upstream's Sentinels in the zone.  An
 * address that more than half of the configured Sentinels report is one
 * server, in the order the reports have them (each Sentinel's master
 * first).  While fewer than a majority of the Sentinels answer, it is a
 * failed resolution, which keeps every seat; until then at start-up
 * (Sentinels not yet probed), nothing is placed.
 */

void
ngx_stream_redis_master_discover(ngx_stream_redis_master_checker_t *ck)
{
    u_char                              *p;
    ngx_int_t                            rc;
    ngx_uint_t                           i, j, k, n, answering, waiting;
    ngx_uint_t                           nsentinels, naddrs, hostnames;
    ngx_stream_redis_master_target_t    *t, **sp;
    ngx_stream_redis_master_report_t     report;
    ngx_stream_redis_master_reported_t  *a;

    u_char                          error[NGX_STREAM_REDIS_MASTER_REASON_LEN];
    uint32_t                        votes[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];
    socklen_t                       socklens[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];
    ngx_stream_redis_master_inet_t  addrs[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];

    t = ck->target;
    sp = t->sentinels->elts;
    nsentinels = t->sentinels->nelts;
    answering = 0;
    waiting = 0;
    hostnames = 0;
    n = 0;

    for (i = 0; i < nsentinels; i++) {
        rc = ngx_stream_redis_master_read_report(sp[i], &report);

        if (rc != NGX_OK) {
            waiting += (rc == NGX_AGAIN);
            continue;
        }

        answering++;
        hostnames += report.hostnames;

        for (j = 0; j < report.naddrs; j++) {
            a = &report.addrs[j];

            for (k = 0; k < n; k++) {
                if (ngx_cmp_sockaddr(&addrs[k].sockaddr, socklens[k],
                                     &a->addr.sockaddr, a->socklen, 1)
                    == NGX_OK)
                {
                    break;
                }
            }

            if (k < n) {
                votes[k]++;
                continue;
            }

            if (n == NGX_STREAM_REDIS_MASTER_MAX_ANSWER
                || a->socklen > sizeof(ngx_stream_redis_master_inet_t)
                || ngx_stream_redis_master_listed(t, &a->addr.sockaddr,
                                                  a->socklen))
            {
                continue;
            }

            ngx_memcpy(&addrs[n], &a->addr, a->socklen);
            socklens[n] = a->socklen;
            votes[n] = 1;
            n++;
        }
    }

    ngx_log_debug4(NGX_LOG_DEBUG_STREAM, ngx_cycle->log, 0,
                   "redis sentinel discover: %V: %ui of %ui Sentinels "
                   "answer, %ui not yet probed", &t->master_name, answering,
                   nsentinels, waiting);

    if (2 * answering <= nsentinels) {

        if (2 * (answering + waiting) > nsentinels) {

            /* at start-up: a report that comes kicks this name again */

            ngx_add_timer(&ck->timer,
                          ngx_stream_redis_master_slot(t->check->interval,
                                                       t->check->interval));
            return;
        }

        p = ngx_snprintf(error, sizeof(error) - 1, "only %ui of the %ui "
                         "Sentinels answer", answering, nsentinels);
        *p = '\0';

        ngx_stream_redis_master_answered(ck, NGX_RESOLVE_SERVFAIL, error,
                                         NULL, NULL, 0);
        return;
    }

    /* announce-hostnames: said once a worker, until none is reported */

    if (hostnames && !ck->hostnames) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "redis sentinel discover: %V in upstream %V: the "
                      "Sentinels report %ui servers by host name "
                      "(announce-hostnames), which are not followed: only "
                      "IP addresses are", &t->master_name, &t->upstreams,
                      hostnames);
    }

    ck->hostnames = (hostnames != 0);

    /* what a majority reports, in the reports' order */

    naddrs = 0;

    for (k = 0; k < n; k++) {
        if (2 * votes[k] > nsentinels) {
            addrs[naddrs] = addrs[k];
            socklens[naddrs] = socklens[k];
            naddrs++;
        }
    }

    ngx_stream_redis_master_answered(ck, 0, NULL, addrs, socklens, naddrs);
}


/*
 * Whether an upstream of name "t" lists this address with "server": a
 * Redis server counts once (twice, it would claim master twice, a tie),
 * so discover= does not seat it again.  The seats' placeholders (0.0.0.0
 * port 0) match no address a Sentinel reports.
 */

static ngx_uint_t
ngx_stream_redis_master_listed(ngx_stream_redis_master_target_t *t,
    struct sockaddr *sockaddr, socklen_t socklen)
{
    ngx_uint_t                             i;
    ngx_stream_upstream_rr_peer_t         *peer;
    ngx_stream_upstream_rr_peers_t        *peers;
    ngx_stream_redis_master_srv_conf_t   **pools;

    pools = t->pools.elts;

    for (i = 0; i < t->pools.nelts; i++) {

        for (peers = pools[i]->upstream->peer.data; peers;
             peers = peers->next)
        {
            for (peer = peers->peer; peer; peer = peer->next) {
                if (ngx_cmp_sockaddr(peer->sockaddr, peer->socklen, sockaddr,
                                     socklen, 1)
                    == NGX_OK)
                {
                    return 1;
                }
            }
        }
    }

    return 0;
}


/*
 * What one resolution of a name found, placed in its seats (shm.c), and
 * said: the addresses that join and leave, a name without an address, a
 * failure that keeps the addresses, what the bound cuts; the servers
 * that got an address are probed at once.  "error" is the failure's
 * text (NULL: the resolver's for "state"); discover= names its servers
 * "redis sentinel discover: NAME" in the log.
 */

static void
ngx_stream_redis_master_answered(ngx_stream_redis_master_checker_t *ck,
    ngx_int_t state, u_char *error, ngx_stream_redis_master_inet_t *addrs,
    socklen_t *socklens, ngx_uint_t naddrs)
{
    ngx_uint_t                          k, n, cut, seated;
    ngx_stream_redis_master_target_t   *t, **seats, *kicked[
                                           NGX_STREAM_REDIS_MASTER_MAX_SERVERS];

    ngx_stream_redis_master_seat_t    before[
                                          NGX_STREAM_REDIS_MASTER_MAX_SERVERS];
    ngx_stream_redis_master_seat_t    after[NGX_STREAM_REDIS_MASTER_MAX_SERVERS];
    ngx_stream_redis_master_target_t *twins[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];

    t = ck->target;
    seats = t->seats.elts;

    if (error == NULL) {
        error = (u_char *) (state ? ngx_resolver_strerror(state) : "");
    }

    cut = ngx_stream_redis_master_place(t, state, error, ngx_strlen(error),
                                        addrs, socklens, naddrs, twins,
                                        t->grace, before, after);

    seated = 0;
    n = 0;

    for (k = 0; k < t->seats.nelts; k++) {
        seated += (before[k].socklen != 0);

        if (after[k].socklen && after[k].epoch != before[k].epoch) {
            kicked[n++] = seats[k];
        }
    }

    if (state && state != NGX_RESOLVE_NXDOMAIN) {

        if (!ck->unresolved && t->discover) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "redis sentinel discover: %V in upstream %V: %s, "
                          "no majority: its %ui servers are kept",
                          &t->master_name, &t->upstreams, error, seated);

        } else if (!ck->unresolved) {
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "redis server %V in upstream %V does not resolve "
                          "(%s): its %ui addresses are kept", &t->name,
                          &t->upstreams, error, seated);
        }

        ck->unresolved = 1;

    } else {
        ck->unresolved = 0;

        ngx_stream_redis_master_log_seats(ck, before, after,
                                          state == NGX_RESOLVE_NXDOMAIN);
        ngx_stream_redis_master_log_twins(ck, addrs, socklens, naddrs, twins);
        ngx_stream_redis_master_log_cut(ck, after, addrs, socklens, naddrs,
                                        cut);

        if (t->discover) {
            ngx_stream_redis_master_log_missing(ck, before, after);
        }
    }

    if (n) {
        (void) ngx_stream_redis_master_kick(ck->rmmcf, kicked, n);
    }

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    if (ck->timer.timer_set) {
        ngx_del_timer(&ck->timer);
    }

    ngx_add_timer(&ck->timer,
                  ngx_stream_redis_master_slot(t->check->interval,
                                               t->check->interval));
}


static void
ngx_stream_redis_master_log_seats(ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_seat_t *before,
    ngx_stream_redis_master_seat_t *after, ngx_uint_t empty)
{
    u_char                             text[NGX_SOCKADDR_STRLEN];
    size_t                             len;
    ngx_uint_t                         k, now;
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;
    now = 0;

    for (k = 0; k < t->seats.nelts; k++) {
        now += (after[k].socklen != 0);
    }

    /*
     * An answer without an address (or, discover=, no server a majority
     * reports): the servers leave, said once
     */

    if (empty || (t->discover && now == 0)) {
        if (!ck->unaddressed && t->discover) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis sentinel discover: %V in upstream %V: no "
                          "majority of the Sentinels reports a server: its "
                          "servers leave", &t->master_name, &t->upstreams);

        } else if (!ck->unaddressed) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis server %V in upstream %V has no address "
                          "(%*s): its servers leave", &t->name,
                          &t->upstreams, (size_t) t->node->reason_len,
                          t->node->reason);
        }

        ck->unaddressed = 1;
        return;
    }

    ck->unaddressed = 0;

    for (k = 0; k < t->seats.nelts; k++) {

        if (before[k].epoch == after[k].epoch) {
            continue;
        }

        if (before[k].socklen) {
            len = ngx_sock_ntop(&before[k].addr.sockaddr, before[k].socklen,
                                text, NGX_SOCKADDR_STRLEN, 1);

            if (t->discover) {
                ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                              "redis sentinel discover: %V in upstream %V: "
                              "%*s leaves, no majority of the Sentinels "
                              "reports it", &t->master_name, &t->upstreams,
                              len, text);

            } else {
                ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                              "redis server %V in upstream %V: %*s leaves, "
                              "the name no longer has it", &t->name,
                              &t->upstreams, len, text);
            }
        }

        if (after[k].socklen) {
            len = ngx_sock_ntop(&after[k].addr.sockaddr, after[k].socklen,
                                text, NGX_SOCKADDR_STRLEN, 1);

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "%s %V in upstream %V: %*s joins",
                          t->discover ? "redis sentinel discover:"
                                      : "redis server",
                          t->discover ? &t->master_name : &t->name,
                          &t->upstreams, len, text);
        }
    }
}


/*
 * discover=: a server that no majority of the Sentinels reports any more
 * keeps its seat for discover_grace; said when that begins, and when it
 * is reported again within it.
 */

static void
ngx_stream_redis_master_log_missing(ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_seat_t *before,
    ngx_stream_redis_master_seat_t *after)
{
    u_char                             text[NGX_SOCKADDR_STRLEN];
    size_t                             len;
    uint64_t                           bit;
    ngx_uint_t                         k, missing;
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;

    for (k = 0; k < t->seats.nelts; k++) {
        bit = (uint64_t) 1 << k;

        missing = after[k].socklen && after[k].seen != ngx_current_msec;

        if (before[k].epoch != after[k].epoch) {
            ck->missing &= ~bit;
        }

        if (missing == ((ck->missing & bit) != 0)) {
            continue;
        }

        ck->missing ^= bit;

        len = ngx_sock_ntop(&after[k].addr.sockaddr, after[k].socklen, text,
                            NGX_SOCKADDR_STRLEN, 1);

        if (missing) {
            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "redis sentinel discover: %V in upstream %V: %*s "
                          "is no longer reported by a majority of the "
                          "Sentinels: it leaves in %Mms unless it is "
                          "reported again", &t->master_name, &t->upstreams,
                          len, text,
                          t->grace - (ngx_current_msec - after[k].seen));

        } else {
            ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                          "redis sentinel discover: %V in upstream %V: %*s "
                          "is reported again", &t->master_name,
                          &t->upstreams, len, text);
        }
    }
}


/*
 * The addresses of the answer that another server has already, once each
 * time their number changes: the name does not bring them again.
 */

static void
ngx_stream_redis_master_log_twins(ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs, ngx_stream_redis_master_target_t **twins)
{
    u_char                             text[NGX_SOCKADDR_STRLEN];
    size_t                             len;
    ngx_uint_t                         i, n;
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;
    n = 0;

    for (i = 0; i < naddrs; i++) {
        n += (twins[i] != NULL);
    }

    if (n == ck->twins) {
        return;
    }

    ck->twins = n;

    for (i = 0; i < naddrs; i++) {
        if (twins[i] == NULL) {
            continue;
        }

        len = ngx_sock_ntop(&addrs[i].sockaddr, socklens[i], text,
                            NGX_SOCKADDR_STRLEN, 1);

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "redis server %V in upstream %V: %*s is the address "
                      "of server %V already: it is one server, and the "
                      "name does not bring it again", &t->name,
                      &t->upstreams, len, text, &twins[i]->server);
    }
}


/* the addresses the bound left out, once each time their number changes */

static void
ngx_stream_redis_master_log_cut(ngx_stream_redis_master_checker_t *ck,
    ngx_stream_redis_master_seat_t *after,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs, ngx_uint_t cut)
{
    u_char                            *p, *last;
    ngx_uint_t                         i, k;
    ngx_stream_redis_master_target_t  *t;

    u_char  list[NGX_STREAM_REDIS_MASTER_CUT_LIST];

    t = ck->target;

    if (cut == ck->cut) {
        return;
    }

    ck->cut = cut;

    if (cut == 0) {
        return;
    }

    p = list;
    last = list + sizeof(list);

    for (i = 0; i < naddrs && p < last - NGX_SOCKADDR_STRLEN - 1; i++) {

        for (k = 0; k < t->seats.nelts; k++) {
            if (after[k].socklen
                && ngx_cmp_sockaddr(&after[k].addr.sockaddr, after[k].socklen,
                                    &addrs[i].sockaddr, socklens[i], 1)
                   == NGX_OK)
            {
                break;
            }
        }

        if (k < t->seats.nelts) {
            continue;
        }

        if (p != list) {
            *p++ = ',';
        }

        p += ngx_sock_ntop(&addrs[i].sockaddr, socklens[i], p,
                           NGX_SOCKADDR_STRLEN, 1);
    }

    if (t->discover) {
        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "redis sentinel discover: %V in upstream %V: a "
                      "majority of the Sentinels reports %ui servers, more "
                      "than discover=%ui: %*s%s not used", &t->master_name,
                      &t->upstreams, naddrs, t->seats.nelts, p - list, list,
                      i < naddrs ? ",..." : "");
        return;
    }

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "redis server %V in upstream %V has %ui addresses, more "
                  "than max_servers=%ui: %*s%s not used", &t->name,
                  &t->upstreams, naddrs, t->seats.nelts, p - list, list,
                  i < naddrs ? ",..." : "");
}


/*
 * The address of a server a redis_server name brought, taken from its
 * seat before each probe: a new one is a new server, so the link and the
 * TLS session of the old one go.  NGX_DECLINED: the seat has none.
 */

ngx_int_t
ngx_stream_redis_master_take_seat(ngx_stream_redis_master_checker_t *ck)
{
    u_char                            *p;
    size_t                             len;
    ngx_stream_redis_master_seat_t     seat;
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;

    ngx_stream_redis_master_read_seat(t, &seat);

    if (seat.epoch == ck->epoch && (seat.socklen == 0 || ck->named.len)) {
        return seat.socklen ? NGX_OK : NGX_DECLINED;
    }

    ngx_stream_redis_master_close(ck);

#if (NGX_STREAM_SSL)
    ngx_stream_redis_master_link_forget(t);
#endif

    ck->epoch = seat.epoch;

    if (seat.socklen == 0) {
        t->name = t->server;
        ck->named.len = 0;
        return NGX_DECLINED;
    }

    if (ck->named.data == NULL) {
        len = t->server.len + sizeof(" at ") + NGX_SOCKADDR_STRLEN;

        ck->named.data = ngx_pnalloc(ngx_cycle->pool, len);
        if (ck->named.data == NULL) {
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(&ck->resolved, &seat.addr, seat.socklen);

    p = ngx_sprintf(ck->named.data, "%V at ", &t->server);
    p += ngx_sock_ntop(&ck->resolved.sockaddr, seat.socklen, p,
                       NGX_SOCKADDR_STRLEN, 1);
    ck->named.len = p - ck->named.data;

    /* "port=": the probes go elsewhere than the clients */

    if (t->check->port) {
        ngx_inet_set_port(&ck->resolved.sockaddr, t->check->port);
    }

    t->sockaddr = &ck->resolved.sockaddr;
    t->socklen = seat.socklen;
    t->name = ck->named;

    return NGX_OK;
}
