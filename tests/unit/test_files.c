/* Unit tests for the static-files pieces: ranges, entity tags, dates, MIME
 * types, opening beneath a root, and the open-file cache. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filecache.h"
#include "handlers/files_http.h"
#include "handlers/files_open.h"
#include "mime.h"

#define SPAN(s) ((yh_span){(s), sizeof(s) - 1})
#define N(a)    (sizeof(a) / sizeof((a)[0]))

static const struct {
    const char *value;
    long long size, start, len;
    enum files_range want;
} ranges[] = {
    {"bytes=0-9", 100, 0, 10, RANGE_PARTIAL},
    {"bytes=10-", 100, 10, 90, RANGE_PARTIAL},
    {"bytes=-5", 100, 95, 5, RANGE_PARTIAL},
    {"bytes=-500", 100, 0, 100, RANGE_PARTIAL},
    {"bytes=90-200", 100, 90, 10, RANGE_PARTIAL}, /* clipped */
    {"bytes=99-99", 100, 99, 1, RANGE_PARTIAL},
    {"bytes=100-", 100, 0, 0, RANGE_UNSATISFIABLE},
    {"bytes=100-200", 100, 0, 0, RANGE_UNSATISFIABLE},
    {"bytes=-0", 100, 0, 0, RANGE_UNSATISFIABLE},
    {"bytes=0-0", 0, 0, 0, RANGE_UNSATISFIABLE},
    {"bytes=0-1,4-5", 100, 0, 0, RANGE_WHOLE}, /* several: the whole file */
    {"bytes=5-1", 100, 0, 0, RANGE_WHOLE},     /* malformed: ignored */
    {"bytes=a-b", 100, 0, 0, RANGE_WHOLE},
    {"bytes=-", 100, 0, 0, RANGE_WHOLE},
    {"bytes=1", 100, 0, 0, RANGE_WHOLE},
    {"items=0-1", 100, 0, 0, RANGE_WHOLE},
    {"bytes=+1-2", 100, 0, 0, RANGE_WHOLE},
    {"bytes=99999999999999999999-", 100, 0, 0, RANGE_WHOLE}, /* overflow */
};

START_TEST(test_range)
{
    off_t start = -1, len = -1;
    yh_span v = {ranges[_i].value, strlen(ranges[_i].value)};
    enum files_range got = files_parse_range(v, (off_t)ranges[_i].size, &start, &len);
    ck_assert_msg(got == ranges[_i].want, "%s: got %d", ranges[_i].value, got);
    if (got == RANGE_PARTIAL) {
        ck_assert_int_eq(start, ranges[_i].start);
        ck_assert_int_eq(len, ranges[_i].len);
    }
}
END_TEST

START_TEST(test_etag_matching)
{
    const char *tag = "\"1-2\"";
    ck_assert(files_etag_matches(SPAN("\"1-2\""), tag, 0));
    ck_assert(files_etag_matches(SPAN("\"x\", \"1-2\""), tag, 0));
    ck_assert(files_etag_matches(SPAN("*"), tag, 0));
    ck_assert(files_etag_matches(SPAN("W/\"1-2\""), tag, 1));  /* weak comparison */
    ck_assert(!files_etag_matches(SPAN("W/\"1-2\""), tag, 0)); /* strong refuses weak */
    ck_assert(!files_etag_matches(SPAN("\"1-3\""), tag, 1));
    ck_assert(!files_etag_matches(SPAN("1-2"), tag, 1));
    ck_assert(!files_etag_matches(SPAN(""), tag, 1));
    ck_assert(files_etag_matches(SPAN("\"a,b\", \"1-2\""), tag, 0)); /* comma inside quotes */
}
END_TEST

START_TEST(test_etag_format)
{
    struct stat st = {0};
    char a[64], b[64];
    st.st_size = 10;
    st.st_mtim.tv_sec = 1000;
    files_etag(&st, a, sizeof(a));
    st.st_mtim.tv_nsec = 1;
    files_etag(&st, b, sizeof(b));
    ck_assert(a[0] == '"' && a[strlen(a) - 1] == '"');
    ck_assert_str_ne(a, b); /* a same-second rewrite changes the tag */
}
END_TEST

START_TEST(test_dates)
{
    time_t t;
    ck_assert_int_eq(http_parse_date(SPAN("Sun, 06 Nov 1994 08:49:37 GMT"), &t), 0);
    ck_assert_int_eq(t, 784111777);
    ck_assert_int_eq(http_parse_date(SPAN("Sunday, 06-Nov-94 08:49:37 GMT"), &t), 0);
    ck_assert_int_eq(t, 784111777);
    ck_assert_int_eq(http_parse_date(SPAN("Sun Nov  6 08:49:37 1994"), &t), 0);
    ck_assert_int_eq(t, 784111777);
    ck_assert_int_eq(http_parse_date(SPAN("yesterday"), &t), -1);
    ck_assert_int_eq(http_parse_date(SPAN("Sun, 06 Nov 1994 08:49:37 GMT junk"), &t), -1);
    ck_assert_int_eq(http_parse_date(SPAN(""), &t), -1);
}
END_TEST

START_TEST(test_mime)
{
    ck_assert_str_eq(mime_type_for("index.html"), "text/html; charset=utf-8");
    ck_assert_str_eq(mime_type_for("a/b/INDEX.HTM"), "text/html; charset=utf-8");
    ck_assert_str_eq(mime_type_for("x.css"), "text/css; charset=utf-8");
    ck_assert_str_eq(mime_type_for("x.png"), "image/png");
    ck_assert(strstr(mime_type_for("app.js"), "javascript; charset=utf-8"));
    ck_assert_str_eq(mime_type_for("noext"), "application/octet-stream");
    ck_assert_str_eq(mime_type_for("dir.d/noext"), "application/octet-stream");
    ck_assert_str_eq(mime_type_for("x.unknownext"), "application/octet-stream");
    ck_assert_str_eq(mime_type_for("trailingdot."), "application/octet-stream");
}
END_TEST

static char root[64];

static void make_tree(void)
{
    strcpy(root, "/tmp/yh-files-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(root));
    char p[128];
    snprintf(p, sizeof(p), "%s/sub", root);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/sub/f.txt", root);
    FILE *f = fopen(p, "w");
    fputs("hello", f);
    fclose(f);
    snprintf(p, sizeof(p), "%s/out", root);
    ck_assert_int_eq(symlink("/etc/passwd", p), 0);
    snprintf(p, sizeof(p), "%s/in", root);
    ck_assert_int_eq(symlink("sub/f.txt", p), 0);
    snprintf(p, sizeof(p), "%s/up", root);
    ck_assert_int_eq(symlink("../", p), 0);
}

static void remove_tree(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_open_beneath)
{
    make_tree();
    int rfd = open(root, O_PATH | O_DIRECTORY);
    ck_assert_int_ge(rfd, 0);
    int fd = files_open_beneath(rfd, "sub/f.txt");
    ck_assert_int_ge(fd, 0);
    char b[8] = {0};
    ck_assert_int_eq(read(fd, b, sizeof(b)), 5);
    close(fd);
    ck_assert_int_lt(files_open_beneath(rfd, "out"), 0);           /* leaves the root */
    ck_assert_int_lt(files_open_beneath(rfd, "up/etc/passwd"), 0); /* via a symlink to .. */
    ck_assert_int_lt(files_open_beneath(rfd, "../etc/passwd"), 0);
    ck_assert_int_lt(files_open_beneath(rfd, "sub/../../etc/passwd"), 0);
    ck_assert_int_eq(files_open_beneath(rfd, "missing"), -ENOENT);
    fd = files_open_beneath(rfd, "in"); /* a symlink that stays inside */
    ck_assert_int_ge(fd, 0);
    close(fd);
    fd = files_open_beneath(rfd, ""); /* the root itself */
    ck_assert_int_ge(fd, 0);
    close(fd);
    close(rfd);
    remove_tree();
}
END_TEST

START_TEST(test_dot_components)
{
    ck_assert(files_has_dot_component(".env"));
    ck_assert(files_has_dot_component("a/.git/config"));
    ck_assert(files_has_dot_component("a/b/.hidden"));
    ck_assert(!files_has_dot_component("a/b.c/d.e"));
    ck_assert(!files_has_dot_component(""));
}
END_TEST

START_TEST(test_cache)
{
    static int owner_a, owner_b;
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    struct stat st = {.st_size = 7};
    struct fc_entry *e = fc_put(&owner_a, "k", fds[0], &st, 100.0);
    ck_assert_int_eq(e->fd, fds[0]);
    fc_release(e);
    e = fc_get(&owner_a, "k", 100.5);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->st.st_size, 7);
    ck_assert_ptr_null(fc_get(&owner_b, "k", 100.5));                  /* keyed by owner too */
    ck_assert_ptr_null(fc_get(&owner_a, "k", 100.0 + FC_TTL_SECONDS)); /* expired: evicted */
    /* still referenced: the fd stays open until the release */
    ck_assert_int_ne(fcntl(fds[0], F_GETFD), -1);
    fc_release(e);
    ck_assert_int_eq(fcntl(fds[0], F_GETFD), -1);
    close(fds[1]);
    /* negative entries and forgetting an owner */
    fc_release(fc_put(&owner_b, "gone", -1, NULL, 200.0));
    e = fc_get(&owner_b, "gone", 200.1);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->fd, -1);
    fc_release(e);
    fc_forget_owner(&owner_b);
    ck_assert_ptr_null(fc_get(&owner_b, "gone", 200.2));
}
END_TEST

START_TEST(test_cache_bound)
{
    static int owner;
    char key[32];
    for (int i = 0; i < FC_MAX_ENTRIES + 50; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        fc_release(fc_put(&owner, key, -1, NULL, 1.0));
    }
    ck_assert_ptr_null(fc_get(&owner, "k0", 1.1)); /* the least recently used went first */
    struct fc_entry *e = fc_get(&owner, "k1049", 1.1);
    ck_assert_ptr_nonnull(e);
    fc_release(e);
    fc_forget_owner(&owner);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("files");
    TCase *tc = tcase_create("files");
    tcase_add_loop_test(tc, test_range, 0, N(ranges));
    tcase_add_test(tc, test_etag_matching);
    tcase_add_test(tc, test_etag_format);
    tcase_add_test(tc, test_dates);
    tcase_add_test(tc, test_mime);
    tcase_add_test(tc, test_open_beneath);
    tcase_add_test(tc, test_dot_components);
    tcase_add_test(tc, test_cache);
    tcase_add_test(tc, test_cache_bound);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
