
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Unit tests of the decision module (ngx_stream_redis_master_decision.c,
 * compiled in here unchanged, with the policy linked): snapshots in,
 * decisions, published maps, reason codes and log lines out.  The state
 * layer below it is a double: a zone of a few nodes and one route, whose
 * calls are counted, so that the tests see what a probe costs: nothing
 * when it changes nothing a decision reads, one snapshot and one publish
 * when it does, and one map copied in a worker that adopts.  Prints TAP.
 */


#include "ngx_stream_redis_master_decision.c"

#include <stdio.h>
#include <string.h>


#define T_MAX  4

/* how long a test's node stays fresh: longer than any case runs for */
#define T_FRESH  3600000

#define A      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


/* doubles of what nginx provides */

volatile ngx_msec_t  ngx_current_msec;
ngx_uint_t           ngx_exiting;

static u_char        t_logged[4096];
static size_t        t_logged_len;


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    p = t_logged + t_logged_len;
    last = t_logged + sizeof(t_logged) - 2;

    va_start(args, fmt);
    p = ngx_vslprintf(p, last, fmt, args);
    va_end(args);

    *p++ = '\n';
    *p = '\0';
    t_logged_len = p - t_logged;
}


/* a pool that never frees: the arena is static, so nothing leaks */

static u_char   t_arena[64 * 1024];
static size_t   t_used;


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    u_char  *p;

    size = ngx_align(size, 16);

    if (t_used + size > sizeof(t_arena)) {
        return NULL;
    }

    p = t_arena + t_used;
    t_used += size;

    return p;
}


/* the zone, as the doubles of the state layer keep it */

static ngx_stream_redis_master_node_t        t_nodes[T_MAX];
static ngx_stream_redis_master_route_t       t_route;
static ngx_stream_redis_master_published_t   t_pub;
static ngx_uint_t                            t_published;
static ngx_uint_t                            t_snapshots;
static ngx_uint_t                            t_adopted;
static ngx_uint_t                            t_glances;
static ngx_uint_t                            t_node_reads;
static ngx_uint_t                            t_index[T_MAX];


ngx_uint_t
ngx_stream_redis_master_version(ngx_stream_redis_master_srv_conf_t *rmcf)
{
    if (rmcf->balancer == NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA) {
        return rmcf->route->role_version + rmcf->route->lag_version;
    }

    return rmcf->route->role_version;
}


void
ngx_stream_redis_master_snapshot(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_node_t *sentinels,
    ngx_stream_redis_master_seat_t *seats)
{
    ngx_uint_t                          i;
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;

    for (i = 0; i < rmcf->targets.nelts; i++) {
        nodes[i] = *tp[i]->node;
    }

    t_snapshots++;
}


ngx_uint_t
ngx_stream_redis_master_adopt(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t version, uintptr_t *map, ngx_uint_t *master,
    ngx_uint_t *generation, ngx_msec_t *decided,
    ngx_stream_redis_master_seat_t *seats)
{
    if (t_pub.version != version || t_pub.decided == 0) {
        return 0;
    }

    *master = t_pub.master;
    *generation = t_pub.generation;
    *decided = t_pub.decided;
    map[0] = t_pub.map[0];
    t_adopted++;

    return 1;
}


ngx_uint_t
ngx_stream_redis_master_publish(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t version, ngx_stream_redis_master_decision_t *d,
    uintptr_t *map, ngx_uint_t *generation)
{
    if (t_pub.master != d->master || t_pub.map[0] != map[0]) {
        t_pub.generation++;
    }

    t_pub.version = version;
    t_pub.decided = ngx_current_msec;
    t_pub.master = d->master;
    t_pub.map[0] = map[0];
    *generation = t_pub.generation;
    t_published++;

    return version;
}


ngx_stream_redis_master_node_t *
ngx_stream_redis_master_announced_master(
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    return t_route.master;
}


ngx_uint_t
ngx_stream_redis_master_announce(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *master, ngx_uint_t claimants,
    ngx_uint_t rule)
{
    ngx_uint_t  changed;

    changed = !t_route.announced || t_route.master != master
              || t_route.claimants != claimants;

    t_route.announced = 1;
    t_route.master = master;
    t_route.claimants = claimants;

    return changed;
}


void
ngx_stream_redis_master_announce_suspect(
    ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t suspect)
{
    t_route.suspect = suspect;
}


void
ngx_stream_redis_master_raise(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t role, ngx_uint_t lag)
{
    rmcf->route->role_version += (role != 0);
    rmcf->route->lag_version += (lag != 0);
}


void
ngx_stream_redis_master_read_history(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_history_t *h)
{
    h->node = t_route.history_node;
    h->epoch = t_route.history_epoch;
    h->n = t_route.nhistory;
    memcpy(h->seen, t_route.history, h->n * sizeof(h->seen[0]));
}


void
ngx_stream_redis_master_read_node(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_stream_redis_master_node_t *nodes)
{
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;
    nodes[i] = *tp[i]->node;
    t_node_reads++;
}


void
ngx_stream_redis_master_glance(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i, ngx_uint_t master, ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_seat_t *seats,
    ngx_stream_redis_master_history_t *h)
{
    ngx_stream_redis_master_target_t  **tp;

    tp = rmcf->targets.elts;
    nodes[i] = *tp[i]->node;
    nodes[master] = *tp[master]->node;
    ngx_stream_redis_master_read_history(rmcf, h);
    t_glances++;
}


ngx_uint_t
ngx_stream_redis_master_store_history(
    ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_history_t *was,
    ngx_stream_redis_master_history_t *now)
{
    t_route.history_node = now->node;
    t_route.history_epoch = now->epoch;
    t_route.nhistory = now->n;
    memcpy(t_route.history, now->seen, now->n * sizeof(now->seen[0]));

    return 1;
}


void
ngx_stream_redis_master_read_status(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_stream_redis_master_node_t *nodes,
    ngx_stream_redis_master_node_t *sentinels,
    ngx_stream_redis_master_seat_t *seats,
    ngx_stream_redis_master_route_t *route)
{
    ngx_stream_redis_master_snapshot(rmcf, nodes, sentinels, seats);

    *route = *rmcf->route;
}


/* the test */

static ngx_uint_t                          t_failed;
static ngx_uint_t                          t_number;

static ngx_log_t                           t_log;
static ngx_str_t                           t_name = ngx_string("pool");
static ngx_stream_redis_master_target_t    t_targets[T_MAX], *t_tp[T_MAX];
static u_char                              t_names[T_MAX][32];
static ngx_stream_upstream_srv_conf_t      t_upstream;
static ngx_stream_upstream_rr_peers_t      t_peers;
static ngx_stream_upstream_rr_peer_t       t_peer[T_MAX];
static ngx_stream_redis_master_srv_conf_t *t_pools[1];


static void
t_ok(int ok, const char *what)
{
    t_number++;

    printf("%sok %u - %s\n", ok ? "" : "not ", (unsigned) t_number, what);

    if (!ok) {
        t_failed++;
    }
}


static int
t_said(const char *text)
{
    return strstr((char *) t_logged, text) != NULL;
}


static void
t_forget_log(void)
{
    t_logged_len = 0;
    t_logged[0] = '\0';
}


/* what the explainer says of server "i" of a worker's decision */

static ngx_uint_t
t_explain(ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t master,
    ngx_uint_t i)
{
    ngx_stream_redis_master_decision_t  d;

    ngx_memzero(&d, sizeof(d));
    d.master = master;
    d.rule = (master == NGX_STREAM_REDIS_MASTER_NONE)
             ? NGX_STREAM_REDIS_MASTER_RULE_NONE
             : NGX_STREAM_REDIS_MASTER_RULE_SOLE;

    return ngx_stream_redis_master_explain(&rmcf->cache->view, &d, i);
}


static void
t_master(ngx_stream_redis_master_node_t *node, off_t offset)
{
    ngx_memzero(node, sizeof(ngx_stream_redis_master_node_t));
    node->probes = 1;
    node->fresh = T_FRESH;
    node->up = 1;
    node->info.role = NGX_STREAM_REDIS_MASTER_ROLE_MASTER;
    node->info.master_repl_offset = offset;
    ngx_cpystrn(node->info.replid, (u_char *) A,
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);
}


static void
t_replica(ngx_stream_redis_master_node_t *node, off_t offset)
{
    ngx_memzero(node, sizeof(ngx_stream_redis_master_node_t));
    node->probes = 1;
    node->fresh = T_FRESH;
    node->up = 1;
    node->checked = ngx_current_msec;
    node->info.role = NGX_STREAM_REDIS_MASTER_ROLE_REPLICA;
    node->info.link_up = 1;
    node->info.master_repl_offset = offset;
    node->info.slave_repl_offset = offset;
    ngx_cpystrn(node->info.replid, (u_char *) A,
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);
}


/* an upstream of "n" servers in the zone double, as a worker has it */

static void
t_upstream_of(ngx_stream_redis_master_srv_conf_t *rmcf, ngx_uint_t n,
    ngx_uint_t balancer, ngx_uint_t marked_down)
{
    ngx_uint_t  i;

    ngx_memzero(rmcf, sizeof(ngx_stream_redis_master_srv_conf_t));
    ngx_memzero(&t_route, sizeof(t_route));
    ngx_memzero(&t_pub, sizeof(t_pub));
    ngx_memzero(&t_peers, sizeof(t_peers));
    t_pub.master = NGX_STREAM_REDIS_MASTER_NONE;

    for (i = 0; i < n; i++) {
        ngx_memzero(&t_targets[i], sizeof(t_targets[i]));
        ngx_memzero(&t_peer[i], sizeof(t_peer[i]));
        t_targets[i].node = &t_nodes[i];
        t_targets[i].name.data = t_names[i];
        t_targets[i].name.len = ngx_sprintf(t_names[i], "127.0.0.1:%ui",
                                            7000 + i) - t_names[i];
        t_targets[i].server = t_targets[i].name;
        t_targets[i].pools.elts = t_pools;
        t_targets[i].pools.nelts = 1;
        t_index[i] = i;
        t_targets[i].indexes.elts = &t_index[i];
        t_targets[i].indexes.nelts = 1;
        t_tp[i] = &t_targets[i];
        t_peer[i].down = (marked_down == i);
        t_peer[i].next = (i + 1 < n) ? &t_peer[i + 1] : NULL;
    }

    t_peers.peer = &t_peer[0];
    t_peers.number = n;
    t_upstream.peer.data = &t_peers;

    t_pools[0] = rmcf;

    rmcf->balancer = balancer;
    rmcf->upstream = &t_upstream;
    rmcf->name = &t_name;
    rmcf->route = &t_route;
    rmcf->fallback = NGX_STREAM_REDIS_MASTER_FALLBACK_NONE;
    rmcf->max_lag = 1000;
    rmcf->max_lag_bytes = NGX_CONF_UNSET;
    rmcf->check.interval = 1000;
    rmcf->targets.elts = t_tp;
    rmcf->targets.nelts = n;

    t_published = 0;
    t_snapshots = 0;
    t_adopted = 0;
    t_glances = 0;
    t_node_reads = 0;
    t_forget_log();
}


/* a probe of server "i" is recorded: the node changes, then noted() */

static void
t_probe(ngx_uint_t i, ngx_stream_redis_master_node_t *now)
{
    ngx_stream_redis_master_node_t  before;

    before = t_nodes[i];
    t_nodes[i] = *now;
    t_nodes[i].probes = before.probes + 1;
    ngx_stream_redis_master_noted(&t_targets[i], &before, &t_nodes[i]);
}


/* a master and its replica: decided once, then two words a connection */

static void
t_write_pool(void)
{
    ngx_uint_t                          master;
    ngx_stream_redis_master_node_t      node;
    ngx_stream_redis_master_srv_conf_t  rmcf;

    ngx_current_msec = 10000;
    t_upstream_of(&rmcf, 2, NGX_STREAM_REDIS_MASTER_BALANCER_MASTER,
                  NGX_STREAM_REDIS_MASTER_NONE);
    t_master(&t_nodes[0], 100);
    t_replica(&t_nodes[1], 100);

    t_ok(ngx_stream_redis_master_init_decision(NULL, &rmcf) == NGX_OK,
         "write pool: a decision for the upstream");
    t_ok(!ngx_stream_redis_master_current(&rmcf, &master),
         "write pool: none is current before the first");

    master = ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(master == 0, "write pool: the master is the sole claimant");
    t_ok(t_snapshots == 1 && t_published == 1,
         "write pool: one snapshot, one decision published");
    t_ok(ngx_stream_redis_master_may_use(&rmcf, 0)
         && !ngx_stream_redis_master_may_use(&rmcf, 1),
         "write pool: the map has the master only");
    t_ok(t_said("upstream pool master is 127.0.0.1:7000"),
         "write pool: the new master is logged");

    /* a probe that repeats the last one moves nothing */

    node = t_nodes[1];
    t_probe(1, &node);
    t_forget_log();

    t_ok(ngx_stream_redis_master_current(&rmcf, &master) && master == 0,
         "write pool: a repeated probe leaves the decision current");
    t_ok(t_snapshots == 1 && t_published == 1,
         "write pool: and costs no snapshot and no decision");

    /* a replica's offset is news for a read pool only */

    node.info.slave_repl_offset = 200;
    node.info.master_repl_offset = 200;
    t_probe(1, &node);

    t_ok(ngx_stream_redis_master_current(&rmcf, &master),
         "write pool: a replica's new offset changes no decision");

    /* the master is lost */

    node = t_nodes[0];
    node.up = 0;
    node.failures = 2;
    node.hard_failures = 2;
    t_probe(0, &node);

    t_ok(!ngx_stream_redis_master_current(&rmcf, &master),
         "write pool: a master lost makes the decision old");

    master = ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(master == NGX_STREAM_REDIS_MASTER_NONE,
         "write pool: no master once it is down");
    t_ok(t_snapshots == 2 && t_published == 2,
         "write pool: one more snapshot and decision for it");
    t_ok(t_said("upstream pool has no master"),
         "write pool: the loss is logged");
    t_ok(t_explain(&rmcf, master, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_NOT_MASTER,
         "write pool: why not server 0: it does not say master now");

    /* the decision ages: made again after a second, once */

    ngx_current_msec += NGX_STREAM_REDIS_MASTER_RECHECK;

    t_ok(!ngx_stream_redis_master_current(&rmcf, &master),
         "write pool: a decision older than a second is not current");
}


/* another worker of the configuration takes the published decision */

static void
t_adoption(void)
{
    ngx_uint_t                          master;
    ngx_stream_redis_master_srv_conf_t  rmcf, other;

    ngx_current_msec = 20000;
    t_upstream_of(&rmcf, 2, NGX_STREAM_REDIS_MASTER_BALANCER_MASTER,
                  NGX_STREAM_REDIS_MASTER_NONE);
    t_master(&t_nodes[0], 100);
    t_replica(&t_nodes[1], 100);

    other = rmcf;

    (void) ngx_stream_redis_master_init_decision(NULL, &rmcf);
    (void) ngx_stream_redis_master_init_decision(NULL, &other);

    (void) ngx_stream_redis_master_refresh(&rmcf, &t_log);
    t_forget_log();

    master = ngx_stream_redis_master_refresh(&other, &t_log);

    t_ok(master == 0 && t_adopted == 1,
         "adoption: the other worker takes the published master");
    t_ok(t_snapshots == 1 && t_published == 1,
         "adoption: without a snapshot or a decision of its own");
    t_ok(ngx_stream_redis_master_may_use(&other, 0)
         && other.cache->generation == rmcf.cache->generation,
         "adoption: with its map and generation");
    t_ok(t_logged_len == 0, "adoption: and logs nothing");

    /* a worker holding connections reads the master's node as it adopts */

    other.nheld = 1;
    t_route.role_version++;
    (void) ngx_stream_redis_master_refresh(&rmcf, &t_log);
    master = ngx_stream_redis_master_refresh(&other, &t_log);

    t_ok(master == 0 && t_adopted == 2 && t_snapshots == 2
         && t_node_reads == 1,
         "adoption: holding connections, it copies the master's node only");

    other.nheld = 0;

    ngx_exiting = 1;
    ngx_current_msec++;
    t_route.role_version++;

    master = ngx_stream_redis_master_refresh(&other, &t_log);

    t_ok(master == 0 && t_published == 2 && t_snapshots == 3,
         "adoption: an exiting worker decides for itself, publishing "
         "nothing");

    ngx_exiting = 0;
}


/* why a server that says master does not take writes, in the log too */

static void
t_reasons(void)
{
    ngx_uint_t                          master;
    ngx_stream_redis_master_srv_conf_t  rmcf;

    ngx_current_msec = 30000;
    t_upstream_of(&rmcf, 3, NGX_STREAM_REDIS_MASTER_BALANCER_MASTER, 1);
    t_master(&t_nodes[0], 100);
    t_master(&t_nodes[1], 100);
    t_replica(&t_nodes[2], 100);
    ngx_cpystrn(t_nodes[1].info.replid,
                (u_char *) "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);

    (void) ngx_stream_redis_master_init_decision(NULL, &rmcf);
    master = ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(master == 0, "reasons: the server not marked down is master");
    t_ok(t_explain(&rmcf, master, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_MARKED_DOWN,
         "reasons: server 1 is marked down");
    t_ok(t_said("server 127.0.0.1:7001 in upstream pool says master but "
                "is marked down"),
         "reasons: the log says it in the explainer's words");
    t_ok(t_explain(&rmcf, master, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_OK,
         "reasons: the master takes writes");

    rmcf.min_replicas = 2;
    t_ok(ngx_stream_redis_master_why_not(&rmcf.cache->view, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_FEW_REPLICAS,
         "reasons: with min_replicas=2 it has too few replicas");
}


/* a read pool: the lag history grows with the decisions that find it */

static void
t_read_pool(void)
{
    uintptr_t                           map[1];
    ngx_uint_t                          master;
    ngx_stream_redis_master_view_t      v;
    ngx_stream_redis_master_node_t      node;
    ngx_stream_redis_master_route_t     route;
    ngx_stream_redis_master_decision_t  d;
    ngx_stream_redis_master_srv_conf_t  rmcf;

    ngx_current_msec = 40000;
    t_upstream_of(&rmcf, 3, NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA,
                  NGX_STREAM_REDIS_MASTER_NONE);
    t_master(&t_nodes[0], 1000);
    t_nodes[0].checked = ngx_current_msec;
    t_replica(&t_nodes[1], 1000);
    t_replica(&t_nodes[2], 1000);

    (void) ngx_stream_redis_master_init_decision(NULL, &rmcf);
    master = ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(master == 0 && ngx_stream_redis_master_may_use(&rmcf, 1)
         && ngx_stream_redis_master_may_use(&rmcf, 2)
         && !ngx_stream_redis_master_may_use(&rmcf, 0),
         "read pool: both replicas qualify, the master does not");
    t_ok(t_route.nhistory == 1 && t_route.history[0].offset == 1000,
         "read pool: the master's offset is remembered");

    /* the master moves on; replica 2 stays behind for two seconds */

    ngx_current_msec = 40500;
    node = t_nodes[0];
    node.info.master_repl_offset = 2000;
    node.checked = ngx_current_msec;
    t_probe(0, &node);

    t_ok(!ngx_stream_redis_master_current(&rmcf, &master),
         "read pool: a new offset of the master is news");

    (void) ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(t_route.nhistory == 2 && rmcf.cache->view.history.n == 2,
         "read pool: the history has both offsets, in the view too");

    ngx_current_msec = 43000;
    node = t_nodes[1];
    node.info.slave_repl_offset = 2000;
    node.checked = ngx_current_msec;
    t_probe(1, &node);
    node = t_nodes[2];
    node.checked = ngx_current_msec;
    t_probe(2, &node);

    (void) ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(ngx_stream_redis_master_may_use(&rmcf, 1)
         && !ngx_stream_redis_master_may_use(&rmcf, 2),
         "read pool: the replica that kept up qualifies, the other not");
    t_ok(t_explain(&rmcf, 0, 2)
         == NGX_STREAM_REDIS_MASTER_WHY_LAGGING,
         "read pool: it lags more than max_lag");
    t_ok(strcmp(ngx_stream_redis_master_why_text(
                    NGX_STREAM_REDIS_MASTER_WHY_LAGGING),
                "it lags more than max_lag") == 0,
         "read pool: in the explainer's words");

    /* a reader's view of the zone (the status page's) judges the same */

    t_ok(ngx_stream_redis_master_take_view(NULL, &rmcf, &v, &route)
         == NGX_OK, "read pool: a view taken as the status page does");

    ngx_stream_redis_master_judge(&v, route.master, &d, map);

    t_ok(d.master == 0 && map[0] == rmcf.cache->eligible[0],
         "read pool: it judges as the worker decided");
    t_ok(v.history.master == 0 && v.history.n == 2,
         "read pool: with the route's history");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 2)
         == NGX_STREAM_REDIS_MASTER_WHY_LAGGING,
         "read pool: and explains the same");
}


/*
 * A read pool whose replicas' probes move only their own offsets: each is
 * judged alone (one glance at two nodes and the history, no snapshot), and
 * the version moves only for the replica whose place changes.
 */

static void
t_one_replica(void)
{
    ngx_uint_t                          master;
    ngx_stream_redis_master_node_t      node;
    ngx_stream_redis_master_srv_conf_t  rmcf;

    ngx_current_msec = 50000;
    t_upstream_of(&rmcf, 3, NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA,
                  NGX_STREAM_REDIS_MASTER_NONE);
    rmcf.max_lag = 500;
    t_master(&t_nodes[0], 1000);
    t_nodes[0].checked = ngx_current_msec;
    t_replica(&t_nodes[1], 1000);
    t_replica(&t_nodes[2], 1000);

    (void) ngx_stream_redis_master_init_decision(NULL, &rmcf);
    (void) ngx_stream_redis_master_refresh(&rmcf, &t_log);

    /* the master moves on: its offset is news for the whole pool */

    ngx_current_msec = 50500;
    node = t_nodes[0];
    node.info.master_repl_offset = 2000;
    node.checked = ngx_current_msec;
    t_probe(0, &node);

    t_ok(!ngx_stream_redis_master_current(&rmcf, &master),
         "one replica: the master's new offset makes the decision old");

    (void) ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(t_snapshots == 2 && t_route.nhistory == 2,
         "one replica: decided again, with the new offset remembered");

    /* replica 1 catches up, replica 2 moves but stays within max_lag */

    ngx_current_msec = 50800;
    node = t_nodes[1];
    node.info.slave_repl_offset = 2000;
    node.checked = ngx_current_msec;
    t_probe(1, &node);

    ngx_current_msec = 50900;
    node = t_nodes[2];
    node.info.slave_repl_offset = 1200;
    node.checked = ngx_current_msec;
    t_probe(2, &node);

    t_ok(ngx_stream_redis_master_current(&rmcf, &master) && master == 0,
         "one replica: offsets that leave each replica in its place "
         "leave the decision current");
    t_ok(t_snapshots == 2 && t_published == 2 && t_glances == 2,
         "one replica: each judged alone, no snapshot, nothing published");
    t_ok(ngx_stream_redis_master_may_use(&rmcf, 1)
         && ngx_stream_redis_master_may_use(&rmcf, 2),
         "one replica: both still qualify");

    /* replica 2 stays where it was: at its next probe, beyond max_lag */

    ngx_current_msec = 51200;
    node = t_nodes[2];
    node.checked = ngx_current_msec;
    t_probe(2, &node);

    t_ok(!ngx_stream_redis_master_current(&rmcf, &master),
         "one replica: a replica beyond max_lag at its probe makes the "
         "decision old");

    (void) ngx_stream_redis_master_refresh(&rmcf, &t_log);

    t_ok(ngx_stream_redis_master_may_use(&rmcf, 1)
         && !ngx_stream_redis_master_may_use(&rmcf, 2),
         "one replica: and it leaves the read pool at the next decision");

    /* once the decision has aged, an offset is decided on again */

    ngx_current_msec += NGX_STREAM_REDIS_MASTER_RECHECK;
    node = t_nodes[1];
    node.info.slave_repl_offset = 2100;
    node.checked = ngx_current_msec;
    t_probe(1, &node);

    t_ok(t_glances == 3 && !ngx_stream_redis_master_current(&rmcf, &master),
         "one replica: an aged decision is not judged by one replica");
}


/*
 * What the status page shows of a view it takes (take_view(), judge(),
 * explain()): every reason code explain() gives, and its words, for a
 * write pool with a Sentinel and for a read pool.
 */

static void
t_explained(void)
{
    u_char                                   addr[
                                             NGX_STREAM_REDIS_MASTER_ADDR_LEN];
    uintptr_t                                map[1];
    ngx_uint_t                               why, words;
    ngx_stream_redis_master_view_t           v;
    ngx_stream_redis_master_route_t          route;
    ngx_stream_redis_master_decision_t       d, none;
    ngx_stream_redis_master_srv_conf_t       rmcf;
    ngx_stream_redis_master_sentinel_conf_t  sentinel;

    /* a write pool: a master, a replica, a superseded and a marked one */

    ngx_current_msec = 50000;
    t_upstream_of(&rmcf, 4, NGX_STREAM_REDIS_MASTER_BALANCER_MASTER, 3);
    t_master(&t_nodes[0], 100);
    t_replica(&t_nodes[1], 100);
    t_master(&t_nodes[2], 100);
    t_master(&t_nodes[3], 100);
    ngx_cpystrn(t_nodes[2].info.replid,
                (u_char *) "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);
    ngx_cpystrn(t_nodes[0].info.replid2, t_nodes[2].info.replid,
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);
    ngx_cpystrn(t_nodes[3].info.replid,
                (u_char *) "cccccccccccccccccccccccccccccccccccccccc",
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);

    t_ok(ngx_stream_redis_master_take_view(NULL, &rmcf, &v, &route)
         == NGX_OK, "explained: the status page's view of a write pool");

    ngx_stream_redis_master_judge(&v, route.master, &d, map);

    t_ok(d.master == 0 && d.rule == NGX_STREAM_REDIS_MASTER_RULE_SOLE
         && map[0] == 1,
         "explained: the one claimant is master, and the map has it");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_OK,
         "explained: nothing against the master");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_NOT_MASTER,
         "explained: a replica does not say master");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 2)
         == NGX_STREAM_REDIS_MASTER_WHY_SUPERSEDED,
         "explained: the master another was promoted from is superseded");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 3)
         == NGX_STREAM_REDIS_MASTER_WHY_MARKED_DOWN,
         "explained: a server marked down");
    t_ok(ngx_stream_redis_master_follows(&v, 1, d.master)
         && !ngx_stream_redis_master_follows(&v, 2, d.master),
         "explained: the replica follows the master, as the page places it");

    rmcf.min_replicas = 2;
    ngx_stream_redis_master_judge(&v, route.master, &d, map);

    t_ok(d.master == NGX_STREAM_REDIS_MASTER_NONE
         && d.rule == NGX_STREAM_REDIS_MASTER_RULE_NONE
         && ngx_stream_redis_master_explain(&v, &d, 0)
            == NGX_STREAM_REDIS_MASTER_WHY_FEW_REPLICAS,
         "explained: with min_replicas=2, no master: too few replicas");

    rmcf.min_replicas = 0;

    /* with a Sentinel: none names the master, then it does */

    rmcf.sentinel = &sentinel;
    rmcf.sentinels.nelts = 1;
    v.sentinels[0].probes = 1;
    v.sentinels[0].up = 1;
    v.sentinels[0].info.master_port = 7009;
    ngx_cpystrn(v.sentinels[0].info.master_host, (u_char *) "127.0.0.1",
                NGX_STREAM_REDIS_MASTER_HOST_LEN);

    ngx_stream_redis_master_judge(&v, route.master, &d, map);

    t_ok(d.master == NGX_STREAM_REDIS_MASTER_NONE
         && ngx_stream_redis_master_explain(&v, &d, 0)
            == NGX_STREAM_REDIS_MASTER_WHY_NO_QUORUM,
         "explained: a Sentinel that names another server: no quorum");
    t_ok(ngx_stream_redis_master_why_master(&v, &d)
         == NGX_STREAM_REDIS_MASTER_CHOSE_INELIGIBLE,
         "explained: no master though servers say master: each says why");
    t_ok(ngx_stream_redis_master_named(&v.sentinels[0], addr)
         == sizeof("127.0.0.1:7009") - 1
         && ngx_strncmp(addr, "127.0.0.1:7009", sizeof("127.0.0.1:7009") - 1)
            == 0
         && !ngx_stream_redis_master_names(&v, 0, &v.sentinels[0]),
         "explained: the address it names, and that it is not the master");

    v.sentinels[0].info.master_port = 7000;
    ngx_stream_redis_master_judge(&v, route.master, &d, map);

    t_ok(d.master == 0
         && ngx_stream_redis_master_names(&v, 0, &v.sentinels[0])
         && ngx_stream_redis_master_agreed(&v, 0)
            == NGX_STREAM_REDIS_MASTER_QUORUM_NAMED,
         "explained: once it names the master, the master takes writes");
    t_ok(ngx_stream_redis_master_why_master(&v, &d)
         == NGX_STREAM_REDIS_MASTER_CHOSE_NAMED
         && strcmp(ngx_stream_redis_master_rule_text(
                       NGX_STREAM_REDIS_MASTER_CHOSE_NAMED),
                   "the only server that says master and that a majority "
                   "of the Sentinels names") == 0,
         "explained: why it is master: the Sentinels name it");

    v.sentinels[0].up = 0;

    t_ok(ngx_stream_redis_master_named(&v.sentinels[0], addr) == 0,
         "explained: a Sentinel down names nobody");

    rmcf.sentinel = NULL;
    rmcf.sentinels.nelts = 0;

    /* a read pool: why each replica does not serve reads */

    t_upstream_of(&rmcf, 4, NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA,
                  NGX_STREAM_REDIS_MASTER_NONE);
    t_master(&t_nodes[0], 100);
    t_replica(&t_nodes[1], 100);
    t_replica(&t_nodes[2], 100);
    t_nodes[2].up = 0;
    t_replica(&t_nodes[3], 100);
    t_nodes[3].info.link_up = 0;

    (void) ngx_stream_redis_master_take_view(NULL, &rmcf, &v, &route);
    ngx_stream_redis_master_judge(&v, route.master, &d, map);

    t_ok(d.master == 0 && map[0] == (1 << 1),
         "explained: a read pool reads from its one qualified replica");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_OK,
         "explained: nothing against the replica that qualifies");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 2)
         == NGX_STREAM_REDIS_MASTER_WHY_NOT_UP,
         "explained: a replica not up");
    t_ok(ngx_stream_redis_master_explain(&v, &d, 3)
         == NGX_STREAM_REDIS_MASTER_WHY_UNLINKED,
         "explained: a replica whose link is down");
    none = d;
    none.master = NGX_STREAM_REDIS_MASTER_NONE;
    none.rule = NGX_STREAM_REDIS_MASTER_RULE_NONE;
    t_ok(ngx_stream_redis_master_explain(&v, &none, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_NO_MASTER,
         "explained: no replica qualifies without a master");

    v.nodes[3].info.link_up = 1;
    v.nodes[3].info.sync_in_progress = 1;

    t_ok(ngx_stream_redis_master_explain(&v, &d, 3)
         == NGX_STREAM_REDIS_MASTER_WHY_SYNCING,
         "explained: a replica in a full sync");

    v.nodes[3].info.sync_in_progress = 0;
    v.nodes[3].info.loading = 1;

    t_ok(ngx_stream_redis_master_explain(&v, &d, 3)
         == NGX_STREAM_REDIS_MASTER_WHY_LOADING,
         "explained: a replica loading its data");

    v.nodes[3].info.loading = 0;
    v.nodes[3].info.replid[0] = 'b';

    t_ok(ngx_stream_redis_master_explain(&v, &d, 3)
         == NGX_STREAM_REDIS_MASTER_WHY_OTHER_LINEAGE,
         "explained: a replica of another replication history");

    v.nodes[3].info.replid[0] = 'a';
    v.nodes[3].info.role = NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN;

    t_ok(ngx_stream_redis_master_explain(&v, &d, 3)
         == NGX_STREAM_REDIS_MASTER_WHY_NOT_REPLICA,
         "explained: a server of no known role is not a replica");

    /* behind the master: by the history, in time, in bytes */

    v.nodes[1].info.slave_repl_offset = 60;

    t_ok(ngx_stream_redis_master_explain(&v, &d, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_LAG_UNKNOWN,
         "explained: behind the master, with no history: lag unknown");

    v.history.master = 0;
    v.history.n = 2;
    v.history.seen[0].offset = 50;
    v.history.seen[0].seen = ngx_current_msec - 500;
    v.history.seen[1].offset = 100;
    v.history.seen[1].seen = v.nodes[1].checked;
    rmcf.max_lag_bytes = 10;

    t_ok(ngx_stream_redis_master_explain(&v, &d, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_BYTES_BEHIND,
         "explained: within max_lag, but more than max_lag_bytes behind");

    v.history.seen[1].seen = v.nodes[1].checked - 2000;

    t_ok(ngx_stream_redis_master_explain(&v, &d, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_LAGGING,
         "explained: behind for longer than max_lag");

    /* every code has its words, the page's and the log's */

    words = 1;

    for (why = 0; why <= NGX_STREAM_REDIS_MASTER_WHY_LAST; why++) {
        words &= ngx_stream_redis_master_why_text(why)[0] != '\0';
    }

    t_ok(words && ngx_stream_redis_master_why_text(
                      NGX_STREAM_REDIS_MASTER_WHY_LAST + 1)[0] == '\0',
         "explained: every reason code has its words, and no other");

    words = 1;

    for (why = 0; why <= NGX_STREAM_REDIS_MASTER_CHOSE_LAST; why++) {
        words &= ngx_stream_redis_master_rule_text(why)[0] != '\0';
    }

    t_ok(words && ngx_stream_redis_master_rule_text(
                      NGX_STREAM_REDIS_MASTER_CHOSE_LAST + 1)[0] == '\0',
         "explained: why a master is master has its words, and no other");
}


int
main(void)
{
    t_log.log_level = NGX_LOG_WARN;

    t_write_pool();
    t_adoption();
    t_reasons();
    t_read_pool();
    t_one_replica();
    t_explained();

    printf("1..%u\n", (unsigned) t_number);
    printf("# %u passed, %u failed\n", (unsigned) (t_number - t_failed),
           (unsigned) t_failed);

    return t_failed ? 1 : 0;
}
