/* HTTP vocabulary: status texts, the cached Date header, method sets. */
#include "http.h"

#include <ctype.h>
#include <llhttp.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "template.h"

const char *http_status_text(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

void http_format_date(time_t t, char out[32])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

const char *http_date(double t)
{
    static char cached[32];
    static time_t cached_sec = -1;
    time_t sec = (time_t)t;
    if (sec != cached_sec) {
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(cached, sizeof(cached), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_sec = sec;
    }
    return cached;
}

int http_method_from_name(const char *name, size_t len)
{
    /* Only the methods llhttp accepts in requests can ever be matched. */
#define YH_METHOD_MATCH(num, n, s)                                                                 \
    if (len == sizeof(#s) - 1 && memcmp(name, #s, len) == 0)                                       \
        return num;
    HTTP_METHOD_MAP(YH_METHOD_MATCH)
#undef YH_METHOD_MATCH
    return -1;
}

const char *http_method_name(int method)
{
    return llhttp_method_name((llhttp_method_t)method);
}

void http_append_allow(struct buf *out, uint64_t methods, int add_options)
{
    int first = 1;
    if (add_options)
        methods |= ((uint64_t)1 << HTTP_OPTIONS);
    for (int m = 0; m < 64; m++) {
        if (!(methods & ((uint64_t)1 << m)))
            continue;
        int known = 0;
#define YH_METHOD_KNOWN(num, n, s)                                                                 \
    if (num == m)                                                                                  \
        known = 1;
        HTTP_METHOD_MAP(YH_METHOD_KNOWN)
#undef YH_METHOD_KNOWN
        if (!known)
            continue;
        if (!first)
            buf_puts(out, ", ");
        buf_puts(out, http_method_name(m));
        first = 0;
    }
}

int http_token_valid(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return 0;
    return 1;
}

/* 1 when the comma-separated list holds name (case-insensitive). */
static int list_has(yh_span list, yh_span name)
{
    const char *p = list.p, *end = list.p + list.n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *start = p;
        while (p < end && *p != ',')
            p++;
        const char *stop = p;
        while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        if ((size_t)(stop - start) == name.n && strncasecmp(start, name.p, name.n) == 0)
            return 1;
    }
    return 0;
}

int http_hop_by_hop(yh_span name, const struct http_header *headers, size_t n)
{
    static const char *const fixed[] = {"connection",
                                        "keep-alive",
                                        "proxy-connection",
                                        "te",
                                        "trailer",
                                        "transfer-encoding",
                                        "upgrade",
                                        "proxy-authenticate",
                                        "proxy-authorization",
                                        NULL};
    for (size_t i = 0; fixed[i]; i++)
        if (span_ieq(name, fixed[i]))
            return 1;
    for (size_t i = 0; i < n; i++)
        if (span_ieq(headers[i].name, "connection") && list_has(headers[i].value, name))
            return 1;
    return 0;
}
