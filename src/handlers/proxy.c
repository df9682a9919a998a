/* `proxy:` — forwards the request to an upstream and streams its answer back. */
#include "proxy.h"

#include <ev.h>
#include <llhttp.h>
#include <stdlib.h>
#include <string.h>

#include "../client.h"
#include "../config.h"
#include "../http.h"
#include "../log.h"
#include "../request.h"
#include "../template.h"
#include "../upstream.h"
#include "../worker.h"

/* One forwarded request. */
struct proxy_call {
    struct request *r;
    const struct proxy *p;
    struct client *q;
    size_t target;  /* index in p->to of the upstream being asked */
    size_t tries;   /* upstreams asked so far */
    int chunked;    /* the body goes upstream as chunks */
    int body_taken; /* some body bytes left r->body: the request cannot be resent */
    int body_ended; /* the body is complete upstream */
    int answering;  /* the answer's head went to the client */
};

static const struct client_ops proxy_client_ops;

static int idempotent(int method)
{
    return method == HTTP_GET || method == HTTP_HEAD || method == HTTP_PUT ||
           method == HTTP_DELETE || method == HTTP_OPTIONS || method == HTTP_TRACE;
}

/* The next upstream in turn that is not marked down (or the next one, when all are). */
static size_t pick_target(struct proxy *p, double now)
{
    for (size_t i = 0; i < p->nto; i++) {
        size_t k = (p->next + i) % p->nto;
        if (p->to[k].up->down_until <= now) {
            p->next = k + 1;
            return k;
        }
    }
    return p->next++ % p->nto;
}

static void build_head(const struct proxy_call *pc, struct buf *h)
{
    const struct request *r = pc->r;
    const struct proxy_target *t = &pc->p->to[pc->target];
    buf_append(h, r->method_name.p, r->method_name.n);
    buf_putc(h, ' ');
    proxy_target_render(t, r, 1, h);
    buf_puts(h, " HTTP/1.1\r\n");
    if (!pc->p->sets_host) {
        buf_puts(h, "Host: ");
        buf_puts(h, t->up->authority);
        buf_puts(h, "\r\n");
    }
    proxy_forward_headers(r, h);
    if (pc->p->nheaders) {
        struct tpl_ctx ctx;
        request_tpl_ctx(r, &ctx);
        for (size_t i = 0; i < pc->p->nheaders; i++) {
            buf_puts(h, pc->p->headers[i].name);
            buf_puts(h, ": ");
            size_t at = h->len;
            tpl_render(pc->p->headers[i].value, &ctx, h);
            for (size_t j = at; j < h->len; j++)
                if (h->data[j] == '\r' || h->data[j] == '\n')
                    h->data[j] = ' '; /* a rendered value never splits the head */
            buf_puts(h, "\r\n");
        }
    }
    if (pc->chunked)
        buf_puts(h, "Transfer-Encoding: chunked\r\n");
    else if (r->content_length >= 0)
        buf_printf(h, "Content-Length: %lld\r\n", (long long)r->content_length);
    buf_puts(h, "\r\n");
}

static int ask_upstream(struct proxy_call *pc)
{
    struct request *r = pc->r;
    pc->target = pick_target((struct proxy *)pc->p, ev_now(the_worker->loop));
    pc->tries++;
    struct buf head = {0};
    build_head(pc, &head);
    struct client_opts o = {pc->p->connect_timeout, pc->p->read_timeout, r->method == HTTP_HEAD,
                            idempotent(r->method)};
    int body = pc->chunked || r->content_length > 0;
    pc->q = client_start(pc->p->to[pc->target].up, head.data, head.len, body, &o, &proxy_client_ops,
                         pc);
    buf_free(&head);
    return pc->q ? 0 : -1;
}

/* Moves client body bytes upstream as far as the exchange takes them. */
static void feed_body(struct proxy_call *pc)
{
    struct request *r = pc->r;
    size_t room;
    while (pc->q && !pc->body_ended && r->body.len && (room = client_body_room(pc->q)) > 32) {
        size_t n = r->body.len < room - 32 ? r->body.len : room - 32;
        if (pc->chunked) {
            char size[24];
            int m = snprintf(size, sizeof(size), "%zx\r\n", n);
            client_body_write(pc->q, size, (size_t)m);
        }
        client_body_write(pc->q, r->body.data, n);
        if (pc->chunked)
            client_body_write(pc->q, "\r\n", 2);
        request_body_take(r, n);
        pc->body_taken = 1;
    }
    if (pc->q && !pc->body_ended && r->body_done && r->body.len == 0 &&
        client_body_room(pc->q) > 5) {
        if (pc->chunked)
            client_body_write(pc->q, "0\r\n\r\n", 5);
        client_body_end(pc->q);
        pc->body_ended = 1;
    }
}

static void call_free(struct proxy_call *pc)
{
    free(pc);
}

/* ------------------------------------------------------------ client side */

static void on_upstream_writable(void *ctx)
{
    feed_body(ctx);
}

/* Upstream answer headers a proxy does not pass: hop-by-hop ones, the framing
 * (the server frames the answer itself) and Date/Server (ours are sent). */
static int dropped_answer_header(const struct client_head *h, yh_span name)
{
    return span_ieq(name, "content-length") || span_ieq(name, "date") || span_ieq(name, "server") ||
           http_hop_by_hop(name, h->headers, h->nheaders);
}

static void on_upstream_head(void *ctx, const struct client_head *h)
{
    struct proxy_call *pc = ctx;
    struct request *r = pc->r;
    resp_begin(r, h->status);
    for (size_t i = 0; i < h->nheaders; i++) {
        const struct http_header *x = &h->headers[i];
        if (dropped_answer_header(h, x->name) || x->name.n >= 128)
            continue;
        char name[128];
        memcpy(name, x->name.p, x->name.n);
        name[x->name.n] = '\0';
        resp_header(r, name, x->value.p, x->value.n);
    }
    pc->answering = 1;
    resp_stream_begin(r, h->content_length);
}

static void on_upstream_body(void *ctx, const char *p, size_t n)
{
    struct proxy_call *pc = ctx;
    if (resp_stream_write(pc->r, p, n))
        client_pause(pc->q, 1); /* the client reads slower than the upstream sends */
}

static void on_upstream_done(void *ctx)
{
    struct proxy_call *pc = ctx;
    struct request *r = pc->r;
    pc->q = NULL;
    call_free(pc);
    resp_stream_end(r, 1);
}

static int error_status(enum client_error e)
{
    return e == CLIENT_TIMEOUT ? 504 : 502;
}

static void on_upstream_error(void *ctx, enum client_error e, const char *why)
{
    struct proxy_call *pc = ctx;
    struct request *r = pc->r;
    pc->q = NULL;
    const struct proxy_target *t = &pc->p->to[pc->target];
    log_warn("proxy %s: %s: %s", r->route->label, t->url, why);
    /* A refused connection never reached the upstream: another may take the
     * request, when repeating it is harmless and its body is still here. */
    if (e == CLIENT_CONNECT_FAILED && !pc->answering && !pc->body_taken && idempotent(r->method) &&
        pc->tries < pc->p->nto && ask_upstream(pc) == 0)
        return;
    int answering = pc->answering;
    call_free(pc);
    if (answering)
        resp_stream_end(r, 0); /* the head is out: cut the body short */
    else
        resp_error(r, error_status(e));
}

static const struct client_ops proxy_client_ops = {
    .on_writable = on_upstream_writable,
    .on_head = on_upstream_head,
    .on_body = on_upstream_body,
    .on_done = on_upstream_done,
    .on_error = on_upstream_error,
};

/* ------------------------------------------------------------ request side */

static void on_request_body(struct request *r)
{
    feed_body(r->handler_ctx);
}

static void on_answer_drained(struct request *r)
{
    struct proxy_call *pc = r->handler_ctx;
    if (pc->q)
        client_pause(pc->q, 0);
}

static void on_client_gone(struct request *r)
{
    struct proxy_call *pc = r->handler_ctx;
    if (pc->q)
        client_abort(pc->q); /* mid-exchange: the connection cannot be reused */
    call_free(pc);
}

void proxy_handle(struct request *r, const void *state)
{
    struct proxy_call *pc = calloc(1, sizeof(*pc));
    if (!pc) {
        resp_error(r, 503);
        return;
    }
    pc->r = r;
    pc->p = state;
    pc->chunked = !r->body_done && r->content_length < 0;
    if (ask_upstream(pc) < 0) {
        call_free(pc);
        resp_error(r, 503);
        return;
    }
    r->handler_ctx = pc;
    r->on_body = on_request_body;
    r->on_drain = on_answer_drained;
    r->on_cancel = on_client_gone;
}
