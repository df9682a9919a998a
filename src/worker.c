/* A worker: one libev loop serving every listener with the current config. */
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batch.h"
#include "config.h"
#include "conn.h"
#include "conn_internal.h"
#include "handlers/exec.h"
#include "log.h"
#include "request.h"
#include "shared_stats.h"

#define INBUF_SIZE       16384
#define POOL_REQUESTS    256
#define POOL_INBUFS      64
#define LINGER_SECONDS   2.0
#define EMFILE_PAUSE_SEC 0.1

struct worker *the_worker;

struct request *worker_request_get(struct worker *w)
{
    struct request *r = w->free_requests;
    if (r) {
        w->free_requests = r->next;
        w->nfree_requests--;
        r->next = NULL;
        return r;
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    return r;
}

void worker_request_put(struct worker *w, struct request *r)
{
    if (w->nfree_requests >= POOL_REQUESTS) {
        request_destroy(r);
        return;
    }
    request_reset(r);
    r->next = w->free_requests;
    w->free_requests = r;
    w->nfree_requests++;
}

void worker_inbuf_get(struct worker *w, struct buf *b)
{
    if (w->nfree_inbufs > 0) {
        *b = w->free_inbufs[--w->nfree_inbufs];
        return;
    }
    *b = (struct buf){0};
    buf_reserve(b, INBUF_SIZE);
}

void worker_inbuf_put(struct worker *w, struct buf *b)
{
    if (w->nfree_inbufs < POOL_INBUFS && b->cap == INBUF_SIZE) {
        b->len = 0;
        w->free_inbufs[w->nfree_inbufs++] = *b;
    } else {
        buf_free(b);
    }
    *b = (struct buf){0};
}

static void set_accepting(struct worker *w, int on)
{
    if (w->accepting == on)
        return;
    w->accepting = on;
    for (size_t i = 0; i < w->nlisten; i++)
        on ? ev_io_start(w->loop, &w->accept_watchers[i])
           : ev_io_stop(w->loop, &w->accept_watchers[i]);
}

static int below_conn_limit(const struct worker *w)
{
    return w->nconns < w->cfg->limits.connections;
}

void worker_conn_added(struct worker *w, struct conn *c)
{
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    stats_connections_add(1);
    if (!below_conn_limit(w))
        set_accepting(w, 0);
}

void worker_conn_removed(struct worker *w, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    stats_connections_add(-1);
    if (w->draining) {
        if (w->nconns == 0)
            ev_break(w->loop, EVBREAK_ALL);
        return;
    }
    if (below_conn_limit(w) && !ev_is_active(&w->accept_resume))
        set_accepting(w, 1);
}

/* Out of descriptors: pause accepting briefly instead of spinning on EMFILE. */
static void pause_accepting(struct worker *w)
{
    log_warn("accept: %s; pausing accepts for %.0f ms", strerror(errno), EMFILE_PAUSE_SEC * 1000);
    set_accepting(w, 0);
    ev_timer_set(&w->accept_resume, EMFILE_PAUSE_SEC, 0.);
    ev_timer_start(w->loop, &w->accept_resume);
}

static void on_accept_resume(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct worker *w = t->data;
    if (!w->draining && below_conn_limit(w))
        set_accepting(w, 1);
}

static void on_acceptable(struct ev_loop *loop, ev_io *io, int revents)
{
    struct worker *w = io->data;
    while (w->accepting) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(io->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn_start(w, fd, (struct sockaddr *)&ss, len);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            pause_accepting(w);
        return; /* EAGAIN: drained */
    }
}

static void on_flush_logs(struct ev_loop *loop, ev_prepare *p, int revents)
{
    log_flush();
}

static void timeouts_from_config(struct worker *w)
{
    const struct config *c = w->cfg;
    tlist_set_timeout(&w->waits[WAIT_HEADER], (double)c->timeouts.header / 1000.0);
    tlist_set_timeout(&w->waits[WAIT_BODY], (double)c->timeouts.body / 1000.0);
    tlist_set_timeout(&w->waits[WAIT_KEEPALIVE], (double)c->timeouts.keepalive / 1000.0);
    tlist_set_timeout(&w->waits[WAIT_WRITE], (double)c->timeouts.write / 1000.0);
    tlist_set_timeout(&w->waits[WAIT_LINGER], LINGER_SECONDS);
}

/* Private workers (route examples) never batch: their loop runs inside
 * another process's work. */
static void batch_from_config(struct worker *w)
{
    if (w->batch && batch_broken(w->batch)) { /* a reload gives the kernel another chance */
        batch_close(w->batch, w->loop);
        w->batch = NULL;
    }
    if (w->quiet || (w->batch != NULL) == (w->cfg->io_uring != 0))
        return;
    if (w->batch) {
        batch_close(w->batch, w->loop);
        w->batch = NULL;
        log_info("io_uring: off; plain system calls");
        return;
    }
    const char *why = NULL;
    w->batch = batch_open(w->loop, &why);
    if (w->batch)
        log_info("io_uring: socket reads and writes batched per loop pass");
    else
        log_info("io_uring unavailable (%s): plain system calls", why);
}

void worker_set_config(struct worker *w, struct config *cfg)
{
    struct config *old = w->cfg;
    w->cfg = config_ref(cfg);
    if (old)
        config_unref(old);
    timeouts_from_config(w);
    if (w->loop)
        batch_from_config(w);
}

void worker_replace_listeners(struct worker *w, int *fds, size_t n)
{
    set_accepting(w, 0);
    for (size_t i = 0; i < w->nlisten; i++)
        close(w->listen_fds[i]);
    free(w->listen_fds);
    free(w->accept_watchers);
    w->listen_fds = fds;
    w->nlisten = n;
    w->accept_watchers = calloc(n ? n : 1, sizeof(*w->accept_watchers));
    if (!w->accept_watchers)
        abort();
    for (size_t i = 0; i < n; i++) {
        ev_io_init(&w->accept_watchers[i], on_acceptable, fds[i], EV_READ);
        w->accept_watchers[i].data = w;
    }
    if (!w->draining && below_conn_limit(w) && !ev_is_active(&w->accept_resume))
        set_accepting(w, 1);
}

void worker_stop_listening(struct worker *w)
{
    set_accepting(w, 0);
    ev_timer_stop(w->loop, &w->accept_resume);
    for (size_t i = 0; i < w->nlisten; i++)
        close(w->listen_fds[i]);
    w->nlisten = 0;
}

/* Graceful stop: no new connections, idle ones closed, busy ones finish. */
void worker_begin_drain(struct worker *w)
{
    if (w->draining)
        return;
    w->draining = 1;
    log_info("stopping: draining %zu connection(s), at most %.1f s", w->nconns,
             (double)w->cfg->timeouts.shutdown / 1000.0);
    worker_stop_listening(w);
    struct conn *c = w->conns, *next;
    for (; c; c = next) {
        next = c->next;
        conn_drain(c);
    }
    if (w->nconns == 0) {
        ev_break(w->loop, EVBREAK_ALL);
        return;
    }
    ev_timer_set(&w->shutdown_timer, (double)w->cfg->timeouts.shutdown / 1000.0, 0.);
    ev_timer_start(w->loop, &w->shutdown_timer);
}

void worker_abort_all(struct worker *w)
{
    while (w->conns)
        conn_abort(w->conns);
    ev_break(w->loop, EVBREAK_ALL);
}

static void on_shutdown_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct worker *w = t->data;
    log_warn("shutdown timeout: closing %zu connection(s)", w->nconns);
    worker_abort_all(w);
}

/* What every worker needs around its loop: buffer pool, timeout lists, the
 * config, the accept-pause and shutdown timers (not started). */
static void init_core(struct worker *w, struct config *cfg)
{
    w->free_inbufs = calloc(POOL_INBUFS, sizeof(*w->free_inbufs));
    if (!w->free_inbufs)
        abort();
    for (int k = 0; k < WAIT_KINDS; k++)
        tlist_init(&w->waits[k], w->loop, 1.0, conn_expired);
    worker_set_config(w, cfg);
    ev_init(&w->accept_resume, on_accept_resume);
    w->accept_resume.data = w;
    ev_init(&w->shutdown_timer, on_shutdown_timeout);
    w->shutdown_timer.data = w;
}

int worker_init(struct worker *w, struct config *cfg, int *listen_fds, size_t nlisten, int ctl_fd)
{
    memset(w, 0, sizeof(*w));
    the_worker = w;
    w->loop = ev_default_loop(EVFLAG_AUTO);
    if (!w->loop)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    init_core(w, cfg);
    ev_prepare_init(&w->flush_logs, on_flush_logs);
    ev_prepare_start(w->loop, &w->flush_logs);
    ev_unref(w->loop);
    worker_init_signals(w, ctl_fd);
    worker_replace_listeners(w, listen_fds, nlisten);
    return 0;
}

int worker_run(struct worker *w)
{
    ev_run(w->loop, 0);
    log_flush();
    return 0;
}

/* What every worker owns: connections, timeout lists, pools, config, loop. */
static void worker_free_core(struct worker *w)
{
    while (w->conns)
        conn_abort(w->conns);
    for (int k = 0; k < WAIT_KINDS; k++)
        tlist_stop(&w->waits[k]);
    while (w->free_requests) {
        struct request *r = w->free_requests;
        w->free_requests = r->next;
        request_destroy(r);
    }
    while (w->nfree_inbufs > 0)
        buf_free(&w->free_inbufs[--w->nfree_inbufs]);
    free(w->free_inbufs);
    free(w->accept_watchers);
    free(w->listen_fds);
    batch_close(w->batch, w->loop);
    w->batch = NULL;
    config_unref(w->cfg);
    w->cfg = NULL;
    ev_loop_destroy(w->loop);
}

void worker_destroy(struct worker *w)
{
    if (ev_is_active(&w->ctl_io)) {
        ev_ref(w->loop);
        ev_io_stop(w->loop, &w->ctl_io);
    }
    if (w->ctl_io.fd >= 0)
        close(w->ctl_io.fd);
    while (w->conns)
        conn_abort(w->conns);
    exec_shutdown(); /* children of cancelled requests not reaped yet */
    worker_stop_listening(w);
    worker_free_core(w);
    the_worker = NULL;
}

int worker_init_private(struct worker *w, struct config *cfg)
{
    memset(w, 0, sizeof(*w));
    /* Not the default loop: that one belongs to the process's real worker
     * (or, in the master, to the workers it will fork). */
    w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (!w->loop)
        return -1;
    w->quiet = 1;
    init_core(w, cfg);
    return 0;
}

void worker_destroy_private(struct worker *w)
{
    worker_free_core(w);
}
