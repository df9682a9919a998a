/* The asynchronous HTTP/1.1 client: connect (or reuse), send, parse the answer. */
#include "client.h"

#include <errno.h>
#include <ev.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "upstream.h"
#include "worker.h"

#define CLIENT_OUT_HIGH    (64 * 1024) /* queued request bytes before the caller must wait */
#define CLIENT_MAX_HEADERS 100
#define CLIENT_HEAD_MAX    (64 * 1024) /* an answer head larger than this is broken */
#define REPLAY_MAX         (64 * 1024) /* request bytes kept to resend on a fresh connection */

struct header_offsets {
    size_t name, name_len, value, value_len;
};

struct client {
    struct upstream *u;
    const struct client_ops *ops;
    void *ctx;
    struct client_opts o;
    int fd;
    int pending_errno; /* a connect that failed at once, reported from the loop */
    ev_io rio, wio;
    ev_timer timer;
    llhttp_t parser;
    struct buf out;
    size_t out_off;  /* bytes of out written; the rest of out is kept while replay is possible */
    struct buf hbuf; /* the answer's header names and values */
    struct header_offsets hoff[CLIENT_MAX_HEADERS];
    size_t nheaders;
    unsigned connecting : 1;
    unsigned reused : 1;    /* the connection came from the pool */
    unsigned body_open : 1; /* request body bytes are still to come */
    unsigned got_bytes : 1; /* some answer byte arrived */
    unsigned replay_ok : 1; /* out still holds every byte of the request */
    unsigned paused : 1;
    unsigned in_field : 1;
    unsigned complete : 1; /* the final answer ended */
    unsigned keep_alive : 1;
};

static struct ev_loop *loop_of(void)
{
    return the_worker->loop;
}

static void stop_io(struct client *q)
{
    struct ev_loop *loop = loop_of();
    ev_io_stop(loop, &q->rio);
    ev_io_stop(loop, &q->wio);
    ev_timer_stop(loop, &q->timer);
    ev_clear_pending(loop, &q->rio);
    ev_clear_pending(loop, &q->wio);
    ev_clear_pending(loop, &q->timer);
}

static void client_free(struct client *q)
{
    stop_io(q);
    if (q->fd >= 0)
        close(q->fd);
    buf_free(&q->out);
    buf_free(&q->hbuf);
    free(q);
}

static void fail(struct client *q, enum client_error e, const char *why)
{
    const struct client_ops *ops = q->ops;
    void *ctx = q->ctx;
    if (e == CLIENT_CONNECT_FAILED)
        q->u->down_until = ev_now(loop_of()) + UPSTREAM_DOWN_SECONDS;
    client_free(q);
    ops->on_error(ctx, e, why);
}

/* The answer ended: the connection goes back to the pool when nothing is left over. */
static void finish(struct client *q, int clean)
{
    const struct client_ops *ops = q->ops;
    void *ctx = q->ctx;
    stop_io(q);
    if (clean && q->keep_alive && !q->body_open && q->out_off == q->out.len) {
        upstream_put_idle(q->u, q->fd);
        q->fd = -1;
    }
    client_free(q);
    ops->on_done(ctx);
}

static void arm_timer(struct client *q, double seconds)
{
    ev_timer_stop(loop_of(), &q->timer);
    ev_timer_set(&q->timer, seconds, seconds);
    ev_timer_start(loop_of(), &q->timer);
}

/* ------------------------------------------------------------ parser */

static struct client *parser_client(llhttp_t *p)
{
    return p->data;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    struct client *q = parser_client(p);
    if (!q->in_field) {
        if (q->nheaders == CLIENT_MAX_HEADERS)
            return -1;
        q->hoff[q->nheaders++] = (struct header_offsets){q->hbuf.len, 0, 0, 0};
        q->in_field = 1;
    }
    buf_append(&q->hbuf, at, len);
    q->hoff[q->nheaders - 1].name_len += len;
    return q->hbuf.len > CLIENT_HEAD_MAX ? -1 : 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    struct client *q = parser_client(p);
    struct header_offsets *h = &q->hoff[q->nheaders - 1];
    if (q->in_field) {
        h->value = q->hbuf.len;
        q->in_field = 0;
    }
    buf_append(&q->hbuf, at, len);
    h->value_len += len;
    return q->hbuf.len > CLIENT_HEAD_MAX ? -1 : 0;
}

static int on_headers_complete(llhttp_t *p)
{
    struct client *q = parser_client(p);
    q->in_field = 0;
    if (p->status_code < 200) {
        if (p->status_code == 101)
            return -1;   /* no protocol switch through the proxy */
        q->nheaders = 0; /* an interim answer: wait for the final one */
        q->hbuf.len = 0;
        return 0;
    }
    struct http_header headers[CLIENT_MAX_HEADERS];
    for (size_t i = 0; i < q->nheaders; i++) {
        const struct header_offsets *o = &q->hoff[i];
        headers[i].name = (yh_span){q->hbuf.data + o->name, o->name_len};
        headers[i].value = (yh_span){q->hbuf.data + o->value, o->value_len};
    }
    int sized = (p->flags & F_CONTENT_LENGTH) && !(p->flags & F_CHUNKED);
    struct client_head h = {p->status_code, headers, q->nheaders,
                            sized ? (int64_t)p->content_length : -1};
    q->ops->on_head(q->ctx, &h);
    return q->o.head_request ? 1 : 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    struct client *q = parser_client(p);
    q->ops->on_body(q->ctx, at, len);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    struct client *q = parser_client(p);
    if (p->status_code < 200)
        return 0;
    q->complete = 1;
    q->keep_alive = llhttp_should_keep_alive(p);
    return HPE_PAUSED; /* bytes after the answer mean the connection is not reusable */
}

static const llhttp_settings_t parser_settings = {
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

/* ------------------------------------------------------------ I/O */

static int start_connect(struct client *q);

/* A pooled connection died before answering: send the request again on a new one. */
static int try_replay(struct client *q)
{
    if (!q->reused || q->got_bytes || !q->replay_ok || !q->o.replayable)
        return 0;
    stop_io(q);
    close(q->fd);
    q->fd = -1;
    q->reused = 0;
    q->out_off = 0;
    return start_connect(q) == 0;
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *q = w->data;
    static char in[64 * 1024];
    ssize_t n = read(q->fd, in, sizeof(in));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (try_replay(q))
            return;
        if (n == 0 && q->got_bytes && llhttp_finish(&q->parser) == HPE_OK && q->complete) {
            q->keep_alive = 0;
            finish(q, 0); /* a body that ends where the connection does */
            return;
        }
        fail(q, CLIENT_BROKEN, n == 0 ? "upstream closed the connection" : strerror(errno));
        return;
    }
    q->got_bytes = 1;
    q->replay_ok = 0;
    ev_timer_again(loop, &q->timer);
    llhttp_errno_t err = llhttp_execute(&q->parser, in, (size_t)n);
    if (q->complete) {
        finish(q, err == HPE_PAUSED && llhttp_get_error_pos(&q->parser) == in + n);
        return;
    }
    if (err != HPE_OK)
        fail(q, CLIENT_BROKEN, "upstream sent an invalid answer");
}

/* Writes queued request bytes. Returns 0 (all out or socket full) or -1 with errno. */
static int flush_out(struct client *q)
{
    while (q->out_off < q->out.len) {
        ssize_t n = send(q->fd, q->out.data + q->out_off, q->out.len - q->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        q->out_off += (size_t)n;
        ev_timer_again(loop_of(), &q->timer);
    }
    return 0;
}

/* Drops written bytes once they can no longer be replayed. */
static void compact_out(struct client *q)
{
    if (q->out.len > REPLAY_MAX)
        q->replay_ok = 0;
    if (q->replay_ok || q->out_off == 0)
        return;
    memmove(q->out.data, q->out.data + q->out_off, q->out.len - q->out_off);
    q->out.len -= q->out_off;
    q->out_off = 0;
}

static int connect_finished(struct client *q)
{
    int err = q->pending_errno;
    socklen_t len = sizeof(err);
    if (!err && getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err) {
        fail(q, CLIENT_CONNECT_FAILED, strerror(err));
        return -1;
    }
    q->connecting = 0;
    arm_timer(q, q->o.read_timeout);
    if (!q->paused)
        ev_io_start(loop_of(), &q->rio);
    return 0;
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *q = w->data;
    if (q->connecting && connect_finished(q) < 0)
        return;
    if (flush_out(q) < 0) {
        if (!try_replay(q))
            fail(q, CLIENT_BROKEN, strerror(errno));
        return;
    }
    compact_out(q);
    if (q->out_off == q->out.len)
        ev_io_stop(loop, &q->wio);
    if (q->body_open && client_body_room(q) > 0)
        q->ops->on_writable(q->ctx);
}

static void on_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct client *q = t->data;
    if (q->connecting)
        fail(q, CLIENT_CONNECT_FAILED, "connect timed out");
    else
        fail(q, CLIENT_TIMEOUT, "upstream did not answer in time");
}

static int start_connect(struct client *q)
{
    struct upstream *u = q->u;
    q->fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q->fd < 0)
        return -1;
    int one = 1;
    setsockopt(q->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    q->connecting = 1;
    q->pending_errno = 0;
    if (connect(q->fd, (struct sockaddr *)&u->addr, u->addrlen) < 0 && errno != EINPROGRESS)
        q->pending_errno = errno;
    ev_io_set(&q->rio, q->fd, EV_READ);
    ev_io_set(&q->wio, q->fd, EV_WRITE);
    if (q->pending_errno)
        ev_feed_event(loop_of(), &q->wio, EV_WRITE); /* reported from the loop, not now */
    else
        ev_io_start(loop_of(), &q->wio);
    arm_timer(q, q->o.connect_timeout);
    return 0;
}

static void use_pooled(struct client *q, int fd)
{
    q->fd = fd;
    q->reused = 1;
    ev_io_set(&q->rio, fd, EV_READ);
    ev_io_set(&q->wio, fd, EV_WRITE);
    ev_io_start(loop_of(), &q->rio);
    ev_io_start(loop_of(), &q->wio);
    arm_timer(q, q->o.read_timeout);
}

struct client *client_start(struct upstream *u, const char *head, size_t len, int body_follows,
                            const struct client_opts *o, const struct client_ops *ops, void *ctx)
{
    struct client *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    q->u = u;
    q->ops = ops;
    q->ctx = ctx;
    q->o = *o;
    q->fd = -1;
    q->body_open = body_follows;
    q->replay_ok = 1;
    buf_append(&q->out, head, len);
    llhttp_init(&q->parser, HTTP_RESPONSE, &parser_settings);
    q->parser.data = q;
    ev_io_init(&q->rio, on_readable, -1, EV_READ);
    ev_io_init(&q->wio, on_writable, -1, EV_WRITE);
    ev_init(&q->timer, on_timeout);
    q->rio.data = q->wio.data = q->timer.data = q;
    int fd = upstream_take_idle(u);
    if (fd >= 0) {
        use_pooled(q, fd);
        return q;
    }
    if (start_connect(q) < 0) {
        q->pending_errno = errno;
        q->connecting = 1;
        ev_feed_event(loop_of(), &q->wio, EV_WRITE);
    }
    return q;
}

size_t client_body_room(const struct client *q)
{
    size_t queued = q->out.len - q->out_off;
    if (q->connecting || q->fd < 0 || !q->body_open || queued >= CLIENT_OUT_HIGH)
        return 0;
    return CLIENT_OUT_HIGH - queued;
}

void client_body_write(struct client *q, const char *p, size_t n)
{
    buf_append(&q->out, p, n);
    ev_io_start(loop_of(), &q->wio);
}

void client_body_end(struct client *q)
{
    q->body_open = 0;
}

void client_pause(struct client *q, int paused)
{
    q->paused = paused;
    if (q->connecting)
        return;
    if (paused) {
        ev_io_stop(loop_of(), &q->rio);
        ev_timer_stop(loop_of(), &q->timer); /* the slow side is our client, not the upstream */
    } else {
        ev_io_start(loop_of(), &q->rio);
        ev_timer_again(loop_of(), &q->timer);
    }
}

void client_abort(struct client *q)
{
    client_free(q);
}
