/* The worker's I/O batch (see batch.h). Readable connections are queued by
 * their watchers; a check watcher at the lowest priority runs after all of
 * them: it submits the reads at once, lets each connection parse and answer
 * (answers are queued too), then submits the writes at once. The ring is used
 * synchronously: every entry has completed when the submit returns, so no
 * buffer is ever left with the kernel across loop passes. */
#include "batch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn_internal.h"
#include "uring.h"

#define RING_ENTRIES 256
#define SLOTS        (RING_ENTRIES / 2) /* reads, and as many writes */
#define IOV_POOL     1024               /* iovecs shared by the queued writes */
#define NOT_DONE     INT_MIN

struct send_slot {
    struct conn *c; /* NULL once forgotten */
    struct io_uring_sqe *sqe;
    struct msghdr msg;
};

struct batch {
    struct uring ring;
    ev_check run_after_io;
    ev_prepare run_before_poll; /* reads queued outside the io pass never wait for a poll */
    int collecting;
    int broken; /* the ring failed once: plain system calls from then on */
    struct conn *reads[SLOTS];
    int results[SLOTS]; /* NOT_DONE until the read's completion arrives */
    unsigned nreads;
    struct send_slot sends[SLOTS];
    unsigned nsends;
    struct iovec iov[IOV_POOL];
    unsigned niov;
};

int batch_collecting(const struct batch *b)
{
    return b && b->collecting && !b->broken;
}

int batch_broken(const struct batch *b)
{
    return b->broken;
}

int batch_queue_read(struct batch *b, struct conn *c)
{
    if (c->read_slot)
        return 0;
    if (b->broken || b->nreads == SLOTS)
        return -1;
    b->reads[b->nreads++] = c;
    c->read_slot = b->nreads;
    return 0;
}

int batch_queue_send(struct batch *b, struct conn *c, const struct iovec *iov, int n)
{
    if (b->broken || b->nsends == SLOTS || b->niov + (unsigned)n > IOV_POOL ||
        uring_room(&b->ring) == 0)
        return -1;
    struct send_slot *s = &b->sends[b->nsends];
    struct iovec *mine = memcpy(&b->iov[b->niov], iov, (size_t)n * sizeof(*iov));
    b->niov += (unsigned)n;
    s->c = c;
    s->msg = (struct msghdr){.msg_iov = mine, .msg_iovlen = (size_t)n};
    s->sqe = uring_sqe(&b->ring);
    s->sqe->opcode = IORING_OP_SENDMSG;
    s->sqe->fd = c->fd;
    s->sqe->addr = (unsigned long)&s->msg;
    s->sqe->len = 1;
    s->sqe->msg_flags = MSG_NOSIGNAL | MSG_DONTWAIT; /* never parked: EAGAIN comes back */
    s->sqe->user_data = b->nsends;
    c->send_slot = ++b->nsends;
    return 0;
}

void batch_forget(struct batch *b, struct conn *c)
{
    if (c->read_slot)
        b->reads[c->read_slot - 1] = NULL;
    if (c->send_slot) {
        struct send_slot *s = &b->sends[c->send_slot - 1];
        s->c = NULL;
        uring_withdraw(s->sqe); /* not submitted yet: its bytes die with c */
    }
    c->read_slot = c->send_slot = 0;
}

/* Reads that did not run (withdrawn) are done with plain calls. */
static void fall_back(struct batch *b)
{
    for (unsigned i = 0; i < b->nreads; i++) {
        struct conn *c = b->reads[i];
        if (c) {
            b->reads[i] = NULL;
            c->read_slot = 0;
            conn_read_now(c);
        }
    }
}

static void prepare_reads(struct batch *b)
{
    for (unsigned i = 0; i < b->nreads; i++) {
        struct conn *c = b->reads[i];
        b->results[i] = NOT_DONE;
        if (!c)
            continue;
        size_t room;
        char *at = conn_read_target(c, &room);
        if (!at) { /* it stopped reading since it was queued (backpressure, closing) */
            b->reads[i] = NULL;
            c->read_slot = 0;
            continue;
        }
        struct io_uring_sqe *sqe = uring_sqe(&b->ring);
        sqe->opcode = IORING_OP_RECV;
        sqe->fd = c->fd;
        sqe->addr = (unsigned long)at;
        sqe->len = (unsigned)room;
        sqe->msg_flags = MSG_DONTWAIT;
        sqe->user_data = i;
    }
}

/* Every connection first takes the bytes that landed in its buffer, then
 * each works on them: one connection's work (an answer it completes for
 * another, say) must never find a buffer that looks emptier than it is. */
static void deliver_reads(struct batch *b)
{
    struct io_uring_cqe cqe;
    while (uring_next(&b->ring, &cqe)) {
        b->results[cqe.user_data] = cqe.res;
        if (b->reads[cqe.user_data])
            conn_read_landed(b->reads[cqe.user_data], cqe.res);
    }
    b->collecting = 1; /* the answers they make are queued */
    for (unsigned i = 0; i < b->nreads; i++) {
        struct conn *c = b->reads[i];
        if (!c || b->results[i] == NOT_DONE)
            continue; /* closed by an earlier connection's work, or withdrawn */
        b->reads[i] = NULL;
        c->read_slot = 0;
        conn_read_done(c, b->results[i]);
    }
    b->collecting = 0;
}

static void deliver_sends(struct batch *b)
{
    struct io_uring_cqe cqe;
    while (uring_next(&b->ring, &cqe)) {
        struct send_slot *s = &b->sends[cqe.user_data];
        struct conn *c = s->c;
        if (!c)
            continue;
        s->c = NULL;
        c->send_slot = 0;
        conn_send_done(c, cqe.res);
    }
}

/* Sends that did not run (withdrawn) go back to their connections, which
 * write them themselves. */
static void fail_sends(struct batch *b)
{
    unsigned n = b->nsends;
    for (unsigned i = 0; i < n; i++) {
        struct conn *c = b->sends[i].c;
        if (!c)
            continue;
        b->sends[i].c = NULL;
        c->send_slot = 0;
        conn_send_done(c, -EAGAIN);
    }
}

/* A failed submit (the kernel took only some entries, or none) leaves the
 * rest undone: those connections read and write with plain calls, now and
 * until the next reload reopens the ring. */
static void batch_run(struct batch *b)
{
    if (b->nreads) {
        prepare_reads(b);
        if (uring_submit_all(&b->ring) < 0)
            b->broken = 1; /* before delivery: answers are then written at once */
        deliver_reads(b);
        if (b->broken)
            fall_back(b);
        b->nreads = 0;
    }
    if (b->nsends) {
        if (uring_submit_all(&b->ring) < 0)
            b->broken = 1;
        deliver_sends(b);
        fail_sends(b);
        b->nsends = 0;
        b->niov = 0;
    }
}

static void on_after_io(struct ev_loop *loop, ev_check *w, int revents)
{
    batch_run(w->data);
}

static void on_before_poll(struct ev_loop *loop, ev_prepare *w, int revents)
{
    batch_run(w->data);
}

struct batch *batch_open(struct ev_loop *loop, const char **why)
{
    struct batch *b = calloc(1, sizeof(*b));
    if (!b) {
        *why = "out of memory";
        return NULL;
    }
    if (uring_open(&b->ring, RING_ENTRIES) < 0) {
        *why = strerror(errno);
        free(b);
        return NULL;
    }
    if (!uring_nowait_works(&b->ring)) {
        *why = "this kernel parks non-blocking socket reads (needs Linux 5.18 or later)";
        uring_close(&b->ring);
        free(b);
        return NULL;
    }
    ev_check_init(&b->run_after_io, on_after_io);
    ev_prepare_init(&b->run_before_poll, on_before_poll);
    b->run_after_io.data = b->run_before_poll.data = b;
    ev_set_priority(&b->run_after_io, EV_MINPRI); /* after every connection's watcher */
    ev_set_priority(&b->run_before_poll, EV_MINPRI);
    ev_check_start(loop, &b->run_after_io);
    ev_prepare_start(loop, &b->run_before_poll);
    ev_unref(loop);
    ev_unref(loop);
    return b;
}

void batch_close(struct batch *b, struct ev_loop *loop)
{
    if (!b)
        return;
    batch_run(b); /* what this pass queued is still done */
    ev_ref(loop);
    ev_ref(loop);
    ev_check_stop(loop, &b->run_after_io);
    ev_prepare_stop(loop, &b->run_before_poll);
    uring_close(&b->ring);
    free(b);
}
