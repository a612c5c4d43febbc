
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * libFuzzer target: what a Sentinel sends on the event subscription, read
 * the way the subscriber reads it (ngx_stream_redis_master_subscriber_read()
 * and ngx_stream_redis_master_subscriber_reply() in
 * ngx_stream_redis_master_sentinel.c): the reply to AUTH when a password is
 * set, then SUBSCRIBE confirmations and messages, for as long as the
 * subscription lasts.  The input is the byte stream from the Sentinel,
 * optionally after a line "@NAME\n" that sets the master name (by default
 * "mymaster"); it is run once without AUTH and once with it.
 */


#include "ngx_stream_redis_master_fuzz.h"


/* names longer than this are no master name anyone configures */
#define NGX_STREAM_REDIS_MASTER_FUZZ_NAME_LEN     256


static void ngx_stream_redis_master_fuzz_subscriber(const u_char *data,
    size_t size, ngx_str_t *name, ngx_uint_t auth);
static ngx_int_t ngx_stream_redis_master_fuzz_reply(redisReply *reply,
    ngx_str_t *name, ngx_uint_t *pending_auth, u_char *reason);
static ngx_int_t ngx_stream_redis_master_fuzz_event(redisReply *reply,
    ngx_str_t *name, u_char *event);
static ngx_uint_t ngx_stream_redis_master_fuzz_printable_prefix(
    u_char *text, redisReply *s);


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    u_char      *eol, *copy;
    ngx_str_t    name;
    ngx_uint_t   auth;

    ngx_str_set(&name, NGX_STREAM_REDIS_MASTER_FUZZ_NAME);

    eol = NULL;

    if (size > 1 && data[0] == '@') {
        eol = memchr(data + 1, '\n',
                     ngx_min(size - 1,
                             NGX_STREAM_REDIS_MASTER_FUZZ_NAME_LEN + 1));
    }

    if (eol && eol > data + 1) {
        name.data = (u_char *) data + 1;
        name.len = eol - data - 1;

        size -= eol + 1 - data;
        data = eol + 1;
    }

    /* a copy of its own, so that ASan sees any read past the name */

    copy = ngx_stream_redis_master_fuzz_alloc(name.len);
    ngx_memcpy(copy, name.data, name.len);
    name.data = copy;

    for (auth = 0; auth < 2; auth++) {
        ngx_stream_redis_master_fuzz_subscriber(data, size, &name, auth);
    }

    free(copy);

    return 0;
}


static void
ngx_stream_redis_master_fuzz_subscriber(const u_char *data, size_t size,
    ngx_str_t *name, ngx_uint_t auth)
{
    void                                   *reply;
    size_t                                  n;
    u_char                                 *reason;
    ngx_uint_t                              pending_auth;
    redisReader                            *reader;
    const u_char                           *piece;
    ngx_stream_redis_master_fuzz_feeder_t   feeder;

    reader = ngx_stream_redis_master_fuzz_reader();
    reason = ngx_stream_redis_master_fuzz_alloc(
                                           NGX_STREAM_REDIS_MASTER_REASON_LEN);

    pending_auth = auth;

    ngx_stream_redis_master_fuzz_feeder_init(&feeder, data, size, auth);

    for ( ;; ) {

        n = ngx_stream_redis_master_fuzz_feeder_next(&feeder, &piece);
        if (n == 0) {
            break;
        }

        if (redisReaderFeed(reader, (const char *) piece, n) != REDIS_OK) {
            break;
        }

        for ( ;; ) {

            if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
                ngx_stream_redis_master_fuzz_reader_check(reader);
                goto done;
            }

            if (reply == NULL) {
                break;
            }

            if (ngx_stream_redis_master_fuzz_reply(reply, name, &pending_auth,
                                                   reason)
                == NGX_DECLINED)
            {
                goto done;    /* the subscription is closed */
            }
        }
    }

done:

    redisReaderFree(reader);
    free(reason);
}


/* as ngx_stream_redis_master_subscriber_reply(); NGX_DECLINED: refused */

static ngx_int_t
ngx_stream_redis_master_fuzz_reply(redisReply *reply, ngx_str_t *name,
    ngx_uint_t *pending_auth, u_char *reason)
{
    size_t     len;
    ngx_int_t  rc;

    /* the subscriber's reason is a buffer on the stack, never cleared */

    len = NGX_STREAM_REDIS_MASTER_REASON_LEN;

    ngx_stream_redis_master_fuzz_reason_init(reason, len);

    if (*pending_auth) {
        *pending_auth = 0;

        rc = ngx_stream_redis_master_reply_auth(reply, reason, len);
        freeReplyObject(reply);

        ngx_stream_redis_master_fuzz_reason_check(reason, len, rc, "AUTH");

        if (rc != NGX_OK) {
            ngx_stream_redis_master_fuzz_secrets(reason, "AUTH");
        }

        return (rc == NGX_OK) ? NGX_OK : NGX_DECLINED;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        rc = ngx_stream_redis_master_reply_ok(reply, "SUBSCRIBE", reason,
                                              len);
        freeReplyObject(reply);

        if (rc != NGX_ERROR) {
            ngx_stream_redis_master_fuzz_fail("an error taken for OK");
        }

        ngx_stream_redis_master_fuzz_reason_check(reason, len, rc,
                                                  "SUBSCRIBE");
        ngx_stream_redis_master_fuzz_secrets(reason, "SUBSCRIBE");

        return NGX_DECLINED;
    }

    rc = ngx_stream_redis_master_fuzz_event(reply, name, reason);
    freeReplyObject(reply);

    return rc;
}


/*
 * An event is reported only for a "message" about the master "name", and
 * is logged with "%s", once made safe: NUL-terminated, the channel first.
 */

static ngx_int_t
ngx_stream_redis_master_fuzz_event(redisReply *reply, ngx_str_t *name,
    u_char *event)
{
    size_t       len, i;
    ngx_int_t    rc;
    redisReply  *payload;

    len = NGX_STREAM_REDIS_MASTER_REASON_LEN;

    rc = ngx_stream_redis_master_reply_event(reply, name, event, len);

    if (rc == NGX_DECLINED) {
        return NGX_OK;    /* a confirmation, or about another master */
    }

    if (rc != NGX_OK) {
        ngx_stream_redis_master_fuzz_fail("event returned %ld", (long) rc);
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[0]->len != 7
        || ngx_memcmp(reply->element[0]->str, "message", 7) != 0
        || reply->element[1]->type != REDIS_REPLY_STRING
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        ngx_stream_redis_master_fuzz_fail("an event from a reply that is "
                                          "no message");
    }

    payload = reply->element[2];

    for (i = 0; i + name->len < payload->len; i++) {
        if (ngx_memcmp(payload->str + i, name->data, name->len) == 0
            && payload->str[i + name->len] == ' ')
        {
            break;
        }
    }

    if (i + name->len >= payload->len) {
        ngx_stream_redis_master_fuzz_fail("an event that does not name the "
                                          "master");
    }

    ngx_stream_redis_master_fuzz_text_check(event, len, "event", 0);

    if (!ngx_stream_redis_master_fuzz_printable_prefix(event,
                                                       reply->element[1]))
    {
        ngx_stream_redis_master_fuzz_fail("the event does not start with "
                                          "its channel");
    }

    /* the subscriber masks the event before it logs it */
    ngx_stream_redis_master_fuzz_secrets(event, "event");

    return NGX_OK;
}


/* whether "text" starts with string "s", cut short, a NUL made "?" */

static ngx_uint_t
ngx_stream_redis_master_fuzz_printable_prefix(u_char *text, redisReply *s)
{
    size_t  i, n;
    u_char  c;

    n = ngx_min(s->len, NGX_STREAM_REDIS_MASTER_REASON_LEN - 1);

    for (i = 0; i < n; i++) {
        c = (u_char) s->str[i];

        if (text[i] != (c ? c : '?')) {
            return 0;
        }
    }

    return 1;
}
