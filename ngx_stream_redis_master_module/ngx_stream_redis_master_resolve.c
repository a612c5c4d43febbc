
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The resolving of a Sentinel named by a host name, before each of its
 * probes: the address its checker probes and subscribes to, and whether
 * that address is another Sentinel's (one Sentinel, one vote).
 */


#include "ngx_stream_redis_master_checker.h"


static void ngx_stream_redis_master_resolved(ngx_resolver_ctx_t *ctx);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_twin(
    ngx_stream_redis_master_target_t *t, ngx_str_t **upstream);


/*
 * A Sentinel named by a host name is resolved before each probe; nginx's
 * resolver answers from its cache while the TTL (or valid=) lasts.  A new
 * address moves the probe and the event subscription there.
 */

void
ngx_stream_redis_master_resolve(ngx_stream_redis_master_checker_t *ck)
{
    ngx_resolver_ctx_t                *ctx;
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;

    ctx = ngx_resolve_start(t->resolver, NULL);

    if (ctx == NULL || ctx == NGX_NO_RESOLVER) {
        ngx_stream_redis_master_fail(ck, 0, "cannot resolve \"%V\"",
                                     &t->host);
        return;
    }

    ctx->name = t->host;
    ctx->handler = ngx_stream_redis_master_resolved;
    ctx->data = ck;
    ctx->timeout = t->resolver_timeout;

    /* the handler may run before ngx_resolve_name() returns */

    ck->resolving = ctx;

    if (ngx_resolve_name(ctx) != NGX_OK) {
        ck->resolving = NULL;
        ngx_stream_redis_master_fail(ck, 0, "cannot resolve \"%V\"",
                                     &t->host);
    }
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
