/* HTTP vocabulary: status texts, the cached Date header, method sets. */
#ifndef YH_HTTP_H
#define YH_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

/* Reason phrase for status ("Not Found"); "Unknown" for codes we never send. */
const char *http_status_text(int status);

/* The IMF-fixdate for time t ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes),
 * recomputed only when the second changes. */
const char *http_date(double t);

/* Formats any time as an IMF-fixdate (Last-Modified and friends). */
void http_format_date(time_t t, char out[32]);

/* llhttp method number for a name ("GET" -> 1), case-sensitive; -1 if unknown. */
int http_method_from_name(const char *name, size_t len);
/* Name of a llhttp method number. */
const char *http_method_name(int method);

/* Appends "GET, HEAD, POST" for a method mask (OPTIONS too when add_options). */
void http_append_allow(struct buf *out, uint64_t methods, int add_options);

struct http_header;
/* 1 when s is a non-empty RFC 9110 token (what a header name must be). */
int http_token_valid(const char *s);
/* 1 when a proxy must not forward the header called name (RFC 9110 7.6.1): the
 * fixed hop-by-hop set, or a name listed in one of headers' Connection fields. */
int http_hop_by_hop(yh_span name, const struct http_header *headers, size_t n);

#endif
