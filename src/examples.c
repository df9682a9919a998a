/*
 * Running route examples in process. Each example is one real HTTP exchange
 * over an AF_UNIX socketpair: one end goes to conn_start() of a private worker
 * (its own libev loop, no listeners, no access log), the other is written and
 * read here from the same loop. So the bytes take the path of real traffic:
 * llhttp, request_route, the handler, resp_finish, writev/sendfile.
 */
#include "examples.h"

#include <errno.h>
#include <ev.h>
#include <llhttp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "config_examples.h"
#include "conn.h"
#include "example_check.h"
#include "handler.h"
#include "http.h"
#include "worker.h"

#define ANSWER_MAX (16 * 1024 * 1024) /* read no more of an answer than this */
#define READ_CHUNK 16384

/* The client side of one exchange. */
struct exchange {
    ev_io io;
    ev_timer timer;
    const struct buf *req;
    size_t sent;
    struct buf *answer;
    int timed_out;
};

static void finish(struct ev_loop *loop, struct exchange *x)
{
    ev_io_stop(loop, &x->io);
    ev_timer_stop(loop, &x->timer);
    ev_break(loop, EVBREAK_ALL);
}

static void on_client(struct ev_loop *loop, ev_io *io, int revents)
{
    struct exchange *x = io->data;
    if ((revents & EV_WRITE) && x->sent < x->req->len) {
        ssize_t n = send(io->fd, x->req->data + x->sent, x->req->len - x->sent, MSG_NOSIGNAL);
        if (n > 0)
            x->sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            x->sent = x->req->len; /* answered early and closed: read what came */
        if (x->sent == x->req->len) {
            ev_io_stop(loop, io);
            ev_io_set(io, io->fd, EV_READ);
            ev_io_start(loop, io);
        }
    }
    if (!(revents & EV_READ))
        return;
    for (;;) {
        buf_reserve(x->answer, READ_CHUNK);
        ssize_t n = read(io->fd, x->answer->data + x->answer->len, READ_CHUNK);
        if (n > 0) {
            x->answer->len += (size_t)n;
            if (x->answer->len < ANSWER_MAX)
                continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return;
        }
        finish(loop, x); /* the server closed (Connection: close), or too much */
        return;
    }
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct exchange *x = t->data;
    x->timed_out = 1;
    finish(loop, x);
}

/* One request through the private worker w; the answer's bytes into answer.
 * Returns 0, 1 on timeout, -1 when no socketpair could be made. */
static int exchange(struct worker *w, const struct buf *req, struct buf *answer)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    struct sockaddr_un peer = {.sun_family = AF_UNIX};
    conn_start(w, sv[0], (const struct sockaddr *)&peer, sizeof(peer));
    struct exchange x = {.req = req, .answer = answer};
    ev_io_init(&x.io, on_client, sv[1], EV_READ | EV_WRITE);
    x.io.data = &x;
    ev_timer_init(&x.timer, on_timeout, EXAMPLE_TIMEOUT, 0.);
    x.timer.data = &x;
    ev_io_start(w->loop, &x.io);
    ev_timer_start(w->loop, &x.timer);
    ev_run(w->loop, 0);
    close(sv[1]);
    while (w->conns)
        conn_abort(w->conns);
    return x.timed_out;
}

/* The request bytes: the example's line, Host, its headers and body, Connection: close. */
static void build_request(const struct route_example *ex, struct buf *out)
{
    int has_host = 0;
    buf_printf(out, "%s %s HTTP/1.1\r\n", http_method_name(ex->method), ex->target);
    for (size_t i = 0; i < ex->nrequest_headers; i++) {
        const struct ex_header *h = &ex->request_headers[i];
        has_host |= strcasecmp(h->name, "host") == 0;
        buf_printf(out, "%s: %s\r\n", h->name, h->value);
    }
    if (!has_host)
        buf_puts(out, "Host: localhost\r\n");
    if (ex->request_body)
        buf_printf(out, "Content-Length: %zu\r\n", ex->request_body_len);
    buf_puts(out, "Connection: close\r\n\r\n");
    if (ex->request_body)
        buf_append(out, ex->request_body, ex->request_body_len);
}

/* Runs example number index of route; returns 1 when it passed. */
static int run_one(struct worker *w, const struct config *cfg, const struct route *route,
                   const struct route_example *ex, size_t index, struct buf *errors)
{
    struct buf req = {0}, raw = {0};
    struct ex_answer a = {0};
    const char *why = NULL;
    build_request(ex, &req);
    int rc = exchange(w, &req, &raw);
    if (rc < 0)
        why = "cannot create a socketpair";
    else if (rc > 0)
        why = "no answer within 5 s";
    else
        ex_parse_answer(raw.data ? raw.data : "", raw.len, ex->method == HTTP_HEAD, &a, &why);
    int bad = 1;
    if (why)
        buf_printf(errors, "%s:%d:%d: example %zu of \"%s\": %s\n", cfg->path, ex->at.line,
                   ex->at.col, index, route->label, why);
    else
        bad = ex_compare(ex, &a, cfg->path, route->label, index, errors);
    buf_free(&a.body);
    buf_free(&req);
    buf_free(&raw);
    return bad == 0;
}

static size_t count_examples(const struct config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->nroutes; i++)
        n += cfg->routes[i].nexamples;
    return n;
}

int examples_run(struct config *cfg, struct buf *errors, struct buf *notes,
                 struct example_counts *counts)
{
    *counts = (struct example_counts){0};
    if (count_examples(cfg) == 0)
        return 0;
    struct worker w;
    if (worker_init_private(&w, cfg) < 0) {
        buf_printf(errors, "%s: cannot create an event loop to run the examples\n", cfg->path);
        counts->failed++;
        return -1;
    }
    /* Handlers and resp_*() find their loop through the_worker; the process's
     * own worker (single-process reload) gets it back below. */
    struct worker *saved = the_worker;
    struct sigaction ign = {.sa_handler = SIG_IGN}, old_pipe;
    sigaction(SIGPIPE, &ign, &old_pipe);
    the_worker = &w;
    for (size_t i = 0; i < cfg->nroutes; i++) {
        const struct route *route = &cfg->routes[i];
        for (size_t k = 0; k < route->nexamples; k++) {
            const struct route_example *ex = &route->examples[k];
            if (!route->kind->finishes_at_once) {
                if (notes)
                    buf_printf(notes,
                               "%s:%d:%d: example %zu of \"%s\": skipped (asynchronous handler "
                               "`%s`)\n",
                               cfg->path, ex->at.line, ex->at.col, k + 1, route->label,
                               route->kind->name);
                counts->skipped++;
            } else if (run_one(&w, cfg, route, ex, k + 1, errors)) {
                counts->passed++;
            } else {
                counts->failed++;
            }
        }
    }
    worker_destroy_private(&w);
    the_worker = saved;
    sigaction(SIGPIPE, &old_pipe, NULL);
    return counts->failed ? -1 : 0;
}
