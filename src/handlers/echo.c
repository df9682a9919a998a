/* `echo:` — answers with what the client sent (json: a description; body: the body). */
#include "echo.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../config.h"
#include "../http.h"
#include "../pathnorm.h"
#include "../request.h"

static void json_string(struct buf *b, const char *p, size_t n)
{
    buf_putc(b, '"');
    json_escape_append(b, p, n);
    buf_putc(b, '"');
}

/* Appends a query component, percent-decoded ('+' = space) when well-formed. */
static void json_query_part(struct buf *b, const char *p, size_t n)
{
    char *tmp = malloc(n + 1);
    if (!tmp)
        abort();
    ssize_t m = percent_decode(p, n, tmp, 1);
    if (m < 0)
        json_string(b, p, n);
    else
        json_string(b, tmp, (size_t)m);
    free(tmp);
}

/* 1 when the raw query name [name, name + n) appears before `before`. */
static int query_name_seen(yh_span q, const char *before, const char *name, size_t n)
{
    const char *p = q.p;
    while (p < before) {
        const char *amp = memchr(p, '&', (size_t)(before - p));
        const char *stop = amp ? amp : before;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        size_t len = (size_t)((eq ? eq : stop) - p);
        if (stop > p && len == n && memcmp(p, name, n) == 0)
            return 1;
        p = stop + 1;
    }
    return 0;
}

/* The query as an object of decoded names and values; the first value of a name wins. */
static void echo_query(struct buf *b, yh_span q)
{
    buf_puts(b, "\"query\":{");
    const char *p = q.p, *end = q.p + q.n;
    int first = 1;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        size_t name_len = (size_t)((eq ? eq : stop) - p);
        if (stop > p && !query_name_seen(q, p, p, name_len)) {
            if (!first)
                buf_putc(b, ',');
            first = 0;
            json_query_part(b, p, (size_t)((eq ? eq : stop) - p));
            buf_putc(b, ':');
            if (eq)
                json_query_part(b, eq + 1, (size_t)(stop - eq - 1));
            else
                buf_puts(b, "\"\"");
        }
        p = stop + 1;
    }
    buf_puts(b, "},");
}

static int same_name(yh_span a, yh_span b)
{
    return a.n == b.n && strncasecmp(a.p, b.p, a.n) == 0;
}

/* Repeated headers are joined with ", " (RFC 9110 5.3) under the first name. */
static void echo_headers(struct buf *b, const struct request *r)
{
    buf_puts(b, "\"headers\":{");
    int first = 1;
    for (size_t i = 0; i < r->nheaders; i++) {
        size_t j = 0;
        while (j < i && !same_name(r->headers[j].name, r->headers[i].name))
            j++;
        if (j < i)
            continue; /* already written with the first of its name */
        if (!first)
            buf_putc(b, ',');
        first = 0;
        json_string(b, r->headers[i].name.p, r->headers[i].name.n);
        buf_puts(b, ":\"");
        for (size_t k = i; k < r->nheaders; k++) {
            if (!same_name(r->headers[k].name, r->headers[i].name))
                continue;
            if (k != i)
                buf_puts(b, ", ");
            json_escape_append(b, r->headers[k].value.p ? r->headers[k].value.p : "",
                               r->headers[k].value.n);
        }
        buf_putc(b, '"');
    }
    buf_puts(b, "},");
}

static void echo_vars(struct buf *b, const struct request *r)
{
    buf_puts(b, "\"vars\":{");
    for (int i = 0; r->route && i < r->match.nvars; i++) {
        if (i)
            buf_putc(b, ',');
        const char *name = r->route->vars.names[i];
        json_string(b, name, strlen(name));
        buf_putc(b, ':');
        json_string(b, r->match.vars[i].p, r->match.vars[i].n);
    }
    buf_puts(b, "},");
}

static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!len || i + len > n || (len == 2 && c < 0xc2))
            return 0;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
        i += len;
    }
    return 1;
}

static void base64_append(struct buf *b, const unsigned char *s, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? s[i + 2] : 0);
        buf_putc(b, tbl[(v >> 18) & 63]);
        buf_putc(b, tbl[(v >> 12) & 63]);
        buf_putc(b, i + 1 < n ? tbl[(v >> 6) & 63] : '=');
        buf_putc(b, i + 2 < n ? tbl[v & 63] : '=');
    }
}

/* The body as a JSON string, or base64 under "body_base64" when not UTF-8. */
static void echo_body_field(struct buf *b, const struct request *r)
{
    const unsigned char *s = (const unsigned char *)(r->body.data ? r->body.data : "");
    if (valid_utf8(s, r->body.len)) {
        buf_puts(b, "\"body\":");
        json_string(b, (const char *)s, r->body.len);
    } else {
        buf_puts(b, "\"body_base64\":\"");
        base64_append(b, s, r->body.len);
        buf_putc(b, '"');
    }
}

static void echo_json(struct request *r)
{
    resp_begin(r, 200);
    resp_header(r, "Content-Type", "application/json", 16);
    struct buf *b = resp_body_buf(r);
    buf_puts(b, "{\"method\":");
    json_string(b, r->method_name.p, r->method_name.n);
    buf_puts(b, ",\"path\":");
    json_string(b, r->path.p, r->path.n);
    buf_putc(b, ',');
    echo_query(b, r->query);
    echo_headers(b, r);
    echo_vars(b, r);
    echo_body_field(b, r);
    buf_puts(b, "}\n");
    resp_finish(r);
}

static void echo_body(struct request *r)
{
    const struct http_header *ct = request_header(r, "content-type");
    resp_begin(r, 200);
    if (ct)
        resp_header(r, "Content-Type", ct->value.p ? ct->value.p : "", ct->value.n);
    else
        resp_header(r, "Content-Type", "application/octet-stream", 24);
    resp_body_static(r, r->body.data, r->body.len);
    resp_finish(r);
}

void echo_handle(struct request *r, const void *state)
{
    const enum echo_mode *mode = state;
    if (*mode == ECHO_JSON)
        echo_json(r);
    else
        echo_body(r);
}

void echo_destroy(void *state)
{
    free(state);
}
