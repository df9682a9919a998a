/* Request objects: spans into the input buffer, detaching, recycling. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "request.h"

/* Bodies above this size are freed rather than kept for the next request. */
#define KEEP_BUF_MAX (64 * 1024)

static void rebase_span(yh_span *s, const char *from, const char *to, size_t len)
{
    if (s->p && s->p >= from && s->p <= from + len)
        s->p = to + (s->p - from);
}

/* Moves every span that points into [from, from + len) to the same offset from `to`. */
void request_rebase(struct request *r, const char *from, const char *to, size_t len)
{
    rebase_span(&r->method_name, from, to, len);
    rebase_span(&r->target, from, to, len);
    rebase_span(&r->host, from, to, len);
    for (size_t i = 0; i < r->nheaders; i++) {
        rebase_span(&r->headers[i].name, from, to, len);
        rebase_span(&r->headers[i].value, from, to, len);
    }
    /* path and the captures live in path_buf, never in the input */
    rebase_span(&r->query, from, to, len);
}

static void span_extent(const yh_span *s, const char **lo, const char **hi)
{
    if (!s->p)
        return;
    if (!*lo || s->p < *lo)
        *lo = s->p;
    if (!*hi || s->p + s->n > *hi)
        *hi = s->p + s->n;
}

void request_detach(struct request *r)
{
    if (r->detached)
        return;
    const char *lo = NULL, *hi = NULL;
    span_extent(&r->method_name, &lo, &hi);
    span_extent(&r->target, &lo, &hi);
    for (size_t i = 0; i < r->nheaders; i++) {
        span_extent(&r->headers[i].name, &lo, &hi);
        span_extent(&r->headers[i].value, &lo, &hi);
    }
    r->detached = 1;
    if (!lo)
        return;
    r->head_copy.len = 0;
    buf_append(&r->head_copy, lo, (size_t)(hi - lo));
    request_rebase(r, lo, r->head_copy.data, (size_t)(hi - lo));
}

static void trim_buf(struct buf *b)
{
    if (b->cap > KEEP_BUF_MAX)
        buf_free(b);
    b->len = 0;
}

void request_reset(struct request *r)
{
    struct buf keep[5] = {r->head_copy, r->path_buf, r->body, r->resp_head, r->resp_body};
    if (r->body_release)
        r->body_release(r->body_release_arg);
    if (r->holds_limit)
        (*r->route->inflight)--;
    if (r->cfg)
        config_unref(r->cfg);
    memset(r, 0, offsetof(struct request, headers)); /* nheaders = 0 hides the array */
    r->head_copy = keep[0];
    r->path_buf = keep[1];
    r->body = keep[2];
    r->resp_head = keep[3];
    r->resp_body = keep[4];
    trim_buf(&r->head_copy);
    trim_buf(&r->path_buf);
    trim_buf(&r->body);
    trim_buf(&r->resp_head);
    trim_buf(&r->resp_body);
}

void request_destroy(struct request *r)
{
    request_reset(r);
    buf_free(&r->head_copy);
    buf_free(&r->path_buf);
    buf_free(&r->body);
    buf_free(&r->resp_head);
    buf_free(&r->resp_body);
    free(r);
}

void request_body_take(struct request *r, size_t n)
{
    struct buf *b = &r->body;
    if (n > b->len)
        n = b->len;
    if (n == 0)
        return;
    int was_full = b->len >= REQ_BODY_HIGH;
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    if (was_full && b->len < REQ_BODY_HIGH && !r->body_done)
        conn_body_taken(r);
}
