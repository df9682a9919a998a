/* The HTTP rules of static files: validators, preconditions, byte ranges. */
#ifndef YH_FILES_HTTP_H
#define YH_FILES_HTTP_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "../buf.h"

struct request;

/* The strong ETag of a file version: size and mtime ("\"5f1e-17a2b3c4d5e6f708\""). */
void files_etag(const struct stat *st, char *out, size_t n);

/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime). Returns 0, or -1. */
int http_parse_date(yh_span s, time_t *out);

/* 1 when the comma-separated entity-tag list holds "*" or etag (weak
 * comparison ignores a W/ prefix; strong requires neither side weak). */
int files_etag_matches(yh_span list, const char *etag, int weak);

enum files_precondition {
    PRECONDITION_OK,
    PRECONDITION_NOT_MODIFIED, /* 304 */
    PRECONDITION_FAILED,       /* 412 */
};

/* RFC 9110 13.2.2 order: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since. */
enum files_precondition files_preconditions(const struct request *r, const char *etag,
                                            time_t mtime);

enum files_range {
    RANGE_WHOLE,         /* no usable Range: 200 with everything */
    RANGE_PARTIAL,       /* one satisfiable range: 206 */
    RANGE_UNSATISFIABLE, /* 416 */
};

/*
 * Interprets a Range header value for a file of `size` bytes. One range
 * ("bytes=a-b", "a-", "-n") gives RANGE_PARTIAL with *start and *len; several
 * ranges give RANGE_WHOLE (the whole file is sent instead of
 * multipart/byteranges); a malformed value is ignored (RANGE_WHOLE).
 */
enum files_range files_parse_range(yh_span value, off_t size, off_t *start, off_t *len);

/* 1 when If-Range (if any) still names this version, so Range may apply. */
int files_if_range_holds(const struct request *r, const char *etag, time_t mtime);

#endif
