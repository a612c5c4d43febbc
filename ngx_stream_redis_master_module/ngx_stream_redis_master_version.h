
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * The module's version, in this one place: the Makefile (make deb, make
 * install) and CHANGES follow it, and the module logs it at start-up.
 */


#ifndef _NGX_STREAM_REDIS_MASTER_VERSION_H_INCLUDED_
#define _NGX_STREAM_REDIS_MASTER_VERSION_H_INCLUDED_


#define NGX_STREAM_REDIS_MASTER_VERSION         "0.1.0"
#define NGX_STREAM_REDIS_MASTER_VER                                         \
    "ngx_stream_redis_master_module/" NGX_STREAM_REDIS_MASTER_VERSION


#endif /* _NGX_STREAM_REDIS_MASTER_VERSION_H_INCLUDED_ */
