/* `proxy:` and `gather:` — shared pieces: upstream targets and request heads. */
#ifndef YH_HANDLERS_PROXY_H
#define YH_HANDLERS_PROXY_H

#include <stddef.h>

#include "../buf.h"
#include "../cfg.h"

struct request;
struct route;
struct route_header;
struct tpl;
struct upstream;

/* One URL of a proxy's `to:` or a gather part: where, and the path to ask for. */
struct proxy_target {
    char *url;           /* as written, for messages */
    struct upstream *up; /* resolved at load */
    struct tpl *path;    /* rendered per request; NULL: the client's own target */
    struct tpl *query;   /* after a `?` in the URL; NULL: the client's query is passed on */
};

struct proxy {
    struct proxy_target *to;
    size_t nto;
    size_t next; /* round-robin cursor (per worker: each process has its copy) */
    double connect_timeout, read_timeout;
    struct route_header *headers; /* added to the upstream request */
    size_t nheaders;
    int sets_host; /* headers: has Host (else the upstream's host:port is sent) */
};

/* Reads a URL template node into t (resolving its host now). Returns 0 or -1 after cfg_error. */
int proxy_target_load(struct cfg_ctx *c, const yaml_node_t *node, const struct route *route,
                      unsigned keepalive, struct proxy_target *t);
void proxy_target_free(struct proxy_target *t);
/* Appends the request target for the upstream: the rendered path (unsafe bytes
 * percent-encoded) plus the URL's query, else the client's when pass_query;
 * or the client's own target when the URL has no path. */
void proxy_target_render(const struct proxy_target *t, const struct request *r, int pass_query,
                         struct buf *out);
/* Appends the client's headers minus hop-by-hop ones, Host and framing, then
 * X-Forwarded-For/-Proto/-Host and Forwarded (RFC 7239). */
void proxy_forward_headers(const struct request *r, struct buf *out);

/* The handle() of proxy (proxy.c); its state is a struct proxy. */
void proxy_handle(struct request *r, const void *state);
void proxy_destroy(void *state);

#endif
