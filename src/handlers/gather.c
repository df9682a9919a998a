/* `gather:` — requests every part at once and answers one JSON object. */
#include "gather.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../client.h"
#include "../conn.h"
#include "../jsonval.h"
#include "../request.h"
#include "../template.h"
#include "../upstream.h"
#include "../worker.h"

struct gather_call;

/* One part's exchange and what it brought back. */
struct part_call {
    struct gather_call *gc;
    struct client *q;
    struct buf body;
    int status;     /* the upstream's, or 502/504 when it gave none */
    char error[96]; /* empty when the part succeeded */
    int done;
};

struct gather_call {
    struct request *r;
    const struct gather *g;
    ev_timer timer;
    size_t pending;
    struct part_call parts[];
};

static const struct client_ops part_ops;

static void part_failed(struct part_call *pc, int status, const char *why)
{
    pc->status = status;
    snprintf(pc->error, sizeof(pc->error), "%s", why);
}

static void append_part(struct buf *b, const char *name, const struct part_call *pc)
{
    buf_putc(b, '"');
    json_escape_append(b, name, strlen(name));
    buf_puts(b, "\":");
    if (pc->error[0]) {
        buf_puts(b, "{\"error\":\"");
        json_escape_append(b, pc->error, strlen(pc->error));
        buf_printf(b, "\",\"status\":%d}", pc->status);
    } else if (json_valid(pc->body.data ? pc->body.data : "", pc->body.len)) {
        buf_append(b, pc->body.data, pc->body.len);
    } else {
        buf_putc(b, '"');
        json_escape_append(b, pc->body.data ? pc->body.data : "", pc->body.len);
        buf_putc(b, '"');
    }
}

static void call_free(struct gather_call *gc)
{
    ev_timer_stop(the_worker->loop, &gc->timer);
    for (size_t i = 0; i < gc->g->nparts; i++) {
        if (gc->parts[i].q)
            client_abort(gc->parts[i].q);
        buf_free(&gc->parts[i].body);
    }
    free(gc);
}

/* Every part is in (or timed out): the answer is 200 only when all succeeded. */
static void gather_answer(struct gather_call *gc)
{
    struct request *r = gc->r;
    int ok = 1;
    for (size_t i = 0; i < gc->g->nparts; i++)
        ok &= !gc->parts[i].error[0];
    resp_begin(r, ok ? 200 : 502);
    resp_header(r, "Content-Type", "application/json", 16);
    struct buf *b = resp_body_buf(r);
    buf_putc(b, '{');
    for (size_t i = 0; i < gc->g->nparts; i++) {
        if (i)
            buf_putc(b, ',');
        append_part(b, gc->g->parts[i].name, &gc->parts[i]);
    }
    buf_puts(b, "}\n");
    call_free(gc);
    resp_finish(r);
}

static void part_finished(struct part_call *pc)
{
    struct gather_call *gc = pc->gc;
    pc->q = NULL;
    pc->done = 1;
    if (--gc->pending == 0)
        gather_answer(gc);
}

static void on_part_writable(void *ctx)
{
}

static void on_part_head(void *ctx, const struct client_head *h)
{
    struct part_call *pc = ctx;
    pc->status = h->status;
}

static void on_part_body(void *ctx, const char *p, size_t n)
{
    struct part_call *pc = ctx;
    if (pc->body.len + n <= GATHER_PART_MAX)
        buf_append(&pc->body, p, n);
    else if (!pc->error[0])
        part_failed(pc, 502, "answer larger than 1 MiB");
}

static void on_part_done(void *ctx)
{
    struct part_call *pc = ctx;
    if (!pc->error[0] && (pc->status < 200 || pc->status > 299)) {
        char why[64];
        snprintf(why, sizeof(why), "upstream answered %d", pc->status);
        part_failed(pc, pc->status, why);
    }
    part_finished(pc);
}

static void on_part_error(void *ctx, enum client_error e, const char *why)
{
    struct part_call *pc = ctx;
    part_failed(pc, e == CLIENT_TIMEOUT ? 504 : 502, why);
    part_finished(pc);
}

static const struct client_ops part_ops = {
    .on_writable = on_part_writable,
    .on_head = on_part_head,
    .on_body = on_part_body,
    .on_done = on_part_done,
    .on_error = on_part_error,
};

static void on_gather_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct gather_call *gc = t->data;
    for (size_t i = 0; i < gc->g->nparts; i++) {
        struct part_call *pc = &gc->parts[i];
        if (pc->done)
            continue;
        client_abort(pc->q);
        pc->q = NULL;
        pc->done = 1;
        part_failed(pc, 504, "no answer within the gather timeout");
    }
    gather_answer(gc);
}

static void on_client_gone(struct request *r)
{
    call_free(r->handler_ctx);
}

static void start_part(struct gather_call *gc, size_t i)
{
    const struct gather_part *part = &gc->g->parts[i];
    struct part_call *pc = &gc->parts[i];
    const struct request *r = gc->r;
    pc->gc = gc;
    struct buf head = {0};
    buf_puts(&head, "GET ");
    proxy_target_render(&part->target, r, 0, &head);
    buf_printf(&head, " HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n",
               part->target.up->authority);
    buf_printf(&head, "X-Forwarded-For: %s\r\n\r\n", conn_peer(r->conn));
    struct client_opts o = {gc->g->timeout, gc->g->timeout, 0, 1};
    pc->q = client_start(part->target.up, head.data, head.len, 0, &o, &part_ops, pc);
    buf_free(&head);
    if (!pc->q) {
        part_failed(pc, 502, "out of memory");
        pc->done = 1;
        gc->pending--;
    }
}

void gather_handle(struct request *r, const void *state)
{
    const struct gather *g = state;
    struct gather_call *gc = calloc(1, sizeof(*gc) + g->nparts * sizeof(gc->parts[0]));
    if (!gc) {
        resp_error(r, 503);
        return;
    }
    gc->r = r;
    gc->g = g;
    gc->pending = g->nparts;
    ev_timer_init(&gc->timer, on_gather_timeout, g->timeout, 0.);
    gc->timer.data = gc;
    for (size_t i = 0; i < g->nparts; i++)
        start_part(gc, i);
    if (gc->pending == 0) {
        gather_answer(gc);
        return;
    }
    ev_timer_start(the_worker->loop, &gc->timer);
    r->handler_ctx = gc;
    r->on_cancel = on_client_gone;
}
