
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The status page's response as it is built: a chain of buffers that the
 * renderers append to, and the one escaping of each format (HTML, JSON,
 * the Prometheus label value), in ngx_stream_redis_master_status_text():
 * the one path every text from the zone or the configuration takes to the
 * page.  (The log's escaping is another's: the zone's texts were made safe
 * by ngx_stream_redis_master_safe_text() before they were stored.)
 */


#include "ngx_stream_redis_master_status.h"


/* the size of a buffer of the chain, unless one write needs more:
 * a page of a few upstreams fits in one or two */
#define NGX_STREAM_REDIS_MASTER_STATUS_BUF       16384

/* what one ngx_stream_redis_master_status_printf() writes at most */
#define NGX_STREAM_REDIS_MASTER_STATUS_LINE      4096

/* the most bytes one byte becomes when escaped: "&quot;", or "\u001f" */
#define NGX_STREAM_REDIS_MASTER_ESCAPED_MAX      (sizeof("&quot;") - 1)


static u_char *ngx_stream_redis_master_status_escape_html(u_char *dst,
    u_char *src, size_t size);
static u_char *ngx_stream_redis_master_status_escape_label(u_char *dst,
    u_char *src, size_t size);


/* appends formatted text; one call writes less than its buffer */

void
ngx_stream_redis_master_status_printf(ngx_stream_redis_master_status_out_t *o,
    const char *fmt, ...)
{
    u_char   *p;
    u_char    buf[NGX_STREAM_REDIS_MASTER_STATUS_LINE];
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + sizeof(buf), fmt, args);
    va_end(args);

    ngx_stream_redis_master_status_write(o, buf, p - buf);
}


/*
 * Appends text from the zone or the configuration, escaped for the format:
 * the one path every such text takes to the page.
 */

void
ngx_stream_redis_master_status_text(ngx_stream_redis_master_status_out_t *o,
    u_char *data, size_t len)
{
    u_char  *p;
    u_char   buf[NGX_STREAM_REDIS_MASTER_REASON_LEN
                 * NGX_STREAM_REDIS_MASTER_ESCAPED_MAX];
    size_t   chunk;

    while (len) {
        chunk = ngx_min(len, NGX_STREAM_REDIS_MASTER_REASON_LEN);

        switch (o->format) {

        case NGX_STREAM_REDIS_MASTER_FORMAT_JSON:
            p = (u_char *) ngx_escape_json(buf, data, chunk);
            break;

        case NGX_STREAM_REDIS_MASTER_FORMAT_HTML:
            p = ngx_stream_redis_master_status_escape_html(buf, data, chunk);
            break;

        default:
            p = ngx_stream_redis_master_status_escape_label(buf, data, chunk);
        }

        ngx_stream_redis_master_status_write(o, buf, p - buf);

        data += chunk;
        len -= chunk;
    }
}


/* a replication id in its short form, escaped as any other text */

void
ngx_stream_redis_master_status_replid(ngx_stream_redis_master_status_out_t *o,
    u_char *replid)
{
    size_t  len;

    len = ngx_strlen(replid);

    ngx_stream_redis_master_status_text(o, replid,
                            ngx_min(len, NGX_STREAM_REDIS_MASTER_SHORT_REPLID));
}


/*
 * HTML text and attribute values (quoted with either quote): nginx's own
 * ngx_escape_html() leaves the single quote alone.  At most 6 bytes for 1.
 */

static u_char *
ngx_stream_redis_master_status_escape_html(u_char *dst, u_char *src,
    size_t size)
{
    while (size--) {

        switch (*src) {

        case '<':
            dst = ngx_cpymem(dst, "&lt;", sizeof("&lt;") - 1);
            break;

        case '>':
            dst = ngx_cpymem(dst, "&gt;", sizeof("&gt;") - 1);
            break;

        case '&':
            dst = ngx_cpymem(dst, "&amp;", sizeof("&amp;") - 1);
            break;

        case '"':
            dst = ngx_cpymem(dst, "&quot;", sizeof("&quot;") - 1);
            break;

        case '\'':
            dst = ngx_cpymem(dst, "&#39;", sizeof("&#39;") - 1);
            break;

        default:
            *dst++ = *src;
        }

        src++;
    }

    return dst;
}


/* a Prometheus label value: backslash, double quote and line feed */

static u_char *
ngx_stream_redis_master_status_escape_label(u_char *dst, u_char *src,
    size_t size)
{
    while (size--) {

        if (*src == '\\' || *src == '"') {
            *dst++ = '\\';
            *dst++ = *src;

        } else if (*src == '\n') {
            *dst++ = '\\';
            *dst++ = 'n';

        } else {
            *dst++ = *src;
        }

        src++;
    }

    return dst;
}


void
ngx_stream_redis_master_status_write(ngx_stream_redis_master_status_out_t *o,
    u_char *data, size_t len)
{
    size_t        size;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (o->rc != NGX_OK) {
        return;
    }

    b = o->b;

    if (b == NULL || (size_t) (b->end - b->last) < len) {
        size = ngx_max(len, NGX_STREAM_REDIS_MASTER_STATUS_BUF);

        b = ngx_create_temp_buf(o->r->pool, size);
        if (b == NULL) {
            o->rc = NGX_ERROR;
            return;
        }

        cl = ngx_alloc_chain_link(o->r->pool);
        if (cl == NULL) {
            o->rc = NGX_ERROR;
            return;
        }

        cl->buf = b;
        cl->next = NULL;
        *o->last = cl;
        o->last = &cl->next;
        o->b = b;
    }

    b->last = ngx_cpymem(b->last, data, len);
}
