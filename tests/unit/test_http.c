/* Unit tests for src/http.c, src/request.c (spans, detach, reset) and src/buf.c. */
#include <check.h>
#include <llhttp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "request.h"
#include "router.h"

#define BIT(m) ROUTER_METHOD_BIT(m)

/* The buffer's bytes as a NUL-terminated string (the NUL is not counted in len). */
static const char *str(struct buf *b)
{
    buf_putc(b, 0);
    b->len--;
    return b->data;
}

static yh_span span_in(const char *base, const char *s)
{
    const char *p = strstr(base, s);
    ck_assert_msg(p != NULL, "`%s` not in the test buffer", s);
    return (yh_span){p, strlen(s)};
}

static void assert_span(yh_span s, const char *want)
{
    ck_assert_msg(s.n == strlen(want) && memcmp(s.p, want, s.n) == 0, "span `%.*s`, want `%s`",
                  (int)s.n, s.p ? s.p : "", want);
}

static int span_within(yh_span s, const char *lo, size_t len)
{
    return s.p >= lo && s.p + s.n <= lo + len;
}

/* ---- http_status_text ---- */

START_TEST(test_status_text)
{
    static const struct {
        int status;
        const char *text;
    } want[] = {
        {100, "Continue"},
        {200, "OK"},
        {201, "Created"},
        {204, "No Content"},
        {206, "Partial Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {416, "Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ck_assert_str_eq(http_status_text(want[i].status), want[i].text);
}
END_TEST

START_TEST(test_status_text_unknown)
{
    ck_assert_str_eq(http_status_text(0), "Unknown");
    ck_assert_str_eq(http_status_text(-1), "Unknown");
    ck_assert_str_eq(http_status_text(299), "Unknown");
    ck_assert_str_eq(http_status_text(418), "Unknown");
    ck_assert_str_eq(http_status_text(600), "Unknown");
    ck_assert_str_eq(http_status_text(999), "Unknown");
}
END_TEST

/* ---- http_date ---- */

START_TEST(test_date_rfc_example)
{
    const char *d = http_date(784111777);
    ck_assert_str_eq(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_uint_eq(strlen(d), 29);
    /* fractions of the same second give the same text */
    ck_assert_str_eq(http_date(784111777.999), "Sun, 06 Nov 1994 08:49:37 GMT");
}
END_TEST

START_TEST(test_date_changes_with_second)
{
    ck_assert_str_eq(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    ck_assert_str_eq(http_date(784111778), "Sun, 06 Nov 1994 08:49:38 GMT");
    /* going back is recomputed too, not served from the cache */
    ck_assert_str_eq(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    const char *epoch = http_date(0);
    ck_assert_str_eq(epoch, "Thu, 01 Jan 1970 00:00:00 GMT");
    ck_assert_uint_eq(strlen(epoch), 29);
    /* a day and month with two digits, a leap day */
    ck_assert_str_eq(http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
    ck_assert_str_eq(http_date(1735689599), "Tue, 31 Dec 2024 23:59:59 GMT");
}
END_TEST

/* ---- methods ---- */

static int method(const char *name)
{
    return http_method_from_name(name, strlen(name));
}

START_TEST(test_method_from_name)
{
    ck_assert_int_eq(method("GET"), HTTP_GET);
    ck_assert_int_eq(method("HEAD"), HTTP_HEAD);
    ck_assert_int_eq(method("POST"), HTTP_POST);
    ck_assert_int_eq(method("PUT"), HTTP_PUT);
    ck_assert_int_eq(method("DELETE"), HTTP_DELETE);
    ck_assert_int_eq(method("DELETE"), 0);
    ck_assert_int_eq(method("OPTIONS"), HTTP_OPTIONS);
    ck_assert_int_eq(method("PATCH"), HTTP_PATCH);
    ck_assert_int_eq(method("PROPFIND"), HTTP_PROPFIND);
    ck_assert_int_eq(method("M-SEARCH"), HTTP_MSEARCH);
    ck_assert_int_eq(method("QUERY"), HTTP_QUERY);
}
END_TEST

START_TEST(test_method_from_name_unknown)
{
    ck_assert_int_eq(method("get"), -1); /* case-sensitive */
    ck_assert_int_eq(method("Get"), -1);
    ck_assert_int_eq(method(""), -1);
    ck_assert_int_eq(http_method_from_name(NULL, 0), -1);
    ck_assert_int_eq(method("GETX"), -1);
    ck_assert_int_eq(method("GE"), -1);
    ck_assert_int_eq(method("FETCH"), -1);
    ck_assert_int_eq(method("MSEARCH"), -1);
    ck_assert_int_eq(method("DESCRIBE"), -1); /* RTSP only */
    ck_assert_int_eq(method("PRI"), -1);
    ck_assert_int_eq(method("*"), -1);
}
END_TEST

/* Only len bytes are read: the name need not be NUL-terminated. */
START_TEST(test_method_from_name_uses_len)
{
    ck_assert_int_eq(http_method_from_name("GETX", 3), HTTP_GET);
    ck_assert_int_eq(http_method_from_name("POST /x HTTP/1.1", 4), HTTP_POST);
    ck_assert_int_eq(http_method_from_name("GET", 2), -1);
}
END_TEST

START_TEST(test_method_name_roundtrip)
{
    ck_assert_str_eq(http_method_name(HTTP_GET), "GET");
    ck_assert_str_eq(http_method_name(HTTP_PROPFIND), "PROPFIND");
    ck_assert_str_eq(http_method_name(HTTP_MSEARCH), "M-SEARCH");
#define YH_ROUNDTRIP(num, n, s) ck_assert_int_eq(method(http_method_name(num)), num);
    HTTP_METHOD_MAP(YH_ROUNDTRIP)
#undef YH_ROUNDTRIP
}
END_TEST

/* ---- http_append_allow ---- */

static const char *allow(struct buf *b, uint64_t methods, int add_options)
{
    b->len = 0;
    http_append_allow(b, methods, add_options);
    return str(b);
}

START_TEST(test_allow)
{
    struct buf b = {0};
    ck_assert_str_eq(allow(&b, BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_POST), 0),
                     "GET, HEAD, POST");
    /* method-number order, whatever order the bits were set in */
    ck_assert_str_eq(allow(&b, BIT(HTTP_POST) | BIT(HTTP_HEAD) | BIT(HTTP_GET), 0),
                     "GET, HEAD, POST");
    ck_assert_str_eq(allow(&b, BIT(HTTP_GET), 0), "GET");
    ck_assert_str_eq(allow(&b, BIT(HTTP_DELETE) | BIT(HTTP_PATCH), 0), "DELETE, PATCH");
    ck_assert_str_eq(allow(&b, BIT(HTTP_QUERY) | BIT(HTTP_MSEARCH), 0), "M-SEARCH, QUERY");
    ck_assert_str_eq(allow(&b, 0, 0), "");
    buf_free(&b);
}
END_TEST

START_TEST(test_allow_options)
{
    struct buf b = {0};
    /* OPTIONS (6) goes between PUT (4) and PATCH (28) */
    ck_assert_str_eq(allow(&b, BIT(HTTP_GET) | BIT(HTTP_HEAD) | BIT(HTTP_POST), 1),
                     "GET, HEAD, POST, OPTIONS");
    ck_assert_str_eq(allow(&b, BIT(HTTP_PUT) | BIT(HTTP_PATCH), 1), "PUT, OPTIONS, PATCH");
    ck_assert_str_eq(allow(&b, BIT(HTTP_DELETE), 1), "DELETE, OPTIONS");
    ck_assert_str_eq(allow(&b, BIT(HTTP_TRACE), 1), "OPTIONS, TRACE");
    ck_assert_str_eq(allow(&b, 0, 1), "OPTIONS");
    /* already present: listed once */
    ck_assert_str_eq(allow(&b, BIT(HTTP_GET) | BIT(HTTP_OPTIONS), 1), "GET, OPTIONS");
    ck_assert_str_eq(allow(&b, BIT(HTTP_GET) | BIT(HTTP_OPTIONS), 0), "GET, OPTIONS");
    buf_free(&b);
}
END_TEST

START_TEST(test_allow_any_and_unknown_bits)
{
    struct buf b = {0};
    /* bits that are no HTTP method (RTSP numbers, unused numbers) are skipped */
    ck_assert_str_eq(allow(&b, BIT(35) | BIT(40) | BIT(63), 0), "");
    ck_assert_str_eq(allow(&b, BIT(HTTP_GET) | BIT(45) | BIT(HTTP_POST), 0), "GET, POST");

    const char *all = allow(&b, ROUTER_ANY_METHOD, 0);
    ck_assert_msg(strncmp(all, "DELETE, GET, HEAD, POST, PUT, CONNECT, OPTIONS, TRACE, ", 55) == 0,
                  "%s", all);
    size_t n = strlen(all);
    ck_assert_msg(n > 13 && strcmp(all + n - 13, "SOURCE, QUERY") == 0, "%s", all);
    ck_assert_ptr_null(strstr(all, "DESCRIBE"));
    ck_assert_ptr_null(strstr(all, ", , "));
    size_t commas = 0;
    for (size_t i = 0; i < n; i++)
        commas += all[i] == ',';
    size_t nmethods = 0;
#define YH_COUNT(num, n, s) nmethods++;
    HTTP_METHOD_MAP(YH_COUNT)
#undef YH_COUNT
    ck_assert_uint_eq(commas + 1, nmethods);
    buf_free(&b);
}
END_TEST

/* The list is appended to what the buffer holds (a header line being built). */
START_TEST(test_allow_appends)
{
    struct buf b = {0};
    buf_puts(&b, "Allow: ");
    http_append_allow(&b, BIT(HTTP_GET) | BIT(HTTP_HEAD), 1);
    buf_puts(&b, "\r\n");
    ck_assert_str_eq(str(&b), "Allow: GET, HEAD, OPTIONS\r\n");
    buf_free(&b);
}
END_TEST

/* ---- request: header lookup ---- */

/* A request as the parser leaves it: spans into one input buffer. */
static const char head_text[] = "POST /items/7?q=1&x=y HTTP/1.1\r\n"
                                "Host: example.com\r\n"
                                "Content-Type: text/plain\r\n"
                                "X-Dup: first\r\n"
                                "x-dup: second\r\n"
                                "Accept: */*\r\n"
                                "\r\n";

static struct request *parsed_request(char *input)
{
    struct request *r = calloc(1, sizeof(*r));
    ck_assert_ptr_nonnull(r);
    r->method = HTTP_POST;
    r->http_minor = 1;
    r->method_name = span_in(input, "POST");
    r->target = span_in(input, "/items/7?q=1&x=y");
    r->query = span_in(input, "q=1&x=y");
    static const char *const names[] = {"Host", "Content-Type", "X-Dup", "x-dup", "Accept"};
    static const char *const values[] = {"example.com", "text/plain", "first", "second", "*/*"};
    for (size_t i = 0; i < 5; i++) {
        char line[64];
        snprintf(line, sizeof(line), "%s: %s\r\n", names[i], values[i]);
        yh_span l = span_in(input, line);
        r->headers[i].name = (yh_span){l.p, strlen(names[i])};
        r->headers[i].value = (yh_span){l.p + strlen(names[i]) + 2, strlen(values[i])};
    }
    r->nheaders = 5;
    r->host = r->headers[0].value;
    /* the normalized path lives in path_buf, as dispatch leaves it */
    buf_puts(&r->path_buf, "/items/7");
    r->path = (yh_span){r->path_buf.data, r->path_buf.len};
    r->body_limit = 1024;
    return r;
}

START_TEST(test_request_header)
{
    char *input = strdup(head_text);
    struct request *r = parsed_request(input);

    const struct http_header *h = request_header(r, "content-type");
    ck_assert_ptr_eq(h, &r->headers[1]);
    assert_span(h->value, "text/plain");
    ck_assert_ptr_eq(request_header(r, "CONTENT-TYPE"), &r->headers[1]);
    ck_assert_ptr_eq(request_header(r, "Content-Type"), &r->headers[1]);
    ck_assert_ptr_eq(request_header(r, "host"), &r->headers[0]);
    ck_assert_ptr_eq(request_header(r, "ACCEPT"), &r->headers[4]);
    /* the first of several */
    h = request_header(r, "x-dup");
    ck_assert_ptr_eq(h, &r->headers[2]);
    assert_span(h->value, "first");
    /* whole names only */
    ck_assert_ptr_null(request_header(r, "Content"));
    ck_assert_ptr_null(request_header(r, "Content-Type2"));
    ck_assert_ptr_null(request_header(r, "Hos"));
    ck_assert_ptr_null(request_header(r, "referer"));
    ck_assert_ptr_null(request_header(r, ""));
    /* only the first nheaders count */
    r->nheaders = 1;
    ck_assert_ptr_null(request_header(r, "content-type"));
    r->nheaders = 0;
    ck_assert_ptr_null(request_header(r, "host"));

    request_destroy(r);
    free(input);
}
END_TEST

/* ---- request_detach ---- */

START_TEST(test_request_detach)
{
    char *input = strdup(head_text);
    size_t len = strlen(input);
    struct request *r = parsed_request(input);

    request_detach(r);
    ck_assert_uint_eq(r->detached, 1);
    ck_assert_ptr_nonnull(r->head_copy.data);
    ck_assert_uint_gt(r->head_copy.len, 0);
    /* the connection's buffer is reused for something else */
    memset(input, 'Z', len);

    assert_span(r->method_name, "POST");
    assert_span(r->target, "/items/7?q=1&x=y");
    assert_span(r->query, "q=1&x=y");
    assert_span(r->host, "example.com");
    assert_span(r->path, "/items/7");
    static const char *const names[] = {"Host", "Content-Type", "X-Dup", "x-dup", "Accept"};
    static const char *const values[] = {"example.com", "text/plain", "first", "second", "*/*"};
    ck_assert_uint_eq(r->nheaders, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_span(r->headers[i].name, names[i]);
        assert_span(r->headers[i].value, values[i]);
        ck_assert(span_within(r->headers[i].name, r->head_copy.data, r->head_copy.len));
        ck_assert(span_within(r->headers[i].value, r->head_copy.data, r->head_copy.len));
    }
    ck_assert(span_within(r->method_name, r->head_copy.data, r->head_copy.len));
    ck_assert(span_within(r->target, r->head_copy.data, r->head_copy.len));
    ck_assert(span_within(r->query, r->head_copy.data, r->head_copy.len));
    ck_assert(span_within(r->host, r->head_copy.data, r->head_copy.len));
    /* the path was never in the input: it stays in path_buf */
    ck_assert_ptr_eq(r->path.p, r->path_buf.data);
    /* lookups work on the copy */
    assert_span(request_header(r, "content-type")->value, "text/plain");

    /* a second detach is a no-op */
    const char *copy = r->head_copy.data;
    size_t copy_len = r->head_copy.len;
    request_detach(r);
    ck_assert_ptr_eq(r->head_copy.data, copy);
    ck_assert_uint_eq(r->head_copy.len, copy_len);
    assert_span(r->target, "/items/7?q=1&x=y");

    request_destroy(r);
    free(input);
}
END_TEST

/* The copy holds only the head's span range, not the bytes around it. */
START_TEST(test_request_detach_copies_only_the_head)
{
    char *input = malloc(4096);
    memset(input, '.', 4096);
    memcpy(input + 1000, head_text, sizeof(head_text));
    struct request *r = parsed_request(input + 1000);
    request_detach(r);
    ck_assert_uint_le(r->head_copy.len, sizeof(head_text));
    memset(input, 'Z', 4096);
    assert_span(r->method_name, "POST");
    assert_span(r->headers[4].value, "*/*");
    request_destroy(r);
    free(input);
}
END_TEST

/* A request without a query (the static "" span) or headers detaches too. */
START_TEST(test_request_detach_minimal)
{
    char *input = strdup("GET / HTTP/1.0\r\n\r\n");
    struct request *r = calloc(1, sizeof(*r));
    r->method = HTTP_GET;
    r->method_name = span_in(input, "GET");
    r->target = span_in(input, "/");
    r->query = (yh_span){"", 0};
    request_detach(r);
    memset(input, 'Z', strlen(input));
    assert_span(r->method_name, "GET");
    assert_span(r->target, "/");
    assert_span(r->query, "");
    ck_assert_ptr_null(r->host.p);
    request_destroy(r);
    free(input);

    /* nothing to copy at all */
    r = calloc(1, sizeof(*r));
    request_detach(r);
    ck_assert_uint_eq(r->detached, 1);
    ck_assert_ptr_null(r->method_name.p);
    request_destroy(r);
}
END_TEST

/* ---- request_rebase ---- */

START_TEST(test_request_rebase)
{
    size_t len = strlen(head_text);
    char *a = strdup(head_text);
    char *b = malloc(len + 1);
    memcpy(b, a, len + 1);
    struct request *r = parsed_request(a);
    static const char other[] = "elsewhere";
    r->headers[5].name = (yh_span){other, 4}; /* beyond nheaders: untouched */

    request_rebase(r, a, b, len);
    memset(a, 'Z', len);
    ck_assert_ptr_eq(r->method_name.p, b + (strstr(head_text, "POST") - head_text));
    ck_assert_ptr_eq(r->target.p, b + (strstr(head_text, "/items") - head_text));
    ck_assert_ptr_eq(r->query.p, b + (strstr(head_text, "q=1") - head_text));
    assert_span(r->method_name, "POST");
    assert_span(r->target, "/items/7?q=1&x=y");
    assert_span(r->query, "q=1&x=y");
    assert_span(r->host, "example.com");
    ck_assert(span_within(r->host, b, len));
    for (size_t i = 0; i < r->nheaders; i++) {
        ck_assert(span_within(r->headers[i].name, b, len));
        ck_assert(span_within(r->headers[i].value, b, len));
    }
    assert_span(r->headers[3].name, "x-dup");
    assert_span(r->headers[3].value, "second");
    /* spans outside [from, from + len) stay where they are */
    ck_assert_ptr_eq(r->path.p, r->path_buf.data);
    ck_assert_ptr_eq(r->headers[5].name.p, other);

    request_destroy(r);
    free(a);
    free(b);
}
END_TEST

/* Rebasing a range moves only the spans inside it (compaction keeps the tail). */
START_TEST(test_request_rebase_partial_range)
{
    char buf[128];
    memset(buf, 0, sizeof(buf));
    memcpy(buf, "old-request GET /x", 18);
    struct request *r = calloc(1, sizeof(*r));
    r->method_name = (yh_span){buf + 12, 3};
    r->target = (yh_span){buf + 16, 2};
    r->query = (yh_span){"", 0};
    /* drop the first 12 bytes: the tail moves to the front */
    memmove(buf, buf + 12, 6);
    request_rebase(r, buf + 12, buf, 6);
    assert_span(r->method_name, "GET");
    assert_span(r->target, "/x");
    ck_assert_ptr_eq(r->method_name.p, buf);
    ck_assert_ptr_null(r->host.p); /* NULL spans stay NULL */
    assert_span(r->query, "");
    request_destroy(r);
}
END_TEST

/* ---- request_reset / request_destroy ---- */

START_TEST(test_request_reset)
{
    char *input = strdup(head_text);
    struct request *r = parsed_request(input);
    request_detach(r);
    buf_puts(&r->body, "hello");
    buf_puts(&r->resp_head, "HTTP/1.1 200 OK\r\n");
    buf_puts(&r->resp_body, "world");
    r->status = 200;
    r->keep_alive = 1;
    r->done = 1;
    r->auto_status = 404;
    r->sent = 7;
    const char *path_storage = r->path_buf.data;
    const char *body_storage = r->body.data;

    request_reset(r);
    ck_assert_uint_eq(r->nheaders, 0);
    ck_assert_ptr_null(r->method_name.p);
    ck_assert_ptr_null(r->target.p);
    ck_assert_ptr_null(r->host.p);
    ck_assert_ptr_null(r->route);
    ck_assert_ptr_null(r->cfg);
    ck_assert_ptr_null(r->next);
    ck_assert_int_eq(r->status, 0);
    ck_assert_int_eq(r->auto_status, 0);
    ck_assert_uint_eq(r->keep_alive, 0);
    ck_assert_uint_eq(r->done, 0);
    ck_assert_uint_eq(r->detached, 0);
    ck_assert_uint_eq(r->sent, 0);
    ck_assert_uint_eq(r->body_limit, 0);
    /* buffers are empty but keep their storage */
    ck_assert_uint_eq(r->head_copy.len, 0);
    ck_assert_uint_eq(r->path_buf.len, 0);
    ck_assert_uint_eq(r->body.len, 0);
    ck_assert_uint_eq(r->resp_head.len, 0);
    ck_assert_uint_eq(r->resp_body.len, 0);
    ck_assert_ptr_eq(r->path_buf.data, path_storage);
    ck_assert_ptr_eq(r->body.data, body_storage);
    ck_assert_uint_gt(r->body.cap, 0);

    /* and are usable for the next request on the connection */
    buf_puts(&r->body, "next");
    ck_assert_str_eq(str(&r->body), "next");
    buf_puts(&r->resp_body, "answer");
    ck_assert_str_eq(str(&r->resp_body), "answer");

    /* a reused request detaches again */
    memcpy(input, head_text, sizeof(head_text));
    struct request *fresh = parsed_request(input);
    r->method_name = fresh->method_name;
    r->target = fresh->target;
    request_destroy(fresh);
    request_detach(r);
    memset(input, 'Z', strlen(input));
    assert_span(r->method_name, "POST");
    assert_span(r->target, "/items/7?q=1&x=y");

    request_destroy(r);
    free(input);
}
END_TEST

/* Big buffers are released at reset instead of being kept per connection. */
START_TEST(test_request_reset_frees_big_buffers)
{
    struct request *r = calloc(1, sizeof(*r));
    char *big = malloc(200 * 1024);
    memset(big, 'b', 200 * 1024);
    buf_append(&r->body, big, 200 * 1024);
    buf_append(&r->resp_body, big, 100 * 1024);
    buf_puts(&r->resp_head, "small");
    free(big);
    const char *small = r->resp_head.data;

    request_reset(r);
    ck_assert_ptr_null(r->body.data);
    ck_assert_uint_eq(r->body.cap, 0);
    ck_assert_ptr_null(r->resp_body.data);
    ck_assert_ptr_eq(r->resp_head.data, small);
    ck_assert_uint_eq(r->resp_head.len, 0);

    buf_puts(&r->body, "again");
    ck_assert_str_eq(str(&r->body), "again");
    request_destroy(r);
}
END_TEST

/* Destroy frees every buffer (ASan/LeakSanitizer checks this run). */
START_TEST(test_request_destroy)
{
    char *input = strdup(head_text);
    struct request *r = parsed_request(input);
    request_detach(r);
    buf_puts(&r->body, "body");
    buf_puts(&r->resp_head, "head");
    buf_puts(&r->resp_body, "resp");
    request_destroy(r);
    free(input);

    r = calloc(1, sizeof(*r)); /* a request that never held anything */
    request_destroy(r);
}
END_TEST

/* ---- buf.h ---- */

START_TEST(test_buf_append)
{
    struct buf b = {0};
    buf_append(&b, "", 0);
    ck_assert_ptr_null(b.data); /* nothing appended, nothing allocated */
    ck_assert_uint_eq(b.len, 0);

    buf_append(&b, "abc", 3);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_uint_ge(b.cap, 3);
    ck_assert_mem_eq(b.data, "abc", 3);
    buf_append(&b, "de\0f", 4); /* binary-safe */
    ck_assert_uint_eq(b.len, 7);
    ck_assert_mem_eq(b.data, "abcde\0f", 7);

    /* growth keeps what was there */
    b.len = 0;
    for (int i = 0; i < 1000; i++)
        buf_append(&b, "0123456789", 10);
    ck_assert_uint_eq(b.len, 10000);
    ck_assert_uint_ge(b.cap, 10000);
    for (size_t i = 0; i < b.len; i++)
        ck_assert_int_eq(b.data[i], '0' + (int)(i % 10));

    buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 0);
    /* reusable after free */
    buf_puts(&b, "again");
    buf_putc(&b, '!');
    ck_assert_str_eq(str(&b), "again!");
    buf_free(&b);
}
END_TEST

START_TEST(test_buf_reserve)
{
    struct buf b = {0};
    buf_reserve(&b, 100);
    ck_assert_uint_ge(b.cap, 100);
    ck_assert_uint_eq(b.len, 0);
    char *p = b.data;
    buf_append(&b, "x", 1);
    buf_reserve(&b, 10); /* enough room already: no move */
    ck_assert_ptr_eq(b.data, p);
    buf_reserve(&b, 0);
    ck_assert_ptr_eq(b.data, p);
    buf_reserve(&b, 5000);
    ck_assert_uint_ge(b.cap - b.len, 5000);
    ck_assert_int_eq(b.data[0], 'x');
    buf_free(&b);

    /* putc fills exactly to capacity, then grows */
    for (int i = 0; i < 300; i++)
        buf_putc(&b, (char)('a' + i % 26));
    ck_assert_uint_eq(b.len, 300);
    ck_assert_int_eq(b.data[299], 'a' + 299 % 26);
    buf_free(&b);
}
END_TEST

START_TEST(test_buf_printf)
{
    struct buf b = {0};
    buf_printf(&b, "%d %s %zu", 42, "x", (size_t)7);
    ck_assert_str_eq(str(&b), "42 x 7");
    buf_printf(&b, "|%-3s|", "a");
    ck_assert_str_eq(str(&b), "42 x 7|a  |");
    size_t len = b.len;
    buf_printf(&b, "%s", "");
    ck_assert_uint_eq(b.len, len);

    /* output longer than the first allocation */
    char long_s[1000];
    memset(long_s, 'L', sizeof(long_s) - 1);
    long_s[sizeof(long_s) - 1] = 0;
    b.len = 0;
    buf_printf(&b, "<%s>", long_s);
    ck_assert_uint_eq(b.len, 1001);
    ck_assert_int_eq(b.data[0], '<');
    ck_assert_int_eq(b.data[999], 'L');
    ck_assert_int_eq(b.data[1000], '>');
    buf_free(&b);

    /* exactly filling the buffer (the NUL vsnprintf writes needs room too) */
    b = (struct buf){0};
    buf_reserve(&b, 1);
    size_t cap = b.cap;
    b.len = 0;
    char fill[256];
    memset(fill, 'f', cap);
    fill[cap] = 0;
    buf_printf(&b, "%s", fill);
    ck_assert_uint_eq(b.len, cap);
    ck_assert_mem_eq(b.data, fill, cap);
    buf_free(&b);
}
END_TEST

START_TEST(test_buf_put_u64)
{
    struct buf b = {0};
    buf_put_u64(&b, 0);
    ck_assert_str_eq(str(&b), "0");
    b.len = 0;
    buf_put_u64(&b, 7);
    ck_assert_str_eq(str(&b), "7");
    b.len = 0;
    buf_put_u64(&b, 10);
    ck_assert_str_eq(str(&b), "10");
    b.len = 0;
    buf_put_u64(&b, 1048576);
    ck_assert_str_eq(str(&b), "1048576");
    b.len = 0;
    buf_put_u64(&b, UINT64_MAX);
    ck_assert_str_eq(str(&b), "18446744073709551615");
    /* appends */
    b.len = 0;
    buf_puts(&b, "Content-Length: ");
    buf_put_u64(&b, 123);
    ck_assert_str_eq(str(&b), "Content-Length: 123");
    buf_free(&b);
}
END_TEST

START_TEST(test_span_ieq)
{
    ck_assert(span_ieq(YH_SPAN_LIT("Host"), "host"));
    ck_assert(span_ieq(YH_SPAN_LIT("hOST"), "HoSt"));
    ck_assert(span_ieq(YH_SPAN_LIT("Content-Length"), "content-length"));
    ck_assert(!span_ieq(YH_SPAN_LIT("Host"), "hos"));
    ck_assert(!span_ieq(YH_SPAN_LIT("Hos"), "host"));
    ck_assert(!span_ieq(YH_SPAN_LIT("Host"), "hosts"));
    ck_assert(!span_ieq(YH_SPAN_LIT("Host"), "post"));
    ck_assert(span_ieq((yh_span){"", 0}, ""));
    ck_assert(!span_ieq((yh_span){"", 0}, "a"));
    /* only n bytes of the span count: it need not be NUL-terminated */
    ck_assert(span_ieq((yh_span){"HostXYZ", 4}, "host"));
    ck_assert(!span_ieq((yh_span){"HostXYZ", 7}, "host"));
    /* "-" and "_" are different, case folding is ASCII letters only */
    ck_assert(!span_ieq(YH_SPAN_LIT("X-A"), "x_a"));
}
END_TEST

START_TEST(test_span_eq)
{
    ck_assert(span_eq(YH_SPAN_LIT("abc"), (yh_span){"abcdef", 3}));
    ck_assert(!span_eq(YH_SPAN_LIT("abc"), YH_SPAN_LIT("ABC")));
    ck_assert(!span_eq(YH_SPAN_LIT("abc"), YH_SPAN_LIT("ab")));
    ck_assert(span_eq((yh_span){"", 0}, (yh_span){"x", 0}));
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("http");
    tcase_add_test(tc, test_status_text);
    tcase_add_test(tc, test_status_text_unknown);
    tcase_add_test(tc, test_date_rfc_example);
    tcase_add_test(tc, test_date_changes_with_second);
    tcase_add_test(tc, test_method_from_name);
    tcase_add_test(tc, test_method_from_name_unknown);
    tcase_add_test(tc, test_method_from_name_uses_len);
    tcase_add_test(tc, test_method_name_roundtrip);
    tcase_add_test(tc, test_allow);
    tcase_add_test(tc, test_allow_options);
    tcase_add_test(tc, test_allow_any_and_unknown_bits);
    tcase_add_test(tc, test_allow_appends);
    suite_add_tcase(s, tc);

    tc = tcase_create("request");
    tcase_add_test(tc, test_request_header);
    tcase_add_test(tc, test_request_detach);
    tcase_add_test(tc, test_request_detach_copies_only_the_head);
    tcase_add_test(tc, test_request_detach_minimal);
    tcase_add_test(tc, test_request_rebase);
    tcase_add_test(tc, test_request_rebase_partial_range);
    tcase_add_test(tc, test_request_reset);
    tcase_add_test(tc, test_request_reset_frees_big_buffers);
    tcase_add_test(tc, test_request_destroy);
    suite_add_tcase(s, tc);

    tc = tcase_create("buf");
    tcase_add_test(tc, test_buf_append);
    tcase_add_test(tc, test_buf_reserve);
    tcase_add_test(tc, test_buf_printf);
    tcase_add_test(tc, test_buf_put_u64);
    tcase_add_test(tc, test_span_ieq);
    tcase_add_test(tc, test_span_eq);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(http_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
