/* A worker: one libev loop serving every listener with the current config. */
#ifndef YH_WORKER_H
#define YH_WORKER_H

#include <ev.h>
#include <stddef.h>

#include "buf.h"
#include "tlist.h"

struct batch;
struct config;
struct conn;
struct request;

enum conn_wait { WAIT_HEADER, WAIT_BODY, WAIT_KEEPALIVE, WAIT_WRITE, WAIT_LINGER, WAIT_KINDS };

struct worker {
    struct ev_loop *loop;
    struct config *cfg; /* the current table; requests hold their own reference */
    int *listen_fds;
    size_t nlisten;
    ev_io *accept_watchers;
    ev_timer accept_resume; /* accepting paused after EMFILE */
    ev_prepare flush_logs;
    ev_signal sig_term, sig_int, sig_quit, sig_hup, sig_usr1;
    ev_io ctl_io; /* the master's channel (pre-fork mode), fd -1 in single-process mode */
    ev_timer shutdown_timer;
    struct tlist waits[WAIT_KINDS];
    struct conn *conns; /* every open connection (for drain/abort) */
    size_t nconns;
    int accepting;
    int activated; /* listeners came from socket activation: reloads keep them */
    int draining;
    int quiet;           /* a private worker (route examples): no access log */
    struct batch *batch; /* io_uring batching of socket I/O, NULL: plain calls */
    /* recycled objects: no malloc per request once warm */
    struct request *free_requests;
    size_t nfree_requests;
    struct buf *free_inbufs;
    size_t nfree_inbufs;
};

/* The process's worker (one loop per process). */
extern struct worker *the_worker;

/* Sets up the loop, accept watchers and signals for listen_fds (the array and
 * the fds are taken). ctl_fd is the master's channel, or -1 for a single
 * process (which then reloads on SIGHUP itself). Returns 0 or -1. */
int worker_init(struct worker *w, struct config *cfg, int *listen_fds, size_t nlisten, int ctl_fd);
/* A worker with its own new loop and no listeners, signals or master: route
 * examples are served by it inside any process (master, -t, a running
 * single-process server) without touching that process's own loop. The
 * caller points the_worker at it while it serves. Returns 0 or -1. */
int worker_init_private(struct worker *w, struct config *cfg);
/* Closes its connections and frees it (and its loop). */
void worker_destroy_private(struct worker *w);
/* Runs until stopped; returns the exit status. */
int worker_run(struct worker *w);
/* Closes everything and frees the worker's memory (the loop too). */
void worker_destroy(struct worker *w);
/* Applies a new config's timeouts and route table (in place, no connection closed). */
void worker_set_config(struct worker *w, struct config *cfg);

/* Swaps the listening sockets (array and fds taken; the old ones are closed). */
void worker_replace_listeners(struct worker *w, int *fds, size_t n);
/* Closes the listeners: no new connections. */
void worker_stop_listening(struct worker *w);
/* Graceful stop: idle connections close now, busy ones after their answer. */
void worker_begin_drain(struct worker *w);
/* Closes every connection and leaves the loop. */
void worker_abort_all(struct worker *w);
/* Signals and the master's channel (worker_signals.c). */
void worker_init_signals(struct worker *w, int ctl_fd);

/* Recycled request objects and input buffers. */
struct request *worker_request_get(struct worker *w);
void worker_request_put(struct worker *w, struct request *r);
void worker_inbuf_get(struct worker *w, struct buf *b);
void worker_inbuf_put(struct worker *w, struct buf *b);

/* Connection accounting (may resume accepting). */
void worker_conn_added(struct worker *w, struct conn *c);
void worker_conn_removed(struct worker *w, struct conn *c);

#endif
