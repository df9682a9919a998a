/* The worker's I/O batch: the reads of every connection that became readable
 * in one loop pass go to the kernel in one io_uring submission, and so do the
 * answers they produce. A system call costs more than the work of a small
 * read or write on many machines; this makes it one per pass, not per request. */
#ifndef YH_BATCH_H
#define YH_BATCH_H

#include <ev.h>
#include <sys/uio.h>

struct batch;
struct conn;

/* Sets up a batch for loop. Returns NULL when io_uring cannot be used here
 * (then *why says why, and connections use plain system calls). */
struct batch *batch_open(struct ev_loop *loop, const char **why);
/* Does what is queued, then frees it (NULL is fine). */
void batch_close(struct batch *b, struct ev_loop *loop);
/* Queues c's read for the end of this loop pass. Returns 0, or -1 when the
 * batch is full (the caller reads now). */
int batch_queue_read(struct batch *b, struct conn *c);
/* Queues writing iov (n entries, copied; the bytes must stay put until
 * conn_send_done) for c. Returns 0, or -1 (the caller writes now). */
int batch_queue_send(struct batch *b, struct conn *c, const struct iovec *iov, int n);
/* 1 while the batch hands out read results: answers are queued, not written. */
int batch_collecting(const struct batch *b);
/* 1 once the kernel failed a submission: plain calls until it is reopened. */
int batch_broken(const struct batch *b);
/* c is closing: its queued read or write is dropped. */
void batch_forget(struct batch *b, struct conn *c);

#endif
