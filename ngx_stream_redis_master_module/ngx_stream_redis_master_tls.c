
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * TLS contexts: the redis_ssl_* and redis_sentinel_ssl_* settings merged,
 * checked and made into nginx's ngx_ssl_t, one per distinct set of
 * settings, and the name each target's certificate must bear.
 */


#include "ngx_stream_redis_master_conf.h"


#if (NGX_STREAM_SSL)

static ngx_int_t ngx_stream_redis_master_set_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_ssl_conf_t *sc, const char *prefix);


#define ngx_stream_redis_master_same_str(a, b)                                \
    ((a)->len == (b)->len                                                     \
     && ngx_strncmp((a)->data, (b)->data, (a)->len) == 0)


/*
 * The Sentinels take from redis_ssl_* whatever redis_sentinel_ssl_* leaves
 * unset; each side gets a context of its own once enabled.
 */

ngx_int_t
ngx_stream_redis_master_merge_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_stream_redis_master_ssl_conf_t  *conf, *prev;

    conf = &rmcf->sentinel_ssl;
    prev = &rmcf->ssl;

    ngx_conf_init_value(prev->enable, 0);
    ngx_conf_init_value(prev->session_reuse, 1);
    ngx_conf_init_value(prev->server_name, 0);
    ngx_conf_init_value(prev->verify, 0);
    ngx_conf_init_uint_value(prev->verify_depth, 1);

    if (prev->protocols == 0) {
        prev->protocols = NGX_CONF_BITMASK_SET|NGX_SSL_TLSv1_2
                          |NGX_SSL_TLSv1_3;
    }

    if (prev->ciphers.data == NULL) {
        ngx_str_set(&prev->ciphers, "DEFAULT");
    }

    /* what is left unset is as the redis_ssl_* directives have it */

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_value(conf->session_reuse, prev->session_reuse, 1);
    ngx_conf_merge_value(conf->server_name, prev->server_name, 0);
    ngx_conf_merge_value(conf->verify, prev->verify, 0);
    ngx_conf_merge_uint_value(conf->verify_depth, prev->verify_depth, 1);
    ngx_conf_merge_bitmask_value(conf->protocols, prev->protocols,
                                 (NGX_CONF_BITMASK_SET|NGX_SSL_TLSv1_2
                                  |NGX_SSL_TLSv1_3));
    ngx_conf_merge_str_value(conf->ciphers, prev->ciphers, "DEFAULT");
    ngx_conf_merge_str_value(conf->name, prev->name, "");
    ngx_conf_merge_str_value(conf->trusted_certificate,
                             prev->trusted_certificate, "");
    ngx_conf_merge_str_value(conf->certificate, prev->certificate, "");
    ngx_conf_merge_str_value(conf->certificate_key, prev->certificate_key,
                             "");

    if (prev->enable) {
        if (ngx_stream_redis_master_set_ssl(cf, prev, "redis_ssl")
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        rmcf->check.ssl = prev;
    }

    if (rmcf->sentinel == NULL || !conf->enable) {
        return NGX_OK;
    }

    /* the same settings share one context */

    if (prev->enable && ngx_stream_redis_master_same_ssl(conf, prev)) {
        conf->ssl = prev->ssl;
        return NGX_OK;
    }

    return ngx_stream_redis_master_set_ssl(cf, conf, "redis_sentinel_ssl");
}


/* as ngx_stream_proxy_set_ssl() does for proxy_ssl_* */

static ngx_int_t
ngx_stream_redis_master_set_ssl(ngx_conf_t *cf,
    ngx_stream_redis_master_ssl_conf_t *sc, const char *prefix)
{
    ngx_pool_cleanup_t  *cln;

    sc->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (sc->ssl == NULL) {
        return NGX_ERROR;
    }

    sc->ssl->log = cf->log;

    if (ngx_ssl_create(sc->ssl, sc->protocols, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(sc->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = sc->ssl;

    if (ngx_ssl_ciphers(cf, sc->ssl, &sc->ciphers, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    if (sc->certificate.len) {
        if (sc->certificate_key.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "no \"%s_certificate_key\" is defined for "
                          "certificate \"%V\"", prefix, &sc->certificate);
            return NGX_ERROR;
        }

        if (ngx_ssl_certificate(cf, sc->ssl, &sc->certificate,
                                &sc->certificate_key, NULL)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else if (sc->certificate_key.len) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "no \"%s_certificate\" is defined for key \"%V\"",
                      prefix, &sc->certificate_key);
        return NGX_ERROR;
    }

    if (sc->verify) {
        if (sc->trusted_certificate.len == 0) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "no \"%s_trusted_certificate\" for \"%s_verify\"",
                          prefix, prefix);
            return NGX_ERROR;
        }

        if (ngx_ssl_trusted_certificate(cf, sc->ssl, &sc->trusted_certificate,
                                        sc->verify_depth)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (ngx_ssl_client_session_cache(cf, sc->ssl, sc->session_reuse)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_uint_t
ngx_stream_redis_master_same_ssl(ngx_stream_redis_master_ssl_conf_t *a,
    ngx_stream_redis_master_ssl_conf_t *b)
{
    return a->enable == b->enable
           && a->session_reuse == b->session_reuse
           && a->server_name == b->server_name
           && a->verify == b->verify
           && a->verify_depth == b->verify_depth
           && a->protocols == b->protocols
           && ngx_stream_redis_master_same_str(&a->ciphers, &b->ciphers)
           && ngx_stream_redis_master_same_str(&a->name, &b->name)
           && ngx_stream_redis_master_same_str(&a->trusted_certificate,
                                               &b->trusted_certificate)
           && ngx_stream_redis_master_same_str(&a->certificate,
                                               &b->certificate)
           && ngx_stream_redis_master_same_str(&a->certificate_key,
                                               &b->certificate_key);
}


/*
 * The name a server's certificate must bear: redis_ssl_name, or else the
 * host of the "server" (or Sentinel) address as written, without its port.
 */

ngx_int_t
ngx_stream_redis_master_ssl_name(ngx_conf_t *cf,
    ngx_stream_redis_master_target_t *t, ngx_str_t *server)
{
    u_char     *p, *last;
    ngx_str_t   name;

    name = t->check->ssl->name.len ? t->check->ssl->name : *server;

    p = name.data;
    last = name.data + name.len;

    if (name.len && *p == '[') {
        p = ngx_strlchr(p, last, ']');

        if (p == NULL) {
            p = name.data;
        }
    }

    p = ngx_strlchr(p, last, ':');

    if (p != NULL) {
        name.len = p - name.data;
    }

    /* SSL_set_tlsext_host_name() takes a null-terminated string */

    t->ssl_name.data = ngx_pnalloc(cf->pool, name.len + 1);
    if (t->ssl_name.data == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_cpystrn(t->ssl_name.data, name.data, name.len + 1);
    t->ssl_name.len = name.len;

    return NGX_OK;
}


/*
 * TLS that does not check the peer's certificate gives AUTH to whoever
 * answers at the address: nginx -t says so (docs/tls.md says why it is a
 * warning, not a refusal).
 */

void
ngx_stream_redis_master_warn_unverified(ngx_conf_t *cf,
    ngx_stream_redis_master_srv_conf_t *rmcf)
{
    ngx_stream_upstream_srv_conf_t  *uscf;

    uscf = rmcf->upstream;

    if (rmcf->ssl.enable && !rmcf->ssl.verify && rmcf->check.password.len) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "upstream \"%V\" sends the \"redis_check\" password "
                      "over TLS without checking the servers' certificates, "
                      "to any server that answers: set \"redis_ssl_verify "
                      "on\" and \"redis_ssl_trusted_certificate\" in %s:%ui",
                      rmcf->name, uscf->file_name, uscf->line);
    }

    if (rmcf->sentinel && rmcf->sentinel_ssl.enable
        && !rmcf->sentinel_ssl.verify && rmcf->sentinel->check.password.len)
    {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "upstream \"%V\" sends the \"redis_sentinel\" "
                      "password over TLS without checking the Sentinels' "
                      "certificates, to any Sentinel that answers: set "
                      "\"redis_sentinel_ssl_verify on\" (or "
                      "\"redis_ssl_verify on\", which it inherits) and a "
                      "trusted certificate in %s:%ui",
                      rmcf->name, uscf->file_name, uscf->line);
    }
}


/* redis_ssl_verify_depth and redis_sentinel_ssl_verify_depth: 0 to 100 */

char *
ngx_stream_redis_master_ssl_verify_depth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t  *np;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n > NGX_STREAM_REDIS_MASTER_MAX_VERIFY_DEPTH) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": it must be a "
                           "number from 0 to %d", &value[1], &cmd->name,
                           NGX_STREAM_REDIS_MASTER_MAX_VERIFY_DEPTH);
        return NGX_CONF_ERROR;
    }

    *np = n;

    return NGX_CONF_OK;
}


/* redis_ssl_name and redis_sentinel_ssl_name: a DNS name, 1 to 253 bytes */

char *
ngx_stream_redis_master_check_ssl_name(ngx_conf_t *cf, void *post,
    void *data)
{
    ngx_str_t  *name = data;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (name->len == 0 || name->len > NGX_STREAM_REDIS_MASTER_MAX_SSL_NAME) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\": it must be a "
                           "name of 1 to %d bytes", &value[1], &value[0],
                           NGX_STREAM_REDIS_MASTER_MAX_SSL_NAME);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}

#endif
