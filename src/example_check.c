/* Route examples: reading the answer the server wrote and comparing it with the expectation. */
#include "example_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_examples.h"

#define QUOTE_MAX 80 /* bytes of a body shown in a message */

static const char *find(const char *p, size_t n, const char *needle, size_t k)
{
    return k <= n ? memmem(p, n, needle, k) : NULL;
}

/* Decodes a chunked body from [p, end) into out; returns 0, or -1 when cut short. */
static int dechunk(const char *p, const char *end, struct buf *out)
{
    for (;;) {
        const char *nl = find(p, (size_t)(end - p), "\r\n", 2);
        if (!nl)
            return -1;
        char *stop;
        unsigned long long size = strtoull(p, &stop, 16);
        if (stop == p)
            return -1;
        p = nl + 2;
        if (size == 0)
            return 0; /* trailers are not examined */
        if ((unsigned long long)(end - p) < size + 2) {
            buf_append(out, p, (size_t)(end - p));
            return -1;
        }
        buf_append(out, p, (size_t)size);
        p += size + 2;
    }
}

static int status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

int ex_parse_answer(const char *p, size_t n, int head_only, struct ex_answer *a, const char **why)
{
    const char *end = p + n;
    for (;;) {
        const char *blank = find(p, (size_t)(end - p), "\r\n\r\n", 4);
        if ((size_t)(end - p) < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ') {
            *why = n ? "the answer is not HTTP/1.x" : "no answer (the connection closed)";
            return -1;
        }
        if (!blank) {
            *why = "the answer's head is incomplete";
            return -1;
        }
        a->status = atoi(p + 9);
        const char *line_end = find(p, (size_t)(blank + 2 - p), "\r\n", 2);
        a->head = (yh_span){line_end + 2, (size_t)(blank + 2 - (line_end + 2))};
        p = blank + 4;
        if (a->status >= 200 || a->status == 101)
            break; /* 100 Continue and friends come before the real answer */
    }
    yh_span v;
    a->body.len = 0;
    a->truncated = 0;
    if (head_only || !status_has_body(a->status))
        return 0;
    if (ex_answer_header(a, "Transfer-Encoding", &v) && v.n >= 7 &&
        strncasecmp(v.p + v.n - 7, "chunked", 7) == 0) {
        a->truncated = dechunk(p, end, &a->body) < 0;
    } else if (ex_answer_header(a, "Content-Length", &v)) {
        size_t want = (size_t)strtoull(v.p, NULL, 10);
        size_t have = (size_t)(end - p);
        a->truncated = have < want;
        buf_append(&a->body, p, have < want ? have : want);
    } else {
        buf_append(&a->body, p, (size_t)(end - p)); /* delimited by the close */
    }
    return 0;
}

int ex_answer_header(const struct ex_answer *a, const char *name, yh_span *value)
{
    size_t k = strlen(name);
    const char *p = a->head.p, *end = p + a->head.n;
    while (p < end) {
        const char *nl = find(p, (size_t)(end - p), "\r\n", 2);
        const char *stop = nl ? nl : end;
        if ((size_t)(stop - p) > k && p[k] == ':' && strncasecmp(p, name, k) == 0) {
            const char *s = p + k + 1;
            while (s < stop && (*s == ' ' || *s == '\t'))
                s++;
            const char *e = stop;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *value = (yh_span){s, (size_t)(e - s)};
            return 1;
        }
        p = stop + 2;
    }
    return 0;
}

void ex_put_quoted(struct buf *out, const char *p, size_t n, size_t max)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < n && i < max; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\n')
            buf_puts(out, "\\n");
        else if (c == '\r')
            buf_puts(out, "\\r");
        else if (c == '\t')
            buf_puts(out, "\\t");
        else if (c == '"' || c == '\\')
            buf_printf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            buf_printf(out, "\\x%02x", c);
        else
            buf_putc(out, (char)c);
    }
    buf_putc(out, '"');
    if (n > max)
        buf_printf(out, "... (%zu bytes)", n);
}

/* "FILE:LINE:COL: example N of "LABEL": " */
static void prefix(struct buf *out, const char *file, struct ex_pos at, size_t index,
                   const char *label)
{
    buf_printf(out, "%s:%d:%d: example %zu of \"%s\": ", file, at.line, at.col, index, label);
}

int ex_compare(const struct route_example *ex, const struct ex_answer *a, const char *file,
               const char *label, size_t index, struct buf *errors)
{
    int bad = 0;
    if (a->status != ex->status) {
        prefix(errors, file, ex->status_at, index, label);
        buf_printf(errors, "expected status %d, got %d\n", ex->status, a->status);
        return 1;
    }
    for (size_t i = 0; i < ex->nheaders; i++) {
        const struct ex_header *h = &ex->headers[i];
        yh_span v;
        int has = ex_answer_header(a, h->name, &v);
        if (has && v.n == strlen(h->value) && memcmp(v.p, h->value, v.n) == 0)
            continue;
        prefix(errors, file, h->at, index, label);
        buf_printf(errors, "expected header %s: ", h->name);
        ex_put_quoted(errors, h->value, strlen(h->value), QUOTE_MAX);
        buf_puts(errors, ", got ");
        if (has)
            ex_put_quoted(errors, v.p, v.n, QUOTE_MAX);
        else
            buf_puts(errors, "none");
        buf_putc(errors, '\n');
        bad++;
    }
    if (ex->body && (a->body.len != ex->body_len ||
                     (ex->body_len && memcmp(a->body.data, ex->body, ex->body_len) != 0))) {
        prefix(errors, file, ex->body_at, index, label);
        buf_puts(errors, "expected body ");
        ex_put_quoted(errors, ex->body, ex->body_len, QUOTE_MAX);
        buf_puts(errors, ", got ");
        ex_put_quoted(errors, a->body.data, a->body.len, QUOTE_MAX);
        buf_puts(errors, a->truncated ? " (cut short)\n" : "\n");
        bad++;
    }
    for (size_t i = 0; i < ex->ncontains; i++) {
        const struct ex_header *c = &ex->contains[i];
        size_t k = strlen(c->value);
        if (a->body.len >= k && (k == 0 || memmem(a->body.data, a->body.len, c->value, k)))
            continue;
        prefix(errors, file, c->at, index, label);
        buf_puts(errors, "expected the body to contain ");
        ex_put_quoted(errors, c->value, k, QUOTE_MAX);
        buf_puts(errors, ", got ");
        ex_put_quoted(errors, a->body.data, a->body.len, QUOTE_MAX);
        buf_putc(errors, '\n');
        bad++;
    }
    return bad;
}
