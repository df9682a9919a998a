/* The HTTP rules of static files: validators, preconditions, byte ranges. */
#include "files_http.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../http.h"
#include "../request.h"

void files_etag(const struct stat *st, char *out, size_t n)
{
    unsigned long long ns = (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
                            (unsigned long long)st->st_mtim.tv_nsec;
    snprintf(out, n, "\"%llx-%llx\"", (unsigned long long)st->st_size, ns);
}

int http_parse_date(yh_span s, time_t *out)
{
    static const char *const formats[] = {
        "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
        "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
        "%a %b %e %H:%M:%S %Y",      /* asctime */
    };
    char buf[64];
    if (s.n == 0 || s.n >= sizeof(buf))
        return -1;
    memcpy(buf, s.p, s.n);
    buf[s.n] = 0;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        struct tm tm = {0};
        const char *end = strptime(buf, formats[i], &tm);
        if (end && *end == 0) {
            *out = timegm(&tm);
            return 0;
        }
    }
    return -1;
}

/* The next entity-tag of a list, trimmed; returns 0 at the end. */
static int next_tag(const char **p, const char *end, yh_span *tag)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == ','))
        (*p)++;
    if (*p >= end)
        return 0;
    const char *start = *p;
    int quoted = 0;
    while (*p < end && (quoted || **p != ',')) {
        if (**p == '"')
            quoted = !quoted;
        (*p)++;
    }
    const char *stop = *p;
    while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
        stop--;
    *tag = (yh_span){start, (size_t)(stop - start)};
    return 1;
}

int files_etag_matches(yh_span list, const char *etag, int weak)
{
    const char *p = list.p, *end = list.p + list.n;
    size_t elen = strlen(etag);
    yh_span tag;
    while (next_tag(&p, end, &tag)) {
        if (tag.n == 1 && tag.p[0] == '*')
            return 1;
        int is_weak = tag.n > 2 && tag.p[0] == 'W' && tag.p[1] == '/';
        if (is_weak && !weak)
            continue;
        if (is_weak)
            tag = (yh_span){tag.p + 2, tag.n - 2};
        if (tag.n == elen && memcmp(tag.p, etag, elen) == 0)
            return 1;
    }
    return 0;
}

static const struct http_header *header(const struct request *r, const char *name)
{
    const struct http_header *h = request_header(r, name);
    return h && h->value.p ? h : NULL;
}

enum files_precondition files_preconditions(const struct request *r, const char *etag, time_t mtime)
{
    const struct http_header *h;
    time_t t;
    if ((h = header(r, "if-match"))) {
        if (!files_etag_matches(h->value, etag, 0))
            return PRECONDITION_FAILED;
    } else if ((h = header(r, "if-unmodified-since")) && http_parse_date(h->value, &t) == 0) {
        if (mtime > t)
            return PRECONDITION_FAILED;
    }
    if ((h = header(r, "if-none-match"))) {
        if (files_etag_matches(h->value, etag, 1))
            return PRECONDITION_NOT_MODIFIED;
    } else if ((h = header(r, "if-modified-since")) && http_parse_date(h->value, &t) == 0) {
        if (mtime <= t)
            return PRECONDITION_NOT_MODIFIED;
    }
    return PRECONDITION_OK;
}

/* Digits only, no sign, no overflow. Returns 0 and sets *v, or -1. */
static int parse_offset(const char *p, const char *end, off_t *v)
{
    if (p == end)
        return -1;
    uint64_t n = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || n > (UINT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    if (n > (uint64_t)INT64_MAX)
        return -1;
    *v = (off_t)n;
    return 0;
}

enum files_range files_parse_range(yh_span value, off_t size, off_t *start, off_t *len)
{
    const char *p = value.p, *end = value.p + value.n;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (value.n < 6 || strncmp(p, "bytes=", 6) != 0)
        return RANGE_WHOLE;
    p += 6;
    if (memchr(p, ',', (size_t)(end - p)))
        return RANGE_WHOLE; /* several ranges: the whole file, documented */
    const char *dash = memchr(p, '-', (size_t)(end - p));
    if (!dash)
        return RANGE_WHOLE;
    off_t first, last;
    if (dash == p) { /* suffix: the last n bytes */
        if (parse_offset(dash + 1, end, &last) < 0)
            return RANGE_WHOLE;
        if (last == 0 || size == 0)
            return RANGE_UNSATISFIABLE;
        *len = last < size ? last : size;
        *start = size - *len;
        return RANGE_PARTIAL;
    }
    if (parse_offset(p, dash, &first) < 0)
        return RANGE_WHOLE;
    if (dash + 1 == end)
        last = size - 1;
    else if (parse_offset(dash + 1, end, &last) < 0 || last < first)
        return RANGE_WHOLE;
    if (first >= size)
        return RANGE_UNSATISFIABLE;
    if (last >= size)
        last = size - 1;
    *start = first;
    *len = last - first + 1;
    return RANGE_PARTIAL;
}

int files_if_range_holds(const struct request *r, const char *etag, time_t mtime)
{
    const struct http_header *h = header(r, "if-range");
    if (!h)
        return 1;
    if (h->value.n && h->value.p[0] == '"')
        return h->value.n == strlen(etag) && memcmp(h->value.p, etag, h->value.n) == 0;
    time_t t;
    return http_parse_date(h->value, &t) == 0 && t == mtime;
}
