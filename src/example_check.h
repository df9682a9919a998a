/* Route examples: reading the answer the server wrote and comparing it with the expectation. */
#ifndef YH_EXAMPLE_CHECK_H
#define YH_EXAMPLE_CHECK_H

#include <stddef.h>

#include "buf.h"

struct route_example;

/* An answer as the client saw it. */
struct ex_answer {
    int status;
    yh_span head;    /* the header lines after the status line (into the input) */
    struct buf body; /* de-chunked; the caller frees it */
    int truncated;   /* the bytes ended before the framing said */
};

/* Parses a whole answer read until the server closed (interim 1xx answers
 * skipped; no body when head_only, as for HEAD). Returns 0, or -1 with a
 * reason in why when the bytes are not an HTTP/1.x answer. */
int ex_parse_answer(const char *p, size_t n, int head_only, struct ex_answer *a, const char **why);

/* The first header called name (case-insensitive), its value trimmed; 0 when absent. */
int ex_answer_header(const struct ex_answer *a, const char *name, yh_span *value);

/* Appends n bytes as a C-like quoted string, cut after max bytes ("..."). */
void ex_put_quoted(struct buf *out, const char *p, size_t n, size_t max);

/*
 * Compares answer a with example ex (example number index, 1-based, of the
 * route labelled label in file). Appends one "FILE:LINE:COL: example N of
 * \"LABEL\": expected ..., got ..." line per mismatch, placed at the
 * expectation that failed; a wrong status is reported alone. Returns how many.
 */
int ex_compare(const struct route_example *ex, const struct ex_answer *a, const char *file,
               const char *label, size_t index, struct buf *errors);

#endif
