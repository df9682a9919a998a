/* A strict JSON (RFC 8259) syntax check, for embedding upstream answers as is. */
#ifndef YH_JSONVAL_H
#define YH_JSONVAL_H

#include <stddef.h>

/* Deepest nesting accepted: deeper documents are reported invalid. */
#define JSON_MAX_DEPTH 64

/* 1 when [p, p + n) is exactly one JSON value (surrounding whitespace allowed), else 0. */
int json_valid(const char *p, size_t n);

#endif
