
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Wire: the link to a target that the checker and the Sentinel subscriber
 * each keep open (its TLS, its reply reader), and the RESP requests they
 * send on it.
 */


#include "ngx_stream_redis_master_wire.h"

#include <hiredis/hiredis.h>


/*
 * The RESP framing of "AUTH username password", the most a request adds
 * before its commands besides the credentials: "*3\r\n" (4 bytes),
 * "$4\r\nAUTH\r\n" (10) and, around each credential, "$", its length in
 * at most 20 digits and two "\r\n" (25 each).
 */

#define NGX_STREAM_REDIS_MASTER_AUTH_FRAMING  64


/*
 * A TLS link's pool: it holds the link's log with its last error line
 * (ngx_stream_redis_master_link_log_t, under 256 bytes) and nginx's record
 * of the TLS connection; what does not fit goes to the pool's large
 * allocations, so this is no limit.
 */

#define NGX_STREAM_REDIS_MASTER_LINK_POOL     512


#if (NGX_STREAM_SSL)

static void ngx_stream_redis_master_tls_capture(ngx_log_t *log,
    ngx_uint_t level, u_char *buf, size_t len);
static void ngx_stream_redis_master_save_session(ngx_connection_t *c);


/*
 * nginx's TLS calls log why they failed, and take the reason off
 * OpenSSL's error queue as they do: each TLS link logs through a log of
 * its own, in the link's pool, which keeps the last such line for that
 * link's failure ("wdata" is its "error"), so that no link reports
 * another's.  It passes the line on to the error log at info level at
 * most: the probe's failure is logged there already, with its reason, and
 * no more often than once an interval, however often a server makes the
 * TLS layer fail.
 */

typedef struct {
    ngx_log_t                              log;
    ngx_stream_redis_master_check_conf_t  *check;
    u_char                                 error[
                                           NGX_STREAM_REDIS_MASTER_REASON_LEN];
} ngx_stream_redis_master_link_log_t;

#endif


/*
 * A request buffer with room for "size" bytes of commands after the AUTH
 * that the settings ask for, which is written first; returns where the
 * next command goes.
 */

u_char *
ngx_stream_redis_master_request(ngx_pool_t *pool,
    ngx_stream_redis_master_check_conf_t *cc, size_t size,
    ngx_str_t *request)
{
    u_char     *p;
    ngx_str_t   args[3];

    /* three bulk headers, "AUTH" and the credentials */

    size += NGX_STREAM_REDIS_MASTER_AUTH_FRAMING
            + cc->username.len + cc->password.len;

    p = ngx_pnalloc(pool, size);
    if (p == NULL) {
        return NULL;
    }

    request->data = p;

    if (cc->password.len == 0) {
        return p;
    }

    ngx_str_set(&args[0], "AUTH");

    if (cc->username.len == 0) {
        args[1] = cc->password;
        return ngx_stream_redis_master_command(p, 2, args);
    }

    args[1] = cc->username;
    args[2] = cc->password;

    return ngx_stream_redis_master_command(p, 3, args);
}


/* a command as a RESP array of bulk strings */

u_char *
ngx_stream_redis_master_command(u_char *p, ngx_uint_t n, ngx_str_t *args)
{
    ngx_uint_t  i;

    p = ngx_sprintf(p, "*%ui\r\n", n);

    for (i = 0; i < n; i++) {
        p = ngx_sprintf(p, "$%uz\r\n%V\r\n", args[i].len, &args[i]);
    }

    return p;
}


/*
 * A kept-open connection to target "t" and its reply reader, as the
 * checker and the Sentinel subscriber each hold one.  NGX_OK: connected;
 * NGX_AGAIN: connecting; NGX_ERROR: the connect failed (the cause is in
 * ngx_socket_errno); NGX_DECLINED: no reader, and nothing is left open.
 */

ngx_int_t
ngx_stream_redis_master_open_link(ngx_stream_redis_master_target_t *t,
    ngx_peer_connection_t *pc, redisReader **reader)
{
    ngx_int_t                            rc;
#if (NGX_STREAM_SSL)
    ngx_pool_t                          *pool;
    ngx_stream_redis_master_link_log_t  *ll;

    pool = NULL;
#endif

    ngx_memzero(pc, sizeof(ngx_peer_connection_t));

    pc->sockaddr = t->sockaddr;
    pc->socklen = t->socklen;
    pc->name = &t->name;
    pc->get = ngx_event_get_peer;
    pc->log = ngx_cycle->log;
    pc->log_error = NGX_ERROR_INFO;

#if (NGX_STREAM_SSL)
    if (t->check->ssl) {

        /* a TLS link has a pool, closed with it, that holds its log */

        pool = ngx_create_pool(NGX_STREAM_REDIS_MASTER_LINK_POOL,
                               ngx_cycle->log);
        if (pool == NULL) {
            return NGX_DECLINED;
        }

        ll = ngx_pcalloc(pool, sizeof(ngx_stream_redis_master_link_log_t));
        if (ll == NULL) {
            ngx_destroy_pool(pool);
            return NGX_DECLINED;
        }

        ll->log = *ngx_cycle->log;
        ll->check = t->check;
        ll->log.log_level = ngx_max(ngx_cycle->log->log_level, NGX_LOG_INFO);
        ll->log.writer = ngx_stream_redis_master_tls_capture;
        ll->log.wdata = ll->error;
        ll->log.next = NULL;
        ll->log.handler = NULL;
        ll->log.action = NULL;

        pc->log = &ll->log;
    }
#endif

    rc = ngx_event_connect_peer(pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        pc->connection = NULL;

#if (NGX_STREAM_SSL)
        if (pool) {
            ngx_destroy_pool(pool);
        }
#endif

        return NGX_ERROR;
    }

#if (NGX_STREAM_SSL)
    pc->connection->pool = pool;
#endif

    *reader = ngx_stream_redis_master_reader_create();
    if (*reader == NULL) {
        ngx_stream_redis_master_close_link(pc, reader);
        return NGX_DECLINED;
    }

    /* a graceful shutdown closes it and hands the target over at once */
    pc->connection->idle = 1;

    return rc;
}


void
ngx_stream_redis_master_close_link(ngx_peer_connection_t *pc,
    redisReader **reader)
{
    ngx_pool_t  *pool;

    if (pc->connection) {

#if (NGX_STREAM_SSL)
        if (pc->connection->ssl) {
            pc->connection->ssl->no_wait_shutdown = 1;
            pc->connection->ssl->no_send_shutdown = 1;
            (void) ngx_ssl_shutdown(pc->connection);
        }
#endif

        pool = pc->connection->pool;

        ngx_close_connection(pc->connection);
        pc->connection = NULL;

        if (pool) {
            ngx_destroy_pool(pool);
        }
    }

    if (*reader) {
        redisReaderFree(*reader);
        *reader = NULL;
    }
}


#if (NGX_STREAM_SSL)

/*
 * Starts TLS on the connected link "c" of target "t", resuming the last
 * session.  NGX_AGAIN: "handler" is called when the handshake ends;
 * otherwise it has ended (see ngx_stream_redis_master_link_verified()).
 * The data of "c" must start with a pointer to "t", as the checker's and
 * the subscriber's do.
 */

ngx_int_t
ngx_stream_redis_master_link_tls(ngx_stream_redis_master_target_t *t,
    ngx_connection_t *c, ngx_connection_handler_pt handler)
{
    ngx_int_t                            rc;
    ngx_stream_redis_master_ssl_conf_t  *sc;

    sc = t->check->ssl;

    /* open_link() gave a TLS link its pool and its log */

    if (c->pool == NULL
        || c->log->writer != ngx_stream_redis_master_tls_capture)
    {
        return NGX_ERROR;
    }

    *(u_char *) c->log->wdata = '\0';

    if (ngx_ssl_create_connection(sc->ssl, c, NGX_SSL_CLIENT) != NGX_OK) {
        return NGX_ERROR;
    }

#ifdef SSL_CTRL_SET_TLSEXT_HOSTNAME

    /* as per RFC 6066, literal IPv4 and IPv6 addresses are not sent */

    if (sc->server_name
        && t->ssl_name.len
        && t->ssl_name.data[0] != '['
        && ngx_inet_addr(t->ssl_name.data, t->ssl_name.len) == INADDR_NONE)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_STREAM, ngx_cycle->log, 0,
                       "redis link: SSL server name: \"%V\"", &t->ssl_name);

        if (SSL_set_tlsext_host_name(c->ssl->connection,
                                     (char *) t->ssl_name.data)
            == 0)
        {
            ngx_ssl_error(NGX_LOG_ERR, c->log, 0,
                          "SSL_set_tlsext_host_name(\"%s\") failed",
                          t->ssl_name.data);
            return NGX_ERROR;
        }
    }

#endif

    if (sc->session_reuse) {
        c->ssl->save_session = ngx_stream_redis_master_save_session;

        if (t->ssl_session
            && ngx_ssl_set_session(c, t->ssl_session) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = handler;
    }

    return rc;
}


/*
 * Whether the handshake of "c" succeeded and the server's certificate is
 * as the settings require; if not, "reason" tells why.
 */

ngx_int_t
ngx_stream_redis_master_link_verified(ngx_stream_redis_master_target_t *t,
    ngx_connection_t *c, u_char *reason, size_t len)
{
    long                                 rc;
    u_char                              *last, *error;
    ngx_stream_redis_master_ssl_conf_t  *sc;

    sc = t->check->ssl;
    last = reason + len - 1;

    if (c->ssl == NULL || !c->ssl->handshaked) {
        error = ngx_stream_redis_master_link_error(c);

        *ngx_slprintf(reason, last, "TLS handshake failed%s%s",
                      error[0] ? ": " : "", error) = '\0';
        error[0] = '\0';
        return NGX_ERROR;
    }

    if (!sc->verify) {
        return NGX_OK;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        *ngx_slprintf(reason, last, "TLS certificate verify error: (%l:%s)",
                      rc, X509_verify_cert_error_string(rc)) = '\0';
        return NGX_ERROR;
    }

    if (ngx_ssl_check_host(c, &t->ssl_name) != NGX_OK) {
        *ngx_slprintf(reason, last, "TLS certificate does not match \"%V\"",
                      &t->ssl_name) = '\0';
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * What nginx's TLS layer logged about the last failed call on this link,
 * for a failure's reason ("" if nothing was logged).  A caller may write
 * a '\0' at its start, once it has used it.
 */

u_char *
ngx_stream_redis_master_link_error(ngx_connection_t *c)
{
    static u_char  none[1];

    if (c == NULL || c->ssl == NULL
        || c->log->writer != ngx_stream_redis_master_tls_capture)
    {
        none[0] = '\0';
        return none;
    }

    return c->log->wdata;
}


/* on exit: the session a target kept is OpenSSL's, not in a pool */

void
ngx_stream_redis_master_link_forget(ngx_stream_redis_master_target_t *t)
{
    if (t->ssl_session) {
        ngx_ssl_free_session(t->ssl_session);
        t->ssl_session = NULL;
    }
}


static void
ngx_stream_redis_master_save_session(ngx_connection_t *c)
{
    ngx_ssl_session_t                 *session;
    ngx_stream_redis_master_target_t  *t;

    t = *(ngx_stream_redis_master_target_t **) c->data;

    session = ngx_ssl_get_session(c);

    if (session == NULL) {
        return;
    }

    if (t->ssl_session) {
        ngx_ssl_free_session(t->ssl_session);
    }

    t->ssl_session = session;
}


/*
 * Keeps what the TLS layer says at info level or above, without the
 * time, level, process and connection that start the line, and logs it.
 */

static void
ngx_stream_redis_master_tls_capture(ngx_log_t *log, ngx_uint_t level,
    u_char *buf, size_t len)
{
    u_char  *p, *last, *error;
    u_char   text[NGX_MAX_ERROR_STR];

    error = log->wdata;
    last = buf + len;

    /* the line ends with the line feed nginx's log adds */

    while (last > buf && (last[-1] == LF || last[-1] == CR)) {
        last--;
    }

    p = ngx_strlchr(buf, last, ']');
    if (p == NULL) {
        return;
    }

    p = ngx_strlchr(p, last, ':');
    if (p == NULL || last - p < 2) {
        return;
    }

    p += 2;

    if (p < last && *p == '*') {
        while (p < last && *p != ' ') {
            p++;
        }

        p++;
    }

    if (p >= last) {
        return;
    }

    /* the line may quote what the server sent: it is made safe first */

    len = ngx_min((size_t) (last - p), sizeof(text) - 1);

    ngx_memcpy(text, p, len);
    ngx_stream_redis_master_safe_text(text, len,
                                      ((ngx_stream_redis_master_link_log_t *)
                                       log)->check);

    ngx_log_error(ngx_max(level, NGX_LOG_INFO), ngx_cycle->log, 0,
                  "redis link: %*s", len, text);

    if (level > NGX_LOG_INFO) {
        return;
    }

    len = ngx_min(len, NGX_STREAM_REDIS_MASTER_REASON_LEN - 1);

    ngx_memcpy(error, text, len);
    error[len] = '\0';
}

#endif
