
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Reply interpretation: RESP is read by hiredis's redisReader, with limits
 * a hostile server cannot talk past; this file only decides what a parsed
 * reply means.
 */


#include "ngx_stream_redis_master_wire.h"

#include <hiredis/hiredis.h>


/*
 * The longest word taken for the code of an AUTH error: Redis's codes are
 * one upper-case word of up to 10 letters ("MASTERDOWN", "NOREPLICAS");
 * a longer word is no code, and is not shown.
 */

#define NGX_STREAM_REDIS_MASTER_ERROR_CODE  16


/*
 * The most of a Redis error's text a reason keeps: after the command it
 * answers ("SENTINEL master: " is the longest, 17 bytes), it still fits
 * NGX_STREAM_REDIS_MASTER_REASON_LEN.
 */

#define NGX_STREAM_REDIS_MASTER_ERROR_TEXT  100


/*
 * The shortest run of a reply's bytes, also found in the credentials,
 * that is masked: a shorter one is common in any text ("ERR "), and a
 * longer one would leave more of a secret to be read in pieces.
 */

#define NGX_STREAM_REDIS_MASTER_MASK_RUN    4


/* the highest TCP port a Sentinel may report */

#define NGX_STREAM_REDIS_MASTER_PORT_MAX    65535


typedef enum {
    NGX_STREAM_REDIS_MASTER_F_ROLE = 0,
    NGX_STREAM_REDIS_MASTER_F_LINK,
    NGX_STREAM_REDIS_MASTER_F_HOST,
    NGX_STREAM_REDIS_MASTER_F_PORT,
    NGX_STREAM_REDIS_MASTER_F_REPLID,
    NGX_STREAM_REDIS_MASTER_F_REPLID2,
    NGX_STREAM_REDIS_MASTER_F_MASTER_OFFSET,
    NGX_STREAM_REDIS_MASTER_F_SLAVE_OFFSET,
    NGX_STREAM_REDIS_MASTER_F_SYNC,
    NGX_STREAM_REDIS_MASTER_F_LAST_IO,
    NGX_STREAM_REDIS_MASTER_F_LOADING
} ngx_stream_redis_master_field_e;


/* "must": what a value that fails the probe is not, NULL if none can */

typedef struct {
    ngx_str_t                          key;
    ngx_stream_redis_master_field_e    field;
    const char                        *must;
} ngx_stream_redis_master_field_t;


static void *ngx_stream_redis_master_create_array(const redisReadTask *task,
    int elements);
static void *ngx_stream_redis_master_create_string(const redisReadTask *task,
    char *str, size_t len);
static ngx_int_t ngx_stream_redis_master_reply_error(redisReply *reply,
    const char *what, u_char *reason, size_t len);
static ngx_uint_t ngx_stream_redis_master_error_code(redisReply *r,
    const char *code);
static ngx_int_t ngx_stream_redis_master_info_line(
    ngx_stream_redis_master_info_t *info, u_char *key, size_t klen,
    u_char *val, size_t vlen, u_char *reason, size_t len);
static ngx_int_t ngx_stream_redis_master_set_field(
    ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_field_e field, u_char *val, size_t vlen);
static ngx_uint_t ngx_stream_redis_master_is_replid(u_char *val,
    size_t vlen);
static ngx_uint_t ngx_stream_redis_master_slave_key(u_char *key, size_t klen);
static void ngx_stream_redis_master_slave_line(
    ngx_stream_redis_master_info_t *info, u_char *val, size_t vlen);
static ngx_uint_t ngx_stream_redis_master_flagged(redisReply *flags,
    const char *flag);
static void ngx_stream_redis_master_report_address(
    ngx_stream_redis_master_report_t *report, u_char *host, size_t len,
    in_port_t port);
static void ngx_stream_redis_master_copy_text(u_char *dst, size_t size,
    u_char *src, size_t len);
static void ngx_stream_redis_master_printable(u_char *text, size_t len);
static void ngx_stream_redis_master_redact(u_char *text, size_t len,
    ngx_stream_redis_master_check_conf_t *cc);
static size_t ngx_stream_redis_master_common_run(u_char *text, size_t len,
    ngx_str_t *secret);


/* Valkey and KeyDB spellings stand beside Redis's own */

static ngx_stream_redis_master_field_t  ngx_stream_redis_master_fields[] = {
    { ngx_string("role"), NGX_STREAM_REDIS_MASTER_F_ROLE, NULL },
    { ngx_string("master_link_status"), NGX_STREAM_REDIS_MASTER_F_LINK, NULL },
    { ngx_string("primary_link_status"), NGX_STREAM_REDIS_MASTER_F_LINK, NULL },
    { ngx_string("master_host"), NGX_STREAM_REDIS_MASTER_F_HOST, NULL },
    { ngx_string("primary_host"), NGX_STREAM_REDIS_MASTER_F_HOST, NULL },
    { ngx_string("master_port"), NGX_STREAM_REDIS_MASTER_F_PORT, NULL },
    { ngx_string("primary_port"), NGX_STREAM_REDIS_MASTER_F_PORT, NULL },
    { ngx_string("master_replid"), NGX_STREAM_REDIS_MASTER_F_REPLID,
      "40 hex digits" },
    { ngx_string("master_replid2"), NGX_STREAM_REDIS_MASTER_F_REPLID2,
      "40 hex digits" },
    { ngx_string("master_repl_offset"),
      NGX_STREAM_REDIS_MASTER_F_MASTER_OFFSET, NULL },
    { ngx_string("slave_repl_offset"),
      NGX_STREAM_REDIS_MASTER_F_SLAVE_OFFSET, NULL },
    { ngx_string("replica_repl_offset"),
      NGX_STREAM_REDIS_MASTER_F_SLAVE_OFFSET, NULL },
    { ngx_string("master_sync_in_progress"),
      NGX_STREAM_REDIS_MASTER_F_SYNC, NULL },
    { ngx_string("primary_sync_in_progress"),
      NGX_STREAM_REDIS_MASTER_F_SYNC, NULL },
    { ngx_string("master_last_io_seconds_ago"),
      NGX_STREAM_REDIS_MASTER_F_LAST_IO, NULL },
    { ngx_string("primary_last_io_seconds_ago"),
      NGX_STREAM_REDIS_MASTER_F_LAST_IO, NULL },
    { ngx_string("loading"), NGX_STREAM_REDIS_MASTER_F_LOADING, NULL },
    { ngx_null_string, 0, NULL }
};


/*
 * The AUTH errors of Redis and Valkey whose text is fixed: any other text
 * may echo the command's arguments ("ERR unknown command 'AUTH', with args
 * beginning with: 'user' 'password'"), and only its error code is kept.
 */

static ngx_str_t  ngx_stream_redis_master_auth_errors[] = {
    ngx_string("WRONGPASS invalid username-password pair or user is "
               "disabled."),
    ngx_string("WRONGPASS invalid username-password pair"),
    ngx_string("ERR invalid password"),
    ngx_string("ERR invalid username-password pair"),
    ngx_string("ERR Client sent AUTH, but no password is set"),
    ngx_string("ERR AUTH <password> called without any password configured "
               "for the default user. Are you sure your configuration is "
               "correct?"),
    ngx_null_string
};


static redisReplyObjectFunctions   ngx_stream_redis_master_reply_fn;
static redisReplyObjectFunctions  *ngx_stream_redis_master_default_fn;


/*
 * A reader with hiredis's own reply objects, except that arrays and strings
 * beyond what a probe can need are refused before they are allocated.
 */

void *
ngx_stream_redis_master_reader_create(void)
{
    redisReader  *reader;

    reader = redisReaderCreate();
    if (reader == NULL) {
        return NULL;
    }

    if (ngx_stream_redis_master_default_fn == NULL) {
        ngx_stream_redis_master_default_fn = reader->fn;
        ngx_stream_redis_master_reply_fn = *reader->fn;
        ngx_stream_redis_master_reply_fn.createArray =
                                         ngx_stream_redis_master_create_array;
        ngx_stream_redis_master_reply_fn.createString =
                                         ngx_stream_redis_master_create_string;
    }

    reader->fn = &ngx_stream_redis_master_reply_fn;

    return reader;
}


static void *
ngx_stream_redis_master_create_array(const redisReadTask *task, int elements)
{
    if (elements < 0 || elements > NGX_STREAM_REDIS_MASTER_MAX_ELEMENTS) {
        return NULL;
    }

    return ngx_stream_redis_master_default_fn->createArray(task, elements);
}


static void *
ngx_stream_redis_master_create_string(const redisReadTask *task, char *str,
    size_t len)
{
    if (len > NGX_STREAM_REDIS_MASTER_MAX_REPLY) {
        return NULL;
    }

    return ngx_stream_redis_master_default_fn->createString(task, str, len);
}


const char *
ngx_stream_redis_master_role_name(ngx_uint_t role)
{
    switch (role) {

    case NGX_STREAM_REDIS_MASTER_ROLE_MASTER:
        return "master";

    case NGX_STREAM_REDIS_MASTER_ROLE_REPLICA:
        return "replica";

    case NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL:
        return "sentinel";

    default:
        return "unknown";
    }
}


/* the reply to AUTH (and any command that answers +OK) */

ngx_int_t
ngx_stream_redis_master_reply_ok(void *reply, const char *what,
    u_char *reason, size_t len)
{
    redisReply  *r = reply;

    if (r->type == REDIS_REPLY_STATUS && r->len == 2
        && ngx_strncmp(r->str, "OK", 2) == 0)
    {
        return NGX_OK;
    }

    return ngx_stream_redis_master_reply_error(r, what, reason, len);
}


/*
 * The reply to AUTH: an error's text is kept only when it is one of the
 * fixed texts above; otherwise only its code ("ERR", "NOPERM"...) is.
 */

ngx_int_t
ngx_stream_redis_master_reply_auth(void *reply, u_char *reason, size_t len)
{
    u_char      *p, *last;
    size_t       n;
    ngx_str_t   *known;
    redisReply  *r = reply;

    if (r->type != REDIS_REPLY_ERROR) {
        return ngx_stream_redis_master_reply_ok(reply, "AUTH", reason, len);
    }

    for (known = ngx_stream_redis_master_auth_errors; known->len; known++) {
        if (r->len == known->len
            && ngx_strncmp(r->str, known->data, known->len) == 0)
        {
            return ngx_stream_redis_master_reply_error(r, "AUTH", reason,
                                                       len);
        }
    }

    for (n = 0; n < r->len && n < NGX_STREAM_REDIS_MASTER_ERROR_CODE; n++) {
        if (r->str[n] < 'A' || r->str[n] > 'Z') {
            break;
        }
    }

    if (n == 0 || (n < r->len && r->str[n] != ' ')) {
        n = 0;
    }

    last = reason + len;

    p = ngx_slprintf(reason, last, "AUTH: %*s (the rest of the error is not "
                     "shown: it may repeat the credentials)",
                     n ? n : sizeof("error") - 1,
                     n ? (u_char *) r->str : (u_char *) "error");

    *ngx_min(p, last - 1) = '\0';

    return NGX_ERROR;
}


/*
 * The reply to PING: NGX_OK for +PONG.  Three errors come from a server
 * that is alive and keeps its role while it cannot serve:
 *
 *   -BUSY        a script, a function or a module command runs past
 *                busy-reply-threshold; nearly every command gets it
 *                meanwhile (AUTH, HELLO, SCRIPT KILL, FUNCTION KILL and
 *                SHUTDOWN NOSAVE go through);
 *   -MISCONF     a master whose last BGSAVE failed, with
 *                stop-writes-on-bgsave-error: writes and PING get it,
 *                reads and INFO are served;
 *
 * NGX_STREAM_REDIS_MASTER_STALL, a stall, with the reason set as for a
 * failure (never NGX_BUSY: upstream, that refuses a connection); and
 *
 *   -MASTERDOWN  a replica with its link down and replica-serve-stale-data
 *                no, which still serves INFO:
 *
 * NGX_DECLINED, with no reason: the INFO replies tell what the server is.
 * Any other reply is NGX_ERROR, -LOADING included: a server that loads
 * its data set (restarted, or in a full resync) has none to serve yet.
 */

ngx_int_t
ngx_stream_redis_master_reply_pong(void *reply, u_char *reason, size_t len)
{
    redisReply  *r = reply;

    if (r->type == REDIS_REPLY_STATUS && r->len == 4
        && ngx_strncmp(r->str, "PONG", 4) == 0)
    {
        return NGX_OK;
    }

    if (r->type != REDIS_REPLY_ERROR) {
        return ngx_stream_redis_master_reply_error(r, "PING", reason, len);
    }

    if (ngx_stream_redis_master_error_code(r, "MASTERDOWN")) {
        return NGX_DECLINED;
    }

    (void) ngx_stream_redis_master_reply_error(r, "PING", reason, len);

    if (ngx_stream_redis_master_error_code(r, "BUSY")
        || ngx_stream_redis_master_error_code(r, "MISCONF"))
    {
        return NGX_STREAM_REDIS_MASTER_STALL;
    }

    return NGX_ERROR;
}


/* whether an error reply's code (its first word) is "code" */

static ngx_uint_t
ngx_stream_redis_master_error_code(redisReply *r, const char *code)
{
    size_t  n;

    n = ngx_strlen(code);

    return r->len >= n && ngx_strncmp(r->str, code, n) == 0
           && (r->len == n || r->str[n] == ' ');
}


/*
 * One INFO section, a bulk string of "key:value" lines; both sections of a
 * probe are read into the same "info".  A value a field cannot have (a
 * replication id that is not 40 hex digits) fails the probe.
 */

ngx_int_t
ngx_stream_redis_master_reply_info(void *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len)
{
    u_char      *p, *last, *eol, *colon;
    redisReply  *r = reply;

    if (r->type != REDIS_REPLY_STRING) {
        return ngx_stream_redis_master_reply_error(r, "INFO", reason, len);
    }

    p = (u_char *) r->str;
    last = p + r->len;

    while (p < last) {
        eol = ngx_strlchr(p, last, LF);
        if (eol == NULL) {
            eol = last;
        }

        colon = ngx_strlchr(p, eol, ':');

        if (colon && *p != '#'
            && ngx_stream_redis_master_info_line(info, p, colon - p,
                                                 colon + 1, eol - colon - 1,
                                                 reason, len)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        p = eol + 1;
    }

    return NGX_OK;
}


/* the reason names the field, never what the server sent in it */

static ngx_int_t
ngx_stream_redis_master_info_line(ngx_stream_redis_master_info_t *info,
    u_char *key, size_t klen, u_char *val, size_t vlen, u_char *reason,
    size_t len)
{
    u_char                           *p, *last;
    ngx_stream_redis_master_field_t  *f;

    if (vlen && val[vlen - 1] == CR) {
        vlen--;
    }

    for (f = ngx_stream_redis_master_fields; f->key.len; f++) {
        if (f->key.len == klen && ngx_strncmp(f->key.data, key, klen) == 0) {

            if (ngx_stream_redis_master_set_field(info, f->field, val, vlen)
                == NGX_OK)
            {
                return NGX_OK;
            }

            last = reason + len;
            p = ngx_slprintf(reason, last, "INFO: protocol error: %V is not "
                             "%s", &f->key, f->must ? f->must : "valid");
            *ngx_min(p, last - 1) = '\0';

            return NGX_ERROR;
        }
    }

    if (ngx_stream_redis_master_slave_key(key, klen)) {
        ngx_stream_redis_master_slave_line(info, val, vlen);
    }

    return NGX_OK;
}


/* "slave0", "slave12" (Valkey may say "replica0") */

static ngx_uint_t
ngx_stream_redis_master_slave_key(u_char *key, size_t klen)
{
    size_t  n;

    if (klen > 5 && ngx_strncmp(key, "slave", 5) == 0) {
        n = 5;

    } else if (klen > 7 && ngx_strncmp(key, "replica", 7) == 0) {
        n = 7;

    } else {
        return 0;
    }

    for ( /* void */ ; n < klen; n++) {
        if (key[n] < '0' || key[n] > '9') {
            return 0;
        }
    }

    return 1;
}


/*
 * A master's view of one replica, "ip=...,port=...,state=online,
 * offset=...,lag=<seconds since its last REPLCONF ACK>".  Of the lines,
 * the online ones with the smallest lag are kept: a line the master cannot
 * vouch for (another state, a missing or unreadable lag) counts as the
 * stalest.  The address is not kept: it is the one the replica announces,
 * which NAT and replica-announce-ip make unreliable to match.
 */

static void
ngx_stream_redis_master_slave_line(ngx_stream_redis_master_info_t *info,
    u_char *val, size_t vlen)
{
    u_char                           *p, *last, *comma, *eq;
    size_t                            klen;
    ngx_int_t                         n;
    ngx_uint_t                        i, worst;
    ngx_stream_redis_master_slave_t   s, *w;

    ngx_memzero(&s, sizeof(ngx_stream_redis_master_slave_t));
    s.lag = 0xffff;

    p = val;
    last = val + vlen;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        eq = ngx_strlchr(p, comma, '=');

        if (eq) {
            klen = eq - p;
            eq++;

            if (klen == 4 && ngx_strncmp(p, "port", 4) == 0) {
                n = ngx_atoi(eq, comma - eq);
                s.port = (n == NGX_ERROR) ? 0 : (in_port_t) ngx_min(n, 65535);

            } else if (klen == 5 && ngx_strncmp(p, "state", 5) == 0) {
                s.online = (comma - eq == 6
                            && ngx_strncmp(eq, "online", 6) == 0);


            } else if (klen == 3 && ngx_strncmp(p, "lag", 3) == 0) {
                n = ngx_atoi(eq, comma - eq);
                s.lag = (n == NGX_ERROR) ? 0xffff
                                         : (uint16_t) ngx_min(n, 0xfffe);
            }
        }

        p = comma + 1;
    }

    if (!s.online) {
        s.lag = 0xffff;
    }

    if (info->nslaves < NGX_STREAM_REDIS_MASTER_SLAVES) {
        info->slaves[info->nslaves++] = s;
        return;
    }

    worst = 0;

    for (i = 1; i < NGX_STREAM_REDIS_MASTER_SLAVES; i++) {
        if (info->slaves[i].lag > info->slaves[worst].lag) {
            worst = i;
        }
    }

    w = &info->slaves[worst];

    if (s.lag < w->lag) {
        *w = s;
    }
}


/* NGX_DECLINED: a replication id that is not one */

static ngx_int_t
ngx_stream_redis_master_set_field(ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_field_e field, u_char *val, size_t vlen)
{
    ngx_int_t  n;

    switch (field) {

    case NGX_STREAM_REDIS_MASTER_F_ROLE:

        /* an unknown role is never taken for a master */

        if (vlen == 6 && ngx_strncmp(val, "master", 6) == 0) {
            info->role = NGX_STREAM_REDIS_MASTER_ROLE_MASTER;

        } else if ((vlen == 5 && ngx_strncmp(val, "slave", 5) == 0)
                   || (vlen == 7 && ngx_strncmp(val, "replica", 7) == 0)
                   || (vlen == 14
                       && ngx_strncmp(val, "active-replica", 14) == 0))
        {
            info->role = NGX_STREAM_REDIS_MASTER_ROLE_REPLICA;

        } else {
            info->role = NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN;
        }

        return NGX_OK;

    case NGX_STREAM_REDIS_MASTER_F_LINK:
        info->link_up = (vlen == 2 && ngx_strncmp(val, "up", 2) == 0);
        return NGX_OK;

    case NGX_STREAM_REDIS_MASTER_F_HOST:
        ngx_stream_redis_master_copy_text(info->master_host,
                                          NGX_STREAM_REDIS_MASTER_HOST_LEN,
                                          val, vlen);
        return NGX_OK;

    case NGX_STREAM_REDIS_MASTER_F_REPLID:
    case NGX_STREAM_REDIS_MASTER_F_REPLID2:

        /*
         * Redis makes a replication id of 40 random hex digits: anything
         * else is refused, and never kept, shown or compared.
         */

        if (!ngx_stream_redis_master_is_replid(val, vlen)) {
            return NGX_DECLINED;
        }

        ngx_stream_redis_master_copy_text(
                              field == NGX_STREAM_REDIS_MASTER_F_REPLID
                              ? info->replid : info->replid2,
                              NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1,
                              val, vlen);
        return NGX_OK;

    case NGX_STREAM_REDIS_MASTER_F_MASTER_OFFSET:
        info->master_repl_offset = ngx_max(ngx_atoof(val, vlen), 0);
        return NGX_OK;

    case NGX_STREAM_REDIS_MASTER_F_SLAVE_OFFSET:
        info->slave_repl_offset = ngx_max(ngx_atoof(val, vlen), 0);
        return NGX_OK;

    case NGX_STREAM_REDIS_MASTER_F_LAST_IO:

        /* "-1" when there is no link: keep it as "no contact" */

        n = ngx_atoi(val, vlen);
        info->master_last_io = (n == NGX_ERROR) ? -1 : n;
        return NGX_OK;

    default:
        break;
    }

    n = ngx_atoi(val, vlen);
    if (n == NGX_ERROR) {
        n = 0;
    }

    switch (field) {

    case NGX_STREAM_REDIS_MASTER_F_PORT:
        info->master_port = (in_port_t) ngx_min(n, 65535);
        break;

    case NGX_STREAM_REDIS_MASTER_F_SYNC:
        info->sync_in_progress = (n != 0);
        break;

    default: /* NGX_STREAM_REDIS_MASTER_F_LOADING */
        info->loading = (n != 0);
        break;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_stream_redis_master_is_replid(u_char *val, size_t vlen)
{
    size_t  i;

    if (vlen != NGX_STREAM_REDIS_MASTER_REPLID_LEN) {
        return 0;
    }

    for (i = 0; i < vlen; i++) {
        if (!((val[i] >= '0' && val[i] <= '9')
              || (val[i] >= 'a' && val[i] <= 'f')
              || (val[i] >= 'A' && val[i] <= 'F')))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * SENTINEL get-master-addr-by-name: the address as an array of two bulk
 * strings, or nil when the Sentinel monitors no master of that name.
 */

ngx_int_t
ngx_stream_redis_master_reply_master_addr(void *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len)
{
    ngx_int_t    port;
    redisReply  *r = reply;

    info->role = NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL;

    if (r->type == REDIS_REPLY_NIL) {
        return NGX_OK;
    }

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
        || r->element[0]->type != REDIS_REPLY_STRING
        || r->element[1]->type != REDIS_REPLY_STRING)
    {
        return ngx_stream_redis_master_reply_error(r, "SENTINEL", reason,
                                                   len);
    }

    port = ngx_atoi((u_char *) r->element[1]->str, r->element[1]->len);

    if (port < 1 || port > 65535) {
        ngx_snprintf(reason, len, "SENTINEL: bad port%Z");
        return NGX_ERROR;
    }

    ngx_stream_redis_master_copy_text(info->master_host,
                                      NGX_STREAM_REDIS_MASTER_HOST_LEN,
                                      (u_char *) r->element[0]->str,
                                      r->element[0]->len);
    info->master_port = (in_port_t) port;

    return NGX_OK;
}


/*
 * SENTINEL master NAME: a flat array of field names and values.  When the
 * Sentinel flags as down (s_down or o_down) the very address it names, the
 * named master is marked down: a failover is probably under way.
 */

ngx_int_t
ngx_stream_redis_master_reply_sentinel_master(void *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len)
{
    size_t       i;
    ngx_int_t    port;
    redisReply  *r = reply, *k, *v, *ip, *flags;

    if (r->type == REDIS_REPLY_ERROR
        && r->len >= 18 && ngx_strncmp(r->str, "ERR No such master", 18) == 0)
    {
        return NGX_OK;    /* get-master-addr-by-name said nil already */
    }

    /* any other refusal (NOPERM...) fails the probe: it vouches for none */

    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        return ngx_stream_redis_master_reply_error(r, "SENTINEL master",
                                                   reason, len);
    }

    ip = NULL;
    flags = NULL;
    port = 0;

    for (i = 0; i < r->elements; i += 2) {
        k = r->element[i];
        v = r->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        if (k->len == 2 && ngx_strncmp(k->str, "ip", 2) == 0) {
            ip = v;

        } else if (k->len == 4 && ngx_strncmp(k->str, "port", 4) == 0) {
            port = ngx_atoi((u_char *) v->str, v->len);

        } else if (k->len == 5 && ngx_strncmp(k->str, "flags", 5) == 0) {
            flags = v;
        }
    }

    if (ip == NULL || flags == NULL || port != info->master_port
        || ip->len != ngx_strlen(info->master_host)
        || ngx_strncmp(ip->str, info->master_host, ip->len) != 0)
    {
        return NGX_OK;
    }

    info->master_down =
        ngx_strlcasestrn((u_char *) flags->str, (u_char *) flags->str
                         + flags->len, (u_char *) "s_down", 6 - 1) != NULL
        || ngx_strlcasestrn((u_char *) flags->str, (u_char *) flags->str
                            + flags->len, (u_char *) "o_down", 6 - 1) != NULL;

    return NGX_OK;
}


/*
 * SENTINEL replicas NAME (discover=): an array of the replicas, each a
 * flat array of field names and values.  The report gets the master that
 * get-master-addr-by-name named ("info"), then each replica's "ip" and
 * "port" whose "flags" do not say down (s_down, o_down), each address
 * once, at most NGX_STREAM_REDIS_MASTER_MAX_REPORT of them.  A replica
 * only "disconnected" is kept: Sentinel says so of its own link for a
 * moment, as when it promotes the replica, and flags it s_down once it
 * is really gone (down-after-milliseconds).  Addresses only: a host
 * name (announce-hostnames) is skipped, not resolved; so is a replica
 * that is not a flat array of strings with an ip and a port of 1 to
 * 65535.  A refusal (NOPERM...) fails the probe, as for SENTINEL master.
 */

ngx_int_t
ngx_stream_redis_master_reply_replicas(void *reply,
    ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_report_t *report, u_char *reason, size_t len)
{
    size_t       i, j;
    ngx_int_t    port;
    redisReply  *r = reply, *e, *k, *v, *ip, *flags;

    report->reported = 0;
    report->listed = 0;
    report->skipped = 0;
    report->hostnames = 0;
    report->naddrs = 0;

    if (info->master_port) {
        report->listed++;
        ngx_stream_redis_master_report_address(report, info->master_host,
                                               ngx_strlen(info->master_host),
                                               info->master_port);
    }

    if (r->type == REDIS_REPLY_ERROR
        && r->len >= 18 && ngx_strncmp(r->str, "ERR No such master", 18) == 0)
    {
        return NGX_OK;    /* get-master-addr-by-name said nil already */
    }

    if (r->type != REDIS_REPLY_ARRAY) {
        return ngx_stream_redis_master_reply_error(r, "SENTINEL replicas",
                                                   reason, len);
    }

    for (i = 0; i < r->elements; i++) {
        e = r->element[i];
        report->listed++;

        if (e->type != REDIS_REPLY_ARRAY || e->elements % 2) {
            report->skipped++;
            continue;
        }

        ip = NULL;
        flags = NULL;
        port = 0;

        for (j = 0; j < e->elements; j += 2) {
            k = e->element[j];
            v = e->element[j + 1];

            if (k->type != REDIS_REPLY_STRING
                || v->type != REDIS_REPLY_STRING)
            {
                continue;
            }

            if (k->len == 2 && ngx_strncmp(k->str, "ip", 2) == 0) {
                ip = v;

            } else if (k->len == 4 && ngx_strncmp(k->str, "port", 4) == 0) {
                port = ngx_atoi((u_char *) v->str, v->len);

            } else if (k->len == 5 && ngx_strncmp(k->str, "flags", 5) == 0) {
                flags = v;
            }
        }

        if (ip == NULL || port < 1 || port > NGX_STREAM_REDIS_MASTER_PORT_MAX
            || (flags
                && (ngx_stream_redis_master_flagged(flags, "s_down")
                    || ngx_stream_redis_master_flagged(flags, "o_down"))))
        {
            report->skipped++;
            continue;
        }

        ngx_stream_redis_master_report_address(report, (u_char *) ip->str,
                                               ip->len, (in_port_t) port);
    }

    return NGX_OK;
}


/* whether a Sentinel's "flags" (comma-separated) have this one */

static ngx_uint_t
ngx_stream_redis_master_flagged(redisReply *flags, const char *flag)
{
    u_char  *p, *last, *comma;
    size_t   n;

    n = ngx_strlen(flag);
    p = (u_char *) flags->str;
    last = p + flags->len;

    while (p < last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        if ((size_t) (comma - p) == n && ngx_strncmp(p, flag, n) == 0) {
            return 1;
        }

        p = comma + 1;
    }

    return 0;
}


/*
 * One server of a Sentinel's report, by its IP address (IPv4, or IPv6
 * as Sentinel writes it, without brackets); a host name, an address
 * reported already or one past the bound is counted as skipped.
 */

static void
ngx_stream_redis_master_report_address(
    ngx_stream_redis_master_report_t *report, u_char *host, size_t len,
    in_port_t port)
{
    in_addr_t                            inaddr;
    ngx_uint_t                           i;
    ngx_stream_redis_master_reported_t   a;

    ngx_memzero(&a, sizeof(ngx_stream_redis_master_reported_t));

    inaddr = (len && len < NGX_INET_ADDRSTRLEN)
             ? ngx_inet_addr(host, len) : INADDR_NONE;

    if (inaddr != INADDR_NONE) {
        a.addr.sockaddr_in.sin_family = AF_INET;
        a.addr.sockaddr_in.sin_addr.s_addr = inaddr;
        a.addr.sockaddr_in.sin_port = htons(port);
        a.socklen = sizeof(struct sockaddr_in);

#if (NGX_HAVE_INET6)
    } else if (len && len < NGX_INET6_ADDRSTRLEN
               && ngx_inet6_addr(host, len,
                                 a.addr.sockaddr_in6.sin6_addr.s6_addr)
                  == NGX_OK)
    {
        a.addr.sockaddr_in6.sin6_family = AF_INET6;
        a.addr.sockaddr_in6.sin6_port = htons(port);
        a.socklen = sizeof(struct sockaddr_in6);
#endif

    } else {
        report->skipped++;
        report->hostnames += (len != 0);
        return;
    }

    for (i = 0; i < report->naddrs; i++) {
        if (ngx_cmp_sockaddr(&report->addrs[i].addr.sockaddr,
                             report->addrs[i].socklen, &a.addr.sockaddr,
                             a.socklen, 1)
            == NGX_OK)
        {
            report->skipped++;
            return;
        }
    }

    if (report->naddrs == NGX_STREAM_REDIS_MASTER_MAX_REPORT) {
        report->skipped++;
        return;
    }

    report->addrs[report->naddrs++] = a;
}


/*
 * A pub/sub message from a Sentinel; NGX_OK when it is a failover event of
 * the master "name", written as "channel payload" into "event".
 *   +switch-master: "<name> <old-ip> <old-port> <new-ip> <new-port>"
 *   about a master: "master <name> <ip> <port> ..."
 *   about a replica, such as the one being promoted:
 *                   "slave <ip:port> <ip> <port> @ <name> <ip> <port>"
 */

ngx_int_t
ngx_stream_redis_master_reply_event(void *reply, ngx_str_t *name,
    u_char *event, size_t len)
{
    u_char      *p, *last, *at;
    size_t       skip;
    redisReply  *r = reply, *kind, *channel, *payload;

    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
        return NGX_DECLINED;
    }

    kind = r->element[0];
    channel = r->element[1];
    payload = r->element[2];

    if (kind->type != REDIS_REPLY_STRING || channel->type != REDIS_REPLY_STRING
        || payload->type != REDIS_REPLY_STRING
        || kind->len != 7 || ngx_strncmp(kind->str, "message", 7) != 0)
    {
        return NGX_DECLINED;
    }

    if (channel->len == 14
        && ngx_strncmp(channel->str, "+switch-master", 14) == 0)
    {
        skip = 0;

    } else if (payload->len > 7
               && ngx_strncmp(payload->str, "master ", 7) == 0)
    {
        skip = 7;

    } else if (payload->len > 6
               && ngx_strncmp(payload->str, "slave ", 6) == 0
               && (at = ngx_strlcasestrn((u_char *) payload->str,
                                         (u_char *) payload->str
                                         + payload->len,
                                         (u_char *) " @ ", 3 - 1))
                  != NULL)
    {
        skip = at + 3 - (u_char *) payload->str;

    } else {
        return NGX_DECLINED;
    }

    if (payload->len < skip + name->len + 1
        || ngx_strncmp(payload->str + skip, name->data, name->len) != 0
        || payload->str[skip + name->len] != ' ')
    {
        return NGX_DECLINED;
    }

    last = event + len;

    p = event;
    ngx_stream_redis_master_copy_text(p, len, (u_char *) channel->str,
                                      channel->len);
    p += ngx_strlen(p);

    if (p + 2 < last) {
        *p++ = ' ';
        ngx_stream_redis_master_copy_text(p, last - p,
                                          (u_char *) payload->str,
                                          payload->len);
    }

    return NGX_OK;
}


/*
 * Redis's error text is logged, so it is cut short; the caller makes it
 * safe (ngx_stream_redis_master_safe_text()) before it is logged or kept.
 */

static ngx_int_t
ngx_stream_redis_master_reply_error(redisReply *r, const char *what,
    u_char *reason, size_t len)
{
    u_char  *p, *last;
    size_t   size;

    last = reason + len;

    if (r->type != REDIS_REPLY_ERROR) {
        p = ngx_slprintf(reason, last, "unexpected reply to %s (type %d)",
                         what, r->type);
        *ngx_min(p, last - 1) = '\0';
        return NGX_ERROR;
    }

    p = ngx_slprintf(reason, last, "%s: ", what);

    size = ngx_min(last - p, NGX_STREAM_REDIS_MASTER_ERROR_TEXT);

    ngx_stream_redis_master_copy_text(p, size, (u_char *) r->str, r->len);

    return NGX_ERROR;
}


/*
 * A NUL-terminated copy of what a server sent, cut to "size" bytes, as it
 * came but for a NUL, which becomes "?" (a credential has none): what the
 * caller logs or keeps of it goes through ngx_stream_redis_master_safe_text()
 * first, which masks the credentials in the bytes as they came.
 */

static void
ngx_stream_redis_master_copy_text(u_char *dst, size_t size, u_char *src,
    size_t len)
{
    size_t  i;

    if (size == 0) {
        return;
    }

    len = ngx_min(len, size - 1);

    for (i = 0; i < len; i++) {
        dst[i] = src[i] ? src[i] : '?';
    }

    dst[len] = '\0';
}


/*
 * The one form a server's text has in the error log and the zone: every
 * run of 4 or more bytes that also occurs in the username or the password
 * of "cc" is masked with "*", in the bytes as the server sent them, and
 * then every byte that is not printable ASCII (a control character, a
 * line feed, a byte of UTF-8) becomes "?".  In the other order a password
 * that is not ASCII would be cut into pieces too short to be found.  The
 * status page escapes the result again for each of its formats.
 */

void
ngx_stream_redis_master_safe_text(u_char *text, size_t len,
    ngx_stream_redis_master_check_conf_t *cc)
{
    ngx_stream_redis_master_redact(text, len, cc);
    ngx_stream_redis_master_printable(text, len);
}


static void
ngx_stream_redis_master_printable(u_char *text, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (text[i] < 0x20 || text[i] >= 0x7f) {
            text[i] = '?';
        }
    }
}


/*
 * Masks with "*" every run of 4 or more bytes of "text" that also occurs in
 * the username or the password of "cc": a server may repeat what it was
 * sent, in full, cut short or in pieces, in any reply.
 */

static void
ngx_stream_redis_master_redact(u_char *text, size_t len,
    ngx_stream_redis_master_check_conf_t *cc)
{
    size_t  i, run, masked;

    if (cc->password.len == 0) {
        return;
    }

    masked = 0;

    for (i = 0; i < len; i++) {

        run = ngx_max(ngx_stream_redis_master_common_run(text + i, len - i,
                                                         &cc->password),
                      ngx_stream_redis_master_common_run(text + i, len - i,
                                                         &cc->username));
        if (run >= NGX_STREAM_REDIS_MASTER_MASK_RUN) {
            masked = ngx_max(masked, i + run);
        }

        if (i < masked) {
            text[i] = '*';
        }
    }
}


/* the longest prefix of "text" that occurs somewhere in "secret" */

static size_t
ngx_stream_redis_master_common_run(u_char *text, size_t len,
    ngx_str_t *secret)
{
    size_t  j, m, best;

    best = 0;

    for (j = 0; j < secret->len; j++) {
        for (m = 0;
             m < len && j + m < secret->len && text[m] == secret->data[j + m];
             m++)
        {
            /* void */
        }

        best = ngx_max(best, m);
    }

    return best;
}
