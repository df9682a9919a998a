/* Unit tests for src/template.c: compiling, rendering, escaping and errors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "template.h"

static const struct http_header req_headers[] = {
    {YH_SPAN_LIT("Host"), YH_SPAN_LIT("example.com")},
    {YH_SPAN_LIT("User-Agent"), YH_SPAN_LIT("curl/8.0")},
    {YH_SPAN_LIT("X-Dup"), YH_SPAN_LIT("first")},
    {YH_SPAN_LIT("x-dup"), YH_SPAN_LIT("second")},
    {YH_SPAN_LIT("X-Quote"), YH_SPAN_LIT("say \"hi\"\\")},
    {YH_SPAN_LIT("X-Empty"), YH_SPAN_LIT("")},
};

static const yh_span req_vars[] = {
    YH_SPAN_LIT("42"),
    YH_SPAN_LIT("a\"b"),
};

/* A request context with two path variables ({id}, {name}) and some headers. */
static struct tpl_ctx make_ctx(const char *query)
{
    struct tpl_ctx ctx = {
        .vars = req_vars,
        .nvars = 2,
        .method = YH_SPAN_LIT("GET"),
        .path = YH_SPAN_LIT("/users/42"),
        .query = {query, strlen(query)},
        .remote_addr = YH_SPAN_LIT("127.0.0.1"),
        .host = YH_SPAN_LIT("example.com"),
        .headers = req_headers,
        .nheaders = sizeof(req_headers) / sizeof(req_headers[0]),
    };
    return ctx;
}

static const struct route_vars route_vars = {.n = 2, .names = {"id", "name"}};

/* Compiles src (must succeed) and renders it against ctx; returns a malloc'd string. */
static char *render_with(const char *src, enum tpl_escape esc, const struct tpl_ctx *ctx)
{
    char err[128] = "";
    size_t off = 0;
    struct tpl *t = tpl_new();
    int rc = tpl_append_source(t, src, strlen(src), esc, &route_vars, err, sizeof(err), &off);
    ck_assert_msg(rc == 0, "compile of \"%s\" failed: %s at %zu", src, err, off);
    struct buf out = {0};
    tpl_render(t, ctx, &out);
    char *s = strndup(out.data ? out.data : "", out.len);
    ck_assert_ptr_nonnull(s);
    buf_free(&out);
    tpl_free(t);
    return s;
}

static void check_render(const char *src, enum tpl_escape esc, const char *query, const char *want)
{
    struct tpl_ctx ctx = make_ctx(query);
    char *got = render_with(src, esc, &ctx);
    ck_assert_msg(strcmp(got, want) == 0, "render \"%s\" (query \"%s\"): got \"%s\", want \"%s\"",
                  src, query, got, want);
    free(got);
}

/* Compiles src (must fail) and checks the message and the fault offset. */
static void check_error(const char *src, const char *want_msg, size_t want_off)
{
    char err[128] = "";
    size_t off = (size_t)-1;
    struct tpl *t = tpl_new();
    int rc = tpl_append_source(t, src, strlen(src), TPL_RAW, &route_vars, err, sizeof(err), &off);
    ck_assert_msg(rc == -1, "compile of \"%s\" should fail", src);
    ck_assert_msg(strcmp(err, want_msg) == 0, "\"%s\": message \"%s\", want \"%s\"", src, err,
                  want_msg);
    ck_assert_msg(off == want_off, "\"%s\": offset %zu, want %zu", src, off, want_off);
    tpl_free(t);
}

START_TEST(test_literal_only)
{
    check_render("", TPL_RAW, "", "");
    check_render("hello, world\n", TPL_RAW, "", "hello, world\n");
    /* Literal text is never JSON-escaped, even in a TPL_JSON source. */
    check_render("{{\"a\":1}}", TPL_JSON, "", "{\"a\":1}");
}
END_TEST

START_TEST(test_path_vars)
{
    check_render("/users/{id}", TPL_RAW, "", "/users/42");
    check_render("{id}-{name}", TPL_RAW, "", "42-a\"b");
    check_render("{name}", TPL_JSON, "", "a\\\"b");
    check_render("{id}{id}", TPL_RAW, "", "4242");
}
END_TEST

START_TEST(test_path_var_missing_value)
{
    /* A context with fewer values than the route declares renders "". */
    struct tpl_ctx ctx = make_ctx("");
    ctx.nvars = 1;
    char *got = render_with("[{id}|{name}]", TPL_RAW, &ctx);
    ck_assert_str_eq(got, "[42|]");
    free(got);
    ctx.vars = NULL;
    ctx.nvars = 0;
    got = render_with("[{id}]", TPL_RAW, &ctx);
    ck_assert_str_eq(got, "[]");
    free(got);
}
END_TEST

START_TEST(test_builtins)
{
    check_render("{method} {path} from {remote_addr} to {host}", TPL_RAW, "",
                 "GET /users/42 from 127.0.0.1 to example.com");
}
END_TEST

START_TEST(test_path_var_shadows_builtin)
{
    /* A route capturing {path} means its own variable, not the request path. */
    const struct route_vars vars = {.n = 1, .names = {"path"}};
    const yh_span val = YH_SPAN_LIT("tail/of/it");
    struct tpl_ctx ctx = make_ctx("");
    ctx.vars = &val;
    ctx.nvars = 1;
    struct tpl *t = tpl_new();
    ck_assert_int_eq(tpl_append_source(t, "{path}", 6, TPL_RAW, &vars, NULL, 0, NULL), 0);
    struct buf out = {0};
    tpl_render(t, &ctx, &out);
    ck_assert_uint_eq(out.len, 10);
    ck_assert(memcmp(out.data, "tail/of/it", 10) == 0);
    buf_free(&out);
    tpl_free(t);
}
END_TEST

START_TEST(test_query)
{
    check_render("{query.a}", TPL_RAW, "a=1&b=2", "1");
    check_render("{query.b}", TPL_RAW, "a=1&b=2", "2");
    check_render("[{query.c}]", TPL_RAW, "a=1&b=2", "[]");
    check_render("[{query.a}]", TPL_RAW, "", "[]");
    /* The first of several same-name parameters wins. */
    check_render("{query.a}", TPL_RAW, "a=first&a=second", "first");
    /* A bare name has an empty value; so does "name=". */
    check_render("[{query.flag}]", TPL_RAW, "flag&x=1", "[]");
    check_render("[{query.x}]", TPL_RAW, "flag&x=", "[]");
    /* Names match exactly: no prefix, suffix or case folding. */
    check_render("[{query.a}]", TPL_RAW, "ab=1&A=2&a=3", "[3]");
    check_render("[{query.ab}]", TPL_RAW, "a=1", "[]");
    /* The value stops at '&' and may contain '='. */
    check_render("{query.eq}", TPL_RAW, "eq=x=y&z=1", "x=y");
    /* Empty pairs are skipped. */
    check_render("{query.b}", TPL_RAW, "&&b=2&", "2");
    /* Names are matched raw, not decoded. */
    check_render("[{query.a b}]", TPL_RAW, "a%20b=1&a+b=2", "[]");
    check_render("{query.a%20b}", TPL_RAW, "a%20b=1", "1");
}
END_TEST

START_TEST(test_query_decoding)
{
    check_render("{query.q}", TPL_RAW, "q=hello+world", "hello world");
    check_render("{query.q}", TPL_RAW, "q=a%20b%2Bc%2bd", "a b+c+d");
    check_render("{query.q}", TPL_RAW, "q=%E2%82%AC", "\xe2\x82\xac");
    check_render("{query.q}", TPL_RAW, "q=%7B%7d", "{}");
    /* A malformed value is rendered as sent, '+' included. */
    check_render("{query.q}", TPL_RAW, "q=100%+sure", "100%+sure");
    check_render("{query.q}", TPL_RAW, "q=%zz+x", "%zz+x");
    check_render("{query.q}", TPL_RAW, "q=trailing%4", "trailing%4");
    check_render("{query.q}", TPL_RAW, "q=trailing%", "trailing%");
    /* Decoded values are escaped afterwards in JSON mode. */
    check_render("{query.q}", TPL_JSON, "q=%22hi%22+%5C%0A%01", "\\\"hi\\\" \\\\\\n\\u0001");
    /* A malformed value is escaped as sent: nothing of it is decoded. */
    check_render("{query.q}", TPL_JSON, "q=%22%zz", "%22%zz");
    check_render("{query.q}", TPL_JSON, "q=\"a+%z", "\\\"a+%z");
}
END_TEST

START_TEST(test_query_decoding_long)
{
    /* Long values force the output buffer to grow while decoding into it. */
    struct buf q = {0}, want = {0};
    buf_puts(&q, "v=");
    buf_putc(&want, 'x');
    for (int i = 0; i < 1000; i++) {
        buf_puts(&q, "%41+");
        buf_puts(&want, "A ");
    }
    buf_puts(&want, "y");
    buf_putc(&q, '\0');
    buf_putc(&want, '\0');
    check_render("x{query.v}y", TPL_RAW, q.data, want.data);
    buf_free(&q);
    buf_free(&want);
}
END_TEST

START_TEST(test_headers)
{
    check_render("{header.User-Agent}", TPL_RAW, "", "curl/8.0");
    check_render("{header.user-agent}", TPL_RAW, "", "curl/8.0");
    check_render("{header.USER-AGENT}", TPL_RAW, "", "curl/8.0");
    check_render("[{header.X-Missing}]", TPL_RAW, "", "[]");
    check_render("[{header.X-Empty}]", TPL_RAW, "", "[]");
    /* The first of repeated headers wins, whatever its case. */
    check_render("{header.x-DUP}", TPL_RAW, "", "first");
    check_render("{header.X-Quote}", TPL_RAW, "", "say \"hi\"\\");
    check_render("{header.X-Quote}", TPL_JSON, "", "say \\\"hi\\\"\\\\");
    /* Header values are not percent-decoded. */
    check_render("{header.Host}", TPL_RAW, "", "example.com");
}
END_TEST

START_TEST(test_no_headers)
{
    struct tpl_ctx ctx = make_ctx("");
    ctx.headers = NULL;
    ctx.nheaders = 0;
    char *got = render_with("[{header.Host}]", TPL_RAW, &ctx);
    ck_assert_str_eq(got, "[]");
    free(got);
}
END_TEST

START_TEST(test_brace_escapes)
{
    check_render("{{", TPL_RAW, "", "{");
    check_render("}}", TPL_RAW, "", "}");
    check_render("{{id}}", TPL_RAW, "", "{id}");
    check_render("{{{id}}}", TPL_RAW, "", "{42}");
    check_render("a{{b}}c{{{{", TPL_RAW, "", "a{b}c{{");
    check_render("{{\"id\":\"{id}\"}}", TPL_JSON, "", "{\"id\":\"42\"}");
}
END_TEST

START_TEST(test_errors)
{
    check_error("{nme}", "unknown variable {nme}", 0);
    check_error("/users/{nme}/x", "unknown variable {nme}", 7);
    check_error("{ID}", "unknown variable {ID}", 0);
    check_error("{id }", "unknown variable {id }", 0);
    check_error("{query}", "unknown variable {query}", 0);
    check_error("{header}", "unknown variable {header}", 0);
    check_error("{Method}", "unknown variable {Method}", 0);
    check_error("ok {id} {bad}", "unknown variable {bad}", 8);
    check_error("{}", "empty variable {}", 0);
    check_error("ab{}", "empty variable {}", 2);
    check_error("{query.}", "empty name in {query.}", 0);
    check_error("x{header.}", "empty name in {header.}", 1);
    check_error("{", "unclosed {", 0);
    check_error("abc{id", "unclosed {", 3);
    check_error("{id}{", "unclosed {", 4);
    check_error("{a{id}", "unclosed {", 0);
    check_error("}", "unmatched }", 0);
    check_error("abc}", "unmatched }", 3);
    check_error("{id}}", "unmatched }", 4);
    check_error("}}}", "unmatched }", 2);
    check_error("{{}", "unmatched }", 2);
}
END_TEST

START_TEST(test_error_without_buffers)
{
    struct tpl *t = tpl_new();
    ck_assert_int_eq(tpl_append_source(t, "{x}", 3, TPL_RAW, NULL, NULL, 0, NULL), -1);
    /* Without route variables only the built-ins resolve. */
    ck_assert_int_eq(tpl_append_source(t, "{id}", 4, TPL_RAW, NULL, NULL, 0, NULL), -1);
    ck_assert_int_eq(tpl_append_source(t, "{host}", 6, TPL_RAW, NULL, NULL, 0, NULL), 0);
    tpl_free(t);
}
END_TEST

START_TEST(test_error_truncated_message)
{
    char err[8];
    size_t off = 0;
    struct tpl *t = tpl_new();
    ck_assert_int_eq(
        tpl_append_source(t, "{verylongname}", 14, TPL_RAW, &route_vars, err, sizeof(err), &off),
        -1);
    ck_assert_str_eq(err, "unknown");
    tpl_free(t);
}
END_TEST

START_TEST(test_failed_append_leaves_template)
{
    /* A failed append must not leave half a source behind. */
    struct tpl *t = tpl_new();
    size_t n;
    ck_assert_int_eq(tpl_append_source(t, "abc", 3, TPL_RAW, &route_vars, NULL, 0, NULL), 0);
    ck_assert_int_eq(tpl_append_source(t, "def{id}{bad}", 12, TPL_RAW, &route_vars, NULL, 0, NULL),
                     -1);
    ck_assert(tpl_is_constant(t));
    const char *c = tpl_constant(t, &n);
    ck_assert_uint_eq(n, 3);
    ck_assert(memcmp(c, "abc", 3) == 0);
    tpl_append_literal(t, "xyz", 3);
    c = tpl_constant(t, &n);
    ck_assert_uint_eq(n, 6);
    ck_assert(memcmp(c, "abcxyz", 6) == 0);
    tpl_free(t);
}
END_TEST

START_TEST(test_constant)
{
    struct tpl *t = tpl_new();
    size_t n = 99;
    /* An empty template is constant and empty. */
    ck_assert(tpl_is_constant(t));
    ck_assert_ptr_nonnull(tpl_constant(t, &n));
    ck_assert_uint_eq(n, 0);

    /* Literal runs from several pieces merge into one text. */
    ck_assert_int_eq(tpl_append_source(t, "a{{b", 4, TPL_RAW, &route_vars, NULL, 0, NULL), 0);
    tpl_append_literal(t, "{x}", 3);
    ck_assert_int_eq(tpl_append_source(t, "}}c", 3, TPL_JSON, &route_vars, NULL, 0, NULL), 0);
    ck_assert(tpl_is_constant(t));
    const char *c = tpl_constant(t, &n);
    ck_assert_uint_eq(n, 8);
    ck_assert(memcmp(c, "a{b{x}}c", 8) == 0);

    /* Rendering a constant template yields the same text. */
    struct tpl_ctx ctx = make_ctx("");
    struct buf out = {0};
    tpl_render(t, &ctx, &out);
    ck_assert_uint_eq(out.len, 8);
    ck_assert(memcmp(out.data, "a{b{x}}c", 8) == 0);
    buf_free(&out);

    /* One variable makes it non-constant. */
    ck_assert_int_eq(tpl_append_source(t, "{method}", 8, TPL_RAW, &route_vars, NULL, 0, NULL), 0);
    ck_assert(!tpl_is_constant(t));
    ck_assert_ptr_null(tpl_constant(t, &n));
    tpl_free(t);
}
END_TEST

START_TEST(test_mixed_escape_modes)
{
    /* How the json handler builds {"id":"<id>","ua":"<ua>"}: raw structure, escaped values. */
    struct tpl *t = tpl_new();
    struct tpl_ctx ctx = make_ctx("");
    struct buf out = {0};
    tpl_append_literal(t, "{\"id\":\"", 7);
    ck_assert_int_eq(tpl_append_source(t, "{name}", 6, TPL_JSON, &route_vars, NULL, 0, NULL), 0);
    tpl_append_literal(t, "\",\"ua\":\"", 8);
    ck_assert_int_eq(
        tpl_append_source(t, "{header.x-quote}!", 17, TPL_JSON, &route_vars, NULL, 0, NULL), 0);
    tpl_append_literal(t, "\",\"raw\":\"", 9);
    ck_assert_int_eq(tpl_append_source(t, "{name}", 6, TPL_RAW, &route_vars, NULL, 0, NULL), 0);
    tpl_append_literal(t, "\"}", 2);
    tpl_render(t, &ctx, &out);
    const char *want = "{\"id\":\"a\\\"b\",\"ua\":\"say \\\"hi\\\"\\\\!\",\"raw\":\"a\"b\"}";
    ck_assert_uint_eq(out.len, strlen(want));
    ck_assert(memcmp(out.data, want, out.len) == 0);

    /* Rendering appends: a second render doubles the output. */
    tpl_render(t, &ctx, &out);
    ck_assert_uint_eq(out.len, 2 * strlen(want));
    buf_free(&out);
    tpl_free(t);
}
END_TEST

static void check_json(const char *in, size_t n, const char *want)
{
    struct buf out = {0};
    buf_puts(&out, "<");
    json_escape_append(&out, in, n);
    buf_puts(&out, ">");
    ck_assert_msg(out.len == strlen(want) && memcmp(out.data, want, out.len) == 0,
                  "json escape: got \"%.*s\", want \"%s\"", (int)out.len, out.data, want);
    buf_free(&out);
}

START_TEST(test_json_escape)
{
    check_json("", 0, "<>");
    check_json("plain text", 10, "<plain text>");
    check_json("\"", 1, "<\\\">");
    check_json("\\", 1, "<\\\\>");
    check_json("a\"b\\c", 5, "<a\\\"b\\\\c>");
    check_json("\n\r\t\b\f", 5, "<\\n\\r\\t\\b\\f>");
    check_json("\x01\x1f\x0b", 3, "<\\u0001\\u001f\\u000b>");
    check_json("\x7f", 1, "<\\u007f>");
    check_json("a\0b", 3, "<a\\u0000b>");
    /* UTF-8 passes through untouched; so do '/' and '<'. */
    check_json("caf\xc3\xa9 \xe2\x82\xac", 9, "<caf\xc3\xa9 \xe2\x82\xac>");
    check_json("</script>", 9, "<</script>>");
    check_json(" ~", 2, "< ~>");
}
END_TEST

START_TEST(test_json_escape_all_bytes)
{
    /* Every control byte gets an escape that is 2 or 6 bytes long; others 1. */
    for (int c = 0; c < 256; c++) {
        char in = (char)c;
        struct buf out = {0};
        json_escape_append(&out, &in, 1);
        if (c < 0x20 || c == 0x7f) {
            ck_assert_msg(out.len == 2 || out.len == 6, "byte %d -> %zu bytes", c, out.len);
            ck_assert_int_eq(out.data[0], '\\');
        } else if (c == '"' || c == '\\') {
            ck_assert_uint_eq(out.len, 2);
        } else {
            ck_assert_uint_eq(out.len, 1);
            ck_assert_int_eq((unsigned char)out.data[0], c);
        }
        buf_free(&out);
    }
}
END_TEST

START_TEST(test_large_template)
{
    /* Many segments: the segment array and the text buffer both grow. */
    struct buf src = {0}, want = {0};
    for (int i = 0; i < 500; i++) {
        buf_puts(&src, "x{id}{{");
        buf_puts(&want, "x42{");
    }
    struct tpl *t = tpl_new();
    ck_assert_int_eq(tpl_append_source(t, src.data, src.len, TPL_RAW, &route_vars, NULL, 0, NULL),
                     0);
    struct tpl_ctx ctx = make_ctx("");
    struct buf out = {0};
    tpl_render(t, &ctx, &out);
    ck_assert_uint_eq(out.len, want.len);
    ck_assert(memcmp(out.data, want.data, want.len) == 0);
    buf_free(&out);
    buf_free(&src);
    buf_free(&want);
    tpl_free(t);
}
END_TEST

static Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_literal_only);
    tcase_add_test(tc, test_path_vars);
    tcase_add_test(tc, test_path_var_missing_value);
    tcase_add_test(tc, test_builtins);
    tcase_add_test(tc, test_path_var_shadows_builtin);
    tcase_add_test(tc, test_query);
    tcase_add_test(tc, test_query_decoding);
    tcase_add_test(tc, test_query_decoding_long);
    tcase_add_test(tc, test_headers);
    tcase_add_test(tc, test_no_headers);
    tcase_add_test(tc, test_brace_escapes);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_error_without_buffers);
    tcase_add_test(tc, test_error_truncated_message);
    tcase_add_test(tc, test_failed_append_leaves_template);
    tcase_add_test(tc, test_constant);
    tcase_add_test(tc, test_mixed_escape_modes);
    tcase_add_test(tc, test_json_escape);
    tcase_add_test(tc, test_json_escape_all_bytes);
    tcase_add_test(tc, test_large_template);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(template_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
