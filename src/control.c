/* The master <-> worker channel: framed messages with SCM_RIGHTS. */
#include "control.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct ctl_header {
    uint32_t type;
    uint32_t len;
    uint32_t nfds;
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int ctl_send(int fd, uint32_t type, const char *payload, size_t len, const int *fds, size_t nfds)
{
    struct ctl_header h = {type, (uint32_t)len, (uint32_t)nfds};
    char control[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
    struct iovec iov = {&h, sizeof(h)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > CTL_MAX_FDS) {
        errno = EINVAL;
        return -1;
    }
    if (nfds > 0) {
        memset(control, 0, sizeof(control));
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t w;
    do {
        w = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof(h))
        return -1; /* the header is tiny: a short write means a broken peer */
    return write_all(fd, payload, len);
}

static void take_fds(struct msghdr *msg, int *fds, size_t *nfds)
{
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        memcpy(fds + *nfds, CMSG_DATA(c), n * sizeof(int));
        *nfds += n;
    }
}

int ctl_recv(int fd, uint32_t *type, struct buf *payload, int *fds, size_t *nfds)
{
    struct ctl_header h;
    char control[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
    struct iovec iov = {&h, sizeof(h)};
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control,
                         .msg_controllen = sizeof(control)};
    ssize_t r;
    do {
        r = recvmsg(fd, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
    } while (r < 0 && errno == EINTR);
    if (r != (ssize_t)sizeof(h))
        return -1;
    take_fds(&msg, fds, nfds);
    *type = h.type;
    payload->len = 0;
    buf_reserve(payload, (size_t)h.len + 1);
    if (read_all(fd, payload->data, h.len) < 0)
        return -1;
    payload->len = h.len;
    payload->data[h.len] = 0;
    return 0;
}
