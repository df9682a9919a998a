/* A minimal io_uring over the raw system calls: one ring per worker, used
 * synchronously (see uring.h). */
#include "uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
    return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned submit, unsigned wait, unsigned flags)
{
    return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, NULL, 0);
}

static void *map_ring(int fd, size_t size, off_t what)
{
    return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, what);
}

static int map_rings(struct uring *u, const struct io_uring_params *p)
{
    u->sq_ring_size = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    u->cq_ring_size = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    u->sqes_size = p->sq_entries * sizeof(struct io_uring_sqe);
    u->sq_ring = map_ring(u->fd, u->sq_ring_size, IORING_OFF_SQ_RING);
    u->cq_ring = map_ring(u->fd, u->cq_ring_size, IORING_OFF_CQ_RING);
    u->sqes = map_ring(u->fd, u->sqes_size, IORING_OFF_SQES);
    if (u->sq_ring == MAP_FAILED || u->cq_ring == MAP_FAILED || u->sqes == MAP_FAILED)
        return -1;
    char *sq = u->sq_ring, *cq = u->cq_ring;
    u->sq_tail = (unsigned *)(sq + p->sq_off.tail);
    u->sq_mask = (unsigned *)(sq + p->sq_off.ring_mask);
    unsigned *array = (unsigned *)(sq + p->sq_off.array);
    for (unsigned i = 0; i < p->sq_entries; i++)
        array[i] = i; /* slot i always names SQE i */
    u->cq_head = (unsigned *)(cq + p->cq_off.head);
    u->cq_tail = (unsigned *)(cq + p->cq_off.tail);
    u->cq_mask = (unsigned *)(cq + p->cq_off.ring_mask);
    u->cqes = (struct io_uring_cqe *)(cq + p->cq_off.cqes);
    u->sq_entries = p->sq_entries;
    return 0;
}

int uring_open(struct uring *u, unsigned entries)
{
    memset(u, 0, sizeof(*u));
    u->fd = -1;
    u->sq_ring = u->cq_ring = u->sqes = MAP_FAILED;
    /* SUBMIT_ALL: one failing entry must not leave the rest unsubmitted. */
    struct io_uring_params p = {.flags = IORING_SETUP_SUBMIT_ALL};
    u->fd = sys_setup(entries, &p);
    if (u->fd < 0)
        return -1; /* ENOSYS, EPERM (seccomp, io_uring_disabled) or EINVAL (before 5.18) */
    if (!(p.features & IORING_FEAT_NODROP)) {
        uring_close(u);
        errno = ENOSYS;
        return -1;
    }
    if (map_rings(u, &p) < 0) {
        int saved = errno;
        uring_close(u);
        errno = saved;
        return -1;
    }
    return 0;
}

void uring_close(struct uring *u)
{
    if (u->sqes != MAP_FAILED)
        munmap(u->sqes, u->sqes_size);
    if (u->cq_ring != MAP_FAILED)
        munmap(u->cq_ring, u->cq_ring_size);
    if (u->sq_ring != MAP_FAILED)
        munmap(u->sq_ring, u->sq_ring_size);
    if (u->fd >= 0)
        close(u->fd);
    u->fd = -1;
    u->sq_ring = u->cq_ring = u->sqes = MAP_FAILED;
}

unsigned uring_room(const struct uring *u)
{
    return u->sq_entries - u->queued - u->inflight;
}

struct io_uring_sqe *uring_sqe(struct uring *u)
{
    if (uring_room(u) == 0)
        return NULL;
    struct io_uring_sqe *sqe = &u->sqes[(*u->sq_tail + u->queued) & *u->sq_mask];
    memset(sqe, 0, sizeof(*sqe));
    u->queued++;
    return sqe;
}

void uring_withdraw(struct io_uring_sqe *sqe)
{
    __u64 id = sqe->user_data;
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = IORING_OP_NOP;
    sqe->user_data = id;
}

static unsigned cq_ready(const struct uring *u)
{
    return __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE) - *u->cq_head;
}

/* Hands the queued entries to the kernel. Returns 0, or -1 with errno when
 * it took fewer: the rest are withdrawn (never run), those taken still run. */
static int submit_queued(struct uring *u, unsigned wait)
{
    unsigned n = u->queued;
    __atomic_store_n(u->sq_tail, *u->sq_tail + n, __ATOMIC_RELEASE);
    int r;
    do
        r = sys_enter(u->fd, n, wait, IORING_ENTER_GETEVENTS);
    while (r < 0 && errno == EINTR);
    unsigned taken = r < 0 ? 0 : (unsigned)r;
    u->queued = 0;
    u->inflight += taken;
    if (taken == n)
        return 0;
    /* Without SQPOLL the kernel reads the tail only inside io_uring_enter:
     * moving it back withdraws what it did not take. */
    __atomic_store_n(u->sq_tail, *u->sq_tail - (n - taken), __ATOMIC_RELEASE);
    if (r >= 0)
        errno = EAGAIN; /* out of kernel memory for requests */
    return -1;
}

/* Waits until everything taken has completed. Entries flagged MSG_DONTWAIT
 * complete inside the submit, so this rarely waits; it must not return
 * early: the kernel would still hold our buffers. */
static void wait_inflight(struct uring *u)
{
    while (cq_ready(u) < u->inflight) {
        int r = sys_enter(u->fd, 0, u->inflight - cq_ready(u), IORING_ENTER_GETEVENTS);
        if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EBUSY)
            abort(); /* a ring that cannot be waited on: better a respawned worker */
    }
}

int uring_submit_all(struct uring *u)
{
    int rc = u->queued ? submit_queued(u, u->queued + u->inflight) : 0;
    wait_inflight(u);
    return rc;
}

int uring_next(struct uring *u, struct io_uring_cqe *cqe)
{
    if (cq_ready(u) == 0)
        return 0;
    unsigned head = *u->cq_head;
    *cqe = u->cqes[head & *u->cq_mask];
    __atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
    u->inflight--;
    return 1;
}

/* One read on an empty socket, submitted without waiting: it must already
 * have completed, with -EAGAIN, when the submit returns. */
static int probe_empty_read(struct uring *u, int fd)
{
    static char byte; /* a parked read may still land here after we return */
    struct io_uring_sqe *sqe = uring_sqe(u);
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = fd;
    sqe->addr = (unsigned long)&byte;
    sqe->len = 1;
    sqe->msg_flags = MSG_DONTWAIT;
    if (submit_queued(u, 0) < 0)
        return 0;
    struct io_uring_cqe cqe;
    return uring_next(u, &cqe) && cqe.res == -EAGAIN;
}

/* A ring that fails the probe must be closed (a parked read may remain). */
int uring_nowait_works(struct uring *u)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return 0;
    int ok = probe_empty_read(u, sv[0]);
    close(sv[0]);
    close(sv[1]);
    return ok;
}
