/* Request path normalization: percent-decoding and dot-segment removal. */
#include "pathnorm.h"

#include <string.h>

int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t percent_decode(const char *in, size_t len, char *out, int plus_is_space)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '%') {
            /* Both digits must be present: a truncated escape is malformed. */
            if (len - i < 3)
                return -1;
            int hi = hex_value((unsigned char)in[i + 1]);
            int lo = hex_value((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[o++] = c;
    }
    return (ssize_t)o;
}

/* Drops the last segment of out[0..*o), "/seg", keeping the '/' before it out. */
static int pop_segment(const char *out, size_t *o)
{
    if (*o == 0)
        return -1; /* already at "/": ".." would climb above the root */
    size_t n = *o - 1;
    while (out[n] != '/') /* out[0] is always '/' */
        n--;
    *o = n;
    return 0;
}

/*
 * RFC 3986 5.2.4 on an absolute path, done per segment: buf[0..len) is read
 * left to right while the output, a sequence of "/seg", is written to the same
 * buffer behind the read position (it never gets ahead: it only copies or
 * drops input). A final "." or ".." leaves a trailing '/'.
 */
static ssize_t remove_dot_segments(char *buf, size_t len)
{
    size_t i = 0, o = 0;

    while (i < len) {
        size_t start = i + 1; /* buf[i] is the '/' before the segment */
        const char *slash = memchr(buf + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - buf) : len;
        size_t n = end - start;
        int last = end == len;

        if (n == 2 && buf[start] == '.' && buf[start + 1] == '.') {
            if (pop_segment(buf, &o) < 0)
                return -1;
            if (last)
                buf[o++] = '/';
        } else if (n == 1 && buf[start] == '.') {
            if (last)
                buf[o++] = '/';
        } else {
            memmove(buf + o, buf + i, n + 1);
            o += n + 1;
        }
        i = end;
    }
    return (ssize_t)o;
}

ssize_t path_normalize(const char *in, size_t len, char *out)
{
    if (len == 0 || in[0] != '/')
        return -1;
    ssize_t n = percent_decode(in, len, out, 0);
    /* A NUL (decoded %00 or raw) would truncate the path at any C API. */
    if (n < 0 || memchr(out, '\0', (size_t)n))
        return -1;
    return remove_dot_segments(out, (size_t)n);
}
