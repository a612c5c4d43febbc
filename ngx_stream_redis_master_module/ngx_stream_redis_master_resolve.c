
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The resolving of names: a Sentinel named by a host name, before each of
 * its probes (the address its checker probes and subscribes to, and
 * whether that address is another Sentinel's: one Sentinel, one vote); a
 * redis_server name, once an interval by its owner (its addresses placed
 * in its seats); and the address of a seat's server, taken before each of
 * its probes.
 */


#include "ngx_stream_redis_master_checker.h"


static ngx_int_t ngx_stream_redis_master_ask(
    ngx_stream_redis_master_checker_t *ck, ngx_resolver_handler_pt handler);
static void ngx_stream_redis_master_resolved(ngx_resolver_ctx_t *ctx);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_twin(
    ngx_stream_redis_master_target_t *t, ngx_str_t **upstream);
static void ngx_stream_redis_master_name_resolved(ngx_resolver_ctx_t *ctx);
static void ngx_stream_redis_master_answered(
    ngx_stream_redis_master_checker_t *ck, ngx_int_t state,
    ngx_stream_redis_master_inet_t *addrs, socklen_t *socklens,
    ngx_uint_t naddrs);
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
                                         NULL, 0);
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

    ngx_stream_redis_master_answered(ck, state, addrs, socklens, n);
}


/*
 * What one resolution of a name found, placed in its seats (shm.c), and
 * said: the addresses that join and leave, a name without an address, a
 * failure that keeps the addresses, what the bound cuts; the servers
 * that got an address are probed at once.
 */

static void
ngx_stream_redis_master_answered(ngx_stream_redis_master_checker_t *ck,
    ngx_int_t state, ngx_stream_redis_master_inet_t *addrs,
    socklen_t *socklens, ngx_uint_t naddrs)
{
    u_char                             *error;
    ngx_uint_t                          k, n, cut, seated;
    ngx_stream_redis_master_target_t   *t, **seats, *kicked[
                                           NGX_STREAM_REDIS_MASTER_MAX_SERVERS];

    ngx_stream_redis_master_seat_t    before[
                                          NGX_STREAM_REDIS_MASTER_MAX_SERVERS];
    ngx_stream_redis_master_seat_t    after[NGX_STREAM_REDIS_MASTER_MAX_SERVERS];
    ngx_stream_redis_master_target_t *twins[NGX_STREAM_REDIS_MASTER_MAX_ANSWER];

    t = ck->target;
    seats = t->seats.elts;
    error = (u_char *) (state ? ngx_resolver_strerror(state) : "");

    cut = ngx_stream_redis_master_place(t, state, error, ngx_strlen(error),
                                        addrs, socklens, naddrs, twins,
                                        before, after);

    seated = 0;
    n = 0;

    for (k = 0; k < t->seats.nelts; k++) {
        seated += (before[k].socklen != 0);

        if (after[k].socklen && after[k].epoch != before[k].epoch) {
            kicked[n++] = seats[k];
        }
    }

    if (state && state != NGX_RESOLVE_NXDOMAIN) {

        if (!ck->unresolved) {
            ck->unresolved = 1;

            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "redis server %V in upstream %V does not resolve "
                          "(%s): its %ui addresses are kept", &t->name,
                          &t->upstreams, error, seated);
        }

    } else {
        ck->unresolved = 0;

        ngx_stream_redis_master_log_seats(ck, before, after,
                                          state == NGX_RESOLVE_NXDOMAIN);
        ngx_stream_redis_master_log_twins(ck, addrs, socklens, naddrs, twins);
        ngx_stream_redis_master_log_cut(ck, after, addrs, socklens, naddrs,
                                        cut);
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
    ngx_uint_t                         k;
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;

    /* an answer without an address: the name's servers leave, said once */

    if (empty) {
        if (!ck->unaddressed) {
            ck->unaddressed = 1;

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis server %V in upstream %V has no address "
                          "(%*s): its servers leave", &t->name,
                          &t->upstreams, (size_t) t->node->reason_len,
                          t->node->reason);
        }

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

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis server %V in upstream %V: %*s leaves, the "
                          "name no longer has it", &t->name, &t->upstreams,
                          len, text);
        }

        if (after[k].socklen) {
            len = ngx_sock_ntop(&after[k].addr.sockaddr, after[k].socklen,
                                text, NGX_SOCKADDR_STRLEN, 1);

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis server %V in upstream %V: %*s joins",
                          &t->name, &t->upstreams, len, text);
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
