/* Unit tests for src/router.c: specificity, captures, 405 sets, ambiguity, bad patterns. */
#include <check.h>
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

#define GET    HTTP_GET
#define HEAD   HTTP_HEAD
#define POST   HTTP_POST
#define PUT    HTTP_PUT
#define DELETE HTTP_DELETE
#define PATCH  HTTP_PATCH
#define B(m)   ROUTER_METHOD_BIT(m)
#define ANY    ROUTER_ANY_METHOD

static struct router *r;
static char err[512];
static struct router_match m;

static void setup(void)
{
    r = router_new();
    err[0] = '\0';
    memset(&m, 0, sizeof(m));
}

static void teardown(void)
{
    router_free(r);
    r = NULL;
}

/* Adds a route whose data is its tag string; the test fails on error. */
static void add_vars(uint64_t methods, const char *pattern, const char *tag, struct route_vars *v)
{
    int rc = router_add(r, pattern, methods, 1, 1, (void *)tag, v, err, sizeof(err));
    ck_assert_msg(rc == 0, "router_add(%s) failed: %s", pattern, err);
}

static void add(uint64_t methods, const char *pattern, const char *tag)
{
    struct route_vars v;
    add_vars(methods, pattern, tag, &v);
}

/* Expects router_add to fail with a message containing want. */
static void add_fails(uint64_t methods, const char *pattern, const char *want)
{
    struct route_vars v;
    err[0] = '\0';
    int rc = router_add(r, pattern, methods, 1, 1, (void *)"x", &v, err, sizeof(err));
    ck_assert_msg(rc == -1, "router_add(%s) should fail", pattern);
    ck_assert_msg(strstr(err, want), "error for %s is `%s`, wanted `%s`", pattern, err, want);
}

/* Matches and returns the tag, "404" or "405". */
static const char *match(int method, const char *path)
{
    switch (router_match(r, path, strlen(path), method, &m)) {
    case ROUTER_FOUND:
        return m.data;
    case ROUTER_METHOD_NOT_ALLOWED:
        return "405";
    default:
        return "404";
    }
}

#define ck_match(method, path, want) ck_assert_str_eq(match(method, path), want)

/* Checks capture i of the last match. */
static void ck_var(int i, const char *want)
{
    ck_assert_int_gt(m.nvars, i);
    ck_assert_int_eq((int)m.vars[i].n, (int)strlen(want));
    ck_assert_msg(!memcmp(m.vars[i].p, want, m.vars[i].n), "var %d is `%.*s`, wanted `%s`", i,
                  (int)m.vars[i].n, m.vars[i].p, want);
}

START_TEST(test_static)
{
    add(B(GET), "/", "root");
    add(B(GET), "/a", "a");
    add(B(GET), "/a/", "a/");
    add(B(GET), "/a/b", "ab");
    add(B(GET), "/a//b", "a//b");
    ck_match(GET, "/", "root");
    ck_match(GET, "/a", "a");
    ck_assert_int_eq(m.nvars, 0);
    ck_match(GET, "/a/", "a/");
    ck_match(GET, "/a/b", "ab");
    ck_match(GET, "/a//b", "a//b");
    ck_match(GET, "/a/b/", "404");
    ck_match(GET, "/ab", "404");
    ck_match(GET, "//", "404");
    ck_match(GET, "", "404");
    ck_match(GET, "a", "404");
    ck_assert_ptr_null(m.data);
}
END_TEST

START_TEST(test_specificity)
{
    /* Added least specific first: order must not matter across kinds. */
    add(B(GET), "/u/{rest:.*}", "span");
    add(B(GET), "/u/{name}", "param");
    add(B(GET), "/u/{id:\\d+}", "regex");
    add(B(GET), "/u/me", "static");
    ck_match(GET, "/u/me", "static");
    ck_assert_int_eq(m.nvars, 0);
    ck_match(GET, "/u/42", "regex");
    ck_var(0, "42");
    ck_match(GET, "/u/bob", "param");
    ck_var(0, "bob");
    ck_match(GET, "/u/a/b", "span");
    ck_var(0, "a/b");
    ck_match(GET, "/u/", "span"); /* {name} needs a non-empty segment */
    ck_var(0, "");
    ck_match(GET, "/u", "404");
}
END_TEST

START_TEST(test_regex_file_order)
{
    add(B(GET), "/x/{a:[a-z]+}", "first");
    add(B(GET), "/x/{b:[a-c]+}", "second");
    add(B(GET), "/x/{c:\\d+}", "digits");
    ck_match(GET, "/x/abc", "first");
    ck_match(GET, "/x/12", "digits");
    ck_match(GET, "/x/A", "404");

    add(B(GET), "/t/{a:x.*}", "tx");
    add(B(GET), "/t/{b:.*}", "tany");
    ck_match(GET, "/t/x/y", "tx");
    ck_var(0, "x/y");
    ck_match(GET, "/t/y/z", "tany");
    ck_var(0, "y/z");
}
END_TEST

START_TEST(test_backtracking)
{
    add(B(GET), "/a/b/d", "abd");
    add(B(GET), "/a/{x}/c", "axc");
    ck_match(GET, "/a/b/c", "axc");
    ck_var(0, "b");
    ck_match(GET, "/a/b/d", "abd");

    /* A regex branch that dead-ends falls back to {name}, then to a spanning one. */
    add(B(GET), "/r/{n:\\d+}/one", "r1");
    add(B(GET), "/r/{s}/two", "r2");
    add(B(GET), "/r/{t:.*}", "r3");
    ck_match(GET, "/r/5/one", "r1");
    ck_match(GET, "/r/5/two", "r2");
    ck_var(0, "5");
    ck_match(GET, "/r/5/three", "r3");
    ck_var(0, "5/three");

    /* A more specific node without a route for the method is skipped. */
    add(B(POST), "/m/static", "post-static");
    add(B(GET), "/m/{x}", "get-param");
    ck_match(GET, "/m/static", "get-param");
    ck_var(0, "static");
    ck_match(POST, "/m/static", "post-static");
    ck_match(POST, "/m/other", "405");
    ck_assert(m.allow == (B(GET) | B(HEAD)));
}
END_TEST

START_TEST(test_method_not_allowed)
{
    add(B(GET), "/r", "get");
    add(B(POST), "/r", "post");
    ck_match(DELETE, "/r", "405");
    ck_assert(m.allow == (B(GET) | B(HEAD) | B(POST)));
    ck_assert_ptr_null(m.data);
    ck_assert_int_eq(m.nvars, 0);

    /* No GET, no HEAD. */
    add(B(POST) | B(PUT), "/w", "w");
    ck_match(GET, "/w", "405");
    ck_assert(m.allow == (B(POST) | B(PUT)));
    ck_match(HEAD, "/w", "405");

    /* Allow is the union over every node the path matches. */
    add(B(PUT), "/p/static", "p-static");
    add(B(GET), "/p/{x}", "p-param");
    add(B(DELETE), "/p/{y:st.*}", "p-regex");
    add(B(PATCH), "/p/{z:.+}", "p-span");
    add(B(POST), "/p/other", "p-other");
    ck_match(HTTP_OPTIONS, "/p/static", "405");
    ck_assert(m.allow == (B(PUT) | B(GET) | B(HEAD) | B(DELETE) | B(PATCH)));
    ck_match(PUT, "/p/nope", "405");
    ck_assert(m.allow == (B(GET) | B(HEAD) | B(PATCH)));
    ck_match(PUT, "/q", "404");
    ck_assert(m.allow == 0);
}
END_TEST

START_TEST(test_head)
{
    add(B(GET), "/h", "get");
    ck_match(HEAD, "/h", "get");

    add(B(GET), "/h2", "get2");
    add(B(HEAD), "/h2", "head2");
    ck_match(HEAD, "/h2", "head2");
    ck_match(GET, "/h2", "get2");

    /* Claimed HEAD in the same multi-method route. */
    add(B(GET), "/h3", "get3");
    add(B(HEAD) | B(POST), "/h3", "headpost3");
    ck_match(HEAD, "/h3", "headpost3");

    add(B(HEAD), "/h4", "head4");
    ck_match(GET, "/h4", "405");
    ck_assert(m.allow == B(HEAD));

    /* HEAD via GET on a more specific node wins over explicit HEAD below. */
    add(B(HEAD), "/h5/{x}", "head-param");
    add(B(GET), "/h5/s", "get-static");
    ck_match(HEAD, "/h5/s", "get-static");
    ck_match(HEAD, "/h5/t", "head-param");
}
END_TEST

START_TEST(test_any_method)
{
    add(ANY, "/any", "any");
    ck_match(GET, "/any", "any");
    ck_match(HEAD, "/any", "any");
    ck_match(DELETE, "/any", "any");
    ck_match(HTTP_PURGE, "/any", "any");
    ck_match(HTTP_QUERY, "/any", "any");
    add_fails(B(GET), "/any", "overlaps");
    add_fails(B(HEAD), "/any", "overlaps `* /any`");

    add(B(GET), "/mix", "get");
    add(ANY & ~B(GET) & ~B(HEAD), "/mix", "rest");
    ck_match(GET, "/mix", "get");
    ck_match(HEAD, "/mix", "get"); /* nobody claims HEAD: the GET route answers */
    ck_match(POST, "/mix", "rest");
}
END_TEST

START_TEST(test_captures_shared_node)
{
    struct route_vars v1, v2;
    add_vars(B(GET), "/u/{id}", "get", &v1);
    add_vars(B(POST), "/u/{uid}", "post", &v2);
    ck_assert_int_eq(v1.n, 1);
    ck_assert_str_eq(v1.names[0], "id");
    ck_assert_int_eq(v2.n, 1);
    ck_assert_str_eq(v2.names[0], "uid");
    ck_match(GET, "/u/7", "get");
    ck_assert_int_eq(m.nvars, 1);
    ck_var(0, "7");
    ck_match(POST, "/u/8", "post");
    ck_var(0, "8");

    /* Same for regex and spanning nodes. */
    add_vars(B(GET), "/s/{a:\\d+}/{rest:.*}", "get-s", &v1);
    add_vars(B(PUT), "/s/{b:\\d+}/{tail:.*}", "put-s", &v2);
    ck_assert_str_eq(v2.names[0], "b");
    ck_assert_str_eq(v2.names[1], "tail");
    ck_match(PUT, "/s/1/x/y", "put-s");
    ck_assert_int_eq(m.nvars, 2);
    ck_var(0, "1");
    ck_var(1, "x/y");
}
END_TEST

START_TEST(test_captures_multi)
{
    struct route_vars v;
    add_vars(B(GET), "/a/{x}/b/{y}/{z:[a-z]+}", "xyz", &v);
    ck_assert_int_eq(v.n, 3);
    ck_assert_str_eq(v.names[0], "x");
    ck_assert_str_eq(v.names[1], "y");
    ck_assert_str_eq(v.names[2], "z");
    const char *path = "/a/1/b/2/q";
    ck_assert_int_eq(router_match(r, path, strlen(path), GET, &m), ROUTER_FOUND);
    ck_assert_int_eq(m.nvars, 3);
    /* Spans point into the caller's path. */
    ck_assert_ptr_eq(m.vars[0].p, path + 3);
    ck_var(1, "2");
    ck_var(2, "q");

    /* The path need not be NUL-terminated: only len bytes are read. */
    char buf[] = "/a/1/b/2/qXXX";
    ck_assert_int_eq(router_match(r, buf, 10, GET, &m), ROUTER_FOUND);
    ck_var(2, "q");

    add_vars(B(GET), "/none", "none", &v);
    ck_assert_int_eq(v.n, 0);
    ck_match(GET, "/none", "none");
    ck_assert_int_eq(m.nvars, 0);

    /* vars may be NULL. */
    ck_assert_int_eq(router_add(r, "/nv/{k}", B(GET), 1, 1, "nv", NULL, err, sizeof(err)), 0);
    ck_match(GET, "/nv/z", "nv");
    ck_var(0, "z");
}
END_TEST

START_TEST(test_spanning_tail)
{
    add(B(GET), "/files/{tail:.*}", "files");
    ck_match(GET, "/files/a/b/c.txt", "files");
    ck_assert_int_eq(m.nvars, 1);
    ck_var(0, "a/b/c.txt");
    ck_match(GET, "/files/", "files");
    ck_var(0, "");
    ck_match(GET, "/files", "404");

    add(B(GET), "/a/{p:.*}/raw", "raw");
    ck_match(GET, "/a/x/y/raw", "raw");
    ck_var(0, "x/y");
    ck_match(GET, "/a//raw", "raw");
    ck_var(0, "");
    ck_match(GET, "/a/raw", "404");
    ck_match(GET, "/a/x/raw/more", "404");

    /* Vars before the spanning one come from the trie, after it from the tail. */
    add(B(GET), "/g/{user}/{rest:.+}/end/{last}", "g");
    ck_match(GET, "/g/bob/1/2/end/z", "g");
    ck_assert_int_eq(m.nvars, 3);
    ck_var(0, "bob");
    ck_var(1, "1/2");
    ck_var(2, "z");
    ck_match(GET, "/g/bob/1/2/end/", "404");

    /* Static text after the span is literal, not regex. */
    add(B(GET), "/t/{p:.*}/a.b+c", "lit");
    ck_match(GET, "/t/x/a.b+c", "lit");
    ck_var(0, "x");
    ck_match(GET, "/t/x/aXbbc", "404");

    /* User groups inside a var's regex do not shift the capture mapping. */
    add(B(GET), "/sp/{a:(x|y)/.*}/{b}", "groups");
    ck_match(GET, "/sp/x/q/r/z", "groups");
    ck_var(0, "x/q/r");
    ck_var(1, "z");
}
END_TEST

START_TEST(test_mixed_segments)
{
    struct route_vars v;
    add_vars(B(GET), "/files/{name}.txt", "txt", &v);
    ck_assert_int_eq(v.n, 1);
    add(B(GET), "/files/readme.txt", "readme");
    add(B(GET), "/files/{other}", "other");
    ck_match(GET, "/files/a.txt", "txt");
    ck_var(0, "a");
    ck_match(GET, "/files/readme.txt", "readme");
    ck_match(GET, "/files/a.png", "other");
    ck_match(GET, "/files/.txt", "other"); /* {name} is non-empty */

    add(B(GET), "/v{ver:\\d+}/x", "ver");
    ck_match(GET, "/v12/x", "ver");
    ck_var(0, "12");
    ck_match(GET, "/vx/x", "404");

    add(B(GET), "/m/{a:(\\d)+}-{b:[a-z]+}", "two");
    ck_match(GET, "/m/12-ab", "two");
    ck_assert_int_eq(m.nvars, 2);
    ck_var(0, "12");
    ck_var(1, "ab");

    /* A mixed segment with a spanning var spans from there. */
    add(B(GET), "/d/{base}.{ext:.*}", "dot");
    ck_match(GET, "/d/a.tar/gz", "dot");
    ck_var(0, "a");
    ck_var(1, "tar/gz");
}
END_TEST

/* Whether {v:RE} counts as spanning, seen through priority against {p}. */
struct span_case {
    const char *re;
    const char *sample; /* matched by both RE and {p} */
    int spans;
};

static const struct span_case span_cases[] = {
    {"\\d+", "12", 0},          {"[0-9]+", "12", 0},    {"[a-z0-9_-]+", "a-b", 0},
    {"\\w+", "ab", 0},          {"\\s*ab", "ab", 0},    {"[^/]+", "ab", 0},
    {"[^/.]+", "ab", 0},        {"[^\\/]+", "ab", 0},   {"[^!-~]*ab", "ab", 0},
    {"(?:foo|bar)", "foo", 0},  {"\\d{2,4}", "123", 0}, {"[a-z]+\\.txt", "a.txt", 0},
    {"[.]+", "...", 0},         {"[]a]+", "a]", 0},     {"[[:alpha:]]+", "ab", 0},
    {"\\S+", "ab", 1},          {"\\D+", "ab", 1},      {"\\W+", "--", 1},
    {"\\N+", "ab", 1},          {"\\H+", "ab", 1},      {"\\V+", "ab", 1},
    {"\\X+", "ab", 1},          {"\\C+", "ab", 1},      {"\\R?ab", "ab", 1},
    {"\\p{L}+", "ab", 1},       {"\\x61+", "aa", 1},    {"\\co?ab", "ab", 1},
    {"\\Qab\\E", "ab", 1},      {".+", "ab", 1},        {".*", "ab", 1},
    {"a/?b", "ab", 1},          {"a\\/?b", "ab", 1},    {"[^.]+", "ab", 1},
    {"[^a]+", "bc", 1},         {"[!-~]+", "ab", 1},    {"[/a-z]+", "ab", 1},
    {"[a\\/]+", "aa", 1},       {"[\\W]+", "--", 1},    {"[[:punct:]a-z]+", "ab", 1},
    {"[[:^alpha:]]+", "--", 1},
};

START_TEST(test_spanning_rule)
{
    const struct span_case *c = &span_cases[_i];
    char pattern[128], path[64];
    snprintf(pattern, sizeof(pattern), "/k/{v:%s}", c->re);
    snprintf(path, sizeof(path), "/k/%s", c->sample);
    add(B(GET), pattern, "regex");
    add(B(GET), "/k/{p}", "param");
    ck_assert_msg(!strcmp(match(GET, path), c->spans ? "param" : "regex"),
                  "{v:%s} should %sspan: matched %s", c->re, c->spans ? "" : "not ",
                  match(GET, path));
}
END_TEST

START_TEST(test_regex_braces)
{
    add(B(GET), "/q/{x:\\d{2,3}}", "quant");
    ck_match(GET, "/q/12", "quant");
    ck_match(GET, "/q/1234", "404");
    ck_match(GET, "/q/1", "404");

    add(B(GET), "/e/{x:a\\}}", "esc");
    ck_match(GET, "/e/a}", "esc");
    ck_var(0, "a}");

    add(B(GET), "/n/{x:(?:a{1}){2}}", "nested");
    ck_match(GET, "/n/aa", "nested");
}
END_TEST

START_TEST(test_ambiguity)
{
    ck_assert_int_eq(router_add(r, "/u/{id}", B(GET), 12, 5, "a", NULL, err, sizeof(err)), 0);
    add_fails(B(GET), "/u/{uid}", "route `GET /u/{uid}` overlaps `GET /u/{id}` at line 12:5");
    add_fails(B(GET) | B(POST), "/u/{x}", "overlaps `GET /u/{id}`");
    add_fails(ANY, "/u/{x}", "route `* /u/{x}` overlaps");
    /* Not ambiguous: other methods, explicit HEAD, other var kinds. */
    add(B(POST), "/u/{uid}", "post");
    add(B(HEAD), "/u/{id}", "head");
    add(B(GET), "/u/{id:\\d+}", "regex");
    add(B(GET), "/u/{id:[0-9]+}", "regex2"); /* different source: not the same shape */
    add(B(GET), "/u/{id:.*}", "span");
    add(B(GET), "/u/static", "static");
    add_fails(B(PUT) | B(POST), "/u/{z}", "overlaps `POST /u/{uid}`");
    add_fails(B(GET), "/u/{n:\\d+}", "overlaps `GET /u/{id:\\d+}`");
    add_fails(B(GET), "/u/{t:.*}", "overlaps `GET /u/{id:.*}`");
    add_fails(B(GET), "/u/static", "overlaps `GET /u/static`");
    /* A failed add leaves the table unchanged. */
    ck_match(GET, "/u/7", "regex");
    ck_match(GET, "/u/x", "a");
    ck_match(HEAD, "/u/x", "head");
    ck_match(POST, "/u/x", "post");
    ck_match(PUT, "/u/x", "405");

    add(B(GET), "/f/{a}.txt", "mixed");
    add_fails(B(GET), "/f/{b}.txt", "overlaps `GET /f/{a}.txt`");
    add(B(GET), "/f/{a}.png", "mixed2");
}
END_TEST

START_TEST(test_bad_patterns)
{
    add_fails(B(GET), "", "must start with '/'");
    add_fails(B(GET), "a/b", "must start with '/'");
    add_fails(B(GET), "/{", "unclosed brace");
    add_fails(B(GET), "/{x", "unclosed brace");
    add_fails(B(GET), "/{x:\\d{2}", "unclosed brace");
    add_fails(B(GET), "/a}", "unmatched closing brace");
    add_fails(B(GET), "/{x}}", "unmatched closing brace");
    add_fails(B(GET), "/{}", "bad variable name");
    add_fails(B(GET), "/{:\\d+}", "bad variable name");
    add_fails(B(GET), "/{1x}", "bad variable name");
    add_fails(B(GET), "/{a-b}", "bad variable name");
    add_fails(B(GET), "/{a/b}", "bad variable name");
    add_fails(B(GET), "/{x}/{x}", "duplicate variable `x`");
    add_fails(B(GET), "/{x}/{x:\\d+}", "duplicate variable `x`");
    add_fails(B(GET), "/{x:}", "empty regex");
    add_fails(B(GET), "/{id:[}", "bad regex in `{id:[}`: missing terminating ]");
    add_fails(B(GET), "/{id:a)(b}", "bad regex in `{id:a)(b}`");
    add_fails(B(GET), "/{id:(?<n>a}", "bad regex");
    add_fails(0, "/zero", "method");
    add_fails(B(GET), "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p}/{q}",
              "too many variables");
    add(B(GET), "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}/{j}/{k}/{l}/{m}/{n}/{o}/{p}", "sixteen");
    ck_match(GET, "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16", "sixteen");
    ck_var(15, "16");
    ck_assert_int_eq(m.nvars, 16);
    /* Nothing was added by the failures. */
    ck_match(GET, "/x", "404");
}
END_TEST

/* Names of template builtins are fine for path variables: in the route's
 * templates the variable shadows the builtin (`GET /static/{path:.*}`). */
static const char *const builtin_names[] = {"method", "path",  "remote_addr",
                                            "host",   "query", "header"};

START_TEST(test_builtin_names_allowed)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "/r/{%s}", builtin_names[_i]);
    add(B(GET), pattern, "plain");
    snprintf(pattern, sizeof(pattern), "/s/{%s:\\d+}", builtin_names[_i]);
    add(B(GET), pattern, "regex");
}
END_TEST

START_TEST(test_error_buffer)
{
    /* A tiny or absent error buffer is not overrun. */
    char small[8];
    ck_assert_int_eq(router_add(r, "nope", B(GET), 1, 1, NULL, NULL, small, sizeof(small)), -1);
    ck_assert_int_eq((int)strlen(small), 7);
    ck_assert_int_eq(router_add(r, "nope", B(GET), 1, 1, NULL, NULL, NULL, 0), -1);
}
END_TEST

START_TEST(test_many_static_routes)
{
    static char patterns[1000][32];
    static char paths[1000][32];
    for (int i = 0; i < 1000; i++) {
        snprintf(patterns[i], sizeof(patterns[i]), "/r%d/x/%d", (i * 7919) % 1000, i);
        add(B(GET), patterns[i], patterns[i]);
    }
    add(B(GET), "/r5/x/{other}", "param");
    for (int i = 0; i < 1000; i++) {
        snprintf(paths[i], sizeof(paths[i]), "/r%d/x/%d", (i * 7919) % 1000, i);
        ck_match(GET, paths[i], patterns[i]);
    }
    ck_match(GET, "/r5/x/zzz", "param");
    ck_match(GET, "/r1000/x/1", "404");
    ck_match(POST, "/r0/x/0", "405");
    ck_match(GET, "/r1/x/1", "404");
}
END_TEST

START_TEST(test_many_regex_captures)
{
    /* The shared match data grows for regexes with many groups. */
    add(B(GET), "/a/{x:(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)}", "big");
    add(B(GET), "/b/{x:(a)(b)}/{y:(c)(d)(e)(f)(g)(h)(i)(j)(k)(l)(m)(n)(o)(p)(q)(r)(s)(t)/.*}",
        "bigspan");
    ck_match(GET, "/a/abcdefghijklmnopqrst", "big");
    ck_var(0, "abcdefghijklmnopqrst");
    ck_match(GET, "/b/ab/cdefghijklmnopqrst/zz", "bigspan");
    ck_var(0, "ab");
    ck_var(1, "cdefghijklmnopqrst/zz");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_static);
    tcase_add_test(tc, test_specificity);
    tcase_add_test(tc, test_regex_file_order);
    tcase_add_test(tc, test_backtracking);
    tcase_add_test(tc, test_method_not_allowed);
    tcase_add_test(tc, test_head);
    tcase_add_test(tc, test_any_method);
    tcase_add_test(tc, test_captures_shared_node);
    tcase_add_test(tc, test_captures_multi);
    tcase_add_test(tc, test_spanning_tail);
    tcase_add_test(tc, test_mixed_segments);
    tcase_add_loop_test(tc, test_spanning_rule, 0, N(span_cases));
    tcase_add_test(tc, test_regex_braces);
    tcase_add_test(tc, test_ambiguity);
    tcase_add_test(tc, test_bad_patterns);
    tcase_add_loop_test(tc, test_builtin_names_allowed, 0, N(builtin_names));
    tcase_add_test(tc, test_error_buffer);
    tcase_add_test(tc, test_many_static_routes);
    tcase_add_test(tc, test_many_regex_captures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(router_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
