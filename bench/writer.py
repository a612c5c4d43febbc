#!/usr/bin/python3
# Copyright (C) The ngx_stream_redis_master_module authors
# SPDX-License-Identifier: BSD-2-Clause (see LICENSE)

"""The failover drill's client, on redis-py (Debian's python3-redis).

write HOST PORT USER PASS OUT SECONDS [TIMEOUT]
    SET k:<i> <i> (the prefix WRITER_PREFIX, "k" by default) every 5 ms on one persistent connection, reconnecting on
    error, for SECONDS (socket timeout TIMEOUT seconds, 5 by default), or
    until SIGTERM, after which it finishes the write in flight, flushes OUT
    and exits.
    Writes one line per attempt to OUT: "<i> <sent> <done> <result>",
    times in seconds since the epoch, result "ok", "readonly",
    "error:<text>" or "conn:<text>".

fleet HOST PORT USER PASS OUT SECONDS [TIMEOUT]
    The same, with INFO server pipelined after each SET on the same
    connection: the line ends with the tcp_port of the server that took
    the write (nginx proxies a connection to one server) and that server's
    clock (server_time_usec) just after it, "- -" if none.

verify [HOST:]PORT USER PASS OUT
    Reads which acknowledged writes of OUT are missing on the server at
    HOST (127.0.0.1 by default) and PORT; prints their numbers <i>, one a
    line.

With WRITER_CONNECTS=FILE in the environment, write and fleet append to
FILE the time of each connection they open (the first, then one per
reconnect: a connection the proxy or the server cut, or one given up).
"""

import os
import signal
import sys
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def connect(host, port, user, password, timeout=5, connects=None):
    # like most applications: one retry when the connection breaks
    on_connect = None
    if connects:
        log = open(connects, "a", buffering=1)

        def on_connect(conn):
            log.write("%.6f\n" % time.time())
            conn.on_connect()

    return redis.Redis(host=host, port=port, username=user,
                       password=password, socket_timeout=timeout,
                       socket_connect_timeout=6,
                       retry=Retry(NoBackoff(), 1),
                       retry_on_error=[redis.exceptions.ConnectionError],
                       redis_connect_func=on_connect)


def set_where(r, key, value):
    """SET, and INFO server on the same connection (one connection, one
    server: the answer names the server that took the SET).  A pipeline is
    not retried by redis-py as a single command is: one retry here too."""
    for attempt in (0, 1):
        p = r.pipeline(transaction=False)
        p.set(key, value)
        p.info("server")
        try:
            return p.execute()[1]
        except redis.exceptions.ConnectionError:
            r.connection_pool.disconnect()
            if attempt:
                raise


def write(host, port, user, password, out, seconds, timeout=5, fleet=False):
    r = connect(host, int(port), user, password, float(timeout),
                os.environ.get("WRITER_CONNECTS"))
    end = time.time() + float(seconds)
    prefix = os.environ.get("WRITER_PREFIX", "k")
    i = 0
    stop = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.append(signum))
    with open(out, "w") as log:
        while time.time() < end and not stop:
            i += 1
            sent = time.time()
            server = "- -"
            try:
                if fleet:
                    info = set_where(r, "%s:%d" % (prefix, i), i)
                    server = "%s %.6f" % (info.get("tcp_port", "-"),
                                          int(info.get("server_time_usec",
                                                       0)) / 1e6)
                else:
                    r.set("%s:%d" % (prefix, i), i)
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
            if fleet:
                log.write("%d %.6f %.6f %s %s\n"
                          % (i, sent, done, result, server))
            else:
                log.write("%d %.6f %.6f %s\n" % (i, sent, done, result))
            pause = 0.005 - (time.time() - sent)
            if pause > 0:
                time.sleep(pause)


def verify(port, user, password, out):
    host, _, port = port.rpartition(":")
    r = connect(host or "127.0.0.1", int(port), user, password)
    prefix = os.environ.get("WRITER_PREFIX", "k")
    acked = [line.split()[0] for line in open(out)
             if line.split()[3] == "ok"]
    for n in range(0, len(acked), 500):
        batch = acked[n:n + 500]
        values = r.mget(["%s:%s" % (prefix, i) for i in batch])
        for i, v in zip(batch, values):
            if v is None:
                print(i)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(*sys.argv[2:9])
    elif sys.argv[1] == "fleet":
        write(*sys.argv[2:9], fleet=True)
    else:
        verify(*sys.argv[2:6])
