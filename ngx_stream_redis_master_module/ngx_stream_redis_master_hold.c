
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Hold during failover (redis_master wait=TIME): a connection that finds
 * no master, or whose connect to the master failed, waits unconnected
 * until a master qualifies or the wait ends.
 */


/*
 * While no master qualifies, or after a connect to the master failed, a
 * new connection is given to the proxy module as an upstream connection
 * that is still "connecting".  Its socket is not connected and not in the
 * event loop; the proxy reads what the client sends meanwhile, up to its
 * buffer, but forwards nothing.  When a master qualifies the socket is
 * connected to it and the proxy carries on as after any connect, unless
 * the client has left; at the deadline the proxy is told the connect timed
 * out, and closes the session.  Only stream (TCP, unix) sessions are held:
 * a UDP session is refused at once, as without wait=.  A connection whose
 * connect to the master failed goes back to that server only once it has
 * answered a check since: until then, the checks have not caught up with
 * the crash.
 */


#include "ngx_stream_redis_master_state.h"
#include "ngx_stream_redis_master_decision.h"
#include "ngx_stream_redis_master_hold.h"


/*
 * Linux's poll() reports POLLRDHUP (_GNU_SOURCE, which ngx_config.h
 * defines there); nginx itself includes <poll.h> only when built with its
 * poll module, which Debian's is not.
 */
#if (NGX_LINUX)
#include <poll.h>
#endif


extern ngx_module_t  ngx_stream_proxy_module;


static ngx_int_t ngx_stream_redis_master_hold_socket(ngx_peer_connection_t *pc,
    int family);
static ngx_socket_t ngx_stream_redis_master_socket(int family,
    ngx_log_t *log);
static void ngx_stream_redis_master_close_socket(ngx_socket_t s,
    ngx_log_t *log);
static ngx_uint_t ngx_stream_redis_master_may_connect(
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t master);
static void ngx_stream_redis_master_keepalive(ngx_connection_t *c);
static ngx_int_t ngx_stream_redis_master_bind(ngx_connection_t *c,
    ngx_peer_connection_t *pc);
static ngx_int_t ngx_stream_redis_master_prepare_held(
    ngx_stream_redis_master_peer_data_t *pd, ngx_peer_connection_t *pc);
static ngx_int_t ngx_stream_redis_master_watch_held(ngx_connection_t *c,
    ngx_uint_t pending);
static void ngx_stream_redis_master_connect_held(
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t master,
    ngx_log_t *log);
static void ngx_stream_redis_master_drop_held(
    ngx_stream_redis_master_peer_data_t *pd, ngx_log_t *log);
static ngx_uint_t ngx_stream_redis_master_client_left(
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t now);
static ngx_uint_t ngx_stream_redis_master_hung_up(ngx_connection_t *c,
    ngx_uint_t half_close);
static ngx_uint_t ngx_stream_redis_master_half_close(ngx_stream_session_t *s);
static void ngx_stream_redis_master_forget_held(
    ngx_stream_redis_master_peer_data_t *pd);


ngx_int_t
ngx_stream_redis_master_hold(ngx_peer_connection_t *pc, void *data)
{
    ngx_stream_redis_master_peer_data_t  *pd = data;

    ngx_stream_redis_master_target_t    **tp;
    ngx_stream_redis_master_srv_conf_t   *rmcf;

    rmcf = pd->conf;

    /* a UDP session shares the listening socket: nothing to watch */

    if (pd->session->connection->type == SOCK_DGRAM) {
        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "%s in upstream %V: a UDP session does not wait",
                      pd->failed ? "no Redis master that connects"
                                 : "no Redis master",
                      rmcf->name);
        return NGX_BUSY;
    }

    if (rmcf->nheld >= rmcf->wait_queue) {
        ngx_log_error(NGX_LOG_ERR, pc->log, 0,
                      "%s in upstream %V and %ui connections already wait "
                      "for one (wait_queue): dropping this one",
                      pd->failed ? "no Redis master that connects"
                                 : "no Redis master",
                      rmcf->name, rmcf->nheld);
        return NGX_BUSY;
    }

    tp = rmcf->targets.elts;

    /*
     * The proxy reads what the client sends meanwhile, up to its buffer,
     * and the event method reports when the client leaves, if the read
     * event is in it (a client already readable may not be): a client that
     * left is never connected (see ngx_stream_redis_master_client_left()).
     */

    if (ngx_handle_read_event(pd->session->connection->read, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_stream_redis_master_hold_socket(pc, tp[0]->sockaddr->sa_family)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* an address to show until the master is known */

    pc->sockaddr = tp[0]->sockaddr;
    pc->socklen = tp[0]->socklen;
    pc->name = rmcf->name;

    pd->deadline = ngx_current_msec + rmcf->wait;
    pd->waited = 1;
    pd->held = 1;
    pd->linked = 1;
    ngx_queue_insert_tail(&rmcf->held, &pd->queue);
    rmcf->nheld++;

    ngx_stream_redis_master_post_tracked(rmcf->main);

    if (pd->failed) {
        ngx_log_error(NGX_LOG_INFO, pc->log, 0,
                      "Redis master of upstream %V failed to connect: "
                      "waiting up to %Mms for it to answer a check, or for "
                      "another master", rmcf->name, rmcf->wait);

    } else {
        ngx_log_error(NGX_LOG_INFO, pc->log, 0,
                      "no Redis master in upstream %V: waiting up to %Mms",
                      rmcf->name, rmcf->wait);
    }

    return NGX_AGAIN;
}


/* a socket for the proxy to wait on, kept out of the event loop */

static ngx_int_t
ngx_stream_redis_master_hold_socket(ngx_peer_connection_t *pc, int family)
{
    ngx_socket_t       s;
    ngx_connection_t  *c;

    s = ngx_stream_redis_master_socket(family, pc->log);

    if (s == (ngx_socket_t) -1) {
        return NGX_ERROR;
    }

    c = ngx_get_connection(s, pc->log);

    if (c == NULL) {
        ngx_stream_redis_master_close_socket(s, pc->log);
        return NGX_ERROR;
    }

    c->type = SOCK_STREAM;
    c->recv = ngx_recv;
    c->send = ngx_send;
    c->recv_chain = ngx_recv_chain;
    c->send_chain = ngx_send_chain;
    c->sendfile = 1;
    c->log_error = pc->log_error;
    c->read->log = pc->log;
    c->write->log = pc->log;
    c->number = ngx_atomic_fetch_add(ngx_connection_counter, 1);
    c->start_time = ngx_current_msec;

    pc->connection = c;

    return NGX_OK;
}


/* a non-blocking stream socket, or -1 */

static ngx_socket_t
ngx_stream_redis_master_socket(int family, ngx_log_t *log)
{
    ngx_socket_t  s;

    s = ngx_socket(family, SOCK_STREAM, 0);

    if (s == (ngx_socket_t) -1) {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_socket_errno,
                      ngx_socket_n " failed");
        return s;
    }

    if (ngx_nonblocking(s) == -1) {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_socket_errno,
                      ngx_nonblocking_n " failed");
        ngx_stream_redis_master_close_socket(s, log);
        return (ngx_socket_t) -1;
    }

    return s;
}


static void
ngx_stream_redis_master_close_socket(ngx_socket_t s, ngx_log_t *log)
{
    if (ngx_close_socket(s) == -1) {
        ngx_log_error(NGX_LOG_CRIT, log, ngx_socket_errno,
                      ngx_close_socket_n " failed");
    }
}


/*
 * Called whenever this worker looks at routing: forgets every waiting
 * connection whose client has left, hands every other one that may go to
 * "master" to it, and drops those whose deadline has passed.  A client
 * that left must not have its commands run: it may have retried them
 * elsewhere.
 */

void
ngx_stream_redis_master_release(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t master, ngx_log_t *log)
{
    ngx_uint_t                            go;
    ngx_queue_t                          *q, *next;
    ngx_stream_redis_master_peer_data_t  *pd;

    for (q = ngx_queue_head(&rmcf->held);
         q != ngx_queue_sentinel(&rmcf->held);
         q = next)
    {
        next = ngx_queue_next(q);
        pd = ngx_queue_data(q, ngx_stream_redis_master_peer_data_t, queue);

        go = master != NGX_STREAM_REDIS_MASTER_NONE
             && ngx_stream_redis_master_may_connect(pd, master);

        /* asked of the socket itself when the session is to be connected */

        if (ngx_stream_redis_master_client_left(pd, go)) {
            ngx_stream_redis_master_unhold(pd);
            ngx_stream_redis_master_count(rmcf,
                                          NGX_STREAM_REDIS_MASTER_COUNT_LEFT,
                                          1);
            ngx_stream_redis_master_forget_held(pd);
            continue;
        }

        if (go) {
            ngx_stream_redis_master_unhold(pd);
            ngx_stream_redis_master_count(rmcf,
                                      NGX_STREAM_REDIS_MASTER_COUNT_RELEASED,
                                      1);
            ngx_stream_redis_master_connect_held(pd, master, log);
            continue;
        }

        if ((ngx_msec_int_t) (ngx_current_msec - pd->deadline) >= 0) {
            ngx_stream_redis_master_unhold(pd);
            ngx_stream_redis_master_count(rmcf,
                                      NGX_STREAM_REDIS_MASTER_COUNT_TIMED_OUT,
                                      1);
            ngx_stream_redis_master_drop_held(pd, log);
        }
    }
}


/*
 * A held connection may go to "master" unless its connect to that very
 * server failed and no probe started since has succeeded (the snapshot is
 * the one that chose "master" or, in a worker that adopted the decision,
 * one taken as it did), as the policy judges it
 * (ngx_stream_redis_master_answered_since()).
 */

static ngx_uint_t
ngx_stream_redis_master_may_connect(ngx_stream_redis_master_peer_data_t *pd,
    ngx_uint_t master)
{
    ngx_stream_redis_master_node_t  *node;

    if (!ngx_stream_redis_master_bit(pd->tried, master)) {
        return 1;
    }

    node = ngx_stream_redis_master_node_of(pd->conf, master);

    return ngx_stream_redis_master_answered_since(node, pd->kick);
}


void
ngx_stream_redis_master_unhold(void *data)
{
    ngx_stream_redis_master_peer_data_t  *pd = data;

    if (!pd->held) {
        return;
    }

    ngx_queue_remove(&pd->queue);
    pd->linked = 0;
    pd->held = 0;
    pd->conf->nheld--;

    /* $redis_master_wait_time */
    pd->wait_time = ngx_current_msec - (pd->deadline - pd->conf->wait);
}


static void
ngx_stream_redis_master_connect_held(ngx_stream_redis_master_peer_data_t *pd,
    ngx_uint_t master, ngx_log_t *log)
{
    int                      rc;
    ngx_err_t                err;
    ngx_connection_t        *c;
    ngx_stream_upstream_t   *u;
    ngx_peer_connection_t   *pc;

    u = pd->session->upstream;
    pc = &u->peer;
    c = pc->connection;

    if (ngx_stream_redis_master_use_peer(pc, pd, master) != NGX_OK) {
        ngx_stream_redis_master_drop_held(pd, log);
        return;
    }

    if (u->state) {
        u->state->peer = pc->name;
    }

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "Redis master %V of upstream %V is known after waiting "
                  "%Mms, connecting", pc->name, pd->conf->name,
                  ngx_current_msec - (pd->deadline - pd->conf->wait));

    if (ngx_stream_redis_master_prepare_held(pd, pc) != NGX_OK) {
        c->write->timedout = 1;
        ngx_post_event(c->write, &ngx_posted_events);
        return;
    }

    rc = connect(c->fd, pc->sockaddr, pc->socklen);
    err = (rc == -1) ? ngx_socket_errno : 0;

    if (rc == -1 && err != NGX_EINPROGRESS) {

        /* the proxy's connect handler reports it and ends the session */

        ngx_log_error(NGX_LOG_ERR, c->log, err, "connect() to %V failed",
                      pc->name);
        c->write->timedout = 1;
        ngx_post_event(c->write, &ngx_posted_events);
        return;
    }

    if (ngx_stream_redis_master_watch_held(c, rc == -1) != NGX_OK) {
        c->write->timedout = 1;
        ngx_post_event(c->write, &ngx_posted_events);
        return;
    }

    if (rc == 0) {
        c->write->ready = 1;
        ngx_post_event(c->write, &ngx_posted_events);
    }
}


/* the event registration of ngx_event_connect_peer(), for a held socket */

static ngx_int_t
ngx_stream_redis_master_watch_held(ngx_connection_t *c, ngx_uint_t pending)
{
    ngx_uint_t  flags;

    if (ngx_add_conn) {
        return ngx_add_conn(c);
    }

    flags = (ngx_event_flags & NGX_USE_CLEAR_EVENT) ? NGX_CLEAR_EVENT
                                                    : NGX_LEVEL_EVENT;

    if (ngx_add_event(c->read, NGX_READ_EVENT, flags) != NGX_OK) {
        return NGX_ERROR;
    }

    if (pending && ngx_add_event(c->write, NGX_WRITE_EVENT, flags) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * What ngx_event_connect_peer() would have done to a socket for this
 * master: no TCP options on a unix socket, proxy_socket_keepalive and
 * proxy_bind.  The held socket was made for the address family of the
 * upstream's first server: a master of another family (IPv4 and IPv6
 * servers mixed, or a unix socket) gets a new socket under the same
 * descriptor, which the proxy already knows.
 */

static ngx_int_t
ngx_stream_redis_master_prepare_held(ngx_stream_redis_master_peer_data_t *pd,
    ngx_peer_connection_t *pc)
{
    int                                 family;
    ngx_socket_t                        s;
    ngx_connection_t                   *c;
    ngx_stream_redis_master_target_t  **tp;

    c = pc->connection;
    tp = pd->conf->targets.elts;
    family = pc->sockaddr->sa_family;

    if (family != tp[0]->sockaddr->sa_family) {

        s = ngx_stream_redis_master_socket(family, c->log);

        if (s == (ngx_socket_t) -1) {
            return NGX_ERROR;
        }

        if (dup2(s, c->fd) == -1) {
            ngx_log_error(NGX_LOG_CRIT, c->log, ngx_socket_errno,
                          "dup2() failed");
            ngx_stream_redis_master_close_socket(s, c->log);
            return NGX_ERROR;
        }

        ngx_stream_redis_master_close_socket(s, c->log);
    }

    if (family == AF_UNIX) {
        c->tcp_nopush = NGX_TCP_NOPUSH_DISABLED;
        c->tcp_nodelay = NGX_TCP_NODELAY_DISABLED;
    }

    if (pc->so_keepalive) {
        ngx_stream_redis_master_keepalive(c);
    }

    /* proxy_bind; "transparent" is not supported for held connections */

    if (pc->local && !pc->transparent) {
        return ngx_stream_redis_master_bind(c, pc);
    }

    return NGX_OK;
}


static void
ngx_stream_redis_master_keepalive(ngx_connection_t *c)
{
    int  value;

    value = 1;

    if (setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE,
                   (const void *) &value, sizeof(int))
        == -1)
    {
        ngx_log_error(NGX_LOG_ALERT, c->log, ngx_socket_errno,
                      "setsockopt(SO_KEEPALIVE) failed, ignored");
    }
}


static ngx_int_t
ngx_stream_redis_master_bind(ngx_connection_t *c, ngx_peer_connection_t *pc)
{
#if (NGX_HAVE_IP_BIND_ADDRESS_NO_PORT)
    int        value;
    in_port_t  port;

    port = ngx_inet_get_port(pc->local->sockaddr);

    if (pc->local->sockaddr->sa_family != AF_UNIX && port == 0) {
        value = 1;

        if (setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
                       (const void *) &value, sizeof(int))
            == -1)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, ngx_socket_errno,
                          "setsockopt(IP_BIND_ADDRESS_NO_PORT) failed, "
                          "ignored");
        }
    }
#endif

    if (bind(c->fd, pc->local->sockaddr, pc->local->socklen) == -1) {
        ngx_log_error(NGX_LOG_CRIT, c->log, ngx_socket_errno,
                      "bind(%V) failed", &pc->local->name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_stream_redis_master_drop_held(ngx_stream_redis_master_peer_data_t *pd,
    ngx_log_t *log)
{
    ngx_connection_t  *c;

    c = pd->session->upstream->peer.connection;

    /* $redis_master_decision: the session got no server after all */
    pd->placed = NGX_STREAM_REDIS_MASTER_PLACED_REFUSED;

    ngx_log_error(NGX_LOG_ERR, c->log, 0,
                  "%s in upstream %V after waiting %Mms, closing the "
                  "connection", pd->failed ? "no Redis master that connects"
                                           : "no Redis master",
                  pd->conf->name, pd->conf->wait);

    /* the proxy's connect handler takes it as a connect timeout */

    c->write->timedout = 1;
    ngx_post_event(c->write, &ngx_posted_events);
}


/*
 * Whether the client of a held connection has closed it, or it failed.
 * The proxy reads a held client only until its buffer is full, and so may
 * never read the end of the stream behind what the client sent: the event
 * method reports it (pending_eof: EPOLLRDHUP, kqueue's EV_EOF) whatever is
 * left unread, but only for a read event it watches (rev->active).  Where
 * it cannot, and "now", when the session is about to be connected (the
 * report may still be in the event queue), the socket is asked.
 *
 * With proxy_half_close on, the end of the client's stream is not its
 * leaving: it may have shut down only its sending side (from here, the
 * same), and the proxy passes that on to the server and still sends the
 * replies back.  Such a client is connected; only an error or a reset
 * (or, without proxy_half_close, any end of stream) counts as leaving.
 */

static ngx_uint_t
ngx_stream_redis_master_client_left(ngx_stream_redis_master_peer_data_t *pd,
    ngx_uint_t now)
{
    ngx_uint_t         half_close;
    ngx_event_t       *rev;
    ngx_connection_t  *c;

    c = pd->session->connection;
    rev = c->read;

    if (rev->error || c->error) {
        return 1;
    }

    half_close = ngx_stream_redis_master_half_close(pd->session);

    if (!half_close && (rev->eof || rev->pending_eof)) {
        return 1;
    }

#if (NGX_HAVE_EPOLLRDHUP)
    if (!now && rev->active && (ngx_event_flags & NGX_USE_EPOLL_EVENT)
        && ngx_use_epoll_rdhup)
    {
        return 0;
    }
#endif

    if (!now && rev->active && (ngx_event_flags & NGX_USE_KQUEUE_EVENT)) {
        return 0;
    }

    return ngx_stream_redis_master_hung_up(c, half_close);
}


/*
 * Whether the peer of a socket has closed it, or reset it ("half_close":
 * only reset it), without reading.  On Linux, poll() sees the end of the
 * stream (POLLRDHUP) behind any number of unread bytes, and a reset
 * (POLLERR, POLLHUP).  Elsewhere a peek sees the end of the stream only
 * once nothing is left unread, and a reset once its error is reported.
 */

static ngx_uint_t
ngx_stream_redis_master_hung_up(ngx_connection_t *c, ngx_uint_t half_close)
{
#if (NGX_LINUX)
    int            n;
    struct pollfd  pfd;

    pfd.fd = c->fd;
    pfd.events = POLLRDHUP;
    pfd.revents = 0;

    n = poll(&pfd, 1, 0);

    if (n == -1) {
        if (ngx_socket_errno != NGX_EINTR) {
            ngx_log_error(NGX_LOG_CRIT, c->log, ngx_socket_errno,
                          "poll() failed");
        }

        return 0;
    }

    if (n == 0) {
        return 0;
    }

    if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) {
        return 1;
    }

    return !half_close && (pfd.revents & POLLRDHUP);

#else
    u_char     byte;
    ssize_t    n;
    ngx_err_t  err;

    n = recv(c->fd, &byte, 1, MSG_PEEK);

    if (n == 0) {
        return !half_close;
    }

    if (n == -1) {
        err = ngx_socket_errno;
        return err != NGX_EAGAIN && err != NGX_EINTR;
    }

    return 0;
#endif
}


/*
 * proxy_half_close of the session's server block, found through the
 * directive's own offset in the proxy module's configuration (its layout
 * is the proxy module's own): off with an nginx older than 1.21.4, which
 * has no such directive.
 */

static ngx_uint_t
ngx_stream_redis_master_half_close(ngx_stream_session_t *s)
{
    u_char         *conf;
    ngx_command_t  *cmd;

    static ngx_int_t  offset = -1;

    if (offset == -1) {
        offset = -2;

        for (cmd = ngx_stream_proxy_module.commands; cmd->name.len; cmd++) {
            if (cmd->name.len == sizeof("proxy_half_close") - 1
                && ngx_strncmp(cmd->name.data, "proxy_half_close",
                               cmd->name.len)
                   == 0
                && cmd->set == ngx_conf_set_flag_slot)
            {
                offset = cmd->offset;
                break;
            }
        }
    }

    if (offset < 0) {
        return 0;
    }

    conf = ngx_stream_get_module_srv_conf(s, ngx_stream_proxy_module);

    return *(ngx_flag_t *) (conf + offset) == 1;
}


/*
 * Ends a held session whose client left, without connecting it: the held
 * socket is closed here, since the proxy would connect a socket it knows.
 */

static void
ngx_stream_redis_master_forget_held(ngx_stream_redis_master_peer_data_t *pd)
{
    ngx_stream_session_t   *s;
    ngx_stream_upstream_t  *u;

    s = pd->session;
    u = s->upstream;

    ngx_log_error(NGX_LOG_INFO, s->connection->log, 0,
                  "client left while waiting for a Redis master in upstream "
                  "%V: dropped, nothing it sent is forwarded",
                  pd->conf->name);

    if (u->peer.connection) {
        ngx_close_connection(u->peer.connection);
        u->peer.connection = NULL;
    }

    ngx_stream_finalize_session(s, NGX_STREAM_OK);
}
