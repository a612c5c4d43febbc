
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * libFuzzer target: the replies to a probe of a Sentinel, [AUTH,] SENTINEL
 * get-master-addr-by-name and SENTINEL master, read the way the checker
 * reads them (ngx_stream_redis_master_feed() and interpret() in
 * ngx_stream_redis_master_check_io.c).  The input is the byte stream from the
 * Sentinel; it is run once without AUTH and once with it.
 */


#include "ngx_stream_redis_master_fuzz.h"


static void ngx_stream_redis_master_fuzz_sentinel(const u_char *data,
    size_t size, ngx_uint_t auth);
static ngx_int_t ngx_stream_redis_master_fuzz_interpret(redisReply *reply,
    ngx_uint_t auth, ngx_uint_t got, ngx_stream_redis_master_info_t *info,
    u_char *reason);
static ngx_int_t ngx_stream_redis_master_fuzz_master_addr(redisReply *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len);
static ngx_int_t ngx_stream_redis_master_fuzz_sentinel_master(
    redisReply *reply, ngx_stream_redis_master_info_t *info, u_char *reason,
    size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_uint_t  auth;

    for (auth = 0; auth < 2; auth++) {
        ngx_stream_redis_master_fuzz_sentinel(data, size, auth);
    }

    return 0;
}


static void
ngx_stream_redis_master_fuzz_sentinel(const u_char *data, size_t size,
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

    ngx_memzero(info, sizeof(ngx_stream_redis_master_info_t));
    info->master_last_io = -1;

    expect = auth + 2;
    got = 0;
    received = 0;

    ngx_stream_redis_master_fuzz_feeder_init(&feeder, data, size, auth);

    while (got < expect) {

        n = ngx_stream_redis_master_fuzz_feeder_next(&feeder, &piece);
        if (n == 0) {
            break;
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

    if (got == expect && reader->pos > reader->len) {
        ngx_stream_redis_master_fuzz_fail("reader pos %zu past len %zu",
                                          reader->pos, reader->len);
    }

done:

    redisReaderFree(reader);
    free(reason);
    free(info);
}


static ngx_int_t
ngx_stream_redis_master_fuzz_interpret(redisReply *reply, ngx_uint_t auth,
    ngx_uint_t got, ngx_stream_redis_master_info_t *info, u_char *reason)
{
    size_t     len;
    ngx_int_t  rc;

    len = NGX_STREAM_REDIS_MASTER_REASON_LEN;

    ngx_stream_redis_master_fuzz_reason_init(reason, len);

    if (got < auth) {
        rc = ngx_stream_redis_master_reply_auth(reply, reason, len);
        ngx_stream_redis_master_fuzz_reason_check(reason, len, rc, "AUTH");

    } else if (got == auth) {
        rc = ngx_stream_redis_master_fuzz_master_addr(reply, info, reason,
                                                      len);

    } else {
        rc = ngx_stream_redis_master_fuzz_sentinel_master(reply, info, reason,
                                                          len);
    }

    freeReplyObject(reply);

    ngx_stream_redis_master_fuzz_info_check(info);

    /* what the checker masks before it logs or stores anything */

    if (rc != NGX_OK) {
        ngx_stream_redis_master_fuzz_secrets(reason, "SENTINEL");
    }

    ngx_stream_redis_master_fuzz_secrets(info->master_host, "master_host");

    return rc;
}


/* the address the Sentinel names: a valid port, or none at all */

static ngx_int_t
ngx_stream_redis_master_fuzz_master_addr(redisReply *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len)
{
    ngx_int_t  rc;

    rc = ngx_stream_redis_master_reply_master_addr(reply, info, reason, len);

    ngx_stream_redis_master_fuzz_reason_check(reason, len, rc, "SENTINEL");

    if (info->role != NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL) {
        ngx_stream_redis_master_fuzz_fail("a Sentinel probe without the "
                                          "Sentinel role");
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        if (info->master_port != 0 || info->master_host[0] != '\0') {
            ngx_stream_redis_master_fuzz_fail("nil named a master");
        }

        return rc;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
        ngx_stream_redis_master_fuzz_fail("reply type %d accepted as an "
                                          "address", reply->type);
    }

    if (info->master_port == 0) {
        ngx_stream_redis_master_fuzz_fail("an address with port 0");
    }

    if (ngx_strlen(info->master_host)
        != ngx_min(reply->element[0]->len,
                   NGX_STREAM_REDIS_MASTER_HOST_LEN - 1))
    {
        ngx_stream_redis_master_fuzz_fail("host cut to %zu bytes of %zu",
                                          ngx_strlen(info->master_host),
                                          reply->element[0]->len);
    }

    return rc;
}


/* SENTINEL master may only mark the named master down */

static ngx_int_t
ngx_stream_redis_master_fuzz_sentinel_master(redisReply *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len)
{
    ngx_int_t                       rc;
    ngx_stream_redis_master_info_t  before;

    before = *info;

    rc = ngx_stream_redis_master_reply_sentinel_master(reply, info, reason,
                                                       len);

    ngx_stream_redis_master_fuzz_reason_check(reason, len, rc,
                                              "SENTINEL master");

    if (info->master_down && rc != NGX_OK) {
        ngx_stream_redis_master_fuzz_fail("marked down on a failure");
    }

    /*
     * master_down with no master named (ip "" and port 0) is possible and
     * harmless: ngx_stream_redis_master_names() ignores port 0.
     */

    before.master_down = info->master_down;

    if (ngx_memcmp(&before, info, sizeof(ngx_stream_redis_master_info_t))
        != 0)
    {
        ngx_stream_redis_master_fuzz_fail("SENTINEL master changed more "
                                          "than master_down");
    }

    return rc;
}
