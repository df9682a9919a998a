/* Unit tests for src/uring.c: the synchronous use of io_uring the batch relies
 * on (every entry has completed when uring_submit_all returns, and
 * MSG_DONTWAIT entries come back with -EAGAIN instead of waiting). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uring.h"

static struct uring ring;

static void setup(void)
{
    ck_assert_int_eq(uring_open(&ring, 16), 0);
}

static void teardown(void)
{
    uring_close(&ring);
}

static void pair(int sv[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

static void queue_recv(int fd, char *buf, unsigned len, unsigned long id)
{
    struct io_uring_sqe *sqe = uring_sqe(&ring);
    ck_assert_ptr_nonnull(sqe);
    sqe->opcode = IORING_OP_RECV;
    sqe->fd = fd;
    sqe->addr = (unsigned long)buf;
    sqe->len = len;
    sqe->msg_flags = MSG_DONTWAIT;
    sqe->user_data = id;
}

static void queue_sendmsg(int fd, struct msghdr *msg, unsigned long id)
{
    struct io_uring_sqe *sqe = uring_sqe(&ring);
    ck_assert_ptr_nonnull(sqe);
    sqe->opcode = IORING_OP_SENDMSG;
    sqe->fd = fd;
    sqe->addr = (unsigned long)msg;
    sqe->len = 1;
    sqe->msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
    sqe->user_data = id;
}

/* Takes every completion; res[id] gets its result. Returns how many. */
static int take_all(int *res, int nres)
{
    struct io_uring_cqe cqe;
    int n = 0;
    while (uring_next(&ring, &cqe)) {
        ck_assert_uint_lt(cqe.user_data, (unsigned long)nres);
        res[cqe.user_data] = cqe.res;
        n++;
    }
    return n;
}

START_TEST(test_probe_accepts_this_kernel)
{
    ck_assert_int_eq(uring_nowait_works(&ring), 1);
    ck_assert_uint_eq(uring_room(&ring), 16); /* the probe left nothing behind */
}
END_TEST

START_TEST(test_reads_complete_in_one_submit)
{
    int a[2], b[2], c[2];
    pair(a);
    pair(b);
    pair(c);
    ck_assert_int_eq(write(a[1], "hello", 5), 5);
    ck_assert_int_eq(write(c[1], "GET / HTTP/1.1\r\n\r\n", 18), 18);
    char ba[64], bb[64], bc[64];
    queue_recv(a[0], ba, sizeof(ba), 0);
    queue_recv(b[0], bb, sizeof(bb), 1); /* nothing to read */
    queue_recv(c[0], bc, sizeof(bc), 2);
    ck_assert_uint_eq(uring_room(&ring), 13);
    ck_assert_int_eq(uring_submit_all(&ring), 0);
    int res[3] = {99, 99, 99};
    ck_assert_int_eq(take_all(res, 3), 3);
    ck_assert_int_eq(res[0], 5);
    ck_assert_int_eq(res[1], -EAGAIN); /* not parked until data comes */
    ck_assert_int_eq(res[2], 18);
    ck_assert_mem_eq(ba, "hello", 5);
    ck_assert_mem_eq(bc, "GET / HTTP/1.1\r\n\r\n", 18);
    ck_assert_uint_eq(uring_room(&ring), 16);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
        close(c[i]);
    }
}
END_TEST

START_TEST(test_sendmsg_gathers_iovecs)
{
    int a[2];
    pair(a);
    struct iovec iov[3] = {{"HTTP/1.1 200 OK\r\n", 17}, {"\r\n", 2}, {"body", 4}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
    queue_sendmsg(a[0], &msg, 0);
    ck_assert_int_eq(uring_submit_all(&ring), 0);
    int res[1];
    ck_assert_int_eq(take_all(res, 1), 1);
    ck_assert_int_eq(res[0], 23);
    char got[64];
    ck_assert_int_eq(read(a[1], got, sizeof(got)), 23);
    ck_assert_mem_eq(got, "HTTP/1.1 200 OK\r\n\r\nbody", 23);
    close(a[0]);
    close(a[1]);
}
END_TEST

START_TEST(test_full_socket_gives_eagain)
{
    int a[2];
    pair(a);
    int small = 4096;
    setsockopt(a[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    fcntl(a[0], F_SETFL, O_NONBLOCK);
    static char chunk[65536];
    while (write(a[0], chunk, sizeof(chunk)) > 0)
        ;
    ck_assert_int_eq(errno, EAGAIN);
    struct iovec iov = {chunk, sizeof(chunk)};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    queue_sendmsg(a[0], &msg, 0);
    ck_assert_int_eq(uring_submit_all(&ring), 0); /* returns: the peer never reads */
    int res[1];
    ck_assert_int_eq(take_all(res, 1), 1);
    ck_assert_int_eq(res[0], -EAGAIN);
    close(a[0]);
    close(a[1]);
}
END_TEST

START_TEST(test_dead_peer_and_withdrawn_entry)
{
    int a[2], b[2];
    pair(a);
    pair(b);
    close(a[1]);
    struct iovec iov = {"x", 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    queue_sendmsg(a[0], &msg, 0);
    /* An entry turned into a no-op before the submit (a connection closed
     * after queueing) sends nothing and still completes. */
    queue_sendmsg(b[0], &msg, 1);
    uring_withdraw(&ring.sqes[(*ring.sq_tail + 1) & *ring.sq_mask]);
    ck_assert_int_eq(uring_submit_all(&ring), 0);
    int res[2] = {99, 99};
    ck_assert_int_eq(take_all(res, 2), 2);
    ck_assert_int_eq(res[0], -EPIPE);
    ck_assert_int_eq(res[1], 0);
    char got;
    fcntl(b[1], F_SETFL, O_NONBLOCK);
    ck_assert_int_eq(read(b[1], &got, 1), -1); /* nothing arrived */
    close(a[0]);
    close(b[0]);
    close(b[1]);
}
END_TEST

START_TEST(test_full_ring_refuses_entries)
{
    char buf[8];
    int a[2];
    pair(a);
    for (int i = 0; i < 16; i++)
        queue_recv(a[0], buf, sizeof(buf), (unsigned long)i);
    ck_assert_uint_eq(uring_room(&ring), 0);
    ck_assert_ptr_null(uring_sqe(&ring));
    ck_assert_int_eq(uring_submit_all(&ring), 0);
    ck_assert_uint_eq(uring_room(&ring), 0); /* completions not taken yet */
    int res[16];
    ck_assert_int_eq(take_all(res, 16), 16);
    ck_assert_uint_eq(uring_room(&ring), 16);
    close(a[0]);
    close(a[1]);
}
END_TEST

START_TEST(test_refused_submit_withdraws_entries)
{
    int a[2];
    pair(a);
    ck_assert_int_eq(write(a[1], "abc", 3), 3);
    char buf[8];
    queue_recv(a[0], buf, sizeof(buf), 0);
    queue_recv(a[0], buf, sizeof(buf), 1);
    int fd = ring.fd;
    ring.fd = -1; /* the kernel refuses the submit (EBADF) */
    ck_assert_int_eq(uring_submit_all(&ring), -1);
    ring.fd = fd;
    int res[2] = {99, 99};
    ck_assert_int_eq(take_all(res, 2), 0); /* nothing ran */
    ck_assert_uint_eq(uring_room(&ring), 16);
    /* The ring is consistent: the next submit runs only what is queued now. */
    queue_recv(a[0], buf, sizeof(buf), 1);
    ck_assert_int_eq(uring_submit_all(&ring), 0);
    ck_assert_int_eq(take_all(res, 2), 1);
    ck_assert_int_eq(res[0], 99);
    ck_assert_int_eq(res[1], 3);
    close(a[0]);
    close(a[1]);
}
END_TEST

static Suite *uring_suite(void)
{
    Suite *s = suite_create("uring");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_probe_accepts_this_kernel);
    tcase_add_test(tc, test_reads_complete_in_one_submit);
    tcase_add_test(tc, test_sendmsg_gathers_iovecs);
    tcase_add_test(tc, test_full_socket_gives_eagain);
    tcase_add_test(tc, test_dead_peer_and_withdrawn_entry);
    tcase_add_test(tc, test_full_ring_refuses_entries);
    tcase_add_test(tc, test_refused_submit_withdraws_entries);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    struct uring probe;
    if (uring_open(&probe, 4) < 0) {
        /* Containers often forbid io_uring; yhttpd then uses plain calls. */
        printf("SKIP: io_uring unavailable here: %s\n", strerror(errno));
        return 77;
    }
    uring_close(&probe);
    SRunner *sr = srunner_create(uring_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
