/* Upstream servers: URL parsing and resolution at load, idle connection pools. */
#include "upstream.h"

#include <errno.h>
#include <ev.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worker.h"

struct idle_conn {
    struct idle_conn *next;
    struct upstream *u;
    int fd;
    ev_io io; /* readable while idle: the server closed it (or misbehaves) */
};

static void idle_unlink(struct idle_conn *ic)
{
    struct upstream *u = ic->u;
    for (struct idle_conn **p = &u->idle; *p; p = &(*p)->next) {
        if (*p == ic) {
            *p = ic->next;
            u->nidle--;
            return;
        }
    }
}

static void idle_close(struct idle_conn *ic)
{
    if (the_worker)
        ev_io_stop(the_worker->loop, &ic->io);
    close(ic->fd);
    free(ic);
}

static void on_idle_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct idle_conn *ic = w->data;
    idle_unlink(ic);
    idle_close(ic);
}

int upstream_take_idle(struct upstream *u)
{
    struct idle_conn *ic = u->idle;
    if (!ic)
        return -1;
    u->idle = ic->next;
    u->nidle--;
    int fd = ic->fd;
    ev_io_stop(the_worker->loop, &ic->io);
    free(ic);
    return fd;
}

void upstream_put_idle(struct upstream *u, int fd)
{
    struct idle_conn *ic = u->nidle < u->keepalive ? malloc(sizeof(*ic)) : NULL;
    if (!ic || !the_worker || the_worker->draining) {
        free(ic);
        close(fd);
        return;
    }
    ic->u = u;
    ic->fd = fd;
    ev_io_init(&ic->io, on_idle_readable, fd, EV_READ);
    ic->io.data = ic;
    ev_io_start(the_worker->loop, &ic->io);
    ic->next = u->idle;
    u->idle = ic;
    u->nidle++;
}

void upstream_free(struct upstream *u)
{
    if (!u)
        return;
    while (u->idle) {
        struct idle_conn *ic = u->idle;
        u->idle = ic->next;
        idle_close(ic);
    }
    free(u->authority);
    free(u);
}

/* Splits "host[:port]" or "[v6][:port]" into host and port text. Returns 0 or -1. */
static int split_authority(const char *a, size_t n, char *host, size_t hostlen, char *port,
                           size_t portlen)
{
    const char *colon = NULL;
    const char *h = a;
    size_t hn;
    if (n && a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (!close)
            return -1;
        h = a + 1;
        hn = (size_t)(close - h);
        if ((size_t)(close + 1 - a) < n) {
            if (close[1] != ':')
                return -1;
            colon = close + 1;
        }
    } else {
        colon = memchr(a, ':', n);
        hn = colon ? (size_t)(colon - a) : n;
    }
    size_t pn = colon ? (size_t)(a + n - colon - 1) : 2;
    if (hn == 0 || hn >= hostlen || pn == 0 || pn >= portlen)
        return -1;
    memcpy(host, h, hn);
    host[hn] = '\0';
    if (colon) {
        memcpy(port, colon + 1, pn);
        port[pn] = '\0';
    } else {
        strcpy(port, "80");
    }
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return atoi(port) > 0 && atoi(port) < 65536 ? 0 : -1;
}

static int resolve(struct upstream *u, const char *host, const char *port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve `%s`: %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(&u->addr, res->ai_addr, res->ai_addrlen);
    u->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

struct upstream *upstream_from_url(const char *url, size_t *path, char *err, size_t errlen,
                                   size_t *err_off)
{
    *err_off = 0;
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errlen,
                 strncmp(url, "https://", 8) == 0
                     ? "https upstreams are not supported (yhttpd speaks plain HTTP upstream)"
                     : "an upstream URL starts with http://");
        return NULL;
    }
    const char *auth = url + 7;
    size_t n = strcspn(auth, "/?#");
    char host[256], port[8];
    if (auth[n] == '?' || auth[n] == '#' || strchr(url, '@') ||
        split_authority(auth, n, host, sizeof(host), port, sizeof(port)) < 0) {
        *err_off = 7;
        snprintf(err, errlen, "expected http://HOST[:PORT][/PATH] in `%s`", url);
        return NULL;
    }
    struct upstream *u = calloc(1, sizeof(*u));
    if (!u)
        abort();
    *err_off = 7;
    if (resolve(u, host, port, err, errlen) < 0) {
        free(u);
        return NULL;
    }
    u->authority = strndup(auth, n);
    if (!u->authority)
        abort();
    u->keepalive = 32;
    *path = 7 + n;
    return u;
}
