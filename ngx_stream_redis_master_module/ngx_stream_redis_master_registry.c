
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The registry of probe targets: each upstream's servers and Sentinels,
 * one target per address however many upstreams list it, with the key
 * that finds its node in the zone across reloads.
 */


#include "ngx_stream_redis_master_conf.h"


/* nginx's own default of resolver_timeout */
#define NGX_STREAM_REDIS_MASTER_RESOLVER_TIMEOUT  30000


static ngx_int_t ngx_stream_redis_master_init_min_replicas(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_int_t ngx_stream_redis_master_add_peers(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_upstream_rr_peers_t *peers);
static ngx_int_t ngx_stream_redis_master_check_servers(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_upstream_srv_conf_t *us);
static ngx_stream_redis_master_name_conf_t *ngx_stream_redis_master_seat_of(
    ngx_stream_redis_master_srv_conf_t *rmcf, struct sockaddr *sockaddr,
    ngx_uint_t *seat);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_add_seat(
    ngx_conf_t *cf, ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_name_conf_t *nc, ngx_uint_t k,
    ngx_addr_t *placeholder);
static ngx_int_t ngx_stream_redis_master_add_names(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_stream_redis_master_target_t *
    ngx_stream_redis_master_named_before(ngx_conf_t *cf,
    ngx_stream_redis_master_name_conf_t *nc);
static ngx_int_t ngx_stream_redis_master_add_sentinels(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf);
static ngx_int_t ngx_stream_redis_master_add_sentinel(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_target_t *t);
static ngx_resolver_t *ngx_stream_redis_master_resolver(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_msec_t *timeout);
static ngx_uint_t ngx_stream_redis_master_is_name(ngx_str_t *host);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_add_named(
    ngx_conf_t *cf, ngx_stream_redis_master_srv_conf_t *rmcf, ngx_url_t *u,
    ngx_resolver_t *resolver, ngx_msec_t timeout);
static ngx_stream_redis_master_target_t *ngx_stream_redis_master_add_target(
    ngx_conf_t *cf, ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t kind, ngx_addr_t *addr, ngx_str_t *server,
    ngx_stream_redis_master_check_conf_t *check);
static ngx_int_t ngx_stream_redis_master_target_key(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *key);
static ngx_uint_t ngx_stream_redis_master_same_check(
    ngx_stream_redis_master_check_conf_t *a,
    ngx_stream_redis_master_check_conf_t *b);


ngx_int_t
ngx_stream_redis_master_init_upstream(ngx_conf_t *cf,
    ngx_stream_upstream_srv_conf_t *us)
{
    ngx_uint_t                            n;
    ngx_stream_upstream_rr_peers_t       *peers;
    ngx_stream_redis_master_srv_conf_t   *rmcf, **rmcfp;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmcf = ngx_stream_conf_upstream_srv_conf(us,
                                             ngx_stream_redis_master_module);

    if (ngx_stream_redis_master_check_servers(cf, rmcf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_stream_upstream_init_round_robin(cf, us) != NGX_OK) {
        return NGX_ERROR;
    }

    us->peer.init = ngx_stream_redis_master_init_peer;

    peers = us->peer.data;

    if (rmcf->check.interval == NGX_CONF_UNSET_MSEC) {
        rmcf->check.interval = NGX_STREAM_REDIS_MASTER_DEFAULT_INTERVAL;
        rmcf->check.timeout = NGX_STREAM_REDIS_MASTER_DEFAULT_TIMEOUT;
        rmcf->check.rise = NGX_STREAM_REDIS_MASTER_DEFAULT_RISE;
        rmcf->check.fall = NGX_STREAM_REDIS_MASTER_DEFAULT_FALL;
    }

    ngx_conf_init_msec_value(rmcf->max_lag,
                             NGX_STREAM_REDIS_MASTER_DEFAULT_MAX_LAG);

#if (NGX_STREAM_SSL)
    if (ngx_stream_redis_master_merge_ssl(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_stream_redis_master_warn_unverified(cf, rmcf);
#endif

    n = peers->number + (peers->next ? peers->next->number : 0);

    if (ngx_array_init(&rmcf->targets, cf->pool, n,
                       sizeof(ngx_stream_redis_master_target_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_add_peers(cf, rmcf, peers) != NGX_OK) {
        return NGX_ERROR;
    }

    if (peers->next
        && ngx_stream_redis_master_add_peers(cf, rmcf, peers->next) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_add_sentinels(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* after the Sentinels: discover= reads their reports */

    if (ngx_stream_redis_master_add_names(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_init_min_replicas(cf, rmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    rmmcf = ngx_stream_conf_get_module_main_conf(cf,
                                               ngx_stream_redis_master_module);

    rmcfp = ngx_array_push(&rmmcf->upstreams);
    if (rmcfp == NULL) {
        return NGX_ERROR;
    }

    *rmcfp = rmcf;

    return NGX_OK;
}


/*
 * min_replicas=majority: the fewest replicas for which two servers of the
 * upstream can never both qualify.  Two masters leave n - 2 servers that
 * can follow one of them, each following one at a time: N > (n - 2) / 2
 * makes both having N impossible, and n / 2 (rounded down) is the least
 * such N (docs/failover.md, "Fleet agreement").
 */

static ngx_int_t
ngx_stream_redis_master_init_min_replicas(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_uint_t  n, least;

    n = rmcf->targets.nelts;

    ngx_conf_init_msec_value(rmcf->min_replicas_max_lag,
                      NGX_STREAM_REDIS_MASTER_DEFAULT_MIN_REPLICAS_MAX_LAG);

    /* of redis_server names, the servers they have now (policy.c) */

    if (rmcf->min_replicas == NGX_STREAM_REDIS_MASTER_MAJORITY
        && rmcf->names == NULL)
    {
        rmcf->min_replicas = ngx_max(n / 2, 1);

        if (rmcf->min_replicas > NGX_STREAM_REDIS_MASTER_SLAVES) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"redis_master min_replicas=majority\" in "
                               "upstream \"%V\" is %ui replicas, more than "
                               "the %d it can count", rmcf->name,
                               rmcf->min_replicas,
                               NGX_STREAM_REDIS_MASTER_SLAVES);
            return NGX_ERROR;
        }
    }

    /*
     * "majority" that names count at run time is at least 1, and the names
     * bring at most their max_servers: n servers in all
     */

    least = (rmcf->min_replicas == NGX_STREAM_REDIS_MASTER_MAJORITY)
            ? 1 : rmcf->min_replicas;

    if (least >= n && least) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"redis_master min_replicas=%ui\" in upstream "
                           "\"%V\" asks for more replicas than the %ui "
                           "other servers it has: no server could take "
                           "writes", least, rmcf->name, n ? n - 1 : 0);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_add_peers(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_upstream_rr_peers_t *peers)
{
    ngx_uint_t                            i, k;
    ngx_addr_t                            addr;
    ngx_stream_upstream_rr_peer_t        *peer, *other;
    ngx_stream_upstream_rr_peers_t       *owner;
    ngx_stream_redis_master_target_t     *t, **tp;
    ngx_stream_redis_master_name_conf_t  *nc;

    for (peer = peers->peer; peer; peer = peer->next) {

        addr.sockaddr = peer->sockaddr;
        addr.socklen = peer->socklen;
        addr.name = peer->name;

        nc = ngx_stream_redis_master_seat_of(rmcf, peer->sockaddr, &k);

        if (nc) {
            t = ngx_stream_redis_master_add_seat(cf, rmcf, nc, k, &addr);
            if (t == NULL) {
                return NGX_ERROR;
            }

            tp = ngx_array_push(&rmcf->targets);
            if (tp == NULL) {
                return NGX_ERROR;
            }

            *tp = t;
            continue;
        }

        t = ngx_stream_redis_master_add_target(cf, rmcf,
                                          NGX_STREAM_REDIS_MASTER_KIND_REDIS,
                                          &addr, &peer->server, &rmcf->check);
        if (t == NULL) {
            return NGX_ERROR;
        }

        /*
         * One Redis server listed twice would count twice as a follower,
         * and claim master twice: a tie that refuses every write.
         */

        tp = rmcf->targets.elts;

        for (i = 0; i < rmcf->targets.nelts; i++) {
            if (tp[i] == t) {
                other = ngx_stream_redis_master_peer(rmcf->upstream->peer.data,
                                                     i, &owner);

                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "server \"%V\" in upstream \"%V\" has "
                                   "the address %V of server \"%V\": list "
                                   "each Redis server once", &peer->server,
                                   rmcf->name, &peer->name, &other->server);
                return NGX_ERROR;
            }
        }

        tp = ngx_array_push(&rmcf->targets);
        if (tp == NULL) {
            return NGX_ERROR;
        }

        *tp = t;
    }

    return NGX_OK;
}


/*
 * The servers of a Redis upstream, before nginx makes its peers of them:
 * "server NAME resolve" (nginx 1.27.3 and later) would be resolved by
 * nginx's core into peers the Redis balancers do not follow, so it is
 * refused for redis_server; a plain "server NAME:PORT" is resolved once,
 * now, and nginx -t says that it will not follow the name.
 */

static ngx_int_t
ngx_stream_redis_master_check_servers(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_upstream_srv_conf_t *us)
{
    u_char                        *colon;
    ngx_str_t                      host;
    ngx_uint_t                     i, k;
    ngx_stream_upstream_server_t  *server;

    if (us->servers == NULL) {
        return NGX_OK;
    }

    server = us->servers->elts;

    for (i = 0; i < us->servers->nelts; i++) {

        if (server[i].naddrs
            && ngx_stream_redis_master_seat_of(rmcf,
                                               server[i].addrs[0].sockaddr,
                                               &k))
        {
            continue;
        }

#if (NGX_STREAM_UPSTREAM_ZONE && nginx_version >= 1027003)
        if (server[i].host.len) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "server \"%V\" in upstream \"%V\" has \"resolve\": "
                          "the Redis balancers follow names given with "
                          "\"redis_server %V\", not \"server ... resolve\"",
                          &server[i].name, rmcf->name, &server[i].name);
            return NGX_ERROR;
        }
#endif

        host = server[i].name;

        if (host.len > sizeof("unix:") - 1
            && ngx_strncmp(host.data, "unix:", sizeof("unix:") - 1) == 0)
        {
            continue;
        }

        colon = ngx_strlchr(host.data, host.data + host.len, ':');

        if (colon && ngx_strlchr(colon + 1, host.data + host.len, ':')
                     == NULL)
        {
            host.len = colon - host.data;
        }

        if (ngx_stream_redis_master_is_name(&host)) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "server \"%V\" in upstream \"%V\" is a host name, "
                          "resolved once, when the configuration is read: "
                          "its servers will not follow the name; "
                          "\"redis_server %V\" re-resolves it",
                          &server[i].name, rmcf->name, &server[i].name);
        }
    }

    return NGX_OK;
}


/* the redis_server whose seat "seat" has this placeholder address, if any */

static ngx_stream_redis_master_name_conf_t *
ngx_stream_redis_master_seat_of(ngx_stream_redis_master_srv_conf_t *rmcf,
    struct sockaddr *sockaddr, ngx_uint_t *seat)
{
    ngx_uint_t                            i, k;
    ngx_stream_redis_master_name_conf_t  *nc;

    if (rmcf->names == NULL) {
        return NULL;
    }

    nc = rmcf->names->elts;

    for (i = 0; i < rmcf->names->nelts; i++) {
        for (k = 0; k < nc[i].max; k++) {
            if (nc[i].addrs[k].sockaddr == sockaddr) {
                *seat = k;
                return &nc[i];
            }
        }
    }

    return NULL;
}


/*
 * Seat "k" of a redis_server: a server known by the name, its seat and
 * the bound (so that another max_servers is other servers), shared by
 * every upstream that lists the name; its address is the seat's, found
 * at run time.
 */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_add_seat(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_name_conf_t *nc, ngx_uint_t k,
    ngx_addr_t *placeholder)
{
    size_t                             len;
    ngx_addr_t                         addr;
    ngx_stream_redis_master_target_t  *t;

    if (k == 0) {
        nc->first = rmcf->targets.nelts;

    } else if (nc->first + k != rmcf->targets.nelts) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "redis_server \"%V\" in upstream \"%V\": its servers "
                      "are not in one list", &nc->server, rmcf->name);
        return NULL;
    }

    len = nc->id.len + sizeof("/#") + 2 * NGX_INT_T_LEN;

    addr = *placeholder;
    addr.name.data = ngx_pnalloc(cf->pool, len);
    if (addr.name.data == NULL) {
        return NULL;
    }

    addr.name.len = ngx_snprintf(addr.name.data, len, "%V/%ui#%ui",
                                 &nc->id, nc->max, k)
                    - addr.name.data;

    t = ngx_stream_redis_master_add_target(cf, rmcf,
                                          NGX_STREAM_REDIS_MASTER_KIND_REDIS,
                                          &addr, &nc->server, &rmcf->check);
    if (t == NULL) {
        return NULL;
    }

    /* the key keeps the seat; log lines name the server as written */

    t->name = nc->server;
    t->seat = k;

    return t;
}


/*
 * The target of each redis_server: kind NAME, resolved by its owner with
 * the stream{} resolver, its seats the targets add_seat() made; and of
 * redis_sentinel discover=, whose owner reads the Sentinels' reports.
 */

static ngx_int_t
ngx_stream_redis_master_add_names(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    size_t                                len;
    ngx_addr_t                            addr;
    ngx_msec_t                            timeout, grace;
    ngx_uint_t                            i, k;
    ngx_resolver_t                       *resolver;
    ngx_stream_redis_master_target_t     *t, **tp, **seat, *other;
    ngx_stream_redis_master_name_conf_t  *nc;

    if (rmcf->names == NULL) {
        return NGX_OK;
    }

    resolver = ngx_stream_redis_master_resolver(cf, rmcf, &timeout);

    nc = rmcf->names->elts;
    tp = rmcf->targets.elts;

    for (i = 0; i < rmcf->names->nelts; i++) {

        if (resolver == NULL && !nc[i].discover) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"redis_server\" \"%V\" in upstream \"%V\" needs "
                          "a \"resolver\" in stream{}", &nc[i].server,
                          rmcf->name);
            return NGX_ERROR;
        }

        /* a name brings one set of servers, whichever upstream lists it */

        other = nc[i].discover ? NULL
                : ngx_stream_redis_master_named_before(cf, &nc[i]);

        if (other && other->seats.nelts != nc[i].max) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "redis_server \"%V\" in upstream \"%V\" has "
                          "max_servers=%ui, and max_servers=%ui in upstream "
                          "\"%V\": a name brings one set of servers, give "
                          "it the same bound", &nc[i].server, rmcf->name,
                          nc[i].max, other->seats.nelts, &other->upstreams);
            return NGX_ERROR;
        }

        len = nc[i].id.len + sizeof("/") + NGX_INT_T_LEN;

        ngx_memzero(&addr, sizeof(ngx_addr_t));
        addr.name.data = ngx_pnalloc(cf->pool, len);
        if (addr.name.data == NULL) {
            return NGX_ERROR;
        }

        addr.name.len = ngx_snprintf(addr.name.data, len, "%V/%ui",
                                     &nc[i].id, nc[i].max)
                        - addr.name.data;

        t = ngx_stream_redis_master_add_target(cf, rmcf,
                                           NGX_STREAM_REDIS_MASTER_KIND_NAME,
                                           &addr, &nc[i].server,
                                           &rmcf->check);
        if (t == NULL) {
            return NGX_ERROR;
        }

        nc[i].target = t;

        /* three intervals: a report missed in a probe or two is no change */

        grace = (nc[i].grace != NGX_CONF_UNSET_MSEC)
                ? nc[i].grace
                : NGX_STREAM_REDIS_MASTER_DISCOVER_GRACE
                  * rmcf->check.interval;

        if (t->seats.nelts) {
            if (nc[i].discover && t->grace != grace) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "\"redis_sentinel name=%V discover\" in "
                              "upstream \"%V\" has another discover_grace "
                              "than in upstream \"%V\", which lists the same "
                              "Sentinels", &rmcf->sentinel->name, rmcf->name,
                              &t->upstreams);
                return NGX_ERROR;
            }

            continue;
        }

        t->name = nc[i].server;

        if (nc[i].discover) {
            t->discover = 1;
            t->master_name = rmcf->sentinel->name;
            t->sentinels = &rmcf->sentinels;
            t->grace = grace;

        } else {
            t->host = nc[i].host;
            t->port = nc[i].port;
            t->resolver = resolver;
            t->resolver_timeout = timeout;
        }

        if (ngx_array_init(&t->seats, cf->pool, nc[i].max,
                           sizeof(ngx_stream_redis_master_target_t *))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        for (k = 0; k < nc[i].max; k++) {
            seat = ngx_array_push(&t->seats);
            if (seat == NULL) {
                return NGX_ERROR;
            }

            *seat = tp[nc[i].first + k];
            (*seat)->of = t;
        }
    }

    return NGX_OK;
}



/* the name target an upstream read before made of this NAME:PORT, if any */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_named_before(ngx_conf_t *cf,
    ngx_stream_redis_master_name_conf_t *nc)
{
    ngx_uint_t                            i;
    ngx_stream_redis_master_target_t    **tp;
    ngx_stream_redis_master_main_conf_t  *rmmcf;

    rmmcf = ngx_stream_conf_get_module_main_conf(cf,
                                               ngx_stream_redis_master_module);

    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        if (tp[i]->kind == NGX_STREAM_REDIS_MASTER_KIND_NAME
            && tp[i]->name.len == nc->server.len
            && ngx_strncasecmp(tp[i]->name.data, nc->server.data,
                               nc->server.len) == 0)
        {
            return tp[i];
        }
    }

    return NULL;
}

static ngx_int_t
ngx_stream_redis_master_add_sentinels(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_str_t                                 url;
    ngx_url_t                                *u;
    ngx_msec_t                                timeout;
    ngx_uint_t                                i, k;
    ngx_resolver_t                           *resolver;
    ngx_stream_redis_master_target_t         *t;
    ngx_stream_redis_master_sentinel_conf_t  *sc;

    sc = rmcf->sentinel;

    if (sc == NULL) {
        return NGX_OK;
    }

    /* Sentinels are checked as often as the servers, with their own AUTH */

    sc->check.interval = rmcf->check.interval;
    sc->check.timeout = rmcf->check.timeout;
    sc->check.rise = 1;
    sc->check.fall = rmcf->check.fall;

#if (NGX_STREAM_SSL)
    if (rmcf->sentinel_ssl.enable) {
        sc->check.ssl = &rmcf->sentinel_ssl;
    }
#endif

    if (ngx_array_init(&rmcf->sentinels, cf->pool, sc->addrs.nelts,
                       sizeof(ngx_stream_redis_master_target_t *))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    resolver = ngx_stream_redis_master_resolver(cf, rmcf, &timeout);

    u = sc->addrs.elts;

    for (i = 0; i < sc->addrs.nelts; i++) {

        if (resolver && ngx_stream_redis_master_is_name(&u[i].host)) {
            t = ngx_stream_redis_master_add_named(cf, rmcf, &u[i], resolver,
                                                  timeout);
            if (t == NULL) {
                return NGX_ERROR;
            }

            if (ngx_stream_redis_master_add_sentinel(rmcf, t) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        /* without a resolver, a name is resolved now, and for good */

        url = u[i].url;
        ngx_memzero(&u[i], sizeof(ngx_url_t));
        u[i].url = url;

        if (ngx_parse_url(cf->pool, &u[i]) != NGX_OK) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "invalid Sentinel address \"%V\" in "
                          "\"redis_sentinel\" of upstream \"%V\"%s%s%s",
                          &url, rmcf->name, u[i].err ? ": " : "",
                          u[i].err ? u[i].err : "",
                          resolver ? ""
                          : " (with a \"resolver\" in stream{}, Sentinel "
                            "names are resolved at run time)");
            return NGX_ERROR;
        }

        for (k = 0; k < u[i].naddrs; k++) {

            t = ngx_stream_redis_master_add_target(cf, rmcf,
                                       NGX_STREAM_REDIS_MASTER_KIND_SENTINEL,
                                       &u[i].addrs[k], &u[i].url, &sc->check);
            if (t == NULL) {
                return NGX_ERROR;
            }

            if (ngx_stream_redis_master_add_sentinel(rmcf, t) != NGX_OK) {
                return NGX_ERROR;
            }
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_add_sentinel(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_target_t *t)
{
    ngx_uint_t                          i;
    ngx_stream_redis_master_target_t  **tp;

    /* a Sentinel listed twice still has one vote */

    tp = rmcf->sentinels.elts;

    for (i = 0; i < rmcf->sentinels.nelts; i++) {
        if (tp[i] == t) {
            return NGX_OK;
        }
    }

    tp = ngx_array_push(&rmcf->sentinels);
    if (tp == NULL) {
        return NGX_ERROR;
    }

    *tp = t;

    return NGX_OK;
}


/*
 * The resolver that resolves Sentinel names at run time: the upstream's
 * own (nginx 1.27.3 and later), else the one of stream{}; NULL if none
 * has a name server.
 */

static ngx_resolver_t *
ngx_stream_redis_master_resolver(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_msec_t *timeout)
{
    ngx_resolver_t              *resolver;
    ngx_stream_core_srv_conf_t  *cscf;

    cscf = ngx_stream_conf_get_module_srv_conf(cf, ngx_stream_core_module);

    resolver = cscf->resolver;
    *timeout = cscf->resolver_timeout;

#if (nginx_version >= 1027003)
    if (rmcf->upstream->resolver) {
        resolver = rmcf->upstream->resolver;

        if (rmcf->upstream->resolver_timeout != NGX_CONF_UNSET_MSEC) {
            *timeout = rmcf->upstream->resolver_timeout;
        }
    }
#endif

    if (*timeout == NGX_CONF_UNSET_MSEC) {
        *timeout = NGX_STREAM_REDIS_MASTER_RESOLVER_TIMEOUT;
    }

    if (resolver == NULL || resolver == NGX_CONF_UNSET_PTR
        || resolver->connections.nelts == 0)
    {
        return NULL;
    }

    return resolver;
}


static ngx_uint_t
ngx_stream_redis_master_is_name(ngx_str_t *host)
{
    if (host->len == 0 || host->data[0] == '[') {
        return 0;
    }

    return ngx_inet_addr(host->data, host->len) == INADDR_NONE;
}


/*
 * A Sentinel named by a host name is one Sentinel, whatever addresses the
 * name has: its target is known by the name, and the checker resolves it.
 */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_add_named(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_url_t *u,
    ngx_resolver_t *resolver, ngx_msec_t timeout)
{
    ngx_addr_t                         addr;
    ngx_stream_redis_master_target_t  *t;

    ngx_memzero(&addr, sizeof(ngx_addr_t));
    addr.name = u->url;

    t = ngx_stream_redis_master_add_target(cf, rmcf,
                                       NGX_STREAM_REDIS_MASTER_KIND_SENTINEL,
                                       &addr, &u->url, &rmcf->sentinel->check);
    if (t == NULL) {
        return NULL;
    }

    t->host = u->host;
    t->port = u->port;
    t->resolver = resolver;
    t->resolver_timeout = timeout;

    return t;
}


/*
 * Returns the probe target for one address, creating it unless another
 * upstream already has it; that upstream must check it the same way.
 */

static ngx_stream_redis_master_target_t *
ngx_stream_redis_master_add_target(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t kind,
    ngx_addr_t *addr, ngx_str_t *server,
    ngx_stream_redis_master_check_conf_t *check)
{
    ngx_uint_t                             i, *index;
    ngx_stream_redis_master_target_t       probe, *t, **tp;
    ngx_stream_redis_master_srv_conf_t   **pool;
    ngx_stream_redis_master_main_conf_t   *rmmcf;

    rmmcf = ngx_stream_conf_get_module_main_conf(cf,
                                               ngx_stream_redis_master_module);

    ngx_memzero(&probe, sizeof(ngx_stream_redis_master_target_t));

    probe.kind = kind;
    probe.name = addr->name;
    probe.check = check;

    if (kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL) {
        probe.master_name = rmcf->sentinel->name;
        probe.discover = (rmcf->sentinel->discover != 0);
    }

    if (ngx_stream_redis_master_target_key(cf, &probe, &probe.key) != NGX_OK) {
        return NULL;
    }

    t = NULL;
    tp = rmmcf->targets.elts;

    for (i = 0; i < rmmcf->targets.nelts; i++) {
        if (tp[i]->key.len == probe.key.len
            && ngx_memcmp(tp[i]->key.data, probe.key.data, probe.key.len)
               == 0)
        {
            t = tp[i];
            break;
        }
    }

    if (t && t->check != check
        && !ngx_stream_redis_master_same_check(t->check, check))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%s \"%V\" in upstream \"%V\" is checked with "
                           "other settings or credentials than in upstream "
                           "\"%V\": each server is probed once, with one set "
                           "of settings", kind
                           == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
                           ? "Sentinel" : "server", server, rmcf->name,
                           &t->upstreams);
        return NULL;
    }

    if (t == NULL) {
        t = ngx_palloc(cf->pool, sizeof(ngx_stream_redis_master_target_t));
        if (t == NULL) {
            return NULL;
        }

        *t = probe;
        t->server = *server;
        t->sockaddr = addr->sockaddr;
        t->socklen = addr->socklen;

        /* "port=": the probes go elsewhere than the clients */

        if (check->port) {
            t->sockaddr = ngx_palloc(cf->pool, addr->socklen);
            if (t->sockaddr == NULL) {
                return NULL;
            }

            ngx_memcpy(t->sockaddr, addr->sockaddr, addr->socklen);
            ngx_inet_set_port(t->sockaddr, check->port);
        }

#if (NGX_STREAM_SSL)
        if (check->ssl
            && ngx_stream_redis_master_ssl_name(cf, t, server) != NGX_OK)
        {
            return NULL;
        }
#endif

        if (ngx_array_init(&t->pools, cf->pool, 2,
                           sizeof(ngx_stream_redis_master_srv_conf_t *))
            != NGX_OK
            || ngx_array_init(&t->indexes, cf->pool, 2, sizeof(ngx_uint_t))
               != NGX_OK)
        {
            return NULL;
        }

        tp = ngx_array_push(&rmmcf->targets);
        if (tp == NULL) {
            return NULL;
        }

        *tp = t;
    }

    /* upstreams are set up one at a time: ours may be the last one */

    pool = t->pools.elts;

    if (t->pools.nelts && pool[t->pools.nelts - 1] == rmcf) {
        return t;
    }

    pool = ngx_array_push(&t->pools);
    if (pool == NULL) {
        return NULL;
    }

    *pool = rmcf;

    /* a server is pushed to the upstream's servers next (add_peers()) */

    index = ngx_array_push(&t->indexes);
    if (index == NULL) {
        return NULL;
    }

    *index = (kind == NGX_STREAM_REDIS_MASTER_KIND_REDIS)
             ? rmcf->targets.nelts : NGX_STREAM_REDIS_MASTER_NONE;

    /* the names of every upstream sharing it, for log lines */

    if (t->pools.nelts == 1) {
        t->upstreams = *rmcf->name;
        return t;
    }

    probe.upstreams.len = t->upstreams.len + 1 + rmcf->name->len;
    probe.upstreams.data = ngx_pnalloc(cf->pool, probe.upstreams.len);
    if (probe.upstreams.data == NULL) {
        return NULL;
    }

    ngx_sprintf(probe.upstreams.data, "%V,%V", &t->upstreams, rmcf->name);
    t->upstreams = probe.upstreams;

    return t;
}


/*
 * The key that identifies a target in the shared zone across reloads: what
 * it is and its address, never its settings.  Workers of an older
 * configuration go on reading the state that the new one's workers
 * refresh, whatever a reload changed in redis_check, the credentials
 * included; and no secret, nor a username, is stored in shared memory.
 */

static ngx_int_t
ngx_stream_redis_master_target_key(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *key)
{
    size_t  len;

    len = sizeof("sentinel+replicas:||") + t->name.len + t->master_name.len;

    /*
     * A name and its seats: "name:NAME:PORT/MAX", "NAME:PORT/MAX#SEAT|"
     * (for discover=, "sentinels/..." instead of NAME:PORT).  A Sentinel
     * asked for its replicas (discover=) has its report after its node:
     * its key is another, so that no node is found with another size.
     */

    key->data = ngx_pnalloc(cf->pool, len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    key->len = ngx_snprintf(key->data, len, "%s%V|%V",
                            t->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL
                            ? (t->discover ? "sentinel+replicas:"
                                           : "sentinel:")
                            : t->kind == NGX_STREAM_REDIS_MASTER_KIND_NAME
                              ? "name:" : "", &t->name, &t->master_name)
               - key->data;

    return NGX_OK;
}


/* whether two upstreams check one server the same way */

static ngx_uint_t
ngx_stream_redis_master_same_check(ngx_stream_redis_master_check_conf_t *a,
    ngx_stream_redis_master_check_conf_t *b)
{
#if (NGX_STREAM_SSL)
    if ((a->ssl == NULL) != (b->ssl == NULL)
        || (a->ssl && !ngx_stream_redis_master_same_ssl(a->ssl, b->ssl)))
    {
        return 0;
    }
#endif

    return a->interval == b->interval
           && a->timeout == b->timeout
           && a->rise == b->rise
           && a->fall == b->fall
           && a->port == b->port
           && a->username.len == b->username.len
           && ngx_strncmp(a->username.data, b->username.data,
                          a->username.len) == 0
           && a->password.len == b->password.len
           && ngx_strncmp(a->password.data, b->password.data,
                          a->password.len) == 0;
}
