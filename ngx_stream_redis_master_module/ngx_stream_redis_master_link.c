
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * Wire: the requests the checker and the Sentinel subscriber send, as
 * RESP, and the kept-open connection each of them holds to a target, with
 * its reply reader.
 */


#include "ngx_stream_redis_master_wire.h"

#include <hiredis/hiredis.h>


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

    size += 64 + cc->username.len + cc->password.len;

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
    ngx_int_t  rc;

    ngx_memzero(pc, sizeof(ngx_peer_connection_t));

    pc->sockaddr = t->sockaddr;
    pc->socklen = t->socklen;
    pc->name = &t->name;
    pc->get = ngx_event_get_peer;
    pc->log = ngx_cycle->log;
    pc->log_error = NGX_ERROR_INFO;

    rc = ngx_event_connect_peer(pc);

    if (rc == NGX_ERROR || rc == NGX_BUSY || rc == NGX_DECLINED) {
        pc->connection = NULL;
        return NGX_ERROR;
    }

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
    if (pc->connection) {
        ngx_close_connection(pc->connection);
        pc->connection = NULL;
    }

    if (*reader) {
        redisReaderFree(*reader);
        *reader = NULL;
    }
}
