/* A minimal io_uring over the raw system calls (no liburing), used
 * synchronously: socket reads and writes of one loop pass go to the kernel in
 * one system call, and all of them have completed when it returns. */
#ifndef YH_URING_H
#define YH_URING_H

#include <linux/io_uring.h>
#include <stddef.h>

#ifndef IORING_SETUP_SUBMIT_ALL /* headers older than Linux 5.18 */
#define IORING_SETUP_SUBMIT_ALL (1U << 7)
#endif

struct uring {
    int fd;
    unsigned *sq_tail, *sq_mask;
    unsigned *cq_head, *cq_tail, *cq_mask;
    struct io_uring_sqe *sqes;
    struct io_uring_cqe *cqes;
    void *sq_ring, *cq_ring;
    size_t sq_ring_size, cq_ring_size, sqes_size;
    unsigned sq_entries;
    unsigned queued;   /* SQEs written since the last submit */
    unsigned inflight; /* submitted, completion not yet taken */
};

/* Sets up a ring of `entries` submissions. Returns 0, or -1 with errno when
 * the kernel has no io_uring (or forbids it): callers fall back to plain calls. */
int uring_open(struct uring *u, unsigned entries);
/* Unmaps and closes; safe on a ring that failed to open. */
void uring_close(struct uring *u);
/* The next free submission, zeroed, or NULL when uring_room() is 0. */
struct io_uring_sqe *uring_sqe(struct uring *u);
/* Free submission slots before a submit is needed. */
unsigned uring_room(const struct uring *u);
/* Turns a queued, not yet submitted entry into a no-op (same user_data): its
 * buffers may then be freed. */
void uring_withdraw(struct io_uring_sqe *sqe);
/* Submits what is queued and waits until every submission taken has
 * completed. Returns 0, or -1 with errno when the kernel took only some (or
 * none): the others were withdrawn and never run; completions say which ran. */
int uring_submit_all(struct uring *u);
/* Takes the next completion into *cqe. Returns 1, or 0 when none is left. */
int uring_next(struct uring *u, struct io_uring_cqe *cqe);
/* 1 when socket reads and writes flagged MSG_DONTWAIT complete inside the
 * submit (-EAGAIN rather than waiting), which the synchronous use relies on.
 * Older kernels may park them instead. */
int uring_nowait_works(struct uring *u);

#endif
