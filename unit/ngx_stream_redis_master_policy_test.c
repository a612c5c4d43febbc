
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Unit tests of the policy layer (ngx_stream_redis_master_policy.c): each
 * case is a snapshot of an upstream, written as a table of servers and
 * Sentinels, and the decision expected for it.  No nginx, no Redis: the
 * module's own policy code is linked with the test double of nginx's string
 * functions (fuzz/ngx_stub.c).  Prints TAP.
 */


#include "ngx_stream_redis_master_policy.h"

#include <stdio.h>


#define T_MAX        8

#define T_DOWN       0
#define T_MASTER     1
#define T_REPLICA    2
#define T_STALLED    3
#define T_UNPROBED   4


/* one server of a case */
typedef struct {
    int                                state;
    const char                        *replid;
    const char                        *replid2;
    int                                link_up;
    int                                last_io;
    off_t                              offset;
    unsigned                           syncing:1;
    unsigned                           loading:1;
    unsigned                           marked_down:1;
    /* a master's "slaveN:" lines: a digit is an online replica with that
     * lag in seconds, "x" one in another state */
    const char                        *slaves;
} t_server_t;


/* one Sentinel: the server it names (-1: none), and whether it sees it down */
typedef struct {
    int                                names;
    int                                sees_down;
    int                                unprobed;
} t_sentinel_t;


typedef struct {
    const char                        *name;
    ngx_uint_t                         balancer;
    ngx_uint_t                         split_brain;
    int                                sentinels;
    t_server_t                         server[T_MAX];
    t_sentinel_t                       sentinel[T_MAX];
    int                                previous;
    ngx_uint_t                         master;
    ngx_uint_t                         rule;
    const char                        *eligible;
    ngx_uint_t                         min_replicas;
    ngx_msec_t                         min_replicas_max_lag;
    int                                suspect;
    /* what explain() says of each claimant not chosen (0: not asked) */
    ngx_uint_t                         lost[T_MAX];
} t_case_t;


#define NONE  NGX_STREAM_REDIS_MASTER_NONE
#define M     NGX_STREAM_REDIS_MASTER_BALANCER_MASTER
#define R     NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA

#define A     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B     "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define C     "cccccccccccccccccccccccccccccccccccccccc"

#define END   { 0, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL }


static t_case_t  t_cases[] = {

    { "a master and its replica: the sole claimant", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "10", 0, 0, 0, { 0 } },

    { "two unrelated masters, one follower each: a tie, refused", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_MASTER, B, "", 0, -1, 500, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 500, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_TIE, "0000", 0, 0, 0,
      { NGX_STREAM_REDIS_MASTER_WHY_TIE, NGX_STREAM_REDIS_MASTER_WHY_TIE } },

    { "a tie refused, and a third claimant fewer replicas follow", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_MASTER, B, "", 0, -1, 500, 0, 0, 0, NULL },
        { T_MASTER, C, "", 0, -1, 900, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 500, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_TIE, "00000", 0, 0, 0,
      { NGX_STREAM_REDIS_MASTER_WHY_TIE, NGX_STREAM_REDIS_MASTER_WHY_TIE,
        NGX_STREAM_REDIS_MASTER_WHY_OUTVOTED } },

    { "the same tie with split_brain=lineage: the first in order", M,
      NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_MASTER, B, "", 0, -1, 500, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 500, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_ORDER, "1000", 0, 0, 0,
      { 0, NGX_STREAM_REDIS_MASTER_WHY_LATER_IN_ORDER } },

    { "two masters: the one more replicas follow, never the higher offset",
      M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 900, 0, 0, 0, NULL },
        { T_MASTER, B, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 900, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      1, NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS, "01000", 0, 0, 0,
      { NGX_STREAM_REDIS_MASTER_WHY_OUTVOTED } },

    { "a replica promoted from a stale master supersedes it", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 900, 0, 0, 0, NULL },
        { T_MASTER, B, A, 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 900, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      1, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "010", 0, 0, 0, { 0 } },

    { "a server marked down never takes writes", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 1, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "00", 0, 0, 0, { 0 } },

    { "a master that only stalls stays master", M, 0, 0,
      { { T_STALLED, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "10", 0, 0, 0, { 0 } },

    { "a master that is down is no master", M, 0, 0,
      { { T_DOWN, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "00", 0, 0, 0, { 0 } },

    { "a server not probed yet: no master is chosen", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_UNPROBED, "", "", 0, -1, 0, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_UNPROBED, "00", 0, 0, 0, { 0 } },

    { "a server not probed yet: the master announced before stays", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_UNPROBED, "", "", 0, -1, 0, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, 0,
      0, NGX_STREAM_REDIS_MASTER_RULE_KEPT, "10", 0, 0, 0, { 0 } },

    { "Sentinels: a majority names the master", M, 0, 3,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 }, { 0, 0, 0 }, { -1, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "10", 0, 0, 0, { 0 } },

    { "Sentinels split: one names each master, one none: no master", M, 0, 3,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_MASTER, B, "", 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 }, { 1, 0, 0 }, { -1, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "00", 0, 0, 0, { 0 } },

    { "Sentinels: a majority names it but sees it down: no master", M, 0, 3,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 1, 0 }, { 0, 1, 0 }, { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "0", 0, 0, 0, { 0 } },

    { "Sentinels that do not answer count for nobody", M, 0, 3,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 }, { -1, 0, 1 }, { -1, 0, 1 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_UNPROBED, "0", 0, 0, 0, { 0 } },

    { "Sentinels see the old master down: its promoted heir takes writes", M,
      0, 3,
      { { T_DOWN, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_MASTER, B, A, 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 1, 0 }, { 0, 1, 0 }, { 0, 0, 0 } }, -1,
      1, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "010", 0, 0, 0, { 0 } },

    { "the old master down to Sentinels, two heirs: neither takes writes", M,
      0, 3,
      { { T_DOWN, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_MASTER, B, A, 0, -1, 100, 0, 0, 0, NULL },
        { T_MASTER, C, A, 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 1, 0 }, { 0, 1, 0 }, { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "000", 0, 0, 0, { 0 } },

    { "reads: fresh replicas qualify, the master does not", R, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 2, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "011", 0, 0, 0, { 0 } },

    { "reads: lagging, syncing, loading, unlinked, stalled or foreign "
      "replicas do not qualify", R, 0, 0,
      { { T_MASTER, A, "", 0, -1, 5000, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 4500, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 5000, 1, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 5000, 0, 1, 0, NULL },
        { T_REPLICA, A, "", 0, 1, 5000, 0, 0, 0, NULL },
        { T_STALLED, A, "", 1, 1, 5000, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 5000, 0, 0, 0, NULL } },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "00000000", 0, 0, 0, { 0 } },

    /* min_replicas: N replicas in both views (docs/failover.md) */

    { "min_replicas=1: a master its only replica follows qualifies, not "
      "suspect", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "1" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "10", 1, 1000, 0, { 0 } },

    { "min_replicas=1: its only replica missed an ack: suspect", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "2" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "10", 1, 3000, 1, { 0 } },

    { "min_replicas=1: one replica of two restarting: suspect", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "0" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_DOWN, A, "", 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "100", 1, 1000, 1, { 0 } },

    { "min_replicas=1 with two replicas: qualifies, not suspect", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "01" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "100", 1, 1000, 0, { 0 } },

    { "min_replicas=1: the master lost its replicas (links down, no "
      "lines): no master", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "" },
        { T_REPLICA, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "000", 1, 1000, 0, { 0 } },

    { "min_replicas=1: replicas say linked, the master lists none: the "
      "master's view counts too", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "00", 1, 1000, 0, { 0 } },

    { "min_replicas=1: the master lists a replica, none of the upstream's "
      "follows it: the replicas' view counts too", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "0" },
        { T_REPLICA, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "000", 1, 1000, 0, { 0 } },

    { "min_replicas_max_lag=1s: lag 1 is within it, lag 2 is not", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "12" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "100", 1, 1000, 1, { 0 } },

    { "min_replicas=2, one replica's acks 2 s late: no master", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "02" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "000", 2, 1000, 0, { 0 } },

    { "min_replicas_max_lag=3s keeps a lag of 3", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "03" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "100", 2, 3000, 1, { 0 } },

    { "min_replicas: syncing, loading, stalled, foreign replicas and "
      "lines not online do not count", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "00xx" },
        { T_REPLICA, A, "", 1, 1, 100, 1, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 1, 0, NULL },
        { T_STALLED, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "00000", 1, 1000, 0, { 0 } },

    { "min_replicas=1: a master that stalls keeps what it last said", M, 0,
      0,
      { { T_STALLED, A, "", 0, -1, 100, 0, 0, 0, "0" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "10", 1, 1000, 0, { 0 } },

    { "min_replicas=majority (2 of 4): two masters, one follower each: "
      "neither qualifies", M, NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "0" },
        { T_MASTER, B, "", 0, -1, 500, 0, 0, 0, "0" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL },
        { T_REPLICA, B, "", 1, 1, 500, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "0000", 2, 1000, 0, { 0 } },

    { "min_replicas=1 of 3: an old master that still lists its lost "
      "replica, a heir it follows: the heir", M, 0, 0,
      { { T_MASTER, A, "", 0, -1, 900, 0, 0, 0, "0" },
        { T_MASTER, B, "", 0, -1, 100, 0, 0, 0, "0" },
        { T_REPLICA, B, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      1, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "010", 1, 1000, 1, { 0 } },

    { "min_replicas=1, the promoted replica alone so far: not yet", M, 0, 0,
      { { T_DOWN, A, "", 0, -1, 900, 0, 0, 0, "0" },
        { T_MASTER, B, A, 0, -1, 100, 0, 0, 0, "" },
        { T_REPLICA, A, "", 0, -1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "000", 1, 1000, 0, { 0 } },

    { "reads: a read pool has no min_replicas, its master needs no "
      "replica", R, 0, 0,
      { { T_MASTER, A, "", 0, -1, 100, 0, 0, 0, "" },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      0, NGX_STREAM_REDIS_MASTER_RULE_SOLE, "01", 0, 0, 0, { 0 } },

    { "reads: with no master no replica qualifies", R, 0, 0,
      { { T_DOWN, A, "", 0, -1, 100, 0, 0, 0, NULL },
        { T_REPLICA, A, "", 1, 1, 100, 0, 0, 0, NULL }, END },
      { { 0, 0, 0 } }, -1,
      NONE, NGX_STREAM_REDIS_MASTER_RULE_NONE, "00", 0, 0, 0, { 0 } },
};


static ngx_uint_t  t_failed;
static ngx_uint_t  t_number;


static void
t_ok(int ok, const char *what, const char *name)
{
    t_number++;

    printf("%sok %u - %s: %s\n", ok ? "" : "not ", (unsigned) t_number,
           name, what);

    if (!ok) {
        t_failed++;
    }
}


/* the snapshot of server "s" as the zone would hold it */

static void
t_node(ngx_stream_redis_master_node_t *node, t_server_t *s)
{
    const char                       *p;
    ngx_stream_redis_master_info_t   *info;
    ngx_stream_redis_master_slave_t  *sl;

    ngx_memzero(node, sizeof(ngx_stream_redis_master_node_t));

    info = &node->info;

    if (s->state == T_UNPROBED) {
        return;
    }

    node->probes = 1;
    node->up = (s->state == T_MASTER || s->state == T_REPLICA);
    node->stalled = (s->state == T_STALLED);

    if (s->state == T_DOWN) {
        node->failures = 2;
        node->hard_failures = 2;
    }

    /* a server down or stalled keeps the role it last answered */

    if (s->state == T_REPLICA
        || ((s->state == T_DOWN || s->state == T_STALLED) && s->link_up))
    {
        info->role = NGX_STREAM_REDIS_MASTER_ROLE_REPLICA;

    } else {
        info->role = NGX_STREAM_REDIS_MASTER_ROLE_MASTER;
    }

    info->link_up = s->link_up;
    info->master_last_io = s->last_io;
    info->sync_in_progress = s->syncing;
    info->loading = s->loading;
    info->master_repl_offset = s->offset;
    info->slave_repl_offset = s->offset;

    for (p = s->slaves; p && *p && info->nslaves < 8; p++) {
        sl = &info->slaves[info->nslaves++];
        sl->online = (*p != 'x');
        sl->lag = (*p == 'x') ? 0xffff : (uint16_t) (*p - '0');
        sl->port = (in_port_t) (7100 + info->nslaves);
    }

    ngx_cpystrn(info->replid, (u_char *) s->replid,
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);
    ngx_cpystrn(info->replid2, (u_char *) s->replid2,
                NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1);
}


static void
t_run(t_case_t *tc)
{
    char                                 got[T_MAX + 1];
    uintptr_t                            map[1], eligible[1];
    ngx_uint_t                           i, n;
    ngx_stream_redis_master_node_t       nodes[T_MAX], snap[T_MAX];
    ngx_stream_redis_master_node_t       sent[T_MAX];
    ngx_stream_redis_master_target_t     target[T_MAX], *tp[T_MAX];
    ngx_stream_redis_master_target_t    *stp[T_MAX];
    ngx_stream_redis_master_view_t       v;
    ngx_stream_redis_master_decision_t   d;
    ngx_stream_redis_master_srv_conf_t   rmcf;
    ngx_stream_redis_master_sentinel_conf_t  sc;
    u_char                               names[T_MAX][32];

    ngx_memzero(&rmcf, sizeof(rmcf));
    ngx_memzero(&v, sizeof(v));
    ngx_memzero(target, sizeof(target));
    ngx_memzero(map, sizeof(map));

    for (n = 0; n < T_MAX && tc->server[n].replid; n++) {
        t_node(&snap[n], &tc->server[n]);
        nodes[n] = snap[n];

        target[n].node = &nodes[n];
        target[n].name.data = names[n];
        target[n].name.len = ngx_sprintf(names[n], "127.0.0.1:%ui", 7000 + n)
                             - names[n];
        target[n].server = target[n].name;
        tp[n] = &target[n];

        if (tc->server[n].marked_down) {
            map[0] |= (uintptr_t) 1 << n;
        }
    }

    rmcf.balancer = tc->balancer;
    rmcf.split_brain = tc->split_brain;
    rmcf.fallback = NGX_STREAM_REDIS_MASTER_FALLBACK_NONE;
    rmcf.max_lag = 10;
    rmcf.max_lag_bytes = 1000;
    rmcf.min_replicas = tc->min_replicas;
    rmcf.min_replicas_max_lag = tc->min_replicas_max_lag
                                ? tc->min_replicas_max_lag : 1000;
    rmcf.targets.elts = tp;
    rmcf.targets.nelts = n;

    v.conf = &rmcf;
    v.nodes = snap;
    v.sentinels = sent;
    v.down = map;
    v.history.master = NONE;

    if (tc->sentinels) {
        ngx_memzero(&sc, sizeof(sc));
        rmcf.sentinel = &sc;
        rmcf.sentinels.elts = stp;
        rmcf.sentinels.nelts = tc->sentinels;

        for (i = 0; i < (ngx_uint_t) tc->sentinels; i++) {
            ngx_memzero(&sent[i], sizeof(sent[i]));
            stp[i] = NULL;

            if (tc->sentinel[i].unprobed) {
                continue;
            }

            sent[i].probes = 1;
            sent[i].up = 1;
            sent[i].info.role = NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL;
            sent[i].info.master_down = tc->sentinel[i].sees_down;

            if (tc->sentinel[i].names >= 0) {
                ngx_cpystrn(sent[i].info.master_host, (u_char *) "127.0.0.1",
                            NGX_STREAM_REDIS_MASTER_HOST_LEN);
                sent[i].info.master_port =
                                    (in_port_t) (7000 + tc->sentinel[i].names);
            }
        }
    }

    ngx_stream_redis_master_decide(&v,
                                   tc->previous >= 0
                                   ? &nodes[tc->previous] : NULL, &d);

    t_ok(d.master == tc->master, "the master", tc->name);
    t_ok(d.rule == tc->rule, "the rule", tc->name);

    if (d.master != tc->master || d.rule != tc->rule) {
        printf("# got master %ld rule %lu\n", (long) d.master,
               (unsigned long) d.rule);
    }

    ngx_stream_redis_master_usable(&v, d.master, eligible);

    for (i = 0; i < n; i++) {
        got[i] = ngx_stream_redis_master_bit(eligible, i) ? '1' : '0';
    }

    got[n] = '\0';

    t_ok(strcmp(got, tc->eligible) == 0, "the servers it may use", tc->name);

    t_ok(d.suspect == (tc->suspect > 0), "whether the master is suspect",
         tc->name);

    if (strcmp(got, tc->eligible) != 0) {
        printf("# got %s, expected %s\n", got, tc->eligible);
    }

    /* the explainer: nothing against the master, a loser says why */

    if (d.master != NONE) {
        t_ok(ngx_stream_redis_master_explain(&v, &d, d.master)
             == NGX_STREAM_REDIS_MASTER_WHY_OK, "nothing against the master",
             tc->name);
    }

    for (i = 0; i < n; i++) {
        if (tc->lost[i]) {
            t_ok(i != d.master && ngx_stream_redis_master_claimant(&v, i)
                 && ngx_stream_redis_master_explain(&v, &d, i)
                    == tc->lost[i],
                 "why a claimant not chosen is not master", tc->name);
        }
    }
}


/*
 * Replica lag from the master's offset history: the master went 1000 ->
 * 2000 -> 3000, found by probes at 10000, 10500 and 11000 ms.
 */

static void
t_lag(void)
{
    ngx_stream_redis_master_view_t      v;
    ngx_stream_redis_master_node_t      snap[2];
    ngx_stream_redis_master_srv_conf_t  rmcf;

    ngx_memzero(&rmcf, sizeof(rmcf));
    ngx_memzero(&v, sizeof(v));
    ngx_memzero(snap, sizeof(snap));

    v.conf = &rmcf;
    v.nodes = snap;
    rmcf.check.interval = 500;
    v.history.master = 0;
    v.history.n = 3;
    v.history.seen[0].offset = 1000;
    v.history.seen[0].seen = 10000;
    v.history.seen[1].offset = 2000;
    v.history.seen[1].seen = 10500;
    v.history.seen[2].offset = 3000;
    v.history.seen[2].seen = 11000;
    snap[0].info.master_repl_offset = 3000;
    snap[1].checked = 11200;
    v.now = 11300;

    snap[1].info.slave_repl_offset = 3000;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == 0,
         "0 with all the master had", "lag");

    snap[1].info.slave_repl_offset = 2500;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == 200,
         "to its probe from the master's first offset beyond its own",
         "lag");

    snap[1].info.slave_repl_offset = 1500;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == 700,
         "the older the offset, the larger", "lag");

    snap[1].info.slave_repl_offset = 500;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == -1,
         "unknown behind every offset remembered", "lag");

    snap[1].info.slave_repl_offset = 2500;
    v.now = 12000;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == 1000,
         "to now once its probe is overdue", "lag");

    v.now = 11300;
    snap[1].failures = 1;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == 300,
         "to now once its probe failed", "lag");

    snap[1].failures = 0;
    snap[1].checked = 10900;
    snap[1].info.slave_repl_offset = 2500;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == 0,
         "0, not less, when probed before the master", "lag");

    v.history.master = 1;
    t_ok(ngx_stream_redis_master_staleness(&v, 1, 0) == -1,
         "unknown with the history of another master", "lag");
}


/*
 * Whether a probe's news matters: each field a decision reads moves the
 * role version; the master's offset the lag version of a read pool; a
 * replica's own offset, or its probe's time, only its own place in a read
 * pool; a field no decision reads, or a repeat, nothing.
 */

typedef struct {
    const char                        *name;
    void                             (*change)(
                                           ngx_stream_redis_master_node_t *n);
    ngx_uint_t                         min_replicas;
    ngx_uint_t                         matters;
    /* the probed server says master; the upstream is a write pool */
    unsigned                           master:1;
    unsigned                           write:1;
} t_news_t;


static void
t_same(ngx_stream_redis_master_node_t *n)
{
    (void) n;
}


static void
t_down(ngx_stream_redis_master_node_t *n)
{
    n->up = 0;
}


static void
t_stall(ngx_stream_redis_master_node_t *n)
{
    n->stalled = 1;
}


static void
t_fail(ngx_stream_redis_master_node_t *n)
{
    n->failures = 1;
}


static void
t_kick(ngx_stream_redis_master_node_t *n)
{
    n->kick_probed++;
}


static void
t_link(ngx_stream_redis_master_node_t *n)
{
    n->info.link_up = 0;
}


static void
t_sync(ngx_stream_redis_master_node_t *n)
{
    n->info.sync_in_progress = 1;
}


static void
t_load(ngx_stream_redis_master_node_t *n)
{
    n->info.loading = 1;
}


static void
t_role(ngx_stream_redis_master_node_t *n)
{
    n->info.role = NGX_STREAM_REDIS_MASTER_ROLE_MASTER;
}


static void
t_replid(ngx_stream_redis_master_node_t *n)
{
    n->info.replid[0] = 'b';
}


static void
t_replid2(ngx_stream_redis_master_node_t *n)
{
    n->info.replid2[0] = 'b';
}


static void
t_named(ngx_stream_redis_master_node_t *n)
{
    n->info.master_port++;
}


static void
t_seen_down(ngx_stream_redis_master_node_t *n)
{
    n->info.master_down = 1;
}


static void
t_offset(ngx_stream_redis_master_node_t *n)
{
    n->info.slave_repl_offset += 10;
}


static void
t_io(ngx_stream_redis_master_node_t *n)
{
    n->info.master_last_io++;
}


static void
t_again(ngx_stream_redis_master_node_t *n)
{
    n->checked += 1000;
}


static void
t_own_offset(ngx_stream_redis_master_node_t *n)
{
    n->info.master_repl_offset += 10;
}


static void
t_ack_age(ngx_stream_redis_master_node_t *n)
{
    n->info.slaves[0].lag = 1;
}


static void
t_ack_lost(ngx_stream_redis_master_node_t *n)
{
    n->info.slaves[0].lag = 5;
}

static t_news_t  t_news[] = {
    { "a repeated probe", t_same, 0, 0, 0, 0 },
    { "down", t_down, 0, NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "stalled", t_stall, 0, NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "a first failure", t_fail, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "a kick answered", t_kick, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "the link", t_link, 0, NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "a sync", t_sync, 0, NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "loading", t_load, 0, NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "the role", t_role, 0, NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "the replid", t_replid, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "the replid2", t_replid2, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "the master a Sentinel names", t_named, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "a Sentinel sees it down", t_seen_down, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
    { "a replica's offset", t_offset, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_REPLICA, 0, 0 },
    { "a replica's offset, to a write pool", t_offset, 0, 0, 0, 1 },
    { "a replica probed again", t_again, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_REPLICA, 0, 0 },
    { "a replica probed again, to a write pool", t_again, 0, 0, 0, 1 },
    { "the master probed again", t_again, 0, 0, 1, 0 },
    { "a replica's own master_repl_offset", t_own_offset, 0, 0, 0, 0 },
    { "the last I/O", t_io, 0, 0, 0, 0 },
    { "the master's offset", t_own_offset, 0,
      NGX_STREAM_REDIS_MASTER_MATTERS_LAG, 1, 0 },
    { "the master's offset, to a write pool", t_own_offset, 0, 0, 1, 1 },
    { "the master's slave_repl_offset", t_offset, 0, 0, 1, 0 },
    { "an acknowledgement's age within the bounds", t_ack_age, 1, 0, 0, 0 },
    { "an acknowledgement lost, without min_replicas", t_ack_lost, 0, 0,
      0, 0 },
    { "an acknowledgement lost, with min_replicas", t_ack_lost, 1,
      NGX_STREAM_REDIS_MASTER_MATTERS_ROLE, 0, 0 },
};


static void
t_matters(void)
{
    ngx_uint_t                          i, got;
    ngx_stream_redis_master_node_t      before, after;
    ngx_stream_redis_master_srv_conf_t  rmcf;
    t_server_t                          s = { T_REPLICA, A, "", 1, 1, 100,
                                              0, 0, 0, "0" };

    for (i = 0; i < sizeof(t_news) / sizeof(t_news[0]); i++) {
        ngx_memzero(&rmcf, sizeof(rmcf));
        rmcf.min_replicas = t_news[i].min_replicas;
        rmcf.min_replicas_max_lag = 1000;
        rmcf.balancer = t_news[i].write
                        ? NGX_STREAM_REDIS_MASTER_BALANCER_MASTER
                        : NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA;
        s.state = t_news[i].master ? T_MASTER : T_REPLICA;

        t_node(&before, &s);
        after = before;
        t_news[i].change(&after);

        got = ngx_stream_redis_master_matters(&rmcf, &before, &after);

        t_ok(got == t_news[i].matters, t_news[i].name, "matters");
    }
}


/* the explainer: why a server does not take writes or serve reads */

static void
t_why(void)
{
    ngx_uint_t                          i;
    uintptr_t                           down[1];
    ngx_stream_redis_master_view_t      v;
    ngx_stream_redis_master_node_t      snap[3];
    ngx_stream_redis_master_target_t    target[3], *tp[3];
    ngx_stream_redis_master_node_t      nodes[3];
    ngx_stream_redis_master_srv_conf_t  rmcf;
    t_server_t                          m = { T_MASTER, A, "", 0, -1, 100,
                                              0, 0, 0, NULL };
    t_server_t                          r = { T_REPLICA, A, "", 1, 1, 100,
                                              0, 0, 0, NULL };

    ngx_memzero(&rmcf, sizeof(rmcf));
    ngx_memzero(&v, sizeof(v));
    ngx_memzero(target, sizeof(target));
    down[0] = 0;

    for (i = 0; i < 3; i++) {
        t_node(&snap[i], i ? &r : &m);
        target[i].node = &nodes[i];
        tp[i] = &target[i];
    }

    rmcf.balancer = R;
    rmcf.max_lag = 10;
    rmcf.max_lag_bytes = NGX_CONF_UNSET;
    rmcf.targets.elts = tp;
    rmcf.targets.nelts = 3;
    v.conf = &rmcf;
    v.nodes = snap;
    v.down = down;
    v.history.master = NONE;

    t_ok(ngx_stream_redis_master_why_not(&v, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_OK, "the master takes writes", "why");
    t_ok(ngx_stream_redis_master_why_not(&v, 1)
         == NGX_STREAM_REDIS_MASTER_WHY_NOT_MASTER,
         "a replica does not say master", "why");
    t_ok(ngx_stream_redis_master_follows(&v, 1, 0)
         && !ngx_stream_redis_master_follows(&v, 0, 1),
         "the replica follows the master, not the other way", "why");
    t_ok(ngx_stream_redis_master_why_unqualified(&v, 1, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_OK, "the replica qualifies", "why");

    snap[1].info.sync_in_progress = 1;
    t_ok(ngx_stream_redis_master_why_unqualified(&v, 1, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_SYNCING, "syncing", "why");

    snap[2].info.link_up = 0;
    t_ok(ngx_stream_redis_master_why_unqualified(&v, 2, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_UNLINKED, "unlinked", "why");

    snap[2].info.link_up = 1;
    snap[2].up = 0;
    t_ok(ngx_stream_redis_master_why_unqualified(&v, 2, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_NOT_UP, "not up", "why");

    snap[2].up = 1;
    snap[2].info.replid[0] = 'c';
    t_ok(ngx_stream_redis_master_why_unqualified(&v, 2, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_OTHER_LINEAGE, "another history",
         "why");

    snap[2].info.replid[0] = 'a';
    snap[2].info.slave_repl_offset = 50;
    t_ok(ngx_stream_redis_master_why_unqualified(&v, 2, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_LAG_UNKNOWN,
         "behind every offset remembered", "why");

    t_ok(ngx_stream_redis_master_why_unqualified(&v, 2, NONE)
         == NGX_STREAM_REDIS_MASTER_WHY_NO_MASTER, "no master", "why");

    down[0] = 1;
    t_ok(ngx_stream_redis_master_why_not(&v, 0)
         == NGX_STREAM_REDIS_MASTER_WHY_MARKED_DOWN, "marked down", "why");
    t_ok(strcmp(ngx_stream_redis_master_why_text(
                    NGX_STREAM_REDIS_MASTER_WHY_MARKED_DOWN),
                "is marked down") == 0, "in the words of the log", "why");

    /* a held connection's way back: a probe since its kick, no failure */

    snap[0].kick_probed = 5;
    t_ok(ngx_stream_redis_master_answered_since(&snap[0], 5)
         && !ngx_stream_redis_master_answered_since(&snap[0], 6),
         "answered a probe started at or after the kick", "why");

    snap[0].failures = 1;
    t_ok(!ngx_stream_redis_master_answered_since(&snap[0], 5),
         "not once it failed since", "why");

    /* a node no worker refreshed lately is down and says nothing */

    snap[1].fresh = 100;
    snap[1].checked = 1000;
    ngx_stream_redis_master_forget_stale(&snap[1], 1100);
    t_ok(snap[1].up, "a node checked within its freshness stays", "why");
    ngx_stream_redis_master_forget_stale(&snap[1], 1101);
    t_ok(!snap[1].up
         && snap[1].info.role == NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN
         && snap[1].reason_len == sizeof("no recent check") - 1,
         "a stale node counts as down, and says why", "why");
}


/*
 * Servers a redis_server name brought: a node counts only at its seat's
 * current address; a Sentinel names a seat by the seat's address (and by
 * the name only when the name has one seat); min_replicas=majority counts
 * the servers that have an address.
 */

static void
t_seats(void)
{
    ngx_uint_t                           i;
    ngx_stream_redis_master_view_t       v;
    ngx_stream_redis_master_node_t       nodes[3], sent[1];
    ngx_stream_redis_master_seat_t       seats[3];
    ngx_stream_redis_master_target_t     target[3], name, *tp[3], *one;
    ngx_stream_redis_master_srv_conf_t   conf;
    struct sockaddr_in                  *sin;

    ngx_memzero(&v, sizeof(v));
    ngx_memzero(&conf, sizeof(conf));
    ngx_memzero(nodes, sizeof(nodes));
    ngx_memzero(seats, sizeof(seats));
    ngx_memzero(target, sizeof(target));
    ngx_memzero(&name, sizeof(name));
    ngx_memzero(sent, sizeof(sent));

    one = &target[0];
    name.seats.elts = &one;
    name.seats.nelts = 2;

    for (i = 0; i < 3; i++) {
        tp[i] = &target[i];
        target[i].node = &nodes[i];
        target[i].of = (i < 2) ? &name : NULL;
        ngx_str_set(&target[i].server, "redis.test:6379");
        ngx_str_set(&target[i].name, "redis.test:6379");
        nodes[i].probes = 1;
        nodes[i].up = 1;
        nodes[i].info.role = NGX_STREAM_REDIS_MASTER_ROLE_MASTER;
    }

    ngx_str_set(&target[2].server, "127.0.0.9:6379");
    ngx_str_set(&target[2].name, "127.0.0.9:6379");

    conf.targets.elts = tp;
    conf.targets.nelts = 3;
    v.conf = &conf;
    v.nodes = nodes;
    v.sentinels = sent;
    v.seats = seats;

    /* seat 0 at 127.0.0.5 (epoch 3), probed there; seat 1 empty */

    sin = &seats[0].addr.sockaddr_in;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(6379);
    sin->sin_addr.s_addr = htonl(0x7f000005);
    seats[0].socklen = sizeof(struct sockaddr_in);
    seats[0].epoch = 3;
    nodes[0].epoch = 3;
    seats[1].epoch = 2;
    nodes[1].epoch = 1;

    ngx_stream_redis_master_forget_unseated(&nodes[0], &seats[0]);
    t_ok(nodes[0].up && nodes[0].info.role
                        == NGX_STREAM_REDIS_MASTER_ROLE_MASTER,
         "a seat's server probed at its address counts", "seats");

    ngx_stream_redis_master_forget_unseated(&nodes[1], &seats[1]);
    t_ok(!nodes[1].up && nodes[1].probes == 1
         && nodes[1].info.role == NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN
         && nodes[1].reason_len == sizeof("not resolved") - 1,
         "a seat without an address is down, holds nothing back, says why",
         "seats");

    nodes[2] = nodes[0];
    seats[0].epoch = 4;
    ngx_stream_redis_master_forget_unseated(&nodes[2], &seats[0]);
    t_ok(!nodes[2].up && nodes[2].probes == 0
         && nodes[2].info.role == NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN,
         "a seat that moved: nothing judged at the old address counts",
         "seats");
    seats[0].epoch = 3;

    /* a Sentinel that names 127.0.0.5:6379 names seat 0 */

    sent[0].up = 1;
    sent[0].info.master_port = 6379;
    ngx_cpystrn(sent[0].info.master_host, (u_char *) "127.0.0.5",
                NGX_STREAM_REDIS_MASTER_HOST_LEN);

    t_ok(ngx_stream_redis_master_names(&v, 0, &sent[0])
         && !ngx_stream_redis_master_names(&v, 1, &sent[0])
         && !ngx_stream_redis_master_names(&v, 2, &sent[0]),
         "a Sentinel names a seat by the seat's address", "seats");

    ngx_cpystrn(sent[0].info.master_host, (u_char *) "redis.test",
                NGX_STREAM_REDIS_MASTER_HOST_LEN);

    t_ok(!ngx_stream_redis_master_names(&v, 0, &sent[0]),
         "a name of two seats names neither", "seats");

    name.seats.nelts = 1;
    t_ok(ngx_stream_redis_master_names(&v, 0, &sent[0])
         && !ngx_stream_redis_master_names(&v, 1, &sent[0]),
         "a name of one seat names the seat that has an address", "seats");

    /* majority: two servers have an address, of three configured */

    conf.min_replicas = NGX_STREAM_REDIS_MASTER_MAJORITY;
    t_ok(ngx_stream_redis_master_min_replicas(&v) == 1,
         "min_replicas=majority counts the servers that have an address",
         "seats");
    conf.min_replicas = 2;
    t_ok(ngx_stream_redis_master_min_replicas(&v) == 2,
         "a number of min_replicas is that number", "seats");
}


int
main(void)
{
    ngx_uint_t  i;

    for (i = 0; i < sizeof(t_cases) / sizeof(t_cases[0]); i++) {
        t_run(&t_cases[i]);
    }

    t_lag();
    t_matters();
    t_why();
    t_seats();

    printf("1..%u\n", (unsigned) t_number);
    printf("%u passed, %u failed\n", (unsigned) (t_number - t_failed),
           (unsigned) t_failed);

    return t_failed ? 1 : 0;
}
