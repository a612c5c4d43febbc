
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Unit tests of how a held connection sees its client leave
 * (ngx_stream_redis_master_hung_up() and _client_left() of
 * ngx_stream_redis_master_hold.c, compiled in here unchanged): a real TCP
 * connection over the loopback, the client's end played by the test, more
 * sent than a proxy buffer and left unread.  The nginx functions the rest
 * of that file calls are doubles that abort: these paths never reach them.
 * Prints TAP.
 */


#include "ngx_stream_redis_master_hold.c"

#include <stdio.h>
#include <stdlib.h>
#include <poll.h>


/* doubles of what nginx and the module's other files provide */

volatile ngx_cycle_t  *ngx_cycle;
volatile ngx_msec_t    ngx_current_msec;
ngx_atomic_t          *ngx_connection_counter;
ngx_event_actions_t    ngx_event_actions;
ngx_os_io_t            ngx_io;
ngx_queue_t            ngx_posted_events;
ngx_uint_t             ngx_event_flags;
ngx_uint_t             ngx_use_epoll_rdhup;


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    fprintf(stderr, "# log: %s (errno %d)\n", fmt, (int) err);
}


#define T_UNUSED(f)  { fprintf(stderr, "%s called\n", f); abort(); }


ngx_connection_t *
ngx_get_connection(ngx_socket_t s, ngx_log_t *log)
    T_UNUSED("ngx_get_connection")


void
ngx_close_connection(ngx_connection_t *c)
    T_UNUSED("ngx_close_connection")


ngx_int_t
ngx_handle_read_event(ngx_event_t *rev, ngx_uint_t flags)
    T_UNUSED("ngx_handle_read_event")


in_port_t
ngx_inet_get_port(struct sockaddr *sa)
    T_UNUSED("ngx_inet_get_port")


int
ngx_nonblocking(ngx_socket_t s)
    T_UNUSED("ngx_nonblocking")


void
ngx_stream_finalize_session(ngx_stream_session_t *s, ngx_uint_t rc)
    T_UNUSED("ngx_stream_finalize_session")


void
ngx_stream_redis_master_count(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t counter, ngx_uint_t n)
    T_UNUSED("ngx_stream_redis_master_count")


ngx_int_t
ngx_stream_redis_master_use_peer(ngx_peer_connection_t *pc,
    ngx_stream_redis_master_peer_data_t *pd, ngx_uint_t master)
    T_UNUSED("ngx_stream_redis_master_use_peer")


void
ngx_stream_redis_master_post_tracked(ngx_stream_redis_master_main_conf_t *rmmcf)
    T_UNUSED("ngx_stream_redis_master_post_tracked")


char *
ngx_conf_set_flag_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
    T_UNUSED("ngx_conf_set_flag_slot")


/* the proxy module, as far as proxy_half_close goes */

typedef struct {
    ngx_msec_t     connect_timeout;
    ngx_flag_t     half_close;
} t_proxy_conf_t;

static ngx_command_t  t_proxy_commands[] = {
    { ngx_string("proxy_connect_timeout"), 0, NULL, 0,
      offsetof(t_proxy_conf_t, connect_timeout), NULL },
    { ngx_string("proxy_half_close"), 0, ngx_conf_set_flag_slot, 0,
      offsetof(t_proxy_conf_t, half_close), NULL },
    ngx_null_command
};

ngx_module_t  ngx_stream_proxy_module = {
    NGX_MODULE_V1, NULL, t_proxy_commands, NGX_STREAM_MODULE,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NGX_MODULE_V1_PADDING
};


static int  t_n, t_failed;


static void
t_ok(int ok, const char *name)
{
    t_n++;
    printf("%sok %d - %s\n", ok ? "" : "not ", t_n, name);
    t_failed += !ok;
}


/* the decision's node of the master, for may_connect(): not exercised */

ngx_stream_redis_master_node_t *
ngx_stream_redis_master_node_of(ngx_stream_redis_master_srv_conf_t *rmcf,
    ngx_uint_t i)
{
    return NULL;
}


/* a loopback TCP connection: fd[0] nginx's end, fd[1] the client's */

static void
t_pair(int fd[2])
{
    int                 l;
    socklen_t           len;
    struct sockaddr_in  sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof(sin);

    l = socket(AF_INET, SOCK_STREAM, 0);

    if (l == -1 || bind(l, (struct sockaddr *) &sin, len) == -1
        || listen(l, 1) == -1
        || getsockname(l, (struct sockaddr *) &sin, &len) == -1)
    {
        perror("listen");
        exit(2);
    }

    fd[1] = socket(AF_INET, SOCK_STREAM, 0);

    if (fd[1] == -1
        || connect(fd[1], (struct sockaddr *) &sin, sizeof(sin)) == -1
        || (fd[0] = accept(l, NULL, NULL)) == -1)
    {
        perror("connect");
        exit(2);
    }

    close(l);
}


/* what a client that pipelined more than proxy_buffer_size sends */

static void
t_send(int fd)
{
    char  buf[8192];

    memset(buf, 'x', sizeof(buf));

    if (write(fd, buf, sizeof(buf)) != (ssize_t) sizeof(buf)) {
        perror("write");
        exit(2);
    }
}


/* the kernel has the FIN or the RST once poll() says the socket is readable */

static void
t_settle(int fd)
{
    struct pollfd  pfd;

    pfd.fd = fd;
    pfd.events = POLLRDHUP;

    (void) poll(&pfd, 1, 2000);
}


static void
t_reset(int fd)
{
    struct linger  lg;

    lg.l_onoff = 1;
    lg.l_linger = 0;

    (void) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}


int
main(void)
{
    int                                  fd[2];
    void                                *srv_conf[1];
    ngx_log_t                            log;
    ngx_event_t                          rev;
    t_proxy_conf_t                       pscf;
    ngx_connection_t                     c;
    ngx_stream_session_t                 s;
    ngx_stream_redis_master_peer_data_t  pd;

    memset(&log, 0, sizeof(log));
    memset(&c, 0, sizeof(c));
    memset(&s, 0, sizeof(s));
    memset(&pd, 0, sizeof(pd));
    memset(&pscf, 0, sizeof(pscf));

    log.log_level = NGX_LOG_DEBUG;
    c.log = &log;
    c.read = &rev;
    s.connection = &c;
    s.srv_conf = srv_conf;
    srv_conf[0] = &pscf;
    ngx_stream_proxy_module.ctx_index = 0;
    pd.session = &s;

    /* hung_up(): the socket itself */

    t_pair(fd);
    c.fd = fd[0];
    t_send(fd[1]);
    t_settle(fd[0]);
    t_ok(ngx_stream_redis_master_hung_up(&c, 0) == 0,
         "hung_up: a client still there, 8 KB unread: no");
    close(fd[1]);
    t_settle(fd[0]);
    t_ok(ngx_stream_redis_master_hung_up(&c, 0) == 1,
         "hung_up: a client that closed behind 8 KB unread: yes");
    t_ok(ngx_stream_redis_master_hung_up(&c, 1) == 0,
         "hung_up, half_close: an end of stream alone: no");
    close(fd[0]);

    t_pair(fd);
    c.fd = fd[0];
    t_send(fd[1]);
    shutdown(fd[1], SHUT_WR);
    t_settle(fd[0]);
    t_ok(ngx_stream_redis_master_hung_up(&c, 0) == 1,
         "hung_up: a client that shut down writing behind 8 KB: yes");
    t_ok(ngx_stream_redis_master_hung_up(&c, 1) == 0,
         "hung_up, half_close: the same client: no");
    t_reset(fd[1]);
    t_settle(fd[0]);
    t_ok(ngx_stream_redis_master_hung_up(&c, 1) == 1,
         "hung_up, half_close: a client that reset the connection: yes");
    close(fd[0]);

    /* client_left(): what the event method said, and the socket */

    ngx_event_flags = NGX_USE_EPOLL_EVENT | NGX_USE_CLEAR_EVENT;
    ngx_use_epoll_rdhup = 1;

    t_pair(fd);
    c.fd = fd[0];
    t_send(fd[1]);
    close(fd[1]);
    t_settle(fd[0]);

    memset(&rev, 0, sizeof(rev));
    rev.ready = 1;
    t_ok(ngx_stream_redis_master_client_left(&pd, 0) == 1,
         "client_left: a read event never watched: the socket is asked");
    t_ok(ngx_stream_redis_master_client_left(&pd, 1) == 1,
         "client_left, now: the socket is asked");

    rev.active = 1;
    t_ok(ngx_stream_redis_master_client_left(&pd, 0) == 0,
         "client_left: a watched read event, no report yet: trusted");
    rev.pending_eof = 1;
    t_ok(ngx_stream_redis_master_client_left(&pd, 0) == 1,
         "client_left: a watched read event that reported the end: left");

    pscf.half_close = 1;
    t_ok(ngx_stream_redis_master_client_left(&pd, 0) == 0,
         "client_left, proxy_half_close on: an end of stream is no leaving");
    t_ok(ngx_stream_redis_master_client_left(&pd, 1) == 0,
         "client_left, proxy_half_close on, now: the socket agrees");
    rev.error = 1;
    t_ok(ngx_stream_redis_master_client_left(&pd, 0) == 1,
         "client_left, proxy_half_close on: an error is");
    close(fd[0]);

    printf("1..%d\n", t_n);

    return t_failed != 0;
}
