/* Unit tests for src/jsonval.c: which upstream answers gather embeds as JSON. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "jsonval.h"

struct json_case {
    const char *text;
    int valid;
};

static const struct json_case cases[] = {
    {"{}", 1},
    {"[]", 1},
    {" {\"a\": [1, 2.5, -3e+2, true, false, null, \"x\\u00e9\\n\"]} \n", 1},
    {"\"just a string\"", 1},
    {"0", 1},
    {"-0.0e-7", 1},
    {"null", 1},
    {"{\"a\":{\"b\":{\"c\":[[]]}}}", 1},
    {"", 0},
    {"   ", 0},
    {"plain text\n", 0},
    {"{", 0},
    {"{\"a\" 1}", 0},
    {"{\"a\":1,}", 0},
    {"[1,]", 0},
    {"[1 2]", 0},
    {"{a:1}", 0},
    {"01", 0},
    {"1.", 0},
    {".5", 0},
    {"1e", 0},
    {"+1", 0},
    {"tru", 0},
    {"nulll", 0},
    {"\"unterminated", 0},
    {"\"bad \\x escape\"", 0},
    {"\"bad \\u12 escape\"", 0},
    {"\"raw\ttab\"", 0},
    {"{} {}", 0},
    {"[1]]", 0},
    {"'single'", 0},
};

START_TEST(test_case)
{
    const struct json_case *c = &cases[_i];
    ck_assert_msg(json_valid(c->text, strlen(c->text)) == c->valid, "case %d `%s`: want %d", _i,
                  c->text, c->valid);
}
END_TEST

/* Lengths are honoured: no reading past n, embedded NULs are not JSON. */
START_TEST(test_length_bounds)
{
    ck_assert_int_eq(json_valid("[1]garbage", 3), 1);
    ck_assert_int_eq(json_valid("[1]", 2), 0);
    ck_assert_int_eq(json_valid("\"a\0b\"", 5), 0);
    ck_assert_int_eq(json_valid("\"ab\\", 4), 0);
    ck_assert_int_eq(json_valid("\"\\u00", 5), 0);
}
END_TEST

static char *nested(int depth)
{
    char *s = malloc((size_t)depth * 2 + 1);
    memset(s, '[', (size_t)depth);
    memset(s + depth, ']', (size_t)depth);
    s[depth * 2] = '\0';
    return s;
}

/* Depth is bounded so a hostile upstream cannot exhaust the stack. */
START_TEST(test_depth_limit)
{
    char *ok = nested(JSON_MAX_DEPTH);
    char *deep = nested(100000);
    ck_assert_int_eq(json_valid(ok, strlen(ok)), 1);
    ck_assert_int_eq(json_valid(deep, strlen(deep)), 0);
    free(ok);
    free(deep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jsonval");
    TCase *tc = tcase_create("syntax");
    tcase_add_loop_test(tc, test_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_length_bounds);
    tcase_add_test(tc, test_depth_limit);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
