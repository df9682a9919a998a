/* From a parsed head to a handler: validation, routing, automatic answers. */
#include "dispatch.h"

#include <string.h>
#include <strings.h>

#include "config.h"
#include "conn.h"
#include "handler.h"
#include "http.h"
#include "pathnorm.h"
#include "request.h"

/* reg-name / IP-literal characters plus ':' for the port (RFC 3986 3.2.2). */
static int valid_host(yh_span h)
{
    for (size_t i = 0; i < h.n; i++) {
        unsigned char c = (unsigned char)h.p[i];
        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
            !strchr("-._~!$&'()*+,;=:[]%", c))
            return 0;
    }
    return 1;
}

static int check_host(struct request *r)
{
    int count = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!span_ieq(r->headers[i].name, "host"))
            continue;
        r->host = r->headers[i].value;
        count++;
    }
    if (count > 1 || (count == 0 && r->http_minor >= 1))
        return 400;
    if (count == 1 && !valid_host(r->host))
        return 400;
    return 0;
}

/* One coding of a Transfer-Encoding list: 1 chunked, 0 other, -1 empty. */
static int next_coding(const char **s, const char *end, int *is_chunked)
{
    while (*s < end && (**s == ' ' || **s == '\t' || **s == ','))
        (*s)++;
    const char *start = *s;
    while (*s < end && **s != ',')
        (*s)++;
    const char *stop = *s;
    while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    if (stop == start)
        return -1;
    *is_chunked = (size_t)(stop - start) == 7 && strncasecmp(start, "chunked", 7) == 0;
    return 0;
}

/* chunked must be the final coding, once (else 400); we decode no other coding (501). */
static int check_transfer_encoding(const struct request *r)
{
    int seen = 0, last_chunked = 0, other = 0, chunked_count = 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!span_ieq(r->headers[i].name, "transfer-encoding"))
            continue;
        seen = 1;
        const char *s = r->headers[i].value.p, *end = s + r->headers[i].value.n;
        int is_chunked;
        while (next_coding(&s, end, &is_chunked) == 0) {
            last_chunked = is_chunked;
            chunked_count += is_chunked;
            other |= !is_chunked;
        }
    }
    if (!seen)
        return 0;
    if (r->http_minor == 0)
        return 400; /* HTTP/1.0 has no Transfer-Encoding: smuggling bait */
    if (other)
        return 501; /* a coding we cannot decode, wherever it stands */
    return last_chunked && chunked_count == 1 ? 0 : 400;
}

static size_t absolute_form_scheme(yh_span t)
{
    if (t.n >= 7 && strncasecmp(t.p, "http://", 7) == 0)
        return 7;
    if (t.n >= 8 && strncasecmp(t.p, "https://", 8) == 0)
        return 8;
    return 0;
}

/* The path and query of the target: origin-form, or absolute-form (RFC 9112
 * 3.2.2), whose authority then stands for Host (*host; unchanged for
 * origin-form); an empty path is "/". */
static int split_target(yh_span t, yh_span *path, yh_span *query, yh_span *host)
{
    size_t scheme = absolute_form_scheme(t);
    if (scheme) {
        const char *auth = t.p + scheme, *end = t.p + t.n, *a = auth;
        while (a < end && *a != '/' && *a != '?' && *a != '#')
            a++;
        *host = (yh_span){auth, (size_t)(a - auth)};
        if (host->n == 0 || !valid_host(*host) || memchr(a, '#', (size_t)(end - a)))
            return 400; /* no host, userinfo (RFC 9110 4.2.4) or a fragment */
        if (a == end || *a == '?') {
            *path = YH_SPAN_LIT("/");
            *query = a == end ? (yh_span){"", 0} : (yh_span){a + 1, (size_t)(end - a - 1)};
            return 0;
        }
        t = (yh_span){a, (size_t)(end - a)};
    }
    if (t.n == 0 || t.p[0] != '/' || memchr(t.p, '#', t.n))
        return 400;
    const char *q = memchr(t.p, '?', t.n);
    *path = (yh_span){t.p, q ? (size_t)(q - t.p) : t.n};
    *query = q ? (yh_span){q + 1, (size_t)(t.p + t.n - q - 1)} : (yh_span){"", 0};
    return 0;
}

int request_target_path(yh_span target, struct buf *path, yh_span *query, yh_span *host)
{
    yh_span raw, ignored;
    if (split_target(target, &raw, query, host ? host : &ignored))
        return 400;
    path->len = 0;
    buf_reserve(path, raw.n + 1);
    ssize_t n = path_normalize(raw.p, raw.n, path->data);
    if (n < 0)
        return 400;
    path->len = (size_t)n;
    path->data[n] = '\0';
    return 0;
}

static void match_route(struct request *r)
{
    enum router_result res =
        router_match(r->cfg->router, r->path.p, r->path.n, r->method, &r->match);
    if (res == ROUTER_FOUND) {
        r->route = r->match.data;
        r->body_limit = r->route->body_size;
    } else if (res == ROUTER_METHOD_NOT_ALLOWED) {
        r->auto_status = r->method == HTTP_OPTIONS ? 204 : 405;
    } else {
        r->auto_status = 404;
    }
}

/* 100-continue is sent (or 417 for any other expectation) before the body. */
static int handle_expect(struct request *r, llhttp_t *p)
{
    const struct http_header *h = request_header(r, "expect");
    if (!h)
        return 0;
    if (h->value.n != 12 || strncasecmp(h->value.p, "100-continue", 12) != 0)
        return 417;
    int has_body = (p->flags & F_CHUNKED) || ((p->flags & F_CONTENT_LENGTH) && p->content_length);
    if (r->http_minor >= 1 && has_body)
        conn_send_continue(r);
    return 0;
}

/* OPTIONS * : every method some route accepts. */
static void allow_everything(struct request *r)
{
    r->match.allow = 0;
    for (size_t i = 0; i < r->cfg->nroutes; i++)
        r->match.allow |= r->cfg->routes[i].methods;
    if (r->match.allow & ROUTER_METHOD_BIT(HTTP_GET))
        r->match.allow |= ROUTER_METHOD_BIT(HTTP_HEAD);
    r->auto_status = 204;
}

int request_route(struct request *r, llhttp_t *p)
{
    int status;
    if (p->http_major != 1)
        return 505;
    if ((status = check_host(r)) || (status = check_transfer_encoding(r)))
        return status;
    r->head_only = r->method == HTTP_HEAD;
    r->body_limit = r->cfg->limits.body_size;
    if (r->method == HTTP_OPTIONS && r->target.n == 1 && r->target.p[0] == '*') {
        allow_everything(r);
        r->path = YH_SPAN_LIT("*");
        r->query = (yh_span){"", 0};
    } else if (r->method == HTTP_CONNECT) {
        return 501;
    } else {
        if ((status = request_target_path(r->target, &r->path_buf, &r->query, &r->host)))
            return status;
        r->path = (yh_span){r->path_buf.data, r->path_buf.len};
        match_route(r);
    }
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > r->body_limit)
        return 413;
    return handle_expect(r, p);
}

static void answer_allow(struct request *r, int status)
{
    static struct buf allow;
    allow.len = 0;
    http_append_allow(&allow, r->match.allow, 1);
    resp_begin(r, status);
    resp_header(r, "Allow", allow.data, allow.len);
    if (status == 204) {
        resp_finish(r);
        return;
    }
    resp_header(r, "Content-Type", "text/plain; charset=utf-8", 25);
    buf_printf(resp_body_buf(r), "%d %s\n", status, http_status_text(status));
    resp_finish(r);
}

/* `limit:` is a semaphore, not a queue: over it, 503 at once. */
static int route_admits(struct request *r)
{
    const struct route *route = r->route;
    if (!route->limit)
        return 1;
    if (*route->inflight >= route->limit) {
        resp_begin(r, 503);
        resp_header(r, "Retry-After", "1", 1);
        resp_header(r, "Content-Type", "text/plain; charset=utf-8", 25);
        buf_printf(resp_body_buf(r), "503 %s\n", http_status_text(503));
        resp_finish(r);
        return 0;
    }
    (*route->inflight)++;
    r->holds_limit = 1;
    return 1;
}

void request_dispatch(struct request *r)
{
    switch (r->auto_status) {
    case 0:
        if (route_admits(r))
            r->route->kind->handle(r, r->route->state);
        break;
    case 404:
        resp_error(r, 404);
        break;
    default:
        answer_allow(r, r->auto_status);
        break;
    }
}
