
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The stream variables: how the balancer placed a session
 * ($redis_master_role, $redis_master_master, $redis_master_wait_time,
 * $redis_master_decision).
 */


#include "ngx_stream_redis_master_conf.h"


static ngx_int_t ngx_stream_redis_master_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data);


#define NGX_STREAM_REDIS_MASTER_VAR_ROLE       0
#define NGX_STREAM_REDIS_MASTER_VAR_MASTER     1
#define NGX_STREAM_REDIS_MASTER_VAR_WAIT_TIME  2
#define NGX_STREAM_REDIS_MASTER_VAR_DECISION   3


/* $redis_master_wait_time: seconds and milliseconds, "%T.%03M" */
#define NGX_STREAM_REDIS_MASTER_WAIT_TIME_LEN                                 \
    (NGX_TIME_T_LEN + sizeof(".000") - 1)


static ngx_stream_variable_t  ngx_stream_redis_master_vars[] = {

    { ngx_string("redis_master_role"), NULL,
      ngx_stream_redis_master_variable, NGX_STREAM_REDIS_MASTER_VAR_ROLE,
      NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("redis_master_master"), NULL,
      ngx_stream_redis_master_variable, NGX_STREAM_REDIS_MASTER_VAR_MASTER,
      NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("redis_master_wait_time"), NULL,
      ngx_stream_redis_master_variable,
      NGX_STREAM_REDIS_MASTER_VAR_WAIT_TIME, NGX_STREAM_VAR_NOCACHEABLE, 0 },

    { ngx_string("redis_master_decision"), NULL,
      ngx_stream_redis_master_variable,
      NGX_STREAM_REDIS_MASTER_VAR_DECISION, NGX_STREAM_VAR_NOCACHEABLE, 0 },

      ngx_stream_null_variable
};


/* $redis_master_decision, by NGX_STREAM_REDIS_MASTER_PLACED_* */
static ngx_str_t  ngx_stream_redis_master_placed_names[] = {
    ngx_null_string,
    ngx_string("master"),
    ngx_string("replica"),
    ngx_string("fallback"),
    ngx_string("held"),
    ngx_string("refused")
};


ngx_int_t
ngx_stream_redis_master_add_variables(ngx_conf_t *cf)
{
    ngx_stream_variable_t  *var, *v;

    for (v = ngx_stream_redis_master_vars; v->name.len; v++) {
        var = ngx_stream_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * How the balancer placed the session: the role of the server it used,
 * the upstream's master when the session started, how long wait= held it,
 * and the decision.  Not found in a session of another balancer.
 */

static ngx_int_t
ngx_stream_redis_master_variable(ngx_stream_session_t *s,
    ngx_stream_variable_value_t *v, uintptr_t data)
{
    u_char                               *p;
    ngx_str_t                            *name;
    const char                           *role;
    ngx_stream_redis_master_seat_t       *seat;
    ngx_stream_redis_master_target_t    **tp;
    ngx_stream_redis_master_peer_data_t  *pd;

    pd = ngx_stream_get_module_ctx(s, ngx_stream_redis_master_module);

    if (pd == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_STREAM_REDIS_MASTER_VAR_ROLE:
        if (pd->role == NGX_STREAM_REDIS_MASTER_ROLE_UNKNOWN) {
            v->not_found = 1;
            return NGX_OK;
        }

        role = ngx_stream_redis_master_role_name(pd->role);
        v->data = (u_char *) role;
        v->len = ngx_strlen(role);
        break;

    case NGX_STREAM_REDIS_MASTER_VAR_MASTER:
        if (pd->first_master == NGX_STREAM_REDIS_MASTER_NONE) {
            v->not_found = 1;
            return NGX_OK;
        }

        tp = pd->conf->targets.elts;
        name = &tp[pd->first_master]->name;
        v->data = name->data;
        v->len = name->len;

        /*
         * A server a redis_server name brought: the address the session
         * went to, or the one its seat has now
         */

        if (pd->seated && pd->index == pd->first_master) {
            v->data = pd->name.data;
            v->len = pd->name.len;
            break;
        }

        seat = ngx_stream_redis_master_seat_in_view(pd->conf,
                                                    pd->first_master);

        if (seat && seat->socklen) {
            p = ngx_pnalloc(s->connection->pool, NGX_SOCKADDR_STRLEN);
            if (p == NULL) {
                return NGX_ERROR;
            }

            v->data = p;
            v->len = ngx_sock_ntop(&seat->addr.sockaddr, seat->socklen, p,
                                   NGX_SOCKADDR_STRLEN, 1);
        }

        break;

    case NGX_STREAM_REDIS_MASTER_VAR_WAIT_TIME:
        p = ngx_pnalloc(s->connection->pool,
                        NGX_STREAM_REDIS_MASTER_WAIT_TIME_LEN);
        if (p == NULL) {
            return NGX_ERROR;
        }

        v->data = p;
        v->len = ngx_sprintf(p, "%T.%03M", (time_t) pd->wait_time / 1000,
                             pd->wait_time % 1000)
                 - p;
        break;

    default: /* NGX_STREAM_REDIS_MASTER_VAR_DECISION */
        name = &ngx_stream_redis_master_placed_names[pd->placed];

        if (name->len == 0) {
            v->not_found = 1;
            return NGX_OK;
        }

        v->data = name->data;
        v->len = name->len;
        break;
    }

    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
