/* One client connection: read -> parse -> dispatch -> write, in request order. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "batch.h"
#include "config.h"
#include "conn_internal.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "worker.h"

#define READ_MIN_ROOM  4096
#define IOV_BATCH      64
#define SENDFILE_CHUNK (1024 * 1024)
#define PROGRESS_MIN   1024 /* bytes that restart the body and write timeouts */

static void conn_service(struct conn *c);

const char *conn_peer(const struct conn *c)
{
    return c->peer;
}

int conn_sockname(const struct conn *c, struct sockaddr_storage *ss, socklen_t *len)
{
    return getsockname(c->fd, (struct sockaddr *)ss, len);
}

static void fifo_pop(struct conn *c)
{
    struct request *r = c->fifo_head;
    c->fifo_head = r->next;
    if (!c->fifo_head)
        c->fifo_tail = NULL;
    c->nfifo--;
    worker_request_put(c->w, r);
}

static void release_input(struct conn *c)
{
    if (c->in.data)
        worker_inbuf_put(c->w, &c->in);
    c->parsed = 0;
}

/* Tells every handler still working for this connection that it is gone. */
static void cancel_handlers(struct conn *c)
{
    for (struct request *r = c->fifo_head; r; r = r->next) {
        void (*cancel)(struct request *) = r->on_cancel;
        r->on_body = NULL;
        r->on_drain = NULL;
        r->on_cancel = NULL;
        if (cancel)
            cancel(r);
    }
}

static void conn_close(struct conn *c)
{
    if (c->w->batch)
        batch_forget(c->w->batch, c);
    ev_io_stop(c->w->loop, &c->rio);
    ev_io_stop(c->w->loop, &c->wio);
    ev_clear_pending(c->w->loop, &c->rio);
    ev_clear_pending(c->w->loop, &c->wio);
    tlist_remove(&c->tn);
    close(c->fd);
    cancel_handlers(c);
    while (c->fifo_head)
        fifo_pop(c);
    release_input(c);
    worker_conn_removed(c->w, c);
    free(c);
}

void conn_abort(struct conn *c)
{
    conn_close(c);
}

/* An empty input buffer goes back to the pool: idle connections hold none. */
static void maybe_release_input(struct conn *c)
{
    if (!c->cur && c->parsed == c->in.len && !c->paused)
        release_input(c);
}

/* Drops parsed bytes no request needs, so the next read has room. */
static void compact_input(struct conn *c)
{
    size_t keep = (c->cur && c->head_start != NO_HEAD) ? c->head_start : c->parsed;
    if (keep == 0)
        return;
    memmove(c->in.data, c->in.data + keep, c->in.len - keep);
    if (c->cur)
        request_rebase(c->cur, c->in.data + keep, c->in.data, c->in.len - keep);
    c->in.len -= keep;
    c->parsed -= keep;
    if (c->head_start != NO_HEAD)
        c->head_start -= keep;
}

static void ensure_read_room(struct conn *c)
{
    if (!c->in.data)
        worker_inbuf_get(c->w, &c->in);
    if (c->in.cap - c->in.len >= READ_MIN_ROOM)
        return;
    compact_input(c);
    if (c->in.cap - c->in.len >= READ_MIN_ROOM)
        return;
    char *old = c->in.data;
    buf_reserve(&c->in, READ_MIN_ROOM);
    if (c->cur && old != c->in.data)
        request_rebase(c->cur, old, c->in.data, c->in.len);
}

/* Requests that outlive this read (async handlers, bodies still coming) get
 * their own copy of the head, so the input buffer may move. */
static void detach_pending(struct conn *c)
{
    for (struct request *r = c->fifo_head; r; r = r->next) {
        if (r->done || r->detached || (r == c->cur && !r->head_parsed))
            continue;
        request_detach(r);
        if (r == c->cur)
            c->head_start = NO_HEAD;
    }
}

static void process_input(struct conn *c)
{
    if (c->paused || c->closing || c->parsed == c->in.len)
        return;
    c->in_execute = 1;
    const char *start = c->in.data + c->parsed;
    llhttp_errno_t err = llhttp_execute(&c->parser, start, c->in.len - c->parsed);
    c->in_execute = 0;
    if (err == HPE_OK) {
        c->parsed = c->in.len;
    } else if (err == HPE_PAUSED) {
        c->parsed = (size_t)(llhttp_get_error_pos(&c->parser) - c->in.data);
        c->paused = 1;
    } else if (c->closing) {
        c->paused = 1; /* a handler answered before the body ended: read no further */
    } else {
        conn_fail(c, conn_parse_error_status(c, err));
    }
    detach_pending(c);
    /* A head that has not ended yet must still fit the limit (431, or 414 in the URL). */
    if (c->cur && !c->cur->head_parsed && c->head_start != NO_HEAD &&
        c->in.len - c->head_start > c->w->cfg->limits.header_size)
        conn_fail(c, c->cur->target.n && !c->cur->nheaders ? 414 : 431);
}

/* A request whose handler already runs (streamed body) fails mid-body: the
 * handler is stopped; an answer already begun is cut short instead. */
static int stop_streaming_handler(struct request *r)
{
    void (*cancel)(struct request *) = r->on_cancel;
    r->on_body = NULL;
    r->on_drain = NULL;
    r->on_cancel = NULL;
    if (cancel)
        cancel(r);
    r->keep_alive = 0;
    if (r->streaming)
        resp_stream_end(r, 0);
    return r->streaming || r->done;
}

void conn_fail(struct conn *c, int status)
{
    struct request *r = c->cur;
    if (!r)
        r = conn_begin_request(c); /* garbage before any method */
    c->cur = NULL;
    c->head_start = NO_HEAD;
    c->closing = 1;
    r->keep_alive = 0;
    if (r->streams_body && stop_streaming_handler(r))
        return;
    r->head_only = 0;
    r->route = NULL;
    resp_error(r, status);
}

void conn_send_continue(struct request *r)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct conn *c = r->conn;
    if (c->fifo_head != r)
        return;
    ssize_t n = send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL);
    (void)n; /* a short send cannot be resumed in order; the client will not wait forever */
}

/* Collects iovecs for finished answers at the head of the FIFO; a file body
 * ends the batch (its bytes go out with sendfile). *streamed: a streamed
 * answer's bytes are among them (its buffer may change before the next pass). */
static int gather_output(struct conn *c, struct iovec *iov, int max, int *file_next, int *streamed)
{
    int n = 0;
    *file_next = *streamed = 0;
    for (struct request *r = c->fifo_head; r && (r->done || r->streaming) && n + 2 <= max;
         r = r->next) {
        if (r->streaming) {
            *streamed = 1;
            /* sent counts head bytes only: written body bytes leave resp_body */
            if (r->sent < r->resp_head.len)
                iov[n++] = (struct iovec){r->resp_head.data + r->sent, r->resp_head.len - r->sent};
            if (r->resp_body.len)
                iov[n++] = (struct iovec){r->resp_body.data, r->resp_body.len};
            if (!r->done)
                break; /* more is coming: later answers wait behind it */
            continue;
        }
        size_t skip = r->sent;
        if (skip < r->resp_head.len) {
            iov[n++] = (struct iovec){r->resp_head.data + skip, r->resp_head.len - skip};
            skip = 0;
        } else {
            skip -= r->resp_head.len;
        }
        if (r->body_is_file && !r->head_only) {
            *file_next = 1;
            break;
        }
        size_t body = r->head_only ? 0 : r->body_len;
        if (skip < body)
            iov[n++] = (struct iovec){(char *)r->body_ptr + skip, body - skip};
    }
    return n;
}

/* Credits written bytes to a streamed answer; returns 1 once it is all out. */
static int consume_stream(struct request *r, size_t *written)
{
    size_t head_left = r->resp_head.len - r->sent;
    size_t take = head_left < *written ? head_left : *written;
    r->sent += take;
    *written -= take;
    struct buf *b = &r->resp_body;
    size_t body = b->len < *written ? b->len : *written;
    if (body) {
        memmove(b->data, b->data + body, b->len - body);
        b->len -= body;
        *written -= body;
    }
    return r->done && r->sent == r->resp_head.len && b->len == 0;
}

/* Credits written bytes to answers in order and recycles the finished ones. */
static void consume_output(struct conn *c, size_t written)
{
    c->unsent -= written;
    c->out_moved += written;
    while (written > 0 || (c->fifo_head && (c->fifo_head->done || c->fifo_head->streaming))) {
        struct request *r = c->fifo_head;
        if (!r || !(r->done || r->streaming))
            break;
        if (r->streaming) {
            if (!consume_stream(r, &written))
                break;
        } else {
            size_t total = r->resp_head.len + (r->head_only ? 0 : r->body_len);
            size_t take = total - r->sent < written ? total - r->sent : written;
            r->sent += take;
            written -= take;
            if (r->sent < total)
                break;
        }
        if (!r->keep_alive)
            c->closing = 1; /* that was the last answer this connection gives */
        fifo_pop(c);
    }
}

/* Sends the next piece of the FIFO head's file body. Returns bytes sent, or -1 with errno. */
static ssize_t send_file_body(struct conn *c, struct request *r)
{
    size_t done = r->sent - r->resp_head.len;
    off_t off = r->body_off + (off_t)done;
    size_t want = r->body_len - done;
    /* Bounded chunks keep one big download from starving the other connections. */
    return sendfile(c->fd, r->body_fd, &off, want < SENDFILE_CHUNK ? want : SENDFILE_CHUNK);
}

static int file_body_due(const struct request *r)
{
    return r && r->done && r->body_is_file && !r->head_only && r->sent >= r->resp_head.len &&
           r->sent < r->resp_head.len + r->body_len;
}

/* While the batch hands out reads, plain answers are queued to be written
 * with the others of this pass. Returns 1 when queued. */
static int queue_in_batch(struct conn *c, const struct iovec *iov, int n, int file_next,
                          int streamed)
{
    return batch_collecting(c->w->batch) && !file_next && !streamed &&
           batch_queue_send(c->w->batch, c, iov, n) == 0;
}

/* Writes what is ready. Returns 0, 1 when the socket is full, 2 when the
 * batch writes it (conn_send_done follows), -1 on a dead peer. */
static int flush_output(struct conn *c)
{
    struct iovec iov[IOV_BATCH];
    if (c->send_slot)
        return 2; /* bytes already queued: nothing more until they are out */
    for (;;) {
        if (file_body_due(c->fifo_head)) {
            ssize_t w = send_file_body(c, c->fifo_head);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
            if (w == 0)
                return -1; /* the file shrank under us: the length we promised is a lie */
            consume_output(c, (size_t)w);
            continue;
        }
        int file_next, streamed;
        int n = gather_output(c, iov, IOV_BATCH, &file_next, &streamed);
        if (n == 0) {
            consume_output(c, 0); /* empty answers (HEAD of nothing) still finish */
            return 0;
        }
        if (queue_in_batch(c, iov, n, file_next, streamed))
            return 2;
        /* A head followed by sendfile: MSG_MORE lets them share full-sized segments. */
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (file_next ? MSG_MORE : 0));
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
        consume_output(c, (size_t)w);
    }
}

static void start_linger(struct conn *c)
{
    c->lingering = 1;
    shutdown(c->fd, SHUT_WR);
    ev_io_stop(c->w->loop, &c->wio);
    ev_io_start(c->w->loop, &c->rio);
    tlist_enter(&c->w->waits[WAIT_LINGER], &c->tn);
}

/* Picks the timeout list for the connection's state. */
/* A streamed request body waits for its handler to take what is buffered. */
static int body_backlogged(const struct conn *c)
{
    return c->cur && c->cur->streams_body && c->cur->body.len >= REQ_BODY_HIGH;
}

/* The body and write waits restart only on progress: at least PROGRESS_MIN
 * bytes moved since the last restart, so a trickle of a byte now and then
 * cannot hold a connection for ever. */
static void wait_progress(struct tlist *l, struct tnode *n, size_t *moved)
{
    if (n->list != l || *moved >= PROGRESS_MIN) {
        tlist_touch(l, n);
        *moved = 0;
    }
}

static void update_timeout(struct conn *c)
{
    struct tlist *waits = c->w->waits;
    if (ev_is_active(&c->wio))
        wait_progress(&waits[WAIT_WRITE], &c->tn, &c->out_moved);
    else if (body_backlogged(c))
        tlist_remove(&c->tn); /* the handler's own timeouts apply */
    else if (c->cur && c->cur->head_parsed)
        wait_progress(&waits[WAIT_BODY], &c->tn, &c->body_moved);
    else if (c->cur || c->parsed < c->in.len || c->served == 0)
        tlist_enter(&waits[WAIT_HEADER], &c->tn);
    else if (c->fifo_head)
        tlist_remove(&c->tn); /* a handler is working: its own timeouts apply */
    else if (c->got_bytes)
        tlist_touch(&waits[WAIT_KEEPALIVE], &c->tn); /* a request came and went: idle anew */
    else
        tlist_enter(&waits[WAIT_KEEPALIVE], &c->tn);
    c->got_bytes = 0;
}

static void update_reading(struct conn *c)
{
    int want = !c->closing && !c->paused && !c->read_eof && c->nfifo < PIPELINE_MAX &&
               c->unsent < OUT_HIGH_WATER && !body_backlogged(c);
    if (want && !ev_is_active(&c->rio))
        ev_io_start(c->w->loop, &c->rio);
    else if (!want && ev_is_active(&c->rio))
        ev_io_stop(c->w->loop, &c->rio);
}

/* A streamed answer that asked its handler to pause is below half its high water. */
static void notify_stream_drained(struct conn *c)
{
    struct request *r = c->fifo_head;
    if (!r || !r->streaming || r->done || !r->stream_full ||
        r->resp_body.len >= RESP_STREAM_HIGH / 2)
        return;
    r->stream_full = 0;
    if (r->on_drain)
        r->on_drain(r); /* it only queues bytes: the writes happen from the loop */
}

/* Parses what is buffered, writes what is answered, and picks what to wait for. */
static void conn_service(struct conn *c)
{
    int blocked;
    for (;;) {
        process_input(c);
        blocked = flush_output(c);
        if (blocked < 0) {
            conn_close(c);
            return;
        }
        if (blocked == 2)
            return; /* conn_send_done resumes here once the batch wrote it */
        if (!c->paused || c->closing || c->nfifo >= PIPELINE_MAX || blocked)
            break;
        llhttp_resume(&c->parser); /* the FIFO drained: parse the rest */
        c->paused = 0;
    }
    notify_stream_drained(c);
    if (c->closing && !c->fifo_head) {
        if (c->read_eof) {
            conn_close(c);
            return;
        }
        start_linger(c);
        return;
    }
    if (c->read_eof && !c->fifo_head && !c->cur) {
        conn_close(c);
        return;
    }
    blocked ? ev_io_start(c->w->loop, &c->wio) : ev_io_stop(c->w->loop, &c->wio);
    maybe_release_input(c);
    update_reading(c);
    update_timeout(c);
}

/* A failed read or write that may succeed later: nothing to move now, or a signal. */
static int would_block(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR;
}

static void linger_read(struct conn *c)
{
    char sink[4096];
    ssize_t n;
    while ((n = read(c->fd, sink, sizeof(sink))) > 0)
        ;
    if (n == 0 || !would_block(errno))
        conn_close(c);
}

char *conn_read_target(struct conn *c, size_t *room)
{
    /* Lingering connections drain through their own watcher (linger_read);
     * others may have stopped reading since they were queued (backpressure,
     * closing, end of stream). */
    if (c->lingering || !ev_is_active(&c->rio))
        return NULL;
    ensure_read_room(c);
    *room = c->in.cap - c->in.len;
    return c->in.data + c->in.len;
}

void conn_read_landed(struct conn *c, int n)
{
    if (n > 0)
        c->in.len += (size_t)n;
}

void conn_read_done(struct conn *c, int n)
{
    if (n < 0) {
        if (!would_block(-n))
            conn_close(c);
        else if (c->w->draining)
            conn_drain(c); /* a stop began while its read was queued */
        return;
    }
    if (n == 0) {
        /* Half-close: answer what was asked in full, drop a partial request. */
        c->read_eof = 1;
        ev_io_stop(c->w->loop, &c->rio);
        if (c->cur || c->parsed < c->in.len) {
            conn_close(c);
            return;
        }
    }
    c->got_bytes = n > 0;
    conn_service(c);
}

void conn_read_now(struct conn *c)
{
    size_t room;
    char *at = conn_read_target(c, &room);
    if (!at)
        return;
    ssize_t n = read(c->fd, at, room);
    int res = n < 0 ? -errno : (int)n;
    conn_read_landed(c, res);
    conn_read_done(c, res);
}

void conn_send_done(struct conn *c, int n)
{
    if (n > 0)
        consume_output(c, (size_t)n);
    else if (n < 0 && !would_block(-n)) {
        conn_close(c);
        return;
    }
    conn_service(c); /* the rest, if any, goes out with plain calls */
}

static void on_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *c = w->data;
    if (c->lingering) {
        linger_read(c);
        return;
    }
    if (c->w->batch && batch_queue_read(c->w->batch, c) == 0)
        return; /* read with the others of this loop pass */
    conn_read_now(c);
}

static void on_writable(struct ev_loop *loop, ev_io *w, int revents)
{
    conn_service(w->data);
}

void conn_expired(struct tnode *n)
{
    struct conn *c = (struct conn *)((char *)n - offsetof(struct conn, tn));
    int partial = c->cur || c->parsed < c->in.len;
    if (c->lingering || ev_is_active(&c->wio) || !partial || c->closing) {
        conn_close(c);
        return;
    }
    conn_fail(c, 408);
    conn_service(c);
}

/* An answer completed while its request body was still coming: the rest of
 * that body is not read (the answer says Connection: close). */
static void drop_unread_body(struct conn *c, struct request *r)
{
    if (c->cur != r || r->body_done)
        return;
    c->cur = NULL;
    c->head_start = NO_HEAD;
    c->closing = 1;
}

/* Writes soon, from the loop: never inside the handler call that queued bytes. */
static void schedule_write(struct conn *c)
{
    if (!c->in_execute && !ev_is_active(&c->wio))
        ev_feed_event(c->w->loop, &c->wio, EV_WRITE);
}

/* A completed answer goes to the access log and the metrics (example runs
 * go to neither). */
static void record_answer(struct conn *c, struct request *r)
{
    if (c->w->quiet)
        return;
    log_access(r, ev_now(c->w->loop));
    metrics_request_done(r, ev_time()); /* the clock, not the loop's cached time */
}

void conn_stream_queued(struct request *r, size_t n)
{
    struct conn *c = r->conn;
    c->unsent += n;
    if (c->fifo_head == r)
        schedule_write(c);
}

void conn_stream_ended(struct request *r)
{
    struct conn *c = r->conn;
    record_answer(c, r);
    drop_unread_body(c, r);
    schedule_write(c);
}

void conn_body_taken(struct request *r)
{
    struct conn *c = r->conn;
    if (c->cur != r || c->in_execute)
        return;
    update_reading(c);
    update_timeout(c);
}

void conn_response_ready(struct request *r)
{
    struct conn *c = r->conn;
    record_answer(c, r);
    drop_unread_body(c, r);
    c->unsent += r->resp_head.len + (r->head_only ? 0 : r->body_len);
    if (!c->in_execute && c->fifo_head == r)
        conn_service(c);
}

void conn_drain(struct conn *c)
{
    /* Busy connections answer with Connection: close (resp_finish sees draining);
     * one whose read is queued in the batch is judged after that read. */
    if (!c->fifo_head && !c->cur && c->parsed == c->in.len && !c->read_slot)
        conn_close(c);
}

static void set_peer(struct conn *c, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, c->peer, sizeof(c->peer));
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, c->peer,
                  sizeof(c->peer));
    else
        strcpy(c->peer, "unix");
}

void conn_start(struct worker *w, int fd, const struct sockaddr *peer, socklen_t peerlen)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return;
    }
    c->w = w;
    c->fd = fd;
    c->head_start = NO_HEAD;
    set_peer(c, peer);
    if (peer->sa_family != AF_UNIX) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    llhttp_init(&c->parser, HTTP_REQUEST, &conn_parser_settings);
    c->parser.data = c;
    ev_io_init(&c->rio, on_readable, fd, EV_READ);
    ev_io_init(&c->wio, on_writable, fd, EV_WRITE);
    c->rio.data = c->wio.data = c;
    worker_conn_added(w, c);
    ev_io_start(w->loop, &c->rio);
    tlist_enter(&w->waits[WAIT_HEADER], &c->tn);
}
