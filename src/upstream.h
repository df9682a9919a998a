/* An upstream server: its address (resolved at load), its pool of idle
 * keep-alive connections (per worker) and its passive health. */
#ifndef YH_UPSTREAM_H
#define YH_UPSTREAM_H

#include <stddef.h>
#include <sys/socket.h>

struct idle_conn;

struct upstream {
    char *authority; /* "host:port" as written, sent as Host */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned keepalive;     /* idle connections kept at most */
    double down_until;      /* ev_now() before which it is skipped (a connect failed) */
    struct idle_conn *idle; /* most recently used first */
    unsigned nidle;
};

/* Seconds an upstream whose connect failed is skipped (when another is up). */
#define UPSTREAM_DOWN_SECONDS 5.0

/*
 * Splits an http:// URL into the upstream (resolved now: at load, never while
 * serving) and the rest. Returns a new upstream and sets *path to the offset
 * of the path in url (url + *path is "" when the URL has none), or NULL with a
 * message in err (and *err_off, the offset in url it is about).
 */
struct upstream *upstream_from_url(const char *url, size_t *path, char *err, size_t errlen,
                                   size_t *err_off);
/* Closes the idle connections and frees the upstream. */
void upstream_free(struct upstream *u);

/* An idle connection to u, taken out of the pool, or -1. */
int upstream_take_idle(struct upstream *u);
/* Keeps a connection whose last exchange ended cleanly (closes it when the pool is full). */
void upstream_put_idle(struct upstream *u, int fd);

#endif
