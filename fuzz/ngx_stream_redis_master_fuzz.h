
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * What the three libFuzzer targets share: how an input is cut into the
 * pieces that recv() could return, and the invariants every reply function
 * must keep (checked with abort(), which libFuzzer reports as a crash).
 */


#ifndef _NGX_STREAM_REDIS_MASTER_FUZZ_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_FUZZ_H_INCLUDED_


#include "ngx_stream_redis_master_wire.h"

#include <hiredis/hiredis.h>


/* the read buffer of the checker and of the subscriber */
#define NGX_STREAM_REDIS_MASTER_FUZZ_RECV         4096

/* the master name of the pub/sub target when the input names none */
#define NGX_STREAM_REDIS_MASTER_FUZZ_NAME         "mymaster"

/* what a reason or an event buffer holds before a call */
#define NGX_STREAM_REDIS_MASTER_FUZZ_CANARY       0xa5

/* the credentials the module sent, which a server may repeat */
#define NGX_STREAM_REDIS_MASTER_FUZZ_USER         "fuzz-user"
/* UTF-8: masked as the server sent it, before "?" replaces its bytes */
#define NGX_STREAM_REDIS_MASTER_FUZZ_PASSWORD                               \
    "fuzz-p\xc3\xa4ssw\xc3\xb6rd-\xc3\xbcn\xc3\xaf" "code"


typedef struct {
    const u_char                      *data;
    size_t                             size;
    size_t                             pos;
    uint64_t                           state;
    ngx_uint_t                         mode;
} ngx_stream_redis_master_fuzz_feeder_t;


void ngx_stream_redis_master_fuzz_feeder_init(
    ngx_stream_redis_master_fuzz_feeder_t *f, const u_char *data,
    size_t size, ngx_uint_t salt);
size_t ngx_stream_redis_master_fuzz_feeder_next(
    ngx_stream_redis_master_fuzz_feeder_t *f, const u_char **piece);

void ngx_stream_redis_master_fuzz_fail(const char *fmt, ...)
    __attribute__ ((format (printf, 1, 2), noreturn));
void *ngx_stream_redis_master_fuzz_alloc(size_t size);
redisReader *ngx_stream_redis_master_fuzz_reader(void);
void ngx_stream_redis_master_fuzz_reader_check(redisReader *reader);

void ngx_stream_redis_master_fuzz_reason_init(u_char *buf, size_t len);
void ngx_stream_redis_master_fuzz_reason_check(u_char *buf, size_t len,
    ngx_int_t rc, const char *what);
void ngx_stream_redis_master_fuzz_text_check(u_char *text, size_t size,
    const char *what, ngx_uint_t printable);
void ngx_stream_redis_master_fuzz_secrets(u_char *text, const char *what);
void ngx_stream_redis_master_fuzz_info_check(
    ngx_stream_redis_master_info_t *info);


#endif /* _NGX_STREAM_REDIS_MASTER_FUZZ_H_INCLUDED_ */
