/* Growable byte buffers. */
#ifndef YH_BUF_H
#define YH_BUF_H

#include <stddef.h>
#include <string.h>

/* A read-only span of bytes that the span does not own. */
typedef struct yh_span {
    const char *p;
    size_t n;
} yh_span;

#define YH_SPAN_LIT(s) ((yh_span){(s), sizeof(s) - 1})

/* A growable buffer; data is owned by the buffer, len <= cap. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

/* Grows the storage to hold `extra` more bytes (buf_reserve's slow path). */
void buf_grow(struct buf *b, size_t extra);

/* Ensures room for `extra` more bytes; aborts on out-of-memory (never returns failure). */
static inline void buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->len < extra)
        buf_grow(b, extra);
}

/* Appends n bytes. */
static inline void buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}
/* Appends a NUL-terminated string (without the NUL). */
void buf_puts(struct buf *b, const char *s);
/* Appends printf-formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends the decimal form of v. */
void buf_put_u64(struct buf *b, unsigned long long v);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

static inline void buf_putc(struct buf *b, char c)
{
    if (b->len == b->cap)
        buf_reserve(b, 1);
    b->data[b->len++] = c;
}

static inline int span_eq(yh_span a, yh_span b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* ASCII case-insensitive comparison of a span with a C string. */
int span_ieq(yh_span a, const char *s);

#endif
