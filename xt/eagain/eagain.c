
/*
 * Copyright (C) The ngx_stream_redis_master_module authors
 * SPDX-License-Identifier: BSD-2-Clause (see LICENSE)
 *
 * eagain.so: an LD_PRELOAD shim for the nginx under test that makes the
 * reads and writes of its non-blocking TCP and UDP sockets fail with
 * EAGAIN, and its TCP reads and writes stop short, at random (see
 * docs/testing.md, "Partial reads and writes").  Written for this project
 * after the idea of openresty's mockeagain, which works with poll() only;
 * this one keeps nginx's edge-triggered epoll.
 *
 * Under edge-triggered epoll a faked EAGAIN, or a short read or write that
 * nginx takes for a drained (or full) socket buffer, would lose the
 * wakeup: the kernel reports a socket again only when its state changes,
 * and it has not.  So each fake is followed by the readiness event the
 * kernel would have given had the buffer truly been drained and refilled
 * (or filled and emptied): the shim remembers what nginx registered with
 * epoll_ctl() for the descriptor and adds an event for the direction it
 * faked to the next epoll_wait(), which then does not block.
 *
 * Settings, read once when the shim is loaded (nginx's workers clear their
 * environment):
 *
 *   EAGAIN_SEED     the seed (default 1); the fakes of a descriptor are a
 *                   sequence drawn from the seed and the descriptor's
 *                   number, started again when it is closed
 *   EAGAIN_PERCENT  calls failed with EAGAIN, in percent (default 25)
 *   EAGAIN_SHORT    calls cut to 1 to 8 bytes, in percent (default 50)
 *   EAGAIN_STATS    a file to which each process appends, at exit, how
 *                   many calls it faked
 */


#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>


#define EA_FDS       65536
#define EA_IOVS      64

#define EA_PASS      0
#define EA_EAGAIN    1
#define EA_SHORT     2

#define EA_NONE      0
#define EA_TCP       1
#define EA_UDP       2


typedef struct {
    int           epfd;        /* the epoll descriptor plus 1; 0: none */
    uint32_t      events;
    epoll_data_t  data;
} ea_reg_t;


static ssize_t (*ea_real_read)(int, void *, size_t);
static ssize_t (*ea_real_write)(int, const void *, size_t);
static ssize_t (*ea_real_recv)(int, void *, size_t, int);
static ssize_t (*ea_real_send)(int, const void *, size_t, int);
static ssize_t (*ea_real_recvfrom)(int, void *, size_t, int,
    struct sockaddr *, socklen_t *);
static ssize_t (*ea_real_sendto)(int, const void *, size_t, int,
    const struct sockaddr *, socklen_t);
static ssize_t (*ea_real_readv)(int, const struct iovec *, int);
static ssize_t (*ea_real_writev)(int, const struct iovec *, int);
static int (*ea_real_close)(int);
static int (*ea_real_epoll_ctl)(int, int, int, struct epoll_event *);
static int (*ea_real_epoll_wait)(int, struct epoll_event *, int, int);

static uint64_t       ea_seed = 1;
static unsigned       ea_eagain_percent = 25;
static unsigned       ea_short_percent = 50;
static const char    *ea_stats;

static uint64_t       ea_state[EA_FDS];
static ea_reg_t       ea_reg[EA_FDS];
static uint32_t       ea_pending[EA_FDS];
static int            ea_pending_list[EA_FDS];
static int            ea_npending;

static unsigned long  ea_eagain_reads, ea_short_reads;
static unsigned long  ea_eagain_writes, ea_short_writes;
static unsigned long  ea_events;


static unsigned
ea_env(const char *name, unsigned dflt)
{
    char  *v;

    v = getenv(name);

    return (v && *v) ? (unsigned) strtoul(v, NULL, 10) : dflt;
}


__attribute__((constructor)) static void
ea_init(void)
{
    char  *v;

    ea_real_read = dlsym(RTLD_NEXT, "read");
    ea_real_write = dlsym(RTLD_NEXT, "write");
    ea_real_recv = dlsym(RTLD_NEXT, "recv");
    ea_real_send = dlsym(RTLD_NEXT, "send");
    ea_real_recvfrom = dlsym(RTLD_NEXT, "recvfrom");
    ea_real_sendto = dlsym(RTLD_NEXT, "sendto");
    ea_real_readv = dlsym(RTLD_NEXT, "readv");
    ea_real_writev = dlsym(RTLD_NEXT, "writev");
    ea_real_close = dlsym(RTLD_NEXT, "close");
    ea_real_epoll_ctl = dlsym(RTLD_NEXT, "epoll_ctl");
    ea_real_epoll_wait = dlsym(RTLD_NEXT, "epoll_wait");

    v = getenv("EAGAIN_SEED");
    if (v && *v) {
        ea_seed = strtoull(v, NULL, 10);
    }

    ea_eagain_percent = ea_env("EAGAIN_PERCENT", 25);
    ea_short_percent = ea_env("EAGAIN_SHORT", 50);

    v = getenv("EAGAIN_STATS");
    if (v && *v) {
        ea_stats = strdup(v);
    }
}


__attribute__((destructor)) static void
ea_exit(void)
{
    int   fd, n;
    char  line[256];

    if (ea_stats == NULL) {
        return;
    }

    fd = open(ea_stats, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd == -1) {
        return;
    }

    n = snprintf(line, sizeof(line),
                 "pid=%d seed=%llu eagain_reads=%lu short_reads=%lu "
                 "eagain_writes=%lu short_writes=%lu events=%lu\n",
                 (int) getpid(), (unsigned long long) ea_seed,
                 ea_eagain_reads, ea_short_reads, ea_eagain_writes,
                 ea_short_writes, ea_events);

    if (n > 0) {
        (void) ea_real_write(fd, line, (size_t) n);
    }

    (void) ea_real_close(fd);
}


/* splitmix64: the next number of descriptor fd's sequence */

static uint64_t
ea_next(int fd)
{
    uint64_t  z;

    if (ea_state[fd] == 0) {
        ea_state[fd] = ea_seed * 0x9e3779b97f4a7c15ULL + (uint64_t) fd + 1;
    }

    z = (ea_state[fd] += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;

    return z ^ (z >> 31);
}


/* only non-blocking TCP and UDP sockets: not files, pipes, unix sockets */

static int
ea_kind(int fd)
{
    int          flags, domain, type;
    socklen_t    len;
    struct stat  st;

    if (fd < 0 || fd >= EA_FDS) {
        return EA_NONE;
    }

    flags = fcntl(fd, F_GETFL);
    if (flags == -1 || !(flags & O_NONBLOCK)) {
        return EA_NONE;
    }

    if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode)) {
        return EA_NONE;
    }

    len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == -1
        || (domain != AF_INET && domain != AF_INET6))
    {
        return EA_NONE;
    }

    len = sizeof(int);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
        return EA_NONE;
    }

    return type == SOCK_STREAM ? EA_TCP : type == SOCK_DGRAM ? EA_UDP
                                                             : EA_NONE;
}


static void
ea_wake(int fd, uint32_t events)
{
    if (ea_pending[fd] == 0) {
        if (ea_npending == EA_FDS) {
            return;
        }

        ea_pending_list[ea_npending++] = fd;
    }

    ea_pending[fd] |= events;
}


/*
 * What to do with a call of "len" bytes on fd: pass it, fail it with
 * EAGAIN, or cut it to *lim bytes.  A datagram is never cut, and a UDP
 * write is never faked: nginx's resolver takes an incomplete send() of a
 * query as a failure, which would test nginx, not the module.
 */

static int
ea_decide(int fd, int write, size_t len, int flags, size_t *lim)
{
    int       kind;
    uint64_t  r;
    unsigned  pct;

    if (len == 0 || (flags & MSG_PEEK)) {
        return EA_PASS;
    }

    kind = ea_kind(fd);

    if (kind == EA_NONE || (kind == EA_UDP && write)) {
        return EA_PASS;
    }

    r = ea_next(fd);
    pct = (unsigned) (r % 100);

    if (pct < ea_eagain_percent) {
        if (write) {
            ea_eagain_writes++;
        } else {
            ea_eagain_reads++;
        }

        ea_wake(fd, write ? EPOLLOUT : EPOLLIN);
        return EA_EAGAIN;
    }

    if (kind == EA_TCP && len > 1
        && pct < ea_eagain_percent + ea_short_percent)
    {
        *lim = 1 + (size_t) ((r >> 32) % (len - 1 < 8 ? len - 1 : 8));
        return EA_SHORT;
    }

    return EA_PASS;
}


/* a call cut to lim bytes that got them all: there may be more */

static ssize_t
ea_cut(int fd, int write, ssize_t n, size_t lim)
{
    if (n == (ssize_t) lim) {
        if (write) {
            ea_short_writes++;
        } else {
            ea_short_reads++;
        }

        ea_wake(fd, write ? EPOLLOUT : EPOLLIN);
    }

    return n;
}


ssize_t
read(int fd, void *buf, size_t len)
{
    size_t  lim;

    switch (ea_decide(fd, 0, len, 0, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        return ea_cut(fd, 0, ea_real_read(fd, buf, lim), lim);

    default:
        return ea_real_read(fd, buf, len);
    }
}


ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
    size_t  lim;

    switch (ea_decide(fd, 0, len, flags, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        return ea_cut(fd, 0, ea_real_recv(fd, buf, lim, flags), lim);

    default:
        return ea_real_recv(fd, buf, len, flags);
    }
}


ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
    socklen_t *alen)
{
    size_t  lim;

    switch (ea_decide(fd, 0, len, flags, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        return ea_cut(fd, 0, ea_real_recvfrom(fd, buf, lim, flags, addr,
                                              alen), lim);

    default:
        return ea_real_recvfrom(fd, buf, len, flags, addr, alen);
    }
}


ssize_t
write(int fd, const void *buf, size_t len)
{
    size_t  lim;

    switch (ea_decide(fd, 1, len, 0, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        return ea_cut(fd, 1, ea_real_write(fd, buf, lim), lim);

    default:
        return ea_real_write(fd, buf, len);
    }
}


ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    size_t  lim;

    switch (ea_decide(fd, 1, len, flags, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        return ea_cut(fd, 1, ea_real_send(fd, buf, lim, flags), lim);

    default:
        return ea_real_send(fd, buf, len, flags);
    }
}


ssize_t
sendto(int fd, const void *buf, size_t len, int flags,
    const struct sockaddr *addr, socklen_t alen)
{
    size_t  lim;

    switch (ea_decide(fd, 1, len, flags, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        return ea_cut(fd, 1, ea_real_sendto(fd, buf, lim, flags, addr, alen),
                      lim);

    default:
        return ea_real_sendto(fd, buf, len, flags, addr, alen);
    }
}


/* the first iovecs of "iov", cut to "lim" bytes in all; 0: cannot */

static int
ea_cut_iov(const struct iovec *iov, int n, size_t lim, struct iovec *out)
{
    int  i;

    for (i = 0; i < n && i < EA_IOVS && lim > 0; i++) {
        out[i] = iov[i];

        if (out[i].iov_len > lim) {
            out[i].iov_len = lim;
        }

        lim -= out[i].iov_len;
    }

    return lim == 0 ? i : 0;
}


static size_t
ea_iov_len(const struct iovec *iov, int n)
{
    int     i;
    size_t  len;

    len = 0;

    for (i = 0; i < n; i++) {
        len += iov[i].iov_len;
    }

    return len;
}


ssize_t
readv(int fd, const struct iovec *iov, int n)
{
    int           cut;
    size_t        lim;
    struct iovec  part[EA_IOVS];

    switch (ea_decide(fd, 0, ea_iov_len(iov, n), 0, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        cut = ea_cut_iov(iov, n, lim, part);
        if (cut) {
            return ea_cut(fd, 0, ea_real_readv(fd, part, cut), lim);
        }

        /* fall through */

    default:
        return ea_real_readv(fd, iov, n);
    }
}


ssize_t
writev(int fd, const struct iovec *iov, int n)
{
    int           cut;
    size_t        lim;
    struct iovec  part[EA_IOVS];

    switch (ea_decide(fd, 1, ea_iov_len(iov, n), 0, &lim)) {

    case EA_EAGAIN:
        errno = EAGAIN;
        return -1;

    case EA_SHORT:
        cut = ea_cut_iov(iov, n, lim, part);
        if (cut) {
            return ea_cut(fd, 1, ea_real_writev(fd, part, cut), lim);
        }

        /* fall through */

    default:
        return ea_real_writev(fd, iov, n);
    }
}


int
close(int fd)
{
    if (fd >= 0 && fd < EA_FDS) {
        ea_state[fd] = 0;
        ea_reg[fd].epfd = 0;
        ea_pending[fd] = 0;
    }

    return ea_real_close(fd);
}


int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    int  rc;

    rc = ea_real_epoll_ctl(epfd, op, fd, ev);

    if (rc == 0 && fd >= 0 && fd < EA_FDS) {

        if (op == EPOLL_CTL_DEL) {
            ea_reg[fd].epfd = 0;
            ea_pending[fd] = 0;

        } else if (ev) {
            ea_reg[fd].epfd = epfd + 1;
            ea_reg[fd].events = ev->events;
            ea_reg[fd].data = ev->data;
        }
    }

    return rc;
}


/*
 * With fakes pending, epoll_wait() does not block, and reports each faked
 * direction that nginx waits for, with the data it registered, merged
 * into the kernel's event for the descriptor if there is one.  A fake on
 * a descriptor not registered for that direction is forgotten: nginx
 * registers it when it waits, and epoll_ctl() then reports the socket's
 * real state.
 */

int
epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    int       n, i, j, fd, keep;
    uint32_t  bits;

    if (ea_npending == 0) {
        return ea_real_epoll_wait(epfd, events, max, timeout);
    }

    n = ea_real_epoll_wait(epfd, events, max, 0);

    if (n < 0) {
        return n;
    }

    keep = 0;

    for (i = 0; i < ea_npending; i++) {
        fd = ea_pending_list[i];

        if (ea_pending[fd] == 0) {
            continue;
        }

        if (ea_reg[fd].epfd != epfd + 1) {
            ea_pending[fd] = 0;
            continue;
        }

        bits = ea_pending[fd] & ea_reg[fd].events & (EPOLLIN | EPOLLOUT);

        if (bits == 0) {
            ea_pending[fd] = 0;
            continue;
        }

        for (j = 0; j < n; j++) {
            if (events[j].data.u64 == ea_reg[fd].data.u64) {
                break;
            }
        }

        if (j == n) {
            if (n == max) {
                ea_pending_list[keep++] = fd;
                continue;
            }

            events[n].events = 0;
            events[n].data = ea_reg[fd].data;
            n++;
        }

        events[j].events |= bits;
        ea_pending[fd] = 0;
        ea_events++;
    }

    ea_npending = keep;

    return n;
}
