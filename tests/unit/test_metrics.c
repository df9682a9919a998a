/* Unit tests for src/metrics.c and src/metrics_text.c: series table, overflow,
 * histogram buckets, label escaping, text rendering of a hand-filled segment. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handler.h"
#include "metrics.h"

static struct metrics_slot *new_slot(struct metrics_index *ix)
{
    struct metrics_slot *s = calloc(1, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    metrics_index_rebuild(ix, s);
    return s;
}

/* ---- histogram buckets ---- */

START_TEST(test_bucket_choice)
{
    ck_assert_uint_eq(metrics_bucket(0), 0);
    ck_assert_uint_eq(metrics_bucket(-1), 0); /* a clock step back */
    ck_assert_uint_eq(metrics_bucket(0.001), 0);
    ck_assert_uint_eq(metrics_bucket(0.005), 0); /* le: the bound itself is inside */
    ck_assert_uint_eq(metrics_bucket(0.0051), 1);
    ck_assert_uint_eq(metrics_bucket(0.01), 1);
    ck_assert_uint_eq(metrics_bucket(0.3), 6);
    ck_assert_uint_eq(metrics_bucket(1), 7);
    ck_assert_uint_eq(metrics_bucket(10), 10);
    ck_assert_uint_eq(metrics_bucket(10.001), METRICS_NBUCKETS - 1);
    ck_assert_uint_eq(metrics_bucket(1e9), METRICS_NBUCKETS - 1);
    ck_assert_uint_eq(metrics_bucket(NAN), METRICS_NBUCKETS - 1);
    for (size_t i = 1; i < METRICS_NBUCKETS - 1; i++)
        ck_assert(metrics_bounds[i - 1] < metrics_bounds[i]);
}
END_TEST

START_TEST(test_observe)
{
    struct metrics_series e = {0};
    metrics_observe(&e, 0.002);
    metrics_observe(&e, 0.002);
    metrics_observe(&e, 3.0);
    metrics_observe(&e, -0.5); /* counted, adds nothing to the sum */
    ck_assert_uint_eq(e.buckets[0], 3);
    ck_assert_uint_eq(e.buckets[metrics_bucket(3.0)], 1);
    ck_assert_uint_eq(e.sum_ns, 3004000000ULL);
}
END_TEST

/* ---- series lookup and insert ---- */

START_TEST(test_series_lookup_insert)
{
    struct metrics_index ix;
    struct metrics_slot *s = new_slot(&ix);
    struct metrics_series *a = metrics_slot_series(s, &ix, "GET /a", 200);
    ck_assert_str_eq(a->label, "GET /a");
    ck_assert_uint_eq(a->code, 200);
    ck_assert_uint_eq(s->nseries, 1);
    ck_assert_ptr_eq(metrics_slot_series(s, &ix, "GET /a", 200), a);
    struct metrics_series *a404 = metrics_slot_series(s, &ix, "GET /a", 404);
    struct metrics_series *b = metrics_slot_series(s, &ix, "GET /b", 200);
    ck_assert_ptr_ne(a404, a);
    ck_assert_ptr_ne(b, a);
    ck_assert_uint_eq(s->nseries, 3);
    ck_assert_ptr_eq(metrics_slot_series(s, &ix, "GET /b", 200), b);
    ck_assert_uint_eq(s->nseries, 3);
    free(s);
}
END_TEST

/* A respawned worker rebuilds its index from the slot and finds the same series. */
START_TEST(test_series_survive_rebind)
{
    struct metrics_index ix, again;
    struct metrics_slot *s = new_slot(&ix);
    char label[32];
    for (int i = 0; i < 300; i++) {
        snprintf(label, sizeof(label), "GET /r%d", i);
        metrics_observe(metrics_slot_series(s, &ix, label, 200), 0.001);
    }
    metrics_index_rebuild(&again, s);
    for (int i = 0; i < 300; i++) {
        snprintf(label, sizeof(label), "GET /r%d", i);
        struct metrics_series *e = metrics_slot_series(s, &again, label, 200);
        ck_assert_ptr_eq(e, &s->series[i]);
        ck_assert_uint_eq(e->buckets[0], 1);
    }
    ck_assert_uint_eq(s->nseries, 300);
    free(s);
}
END_TEST

START_TEST(test_long_label_is_other)
{
    struct metrics_index ix;
    struct metrics_slot *s = new_slot(&ix);
    char label[METRICS_LABEL_MAX + 10];
    memset(label, 'x', sizeof(label) - 1);
    label[sizeof(label) - 1] = 0;
    struct metrics_series *e = metrics_slot_series(s, &ix, label, 200);
    ck_assert_str_eq(e->label, METRICS_OTHER);
    ck_assert_uint_eq(e->code, 200);
    label[METRICS_LABEL_MAX - 1] = 0; /* the longest that fits */
    e = metrics_slot_series(s, &ix, label, 200);
    ck_assert_str_eq(e->label, label);
    free(s);
}
END_TEST

START_TEST(test_overflow)
{
    struct metrics_index ix;
    struct metrics_slot *s = new_slot(&ix);
    char label[32];
    const unsigned regular = METRICS_MAX_SERIES - METRICS_OTHER_RESERVE;
    for (unsigned i = 0; i < regular; i++) {
        snprintf(label, sizeof(label), "GET /r%u", i);
        ck_assert_str_eq(metrics_slot_series(s, &ix, label, 200)->label, label);
    }
    ck_assert_uint_eq(s->nseries, regular);
    /* Known series still count as themselves. */
    ck_assert_str_eq(metrics_slot_series(s, &ix, "GET /r7", 200)->label, "GET /r7");
    ck_assert_str_eq(metrics_slot_series(s, &ix, "GET /r7", 200)->label, "GET /r7");
    /* New ones go to "(other)" with their status. */
    struct metrics_series *o200 = metrics_slot_series(s, &ix, "GET /new", 200);
    ck_assert_str_eq(o200->label, METRICS_OTHER);
    ck_assert_uint_eq(o200->code, 200);
    ck_assert_ptr_eq(metrics_slot_series(s, &ix, "GET /newer", 200), o200);
    ck_assert_uint_eq(s->nseries, regular + 1);
    /* The reserve fills with statuses, then one catch-all takes the rest. */
    unsigned code = 300;
    while (s->nseries < METRICS_MAX_SERIES - 1) {
        struct metrics_series *e = metrics_slot_series(s, &ix, "GET /new", code);
        ck_assert_str_eq(e->label, METRICS_OTHER);
        ck_assert_uint_eq(e->code, code);
        code++;
    }
    struct metrics_series *all = metrics_slot_series(s, &ix, "GET /new", code);
    ck_assert_str_eq(all->label, METRICS_OTHER);
    ck_assert_uint_eq(all->code, 0);
    ck_assert_ptr_eq(all, &s->series[METRICS_MAX_SERIES - 1]);
    ck_assert_uint_eq(s->nseries, METRICS_MAX_SERIES);
    ck_assert_ptr_eq(metrics_slot_series(s, &ix, "GET /other", 599), all);
    ck_assert_ptr_eq(metrics_slot_series(s, &ix, METRICS_OTHER, 777), all);
    ck_assert_ptr_eq(metrics_slot_series(s, &ix, METRICS_OTHER, 200), o200);
    ck_assert_str_eq(metrics_slot_series(s, &ix, "GET /r0", 200)->label, "GET /r0");
    ck_assert_uint_eq(s->nseries, METRICS_MAX_SERIES);
    free(s);
}
END_TEST

/* ---- text ---- */

START_TEST(test_escape_label)
{
    struct buf b = {0};
    metrics_escape_label(&b, "GET /a\\b\"c\nd {x}");
    buf_putc(&b, 0);
    ck_assert_str_eq(b.data, "GET /a\\\\b\\\"c\\nd {x}");
    buf_free(&b);
}
END_TEST

static const char *line_after(const char *text, const char *line, const char *after)
{
    const char *p = strstr(text, line);
    ck_assert_msg(p != NULL, "missing line `%s` in:\n%s", line, text);
    ck_assert_msg(p == text || p[-1] == '\n', "`%s` is not a whole line", line);
    ck_assert_msg(!after || p > after, "`%s` out of order in:\n%s", line, text);
    return p;
}

START_TEST(test_render)
{
    const size_t nslots = 3;
    struct metrics_segment *seg = calloc(1, metrics_segment_size(nslots));
    ck_assert_ptr_nonnull(seg);
    seg->nslots = (uint32_t)nslots;
    seg->slots_used = 3;
    seg->workers = 2;
    seg->reloads_ok = 2;
    seg->reloads_failed = 1;
    seg->worker_restarts = 3;
    struct metrics_index ix;
    /* worker 0 */
    metrics_index_rebuild(&ix, &seg->slots[0]);
    metrics_observe(metrics_slot_series(&seg->slots[0], &ix, "GET /a/{x}", 200), 0.001);
    metrics_observe(metrics_slot_series(&seg->slots[0], &ix, "GET /a/{x}", 200), 0.2);
    metrics_observe(metrics_slot_series(&seg->slots[0], &ix, "GET /q\"\\", 200), 0.001);
    /* worker 2: retired, its counts still add up */
    metrics_index_rebuild(&ix, &seg->slots[2]);
    metrics_observe(metrics_slot_series(&seg->slots[2], &ix, METRICS_NO_ROUTE, 404), 0);
    metrics_observe(metrics_slot_series(&seg->slots[2], &ix, "GET /a/{x}", 500), 20);
    metrics_observe(metrics_slot_series(&seg->slots[2], &ix, "GET /a/{x}", 200), 0.003);
    long conns[2] = {4, 0};
    struct buf b = {0};
    metrics_render(seg, conns, 2, &b);
    buf_putc(&b, 0);
    const char *t = b.data, *p;

    p = line_after(t, "# HELP yhttpd_requests_total ", NULL);
    p = line_after(t, "# TYPE yhttpd_requests_total counter\n", p);
    p = line_after(t, "yhttpd_requests_total{route=\"(none)\",code=\"404\"} 1\n", p);
    p = line_after(t, "yhttpd_requests_total{route=\"GET /a/{x}\",code=\"200\"} 3\n", p);
    p = line_after(t, "yhttpd_requests_total{route=\"GET /a/{x}\",code=\"500\"} 1\n", p);
    p = line_after(t, "yhttpd_requests_total{route=\"GET /q\\\"\\\\\",code=\"200\"} 1\n", p);

    p = line_after(t, "# TYPE yhttpd_request_duration_seconds histogram\n", p);
    const char *h = "yhttpd_request_duration_seconds";
    char want[200];
    p = line_after(t, "yhttpd_request_duration_seconds_count{route=\"(none)\"} 1\n", p);
    static const unsigned cumulative[METRICS_NBUCKETS] = {2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4};
    for (size_t i = 0; i < METRICS_NBUCKETS; i++) {
        if (i < METRICS_NBUCKETS - 1)
            snprintf(want, sizeof(want), "%s_bucket{route=\"GET /a/{x}\",le=\"%g\"} %u\n", h,
                     metrics_bounds[i], cumulative[i]);
        else
            snprintf(want, sizeof(want), "%s_bucket{route=\"GET /a/{x}\",le=\"+Inf\"} %u\n", h,
                     cumulative[i]);
        p = line_after(t, want, p);
    }
    line_after(t, "yhttpd_request_duration_seconds_bucket{route=\"GET /a/{x}\",le=\"0.005\"} 2\n",
               NULL);
    line_after(t, "yhttpd_request_duration_seconds_bucket{route=\"GET /a/{x}\",le=\"2.5\"} 3\n",
               NULL);
    p = line_after(t, "yhttpd_request_duration_seconds_sum{route=\"GET /a/{x}\"} 20.204000000\n",
                   p);
    p = line_after(t, "yhttpd_request_duration_seconds_count{route=\"GET /a/{x}\"} 4\n", p);
    p = line_after(t, "yhttpd_request_duration_seconds_count{route=\"GET /q\\\"\\\\\"} 1\n", p);

    p = line_after(t, "# TYPE yhttpd_connections gauge\n", p);
    p = line_after(t, "yhttpd_connections{worker=\"0\"} 4\n", p);
    p = line_after(t, "yhttpd_connections{worker=\"1\"} 0\n", p);
    ck_assert_ptr_null(strstr(t, "worker=\"2\""));
    p = line_after(t, "# TYPE yhttpd_reloads_total counter\n", p);
    p = line_after(t, "yhttpd_reloads_total{result=\"ok\"} 2\n", p);
    p = line_after(t, "yhttpd_reloads_total{result=\"failed\"} 1\n", p);
    p = line_after(t, "# TYPE yhttpd_worker_restarts_total counter\n", p);
    p = line_after(t, "yhttpd_worker_restarts_total 3\n", p);
    ck_assert_str_eq(p + strlen("yhttpd_worker_restarts_total 3\n"), "");
    /* Each of the five metrics has its HELP and TYPE lines. */
    int helps = 0, types = 0;
    for (const char *q = t; (q = strstr(q, "\n# ")); q++) {
        helps += strncmp(q, "\n# HELP ", 8) == 0;
        types += strncmp(q, "\n# TYPE ", 8) == 0;
    }
    ck_assert_int_eq(helps + (strncmp(t, "# HELP ", 7) == 0), 5);
    ck_assert_int_eq(types, 5);
    buf_free(&b);
    free(seg);
}
END_TEST

START_TEST(test_render_empty)
{
    struct metrics_segment *seg = calloc(1, metrics_segment_size(1));
    ck_assert_ptr_nonnull(seg);
    seg->nslots = 1;
    struct buf b = {0};
    metrics_render(seg, NULL, 0, &b);
    buf_putc(&b, 0);
    line_after(b.data, "# TYPE yhttpd_requests_total counter\n", NULL);
    line_after(b.data, "yhttpd_reloads_total{result=\"ok\"} 0\n", NULL);
    line_after(b.data, "yhttpd_worker_restarts_total 0\n", NULL);
    ck_assert_ptr_null(strstr(b.data, "route="));
    buf_free(&b);
    free(seg);
}
END_TEST

/* ---- the route (its errors are in test_config.c) ---- */

START_TEST(test_route_config)
{
    static const char yaml[] = "routes:\n"
                               "  - GET /metrics: {metrics: {}, headers: {X-A: b}}\n";
    struct buf err = {0};
    struct config *cfg = config_load_bytes("t.yaml", yaml, sizeof(yaml) - 1, &err);
    ck_assert_msg(cfg != NULL, "%.*s", (int)err.len, err.data);
    ck_assert_uint_eq(cfg->nroutes, 1);
    ck_assert_str_eq(cfg->routes[0].kind->name, "metrics");
    ck_assert_ptr_eq(cfg->routes[0].kind, handler_find("metrics"));
    ck_assert_int_eq(handler_is_planned("metrics"), 0);
    config_unref(cfg);
    buf_free(&err);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bucket_choice);
    tcase_add_test(tc, test_observe);
    tcase_add_test(tc, test_series_lookup_insert);
    tcase_add_test(tc, test_series_survive_rebind);
    tcase_add_test(tc, test_long_label_is_other);
    tcase_add_test(tc, test_overflow);
    tcase_add_test(tc, test_escape_label);
    tcase_add_test(tc, test_render);
    tcase_add_test(tc, test_render_empty);
    tcase_add_test(tc, test_route_config);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(metrics_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
