/* Unit tests for src/suggest.c: edit distance and "did you mean". */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"

struct dist_case {
    const char *a, *b;
    size_t want;
};

static const struct dist_case dist_cases[] = {
    {"", "", 0},
    {"abc", "", 3},
    {"", "abc", 3},
    {"body", "body", 0},
    {"bdy", "body", 1},   /* insertion */
    {"boddy", "body", 1}, /* deletion */
    {"bxdy", "body", 1},  /* substitution */
    {"bdoy", "body", 2},  /* transposition is two edits */
    {"kitten", "sitting", 3},
    {"sitting", "kitten", 3}, /* symmetric */
    {"flaw", "lawn", 2},
    {"GET", "get", 3}, /* case-sensitive */
    {"abc", "xyz", 3},
    {"a", "b", 1},
    {"intention", "execution", 5},
};

START_TEST(test_edit_distance)
{
    const struct dist_case *c = &dist_cases[_i];
    size_t d = edit_distance(c->a, c->b);
    ck_assert_msg(d == c->want, "edit_distance(\"%s\", \"%s\") = %zu, want %zu", c->a, c->b, d,
                  c->want);
}
END_TEST

START_TEST(test_edit_distance_long)
{
    /* Longer than the on-stack row: the heap path must agree. */
    char a[301], b[301];
    memset(a, 'a', 300);
    memset(b, 'a', 300);
    a[300] = b[300] = '\0';
    ck_assert_uint_eq(edit_distance(a, b), 0);
    b[0] = 'x';
    b[150] = 'y';
    ck_assert_uint_eq(edit_distance(a, b), 2);
    ck_assert_uint_eq(edit_distance(a, "aaa"), 297);
    ck_assert_uint_eq(edit_distance("", b), 300);
    b[10] = '\0';
    ck_assert_uint_eq(edit_distance(a, b), 291);
}
END_TEST

static const char *const keys[] = {
    "listen", "workers", "user", "group", "pid_file", "server_header", "limits", "routes", NULL,
};

static const char *const fields[] = {"body", "status", "content_type", NULL};

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", NULL};

struct suggest_case {
    const char *word;
    const char *const *candidates;
    const char *want; /* NULL: no suggestion */
};

static const struct suggest_case suggest_cases[] = {
    {"bdy", fields, "body"},
    {"stauts", fields, "status"}, /* 2 edits, limit 6/3 = 2 */
    {"content-type", fields, "content_type"},
    {"contenttype", fields, "content_type"},
    {"lisen", keys, "listen"},
    {"worker", keys, "workers"},
    {"pidfile", keys, "pid_file"},
    {"server-header", keys, "server_header"},
    {"get", methods, "GET"}, /* equal ignoring case beats the limit */
    {"Delete", methods, "DELETE"},
    {"PSOT", methods, NULL}, /* a swap is 2 edits; limit max(1, 4/3) = 1 */
    {"GTE", methods, NULL},
    {"PUTT", methods, "PUT"},
    {"xyz", fields, NULL},
    {"frobnicate", keys, NULL},
    {"ab", fields, NULL},
    {"usr", keys, "user"},
    {"body", fields, "body"}, /* exact */
    {"", fields, NULL},
    {"", (const char *const[]){"x", NULL}, "x"},
    {"x", (const char *const[]){NULL}, NULL},
    /* Ties go to the first candidate. */
    {"cat", (const char *const[]){"bat", "hat", NULL}, "bat"},
    {"cat", (const char *const[]){"hat", "bat", NULL}, "hat"},
    /* The closest wins over an earlier, farther one. */
    {"abcdefghi", (const char *const[]){"abcdefxyz", "abcdefghx", NULL}, "abcdefghx"},
    /* A case-only match beats an earlier one-edit typo... */
    {"get", (const char *const[]){"gat", "GET", NULL}, "GET"},
    /* ...but not an exact match. */
    {"get", (const char *const[]){"GET", "get", NULL}, "get"},
};

START_TEST(test_suggest_closest)
{
    const struct suggest_case *c = &suggest_cases[_i];
    const char *got = suggest_closest(c->word, c->candidates);
    if (!c->want) {
        ck_assert_msg(got == NULL, "suggest(\"%s\") = \"%s\", want none", c->word, got);
        return;
    }
    ck_assert_msg(got != NULL, "suggest(\"%s\") = none, want \"%s\"", c->word, c->want);
    ck_assert_msg(strcmp(got, c->want) == 0, "suggest(\"%s\") = \"%s\", want \"%s\"", c->word, got,
                  c->want);
}
END_TEST

START_TEST(test_suggest_points_into_candidates)
{
    const char *got = suggest_closest("bdy", fields);
    ck_assert_ptr_eq(got, fields[0]);
    ck_assert_ptr_null(suggest_closest("bdy", NULL));
}
END_TEST

START_TEST(test_suggest_limit)
{
    /* The allowed distance is max(1, len/3). */
    const char *const one[] = {"abcdefghi", NULL};
    ck_assert_ptr_nonnull(suggest_closest("abcdefxxx", one)); /* 3 edits, len 9 */
    ck_assert_ptr_null(suggest_closest("abcdexxxx", one));    /* 4 edits */
    const char *const two[] = {"ab", NULL};
    ck_assert_ptr_nonnull(suggest_closest("ax", two)); /* 1 edit, limit 1 */
    ck_assert_ptr_null(suggest_closest("xy", two));
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *suggest_suite(void)
{
    Suite *s = suite_create("suggest");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_edit_distance, 0, N(dist_cases));
    tcase_add_test(tc, test_edit_distance_long);
    tcase_add_loop_test(tc, test_suggest_closest, 0, N(suggest_cases));
    tcase_add_test(tc, test_suggest_points_into_candidates);
    tcase_add_test(tc, test_suggest_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suggest_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
