/* Unit tests for src/handlers/exec_cgi.c: the CGI header block of a script's output. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/exec_cgi.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What a whole parse gave, as text: comparable across ways of feeding it. */
struct outcome {
    int state;
    int has_block, status, has_type;
    long long length;
    char fields[16384]; /* "Name=value|" ... */
    char body[40000];
    size_t body_len;
};

static void describe(struct cgi_parser *p, int state, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->state = state;
    if (state != CGI_DONE)
        return;
    o->has_block = p->has_block;
    o->status = p->status;
    o->has_type = p->has_type;
    o->length = (long long)p->length;
    size_t at = 0;
    for (size_t i = 0; i < p->nfields; i++) {
        yh_span name, value;
        cgi_field(p, i, &name, &value);
        at += (size_t)snprintf(o->fields + at, sizeof(o->fields) - at, "%.*s=%.*s|", (int)name.n,
                               name.p, (int)value.n, value.p);
        ck_assert_uint_lt(at, sizeof(o->fields));
    }
    const char *b = cgi_body(p, &o->body_len);
    ck_assert_uint_le(o->body_len, sizeof(o->body));
    memcpy(o->body, b, o->body_len);
}

/* Feeds data in pieces of `step` bytes (0: at once), then the EOF if `eof`. */
static void parse(const char *data, size_t n, size_t step, int eof, struct outcome *o)
{
    struct cgi_parser p;
    cgi_init(&p);
    int state = CGI_MORE;
    if (step == 0)
        step = n ? n : 1;
    for (size_t off = 0; off < n && state == CGI_MORE; off += step)
        state = cgi_feed(&p, data + off, n - off < step ? n - off : step);
    /* the rest is body: a caller passes it on without the parser */
    struct outcome tmp;
    describe(&p, state, &tmp);
    if (state == CGI_DONE) {
        size_t fed = p.held.len;
        memcpy(tmp.body + tmp.body_len, data + fed, n - fed);
        tmp.body_len += n - fed;
    }
    if (state == CGI_MORE && eof) {
        state = cgi_eof(&p);
        describe(&p, state, &tmp);
    }
    *o = tmp;
    cgi_free(&p);
}

static void parse_str(const char *s, int eof, struct outcome *o)
{
    parse(s, strlen(s), 0, eof, o);
}

static void assert_same(const struct outcome *a, const struct outcome *b, const char *what,
                        size_t split)
{
    ck_assert_msg(a->state == b->state, "%s split %zu: state %d vs %d", what, split, a->state,
                  b->state);
    ck_assert_msg(a->status == b->status && a->has_block == b->has_block &&
                      a->length == b->length && a->has_type == b->has_type,
                  "%s split %zu: head differs", what, split);
    ck_assert_msg(strcmp(a->fields, b->fields) == 0, "%s split %zu: fields %s vs %s", what, split,
                  a->fields, b->fields);
    ck_assert_msg(a->body_len == b->body_len && memcmp(a->body, b->body, a->body_len) == 0,
                  "%s split %zu: body differs", what, split);
}

START_TEST(test_complete_block)
{
    struct outcome o;
    parse_str("Status: 201 Created\r\nX-A:  one two \r\nContent-Type: text/x\r\n\r\nbody\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 1);
    ck_assert_int_eq(o.status, 201);
    ck_assert_int_eq(o.has_type, 1);
    ck_assert_int_eq(o.length, -1);
    ck_assert_str_eq(o.fields, "X-A=one two|Content-Type=text/x|");
    ck_assert_uint_eq(o.body_len, 5);
    ck_assert(memcmp(o.body, "body\n", 5) == 0);
}
END_TEST

START_TEST(test_lf_and_crlf_agree)
{
    struct outcome lf, crlf;
    parse_str("Content-Type: text/plain\nX-B: 2\n\nhello", 0, &lf);
    parse_str("Content-Type: text/plain\r\nX-B: 2\r\n\r\nhello", 0, &crlf);
    assert_same(&lf, &crlf, "lf/crlf", 0);
    ck_assert_int_eq(lf.status, 200);
    ck_assert_str_eq(lf.fields, "Content-Type=text/plain|X-B=2|");
    /* mixed endings in one block */
    parse_str("Content-Type: text/plain\r\nX-B: 2\n\r\nhello", 0, &crlf);
    assert_same(&lf, &crlf, "mixed", 0);
}
END_TEST

/* Every way of cutting the output in two, and byte by byte, gives the same result. */
static const char *const split_inputs[] = {
    "Status: 404 Not Found\r\nContent-Type: text/html\r\nX-Y: z\r\n\r\n<p>gone</p>",
    "Location: /elsewhere\n\n",
    "Content-Length: 5\nConnection: close\n\n12345",
    "just text, no header block\nsecond line\n",
    "\r\nbody after an empty block",
    "X-A: 1\nbad line\n\nbody",
    "Status: 99\n\n",
};

START_TEST(test_split_at_every_byte)
{
    const char *in = split_inputs[_i];
    size_t n = strlen(in);
    struct outcome whole, piece;
    parse(in, n, 0, 1, &whole);
    for (size_t k = 1; k < n; k++) {
        struct cgi_parser p;
        cgi_init(&p);
        int state = cgi_feed(&p, in, k);
        size_t fed = k;
        if (state == CGI_MORE) {
            state = cgi_feed(&p, in + k, n - k);
            fed = n;
        }
        if (state == CGI_MORE)
            state = cgi_eof(&p);
        describe(&p, state, &piece);
        if (state == CGI_DONE) {
            memcpy(piece.body + piece.body_len, in + fed, n - fed);
            piece.body_len += n - fed;
        }
        cgi_free(&p);
        assert_same(&whole, &piece, in, k);
    }
    parse(in, n, 1, 1, &piece);
    assert_same(&whole, &piece, in, 1);
}
END_TEST

START_TEST(test_no_block)
{
    struct outcome o;
    parse_str("hello world\nmore\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 0);
    ck_assert_int_eq(o.status, 200);
    ck_assert_str_eq(o.fields, "");
    ck_assert_uint_eq(o.body_len, 17);

    /* decided before the line ends: a space before any colon */
    parse_str("hello wor", 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 0);
    /* binary output */
    parse("\x89PNG\r\n\x1a\n", 8, 0, 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_uint_eq(o.body_len, 8);
    /* an empty name, a control byte in the value */
    parse_str(": x\n\n", 0, &o);
    ck_assert_int_eq(o.has_block, 0);
    parse_str("A: b\x01\n\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 0);

    /* undecided until the end of the output */
    parse_str("word", 0, &o);
    ck_assert_int_eq(o.state, CGI_MORE);
    parse_str("word", 1, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 0);
    ck_assert_uint_eq(o.body_len, 4);
    /* no output at all */
    parse_str("", 1, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_uint_eq(o.body_len, 0);
}
END_TEST

START_TEST(test_empty_block)
{
    struct outcome o;
    parse_str("\nbody", 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 1);
    ck_assert_int_eq(o.has_type, 0);
    ck_assert_uint_eq(o.body_len, 4);
}
END_TEST

static const char *const bad_status[] = {
    "Status: 99\n\n",
    "Status: 600\n\n",
    "Status: 1000\n\n",
    "Status: abc\n\n",
    "Status:\n\n",
    "Status: 20\n\n",
    "Status: 100 Continue\n\n",
    "Status: 2O0\n\n",
    "Status: 200x\n\n",
    "X: 1\nStatus: 200\nStatus: 404\n\n",
};

START_TEST(test_bad_status)
{
    struct outcome o;
    parse_str(bad_status[_i], 0, &o);
    ck_assert_msg(o.state == CGI_ERROR, "accepted: %s", bad_status[_i]);
}
END_TEST

START_TEST(test_status_and_location)
{
    struct outcome o;
    parse_str("Location: /x\n\n", 0, &o);
    ck_assert_int_eq(o.status, 302);
    ck_assert_str_eq(o.fields, "Location=/x|");
    parse_str("Location: /x\nStatus: 301 Moved\n\n", 0, &o);
    ck_assert_int_eq(o.status, 301);
    parse_str("status:   599\n\n", 0, &o);
    ck_assert_int_eq(o.status, 599);
    parse_str("Status: 200\tOK\n\n", 0, &o);
    ck_assert_int_eq(o.status, 200);
}
END_TEST

START_TEST(test_content_length_and_dropped_fields)
{
    struct outcome o;
    parse_str("Content-Length: 12\nConnection: close\nTransfer-Encoding: chunked\n"
              "Date: x\nServer: other\nKeep-Alive: 5\nUpgrade: h2c\nX-Kept: yes\n\n",
              0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.length, 12);
    ck_assert_str_eq(o.fields, "X-Kept=yes|");
    parse_str("Content-Length: 1x\n\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    parse_str("Content-Length: -1\n\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    parse_str("Content-Length: 1\nContent-Length: 1\n\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
}
END_TEST

START_TEST(test_malformed_lines)
{
    struct outcome o;
    parse_str("X-A: 1\nno colon here\n\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    parse_str("X-A: 1\n folded\n\n", 0, &o); /* obs-fold */
    ck_assert_int_eq(o.state, CGI_ERROR);
    parse_str("X-A: 1\nBad Name: 2\n\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    parse_str("X-A: 1\nB: \x7f\n\n", 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    /* the output ends inside the block */
    parse_str("X-A: 1\n", 1, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    /* an unfinished first line is body, whatever it looks like */
    parse_str("Error: out of cheese", 1, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 0);
    ck_assert_uint_eq(o.body_len, 20);
}
END_TEST

START_TEST(test_oversize)
{
    static char big[CGI_HEAD_MAX * 2 + 64];
    struct outcome o;
    /* one header line that never ends */
    memset(big, 'a', sizeof(big) - 1);
    memcpy(big, "X-Big: ", 7);
    parse(big, sizeof(big) - 1, 1000, 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    /* many short lines without the blank one */
    size_t n = 0;
    while (n < CGI_HEAD_MAX + 100)
        n += (size_t)sprintf(big + n, "X-N: %05zu\n", n);
    parse(big, n, 0, 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    parse(big, n, 1, 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    /* a block that ends just past the limit */
    memset(big, 0, sizeof(big));
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'v', CGI_HEAD_MAX - 9);
    strcat(big, "\n\n");
    ck_assert_uint_eq(strlen(big), CGI_HEAD_MAX);
    parse_str(big, 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE); /* exactly the limit */
    memmove(big + 1, big, strlen(big) + 1);
    big[0] = 'Y';
    parse_str(big, 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    /* a first line without a colon longer than the limit is plain body */
    memset(big, 'w', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    parse(big, sizeof(big) - 1, 100, 0, &o);
    ck_assert_int_eq(o.state, CGI_DONE);
    ck_assert_int_eq(o.has_block, 0);
    ck_assert_uint_eq(o.body_len, sizeof(big) - 1);
}
END_TEST

START_TEST(test_too_many_fields)
{
    struct buf b = {0};
    for (int i = 0; i <= CGI_MAX_FIELDS; i++)
        buf_printf(&b, "X-%d: v\n", i);
    buf_puts(&b, "\n");
    struct outcome o;
    parse(b.data, b.len, 0, 0, &o);
    ck_assert_int_eq(o.state, CGI_ERROR);
    buf_free(&b);
}
END_TEST

/* Once decided, more input changes nothing. */
START_TEST(test_done_is_final)
{
    struct cgi_parser p;
    cgi_init(&p);
    ck_assert_int_eq(cgi_feed(&p, "X: 1\n\nab", 8), CGI_DONE);
    ck_assert_int_eq(cgi_feed(&p, "cd", 2), CGI_DONE);
    size_t n;
    const char *b = cgi_body(&p, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert(memcmp(b, "ab", 2) == 0);
    ck_assert_int_eq(cgi_eof(&p), CGI_DONE);
    cgi_free(&p);
    cgi_init(&p);
    ck_assert_int_eq(cgi_feed(&p, "Status: x\n", 10), CGI_ERROR);
    ck_assert_str_eq(cgi_error(&p), "bad Status line (want 3 digits from 200 to 599)");
    ck_assert_int_eq(cgi_feed(&p, "\n", 1), CGI_ERROR);
    ck_assert_int_eq(cgi_eof(&p), CGI_ERROR);
    cgi_free(&p);
    cgi_init(&p);
    ck_assert_int_eq(cgi_feed(&p, "", 0), CGI_MORE);
    ck_assert_int_eq(cgi_feed(&p, NULL, 0), CGI_MORE);
    cgi_free(&p);
}
END_TEST

static Suite *cgi_suite(void)
{
    Suite *s = suite_create("cgi");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_complete_block);
    tcase_add_test(tc, test_lf_and_crlf_agree);
    tcase_add_loop_test(tc, test_split_at_every_byte, 0, N(split_inputs));
    tcase_add_test(tc, test_no_block);
    tcase_add_test(tc, test_empty_block);
    tcase_add_loop_test(tc, test_bad_status, 0, N(bad_status));
    tcase_add_test(tc, test_status_and_location);
    tcase_add_test(tc, test_content_length_and_dropped_fields);
    tcase_add_test(tc, test_malformed_lines);
    tcase_add_test(tc, test_oversize);
    tcase_add_test(tc, test_too_many_fields);
    tcase_add_test(tc, test_done_is_final);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cgi_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
