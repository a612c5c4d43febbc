
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Unit tests of the TLS error a link reports (ngx_stream_redis_master_
 * open_link(), _link_tls() and _link_verified() of
 * ngx_stream_redis_master_link.c, compiled in here unchanged; T_LINK_C
 * names another copy of that file to test): two TLS links of one worker
 * in their handshakes, nginx's TLS layer logs a failure through the log
 * of the first (a line as ngx_log_error_core() makes it, with its line
 * feed), the second fails with nothing logged.  Each reports its own
 * error, the text without the line feed, a credential it echoes masked.
 * The nginx functions these paths call are doubles: a pool that frees
 * what it gave on destroy (AddressSanitizer sees a leak or a use after
 * it), a connect that succeeds, a handshake that goes on.  Prints TAP.
 */


#ifndef T_LINK_C
#define T_LINK_C  "ngx_stream_redis_master_link.c"
#endif

#include T_LINK_C

#include <stdio.h>
#include <stdlib.h>


/* doubles of what nginx provides */

volatile ngx_cycle_t  *ngx_cycle;

static ngx_cycle_t     t_cycle;
static ngx_log_t       t_cycle_log;


void
ngx_log_error_core(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    const char *fmt, ...)
{
    fprintf(stderr, "# log %d: %s\n", (int) level, fmt);
}


ngx_pool_t *
ngx_create_pool(size_t size, ngx_log_t *log)
{
    ngx_pool_t  *pool;

    pool = calloc(1, sizeof(ngx_pool_t));
    if (pool) {
        pool->log = log;
    }

    return pool;
}


void *
ngx_pcalloc(ngx_pool_t *pool, size_t size)
{
    ngx_pool_large_t  *l;

    l = calloc(1, sizeof(ngx_pool_large_t));
    if (l == NULL) {
        return NULL;
    }

    l->alloc = calloc(1, size);
    if (l->alloc == NULL) {
        free(l);
        return NULL;
    }

    l->next = pool->large;
    pool->large = l;

    return l->alloc;
}


void *
ngx_pnalloc(ngx_pool_t *pool, size_t size)
{
    return ngx_pcalloc(pool, size);
}


void
ngx_destroy_pool(ngx_pool_t *pool)
{
    ngx_pool_large_t  *l, *next;

    for (l = pool->large; l; l = next) {
        next = l->next;
        free(l->alloc);
        free(l);
    }

    free(pool);
}


ngx_int_t
ngx_event_get_peer(ngx_peer_connection_t *pc, void *data)
{
    return NGX_OK;
}


/* a connect that succeeds at once, as ngx_event_connect_peer() sets it */

ngx_int_t
ngx_event_connect_peer(ngx_peer_connection_t *pc)
{
    ngx_connection_t  *c;

    c = calloc(1, sizeof(ngx_connection_t));
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->log = pc->log;
    c->fd = -1;
    pc->connection = c;

    return NGX_OK;
}


void
ngx_close_connection(ngx_connection_t *c)
{
    free(c->ssl);
    free(c);
}


ngx_int_t
ngx_ssl_create_connection(ngx_ssl_t *ssl, ngx_connection_t *c,
    ngx_uint_t flags)
{
    c->ssl = calloc(1, sizeof(ngx_ssl_connection_t));

    return c->ssl ? NGX_OK : NGX_ERROR;
}


/* the handshake goes on: what it logs, the test writes */

ngx_int_t
ngx_ssl_handshake(ngx_connection_t *c)
{
    return NGX_AGAIN;
}


ngx_int_t
ngx_ssl_shutdown(ngx_connection_t *c)
{
    return NGX_OK;
}


#define T_UNUSED(f)  { fprintf(stderr, "%s called\n", f); abort(); }

void ngx_cdecl
ngx_ssl_error(ngx_uint_t level, ngx_log_t *log, ngx_err_t err,
    char *fmt, ...)
    T_UNUSED("ngx_ssl_error")

ngx_int_t
ngx_ssl_set_session(ngx_connection_t *c, ngx_ssl_session_t *session)
    T_UNUSED("ngx_ssl_set_session")

ngx_ssl_session_t *
ngx_ssl_get_session(ngx_connection_t *c)
    T_UNUSED("ngx_ssl_get_session")

ngx_int_t
ngx_ssl_check_host(ngx_connection_t *c, ngx_str_t *name)
    T_UNUSED("ngx_ssl_check_host")


static int  t_n, t_failed;


static void
t_ok(int ok, const char *name)
{
    t_n++;
    printf("%sok %d - %s\n", ok ? "" : "not ", t_n, name);
    t_failed += !ok;
}


static void
t_is(const char *got, const char *expected, const char *name)
{
    t_ok(strcmp(got, expected) == 0, name);

    if (strcmp(got, expected) != 0) {
        printf("#   got:      \"%s\"\n#   expected: \"%s\"\n", got, expected);
    }
}


/*
 * A TLS link of its own target, as the checker opens one and starts its
 * handshake: open_link() gives it its log, link_tls() its TLS.
 */

typedef struct {
    ngx_stream_redis_master_target_t      target;
    ngx_stream_redis_master_check_conf_t  check;
    ngx_stream_redis_master_ssl_conf_t    ssl;
    ngx_peer_connection_t                 pc;
    redisReader                          *reader;
    ngx_stream_redis_master_target_t     *data;
} t_link_t;


static void
t_handler(ngx_connection_t *c)
{
}


static void
t_open(t_link_t *l, const char *name, const char *password)
{
    ngx_memzero(l, sizeof(t_link_t));

    l->check.ssl = &l->ssl;
    l->check.password.data = (u_char *) password;
    l->check.password.len = strlen(password);

    l->target.check = &l->check;
    l->target.name.data = (u_char *) name;
    l->target.name.len = strlen(name);
    l->data = &l->target;

    if (ngx_stream_redis_master_open_link(&l->target, &l->pc, &l->reader)
        != NGX_OK)
    {
        printf("Bail out! open_link() failed for %s\n", name);
        exit(2);
    }

    l->pc.connection->data = &l->data;

    if (ngx_stream_redis_master_link_tls(&l->target, l->pc.connection,
                                         t_handler)
        != NGX_AGAIN)
    {
        printf("Bail out! link_tls() failed for %s\n", name);
        exit(2);
    }
}


/* what nginx's TLS layer logs through a link's log, as nginx's log does */

static void
t_tls_logs(t_link_t *l, ngx_uint_t level, const char *line)
{
    ngx_log_t  *log;

    log = l->pc.connection->log;

    if (log->writer == NULL || log->log_level < level) {
        printf("Bail out! the link's log takes no TLS line\n");
        exit(2);
    }

    log->writer(log, level, (u_char *) line, strlen(line));
}


static const char *
t_verified(t_link_t *l, u_char *reason, size_t len)
{
    reason[0] = '\0';

    if (ngx_stream_redis_master_link_verified(&l->target, l->pc.connection,
                                              reason, len)
        != NGX_ERROR)
    {
        return "(verified)";
    }

    return (const char *) reason;
}


#define T_HANDSHAKE                                                          \
    "SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::"          \
    "certificate verify failed) while SSL handshaking"

#define T_A_REASON  "TLS handshake failed: " T_HANDSHAKE

#define T_PASSWORD  "s3cret-Passw0rd"


int
main(void)
{
    char      expected[NGX_STREAM_REDIS_MASTER_REASON_LEN];
    size_t    n;
    u_char    ra[NGX_STREAM_REDIS_MASTER_REASON_LEN];
    u_char    rb[NGX_STREAM_REDIS_MASTER_REASON_LEN];
    u_char    rc[NGX_STREAM_REDIS_MASTER_REASON_LEN];
    t_link_t  a, b, c;

    t_cycle_log.log_level = NGX_LOG_ERR;
    t_cycle.log = &t_cycle_log;
    ngx_cycle = &t_cycle;

    /* two links of one worker in their handshakes at once */

    t_open(&a, "a.example:6379", "");
    t_open(&b, "b.example:6379", "");

    t_ok(a.pc.connection->log != b.pc.connection->log,
         "each TLS link logs through a log of its own");

    /* A's handshake fails, nginx's TLS layer says why through A's log */

    t_tls_logs(&a, NGX_LOG_INFO,
               "2026/12/03 19:00:00 [info] 1#1: *5 " T_HANDSHAKE "\n");

    /* B's fails with nothing logged (a clean close_notify), then A's */

    t_is(t_verified(&b, rb, sizeof(rb)), "TLS handshake failed",
         "B, nothing logged for it: a bare \"TLS handshake failed\"");

    t_ok(strstr((char *) rb, "SSL_do_handshake") == NULL,
         "B's reason has nothing of what was logged for A");

    /* the reason is cut to its buffer */

    n = ngx_min(sizeof(T_A_REASON) - 1, sizeof(expected) - 1);
    ngx_memcpy(expected, T_A_REASON, n);
    expected[n] = '\0';

    t_is(t_verified(&a, ra, sizeof(ra)), expected,
         "A's reason is the line logged for A, without its prefix");

    /* A's text is used once: a second failure of A without one is bare */

    t_is(t_verified(&a, ra, sizeof(ra)), "TLS handshake failed",
         "A's text is not reported twice");

    /* a line of A's log after B's failure is still A's, never B's */

    t_tls_logs(&a, NGX_LOG_INFO,
               "2026/12/03 19:00:01 [info] 1#1: *5 " T_HANDSHAKE "\n");

    t_is(t_verified(&b, rb, sizeof(rb)), "TLS handshake failed",
         "B, failing after A logged again: still bare");

    t_is(t_verified(&a, ra, sizeof(ra)), expected,
         "A, failing after B: A's text");

    /* a credential the TLS layer echoes (a server's alert text) is masked */

    t_open(&c, "c.example:6379", T_PASSWORD);

    t_tls_logs(&c, NGX_LOG_INFO,
               "2026/12/03 19:00:02 [info] 1#1: *6 SSL_read() failed "
               "(SSL: error:0A000410:SSL routines::" T_PASSWORD
               ") while SSL handshaking\n");

    t_is(t_verified(&c, rc, sizeof(rc)),
         "TLS handshake failed: SSL_read() failed (SSL: error:0A000410:"
         "SSL routines::***************) while SSL handshaking",
         "C's reason is C's line, whole, the password masked");

    n = ngx_strlen(rc);

    t_ok(n > 0 && rc[n - 1] != '?' && rc[n - 1] != LF && rc[n - 1] != CR,
         "C's reason ends with the text, not with the line feed or a '?'");

    t_ok(strstr((char *) rc, "Passw0rd") == NULL
         && strstr((char *) rc, "s3cret") == NULL,
         "the password C's line echoes is not in C's reason");

    t_ok(strstr((char *) rc, "***************") != NULL,
         "it is masked with '*'");

    ngx_stream_redis_master_close_link(&a.pc, &a.reader);
    ngx_stream_redis_master_close_link(&b.pc, &b.reader);
    ngx_stream_redis_master_close_link(&c.pc, &c.reader);

    printf("1..%d\n# %d passed, %d failed\n", t_n, t_n - t_failed, t_failed);

    return t_failed ? 1 : 0;
}
