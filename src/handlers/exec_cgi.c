/* The CGI header block at the start of a script's output, parsed incrementally. */
#include "exec_cgi.h"

#include <string.h>
#include <strings.h>

/* Fields the server frames or sets itself: a script's copy is dropped. */
static const char *const dropped[] = {"connection", "keep-alive", "transfer-encoding", "te",
                                      "trailer",    "upgrade",    "proxy-connection",  "date",
                                      "server",     NULL};

static int is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A byte that may not appear in a field value (HT and obs-text may). */
static int bad_value_byte(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

void cgi_init(struct cgi_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->length = -1;
}

void cgi_free(struct cgi_parser *p)
{
    buf_free(&p->held);
    p->nfields = 0;
}

static int fail(struct cgi_parser *p, const char *why)
{
    p->why = why;
    p->state = CGI_ERROR;
    return CGI_ERROR;
}

/* The whole output is the body (no header block). */
static int no_block(struct cgi_parser *p)
{
    p->has_block = 0;
    p->nfields = 0;
    p->body = 0;
    p->status = 200;
    p->state = CGI_DONE;
    return CGI_DONE;
}

/* An unfinished first line that already cannot be a header line. */
static int first_line_refused(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 1 && s[0] == '\r')
        return 0; /* the start of a blank line */
    while (i < n && s[i] != ':') {
        if (!is_tchar((unsigned char)s[i]))
            return 1;
        i++;
    }
    if (i == n)
        return 0;
    if (i == 0)
        return 1; /* an empty name */
    for (i++; i < n; i++)
        if (bad_value_byte((unsigned char)s[i]) && !(s[i] == '\r' && i == n - 1))
            return 1;
    return 0;
}

static int name_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && strncasecmp(s, name, n) == 0;
}

static int dropped_name(const char *s, size_t n)
{
    for (size_t i = 0; dropped[i]; i++)
        if (name_is(s, n, dropped[i]))
            return 1;
    return 0;
}

/* "404" or "404 Not Found": the status code, or -1. */
static int parse_status(const char *v, size_t n)
{
    if (n < 3 || (n > 3 && v[3] != ' ' && v[3] != '\t'))
        return -1;
    int s = 0;
    for (int i = 0; i < 3; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        s = s * 10 + (v[i] - '0');
    }
    /* 1xx is not a final answer: it would leave the client waiting for one */
    return s >= 200 && s <= 599 ? s : -1;
}

static int64_t parse_length(const char *v, size_t n)
{
    if (n == 0 || n > 18)
        return -1;
    int64_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        len = len * 10 + (v[i] - '0');
    }
    return len;
}

/* One complete line "Name: value" at [off, off + n): 1 taken, 0 not a header line, -1 error. */
static int header_line(struct cgi_parser *p, size_t off, size_t n, int *given_status)
{
    const char *s = p->held.data + off;
    const char *colon = memchr(s, ':', n);
    if (!colon || colon == s)
        return 0;
    size_t name_len = (size_t)(colon - s);
    for (size_t i = 0; i < name_len; i++)
        if (!is_tchar((unsigned char)s[i]))
            return 0;
    size_t v = name_len + 1, end = n;
    for (size_t i = v; i < n; i++)
        if (bad_value_byte((unsigned char)s[i]))
            return 0;
    while (v < end && (s[v] == ' ' || s[v] == '\t'))
        v++;
    while (end > v && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    if (name_is(s, name_len, "status")) {
        if (*given_status)
            return fail(p, "duplicate Status line");
        if ((p->status = parse_status(s + v, end - v)) < 0)
            return fail(p, "bad Status line (want 3 digits from 200 to 599)");
        *given_status = 1;
        return 1;
    }
    if (name_is(s, name_len, "content-length")) {
        if (p->length >= 0)
            return fail(p, "duplicate Content-Length");
        if ((p->length = parse_length(s + v, end - v)) < 0)
            return fail(p, "bad Content-Length");
        return 1;
    }
    if (dropped_name(s, name_len))
        return 1;
    if (p->nfields == CGI_MAX_FIELDS)
        return fail(p, "too many header lines");
    p->has_type |= name_is(s, name_len, "content-type");
    p->fields[p->nfields++] = (struct cgi_field){off, name_len, off + v, end - v};
    return 1;
}

static int has_field(const struct cgi_parser *p, const char *name)
{
    for (size_t i = 0; i < p->nfields; i++)
        if (name_is(p->held.data + p->fields[i].name, p->fields[i].name_len, name))
            return 1;
    return 0;
}

/* Scans the complete lines held; `given_status` survives across calls in p->status != 0. */
static int scan(struct cgi_parser *p)
{
    int given_status = p->status != 0;
    if (!p->held.data)
        return CGI_MORE;
    while (p->state == CGI_MORE) {
        const char *s = p->held.data + p->line;
        size_t avail = p->held.len - p->line;
        const char *nl = avail ? memchr(s, '\n', avail) : NULL;
        int first = !p->has_block;
        if (!nl) {
            if (first && first_line_refused(s, avail))
                return no_block(p);
            if (p->held.len > CGI_HEAD_MAX)
                return first && !memchr(s, ':', avail) ? no_block(p)
                                                       : fail(p, "header block over 8 KiB");
            return CGI_MORE;
        }
        size_t len = (size_t)(nl - s), end = p->line + len + 1;
        size_t n = len && s[len - 1] == '\r' ? len - 1 : len;
        if (n == 0) { /* the blank line: the head ends (an empty block if first) */
            if (end > CGI_HEAD_MAX)
                return fail(p, "header block over 8 KiB");
            p->has_block = 1;
            p->body = end;
            if (!given_status)
                p->status = has_field(p, "location") ? 302 : 200;
            p->state = CGI_DONE;
            return CGI_DONE;
        }
        int rc = header_line(p, p->line, n, &given_status);
        if (rc < 0)
            return CGI_ERROR;
        if (rc == 0)
            return first ? no_block(p) : fail(p, "malformed header line");
        if (end > CGI_HEAD_MAX)
            return fail(p, "header block over 8 KiB");
        p->has_block = 1;
        p->line = end;
    }
    return p->state;
}

int cgi_feed(struct cgi_parser *p, const char *data, size_t n)
{
    if (p->state != CGI_MORE)
        return p->state;
    if (n)
        buf_append(&p->held, data, n);
    return scan(p);
}

int cgi_eof(struct cgi_parser *p)
{
    if (p->state != CGI_MORE)
        return p->state;
    if (!p->has_block)
        return no_block(p); /* an unfinished first line, or no output at all */
    return fail(p, "the output ended inside the header block");
}

const char *cgi_body(const struct cgi_parser *p, size_t *n)
{
    *n = p->held.len - p->body;
    return p->held.data ? p->held.data + p->body : "";
}

void cgi_field(const struct cgi_parser *p, size_t i, yh_span *name, yh_span *value)
{
    const struct cgi_field *f = &p->fields[i];
    *name = (yh_span){p->held.data + f->name, f->name_len};
    *value = (yh_span){p->held.data + f->value, f->value_len};
}

const char *cgi_error(const struct cgi_parser *p)
{
    return p->why ? p->why : "";
}
