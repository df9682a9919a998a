/* A strict JSON syntax check: recursive descent, bounded depth, no allocation. */
#include "jsonval.h"

#include <string.h>

struct jscan {
    const char *p, *end;
};

static int scan_value(struct jscan *s, int depth);

static void skip_ws(struct jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int scan_literal(struct jscan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return 0;
    s->p += n;
    return 1;
}

static int scan_digits(struct jscan *s)
{
    const char *start = s->p;
    while (s->p < s->end && is_digit(*s->p))
        s->p++;
    return s->p > start;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int scan_number(struct jscan *s)
{
    if (s->p < s->end && *s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!scan_digits(s))
        return 0;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s))
            return 0;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!scan_digits(s))
            return 0;
    }
    return 1;
}

static int scan_escape(struct jscan *s)
{
    if (s->p >= s->end)
        return 0;
    char c = *s->p++;
    if (strchr("\"\\/bfnrt", c))
        return c != '\0';
    if (c != 'u' || s->end - s->p < 4)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!is_hex(*s->p++))
            return 0;
    return 1;
}

static int scan_string(struct jscan *s)
{
    s->p++; /* the opening quote */
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p++;
        if (c == '"')
            return 1;
        if (c < 0x20)
            return 0;
        if (c == '\\' && !scan_escape(s))
            return 0;
    }
    return 0;
}

/* Items separated by commas up to the closing bracket; members are "key": value. */
static int scan_items(struct jscan *s, char close, int depth)
{
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == close) {
        s->p++;
        return 1;
    }
    for (;;) {
        skip_ws(s);
        if (close == '}') {
            if (s->p >= s->end || *s->p != '"' || !scan_string(s))
                return 0;
            skip_ws(s);
            if (s->p >= s->end || *s->p++ != ':')
                return 0;
        }
        if (!scan_value(s, depth + 1))
            return 0;
        skip_ws(s);
        if (s->p >= s->end)
            return 0;
        char c = *s->p++;
        if (c == close)
            return 1;
        if (c != ',')
            return 0;
    }
}

static int scan_value(struct jscan *s, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return 0;
    skip_ws(s);
    if (s->p >= s->end)
        return 0;
    switch (*s->p) {
    case '{':
        return scan_items(s, '}', depth);
    case '[':
        return scan_items(s, ']', depth);
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
    default:
        return scan_number(s);
    }
}

int json_valid(const char *p, size_t n)
{
    struct jscan s = {p, p + n};
    if (!scan_value(&s, 0))
        return 0;
    skip_ws(&s);
    return s.p == s.end;
}
