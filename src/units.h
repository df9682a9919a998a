/* Sizes ("8k", "8KiB", "1m", "1MiB") and durations ("250ms", "10s", "5m", "1h"). */
#ifndef YH_UNITS_H
#define YH_UNITS_H

#include <stdint.h>

/* Parses a size in bytes; k/K/KiB/kb = 1024, m/M/MiB = 1024^2, g/G/GiB = 1024^3.
 * Returns 0 and sets *out, or -1 on a malformed value or overflow. */
int parse_size(const char *s, uint64_t *out);

/* Parses a duration into milliseconds: ms, s, m, h, d suffixes; a bare number is seconds.
 * Returns 0 and sets *ms, or -1 on a malformed value or overflow. */
int parse_duration(const char *s, uint64_t *ms);

#endif
