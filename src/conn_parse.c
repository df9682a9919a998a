/* llhttp callbacks: spans into the input buffer, limits, request hand-off. */
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "conn_internal.h"
#include "dispatch.h"
#include "handler.h"
#include "request.h"
#include "worker.h"

static struct conn *parser_conn(llhttp_t *p)
{
    return p->data;
}

/* Fails the parse with status once the head outgrows limits.header_size. */
static int check_head_size(struct conn *c, const char *at, size_t len, int status)
{
    if (c->head_start == NO_HEAD)
        return 0;
    const char *start = c->in.data + c->head_start;
    if ((uint64_t)(at + len - start) > c->w->cfg->limits.header_size) {
        c->error_status = status;
        return -1;
    }
    return 0;
}

/* Extends a span with bytes that follow it in the buffer (a field split across reads). */
static void span_extend(yh_span *s, const char *at, size_t len)
{
    if (!s->p)
        s->p = at;
    s->n += len;
}

struct request *conn_begin_request(struct conn *c)
{
    struct request *r = worker_request_get(c->w);
    r->conn = c;
    r->cfg = config_ref(c->w->cfg);
    r->start = ev_now(c->w->loop);
    if (c->fifo_tail)
        c->fifo_tail->next = r;
    else
        c->fifo_head = r;
    c->fifo_tail = r;
    c->nfifo++;
    c->cur = r;
    c->served++;
    c->in_field = 0;
    c->saw_version = 0;
    c->chunk_meta = 0;
    c->head_start = NO_HEAD;
    return r;
}

static int on_message_begin(llhttp_t *p)
{
    conn_begin_request(parser_conn(p));
    return 0;
}

static int on_method(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    if (c->head_start == NO_HEAD)
        c->head_start = (size_t)(at - c->in.data);
    span_extend(&c->cur->method_name, at, len);
    return check_head_size(c, at, len, 431);
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    span_extend(&c->cur->target, at, len);
    return check_head_size(c, at, len, 414);
}

/* llhttp takes "GET /" (no version) as HTTP/0.9: we answer that 400, not 505. */
static int on_version(llhttp_t *p, const char *at, size_t len)
{
    parser_conn(p)->saw_version = 1;
    return 0;
}

/* Chunk extensions and trailer fields are read and dropped, never buffered:
 * together they may take limits.header_size per request, then the answer is
 * `status` (trailers are not merged into the header fields, RFC 9110 6.5.1). */
static int skip_chunk_meta(struct conn *c, size_t len, int status)
{
    c->chunk_meta += len;
    if (c->chunk_meta > c->w->cfg->limits.header_size) {
        c->error_status = status;
        return -1;
    }
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    struct request *r = c->cur;
    if (!r)
        return -1; /* answered early: the rest of the body is not wanted */
    if (r->head_parsed)
        return skip_chunk_meta(c, len, 431);
    if (!c->in_field) {
        if (r->nheaders == REQ_MAX_HEADERS) {
            c->error_status = 431;
            return -1;
        }
        r->headers[r->nheaders++] = (struct http_header){{NULL, 0}, {NULL, 0}};
        c->in_field = 1;
    }
    span_extend(&r->headers[r->nheaders - 1].name, at, len);
    return check_head_size(c, at, len, 431);
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    if (!c->cur)
        return -1;
    if (c->cur->head_parsed)
        return skip_chunk_meta(c, len, 431);
    c->in_field = 0;
    span_extend(&c->cur->headers[c->cur->nheaders - 1].value, at, len);
    return check_head_size(c, at, len, 431);
}

static int on_headers_complete(llhttp_t *p)
{
    struct conn *c = parser_conn(p);
    struct request *r = c->cur;
    c->in_field = 0;
    r->head_parsed = 1;
    if (!c->saw_version) {
        c->error_status = 400;
        return -1;
    }
    r->method = p->method;
    r->http_minor = p->http_minor;
    r->keep_alive = llhttp_should_keep_alive(p) && !c->w->draining &&
                    c->served < c->w->cfg->limits.keepalive_requests;
    int status = request_route(r, p);
    if (status) {
        c->error_status = status;
        return -1;
    }
    int has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
    r->body_done = !has_body;
    r->content_length = (p->flags & F_CONTENT_LENGTH) ? (int64_t)p->content_length : -1;
    if (!r->auto_status && r->route->kind->streams_body) {
        r->streams_body = 1;
        request_dispatch(r);
        if (c->cur != r)
            return HPE_PAUSED; /* answered before its body: the connection ends */
    }
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct conn *c = parser_conn(p);
    struct request *r = c->cur;
    if (!r)
        return -1; /* answered early: the rest of the body is not wanted */
    if (r->body_received + len > r->body_limit) {
        c->error_status = 413;
        return -1;
    }
    r->body_received += len;
    buf_append(&r->body, at, len);
    c->body_moved += len;
    if (r->on_body)
        r->on_body(r);
    return 0;
}

static int on_chunk_extension(llhttp_t *p, const char *at, size_t len)
{
    return skip_chunk_meta(parser_conn(p), len, 400);
}

static int on_message_complete(llhttp_t *p)
{
    struct conn *c = parser_conn(p);
    struct request *r = c->cur;
    if (!r)
        return HPE_PAUSED; /* answered early */
    c->cur = NULL;
    c->head_start = NO_HEAD;
    r->body_done = 1;
    /* A stop that began while this request was read makes it the last one. */
    if (!r->keep_alive || c->w->draining)
        c->closing = 1;
    if (!r->streams_body)
        request_dispatch(r); /* may finish r at once: do not touch r after */
    else if (r->on_body)
        r->on_body(r); /* the end of the streamed body */
    if (c->closing || c->nfifo >= PIPELINE_MAX)
        return HPE_PAUSED;
    return 0;
}

const llhttp_settings_t conn_parser_settings = {
    .on_message_begin = on_message_begin,
    .on_method = on_method,
    .on_url = on_url,
    .on_version = on_version,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_chunk_extension_name = on_chunk_extension,
    .on_chunk_extension_value = on_chunk_extension,
    .on_message_complete = on_message_complete,
};

int conn_parse_error_status(struct conn *c, llhttp_errno_t err)
{
    if (c->error_status)
        return c->error_status;
    /* A well-formed but unsupported version (HTTP/1.2) is 505; a malformed
     * one ("HTTP/1.", "HTTP/11", a bare LF after it) is a plain 400. Unknown
     * transfer codings were already answered 501 by request_route(). */
    const char *reason = llhttp_get_error_reason(&c->parser);
    if (err == HPE_INVALID_VERSION && reason && strcmp(reason, "Invalid HTTP version") == 0)
        return 505;
    return 400;
}
