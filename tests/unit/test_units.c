/* Unit tests for src/units.c: size and duration parsing. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "units.h"

struct valid_case {
    const char *in;
    uint64_t want;
};

static const struct valid_case valid_sizes[] = {
    {"0", 0},
    {"1", 1},
    {"512", 512},
    {"007", 7},
    {"8k", 8192},
    {"8K", 8192},
    {"8kb", 8192},
    {"8KB", 8192},
    {"8KiB", 8192},
    {"8kib", 8192},
    {"0k", 0},
    {"1m", 1048576},
    {"1M", 1048576},
    {"1MiB", 1048576},
    {"1mb", 1048576},
    {"2g", 2147483648ULL},
    {"2G", 2147483648ULL},
    {"2GiB", 2147483648ULL},
    {"2gb", 2147483648ULL},
    {"18446744073709551615", UINT64_MAX},
    /* The largest multiples that still fit. */
    {"18014398509481983k", 18014398509481983ULL * 1024},
    {"17179869183g", 17179869183ULL << 30},
};

static const char *const invalid_sizes[] = {
    "",
    "k",
    "KiB",
    "-1",
    "+1",
    "1.5k",
    "0.5",
    "1e3",
    " 8k",
    "8k ",
    "8 k",
    "8\tk",
    "8x",
    "8t",
    "8TiB",
    "8kk",
    "8kibb",
    "8ki",
    "8mi",
    "8b",
    "8i",
    "0x10",
    "8k8",
    "1,024",
    "18446744073709551616",    /* UINT64_MAX + 1 */
    "99999999999999999999999", /* far past it */
    "18014398509481984k",      /* 2^54 KiB = 2^64 */
    "17592186044416m",         /* 2^44 MiB = 2^64 */
    "17179869184g",            /* 2^34 GiB = 2^64 */
    "18446744073709551615k",   /* fits before scaling, not after */
};

START_TEST(test_size_valid)
{
    const struct valid_case *c = &valid_sizes[_i];
    uint64_t v = 12345;
    ck_assert_msg(parse_size(c->in, &v) == 0, "parse_size(\"%s\") failed", c->in);
    ck_assert_msg(v == c->want, "parse_size(\"%s\") = %llu, want %llu", c->in,
                  (unsigned long long)v, (unsigned long long)c->want);
}
END_TEST

START_TEST(test_size_invalid)
{
    const char *in = invalid_sizes[_i];
    uint64_t v = 12345;
    ck_assert_msg(parse_size(in, &v) == -1, "parse_size(\"%s\") should fail", in);
    ck_assert_msg(v == 12345, "parse_size(\"%s\") wrote %llu on failure", in,
                  (unsigned long long)v);
}
END_TEST

static const struct valid_case valid_durations[] = {
    {"0", 0},
    {"30", 30000},
    {"0ms", 0},
    {"1ms", 1},
    {"250ms", 250},
    {"1500ms", 1500},
    {"10s", 10000},
    {"5m", 300000},
    {"1h", 3600000},
    {"1d", 86400000},
    {"7d", 604800000},
    {"090s", 90000},
    {"18446744073709551615ms", UINT64_MAX},
    {"18446744073709551s", 18446744073709551000ULL},
    {"18446744073709551", 18446744073709551000ULL},
};

static const char *const invalid_durations[] = {
    "",
    "s",
    "ms",
    "-1s",
    "+1s",
    "1.5s",
    "0.5",
    " 10s",
    "10s ",
    "10 s",
    "10S",
    "5M",
    "1H",
    "10sec",
    "10us",
    "10ns",
    "1w",
    "1y",
    "10mss",
    "1h30m",
    "10x",
    "18446744073709551616ms", /* UINT64_MAX + 1 */
    "18446744073709552s",     /* overflows once scaled to ms */
    "18446744073709552",      /* bare seconds, same */
    "307445734561826m",
    "5124095576031h",
    "213503982335d",
};

START_TEST(test_duration_valid)
{
    const struct valid_case *c = &valid_durations[_i];
    uint64_t v = 12345;
    ck_assert_msg(parse_duration(c->in, &v) == 0, "parse_duration(\"%s\") failed", c->in);
    ck_assert_msg(v == c->want, "parse_duration(\"%s\") = %llu, want %llu", c->in,
                  (unsigned long long)v, (unsigned long long)c->want);
}
END_TEST

START_TEST(test_duration_invalid)
{
    const char *in = invalid_durations[_i];
    uint64_t v = 12345;
    ck_assert_msg(parse_duration(in, &v) == -1, "parse_duration(\"%s\") should fail", in);
    ck_assert_msg(v == 12345, "parse_duration(\"%s\") wrote %llu on failure", in,
                  (unsigned long long)v);
}
END_TEST

START_TEST(test_overflow_boundaries)
{
    /* Each unit's largest value fits; one more overflows. */
    uint64_t v;
    ck_assert_int_eq(parse_duration("307445734561825m", &v), 0);
    ck_assert_uint_eq(v, 307445734561825ULL * 60000);
    ck_assert_int_eq(parse_duration("5124095576030h", &v), 0);
    ck_assert_uint_eq(v, 5124095576030ULL * 3600000);
    ck_assert_int_eq(parse_duration("213503982334d", &v), 0);
    ck_assert_uint_eq(v, 213503982334ULL * 86400000);
    ck_assert_int_eq(parse_size("17592186044415m", &v), 0);
    ck_assert_uint_eq(v, 17592186044415ULL << 20);
}
END_TEST

START_TEST(test_null_input)
{
    uint64_t v;
    ck_assert_int_eq(parse_size(NULL, &v), -1);
    ck_assert_int_eq(parse_duration(NULL, &v), -1);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *units_suite(void)
{
    Suite *s = suite_create("units");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_size_valid, 0, N(valid_sizes));
    tcase_add_loop_test(tc, test_size_invalid, 0, N(invalid_sizes));
    tcase_add_loop_test(tc, test_duration_valid, 0, N(valid_durations));
    tcase_add_loop_test(tc, test_duration_invalid, 0, N(invalid_durations));
    tcase_add_test(tc, test_overflow_boundaries);
    tcase_add_test(tc, test_null_input);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(units_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
