/* A request in flight and the answer being built for it. */
#ifndef YH_REQUEST_H
#define YH_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "router.h"
#include "template.h"

#define REQ_MAX_HEADERS 100

struct conn;
struct config;
struct route;

struct request {
    struct conn *conn;
    struct request *next; /* the connection's FIFO, in arrival order */
    struct config *cfg;   /* a reference: the table this request started on */

    /* parsed request; spans point into the connection's input buffer until
     * request_detach() copies them into head_copy */
    int method; /* llhttp method number */
    int http_minor;
    yh_span method_name, target, path, query;
    size_t nheaders; /* of headers[], kept last: a reset need not clear it */
    yh_span host;
    struct buf head_copy;
    struct buf path_buf; /* normalized path storage */
    struct buf body;
    uint64_t body_limit;
    int64_t content_length; /* as the client declared it, -1 when it did not */
    uint64_t body_received; /* all body bytes so far (a streamed body is taken as it comes) */
    double start;

    const struct route *route;
    struct router_match match;
    int auto_status; /* 404, 405 or 204 (OPTIONS) answered without a handler */

    unsigned keep_alive : 1;  /* the client allows it and so do we */
    unsigned head_only : 1;   /* HEAD: headers as for GET, no body */
    unsigned done : 1;        /* resp_finish() was called */
    unsigned head_parsed : 1; /* on_headers_complete has run */
    unsigned detached : 1;
    unsigned body_done : 1;      /* the whole request body has arrived */
    unsigned streams_body : 1;   /* the handler runs at the head and takes the body as it comes */
    unsigned holds_limit : 1;    /* counted in its route's in-flight limit */
    unsigned streaming : 1;      /* resp_stream_begin(): body bytes flow through resp_body */
    unsigned stream_chunked : 1; /* ... framed as chunks */
    unsigned stream_full : 1;    /* the handler was told to wait for on_drain */

    /* An asynchronous handler's hooks (and their argument), set by its handle().
     * All are cleared once the answer is complete. */
    void *handler_ctx;
    /* Streamed request body: bytes were added to r->body, or it ended (body_done). */
    void (*on_body)(struct request *r);
    /* A streamed answer's queue fell below the low-water mark: feed it again. */
    void (*on_drain)(struct request *r);
    /* The client is gone: release everything; r is recycled right after. */
    void (*on_cancel)(struct request *r);

    /* the answer */
    int status;
    struct buf resp_head;
    struct buf resp_body;
    const char *body_ptr; /* the bytes written as the body: resp_body or static */
    size_t body_len;
    unsigned body_is_file : 1; /* the body is body_len bytes of body_fd from body_off */
    int body_fd;
    off_t body_off;
    void (*body_release)(void *arg); /* called when the request is recycled */
    void *body_release_arg;
    size_t sent; /* bytes of head + body already written */

    /* last: request_reset() clears everything before it, not the 3 KiB array */
    struct http_header headers[REQ_MAX_HEADERS];
};

/* Starts the answer: status line, Server, Date. Resets anything built before. */
void resp_begin(struct request *r, int status);
/* Adds a header line; name and value must not contain CR or LF. */
void resp_header(struct request *r, const char *name, const char *value, size_t vlen);
/* Adds pre-serialized header lines ("Name: value\r\n"), built once at load. */
void resp_header_line(struct request *r, const char *line, size_t n);
/* Buffer to render a dynamic body into. */
struct buf *resp_body_buf(struct request *r);
/* Uses bytes that outlive the request (e.g. a route's constant text) as the body. */
void resp_body_static(struct request *r, const char *p, size_t n);
/* Sends len bytes of fd from off as the body (with sendfile); release(arg)
 * runs when the request is recycled, so fd stays open while it is sent. */
void resp_body_file(struct request *r, int fd, off_t off, size_t len, void (*release)(void *),
                    void *arg);
/* Completes the head (Content-Length, route headers, Connection) and queues the
 * answer for writing in request order. May be called later from any loop callback. */
void resp_finish(struct request *r);
/* A complete small text/plain error answer ("404 Not Found\n"). */
void resp_error(struct request *r, int status);

/* Answer bytes queued beyond this make resp_stream_write() ask the handler to pause. */
#define RESP_STREAM_HIGH (64 * 1024)
/* Starts a streamed answer: the head built so far is completed and queued; the
 * body follows in resp_stream_write() calls. length is the body's size when
 * known (Content-Length), else -1: chunked for HTTP/1.1 clients, delimited by
 * closing the connection for HTTP/1.0 ones. */
void resp_stream_begin(struct request *r, int64_t length);
/* Queues body bytes. Returns 1 when the queue is over RESP_STREAM_HIGH: stop
 * feeding until r->on_drain is called; 0 to go on. */
int resp_stream_write(struct request *r, const char *p, size_t n);
/* Ends a streamed body; the request completes as with resp_finish(). With
 * ok == 0 the body is cut short: the connection closes after the bytes queued,
 * so the client sees the truncation (no last chunk, or too few bytes). */
void resp_stream_end(struct request *r, int ok);

/* A streamed request body: the handler took the first n bytes of r->body.
 * Reading from the client resumes once the rest is below REQ_BODY_HIGH. */
void request_body_take(struct request *r, size_t n);
#define REQ_BODY_HIGH (64 * 1024)

/* Fills a template context from the request. */
void request_tpl_ctx(const struct request *r, struct tpl_ctx *ctx);
/* The first header called name (case-insensitive), or NULL. */
const struct http_header *request_header(const struct request *r, const char *name);
/* Copies every span into the request's own storage so the connection's input
 * buffer may move; used before a request outlives the read that brought it. */
void request_detach(struct request *r);
/* Moves every span pointing into [from, from + len) to the same offset from to. */
void request_rebase(struct request *r, const char *from, const char *to, size_t len);
/* Clears a request for reuse, keeping its buffers' storage (big ones are freed). */
void request_reset(struct request *r);
/* Frees a request and its buffers. */
void request_destroy(struct request *r);

#endif
