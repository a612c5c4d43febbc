#!/usr/bin/python3
# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

"""The failover drill's client, on redis-py (Debian's python3-redis).

write HOST PORT USER PASS OUT SECONDS
    SET k:<i> <i> every 5 ms on one persistent connection, reconnecting on
    error, for SECONDS.  Writes one line per attempt to OUT:
    "<i> <sent> <done> <result>", times in seconds since the epoch, result
    "ok", "readonly", "error:<text>" or "conn:<text>".

verify PORT USER PASS OUT
    Reads which acknowledged writes of OUT are missing on the server at
    PORT; prints their numbers <i>, one a line.
"""

import sys
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def connect(host, port, user, password):
    # like most applications: one retry when the connection breaks
    return redis.Redis(host=host, port=port, username=user,
                       password=password, socket_timeout=5,
                       socket_connect_timeout=6,
                       retry=Retry(NoBackoff(), 1),
                       retry_on_error=[redis.exceptions.ConnectionError])


def write(host, port, user, password, out, seconds):
    r = connect(host, int(port), user, password)
    end = time.time() + float(seconds)
    i = 0
    with open(out, "w") as log:
        while time.time() < end:
            i += 1
            sent = time.time()
            try:
                r.set("k:%d" % i, i)
                result = "ok"
            except redis.exceptions.ReadOnlyError:
                result = "readonly"
            except (redis.exceptions.ConnectionError,
                    redis.exceptions.TimeoutError) as e:
                result = "conn:%s" % str(e).replace(" ", "_")[:60]
                r.connection_pool.disconnect()
            except redis.exceptions.ResponseError as e:
                result = "error:%s" % str(e).replace(" ", "_")[:60]
            done = time.time()
            log.write("%d %.6f %.6f %s\n" % (i, sent, done, result))
            pause = 0.005 - (time.time() - sent)
            if pause > 0:
                time.sleep(pause)


def verify(port, user, password, out):
    r = connect("127.0.0.1", int(port), user, password)
    acked = [line.split()[0] for line in open(out)
             if line.split()[3] == "ok"]
    for n in range(0, len(acked), 500):
        batch = acked[n:n + 500]
        values = r.mget(["k:%s" % i for i in batch])
        for i, v in zip(batch, values):
            if v is None:
                print(i)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(*sys.argv[2:8])
    else:
        verify(*sys.argv[2:6])
