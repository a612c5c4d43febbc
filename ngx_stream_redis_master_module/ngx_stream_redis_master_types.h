
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The module's types, shared by every layer (see docs/architecture.md);
 * each layer's functions are in a header of its own.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_TYPES_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_TYPES_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>
#include <ngx_stream.h>


#define NGX_STREAM_REDIS_MASTER_BALANCER_NONE     0
#define NGX_STREAM_REDIS_MASTER_BALANCER_MASTER   1
#define NGX_STREAM_REDIS_MASTER_BALANCER_REPLICA  2

#define NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN      0
#define NGX_STREAM_REDIS_MASTER_ROLE_MASTER       1
#define NGX_STREAM_REDIS_MASTER_ROLE_REPLICA      2
#define NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL     3

#define NGX_STREAM_REDIS_MASTER_KIND_REDIS        0
#define NGX_STREAM_REDIS_MASTER_KIND_SENTINEL     1
/* a redis_server name: resolved, not probed; its addresses are its seats */
#define NGX_STREAM_REDIS_MASTER_KIND_NAME         2

#define NGX_STREAM_REDIS_MASTER_SPLIT_REFUSE      0
#define NGX_STREAM_REDIS_MASTER_SPLIT_LINEAGE     1

/* why the Sentinels let a server take writes */
#define NGX_STREAM_REDIS_MASTER_QUORUM_NONE       0
#define NGX_STREAM_REDIS_MASTER_QUORUM_NAMED      1
#define NGX_STREAM_REDIS_MASTER_QUORUM_PROMOTED   2

/* what an upstream counts, for the status page (ngx_atomic_fetch_add) */
#define NGX_STREAM_REDIS_MASTER_COUNT_FAILOVERS   0
#define NGX_STREAM_REDIS_MASTER_COUNT_CLOSED      1
#define NGX_STREAM_REDIS_MASTER_COUNT_HELD        2
#define NGX_STREAM_REDIS_MASTER_COUNT_RELEASED    3
#define NGX_STREAM_REDIS_MASTER_COUNT_TIMED_OUT   4
#define NGX_STREAM_REDIS_MASTER_COUNT_LEFT        5
#define NGX_STREAM_REDIS_MASTER_COUNT_REFUSED     6
#define NGX_STREAM_REDIS_MASTER_COUNT_FALLBACKS   7
#define NGX_STREAM_REDIS_MASTER_NCOUNTERS         8

/* how the balancer placed a session ($redis_master_decision) */
#define NGX_STREAM_REDIS_MASTER_PLACED_NONE       0
#define NGX_STREAM_REDIS_MASTER_PLACED_MASTER     1
#define NGX_STREAM_REDIS_MASTER_PLACED_REPLICA    2
#define NGX_STREAM_REDIS_MASTER_PLACED_FALLBACK   3
#define NGX_STREAM_REDIS_MASTER_PLACED_HELD       4
#define NGX_STREAM_REDIS_MASTER_PLACED_REFUSED    5

/* the rule that chose an upstream's master, or its want of one */
#define NGX_STREAM_REDIS_MASTER_RULE_UNPROBED     0
#define NGX_STREAM_REDIS_MASTER_RULE_KEPT         1
#define NGX_STREAM_REDIS_MASTER_RULE_NONE         2
#define NGX_STREAM_REDIS_MASTER_RULE_SOLE         3
#define NGX_STREAM_REDIS_MASTER_RULE_FOLLOWERS    4
#define NGX_STREAM_REDIS_MASTER_RULE_ORDER        5
#define NGX_STREAM_REDIS_MASTER_RULE_TIE          6

#define NGX_STREAM_REDIS_MASTER_FALLBACK_MASTER   0
#define NGX_STREAM_REDIS_MASTER_FALLBACK_NONE     1

/* "no master": an index no upstream server can have */
#define NGX_STREAM_REDIS_MASTER_NONE              ((ngx_uint_t) -1)

#define NGX_STREAM_REDIS_MASTER_REPLID_LEN        40
/* sized so that a server's node and key fit a 1024-byte slab chunk */
#define NGX_STREAM_REDIS_MASTER_HOST_LEN          96
#define NGX_STREAM_REDIS_MASTER_REASON_LEN        128

/* what the zone keeps of it: a node and its key fit in 512 bytes */
#define NGX_STREAM_REDIS_MASTER_KEPT_REASON_LEN   80

/*
 * One probe exchange (all pipelined replies together) may not exceed this:
 * INFO replication with a hundred replicas is about 10K, so anything near
 * the limit is a hostile or broken peer, not Redis.
 */
#define NGX_STREAM_REDIS_MASTER_MAX_REPLY         (256 * 1024)
#define NGX_STREAM_REDIS_MASTER_MAX_ELEMENTS      1024

/* how often each worker compares routing with the latest checks */
#define NGX_STREAM_REDIS_MASTER_SWEEP             50

/* a decision is made again at least this often (state that goes stale) */
#define NGX_STREAM_REDIS_MASTER_RECHECK           1000

/* how long after its start the first worker watches every sweep */
#define NGX_STREAM_REDIS_MASTER_TAKEOVER          5000

/*
 * How long a worker forked for a configuration that nginx has since
 * replaced counts as running before it says it started (seconds)
 */
#define NGX_STREAM_REDIS_MASTER_STARTING          60

/* a worker that probes and proxies nothing sweeps at most this often */
#define NGX_STREAM_REDIS_MASTER_WATCH             1000

/* the widest slot that probes falling due together share (interval / 20) */
#define NGX_STREAM_REDIS_MASTER_SLOT              50

/* the master's offsets a read upstream remembers, to measure replica lag */
#define NGX_STREAM_REDIS_MASTER_HISTORY           32

/* the fastest probing while no master is known (interval / 10) */
#define NGX_STREAM_REDIS_MASTER_MIN_FAST          50


/*
 * The replicas a master's INFO lists ("slaveN:" lines) that are kept: the
 * ones with the freshest acknowledgements, so that "N of them acknowledged
 * within TIME" is exact for any N up to this many.
 */
#define NGX_STREAM_REDIS_MASTER_SLAVES            8

/*
 * The addresses of one answer that a redis_server name's resolution looks
 * at: more than any bound (max_servers), so that what the bound cuts is
 * counted
 */
#define NGX_STREAM_REDIS_MASTER_MAX_ANSWER        256

/* the most servers one redis_server name may bring (max_servers=) */
#define NGX_STREAM_REDIS_MASTER_MAX_SERVERS       64

/*
 * The servers of one Sentinel's report that the zone keeps (discover=):
 * its master and as many replicas as the largest bound can seat
 */
#define NGX_STREAM_REDIS_MASTER_MAX_REPORT                                    \
    (NGX_STREAM_REDIS_MASTER_MAX_SERVERS + 1)

/* min_replicas=majority: resolved against the upstream's server count */
#define NGX_STREAM_REDIS_MASTER_MAJORITY          ((ngx_uint_t) -2)


/*
 * One "slaveN:" line of a master's INFO replication, compactly: its port,
 * whether it is online, and the seconds since its last REPLCONF ACK as the
 * master counts them.  The offset is not kept: the ACK's age is what
 * min_replicas_max_lag reads.
 */
typedef struct ngx_stream_redis_master_main_conf_s
    ngx_stream_redis_master_main_conf_t;


typedef struct {
    in_port_t                          port;
    uint16_t                           lag;
    u_char                             online;
} ngx_stream_redis_master_slave_t;


/* what one successful probe tells about a server */
typedef struct {
    ngx_uint_t                         role;
    ngx_int_t                          master_last_io;
    off_t                              master_repl_offset;
    off_t                              slave_repl_offset;
    in_port_t                          master_port;
    /* the kept "slaveN:" lines (a master's own view of its replicas) */
    ngx_uint_t                         nslaves;
    ngx_stream_redis_master_slave_t    slaves[
                                           NGX_STREAM_REDIS_MASTER_SLAVES];
    unsigned                           link_up:1;
    unsigned                           sync_in_progress:1;
    unsigned                           loading:1;
    unsigned                           master_down:1;
    u_char                             master_host[
                                           NGX_STREAM_REDIS_MASTER_HOST_LEN];
    u_char                             replid[
                                       NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1];
    u_char                             replid2[
                                       NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1];
} ngx_stream_redis_master_info_t;


/* the shared state of one probe target, in the shared zone */
typedef struct {
    ngx_queue_t                        queue;
    ngx_str_t                          key;
    ngx_msec_t                         owner_seen;
    ngx_msec_t                         checked;
    ngx_msec_t                         failure_logged;
    ngx_uint_t                         kick;
    ngx_uint_t                         kick_probed;
    uint32_t                           probes;
    uint32_t                           successes;
    uint32_t                           failures;
    uint32_t                           hard_failures;
    ngx_pid_t                          owner;
    unsigned                           up:1;
    unsigned                           stalled:1;
    /* for the status page: the last probe's duration in ms */
    unsigned                           latency:30;
    /* what nobody refreshes for this long (ms) stops counting */
    uint32_t                           fresh;
    /* for the status page: when the server last reported a new role */
    uint32_t                           role_changed;
    ngx_stream_redis_master_info_t     info;
    uint32_t                           reason_len;
    /* the newest generation whose configuration has the target */
    uint32_t                           used;
    /*
     * A server a name brought (a seat): the seat's epoch the last probe
     * was made at; the node counts only while the seat still has it
     */
    uint32_t                           epoch;
    u_char                             reason[
                                       NGX_STREAM_REDIS_MASTER_KEPT_REASON_LEN];
} ngx_stream_redis_master_node_t;


/* an address a name resolved to, as the zone keeps it */
typedef union {
    struct sockaddr                    sockaddr;
    struct sockaddr_in                 sockaddr_in;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6                sockaddr_in6;
#endif
} ngx_stream_redis_master_inet_t;


/*
 * One seat of a redis_server name: a server the name may bring, and the
 * address it has (socklen 0: none).  "epoch" is raised each time the seat
 * gets another address or loses it, so that nothing judged at an earlier
 * address counts (the node's "epoch" says which address it was probed at).
 */
typedef struct {
    uint32_t                           epoch;
    uint32_t                           socklen;
    ngx_msec_t                         since;
    /* when an answer last had the address (the grace of discover=) */
    ngx_msec_t                         seen;
    ngx_stream_redis_master_inet_t     addr;
} ngx_stream_redis_master_seat_t;


/*
 * What the zone keeps of a redis_server name, after its node's key: its
 * resolutions, the addresses of its last answer that no seat took (the
 * bound), and the seats, written by the name's owner alone (its node's
 * "reason" is the last resolution's error, "checked" its time).
 */
typedef struct {
    uint32_t                           resolutions;
    uint32_t                           failures;
    uint32_t                           answered;
    uint32_t                           cut;
    ngx_msec_t                         resolved;
    ngx_msec_t                         failed;
    ngx_uint_t                         nseats;
    ngx_stream_redis_master_seat_t     seats[1];
} ngx_stream_redis_master_name_t;


/* one server a Sentinel reports (discover=), by its address */
typedef struct {
    uint32_t                           socklen;
    ngx_stream_redis_master_inet_t     addr;
} ngx_stream_redis_master_reported_t;


/*
 * What a Sentinel last reported of the servers of its master (discover=):
 * the master (get-master-addr-by-name) first, then the replicas
 * (SENTINEL replicas) that it does not flag down, each address once.
 * Kept after the Sentinel node's key, written by its prober alone;
 * "reported" is the time of that probe (0: none yet).  "listed" counts
 * every server of the reply, "skipped" those not kept: flagged down,
 * named by a host name (not followed: "hostnames" counts them), listed
 * twice, or over the bound.
 */
typedef struct {
    ngx_msec_t                         reported;
    uint32_t                           listed;
    uint32_t                           skipped;
    uint32_t                           hostnames;
    uint32_t                           naddrs;
    ngx_stream_redis_master_reported_t  addrs[
                                           NGX_STREAM_REDIS_MASTER_MAX_REPORT];
} ngx_stream_redis_master_report_t;


/* a master_repl_offset of the master, and when its probe found it */
typedef struct {
    off_t                              offset;
    ngx_msec_t                         seen;
} ngx_stream_redis_master_seen_t;


/*
 * An upstream's decision as the worker that made it published it: the
 * master (a server index of configuration "conf") and the servers the
 * upstream may use; how it was chosen is announced in the route.  It was
 * made from the route's "version", at "decided"; "generation" is raised
 * each time it changes.  The block only grows ("words" of map), so that
 * it outlives reloads.
 */
typedef struct {
    ngx_uint_t                         conf;
    ngx_uint_t                         version;
    ngx_msec_t                         decided;
    ngx_uint_t                         generation;
    ngx_uint_t                         master;
    size_t                             words;
    uintptr_t                          map[1];
} ngx_stream_redis_master_published_t;


/*
 * The shared routing record of one upstream: what was last announced, and
 * two versions that a probe raises when it records something its decision
 * depends on: a role, a replication id, up or down...; or only a lag.  A
 * worker decides again only when they have moved.
 */
typedef struct {
    ngx_queue_t                        queue;
    ngx_str_t                          name;
    /* the newest generation whose configuration has the upstream */
    ngx_uint_t                         used;
    ngx_stream_redis_master_node_t    *master;
    /* a seat's master: the seat's epoch it was announced at */
    uint32_t                           master_epoch;
    ngx_uint_t                         claimants;
    ngx_atomic_t                       role_version;
    ngx_atomic_t                       lag_version;
    ngx_stream_redis_master_published_t  *published;

    /*
     * A read upstream's master ("history_node"): its master_repl_offset
     * each time a decision found it grown, in ascending order, with the
     * time of the probe that found it (see ngx_stream_redis_master_staleness())
     */
    ngx_stream_redis_master_node_t    *history_node;
    uint32_t                           history_epoch;
    ngx_uint_t                         nhistory;
    ngx_stream_redis_master_seen_t     history[
                                       NGX_STREAM_REDIS_MASTER_HISTORY];

    unsigned                           announced:1;
    /* the master is at the margin of min_replicas: probe faster */
    unsigned                           suspect:1;
    unsigned                           fallback:1;

    /* for the status page: the rule last announced, the last master */
    unsigned                           rule:4;
    ngx_stream_redis_master_node_t    *previous;
    ngx_atomic_t                       counters[
                                           NGX_STREAM_REDIS_MASTER_NCOUNTERS];
} ngx_stream_redis_master_route_t;


/*
 * A worker as the zone knows it: its pid (0 until it starts, -1 once it
 * has exited), and the oldest generation whose entries it may still read.
 */
typedef struct {
    ngx_pid_t                          pid;
    uint32_t                           oldest;
} ngx_stream_redis_master_worker_t;


/*
 * The workers of one configuration (a generation): made by the master as
 * it sets the zone up, filled in by each worker as it starts and exits.
 */
typedef struct {
    ngx_queue_t                        queue;
    ngx_uint_t                         conf;
    time_t                             created;
    ngx_uint_t                         nworkers;
    ngx_stream_redis_master_worker_t   workers[1];
} ngx_stream_redis_master_generation_t;


typedef struct {
    ngx_queue_t                        nodes;
    ngx_queue_t                        routes;
    ngx_queue_t                        generations;

    /* raised with any target's kick: no worker scans while it stays */
    ngx_atomic_t                       kicks;

    /* raised by each configuration that sets the zone up: its generation */
    ngx_uint_t                         confs;

    /* the generation nginx runs (the last one committed) */
    ngx_uint_t                         current;

    /* every entry of a generation older than this was given back */
    ngx_uint_t                         horizon;
} ngx_stream_redis_master_shctx_t;


/*
 * TLS to the servers or to the Sentinels of an upstream, as the
 * redis_ssl_* or redis_sentinel_ssl_* directives set it; kept in the
 * configuration, never in the zone.
 */
typedef struct {
    ngx_flag_t                         enable;
    ngx_flag_t                         session_reuse;
    ngx_flag_t                         server_name;
    ngx_flag_t                         verify;
    ngx_uint_t                         verify_depth;
    ngx_uint_t                         protocols;
    ngx_str_t                          ciphers;
    ngx_str_t                          name;
    ngx_str_t                          trusted_certificate;
    ngx_str_t                          certificate;
    ngx_str_t                          certificate_key;
#if (NGX_STREAM_SSL)
    ngx_ssl_t                         *ssl;
#endif
} ngx_stream_redis_master_ssl_conf_t;


typedef struct {
    ngx_msec_t                         interval;
    ngx_msec_t                         timeout;
    ngx_uint_t                         rise;
    ngx_uint_t                         fall;
    in_port_t                          port;
    ngx_str_t                          username;
    ngx_str_t                          password;

    /* NULL: plain TCP */
    ngx_stream_redis_master_ssl_conf_t  *ssl;
} ngx_stream_redis_master_check_conf_t;


typedef struct ngx_stream_redis_master_checker_s
    ngx_stream_redis_master_checker_t;
typedef struct ngx_stream_redis_master_cache_s
    ngx_stream_redis_master_cache_t;
typedef struct ngx_stream_redis_master_subscriber_s
    ngx_stream_redis_master_subscriber_t;


/*
 * A probe target: one address checked with one set of settings.  Every
 * upstream server entry with the same address and settings shares it, so
 * a server listed in a read-write and a read-only upstream is probed once.
 */
typedef struct ngx_stream_redis_master_target_s
    ngx_stream_redis_master_target_t;

struct ngx_stream_redis_master_target_s {
    ngx_uint_t                         kind;
    ngx_str_t                          name;
    ngx_str_t                          server;
    struct sockaddr                   *sockaddr;
    socklen_t                          socklen;
    ngx_str_t                          key;
    ngx_str_t                          upstreams;
    ngx_str_t                          master_name;
    ngx_stream_redis_master_check_conf_t  *check;
    ngx_array_t                        pools;

    /*
     * The server's index in each of those upstreams' servers, one for
     * each of "pools" (NGX_STREAM_REDIS_MASTER_NONE for a Sentinel), so
     * that a decision can judge it alone
     */
    ngx_array_t                        indexes;
    ngx_stream_redis_master_node_t    *node;

    /* the zone's pool, which node is in (set with it) */
    ngx_slab_pool_t                   *shpool;

    /* the name its certificate must bear, and sent as SNI */
    ngx_str_t                          ssl_name;

    /*
     * A Sentinel named by a host name, with a resolver: the name is
     * resolved again before each probe (the resolver caches it for its
     * TTL or valid=), and sockaddr is NULL until it first resolves.
     */
    ngx_str_t                          host;
    in_port_t                          port;
    ngx_resolver_t                    *resolver;
    ngx_msec_t                         resolver_timeout;

    /*
     * A server a redis_server name brings (kind REDIS): the name's target
     * ("of") and which of its seats it is.  A name (kind NAME): its record
     * in the zone (set with node), and its seats' targets, in seat order.
     */
    ngx_stream_redis_master_target_t  *of;
    ngx_uint_t                         seat;
    ngx_stream_redis_master_name_t    *zname;
    ngx_array_t                        seats;

    /*
     * discover= of redis_sentinel.  A Sentinel (kind SENTINEL): it is
     * asked for its replicas too, and its report is kept in the zone
     * after its node's key ("zreport", set with node).  A name (kind
     * NAME) whose seats the Sentinels fill, not DNS: the Sentinels whose
     * reports it reads (every upstream that shares it lists the same),
     * and how long a seat keeps an address no majority reports any more.
     */
    ngx_uint_t                         discover;
    ngx_stream_redis_master_report_t  *zreport;
    ngx_array_t                       *sentinels;
    ngx_msec_t                         grace;

    /* worker-local */
    ngx_stream_redis_master_checker_t *checker;
    ngx_stream_redis_master_subscriber_t  *subscriber;

    /* the TLS session the next link resumes (an ngx_ssl_session_t) */
    void                              *ssl_session;
};


/* a server of an upstream and the list (primary or backup) that has it */
typedef struct {
    ngx_stream_upstream_rr_peer_t     *peer;
    ngx_stream_upstream_rr_peers_t    *peers;
} ngx_stream_redis_master_peer_ref_t;


/*
 * A redis_server of an upstream: the name as written, and the flat
 * server indexes of its seats (consecutive, from "first"); the address
 * each seat's server has in nginx's peers is a placeholder ("addrs"),
 * never connected to: a connection goes to the seat's address.
 */
typedef struct {
    ngx_str_t                          server;
    /* what its zone keys name: the server, or the Sentinels' (discover=) */
    ngx_str_t                          id;
    ngx_str_t                          host;
    in_port_t                          port;
    ngx_uint_t                         max;
    ngx_uint_t                         first;
    ngx_addr_t                        *addrs;
    ngx_stream_redis_master_target_t  *target;

    /*
     * redis_sentinel discover=: the servers the Sentinels report
     * ("sentinel:NAME", no host nor port), and how long a seat keeps an
     * address no majority of them reports any more (NGX_CONF_UNSET_MSEC:
     * three intervals)
     */
    ngx_uint_t                         discover;
    ngx_msec_t                         grace;
} ngx_stream_redis_master_name_conf_t;


/* the Sentinels of an upstream, as redis_sentinel names them */
typedef struct {
    ngx_str_t                          name;
    ngx_stream_redis_master_check_conf_t  check;
    ngx_array_t                        addrs;
    /* discover=: the servers they report, as this many seats (0: off) */
    ngx_uint_t                         discover;
} ngx_stream_redis_master_sentinel_conf_t;


typedef struct {
    ngx_uint_t                         balancer;
    ngx_stream_redis_master_check_conf_t  check;
    ngx_stream_redis_master_ssl_conf_t    ssl;
    ngx_stream_redis_master_ssl_conf_t    sentinel_ssl;
    ngx_uint_t                         split_brain;
    ngx_uint_t                         min_replicas;
    ngx_msec_t                         min_replicas_max_lag;
    ngx_msec_t                         max_lag;
    off_t                              max_lag_bytes;
    ngx_uint_t                         fallback;
    ngx_msec_t                         wait;
    ngx_uint_t                         wait_queue;
    ngx_stream_redis_master_sentinel_conf_t  *sentinel;
    ngx_stream_upstream_srv_conf_t    *upstream;
    ngx_str_t                         *name;

    /* flat server index (primary, then backup) -> target */
    ngx_array_t                        targets;
    ngx_array_t                        sentinels;
    /* redis_server (ngx_stream_redis_master_name_conf_t), or NULL */
    ngx_array_t                       *names;
    ngx_stream_redis_master_route_t   *route;

    /* the zone's pool, which route is in (set with it) */
    ngx_slab_pool_t                   *shpool;

    /* the module's configuration that has this upstream (set with it) */
    ngx_stream_redis_master_main_conf_t  *main;

    /* the configuration's generation, which its published decisions bear */
    ngx_uint_t                         conf;

    /* worker-local */
    /* flat server index -> its peer, so that a connection finds it at once */
    ngx_stream_redis_master_peer_ref_t  *peer_refs;
    ngx_uint_t                         npeer_refs;
    ngx_queue_t                        sessions;
    ngx_queue_t                        held;
    ngx_uint_t                         nheld;
    /* the servers the balancer last closed sessions by */
    uintptr_t                         *eligible;
    /* the cache's refreshes when the balancer last compared it with them */
    ngx_uint_t                         rerouted;

    /*
     * worker-local: the upstream's decision, owned by decision.c, which
     * alone knows its fields (decision.h's accessors read them)
     */
    ngx_stream_redis_master_cache_t   *cache;

} ngx_stream_redis_master_srv_conf_t;


struct ngx_stream_redis_master_main_conf_s {
    ngx_array_t                        upstreams;
    ngx_array_t                        targets;
    ngx_shm_zone_t                    *shm_zone;
    ngx_slab_pool_t                   *shpool;
    ngx_stream_redis_master_shctx_t   *sh;

    /* this configuration's serial number in the zone: its generation */
    ngx_uint_t                         conf;
    ngx_stream_redis_master_generation_t  *generation;

    /* for the number of workers (worker_processes) */
    ngx_core_conf_t                   *core;

    /* what this configuration added to a zone it took over */
    ngx_array_t                        created;
    unsigned                           reused:1;
    unsigned                           committed:1;

    /* worker-local */
    ngx_event_t                        sweep;
    ngx_msec_t                         started;
    ngx_msec_t                         watch;
    ngx_msec_t                         watched;
    ngx_uint_t                         probing;

    /* worker-local: posted by kick() (state), the checker's: kicks now */
    ngx_event_t                        kicked;

    /*
     * worker-local: posted as a session or a held connection begins
     * (peer.c), the sweep's: it sweeps within NGX_STREAM_REDIS_MASTER_SWEEP
     */
    ngx_event_t                        tracked;
};


/* what the policy decides for one upstream */
typedef struct {
    ngx_uint_t                         master;
    ngx_uint_t                         claimants;
    ngx_uint_t                         rule;
    /* the master keeps min_replicas only while no further replica is lost */
    unsigned                           suspect:1;
} ngx_stream_redis_master_decision_t;


/*
 * The master's offsets that measure a read upstream's replica lag, in
 * ascending order, each with the time of the probe that found it: of the
 * zone's node "node", server "master" of the upstream (see
 * ngx_stream_redis_master_staleness())
 */
typedef struct {
    ngx_stream_redis_master_node_t    *node;
    uint32_t                           epoch;
    ngx_uint_t                         master;
    ngx_uint_t                         n;
    ngx_stream_redis_master_seen_t     seen[NGX_STREAM_REDIS_MASTER_HISTORY];
} ngx_stream_redis_master_history_t;


/*
 * What one decision of an upstream is made from: its settings (read only),
 * a consistent copy of its servers' and Sentinels' nodes, the servers
 * marked "down", the master's offset history, and the time it is made.
 * The policy's judgments of a decision read nothing else; the rest of it
 * asks of one node (its staleness, a held connection's way back) or of
 * one probe's two nodes and the settings (matters()).
 */
typedef struct {
    ngx_stream_redis_master_srv_conf_t  *conf;
    ngx_stream_redis_master_node_t    *nodes;
    ngx_stream_redis_master_node_t    *sentinels;
    /*
     * the seat of each server a name brought, by server index (NULL when
     * the upstream has no redis_server); its node was copied as current
     * at this seat's address, or as down (not resolved, or not yet probed
     * there)
     */
    ngx_stream_redis_master_seat_t    *seats;
    uintptr_t                         *down;
    ngx_msec_t                         now;
    ngx_stream_redis_master_history_t  history;
} ngx_stream_redis_master_view_t;


/* a proxied (or held) session, as the balancer tracks it */
typedef struct {
    /* the round-robin data comes first, as in nginx's own balancers */
    ngx_stream_upstream_rr_peer_data_t   rrp;

    ngx_stream_redis_master_srv_conf_t  *conf;
    ngx_stream_session_t                *session;
    ngx_stream_upstream_rr_peers_t      *peers;
    ngx_stream_upstream_rr_peer_t       *peer;
    ngx_uint_t                           index;
    uintptr_t                           *tried;
    ngx_queue_t                          queue;
    ngx_msec_t                           deadline;
    ngx_uint_t                           kick;

    /* for the stream variables: how the session was placed */
    ngx_uint_t                           placed;
    ngx_uint_t                           role;
    ngx_uint_t                           first_master;
    ngx_msec_t                           wait_time;

    /*
     * A server a redis_server name brought: the address connected to, as
     * the seat had it (its epoch), and its text for $upstream_addr
     */
    ngx_stream_redis_master_inet_t       sockaddr;
    uint32_t                             epoch;
    ngx_str_t                            name;
    u_char                               text[NGX_SOCKADDR_STRLEN];

    unsigned                             seated:1;
    unsigned                             seen:1;
    unsigned                             linked:1;
    unsigned                             held:1;
    unsigned                             waited:1;
    unsigned                             failed:1;
} ngx_stream_redis_master_peer_data_t;


#define ngx_stream_redis_master_map_size(n)                                   \
    (((n) + (8 * sizeof(uintptr_t)) - 1) / (8 * sizeof(uintptr_t)))

#define ngx_stream_redis_master_bit(map, i)                                   \
    ((map)[(i) / (8 * sizeof(uintptr_t))]                                     \
     & ((uintptr_t) 1 << ((i) % (8 * sizeof(uintptr_t)))))

#define ngx_stream_redis_master_set_bit(map, i)                               \
    (map)[(i) / (8 * sizeof(uintptr_t))] |=                                   \
                          ((uintptr_t) 1 << ((i) % (8 * sizeof(uintptr_t))))


/* hiredis's reply reader, as the checker and the subscriber hold one */
struct redisReader;


extern ngx_module_t  ngx_stream_redis_master_module;


#endif /* _NGX_STREAM_REDIS_MASTER_TYPES_H_INCLUDED_ */
