
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * A TEST DOUBLE, for the fuzz targets and the unit tests only: the few
 * nginx core functions that the module's reply and policy code link
 * against (see "nm -u"), written for this project from their documented
 * behaviour, because Debian ships nginx's headers but not its .c files.
 * It is not nginx's code and it is never linked into the module.
 *
 *   ngx_atoi(), ngx_atoof()   decimal digits only, NGX_ERROR when empty, on
 *                             any other byte or on overflow;
 *   ngx_strlcasestrn()        "s2" of n + 1 bytes, lowercase, searched for
 *                             in [s1, last) regardless of case;
 *   ngx_strncasecmp()         ASCII letters compared regardless of case;
 *   ngx_cpystrn()             at most n - 1 bytes and a NUL, stopping at a
 *                             NUL; returns where the NUL went;
 *   ngx_sock_ntop()           an IPv4 or IPv6 address with its port
 *                             ("a.b.c.d:port", "[v6]:port"), by
 *                             inet_ntop(); other families give 0;
 *   ngx_inet_addr(), ngx_inet6_addr()
 *                             a dotted IPv4 address (INADDR_NONE if not
 *                             one), an IPv6 address without brackets
 *                             (NGX_ERROR if not one), by inet_pton() on a
 *                             NUL-terminated copy of at most 64 bytes;
 *   ngx_cmp_sockaddr()        NGX_OK when two IPv4 or IPv6 addresses of
 *                             the same family are the same address (and,
 *                             with "cmp_port", port), else NGX_DECLINED;
 *   ngx_sprintf(), ngx_snprintf(), ngx_slprintf()
 *                             ngx_vslprintf() with no limit, a size or an
 *                             end;
 *   ngx_vslprintf()           the directives the module's reply and check
 *                             code use: %s %*s %V %d %i %z (with "u" for
 *                             unsigned, an optional width and "0" padding),
 *                             %c %Z %%; output stops at "last".  Any other
 *                             directive aborts, so that a new one in the
 *                             module shows up here instead of printing
 *                             something nginx would not.
 */


#include <ngx_config.h>
#include <ngx_core.h>


static u_char *ngx_stream_redis_master_fuzz_num(u_char *buf, u_char *last,
    uint64_t ui64, ngx_uint_t negative, u_char zero, size_t width);


ngx_int_t
ngx_atoi(u_char *line, size_t n)
{
    ngx_int_t  value, cutoff, cutlim;

    if (n == 0) {
        return NGX_ERROR;
    }

    cutoff = NGX_MAX_INT_T_VALUE / 10;
    cutlim = NGX_MAX_INT_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NGX_ERROR;
        }

        if (value > cutoff || (value == cutoff && *line - '0' > cutlim)) {
            return NGX_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


off_t
ngx_atoof(u_char *line, size_t n)
{
    off_t  value, cutoff, cutlim;

    if (n == 0) {
        return NGX_ERROR;
    }

    cutoff = NGX_MAX_OFF_T_VALUE / 10;
    cutlim = NGX_MAX_OFF_T_VALUE % 10;

    for (value = 0; n--; line++) {
        if (*line < '0' || *line > '9') {
            return NGX_ERROR;
        }

        if (value > cutoff || (value == cutoff && *line - '0' > cutlim)) {
            return NGX_ERROR;
        }

        value = value * 10 + (*line - '0');
    }

    return value;
}


u_char *
ngx_strlcasestrn(u_char *s1, u_char *last, u_char *s2, size_t n)
{
    size_t  i;

    /* s2 has n + 1 bytes */

    if ((size_t) (last - s1) <= n) {
        return NULL;
    }

    last -= n;

    for ( /* void */ ; s1 < last; s1++) {

        for (i = 0; i <= n; i++) {
            if (ngx_tolower(s1[i]) != s2[i]) {
                break;
            }
        }

        if (i > n) {
            return s1;
        }
    }

    return NULL;
}


ngx_int_t
ngx_strncasecmp(u_char *s1, u_char *s2, size_t n)
{
    ngx_uint_t  c1, c2;

    while (n--) {
        c1 = (ngx_uint_t) *s1++;
        c2 = (ngx_uint_t) *s2++;

        c1 = (c1 >= 'A' && c1 <= 'Z') ? (c1 | 0x20) : c1;
        c2 = (c2 >= 'A' && c2 <= 'Z') ? (c2 | 0x20) : c2;

        if (c1 != c2) {
            return c1 - c2;
        }

        if (c1 == 0) {
            return 0;
        }
    }

    return 0;
}


u_char *
ngx_cpystrn(u_char *dst, u_char *src, size_t n)
{
    if (n == 0) {
        return dst;
    }

    while (--n && *src) {
        *dst++ = *src++;
    }

    *dst = '\0';

    return dst;
}


size_t
ngx_sock_ntop(struct sockaddr *sa, socklen_t socklen, u_char *text,
    size_t len, ngx_uint_t port)
{
    char                  addr[INET6_ADDRSTRLEN];
    const void           *src;
    struct sockaddr_in   *sin;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin6;
#endif

    switch (sa->sa_family) {

    case AF_INET:
        sin = (struct sockaddr_in *) sa;
        src = &sin->sin_addr;
        if (inet_ntop(AF_INET, src, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        return port ? (size_t) (ngx_slprintf(text, text + len, "%s:%d", addr,
                                             (int) ntohs(sin->sin_port))
                                - text)
                    : (size_t) (ngx_cpystrn(text, (u_char *) addr, len)
                                - text);

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin6 = (struct sockaddr_in6 *) sa;
        src = &sin6->sin6_addr;
        if (inet_ntop(AF_INET6, src, addr, sizeof(addr)) == NULL) {
            return 0;
        }

        return port ? (size_t) (ngx_slprintf(text, text + len, "[%s]:%d",
                                             addr,
                                             (int) ntohs(sin6->sin6_port))
                                - text)
                    : (size_t) (ngx_cpystrn(text, (u_char *) addr, len)
                                - text);
#endif

    default:
        return 0;
    }
}


/* the longest address text the test double copies for inet_pton() */

#define NGX_STUB_ADDR_TEXT  64


in_addr_t
ngx_inet_addr(u_char *text, size_t len)
{
    char            buf[NGX_STUB_ADDR_TEXT];
    struct in_addr  a;

    if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len)) {
        return INADDR_NONE;
    }

    memcpy(buf, text, len);
    buf[len] = '\0';

    if (inet_pton(AF_INET, buf, &a) != 1) {
        return INADDR_NONE;
    }

    return a.s_addr;
}


ngx_int_t
ngx_inet6_addr(u_char *p, size_t len, u_char *addr)
{
    char  buf[NGX_STUB_ADDR_TEXT];

    if (len == 0 || len >= sizeof(buf) || memchr(p, '\0', len)) {
        return NGX_ERROR;
    }

    memcpy(buf, p, len);
    buf[len] = '\0';

    return inet_pton(AF_INET6, buf, addr) == 1 ? NGX_OK : NGX_ERROR;
}


ngx_int_t
ngx_cmp_sockaddr(struct sockaddr *sa1, socklen_t slen1,
    struct sockaddr *sa2, socklen_t slen2, ngx_uint_t cmp_port)
{
    struct sockaddr_in   *sin1, *sin2;
#if (NGX_HAVE_INET6)
    struct sockaddr_in6  *sin61, *sin62;
#endif

    if (sa1->sa_family != sa2->sa_family) {
        return NGX_DECLINED;
    }

    switch (sa1->sa_family) {

    case AF_INET:
        sin1 = (struct sockaddr_in *) sa1;
        sin2 = (struct sockaddr_in *) sa2;

        if (cmp_port && sin1->sin_port != sin2->sin_port) {
            return NGX_DECLINED;
        }

        return sin1->sin_addr.s_addr == sin2->sin_addr.s_addr
               ? NGX_OK : NGX_DECLINED;

#if (NGX_HAVE_INET6)
    case AF_INET6:
        sin61 = (struct sockaddr_in6 *) sa1;
        sin62 = (struct sockaddr_in6 *) sa2;

        if (cmp_port && sin61->sin6_port != sin62->sin6_port) {
            return NGX_DECLINED;
        }

        return memcmp(&sin61->sin6_addr, &sin62->sin6_addr, 16) == 0
               ? NGX_OK : NGX_DECLINED;
#endif

    default:
        return NGX_DECLINED;
    }
}


u_char * ngx_cdecl
ngx_sprintf(u_char *buf, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, (void *) -1, fmt, args);
    va_end(args);

    return p;
}


u_char * ngx_cdecl
ngx_snprintf(u_char *buf, size_t max, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, buf + max, fmt, args);
    va_end(args);

    return p;
}


u_char * ngx_cdecl
ngx_slprintf(u_char *buf, u_char *last, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    va_start(args, fmt);
    p = ngx_vslprintf(buf, last, fmt, args);
    va_end(args);

    return p;
}


u_char *
ngx_vslprintf(u_char *buf, u_char *last, const char *fmt, va_list args)
{
    u_char      *s, zero;
    size_t       width, slen;
    int64_t      i64;
    uint64_t     ui64;
    ngx_str_t   *v;
    ngx_uint_t   sign;

    while (*fmt && buf < last) {

        if (*fmt != '%') {
            *buf++ = *fmt++;
            continue;
        }

        fmt++;

        zero = (u_char) ((*fmt == '0') ? '0' : ' ');
        width = 0;
        i64 = 0;
        ui64 = 0;
        sign = 1;
        slen = (size_t) -1;

        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }

        for ( ;; ) {
            if (*fmt == 'u') {
                sign = 0;
                fmt++;
                continue;
            }

            if (*fmt == '*') {
                slen = va_arg(args, size_t);
                fmt++;
                continue;
            }

            break;
        }

        switch (*fmt) {

        case 'V':
            v = va_arg(args, ngx_str_t *);
            slen = ngx_min((size_t) (last - buf), v->len);
            buf = ngx_cpymem(buf, v->data, slen);
            fmt++;
            continue;

        case 's':
            s = va_arg(args, u_char *);

            while (slen-- && *s && buf < last) {
                *buf++ = *s++;
            }

            fmt++;
            continue;

        case 'c':
            *buf++ = (u_char) va_arg(args, int);
            fmt++;
            continue;

        case 'Z':
            *buf++ = '\0';
            fmt++;
            continue;

        case '%':
            *buf++ = '%';
            fmt++;
            continue;

        case 'd':
            if (sign) {
                i64 = va_arg(args, int);
            } else {
                ui64 = va_arg(args, u_int);
            }
            break;

        case 'i':
            if (sign) {
                i64 = va_arg(args, ngx_int_t);
            } else {
                ui64 = va_arg(args, ngx_uint_t);
            }
            break;

        case 'z':
            if (sign) {
                i64 = va_arg(args, ssize_t);
            } else {
                ui64 = va_arg(args, size_t);
            }
            break;

        default:
            fprintf(stderr, "ngx_stub.c: format directive \"%%%c\" is not "
                    "implemented by the test double\n", *fmt);
            abort();
        }

        fmt++;

        if (sign) {
            ui64 = (i64 < 0) ? (uint64_t) 0 - (uint64_t) i64 : (uint64_t) i64;
        }

        buf = ngx_stream_redis_master_fuzz_num(buf, last, ui64,
                                               sign && i64 < 0, zero, width);
    }

    return buf;
}


static u_char *
ngx_stream_redis_master_fuzz_num(u_char *buf, u_char *last, uint64_t ui64,
    ngx_uint_t negative, u_char zero, size_t width)
{
    u_char  *p, temp[NGX_INT64_LEN + 1];
    size_t   len;

    if (negative && buf < last) {
        *buf++ = '-';
    }

    p = temp + sizeof(temp);

    do {
        *--p = (u_char) (ui64 % 10 + '0');
        ui64 /= 10;
    } while (ui64);

    len = (temp + sizeof(temp)) - p;

    for ( /* void */ ; len < width && buf < last; width--) {
        *buf++ = zero;
    }

    len = ngx_min((size_t) (last - buf), len);

    return ngx_cpymem(buf, p, len);
}
