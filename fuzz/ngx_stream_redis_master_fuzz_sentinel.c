
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * libFuzzer target: the replies to a probe of a Sentinel, [AUTH,] SENTINEL
 * get-master-addr-by-name, SENTINEL master [and SENTINEL replicas, for
 * discover=], read the way the checker reads them
 * (ngx_stream_redis_master_feed() and interpret() in
 * ngx_stream_redis_master_check_io.c).  The input is the byte stream from the
 * Sentinel; it is run without AUTH and with it, each without and with
 * SENTINEL replicas.
 */


#include "ngx_stream_redis_master_fuzz.h"


static void ngx_stream_redis_master_fuzz_sentinel(const u_char *data,
    size_t size, ngx_uint_t auth, ngx_uint_t discover);
static ngx_int_t ngx_stream_redis_master_fuzz_interpret(redisReply *reply,
    ngx_uint_t auth, ngx_uint_t got, ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_report_t *report, u_char *reason);
static ngx_int_t ngx_stream_redis_master_fuzz_replicas(redisReply *reply,
    ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_report_t *report, u_char *reason, size_t len);
static ngx_int_t ngx_stream_redis_master_fuzz_master_addr(redisReply *reply,
    ngx_stream_redis_master_info_t *info, u_char *reason, size_t len);
static ngx_int_t ngx_stream_redis_master_fuzz_sentinel_master(
    redisReply *reply, ngx_stream_redis_master_info_t *info, u_char *reason,
    size_t len);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ngx_uint_t  auth, discover;

    for (auth = 0; auth < 2; auth++) {
        for (discover = 0; discover < 2; discover++) {
            ngx_stream_redis_master_fuzz_sentinel(data, size, auth, discover);
        }
    }

    return 0;
}


static void
ngx_stream_redis_master_fuzz_sentinel(const u_char *data, size_t size,
    ngx_uint_t auth, ngx_uint_t discover)
{
    void                                   *reply;
    size_t                                  n, received;
    u_char                                 *reason;
    ngx_uint_t                              got, expect;
    redisReader                            *reader;
    const u_char                           *piece;
    ngx_stream_redis_master_info_t         *info;
    ngx_stream_redis_master_report_t       *report;
    ngx_stream_redis_master_fuzz_feeder_t   feeder;

    reader = ngx_stream_redis_master_fuzz_reader();
    reason = ngx_stream_redis_master_fuzz_alloc(
                                           NGX_STREAM_REDIS_MASTER_REASON_LEN);
    info = ngx_stream_redis_master_fuzz_alloc(
                                       sizeof(ngx_stream_redis_master_info_t));

    report = ngx_stream_redis_master_fuzz_alloc(
                                     sizeof(ngx_stream_redis_master_report_t));

    ngx_memzero(info, sizeof(ngx_stream_redis_master_info_t));
    info->master_last_io = -1;

    expect = auth + 2 + discover;
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
                                                       report, reason)
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
    free(report);
}


static ngx_int_t
ngx_stream_redis_master_fuzz_interpret(redisReply *reply, ngx_uint_t auth,
    ngx_uint_t got, ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_report_t *report, u_char *reason)
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

    } else if (got == auth + 1) {
        rc = ngx_stream_redis_master_fuzz_sentinel_master(reply, info, reason,
                                                          len);

    } else {
        rc = ngx_stream_redis_master_fuzz_replicas(reply, info, report,
                                                   reason, len);
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


/*
 * SENTINEL replicas (discover=): every server of the reply is kept once
 * or counted as skipped, what is kept is a valid IPv4 or IPv6 address
 * with a port, never twice, never past the bound; "info" is not touched.
 */

static ngx_int_t
ngx_stream_redis_master_fuzz_replicas(redisReply *reply,
    ngx_stream_redis_master_info_t *info,
    ngx_stream_redis_master_report_t *report, u_char *reason, size_t len)
{
    ngx_int_t                            rc;
    ngx_uint_t                           i, j;
    ngx_stream_redis_master_info_t       before;
    ngx_stream_redis_master_reported_t  *a;

    before = *info;

    rc = ngx_stream_redis_master_reply_replicas(reply, info, report, reason,
                                                len);

    ngx_stream_redis_master_fuzz_reason_check(reason, len, rc,
                                              "SENTINEL replicas");

    if (ngx_memcmp(&before, info, sizeof(ngx_stream_redis_master_info_t))
        != 0)
    {
        ngx_stream_redis_master_fuzz_fail("SENTINEL replicas changed info");
    }

    if (report->naddrs > NGX_STREAM_REDIS_MASTER_MAX_REPORT) {
        ngx_stream_redis_master_fuzz_fail("%u servers kept, past the bound",
                                          (unsigned) report->naddrs);
    }

    if (rc == NGX_OK && report->naddrs + report->skipped != report->listed) {
        ngx_stream_redis_master_fuzz_fail("%u kept and %u skipped of %u",
                                          (unsigned) report->naddrs,
                                          (unsigned) report->skipped,
                                          (unsigned) report->listed);
    }

    if (report->hostnames > report->skipped) {
        ngx_stream_redis_master_fuzz_fail("%u host names of %u skipped",
                                          (unsigned) report->hostnames,
                                          (unsigned) report->skipped);
    }

    for (i = 0; i < report->naddrs; i++) {
        a = &report->addrs[i];

        if (!((a->addr.sockaddr.sa_family == AF_INET
               && a->socklen == sizeof(struct sockaddr_in)
               && a->addr.sockaddr_in.sin_port != 0)
              || (a->addr.sockaddr.sa_family == AF_INET6
                  && a->socklen == sizeof(struct sockaddr_in6)
                  && a->addr.sockaddr_in6.sin6_port != 0)))
        {
            ngx_stream_redis_master_fuzz_fail("server %u kept without an "
                                              "address and a port",
                                              (unsigned) i);
        }

        for (j = 0; j < i; j++) {
            if (a->socklen == report->addrs[j].socklen
                && ngx_memcmp(&a->addr, &report->addrs[j].addr, a->socklen)
                   == 0)
            {
                ngx_stream_redis_master_fuzz_fail("server %u kept twice",
                                                  (unsigned) i);
            }
        }
    }

    return rc;
}
