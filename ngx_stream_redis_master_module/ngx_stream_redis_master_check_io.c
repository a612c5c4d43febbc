
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * One probe on the checker's link, from the connect (and TLS handshake)
 * to the replies interpreted and recorded, and the time of the next one.
 */


#include "ngx_stream_redis_master_checker.h"
#include "ngx_stream_redis_master_balancer.h"


static ngx_msec_t ngx_stream_redis_master_next_delay(
    ngx_stream_redis_master_checker_t *ck);
static ngx_int_t ngx_stream_redis_master_connect(
    ngx_stream_redis_master_checker_t *ck);
static ngx_int_t ngx_stream_redis_master_test_connect(
    ngx_stream_redis_master_checker_t *ck, ngx_connection_t *c);
#if (NGX_STREAM_SSL)
static void ngx_stream_redis_master_handshake(
    ngx_stream_redis_master_checker_t *ck, ngx_connection_t *c);
static void ngx_stream_redis_master_handshaked(ngx_connection_t *c);
#endif
static void ngx_stream_redis_master_log_retry(
    ngx_stream_redis_master_checker_t *ck);
static void ngx_stream_redis_master_io_failed(
    ngx_stream_redis_master_checker_t *ck, ngx_connection_t *c,
    ngx_err_t err, const char *what);
static void ngx_stream_redis_master_write_handler(ngx_event_t *ev);
static void ngx_stream_redis_master_read_handler(ngx_event_t *ev);
static ngx_int_t ngx_stream_redis_master_feed(
    ngx_stream_redis_master_checker_t *ck, u_char *buf, size_t n);
static ngx_int_t ngx_stream_redis_master_interpret(
    ngx_stream_redis_master_checker_t *ck, void *reply);
static void ngx_stream_redis_master_done(ngx_stream_redis_master_checker_t *ck,
    ngx_uint_t ok);
static void ngx_stream_redis_master_kick_discover(
    ngx_stream_redis_master_checker_t *ck);


void
ngx_stream_redis_master_send_probe(ngx_stream_redis_master_checker_t *ck)
{
    /* a link kept open since the last probe may be closed under this one */
    ck->reused = (ck->pc.connection != NULL);

    if (ck->pc.connection == NULL) {
        if (ngx_stream_redis_master_connect(ck) != NGX_OK) {
            return;
        }

        if (ck->connecting) {
            return;
        }
    }

    ngx_stream_redis_master_write_handler(ck->pc.connection->write);
}


static ngx_int_t
ngx_stream_redis_master_connect(ngx_stream_redis_master_checker_t *ck)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    rc = ngx_stream_redis_master_open_link(ck->target, &ck->pc, &ck->reader);

    if (rc == NGX_ERROR) {
        ngx_stream_redis_master_fail(ck, ngx_socket_errno,
                                     "connect() failed");
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_stream_redis_master_fail(ck, 0, "cannot create a reply reader");
        return NGX_ERROR;
    }

    c = ck->pc.connection;
    c->data = ck;
    c->read->handler = ngx_stream_redis_master_read_handler;
    c->write->handler = ngx_stream_redis_master_write_handler;

    ck->connecting = (rc == NGX_AGAIN);

    return NGX_OK;
}


/*
 * Whichever event comes first after a non-blocking connect() reports how
 * it went, so that a refused connection is logged as such.
 */

static ngx_int_t
ngx_stream_redis_master_test_connect(ngx_stream_redis_master_checker_t *ck,
    ngx_connection_t *c)
{
    int        err;
    socklen_t  len;

    if (!ck->connecting) {
        return NGX_OK;
    }

    ck->connecting = 0;
    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_stream_redis_master_fail(ck, err, "connect() failed");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_stream_redis_master_write_handler(ngx_event_t *ev)
{
    ssize_t                             n;
    ngx_connection_t                   *c;
    ngx_stream_redis_master_checker_t  *ck;

    c = ev->data;
    ck = c->data;

    if (!ck->busy || ck->sent == ck->request.len) {
        return;
    }

    if (ngx_stream_redis_master_test_connect(ck, c) != NGX_OK) {
        return;
    }

#if (NGX_STREAM_SSL)
    if (ck->target->check->ssl && c->ssl == NULL) {
        ngx_stream_redis_master_handshake(ck, c);
        return;
    }
#endif

    n = c->send(c, ck->request.data + ck->sent, ck->request.len - ck->sent);

    if (n == NGX_ERROR) {
        ngx_stream_redis_master_io_failed(ck, c, ngx_socket_errno,
                                          "send() failed");
        return;
    }

    if (n > 0) {
        ck->sent += n;
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        ngx_stream_redis_master_fail(ck, 0, "cannot wait to write");
    }
}


static void
ngx_stream_redis_master_read_handler(ngx_event_t *ev)
{
    u_char                              buf[NGX_STREAM_REDIS_MASTER_READ];
    ssize_t                             n;
    ngx_connection_t                   *c;
    ngx_stream_redis_master_checker_t  *ck;

    c = ev->data;
    ck = c->data;

    if (c->close) {
        ngx_stream_redis_master_close(ck);
        ngx_stream_redis_master_disown(ck->rmmcf);
        return;
    }

    if (ngx_stream_redis_master_test_connect(ck, c) != NGX_OK) {
        return;
    }

#if (NGX_STREAM_SSL)
    if (ck->target->check->ssl && c->ssl == NULL && ck->busy) {
        ngx_stream_redis_master_handshake(ck, c);
        return;
    }
#endif

    for ( ;; ) {
        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (!ck->busy) {

            /* between probes: the server closed, or spoke out of turn */

            ngx_log_debug2(NGX_LOG_DEBUG_STREAM, ngx_cycle->log, 0,
                           "redis check: %V idle connection got %z",
                           &ck->target->name, n);

            ngx_stream_redis_master_close(ck);
            return;
        }

        if (n == 0 || n == NGX_ERROR) {
            ngx_stream_redis_master_io_failed(ck, c,
                                              n ? ngx_socket_errno : 0,
                                              n ? "recv() failed"
                                                : "connection closed by "
                                                  "server");
            return;
        }

        if (ngx_stream_redis_master_feed(ck, buf, n) != NGX_AGAIN) {
            return;
        }
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_stream_redis_master_fail(ck, 0, "cannot wait to read");
    }
}


#if (NGX_STREAM_SSL)

static void
ngx_stream_redis_master_handshake(ngx_stream_redis_master_checker_t *ck,
    ngx_connection_t *c)
{
    ngx_int_t  rc;

    rc = ngx_stream_redis_master_link_tls(ck->target, c,
                                          ngx_stream_redis_master_handshaked);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_stream_redis_master_handshaked(c);
}


/* the handshake ended: on to the request, if the server is the right one */

static void
ngx_stream_redis_master_handshaked(ngx_connection_t *c)
{
    ngx_stream_redis_master_checker_t  *ck;

    ck = c->data;

    c->read->handler = ngx_stream_redis_master_read_handler;
    c->write->handler = ngx_stream_redis_master_write_handler;

    if (!ck->busy) {
        ngx_stream_redis_master_close(ck);
        return;
    }

    if (ngx_stream_redis_master_link_verified(ck->target, c, ck->reason,
                                           NGX_STREAM_REDIS_MASTER_REASON_LEN)
        != NGX_OK)
    {
        ngx_stream_redis_master_done(ck, 0);
        return;
    }

    ngx_stream_redis_master_write_handler(c->write);
}

#endif


/*
 * A failed send() or recv(): on a TLS link the reason is what the TLS
 * layer logged (an alert from the server, as when it wants a client
 * certificate), not an errno.  With TLS 1.3 a server refuses a client
 * without a certificate only after the client's handshake has ended, on a
 * read or, as a reset, on a write: a link without a certificate gets one
 * reason, whichever comes, so that its failures are logged once an
 * interval (what the TLS layer said is in the "redis link:" line).
 */

static void
ngx_stream_redis_master_io_failed(ngx_stream_redis_master_checker_t *ck,
    ngx_connection_t *c, ngx_err_t err, const char *what)
{
#if (NGX_STREAM_SSL)
    u_char  *error;
#endif

    /*
     * A link kept open since the last probe that the server closes or
     * resets before a byte of the answer (an idle timeout, CLIENT KILL,
     * crossing the probe) says nothing of the server yet: the probe is
     * made again, once, on a new link, within the same timeout.
     */

    if (ck->reused && ck->received == 0) {
        ngx_log_debug1(NGX_LOG_DEBUG_STREAM, ngx_cycle->log, 0,
                       "redis check: %V closed the kept-open link before "
                       "answering, probing again on a new one",
                       &ck->target->name);

        ngx_stream_redis_master_log_retry(ck);

#if (NGX_STREAM_SSL)
        if (c->ssl) {
            ngx_stream_redis_master_link_error(c)[0] = '\0';
        }
#endif

        ck->sent = 0;
        ngx_stream_redis_master_close(ck);
        ngx_stream_redis_master_send_probe(ck);
        return;
    }

#if (NGX_STREAM_SSL)
    if (c->ssl) {
        error = ngx_stream_redis_master_link_error(c);

        if (ck->target->check->ssl->certificate.len == 0) {
            error[0] = '\0';
            ngx_stream_redis_master_fail(ck, 0, "TLS link lost, no client "
                                         "certificate sent (the server may "
                                         "require one)");
            return;
        }

        ngx_stream_redis_master_fail(ck, 0, "TLS %s%s%s", what,
                                     error[0] ? ": " : "", error);
        error[0] = '\0';
        return;
    }
#endif

    ngx_stream_redis_master_fail(ck, err, "%s", what);
}


/*
 * A server that closes every kept-open link costs two connects a probe:
 * said at notice level, at most once an interval for each target, with
 * how many such retries were not logged since.
 */

static void
ngx_stream_redis_master_log_retry(ngx_stream_redis_master_checker_t *ck)
{
    ngx_stream_redis_master_target_t  *t;

    t = ck->target;

    if (ck->retry_once_logged
        && ngx_current_msec - ck->retry_logged < t->check->interval)
    {
        ck->retries_quiet++;
        return;
    }

    if (ck->retries_quiet) {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "redis check: %V in upstream %V closed the kept-open "
                      "link before answering, probing again on a new one "
                      "(%ui more times since the last such line)",
                      &t->name, &t->upstreams, ck->retries_quiet);

    } else {
        ngx_log_error(NGX_LOG_NOTICE, ngx_cycle->log, 0,
                      "redis check: %V in upstream %V closed the kept-open "
                      "link before answering, probing again on a new one",
                      &t->name, &t->upstreams);
    }

    ck->retry_logged = ngx_current_msec;
    ck->retry_once_logged = 1;
    ck->retries_quiet = 0;
}


/* NGX_AGAIN while more replies are due; else the probe has ended */

static ngx_int_t
ngx_stream_redis_master_feed(ngx_stream_redis_master_checker_t *ck,
    u_char *buf, size_t n)
{
    void  *reply;

    ck->received += n;

    if (ck->received > NGX_STREAM_REDIS_MASTER_MAX_REPLY) {
        ngx_stream_redis_master_fail(ck, 0, "reply larger than %d bytes",
                                     NGX_STREAM_REDIS_MASTER_MAX_REPLY);
        return NGX_ERROR;
    }

    if (redisReaderFeed(ck->reader, (const char *) buf, n) != REDIS_OK) {
        ngx_stream_redis_master_fail(ck, 0, "cannot buffer the reply");
        return NGX_ERROR;
    }

    while (ck->got < ck->expect) {

        if (redisReaderGetReply(ck->reader, &reply) != REDIS_OK) {
            ngx_stream_redis_master_fail(ck, 0, "protocol error: %s%s",
                                         ck->reader->errstr,
                                         ck->reader->err == REDIS_ERR_OOM
                                         ? " (reply over the size limits)"
                                         : "");
            return NGX_ERROR;
        }

        if (reply == NULL) {
            return NGX_AGAIN;
        }

        if (ngx_stream_redis_master_interpret(ck, reply) != NGX_OK) {
            ngx_stream_redis_master_done(ck, 0);
            return NGX_ERROR;
        }

        ck->got++;
    }

    if (ck->reader->pos < ck->reader->len) {
        ngx_stream_redis_master_fail(ck, 0, "unexpected data after the "
                                     "replies");
        return NGX_ERROR;
    }

    ngx_stream_redis_master_done(ck, 1);

    return NGX_OK;
}


static ngx_int_t
ngx_stream_redis_master_interpret(ngx_stream_redis_master_checker_t *ck,
    void *reply)
{
    u_char     *reason;
    size_t      len;
    ngx_int_t   rc;

    reason = ck->reason;
    len = NGX_STREAM_REDIS_MASTER_REASON_LEN;

    if (ck->got < ck->auth) {
        rc = ngx_stream_redis_master_reply_auth(reply, reason, len);

    } else if (ck->target->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL) {
        rc = (ck->got == ck->auth)
             ? ngx_stream_redis_master_reply_master_addr(reply, &ck->info,
                                                         reason, len)
             : (ck->got == ck->auth + 1)
             ? ngx_stream_redis_master_reply_sentinel_master(reply,
                                                             &ck->info,
                                                             reason, len)
             : ngx_stream_redis_master_reply_replicas(reply, &ck->info,
                                                      ck->report, reason,
                                                      len);

    } else if (ck->got == ck->auth) {
        rc = ngx_stream_redis_master_reply_pong(reply, reason, len);

        /*
         * -BUSY, -MISCONF: the server answers, so it is alive and still
         * what it was: a stall, as a probe that times out on a connection
         * the server accepted.  -MASTERDOWN: the INFO replies tell.
         */

        if (rc == NGX_STREAM_REDIS_MASTER_STALL) {
            ck->stalled = 1;
            rc = NGX_ERROR;

        } else if (rc == NGX_DECLINED) {
            rc = NGX_OK;
        }

    } else {
        rc = ngx_stream_redis_master_reply_info(reply, &ck->info, reason,
                                                len);
    }

    freeReplyObject(reply);

    return rc;
}


void
ngx_stream_redis_master_fail(ngx_stream_redis_master_checker_t *ck,
    ngx_err_t err, const char *fmt, ...)
{
    u_char   *p, *last;
    va_list   args;

    last = ck->reason + NGX_STREAM_REDIS_MASTER_REASON_LEN - 1;

    va_start(args, fmt);
    p = ngx_vslprintf(ck->reason, last, fmt, args);
    va_end(args);

    if (err) {
        p = ngx_slprintf(p, last, " (%d: ", err);
        p = ngx_strerror(err, p, last - p);
        p = ngx_slprintf(p, last, ")");
    }

    *p = '\0';

    ngx_stream_redis_master_done(ck, 0);
}


static void
ngx_stream_redis_master_done(ngx_stream_redis_master_checker_t *ck,
    ngx_uint_t ok)
{
    ngx_stream_redis_master_node_t         before, after;
    ngx_stream_redis_master_info_t        *info;
    ngx_stream_redis_master_check_conf_t  *cc;

    ck->busy = 0;

    /*
     * Whatever the server said (what the TLS layer or hiredis quoted of it
     * too), the reason and the texts of the INFO replies are kept only as
     * ngx_stream_redis_master_safe_text() makes them: the credentials
     * masked in the bytes as they came, then printable.
     */

    cc = ck->target->check;
    info = &ck->info;

    ngx_stream_redis_master_safe_text(ck->reason, ngx_strlen(ck->reason),
                                      cc);
    ngx_stream_redis_master_safe_text(info->master_host,
                                      ngx_strlen(info->master_host), cc);
    ngx_stream_redis_master_safe_text(info->replid, ngx_strlen(info->replid),
                                      cc);
    ngx_stream_redis_master_safe_text(info->replid2,
                                      ngx_strlen(info->replid2), cc);

    if (ck->timer.timer_set) {
        ngx_del_timer(&ck->timer);
    }

    if (!ok) {
        ngx_stream_redis_master_close(ck);
    }

    /*
     * discover=: the servers this Sentinel reports, before its node says
     * it is up; a change has the names that read it look at once.
     */

    if (ok && ck->report
        && ngx_stream_redis_master_report(ck->target, ck->report))
    {
        ngx_stream_redis_master_kick_discover(ck);
    }

    ngx_stream_redis_master_record(ck->target, ok ? &ck->info : NULL,
                                   ck->kick_start, ck->reason,
                                   ngx_strlen(ck->reason), ck->stalled,
                                   ngx_current_msec - ck->started,
                                   ck->epoch, ngx_cycle->log, &before,
                                   &after);

    /* this worker acts at once; the others on their next sweep */
    ngx_stream_redis_master_recorded_probe(ck->target, &before, &after);

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    if (ok && ck->target->kind == NGX_STREAM_REDIS_MASTER_KIND_SENTINEL) {
        ngx_stream_redis_master_subscribe(ck->target);
    }

    ngx_add_timer(&ck->timer, ngx_stream_redis_master_next_delay(ck));
}


/* the names of discover= that read this Sentinel: they look again now */

static void
ngx_stream_redis_master_kick_discover(ngx_stream_redis_master_checker_t *ck)
{
    ngx_uint_t                             i, j;
    ngx_stream_redis_master_target_t      *t;
    ngx_stream_redis_master_srv_conf_t   **pools;
    ngx_stream_redis_master_name_conf_t   *nc;

    pools = ck->target->pools.elts;

    for (i = 0; i < ck->target->pools.nelts; i++) {

        if (pools[i]->names == NULL) {
            continue;
        }

        nc = pools[i]->names->elts;

        for (j = 0; j < pools[i]->names->nelts; j++) {
            if (nc[j].discover) {
                t = nc[j].target;
                (void) ngx_stream_redis_master_kick(ck->rmmcf, &t, 1);
            }
        }
    }
}


static ngx_msec_t
ngx_stream_redis_master_next_delay(ngx_stream_redis_master_checker_t *ck)
{
    ngx_msec_t  interval, early, span;

    interval = ck->target->check->interval;

    /*
     * While no master is known, or just after a failover event, look ten
     * times as often for the new one.
     */

    if (ngx_stream_redis_master_lacks_master(ck->target)
        || (ngx_msec_int_t) (ck->fast_until - ngx_current_msec) > 0)
    {
        interval = ngx_max(interval / NGX_STREAM_REDIS_MASTER_FAST_FACTOR,
                           NGX_STREAM_REDIS_MASTER_MIN_FAST);
        interval = ngx_min(interval, ck->target->check->interval);
    }

    /*
     * Up to a twentieth early or late, so that probes of many servers
     * drift apart while each server is probed once an interval on average.
     */

    early = interval / NGX_STREAM_REDIS_MASTER_JITTER;
    span = interval / (NGX_STREAM_REDIS_MASTER_JITTER / 2);

    return ngx_stream_redis_master_slot(interval - early
                                        + ngx_random() % (span + 1),
                                        interval);
}


/*
 * Moves a delay to the nearest slot of a grid that every timer of the
 * checks shares: a twentieth of the interval, at most
 * NGX_STREAM_REDIS_MASTER_SLOT.  Probes that fall due in one slot expire
 * together, and with the sweep, so a worker probing a thousand servers
 * wakes up twenty times an interval instead of a thousand; rounding to the
 * nearest slot keeps the mean delay, and so one probe per server per
 * interval.
 */

ngx_msec_t
ngx_stream_redis_master_slot(ngx_msec_t delay, ngx_msec_t interval)
{
    ngx_msec_t  slot, due;

    slot = ngx_min(interval / NGX_STREAM_REDIS_MASTER_SLOTS,
                   NGX_STREAM_REDIS_MASTER_SLOT);

    if (slot < 2) {
        return delay;
    }

    due = ngx_current_msec + delay + slot / 2;
    due -= due % slot;

    return (ngx_msec_int_t) (due - ngx_current_msec) > 0
           ? due - ngx_current_msec : 1;
}


void
ngx_stream_redis_master_close(ngx_stream_redis_master_checker_t *ck)
{
    if (ck->resolving) {
        ngx_resolve_name_done(ck->resolving);
        ck->resolving = NULL;
    }

    ngx_stream_redis_master_close_link(&ck->pc, &ck->reader);
    ck->connecting = 0;
}
