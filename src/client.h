/* The asynchronous HTTP/1.1 client behind proxy and gather: one exchange
 * (request out, answer in) over a pooled or new connection, in the worker's loop. */
#ifndef YH_CLIENT_H
#define YH_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "template.h"

struct upstream;
struct client;

enum client_error {
    CLIENT_CONNECT_FAILED, /* refused, unreachable, or no connection within connect_timeout */
    CLIENT_TIMEOUT,        /* no byte of the answer within read_timeout */
    CLIENT_BROKEN,         /* closed early, or not HTTP */
};

/* An answer's status line and headers (valid during on_head only). */
struct client_head {
    int status;
    const struct http_header *headers;
    size_t nheaders;
    int64_t content_length; /* -1 when the body is chunked or ends at close */
};

/* The caller's side; ctx is passed back. on_done and on_error end the
 * exchange (it is freed before they run); the others may call
 * client_pause() and client_body_*(), never client_abort(). */
struct client_ops {
    void (*on_writable)(void *ctx); /* connected, room for request body bytes */
    void (*on_head)(void *ctx, const struct client_head *h);
    void (*on_body)(void *ctx, const char *p, size_t n);
    void (*on_done)(void *ctx);
    void (*on_error)(void *ctx, enum client_error e, const char *why);
};

struct client_opts {
    double connect_timeout, read_timeout; /* seconds */
    int head_request;                     /* the answer has no body whatever it says */
    int replayable; /* a pooled connection found dead before any answer byte may be retried */
};

/* Starts an exchange: head is the complete request head (copied). With
 * body_follows, the body comes through client_body_write() (already framed
 * by the caller) and ends with client_body_end(). Never calls back before it
 * returns. Returns the exchange, or NULL when out of memory. */
struct client *client_start(struct upstream *u, const char *head, size_t len, int body_follows,
                            const struct client_opts *o, const struct client_ops *ops, void *ctx);
/* Bytes of request body the exchange takes now (0 until connected or while full). */
size_t client_body_room(const struct client *q);
/* Queues request body bytes (at most client_body_room()). */
void client_body_write(struct client *q, const char *p, size_t n);
/* The request body is complete. */
void client_body_end(struct client *q);
/* Stops (1) or resumes (0) reading the answer: backpressure from a slow reader. */
void client_pause(struct client *q, int paused);
/* Abandons the exchange without callbacks; its connection is closed. */
void client_abort(struct client *q);

#endif
