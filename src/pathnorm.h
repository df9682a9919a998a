/* Request path normalization: percent-decoding and dot-segment removal. */
#ifndef YH_PATHNORM_H
#define YH_PATHNORM_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Normalizes the path part of a request target (no query) into out, which must
 * hold at least len bytes. Decodes %XX, then removes "." and ".." segments
 * (RFC 3986 5.2.4). Returns the output length, or -1 when the path is bad:
 * not starting with '/', a malformed %XX, %00, or ".." climbing above "/".
 */
ssize_t path_normalize(const char *in, size_t len, char *out);

/* Percent-decodes in place-free: writes at most len bytes to out; '+' stays '+'
 * unless plus_is_space. Returns the output length, or -1 on a malformed %XX. */
ssize_t percent_decode(const char *in, size_t len, char *out, int plus_is_space);

/* Value of one hex digit, or -1. */
int hex_value(unsigned char c);

#endif
