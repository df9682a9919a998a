/* "{var}" templates: compiled once into a segment list, rendered per request. */
#include "template.h"

#include "pathnorm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum seg_kind {
    SEG_LITERAL,
    SEG_PATHVAR, /* index into ctx->vars */
    SEG_QUERY,   /* name in text */
    SEG_HEADER,  /* name in text */
    SEG_METHOD,
    SEG_PATH,
    SEG_REMOTE_ADDR,
    SEG_HOST,
};

struct seg {
    enum seg_kind kind;
    enum tpl_escape esc;
    size_t off; /* literal bytes or query/header name, in t->text */
    size_t len;
    int var; /* SEG_PATHVAR */
};

/*
 * Literal runs and variable names share one text buffer. A constant template
 * holds no names, so its text buffer is exactly its (merged) literal text.
 */
struct tpl {
    struct buf text;
    struct seg *segs;
    size_t nsegs;
    size_t cap;
    int nvarsegs;
};

struct tpl *tpl_new(void)
{
    struct tpl *t = calloc(1, sizeof(*t));
    if (!t)
        abort();
    return t;
}

void tpl_free(struct tpl *t)
{
    if (!t)
        return;
    buf_free(&t->text);
    free(t->segs);
    free(t);
}

static struct seg *push_seg(struct tpl *t)
{
    if (t->nsegs == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        struct seg *s = realloc(t->segs, cap * sizeof(*s));
        if (!s)
            abort();
        t->segs = s;
        t->cap = cap;
    }
    struct seg *s = &t->segs[t->nsegs++];
    memset(s, 0, sizeof(*s));
    return s;
}

void tpl_append_literal(struct tpl *t, const char *s, size_t n)
{
    if (n == 0)
        return;
    struct seg *last = t->nsegs ? &t->segs[t->nsegs - 1] : NULL;
    /* Merge with the previous literal when its bytes end the text buffer. */
    if (last && last->kind == SEG_LITERAL && last->off + last->len == t->text.len) {
        buf_append(&t->text, s, n);
        last->len += n;
        return;
    }
    struct seg *seg = push_seg(t);
    seg->kind = SEG_LITERAL;
    seg->esc = TPL_RAW;
    seg->off = t->text.len;
    seg->len = n;
    buf_append(&t->text, s, n);
}

static void add_var(struct tpl *t, enum seg_kind kind, enum tpl_escape esc, int var,
                    const char *name, size_t n)
{
    struct seg *seg = push_seg(t);
    seg->kind = kind;
    seg->esc = esc;
    seg->var = var;
    seg->off = t->text.len;
    seg->len = n;
    buf_append(&t->text, name, n);
    t->nvarsegs++;
}

static void __attribute__((format(printf, 5, 6)))
set_err(char *err, size_t errlen, size_t *err_off, size_t off, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    if (err_off)
        *err_off = off;
}

static int has_prefix(const char *s, size_t n, const char *prefix)
{
    size_t pn = strlen(prefix);
    return n >= pn && memcmp(s, prefix, pn) == 0;
}

static int name_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

/* Resolves the text between the braces of one "{...}"; off is the '{' offset. */
static int compile_var(struct tpl *t, const char *name, size_t n, enum tpl_escape esc,
                       const struct route_vars *vars, char *err, size_t errlen, size_t *err_off,
                       size_t off)
{
    static const struct {
        const char *name;
        enum seg_kind kind;
    } builtins[] = {
        {"method", SEG_METHOD},
        {"path", SEG_PATH},
        {"remote_addr", SEG_REMOTE_ADDR},
        {"host", SEG_HOST},
    };

    if (n == 0) {
        set_err(err, errlen, err_off, off, "empty variable {}");
        return -1;
    }
    /* Path variables come first: a route may well call its capture {path}. */
    for (int i = 0; vars && i < vars->n; i++) {
        if (vars->names[i] && name_is(name, n, vars->names[i])) {
            add_var(t, SEG_PATHVAR, esc, i, "", 0);
            return 0;
        }
    }
    if (has_prefix(name, n, "query.") || has_prefix(name, n, "header.")) {
        int query = name[0] == 'q';
        size_t skip = query ? strlen("query.") : strlen("header.");
        if (n == skip) {
            set_err(err, errlen, err_off, off, "empty name in {%.*s}", (int)n, name);
            return -1;
        }
        add_var(t, query ? SEG_QUERY : SEG_HEADER, esc, 0, name + skip, n - skip);
        return 0;
    }
    for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++) {
        if (name_is(name, n, builtins[i].name)) {
            add_var(t, builtins[i].kind, esc, 0, "", 0);
            return 0;
        }
    }
    set_err(err, errlen, err_off, off, "unknown variable {%.*s}", (int)n, name);
    return -1;
}

/* Returns the offset of the next '{' or '}' at or after i, or n. */
static size_t next_brace(const char *src, size_t n, size_t i)
{
    while (i < n && src[i] != '{' && src[i] != '}')
        i++;
    return i;
}

static int compile(struct tpl *t, const char *src, size_t n, enum tpl_escape esc,
                   const struct route_vars *vars, char *err, size_t errlen, size_t *err_off)
{
    size_t i = 0;
    while (i < n) {
        size_t j = next_brace(src, n, i);
        tpl_append_literal(t, src + i, j - i);
        if (j == n)
            break;
        if (j + 1 < n && src[j + 1] == src[j]) { /* "{{" or "}}" */
            tpl_append_literal(t, src + j, 1);
            i = j + 2;
            continue;
        }
        if (src[j] == '}') {
            set_err(err, errlen, err_off, j, "unmatched }");
            return -1;
        }
        size_t end = next_brace(src, n, j + 1);
        /* A '{' before the closing '}' means this one was never closed. */
        if (end == n || src[end] == '{') {
            set_err(err, errlen, err_off, j, "unclosed {");
            return -1;
        }
        if (compile_var(t, src + j + 1, end - j - 1, esc, vars, err, errlen, err_off, j) < 0)
            return -1;
        i = end + 1;
    }
    return 0;
}

int tpl_append_source(struct tpl *t, const char *src, size_t n, enum tpl_escape esc,
                      const struct route_vars *vars, char *err, size_t errlen, size_t *err_off)
{
    /* Remember the state so a failed compile leaves the template untouched. */
    size_t nsegs = t->nsegs, textlen = t->text.len;
    int nvarsegs = t->nvarsegs;
    size_t lastlen = nsegs ? t->segs[nsegs - 1].len : 0;

    if (compile(t, src, n, esc, vars, err, errlen, err_off) == 0)
        return 0;
    t->nsegs = nsegs;
    t->text.len = textlen;
    t->nvarsegs = nvarsegs;
    if (nsegs)
        t->segs[nsegs - 1].len = lastlen;
    return -1;
}

int tpl_is_constant(const struct tpl *t)
{
    return t->nvarsegs == 0;
}

const char *tpl_constant(const struct tpl *t, size_t *n)
{
    if (!tpl_is_constant(t)) {
        *n = 0;
        return NULL;
    }
    *n = t->text.len;
    return t->text.data ? t->text.data : "";
}

static const char hexdigits[] = "0123456789abcdef";

/* Appends one byte escaped for a JSON string. */
static void json_escape_byte(struct buf *out, unsigned char c)
{
    char short_form = 0;
    switch (c) {
    case '"':
        short_form = '"';
        break;
    case '\\':
        short_form = '\\';
        break;
    case '\n':
        short_form = 'n';
        break;
    case '\r':
        short_form = 'r';
        break;
    case '\t':
        short_form = 't';
        break;
    case '\b':
        short_form = 'b';
        break;
    case '\f':
        short_form = 'f';
        break;
    }
    if (short_form) {
        char e[2] = {'\\', short_form};
        buf_append(out, e, 2);
    } else if (c < 0x20 || c == 0x7f) {
        char e[6] = {'\\', 'u', '0', '0', hexdigits[c >> 4], hexdigits[c & 15]};
        buf_append(out, e, 6);
    } else {
        buf_putc(out, (char)c);
    }
}

static int json_needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\' || c == 0x7f;
}

void json_escape_append(struct buf *out, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* Copy runs of plain bytes (UTF-8 included) in one go. */
        size_t j = i;
        while (j < n && !json_needs_escape((unsigned char)s[j]))
            j++;
        buf_append(out, s + i, j - i);
        if (j < n)
            json_escape_byte(out, (unsigned char)s[j++]);
        i = j;
    }
}

static void put_value(struct buf *out, const char *s, size_t n, enum tpl_escape esc)
{
    if (esc == TPL_JSON)
        json_escape_append(out, s, n);
    else
        buf_append(out, s, n);
}

static int pct_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%')
            continue;
        if (i + 2 >= n)
            return 0;
        if (hex_value((unsigned char)s[i + 1]) < 0 || hex_value((unsigned char)s[i + 2]) < 0)
            return 0;
        i += 2;
    }
    return 1;
}

/* Decodes the next byte of a validated query value at *i (%XX, '+' = space). */
static unsigned char pct_next(const char *s, size_t *i)
{
    char c = s[*i];
    if (c == '%') {
        unsigned char v = (unsigned char)(hex_value((unsigned char)s[*i + 1]) << 4 |
                                          hex_value((unsigned char)s[*i + 2]));
        *i += 3;
        return v;
    }
    *i += 1;
    return c == '+' ? ' ' : (unsigned char)c;
}

/* Writes a query value percent-decoded straight into out (no temporary copy). */
static void put_query_value(struct buf *out, const char *s, size_t n, enum tpl_escape esc)
{
    if (!pct_valid(s, n)) { /* a malformed value is shown as sent */
        put_value(out, s, n, esc);
        return;
    }
    size_t i = 0;
    if (esc == TPL_JSON) {
        while (i < n) {
            unsigned char c = pct_next(s, &i);
            if (json_needs_escape(c))
                json_escape_byte(out, c);
            else
                buf_putc(out, (char)c);
        }
        return;
    }
    buf_reserve(out, n); /* decoding never grows the value */
    while (i < n)
        out->data[out->len++] = (char)pct_next(s, &i);
}

/* Finds the raw value of the first NAME= parameter of a query string. */
static int find_query(yh_span query, const char *name, size_t nlen, yh_span *value)
{
    const char *p = query.p, *end = query.p + query.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        const char *kend = eq ? eq : stop;
        if ((size_t)(kend - p) == nlen && memcmp(p, name, nlen) == 0) {
            value->p = eq ? eq + 1 : stop;
            value->n = (size_t)(stop - value->p);
            return 1;
        }
        p = stop + 1;
    }
    return 0;
}

static const yh_span *find_header(const struct tpl_ctx *ctx, const char *name, size_t nlen)
{
    for (size_t i = 0; i < ctx->nheaders; i++) {
        yh_span h = ctx->headers[i].name;
        if (h.n == nlen && strncasecmp(h.p, name, nlen) == 0)
            return &ctx->headers[i].value;
    }
    return NULL;
}

static void render_seg(const struct tpl *t, const struct seg *s, const struct tpl_ctx *ctx,
                       struct buf *out)
{
    const char *name = t->text.data ? t->text.data + s->off : "";
    yh_span v = {NULL, 0};

    switch (s->kind) {
    case SEG_LITERAL:
        buf_append(out, name, s->len);
        return;
    case SEG_PATHVAR:
        if (ctx->vars && s->var < ctx->nvars)
            v = ctx->vars[s->var];
        break;
    case SEG_QUERY:
        if (ctx->query.n && find_query(ctx->query, name, s->len, &v))
            put_query_value(out, v.p, v.n, s->esc);
        return;
    case SEG_HEADER: {
        const yh_span *h = find_header(ctx, name, s->len);
        if (h)
            v = *h;
        break;
    }
    case SEG_METHOD:
        v = ctx->method;
        break;
    case SEG_PATH:
        v = ctx->path;
        break;
    case SEG_REMOTE_ADDR:
        v = ctx->remote_addr;
        break;
    case SEG_HOST:
        v = ctx->host;
        break;
    }
    if (v.n)
        put_value(out, v.p, v.n, s->esc);
}

void tpl_render(const struct tpl *t, const struct tpl_ctx *ctx, struct buf *out)
{
    for (size_t i = 0; i < t->nsegs; i++)
        render_seg(t, &t->segs[i], ctx, out);
}
