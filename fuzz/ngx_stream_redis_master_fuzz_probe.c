
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * libFuzzer target: the replies to a probe of a Redis server, [AUTH,] PING,
 * INFO replication and INFO persistence, read the way the checker reads
 * them (ngx_stream_redis_master_feed() and interpret() in
 * ngx_stream_redis_master_check_io.c).  The input is the byte stream from the
 * server; it is run once without AUTH and once with it.
 */


#include "ngx_stream_redis_master_fuzz.h"


static void ngx_stream_redis_master_fuzz_probe(const u_char *data,
    size_t size, ngx_uint_t auth);
static ngx_int_t ngx_stream_redis_master_fuzz_interpret(void *reply,
    ngx_uint_t auth, ngx_uint_t got, ngx_stream_redis_master_info_t *info,
    u_char *reason);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_uint_t  auth;

    for (auth = 0; auth < 2; auth++) {
        ngx_stream_redis_master_fuzz_probe(data, size, auth);
    }

    return 0;
}


static void
ngx_stream_redis_master_fuzz_probe(const u_char *data, size_t size,
    ngx_uint_t auth)
{
    void                                   *reply;
    size_t                                  n, received;
    u_char                                 *reason;
    ngx_uint_t                              got, expect;
    redisReader                            *reader;
    const u_char                           *piece;
    ngx_stream_redis_master_info_t         *info;
    ngx_stream_redis_master_fuzz_feeder_t   feeder;

    reader = ngx_stream_redis_master_fuzz_reader();
    reason = ngx_stream_redis_master_fuzz_alloc(
                                           NGX_STREAM_REDIS_MASTER_REASON_LEN);
    info = ngx_stream_redis_master_fuzz_alloc(
                                       sizeof(ngx_stream_redis_master_info_t));

    /* as ngx_stream_redis_master_probe() starts a probe */

    ngx_memzero(info, sizeof(ngx_stream_redis_master_info_t));
    info->master_last_io = -1;

    expect = auth + 3;
    got = 0;
    received = 0;

    ngx_stream_redis_master_fuzz_feeder_init(&feeder, data, size, auth);

    while (got < expect) {

        n = ngx_stream_redis_master_fuzz_feeder_next(&feeder, &piece);
        if (n == 0) {
            break;    /* the checker would time out */
        }

        received += n;

        if (received > NGX_STREAM_REDIS_MASTER_MAX_REPLY) {
            break;
        }

        if (redisReaderFeed(reader, (const char *) piece, n) != REDIS_OK) {
            break;
        }

        while (got < expect) {

            if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
                ngx_stream_redis_master_fuzz_reader_check(reader);
                goto done;
            }

            if (reply == NULL) {
                break;
            }

            if (ngx_stream_redis_master_fuzz_interpret(reply, auth, got, info,
                                                       reason)
                != NGX_OK)
            {
                goto done;
            }

            got++;
        }
    }

    if (got == expect) {

        /* the checker fails a probe with data left over; the test reads it */

        if (reader->pos > reader->len) {
            ngx_stream_redis_master_fuzz_fail("reader pos %zu past len %zu",
                                              reader->pos, reader->len);
        }
    }

done:

    redisReaderFree(reader);
    free(reason);
    free(info);
}


static ngx_int_t
ngx_stream_redis_master_fuzz_interpret(void *reply, ngx_uint_t auth,
    ngx_uint_t got, ngx_stream_redis_master_info_t *info, u_char *reason)
{
    size_t       len;
    ngx_int_t    rc;
    const char  *what;

    len = NGX_STREAM_REDIS_MASTER_REASON_LEN;

    ngx_stream_redis_master_fuzz_reason_init(reason, len);

    if (got < auth) {
        what = "AUTH";
        rc = ngx_stream_redis_master_reply_auth(reply, reason, len);

    } else if (got == auth) {
        what = "PING";
        rc = ngx_stream_redis_master_reply_pong(reply, reason, len);

    } else {
        what = "INFO";
        rc = ngx_stream_redis_master_reply_info(reply, info, reason, len);
    }

    freeReplyObject(reply);

    ngx_stream_redis_master_fuzz_reason_check(reason, len, rc, what);
    ngx_stream_redis_master_fuzz_info_check(info);

    /* what the checker masks before it logs or stores anything */

    if (rc == NGX_ERROR || rc == NGX_STREAM_REDIS_MASTER_STALL) {
        ngx_stream_redis_master_fuzz_secrets(reason, what);
    }

    ngx_stream_redis_master_fuzz_secrets(info->master_host, "master_host");
    ngx_stream_redis_master_fuzz_secrets(info->replid, "replid");
    ngx_stream_redis_master_fuzz_secrets(info->replid2, "replid2");

    if (info->role == NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL) {
        ngx_stream_redis_master_fuzz_fail("a server probe found a Sentinel");
    }

    /* as the checker: -MASTERDOWN goes on to the INFO replies */

    return (rc == NGX_DECLINED) ? NGX_OK : rc;
}
