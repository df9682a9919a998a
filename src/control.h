/* The master <-> worker channel: framed messages over a unix socketpair,
 * with file descriptors passed alongside (SCM_RIGHTS). */
#ifndef YH_CONTROL_H
#define YH_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CTL_MAX_FDS 64

enum ctl_type {
    CTL_RELOAD = 1, /* payload: the validated config bytes; fds: the worker's listeners */
};

/* Sends one message, blocking until written. Returns 0, or -1 with errno set. */
int ctl_send(int fd, uint32_t type, const char *payload, size_t len, const int *fds, size_t nfds);

/* Receives one whole message, blocking until it is in. The payload replaces
 * the buffer's contents; received fds are the caller's. Returns 0, or -1 on
 * EOF or error. */
int ctl_recv(int fd, uint32_t *type, struct buf *payload, int *fds, size_t *nfds);

#endif
