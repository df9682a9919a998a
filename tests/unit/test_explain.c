/* Unit tests for src/explain.c: route ranking, the reasons, and the report. */
#include <check.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "explain.h"
#include "router.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- ranking: routes in file order, a and b both match one path ---- */

struct rank_case {
    const char *patterns[4];
    int a, b;
    int sign;        /* of explain_rank(a, b) */
    const char *why; /* for sign != 0: the whole reason */
};

static const struct rank_case rank_cases[] = {
    {{"/hello/{name}", "/hello/{name:.*}"},
     0,
     1,
     -1,
     "a regex spanning segments ranks below {name} at segment 2"},
    {{"/hello/{name:.*}", "/hello/{name}"},
     0,
     1,
     1,
     "a regex spanning segments ranks below {name} at segment 2"},
    {{"/hello/bob", "/hello/{name}"}, 1, 0, 1, "{name} ranks below static `bob` at segment 2"},
    {{"/u/{id:[0-9]+}", "/u/{name}"},
     1,
     0,
     1,
     "{name} ranks below a segment regex `{id:[0-9]+}` at segment 2"},
    {{"/f/{name}.txt", "/f/{name}"},
     0,
     1,
     -1,
     "{name} ranks below a segment regex `{name}.txt` at segment 2"},
    {{"/{tail:.*}", "/static"},
     1,
     0,
     -1,
     "a regex spanning segments ranks below static `static` at segment 1"},
    /* the first segment decides, whatever follows */
    {{"/{a}/{b:.*}", "/x/{b:.*}"}, 0, 1, 1, "{a} ranks below static `x` at segment 1"},
    /* two regexes of different shape: the one created first */
    {{"/{a:x+}/z", "/{b:[xy]+}/z"},
     1,
     0,
     1,
     "a segment regex `{b:[xy]+}` ranks below a segment regex `{a:x+}` at segment 1 (among "
     "regexes, file order)"},
    {{"/s/{a:.*}", "/s/{b:.+}"},
     0,
     1,
     -1,
     "a regex spanning segments ranks below a regex spanning segments at segment 2 (among "
     "regexes, file order)"},
    /* a node's place is that of the first route to create it: route 2 shares
     * route 0's regex node, created before route 1's */
    {{"/{a:[0-9]+}/x", "/{b:[a-z0-9]+}/y", "/{c:[0-9]+}/y"},
     2,
     1,
     -1,
     "a segment regex `{b:[a-z0-9]+}` ranks below a segment regex `{c:[0-9]+}` at segment 1 "
     "(among regexes, file order)"},
    /* one trie node: only the methods differ */
    {{"/a/{x}", "/a/{y}"}, 0, 1, 0, NULL},
    {{"/t/{p:.*}", "/t/{q:.*}"}, 0, 1, 0, NULL},
};

static size_t count(const char *const *patterns)
{
    size_t n = 0;
    while (n < 4 && patterns[n])
        n++;
    return n;
}

START_TEST(test_rank)
{
    const struct rank_case *c = &rank_cases[_i];
    size_t n = count(c->patterns);
    struct explain_route routes[4];
    char why[400] = "";
    explain_routes_build(c->patterns, n, routes);
    int d = explain_rank(&routes[c->a], &routes[c->b], why, sizeof(why));
    int sign = d < 0 ? -1 : d > 0;
    explain_routes_free(routes, n);
    ck_assert_msg(sign == c->sign, "case %d: rank %d, want sign %d (%s)", _i, d, c->sign, why);
    if (c->why)
        ck_assert_str_eq(why, c->why);
}
END_TEST

/* ---- the ranking agrees with the router on which route wins ---- */

static const char *const table[] = {
    "/",
    "/a",
    "/a/b",
    "/a/{x}",
    "/a/{x:[0-9]+}",
    "/a/{x}.json",
    "/{p}/b",
    "/{p:[a-z]+}/c",
    "/{tail:.*}",
    "/a/{rest:.+}",
    "/{n:[0-9]+}/b",
    "/a/{y:[a-c]+}",
    "/{q}/{r}/{s}",
    "/a/b/{z:.*}",
};

static const char *const paths[] = {"/",      "/a",    "/a/b", "/a/7",   "/a/x.json",
                                    "/z/b",   "/zz/c", "/1/b", "/a/b/c", "/a/abc",
                                    "/q/r/s", "/a/b/", "/x",   "/a/",    "/a/b/c/d"};

START_TEST(test_rank_agrees_with_router)
{
    size_t n = N(table);
    struct router *r = router_new();
    struct router *one[N(table)];
    for (size_t i = 0; i < n; i++) {
        char err[256];
        ck_assert_int_eq(router_add(r, table[i], ROUTER_ANY_METHOD, (int)i + 1, 1, (void *)table[i],
                                    NULL, err, sizeof(err)),
                         0);
        one[i] = router_new();
        router_add(one[i], table[i], ROUTER_ANY_METHOD, 1, 1, NULL, NULL, NULL, 0);
    }
    struct explain_route routes[N(table)];
    explain_routes_build(table, n, routes);
    for (size_t p = 0; p < N(paths); p++) {
        struct router_match m;
        const char *path = paths[p];
        int best = -1;
        for (size_t i = 0; i < n; i++) {
            if (router_match(one[i], path, strlen(path), HTTP_GET, &m) != ROUTER_FOUND)
                continue;
            if (best < 0 || explain_rank(&routes[i], &routes[best], NULL, 0) < 0)
                best = (int)i;
        }
        enum router_result res = router_match(r, path, strlen(path), HTTP_GET, &m);
        const char *want = res == ROUTER_FOUND ? m.data : NULL;
        ck_assert_msg((best < 0 && !want) || (best >= 0 && want == table[best]),
                      "path %s: router picked %s, ranking picked %s", path, want ? want : "none",
                      best >= 0 ? table[best] : "none");
    }
    explain_routes_free(routes, n);
    for (size_t i = 0; i < n; i++)
        router_free(one[i]);
    router_free(r);
}
END_TEST

/* ---- the report ---- */

static const char yaml[] = "routes:\n"
                           "  - GET /hello/{name}:\n"
                           "      text: \"Hello, {name}\\n\"\n"
                           "  - GET /hello/{name:.*}:\n"
                           "      text: tail\n"
                           "  - POST /hello/bob:\n"
                           "      text: posted\n"
                           "  - DELETE /files/{path:.*}:\n"
                           "      text: gone\n";

static int explain(const char *req, struct buf *out)
{
    struct buf err = {0};
    struct config *cfg = config_load_bytes("x.yaml", yaml, strlen(yaml), &err);
    ck_assert_msg(cfg != NULL, "%.*s", (int)err.len, err.data);
    int rc = explain_request(cfg, req, out);
    buf_putc(out, 0);
    config_unref(cfg);
    buf_free(&err);
    return rc;
}

static void expect(const char *req, int rc, const char *const *lines)
{
    struct buf out = {0};
    int got = explain(req, &out);
    char text[4096];
    snprintf(text, sizeof(text), "%s", out.data);
    buf_free(&out);
    ck_assert_msg(got == rc, "%s: exit %d, want %d:\n%s", req, got, rc, text);
    for (size_t i = 0; lines[i]; i++)
        ck_assert_msg(strstr(text, lines[i]), "%s: missing `%s` in:\n%s", req, lines[i], text);
}

START_TEST(test_report_found)
{
    const char *lines[] = {
        "route: GET /hello/{name} (x.yaml:2), handler text\n",
        "  name = bob\n",
        "beaten:\n",
        "  GET /hello/{name:.*} (x.yaml:4): a regex spanning segments ranks below {name} at "
        "segment 2\n",
        "  POST /hello/bob (x.yaml:6): the pattern matches, but the route accepts POST, not GET\n",
        NULL};
    expect("GET /hello/bob", 0, lines);
    /* normalized as a real request: percent-decoding and dot-segments */
    const char *decoded[] = {"path: /hello/b b\n", "  name = b b\n", NULL};
    expect("GET /hello/x/../b%20b?q=1", 0, decoded);
    const char *head[] = {"route: GET /hello/{name} (x.yaml:2)", NULL};
    expect("HEAD /hello/bob", 0, head);
    const char *span[] = {"route: GET /hello/{name:.*} (x.yaml:4)", "  name = a/b\n", NULL};
    expect("GET /hello/a/b", 0, span);
}
END_TEST

START_TEST(test_report_misses)
{
    const char *nf[] = {"result: 404 Not Found: no route pattern matches /nope\n", NULL};
    expect("GET /nope", 1, nf);
    const char *na[] = {"result: 405 Method Not Allowed; Allow: GET, HEAD, POST, OPTIONS\n",
                        "matching patterns:\n",
                        "  GET /hello/{name} (x.yaml:2): the pattern matches, but the route "
                        "accepts GET, not PUT\n",
                        NULL};
    expect("PUT /hello/bob", 1, na);
    const char *opt[] = {"result: 204 No Content (automatic OPTIONS answer); Allow: DELETE", NULL};
    expect("OPTIONS /files/a", 1, opt);
    const char *bad[] = {"result: 400 Bad Request", NULL};
    expect("GET /../etc/passwd", 1, bad);
    expect("GET /a%00b", 1, bad);
    expect("GET nopath", 1, bad);
}
END_TEST

START_TEST(test_report_usage)
{
    const char *usage[] = {"wants \"METHOD TARGET\"", NULL};
    expect("GET", 2, usage);
    expect("GET /a /b", 2, usage);
    expect("", 2, usage);
    const char *method[] = {"unknown method `get`", NULL};
    expect("get /hello/bob", 2, method);
}
END_TEST

static Suite *explain_suite(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_rank, 0, N(rank_cases));
    tcase_add_test(tc, test_rank_agrees_with_router);
    tcase_add_test(tc, test_report_found);
    tcase_add_test(tc, test_report_misses);
    tcase_add_test(tc, test_report_usage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(explain_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
