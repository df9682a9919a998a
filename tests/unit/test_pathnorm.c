/* Unit tests for src/pathnorm.c: percent-decoding and dot-segment removal. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pathnorm.h"

struct norm_case {
    const char *in;
    const char *want; /* NULL: path_normalize returns -1 */
};

static const struct norm_case norm_cases[] = {
    /* Already normal. */
    {"/", "/"},
    {"/a", "/a"},
    {"/a/", "/a/"},
    {"/a/b/c", "/a/b/c"},
    {"//", "//"},
    {"/a//b", "/a//b"},
    {"/a/b//", "/a/b//"},
    {"/...", "/..."},
    {"/.a/..b/b..", "/.a/..b/b.."},
    {"/a+b", "/a+b"},
    /* Single dots. */
    {"/.", "/"},
    {"/./", "/"},
    {"/./a", "/a"},
    {"/a/.", "/a/"},
    {"/a/./b", "/a/b"},
    {"/a/./", "/a/"},
    {"/a/././b/.", "/a/b/"},
    /* Double dots. */
    {"/a/..", "/"},
    {"/a/../", "/"},
    {"/a/../b", "/b"},
    {"/a/b/..", "/a/"},
    {"/a/b/../", "/a/"},
    {"/a/b/../c", "/a/c"},
    {"/a/b/c/../../d", "/a/d"},
    {"/a/b/../../c/./d/..", "/c/"},
    {"/a//..", "/a/"},
    {"/a/..//b", "//b"},
    /* RFC 3986 5.4 examples, as absolute paths. */
    {"/b/c/./../../g", "/g"},
    {"/b/c/../../g", "/g"},
    {"/b/c/g/./h/../i", "/b/c/g/i"},
    /* Decoding, either hex case, before dot removal. */
    {"/%41%62", "/Ab"},
    {"/a%2fb", "/a/b"},
    {"/a%2Fb", "/a/b"},
    {"/%20x%7e%7E", "/ x~~"},
    {"/%25", "/%"},
    {"/%2541", "/%41"}, /* decoded once only */
    {"/a/%2e", "/a/"},
    {"/a/%2e%2e/b", "/b"},
    {"/a/%2E%2E/b", "/b"},
    {"/a/.%2e/b", "/b"},
    {"/a%2f..%2fb", "/b"},
    {"/%c3%a9", "/\xc3\xa9"},
    {"/%ff", "/\xff"},
    /* Errors: not absolute. */
    {"", NULL},
    {"a", NULL},
    {"a/b", NULL},
    {"%2fa", NULL},
    {".", NULL},
    /* Errors: malformed escapes. */
    {"/%", NULL},
    {"/%4", NULL},
    {"/a%", NULL},
    {"/%g0", NULL},
    {"/%0g", NULL},
    {"/%%41", NULL},
    {"/% 1", NULL},
    {"/%+1", NULL},
    {"/%-1", NULL},
    /* Errors: NUL. */
    {"/%00", NULL},
    {"/a%00b", NULL},
    /* Errors: climbing above the root. */
    {"/..", NULL},
    {"/../", NULL},
    {"/../a", NULL},
    {"/a/../..", NULL},
    {"/a/../../b", NULL},
    {"/./..", NULL},
    {"/%2e%2e/x", NULL},
    {"/%2E%2e", NULL},
    {"/a/b/../../..", NULL},
};

START_TEST(test_normalize)
{
    const struct norm_case *c = &norm_cases[_i];
    size_t len = strlen(c->in);
    char *out = malloc(len + 1); /* exactly len bytes are promised to suffice */
    ssize_t n = path_normalize(c->in, len, out);
    if (!c->want) {
        ck_assert_msg(n == -1, "`%s` should be rejected, got %zd", c->in, n);
    } else {
        ck_assert_msg(n >= 0, "`%s` rejected", c->in);
        ck_assert_msg((size_t)n == strlen(c->want) && !memcmp(out, c->want, (size_t)n),
                      "`%s` -> `%.*s`, wanted `%s`", c->in, (int)n, out, c->want);
        ck_assert_uint_le((size_t)n, len);
    }
    free(out);
}
END_TEST

START_TEST(test_normalize_not_terminated)
{
    /* Only len bytes are read; a raw NUL inside them is rejected too. */
    char out[16];
    ck_assert_int_eq(path_normalize("/a/b/../cXX", 9, out), 4);
    ck_assert(!memcmp(out, "/a/c", 4));
    ck_assert_int_eq(path_normalize("/a\0b", 4, out), -1);
    ck_assert_int_eq(path_normalize("/a/%2", 4, out), -1);
}
END_TEST

struct decode_case {
    const char *in;
    int plus_is_space;
    const char *want; /* NULL: -1 */
};

static const struct decode_case decode_cases[] = {
    {"", 0, ""},           {"abc", 0, "abc"},
    {"a+b", 0, "a+b"},     {"a+b", 1, "a b"},
    {"%2B+", 1, "+ "},     {"%41%4a%4A%7e", 0, "AJJ~"},
    {"100%25", 0, "100%"}, {"%e2%82%ac", 0, "\xe2\x82\xac"},
    {"/a%2Fb", 0, "/a/b"}, {"%", 0, NULL},
    {"%4", 0, NULL},       {"x%", 1, NULL},
    {"%zz", 0, NULL},      {"%4z", 0, NULL},
    {"%z4", 0, NULL},      {"ok%2", 0, NULL},
};

START_TEST(test_decode)
{
    const struct decode_case *c = &decode_cases[_i];
    size_t len = strlen(c->in);
    char *out = malloc(len + 1);
    ssize_t n = percent_decode(c->in, len, out, c->plus_is_space);
    if (!c->want) {
        ck_assert_msg(n == -1, "`%s` should be rejected, got %zd", c->in, n);
    } else {
        ck_assert_msg(n >= 0, "`%s` rejected", c->in);
        ck_assert_msg((size_t)n == strlen(c->want) && !memcmp(out, c->want, (size_t)n),
                      "`%s` -> `%.*s`, wanted `%s`", c->in, (int)n, out, c->want);
    }
    free(out);
}
END_TEST

START_TEST(test_decode_nul)
{
    /* percent_decode itself allows %00 (only paths reject it). */
    char out[4];
    ck_assert_int_eq(percent_decode("a%00", 4, out, 0), 2);
    ck_assert_int_eq(out[1], '\0');
}
END_TEST

START_TEST(test_normalize_long)
{
    /* Many segments and a deep climb back down to the root. */
    enum { DEPTH = 1000 };
    char *in = malloc(DEPTH * 5 + 16), *out = malloc(DEPTH * 5 + 16);
    size_t n = 0;
    for (int i = 0; i < DEPTH; i++)
        n += (size_t)sprintf(in + n, "/a");
    for (int i = 0; i < DEPTH; i++)
        n += (size_t)sprintf(in + n, "/..");
    ck_assert_int_eq(path_normalize(in, n, out), 1);
    ck_assert_int_eq(out[0], '/');
    n += (size_t)sprintf(in + n, "/..");
    ck_assert_int_eq(path_normalize(in, n, out), -1);
    free(in);
    free(out);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *pathnorm_suite(void)
{
    Suite *s = suite_create("pathnorm");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_normalize, 0, N(norm_cases));
    tcase_add_test(tc, test_normalize_not_terminated);
    tcase_add_loop_test(tc, test_decode, 0, N(decode_cases));
    tcase_add_test(tc, test_decode_nul);
    tcase_add_test(tc, test_normalize_long);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pathnorm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
