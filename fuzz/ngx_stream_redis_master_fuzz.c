
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 */


#include "ngx_stream_redis_master_fuzz.h"


static void ngx_stream_redis_master_fuzz_replid_check(u_char *replid,
    const char *what);


/*
 * The pieces come from the input itself, so that a crash replays the same
 * way: one of four ways to cut, chosen by a hash of the input and "salt"
 * (a target runs an input more than once), then pseudo-random lengths.
 */

void
ngx_stream_redis_master_fuzz_feeder_init(
    ngx_stream_redis_master_fuzz_feeder_t *f, const u_char *data, size_t size,
    ngx_uint_t salt)
{
    size_t    i;
    uint64_t  hash;

    /* FNV-1a */

    hash = 0xcbf29ce484222325ULL ^ (salt * 0x9e3779b97f4a7c15ULL);

    for (i = 0; i < size; i++) {
        hash ^= data[i];
        hash *= 0x100000001b3ULL;
    }

    f->data = data;
    f->size = size;
    f->pos = 0;
    f->mode = hash & 3;
    f->state = hash | 1;
}


size_t
ngx_stream_redis_master_fuzz_feeder_next(
    ngx_stream_redis_master_fuzz_feeder_t *f, const u_char **piece)
{
    size_t  n, left;

    left = ngx_min(f->size - f->pos, NGX_STREAM_REDIS_MASTER_FUZZ_RECV);

    if (left == 0) {
        return 0;
    }

    /* xorshift64 */

    f->state ^= f->state << 13;
    f->state ^= f->state >> 7;
    f->state ^= f->state << 17;

    switch (f->mode) {

    case 0:    /* as much as one recv() takes */
        n = left;
        break;

    case 1:
        n = 1 + f->state % left;
        break;

    case 2:
        n = 1 + f->state % ngx_min(left, 16);
        break;

    default:   /* a byte at a time */
        n = 1;
        break;
    }

    *piece = f->data + f->pos;
    f->pos += n;

    return n;
}


void
ngx_stream_redis_master_fuzz_fail(const char *fmt, ...)
{
    va_list  args;

    fprintf(stderr, "invariant violated: ");

    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);

    fprintf(stderr, "\n");

    abort();
}


/* a separate allocation of exactly "size" bytes, for ASan to guard */

void *
ngx_stream_redis_master_fuzz_alloc(size_t size)
{
    void  *p;

    p = malloc(size);
    if (p == NULL) {
        ngx_stream_redis_master_fuzz_fail("malloc(%zu) failed", size);
    }

    return p;
}


redisReader *
ngx_stream_redis_master_fuzz_reader(void)
{
    redisReader  *reader;

    reader = ngx_stream_redis_master_reader_create();
    if (reader == NULL) {
        ngx_stream_redis_master_fuzz_fail("no reader");
    }

    return reader;
}


/* the checker logs the reader's error text with "%s" */

void
ngx_stream_redis_master_fuzz_reader_check(redisReader *reader)
{
    if (reader->err == 0) {
        ngx_stream_redis_master_fuzz_fail("a reader error without err set");
    }

    if (memchr(reader->errstr, '\0', sizeof(reader->errstr)) == NULL) {
        ngx_stream_redis_master_fuzz_fail("reader errstr not terminated");
    }
}


void
ngx_stream_redis_master_fuzz_reason_init(u_char *buf, size_t len)
{
    ngx_memset(buf, NGX_STREAM_REDIS_MASTER_FUZZ_CANARY, len);
}


/*
 * A failure must leave a non-empty, NUL-terminated reason (the checker
 * makes it safe, logs it and keeps it in the shared zone); a success may
 * leave the buffer alone, but whatever it writes must be terminated as
 * well.  Only PING has more outcomes: NGX_STREAM_REDIS_MASTER_STALL is
 * logged as a failure is; NGX_DECLINED (-MASTERDOWN) leaves the INFO
 * replies to tell.  NGX_BUSY, which refuses a connection upstream, is
 * never one.
 */

void
ngx_stream_redis_master_fuzz_reason_check(u_char *buf, size_t len,
    ngx_int_t rc, const char *what)
{
    size_t  i;

    if (rc != NGX_OK && rc != NGX_ERROR
        && ((rc != NGX_STREAM_REDIS_MASTER_STALL && rc != NGX_DECLINED)
            || ngx_strcmp(what, "PING") != 0))
    {
        ngx_stream_redis_master_fuzz_fail("%s returned %ld", what, (long) rc);
    }

    if (rc == NGX_ERROR || rc == NGX_STREAM_REDIS_MASTER_STALL) {
        ngx_stream_redis_master_fuzz_text_check(buf, len, what, 0);

        if (buf[0] == '\0') {
            ngx_stream_redis_master_fuzz_fail("%s failed without a reason",
                                              what);
        }

        return;
    }

    for (i = 0; i < len; i++) {
        if (buf[i] != NGX_STREAM_REDIS_MASTER_FUZZ_CANARY) {
            ngx_stream_redis_master_fuzz_text_check(buf, len, what, 0);
            return;
        }
    }
}


void
ngx_stream_redis_master_fuzz_text_check(u_char *text, size_t size,
    const char *what, ngx_uint_t printable)
{
    u_char  *end, *p;

    end = memchr(text, '\0', size);

    if (end == NULL) {
        ngx_stream_redis_master_fuzz_fail("%s: text not NUL-terminated "
                                          "within %zu bytes", what, size);
    }

    if (!printable) {
        return;
    }

    for (p = text; p < end; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            ngx_stream_redis_master_fuzz_fail("%s: byte 0x%02x at %zu of "
                                              "the text is not printable",
                                              what, *p, (size_t) (p - text));
        }
    }
}


/* what the shared zone, the status output and the logs rely on */

void
ngx_stream_redis_master_fuzz_info_check(ngx_stream_redis_master_info_t *info)
{
    if (info->role > NGX_STREAM_REDIS_MASTER_ROLE_SENTINEL) {
        ngx_stream_redis_master_fuzz_fail("role %lu", (u_long) info->role);
    }

    if (ngx_stream_redis_master_role_name(info->role) == NULL) {
        ngx_stream_redis_master_fuzz_fail("no role name");
    }

    if (info->master_repl_offset < 0 || info->slave_repl_offset < 0) {
        ngx_stream_redis_master_fuzz_fail("negative offset");
    }

    if (info->master_last_io < -1) {
        ngx_stream_redis_master_fuzz_fail("master_last_io %ld",
                                          (long) info->master_last_io);
    }

    ngx_stream_redis_master_fuzz_text_check(info->master_host,
                                            NGX_STREAM_REDIS_MASTER_HOST_LEN,
                                            "master_host", 0);
    ngx_stream_redis_master_fuzz_text_check(info->replid,
                                        NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1,
                                        "replid", 1);
    ngx_stream_redis_master_fuzz_text_check(info->replid2,
                                        NGX_STREAM_REDIS_MASTER_REPLID_LEN + 1,
                                        "replid2", 1);
    ngx_stream_redis_master_fuzz_replid_check(info->replid, "replid");
    ngx_stream_redis_master_fuzz_replid_check(info->replid2, "replid2");
}


/* a replication id kept is 40 hex digits, or none was */

static void
ngx_stream_redis_master_fuzz_replid_check(u_char *replid, const char *what)
{
    size_t  i, len;

    len = ngx_strlen(replid);

    if (len != 0 && len != NGX_STREAM_REDIS_MASTER_REPLID_LEN) {
        ngx_stream_redis_master_fuzz_fail("%s of %zu bytes kept", what, len);
    }

    for (i = 0; i < len; i++) {
        if (!((replid[i] >= '0' && replid[i] <= '9')
              || (replid[i] >= 'a' && replid[i] <= 'f')
              || (replid[i] >= 'A' && replid[i] <= 'F')))
        {
            ngx_stream_redis_master_fuzz_fail("%s: byte 0x%02x at %zu is "
                                              "not a hex digit", what,
                                              replid[i], i);
        }
    }
}


/*
 * As the checker and the subscriber do before anything is logged or
 * stored, makes "text" safe; then it is printable, every 4 bytes that
 * repeated a credential where the server sent them are masked (a
 * credential that is not ASCII too: the masking sees the bytes as they
 * came, before "?" replaces them), and no 4 bytes of one are left.
 */

void
ngx_stream_redis_master_fuzz_secrets(u_char *text, const char *what)
{
    size_t                                 i, j, k, len;
    u_char                                *raw;
    ngx_str_t                             *secret;
    ngx_stream_redis_master_check_conf_t   cc;

    ngx_memzero(&cc, sizeof(cc));
    ngx_str_set(&cc.username, NGX_STREAM_REDIS_MASTER_FUZZ_USER);
    ngx_str_set(&cc.password, NGX_STREAM_REDIS_MASTER_FUZZ_PASSWORD);

    len = ngx_strlen(text);

    raw = ngx_stream_redis_master_fuzz_alloc(len + 1);
    ngx_memcpy(raw, text, len + 1);

    ngx_stream_redis_master_safe_text(text, len, &cc);

    if (ngx_strlen(text) != len) {
        ngx_stream_redis_master_fuzz_fail("%s: the safe text is %zu bytes, "
                                          "not %zu", what, ngx_strlen(text),
                                          len);
    }

    ngx_stream_redis_master_fuzz_text_check(text, len + 1, what, 1);

    for (k = 0; k < 2; k++) {
        secret = k ? &cc.password : &cc.username;

        for (i = 0; i + 4 <= secret->len; i++) {
            if (memmem(text, len, secret->data + i, 4)) {
                ngx_stream_redis_master_fuzz_fail("%s: 4 bytes of a "
                                                  "credential left in "
                                                  "\"%s\"", what, text);
            }

            for (j = 0; j + 4 <= len; j++) {
                if (ngx_memcmp(raw + j, secret->data + i, 4) == 0
                    && ngx_strncmp(text + j, "****", 4) != 0)
                {
                    ngx_stream_redis_master_fuzz_fail("%s: 4 bytes of a "
                                                      "credential at %zu "
                                                      "not masked in "
                                                      "\"%s\"", what, j,
                                                      text);
                }
            }
        }
    }

    free(raw);
}
