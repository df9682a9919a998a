/* Sizes ("8k", "8KiB", "1m", "1MiB") and durations ("250ms", "10s", "5m", "1h"). */
#include "units.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct unit {
    const char *suffix;
    uint64_t factor;
};

/*
 * Parses the leading decimal digits of s into *v and points *rest past them.
 * Hand-rolled because strtoull accepts signs, spaces and wraps silently.
 */
static int parse_digits(const char *s, uint64_t *v, const char **rest)
{
    uint64_t n = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
        p++;
    }
    if (p == s)
        return -1;
    *v = n;
    *rest = p;
    return 0;
}

/* Finds the factor of a whole suffix in a table ended by a NULL suffix. */
static int lookup(const struct unit *units, const char *suffix, int nocase, uint64_t *factor)
{
    for (const struct unit *u = units; u->suffix; u++) {
        int eq = nocase ? strcasecmp(suffix, u->suffix) == 0 : strcmp(suffix, u->suffix) == 0;
        if (eq) {
            *factor = u->factor;
            return 0;
        }
    }
    return -1;
}

static int parse_scaled(const char *s, const struct unit *units, int nocase, uint64_t *out)
{
    uint64_t n, factor;
    const char *rest;
    if (!s || parse_digits(s, &n, &rest) < 0 || lookup(units, rest, nocase, &factor) < 0)
        return -1;
    if (factor && n > UINT64_MAX / factor)
        return -1;
    *out = n * factor;
    return 0;
}

int parse_size(const char *s, uint64_t *out)
{
    /* Binary multiples throughout: "8kb" in a config means 8192, as in nginx. */
    static const struct unit units[] = {
        {"", 1},
        {"k", 1ULL << 10},
        {"kb", 1ULL << 10},
        {"kib", 1ULL << 10},
        {"m", 1ULL << 20},
        {"mb", 1ULL << 20},
        {"mib", 1ULL << 20},
        {"g", 1ULL << 30},
        {"gb", 1ULL << 30},
        {"gib", 1ULL << 30},
        {NULL, 0},
    };
    return parse_scaled(s, units, 1, out);
}

int parse_duration(const char *s, uint64_t *ms)
{
    /* Case-sensitive: "m" is minutes and "M" would read as months. */
    static const struct unit units[] = {
        {"", 1000},
        {"ms", 1},
        {"s", 1000},
        {"m", 60 * 1000},
        {"h", 60 * 60 * 1000},
        {"d", 24 * 60 * 60 * 1000},
        {NULL, 0},
    };
    return parse_scaled(s, units, 0, ms);
}
