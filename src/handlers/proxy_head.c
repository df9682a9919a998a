/* Upstream targets (URL templates) and the head of a forwarded request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cfg.h"
#include "../config.h"
#include "../conn.h"
#include "../http.h"
#include "../request.h"
#include "../template.h"
#include "../upstream.h"
#include "proxy.h"

static int compile_part(struct cfg_ctx *c, const yaml_node_t *node, const struct route *route,
                        const char *src, size_t off, size_t n, struct tpl **out)
{
    char err[256];
    size_t err_off = 0;
    *out = tpl_new();
    if (tpl_append_source(*out, src + off, n, TPL_RAW, &route->vars, err, sizeof(err), &err_off) <
        0)
        return cfg_error_at(c, node, off + err_off, "%s", err);
    return 0;
}

int proxy_target_load(struct cfg_ctx *c, const yaml_node_t *node, const struct route *route,
                      unsigned keepalive, struct proxy_target *t)
{
    const char *url = cfg_scalar(node);
    if (!url || node->type != YAML_SCALAR_NODE)
        return cfg_error(c, node, "expected an upstream URL (http://HOST:PORT/PATH), found %s",
                         cfg_type_name(node));
    char err[512];
    size_t path, err_off;
    t->url = strdup(url);
    t->up = upstream_from_url(url, &path, err, sizeof(err), &err_off);
    if (!t->url || !t->up)
        return t->url ? cfg_error_at(c, node, err_off, "%s", err) : -1;
    t->up->keepalive = keepalive;
    if (!url[path])
        return 0;
    const char *q = strchr(url + path, '?');
    size_t path_len = q ? (size_t)(q - url - path) : strlen(url + path);
    if (compile_part(c, node, route, url, path, path_len, &t->path) < 0)
        return -1;
    if (q && compile_part(c, node, route, url, (size_t)(q + 1 - url), strlen(q + 1), &t->query) < 0)
        return -1;
    return 0;
}

void proxy_target_free(struct proxy_target *t)
{
    free(t->url);
    upstream_free(t->up);
    tpl_free(t->path);
    tpl_free(t->query);
}

/* Appends s with every byte a request line cannot carry percent-encoded
 * (captured path variables are decoded text); `extra` lists more to encode. */
static void append_encoded(struct buf *out, const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>\\^`{|}#", ch) || (extra && strchr(extra, ch)))
            buf_printf(out, "%%%02X", ch);
        else
            buf_putc(out, (char)ch);
    }
}

/* The client's target as received, without an absolute-form's scheme and authority. */
static yh_span origin_target(const struct request *r)
{
    yh_span t = r->target;
    if (t.n && t.p[0] == '/')
        return t;
    const char *auth = memchr(t.p, ':', t.n);
    const char *slash = auth ? memchr(auth + 3, '/', (size_t)(t.p + t.n - auth - 3)) : NULL;
    if (!slash) {
        const char *q = memchr(t.p, '?', t.n);
        return q ? (yh_span){q, (size_t)(t.p + t.n - q)} : YH_SPAN_LIT("/");
    }
    return (yh_span){slash, (size_t)(t.p + t.n - slash)};
}

void proxy_target_render(const struct proxy_target *t, const struct request *r, int pass_query,
                         struct buf *out)
{
    if (!t->path) {
        yh_span o = origin_target(r);
        if (o.p[0] == '?')
            buf_putc(out, '/');
        buf_append(out, o.p, o.n);
        return;
    }
    static struct buf scratch; /* one loop per process */
    struct tpl_ctx ctx;
    request_tpl_ctx(r, &ctx);
    scratch.len = 0;
    tpl_render(t->path, &ctx, &scratch);
    if (scratch.len == 0 || scratch.data[0] != '/')
        buf_putc(out, '/');
    append_encoded(out, scratch.data, scratch.len, "?");
    if (t->query) {
        scratch.len = 0;
        tpl_render(t->query, &ctx, &scratch);
        buf_putc(out, '?');
        append_encoded(out, scratch.data, scratch.len, NULL);
    } else if (pass_query && r->query.n) {
        buf_putc(out, '?');
        buf_append(out, r->query.p, r->query.n);
    }
}

/* Headers the proxy writes itself, so the client's copies are not passed on. */
static int replaced_header(yh_span name)
{
    static const char *const names[] = {"host",
                                        "content-length",
                                        "expect",
                                        "x-forwarded-for",
                                        "x-forwarded-proto",
                                        "x-forwarded-host",
                                        "forwarded",
                                        NULL};
    for (size_t i = 0; names[i]; i++)
        if (span_ieq(name, names[i]))
            return 1;
    return 0;
}

/* The values of every header called name, joined with ", " (empty when none). */
static void joined_values(const struct request *r, const char *name, struct buf *out)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!span_ieq(r->headers[i].name, name))
            continue;
        if (out->len)
            buf_puts(out, ", ");
        buf_append(out, r->headers[i].value.p, r->headers[i].value.n);
    }
}

static void append_forwarded(const struct request *r, const char *peer, struct buf *out)
{
    struct buf prev = {0};
    joined_values(r, "forwarded", &prev);
    buf_puts(out, "Forwarded: ");
    if (prev.len) {
        buf_append(out, prev.data, prev.len);
        buf_puts(out, ", ");
    }
    /* an IPv6 node is quoted and bracketed (RFC 7239 6) */
    buf_printf(out, strchr(peer, ':') ? "for=\"[%s]\"" : "for=%s", peer);
    if (r->host.n) {
        buf_puts(out, ";host=\"");
        for (size_t i = 0; i < r->host.n; i++)
            if (r->host.p[i] != '"' && r->host.p[i] != '\\')
                buf_putc(out, r->host.p[i]);
        buf_putc(out, '"');
    }
    buf_puts(out, ";proto=http\r\n");
    buf_free(&prev);
}

void proxy_forward_headers(const struct request *r, struct buf *out)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct http_header *h = &r->headers[i];
        if (replaced_header(h->name) || http_hop_by_hop(h->name, r->headers, r->nheaders))
            continue;
        buf_append(out, h->name.p, h->name.n);
        buf_puts(out, ": ");
        buf_append(out, h->value.p, h->value.n);
        buf_puts(out, "\r\n");
    }
    const char *peer = conn_peer(r->conn);
    struct buf xff = {0};
    joined_values(r, "x-forwarded-for", &xff);
    buf_puts(out, "X-Forwarded-For: ");
    if (xff.len) {
        buf_append(out, xff.data, xff.len);
        buf_puts(out, ", ");
    }
    buf_puts(out, peer);
    buf_puts(out, "\r\nX-Forwarded-Proto: http\r\n");
    if (r->host.n) {
        buf_puts(out, "X-Forwarded-Host: ");
        buf_append(out, r->host.p, r->host.n);
        buf_puts(out, "\r\n");
    }
    append_forwarded(r, peer, out);
    buf_free(&xff);
}
