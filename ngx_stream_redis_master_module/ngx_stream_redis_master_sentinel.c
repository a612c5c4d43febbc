
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The subscription to each Sentinel's failover events, kept by the worker
 * that owns the Sentinel: an event has every server and Sentinel of its
 * upstreams checked again at once.
 */


/*
 * Events are only a hint, since pub/sub delivery is not guaranteed; the
 * probes go on as before (check.c).
 *
 * The subscription is bounded both ways, once a window (the interval, at
 * least NGX_STREAM_REDIS_MASTER_EVENT_WINDOW): a Sentinel heard from in
 * none is sent a PING, and one that answers nothing within the timeout
 * has gone without a reset: the subscription is dropped and taken again
 * after the Sentinel's next answered probe.  A Sentinel that sends more
 * than a window's replies or bytes is not read again before the next one.
 */


#include "ngx_stream_redis_master_sentinel.h"

#include <hiredis/hiredis.h>


/* the lines a Sentinel's subscription may log in an interval */
#define NGX_STREAM_REDIS_MASTER_EVENT_LINES    8

/* what a subscription reads in a window at most, and the shortest window */
#define NGX_STREAM_REDIS_MASTER_EVENT_REPLIES  32
#define NGX_STREAM_REDIS_MASTER_EVENT_BYTES    (64 * 1024)
#define NGX_STREAM_REDIS_MASTER_EVENT_WINDOW   100

/*
 * The SUBSCRIBE to the failover events takes 137 bytes with its RESP
 * framing; the rest is room for a channel or two more.
 */
#define NGX_STREAM_REDIS_MASTER_SUBSCRIBE_SIZE  256

/*
 * The words a dropped subscription's line puts around a reason of up to
 * NGX_STREAM_REDIS_MASTER_REASON_LEN: "broke the protocol, dropping the
 * event subscription: " is the longest, 53 bytes.
 */
#define NGX_STREAM_REDIS_MASTER_DROP_WORDS      64


struct ngx_stream_redis_master_subscriber_s {
    /* first: a TLS link finds its target through its data */
    ngx_stream_redis_master_target_t  *target;
    ngx_peer_connection_t              pc;
    redisReader                       *reader;
    ngx_event_t                        deadline;
    ngx_event_t                        tick;
    ngx_str_t                          request;
    ngx_str_t                          out;
    size_t                             sent;
    size_t                             partial;
    size_t                             bytes;
    ngx_uint_t                         replies;
    ngx_uint_t                         auth;
    ngx_uint_t                         pending_auth;
    ngx_msec_t                         dropped;
    ngx_msec_t                         logged;
    ngx_uint_t                         lines;
    ngx_uint_t                         quiet;
    unsigned                           was_dropped:1;
    unsigned                           handshaking:1;
    unsigned                           heard:1;
    unsigned                           pinged:1;
    unsigned                           paused:1;
    unsigned                           exhausted:1;
    unsigned                           flooding:1;
    unsigned                           kick:1;
};


static ngx_str_t  ngx_stream_redis_master_ping =
    ngx_string("*1\r\n$4\r\nPING\r\n");


static ngx_int_t ngx_stream_redis_master_subscriber_request(
    ngx_stream_redis_master_subscriber_t *sub);
static void ngx_stream_redis_master_subscriber_read(ngx_event_t *ev);
static void ngx_stream_redis_master_subscriber_write(ngx_event_t *ev);
#if (NGX_STREAM_SSL)
static void ngx_stream_redis_master_subscriber_tls(
    ngx_stream_redis_master_subscriber_t *sub, ngx_connection_t *c);
static void ngx_stream_redis_master_subscriber_handshaked(
    ngx_connection_t *c);
#endif
static ngx_int_t ngx_stream_redis_master_subscriber_reply(
    ngx_stream_redis_master_subscriber_t *sub, void *reply);
static ngx_int_t ngx_stream_redis_master_subscriber_feed(
    ngx_stream_redis_master_subscriber_t *sub, u_char *buf, size_t n);
static ngx_int_t ngx_stream_redis_master_subscriber_take(
    ngx_stream_redis_master_subscriber_t *sub);
static void ngx_stream_redis_master_subscriber_pause(
    ngx_stream_redis_master_subscriber_t *sub);
static void ngx_stream_redis_master_subscriber_tick(ngx_event_t *ev);
static ngx_msec_t ngx_stream_redis_master_subscriber_window(
    ngx_stream_redis_master_subscriber_t *sub);
static void ngx_stream_redis_master_subscriber_timeout(ngx_event_t *ev);
static void ngx_stream_redis_master_subscriber_drop(
    ngx_stream_redis_master_subscriber_t *sub, const char *fmt, ...);
static ngx_uint_t ngx_stream_redis_master_subscriber_may_log(
    ngx_stream_redis_master_subscriber_t *sub);
static void ngx_stream_redis_master_kick_pools(
    ngx_stream_redis_master_target_t *t);


/* the owner of a Sentinel target keeps one subscription to its events */

void
ngx_stream_redis_master_subscribe(ngx_stream_redis_master_target_t *t)
{
    ngx_int_t                              rc;
    ngx_connection_t                      *c;
    ngx_stream_redis_master_subscriber_t  *sub;

    sub = t->subscriber;

    if (sub == NULL) {
        sub = ngx_pcalloc(ngx_cycle->pool,
                          sizeof(ngx_stream_redis_master_subscriber_t));
        if (sub == NULL) {
            return;
        }

        sub->target = t;
        sub->deadline.handler = ngx_stream_redis_master_subscriber_timeout;
        sub->deadline.data = sub;
        sub->deadline.log = ngx_cycle->log;
        sub->deadline.cancelable = 1;
        sub->tick.handler = ngx_stream_redis_master_subscriber_tick;
        sub->tick.data = sub;
        sub->tick.log = ngx_cycle->log;
        sub->tick.cancelable = 1;
        t->subscriber = sub;

        if (ngx_stream_redis_master_subscriber_request(sub) != NGX_OK) {
            t->subscriber = NULL;
            return;
        }
    }

    if (sub->pc.connection) {
        return;
    }

    /*
     * A Sentinel that refused, or broke the protocol's limits, is asked
     * again once an interval, not more (a tenth early: probes come up to a
     * twentieth early).
     */

    if (sub->was_dropped
        && ngx_current_msec - sub->dropped
           < NGX_STREAM_REDIS_MASTER_ONCE(t->check->interval))
    {
        return;
    }

    rc = ngx_stream_redis_master_open_link(t, &sub->pc, &sub->reader);

    if (rc == NGX_ERROR || rc == NGX_DECLINED) {
        return;
    }

    c = sub->pc.connection;
    c->data = sub;
    c->read->handler = ngx_stream_redis_master_subscriber_read;
    c->write->handler = ngx_stream_redis_master_subscriber_write;

    sub->out = sub->request;
    sub->sent = 0;
    sub->partial = 0;
    sub->bytes = 0;
    sub->replies = 0;
    sub->pending_auth = sub->auth;
    sub->heard = 0;
    sub->pinged = 0;
    sub->paused = 0;
    sub->exhausted = 0;
    sub->flooding = 0;
    sub->kick = 0;

    ngx_add_timer(&sub->tick, ngx_stream_redis_master_subscriber_window(sub));

    if (rc == NGX_OK) {
        ngx_stream_redis_master_subscriber_write(c->write);
    }
}


void
ngx_stream_redis_master_unsubscribe(ngx_stream_redis_master_target_t *t)
{
    ngx_stream_redis_master_subscriber_t  *sub;

    sub = t->subscriber;

    if (sub == NULL) {
        return;
    }

    if (sub->deadline.timer_set) {
        ngx_del_timer(&sub->deadline);
    }

    if (sub->tick.timer_set) {
        ngx_del_timer(&sub->tick);
    }

    ngx_stream_redis_master_close_link(&sub->pc, &sub->reader);
}


/* [AUTH,] SUBSCRIBE to the failover events, built once per worker */

static ngx_int_t
ngx_stream_redis_master_subscriber_request(
    ngx_stream_redis_master_subscriber_t *sub)
{
    u_char     *p;
    ngx_str_t   args[6];

    p = ngx_stream_redis_master_request(ngx_cycle->pool, sub->target->check,
                                        NGX_STREAM_REDIS_MASTER_SUBSCRIBE_SIZE,
                                        &sub->request);
    if (p == NULL) {
        return NGX_ERROR;
    }

    sub->auth = (sub->target->check->password.len != 0);

    /*
     * Besides the end of a failover and the master going down, the moment
     * the leader promotes a replica: checking then finds the promoted
     * replica before the old master takes writes that would be lost.
     */

    ngx_str_set(&args[0], "SUBSCRIBE");
    ngx_str_set(&args[1], "+switch-master");
    ngx_str_set(&args[2], "+odown");
    ngx_str_set(&args[3], "+sdown");
    ngx_str_set(&args[4], "+failover-state-wait-promotion");
    ngx_str_set(&args[5], "+failover-state-reconf-slaves");

    p = ngx_stream_redis_master_command(p, 6, args);

    sub->request.len = p - sub->request.data;

    return NGX_OK;
}


static void
ngx_stream_redis_master_subscriber_write(ngx_event_t *ev)
{
    ssize_t                                n;
    ngx_connection_t                      *c;
    ngx_stream_redis_master_subscriber_t  *sub;

    c = ev->data;
    sub = c->data;

#if (NGX_STREAM_SSL)
    if (sub->target->check->ssl && c->ssl == NULL) {
        ngx_stream_redis_master_subscriber_tls(sub, c);
        return;
    }
#endif

    if (sub->sent == sub->out.len) {
        return;
    }

    n = c->send(c, sub->out.data + sub->sent, sub->out.len - sub->sent);

    if (n == NGX_ERROR) {
        ngx_stream_redis_master_subscriber_drop(sub, "lost the event "
                                                "subscription: send() "
                                                "failed");
        return;
    }

    if (n > 0) {
        sub->sent += n;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_stream_redis_master_subscriber_drop(sub, "lost the event "
                                                "subscription: cannot wait "
                                                "to write");
    }
}


static void
ngx_stream_redis_master_subscriber_read(ngx_event_t *ev)
{
    u_char                                 buf[NGX_STREAM_REDIS_MASTER_READ];
    u_char                                *error;
    ssize_t                                n;
    ngx_int_t                              rc;
    const char                            *anonymous;
    ngx_connection_t                      *c;
    ngx_stream_redis_master_subscriber_t  *sub;

    c = ev->data;
    sub = c->data;
    error = (u_char *) "";
    anonymous = "";

    if (c->close) {
        ngx_stream_redis_master_unsubscribe(sub->target);
        return;
    }

#if (NGX_STREAM_SSL)
    if (sub->target->check->ssl && c->ssl == NULL) {
        ngx_stream_redis_master_subscriber_tls(sub, c);
        return;
    }
#endif

    /* a Sentinel that sent a window's worth waits for the next window */

    if (sub->paused) {
        return;
    }

    /* first what a pause left in the reader */

    rc = ngx_stream_redis_master_subscriber_take(sub);

    while (rc == NGX_OK) {

        if (sub->bytes >= NGX_STREAM_REDIS_MASTER_EVENT_BYTES) {
            ngx_stream_redis_master_subscriber_pause(sub);
            rc = NGX_AGAIN;
            break;
        }

        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0 || n == NGX_ERROR) {

#if (NGX_STREAM_SSL)
            error = ngx_stream_redis_master_link_error(c);

            if (c->ssl && sub->target->check->ssl->certificate.len == 0) {
                anonymous = ", no client certificate sent";
            }
#endif

            ngx_stream_redis_master_subscriber_drop(sub, "lost the event "
                                                "subscription: %s%s%s%s",
                                                n ? "recv() failed"
                                                  : "connection closed",
                                                anonymous,
                                                error[0] ? ": " : "", error);
            return;
        }

        sub->bytes += n;

        rc = ngx_stream_redis_master_subscriber_feed(sub, buf, n);
    }

    if (rc == NGX_ERROR) {
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_stream_redis_master_subscriber_drop(sub, "lost the event "
                                                "subscription: cannot wait "
                                                "to read");
        return;
    }

    /*
     * A reply begun must end in time, however slowly its bytes come, and
     * a PING must be answered in time; a paused reader waits for nobody.
     */

    if (sub->paused || (sub->partial == 0 && !sub->pinged)) {
        if (sub->deadline.timer_set) {
            ngx_del_timer(&sub->deadline);
        }

    } else if (!sub->deadline.timer_set) {
        ngx_add_timer(&sub->deadline, sub->target->check->timeout);
    }
}


#if (NGX_STREAM_SSL)

/* TLS first, within the timeout of a probe */

static void
ngx_stream_redis_master_subscriber_tls(
    ngx_stream_redis_master_subscriber_t *sub, ngx_connection_t *c)
{
    ngx_int_t  rc;

    rc = ngx_stream_redis_master_link_tls(sub->target, c,
                               ngx_stream_redis_master_subscriber_handshaked);

    if (rc == NGX_AGAIN) {
        sub->handshaking = 1;

        if (!sub->deadline.timer_set) {
            ngx_add_timer(&sub->deadline, sub->target->check->timeout);
        }

        return;
    }

    ngx_stream_redis_master_subscriber_handshaked(c);
}


static void
ngx_stream_redis_master_subscriber_handshaked(ngx_connection_t *c)
{
    u_char                                 reason[
                                       NGX_STREAM_REDIS_MASTER_REASON_LEN];
    ngx_stream_redis_master_subscriber_t  *sub;

    sub = c->data;
    sub->handshaking = 0;

    if (sub->deadline.timer_set) {
        ngx_del_timer(&sub->deadline);
    }

    c->read->handler = ngx_stream_redis_master_subscriber_read;
    c->write->handler = ngx_stream_redis_master_subscriber_write;

    if (ngx_stream_redis_master_link_verified(sub->target, c, reason,
                                              sizeof(reason))
        != NGX_OK)
    {
        ngx_stream_redis_master_subscriber_drop(sub, "refused the "
                                                "subscription: %s", reason);
        return;
    }

    ngx_stream_redis_master_subscriber_write(c->write);
}

#endif


/*
 * Takes the replies that "buf" completes.  The reply in progress may grow
 * to the probes' limit and no further: hiredis would buffer an endless
 * bulk string, or build ever more objects for nested arrays, without one.
 * NGX_OK; NGX_AGAIN: paused until the next window; NGX_ERROR: dropped.
 */

static ngx_int_t
ngx_stream_redis_master_subscriber_feed(
    ngx_stream_redis_master_subscriber_t *sub, u_char *buf, size_t n)
{
    ngx_int_t  rc;

    sub->partial += n;

    if (redisReaderFeed(sub->reader, (const char *) buf, n) != REDIS_OK) {
        ngx_stream_redis_master_subscriber_drop(sub, "lost the event "
                                                "subscription: cannot buffer "
                                                "the reply");
        return NGX_ERROR;
    }

    rc = ngx_stream_redis_master_subscriber_take(sub);

    if (rc != NGX_ERROR
        && sub->partial > NGX_STREAM_REDIS_MASTER_MAX_REPLY)
    {
        ngx_stream_redis_master_subscriber_drop(sub, "sent a reply larger "
                                                "than %d bytes, dropping "
                                                "the event subscription",
                                            NGX_STREAM_REDIS_MASTER_MAX_REPLY);
        return NGX_ERROR;
    }

    return rc;
}


/*
 * Takes the complete replies in the reader, up to a window's worth, and
 * asks for one check of the upstreams however many events came.
 */

static ngx_int_t
ngx_stream_redis_master_subscriber_take(
    ngx_stream_redis_master_subscriber_t *sub)
{
    void         *reply;
    ngx_int_t     rc;
    const char   *oom;
    redisReader  *reader;

    reader = sub->reader;
    rc = NGX_OK;

    while (rc == NGX_OK) {

        if (sub->replies >= NGX_STREAM_REDIS_MASTER_EVENT_REPLIES) {
            ngx_stream_redis_master_subscriber_pause(sub);
            rc = NGX_AGAIN;
            break;
        }

        if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
            oom = (reader->err == REDIS_ERR_OOM)
                  ? " (reply over the size limits)" : "";

            ngx_stream_redis_master_subscriber_drop(sub, "broke the protocol, "
                                                    "dropping the event "
                                                    "subscription: %s%s",
                                                    reader->errstr, oom);
            rc = NGX_ERROR;
            break;
        }

        if (reply == NULL) {
            break;
        }

        /* what is left unread belongs to the next reply */
        sub->partial = reader->len - reader->pos;

        /* any reply shows the Sentinel is there: a PING's answer too */
        sub->replies++;
        sub->heard = 1;
        sub->pinged = 0;

        rc = ngx_stream_redis_master_subscriber_reply(sub, reply);
    }

    if (sub->kick) {
        sub->kick = 0;
        ngx_stream_redis_master_kick_pools(sub->target);
    }

    return rc;
}


/*
 * Stops reading until the next window.  Logged when a window runs out
 * after one that did not: once a flood, and at most once a window.
 */

static void
ngx_stream_redis_master_subscriber_pause(
    ngx_stream_redis_master_subscriber_t *sub)
{
    sub->paused = 1;
    sub->exhausted = 1;

    if (sub->flooding) {
        return;
    }

    sub->flooding = 1;

    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "redis sentinel: %V in upstream %V sent more than %d "
                  "replies or %d bytes in %Mms, reading its events once "
                  "a window while it goes on",
                  &sub->target->name, &sub->target->upstreams,
                  NGX_STREAM_REDIS_MASTER_EVENT_REPLIES,
                  NGX_STREAM_REDIS_MASTER_EVENT_BYTES,
                  ngx_stream_redis_master_subscriber_window(sub));
}


/*
 * Once a window: a new budget, reading again after a pause, and a PING
 * for a Sentinel heard from in none.  A PING that cannot even be sent
 * (the Sentinel took nothing: not yet connected, or a full send buffer)
 * runs into the same deadline.
 */

static void
ngx_stream_redis_master_subscriber_tick(ngx_event_t *ev)
{
    ngx_connection_t                      *c;
    ngx_stream_redis_master_subscriber_t  *sub;

    sub = ev->data;
    c = sub->pc.connection;

    if (c == NULL) {
        return;
    }

    if (ngx_exiting || ngx_terminate) {
        ngx_stream_redis_master_unsubscribe(sub->target);
        return;
    }

    ngx_add_timer(&sub->tick, ngx_stream_redis_master_subscriber_window(sub));

    /* a window that did not run out ends a flood */

    if (!sub->exhausted) {
        sub->flooding = 0;
    }

    sub->exhausted = 0;
    sub->bytes = 0;
    sub->replies = 0;

    if (sub->paused) {
        sub->paused = 0;

        ngx_stream_redis_master_subscriber_read(c->read);

        if (sub->pc.connection == NULL) {
            return;
        }
    }

    if (sub->heard || sub->pinged || sub->handshaking) {
        sub->heard = 0;
        return;
    }

    sub->pinged = 1;

    if (!sub->deadline.timer_set) {
        ngx_add_timer(&sub->deadline, sub->target->check->timeout);
    }

    if (sub->sent == sub->out.len && c->write->ready) {
        sub->out = ngx_stream_redis_master_ping;
        sub->sent = 0;

        ngx_stream_redis_master_subscriber_write(c->write);
    }
}


static ngx_msec_t
ngx_stream_redis_master_subscriber_window(
    ngx_stream_redis_master_subscriber_t *sub)
{
    return ngx_max(sub->target->check->interval,
                   NGX_STREAM_REDIS_MASTER_EVENT_WINDOW);
}


static void
ngx_stream_redis_master_subscriber_timeout(ngx_event_t *ev)
{
    ngx_stream_redis_master_subscriber_t  *sub;

    sub = ev->data;

    if (sub->pinged && sub->partial == 0 && !sub->handshaking) {
        ngx_stream_redis_master_subscriber_drop(sub, "went silent: no "
                                                "answer to PING in %Mms, "
                                                "dropping the event "
                                                "subscription",
                                                sub->target->check->timeout);
        return;
    }

    ngx_stream_redis_master_subscriber_drop(sub, "left %s incomplete "
                                            "for %Mms, dropping the event "
                                            "subscription",
                                            sub->handshaking
                                            ? "the TLS handshake" : "a reply",
                                            sub->target->check->timeout);
}


/* NGX_OK, or the subscription was dropped */

static ngx_int_t
ngx_stream_redis_master_subscriber_reply(
    ngx_stream_redis_master_subscriber_t *sub, void *reply)
{
    u_char     reason[NGX_STREAM_REDIS_MASTER_REASON_LEN];
    ngx_int_t  rc;

    if (sub->pending_auth) {
        sub->pending_auth = 0;

        rc = ngx_stream_redis_master_reply_auth(reply, reason,
                                                sizeof(reason));
        freeReplyObject(reply);

        if (rc != NGX_OK) {
            ngx_stream_redis_master_subscriber_drop(sub, "refused the "
                                                    "subscription: %s",
                                                    reason);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    /* a refused SUBSCRIBE (NOPERM...) */

    if (((redisReply *) reply)->type == REDIS_REPLY_ERROR) {
        (void) ngx_stream_redis_master_reply_ok(reply, "SUBSCRIBE", reason,
                                                sizeof(reason));
        freeReplyObject(reply);

        ngx_stream_redis_master_subscriber_drop(sub, "refused the "
                                                "subscription: %s", reason);
        return NGX_ERROR;
    }

    rc = ngx_stream_redis_master_reply_event(reply, &sub->target->master_name,
                                             reason, sizeof(reason));
    freeReplyObject(reply);

    if (rc != NGX_OK) {
        return NGX_OK;    /* a subscription confirmation, or another master */
    }

    /* a Sentinel that publishes without end is not logged without end */

    if (ngx_stream_redis_master_subscriber_may_log(sub)) {
        ngx_stream_redis_master_safe_text(reason, ngx_strlen(reason),
                                          sub->target->check);

        if (sub->quiet) {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis sentinel: %V in upstream %V published "
                          "\"%s\", checking again now (%ui more events "
                          "were not logged)", &sub->target->name,
                          &sub->target->upstreams, reason, sub->quiet);

        } else {
            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "redis sentinel: %V in upstream %V published "
                          "\"%s\", checking again now", &sub->target->name,
                          &sub->target->upstreams, reason);
        }

        sub->quiet = 0;

    } else {
        sub->quiet++;
    }

    /* one check for all the events of a read */
    sub->kick = 1;

    return NGX_OK;
}


/*
 * Closes the subscription, logged at most once an interval, and asks again
 * at the next check of the Sentinel once an interval has passed.
 */

static void
ngx_stream_redis_master_subscriber_drop(
    ngx_stream_redis_master_subscriber_t *sub, const char *fmt, ...)
{
    u_char   *p, *last;
    u_char    reason[NGX_STREAM_REDIS_MASTER_REASON_LEN
                     + NGX_STREAM_REDIS_MASTER_DROP_WORDS];
    va_list   args;

    if (ngx_stream_redis_master_subscriber_may_log(sub)) {
        last = reason + sizeof(reason);

        va_start(args, fmt);
        p = ngx_vslprintf(reason, last, fmt, args);
        va_end(args);

        ngx_stream_redis_master_safe_text(reason, p - reason,
                                          sub->target->check);

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "redis sentinel: %V in upstream %V %*s",
                      &sub->target->name,
                      &sub->target->upstreams, p - reason, reason);
    }

    sub->dropped = ngx_current_msec;
    sub->was_dropped = 1;
    sub->handshaking = 0;

    ngx_stream_redis_master_unsubscribe(sub->target);
}


/*
 * At most NGX_STREAM_REDIS_MASTER_EVENT_LINES lines an interval (a tenth
 * early, as probes are): a failover's few events are all logged, a
 * Sentinel that publishes without end is not.
 */

static ngx_uint_t
ngx_stream_redis_master_subscriber_may_log(
    ngx_stream_redis_master_subscriber_t *sub)
{
    ngx_msec_t  interval;

    interval = sub->target->check->interval;

    if (sub->lines == 0
        || ngx_current_msec - sub->logged
           >= NGX_STREAM_REDIS_MASTER_ONCE(interval))
    {
        sub->logged = ngx_current_msec;
        sub->lines = 0;
    }

    if (sub->lines >= NGX_STREAM_REDIS_MASTER_EVENT_LINES) {
        return 0;
    }

    sub->lines++;

    return 1;
}


/* asks for an immediate check of everything the event concerns */

static void
ngx_stream_redis_master_kick_pools(ngx_stream_redis_master_target_t *t)
{
    ngx_uint_t                            i;
    ngx_stream_redis_master_srv_conf_t  **pool;

    pool = t->pools.elts;

    for (i = 0; i < t->pools.nelts; i++) {
        ngx_stream_redis_master_kick(pool[i]->main, pool[i]->targets.elts,
                                     pool[i]->targets.nelts);
        ngx_stream_redis_master_kick(pool[i]->main, pool[i]->sentinels.elts,
                                     pool[i]->sentinels.nelts);
    }
}
