
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The directives' parameters: a time, a number or a size within its
 * range, and the errors that say what is wrong with one without echoing
 * a secret.
 */


#include "ngx_stream_redis_master_conf.h"


/*
 * The longest leading name of a parameter an error echoes: the longest
 * the directives know, "min_replicas_max_lag", is 20 letters; a longer
 * word of letters may be a secret written on its own.
 */

#define NGX_STREAM_REDIS_MASTER_ECHO_PARAM   32


/*
 * What a range adds to its two numbers: " to " and a unit after each
 * ("ms" at most), 8 bytes, with room to spare.
 */

#define NGX_STREAM_REDIS_MASTER_RANGE_WORDS  16


static u_char *ngx_stream_redis_master_print_msec(u_char *p, off_t ms);
static u_char *ngx_stream_redis_master_print_num(u_char *p, off_t n);
static size_t ngx_stream_redis_master_masked(ngx_str_t *value);


/* whether a value is a bare number: digits, no unit */

ngx_uint_t
ngx_stream_redis_master_is_number(u_char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }

    return len > 0;
}


/*
 * "name=TIME" (the name is "skip" bytes), within [low, high]; otherwise
 * nginx -t says so, with the value and the range.
 */

ngx_int_t
ngx_stream_redis_master_time_param(ngx_conf_t *cf, ngx_str_t *value,
    size_t skip, ngx_msec_t low, ngx_msec_t high, ngx_msec_t *ms)
{
    ngx_str_t   s;
    ngx_msec_t  v;

    s.data = value->data + skip;
    s.len = value->len - skip;

    v = ngx_parse_time(&s, 0);

    if (v == (ngx_msec_t) NGX_ERROR || v < low || v > high) {
        return ngx_stream_redis_master_out_of_range(cf, value, "a time",
                                          (off_t) low, (off_t) high,
                                          ngx_stream_redis_master_print_msec);
    }

    *ms = v;

    return NGX_OK;
}


/* "name=N", as above */

ngx_int_t
ngx_stream_redis_master_num_param(ngx_conf_t *cf, ngx_str_t *value,
    size_t skip, ngx_int_t low, ngx_int_t high, ngx_int_t *n)
{
    ngx_int_t  v;

    v = ngx_atoi(value->data + skip, value->len - skip);

    if (v == NGX_ERROR || v < low || v > high) {
        return ngx_stream_redis_master_out_of_range(cf, value, "a number",
                                           (off_t) low, (off_t) high,
                                           ngx_stream_redis_master_print_num);
    }

    *n = v;

    return NGX_OK;
}


/* only names and numbers get here, never a password */

ngx_int_t
ngx_stream_redis_master_out_of_range(ngx_conf_t *cf, ngx_str_t *value,
    const char *what, off_t low, off_t high,
    u_char *(*print)(u_char *p, off_t v))
{
    u_char      range[2 * NGX_OFF_T_LEN + NGX_STREAM_REDIS_MASTER_RANGE_WORDS];
    u_char     *p;
    ngx_str_t  *args;

    args = cf->args->elts;

    p = print(range, low);
    p = ngx_cpymem(p, " to ", 4);
    p = print(p, high);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\": it must be %s "
                       "from %*s", value, &args[0], what, p - range, range);

    return NGX_ERROR;
}


/* a time as it is best written: "1h", "1m", "1s" or "50ms" */

static u_char *
ngx_stream_redis_master_print_msec(u_char *p, off_t ms)
{
    if (ms == 0) {
        *p = '0';
        return p + 1;
    }

    if (ms % (3600 * 1000) == 0) {
        return ngx_sprintf(p, "%Oh", ms / (3600 * 1000));
    }

    if (ms % (60 * 1000) == 0) {
        return ngx_sprintf(p, "%Om", ms / (60 * 1000));
    }

    if (ms % 1000 == 0) {
        return ngx_sprintf(p, "%Os", ms / 1000);
    }

    return ngx_sprintf(p, "%Oms", ms);
}


static u_char *
ngx_stream_redis_master_print_num(u_char *p, off_t n)
{
    return ngx_sprintf(p, "%O", n);
}


u_char *
ngx_stream_redis_master_print_size(u_char *p, off_t size)
{
    if (size && size % (1 << 30) == 0) {
        return ngx_sprintf(p, "%Og", size >> 30);
    }

    if (size && size % (1 << 20) == 0) {
        return ngx_sprintf(p, "%Om", size >> 20);
    }

    if (size && size % 1024 == 0) {
        return ngx_sprintf(p, "%Ok", size >> 10);
    }

    return ngx_sprintf(p, "%O", size);
}


/*
 * How much of a parameter an error may echo: its leading name, letters
 * and "_" up to an "=" or any other character, with the "=".
 */

static size_t
ngx_stream_redis_master_masked(ngx_str_t *value)
{
    u_char  c;
    size_t  len;

    for (len = 0;
         len < value->len && len < NGX_STREAM_REDIS_MASTER_ECHO_PARAM;
         len++)
    {
        c = (u_char) (value->data[len] | 0x20);

        if ((c < 'a' || c > 'z') && value->data[len] != '_') {
            break;
        }
    }

    if (len < value->len && value->data[len] == '=') {
        len++;
    }

    return len;
}


/*
 * How much of a Sentinel address an error may echo, since it may be a
 * mistyped "password:s3cret": an IP address, or a host name of letters
 * (".", "-", "_" too, but no digit, as in a secret), then ":" and the
 * digits of a port; an IPv6 address in brackets, then its port.
 */

size_t
ngx_stream_redis_master_address_masked(ngx_str_t *value)
{
    u_char      c, *p, *last;
    ngx_uint_t  letters, digits;

    p = value->data;
    last = p + value->len;

    if (p < last && *p == '[') {

        for (p++; p < last && *p != ']'; p++) {
            c = (u_char) (*p | 0x20);

            if ((*p < '0' || *p > '9') && (c < 'a' || c > 'f')
                && *p != ':' && *p != '.')
            {
                return p - value->data;
            }
        }

        if (p == last) {
            return p - value->data;
        }

        p++;

    } else {
        letters = 0;
        digits = 0;

        for ( /* void */ ; p < last && *p != ':'; p++) {
            c = (u_char) (*p | 0x20);

            if (c >= 'a' && c <= 'z' && !digits) {
                letters = 1;
                continue;
            }

            if (*p >= '0' && *p <= '9' && !letters) {
                digits = 1;
                continue;
            }

            if (*p != '.' && *p != '-' && *p != '_') {
                return p - value->data;
            }
        }
    }

    if (p < last && *p == ':') {
        for (p++; p < last && *p >= '0' && *p <= '9'; p++) {
            /* void */
        }
    }

    return p - value->data;
}


/*
 * An unknown parameter may be a mistyped "password=" ("password:s3cret"),
 * or a secret written on its own: only its leading name, letters and "_"
 * up to an "=" or any other character, is echoed, so that a secret never
 * reaches the error log.
 */

char *
ngx_stream_redis_master_bad_param(ngx_conf_t *cf, ngx_str_t *value)
{
    size_t      len;
    ngx_str_t  *args;

    args = cf->args->elts;
    len = ngx_stream_redis_master_masked(value);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%*s%s\" in \"%V\"",
                       len, value->data, len < value->len ? "..." : "",
                       &args[0]);

    return NGX_CONF_ERROR;
}
