/* Building answers: status line, headers, body; queued in request order. */
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "http.h"
#include "request.h"
#include "worker.h"

/* "HTTP/1.1 200 OK\r\nServer: yhttpd\r\n" for one status and server name,
 * kept from the last answer: most answers repeat it. */
static const struct buf *status_block(int status, const char *server)
{
    static struct buf block;
    static int cached_status;
    static char cached_server[256]; /* a copy: a reload may free and reuse the string */
    static int cached_has_server;
    int same_server =
        server ? cached_has_server && strcmp(server, cached_server) == 0 : !cached_has_server;
    if (status == cached_status && same_server && block.len)
        return &block;
    block.len = 0;
    buf_puts(&block, "HTTP/1.1 ");
    buf_put_u64(&block, (unsigned)status);
    buf_putc(&block, ' ');
    buf_puts(&block, http_status_text(status));
    buf_puts(&block, "\r\n");
    if (server) {
        buf_puts(&block, "Server: ");
        buf_puts(&block, server);
        buf_puts(&block, "\r\n");
    }
    cached_status = status;
    cached_has_server = server != NULL;
    snprintf(cached_server, sizeof(cached_server), "%s", server ? server : "");
    if (server && strlen(server) >= sizeof(cached_server))
        cached_status = 0; /* too long to compare later: rebuilt every time (correct, slower) */
    return &block;
}

void resp_begin(struct request *r, int status)
{
    struct buf *h = &r->resp_head;
    r->status = status;
    h->len = 0;
    r->resp_body.len = 0;
    r->body_ptr = NULL;
    r->body_len = 0;
    buf_reserve(h, 256);
    const struct buf *block = status_block(status, r->cfg->server_header);
    buf_append(h, block->data, block->len);
    buf_append(h, "Date: ", 6);
    buf_append(h, http_date(ev_now(the_worker->loop)), 29);
    buf_append(h, "\r\n", 2);
}

void resp_header_line(struct request *r, const char *line, size_t n)
{
    buf_append(&r->resp_head, line, n);
}

/* Header values come from templates and requests: controls would split the
 * header block, so they are percent-encoded (harmless, and right in a URL). */
static void append_header_value(struct buf *h, const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            buf_printf(h, "%%%02X", c);
        else
            buf_putc(h, (char)c);
    }
}

void resp_header(struct request *r, const char *name, const char *value, size_t vlen)
{
    struct buf *h = &r->resp_head;
    buf_puts(h, name);
    buf_puts(h, ": ");
    append_header_value(h, value, vlen);
    buf_puts(h, "\r\n");
}

struct buf *resp_body_buf(struct request *r)
{
    r->body_ptr = NULL;
    return &r->resp_body;
}

void resp_body_static(struct request *r, const char *p, size_t n)
{
    r->body_ptr = p;
    r->body_len = n;
}

void resp_body_file(struct request *r, int fd, off_t off, size_t len, void (*release)(void *),
                    void *arg)
{
    r->body_is_file = 1;
    r->body_fd = fd;
    r->body_off = off;
    r->body_len = len;
    r->body_ptr = ""; /* not the render buffer: resp_finish keeps body_len */
    r->body_release = release;
    r->body_release_arg = arg;
}

static void append_route_headers(struct request *r)
{
    const struct route *route = r->route;
    if (!route || route->nheaders == 0)
        return;
    struct tpl_ctx ctx;
    request_tpl_ctx(r, &ctx);
    for (size_t i = 0; i < route->nheaders; i++) {
        const struct route_header *rh = &route->headers[i];
        size_t n;
        const char *constant = tpl_constant(rh->value, &n);
        if (constant) {
            resp_header(r, rh->name, constant, n);
            continue;
        }
        /* One loop per process: a static scratch buffer is safe and never freed. */
        static struct buf scratch;
        scratch.len = 0;
        tpl_render(rh->value, &ctx, &scratch);
        resp_header(r, rh->name, scratch.data, scratch.len);
    }
}

static int status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

/* The handler's part is over: no hook may fire again. */
static void clear_hooks(struct request *r)
{
    r->on_body = NULL;
    r->on_drain = NULL;
    r->on_cancel = NULL;
}

/* Ends the head: route headers, Connection, the blank line. */
static void close_head(struct request *r)
{
    struct buf *h = &r->resp_head;
    append_route_headers(r);
    /* An answer that comes before the request body has ended leaves the rest
     * of that body unread: the connection cannot carry another request. */
    if ((the_worker && the_worker->draining) || !r->body_done)
        r->keep_alive = 0;
    if (!r->keep_alive)
        buf_puts(h, "Connection: close\r\n");
    else if (r->http_minor == 0)
        buf_puts(h, "Connection: keep-alive\r\n");
    buf_puts(h, "\r\n");
}

void resp_finish(struct request *r)
{
    struct buf *h = &r->resp_head;
    if (!r->body_ptr) {
        r->body_ptr = r->resp_body.data;
        r->body_len = r->resp_body.len;
    }
    if (!status_has_body(r->status)) {
        r->body_len = 0;
    } else {
        buf_puts(h, "Content-Length: ");
        buf_put_u64(h, r->body_len);
        buf_puts(h, "\r\n");
    }
    close_head(r);
    clear_hooks(r);
    r->done = 1;
    conn_response_ready(r);
}

void resp_stream_begin(struct request *r, int64_t length)
{
    struct buf *h = &r->resp_head;
    if (!status_has_body(r->status)) {
        r->head_only = 1; /* whatever the handler sends, no body goes out */
    } else if (length >= 0) {
        buf_puts(h, "Content-Length: ");
        buf_put_u64(h, (uint64_t)length);
        buf_puts(h, "\r\n");
    } else if (r->http_minor >= 1) {
        buf_puts(h, "Transfer-Encoding: chunked\r\n");
        r->stream_chunked = !r->head_only;
    } else {
        r->keep_alive = 0; /* HTTP/1.0: the body ends where the connection does */
    }
    close_head(r);
    r->resp_body.len = 0;
    r->body_len = 0;
    r->streaming = 1;
    conn_stream_queued(r, h->len);
}

int resp_stream_write(struct request *r, const char *p, size_t n)
{
    struct buf *b = &r->resp_body;
    if (n == 0 || r->head_only || r->done)
        return 0;
    size_t before = b->len;
    if (r->stream_chunked)
        buf_printf(b, "%zx\r\n", n);
    buf_append(b, p, n);
    if (r->stream_chunked)
        buf_append(b, "\r\n", 2);
    r->body_len += n;
    conn_stream_queued(r, b->len - before);
    r->stream_full = b->len >= RESP_STREAM_HIGH;
    return r->stream_full;
}

void resp_stream_end(struct request *r, int ok)
{
    if (r->done)
        return;
    if (!ok)
        r->keep_alive = 0;
    else if (r->stream_chunked) {
        buf_append(&r->resp_body, "0\r\n\r\n", 5);
        conn_stream_queued(r, 5);
    }
    clear_hooks(r);
    r->done = 1;
    conn_stream_ended(r);
}

void resp_error(struct request *r, int status)
{
    resp_begin(r, status);
    resp_header(r, "Content-Type", "text/plain; charset=utf-8", 25);
    struct buf *b = resp_body_buf(r);
    buf_printf(b, "%d %s\n", status, http_status_text(status));
    resp_finish(r);
}

void request_tpl_ctx(const struct request *r, struct tpl_ctx *ctx)
{
    ctx->vars = r->match.vars;
    ctx->nvars = r->match.nvars;
    ctx->method = r->method_name;
    ctx->path = r->path;
    ctx->query = r->query;
    const char *peer = conn_peer(r->conn);
    ctx->remote_addr = (yh_span){peer, strlen(peer)};
    ctx->host = r->host;
    ctx->headers = r->headers;
    ctx->nheaders = r->nheaders;
}

const struct http_header *request_header(const struct request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (span_ieq(r->headers[i].name, name))
            return &r->headers[i];
    return NULL;
}
