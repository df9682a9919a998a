/*
 * Compiled route table: aiohttp-style patterns in a segment trie.
 *
 * A pattern is split at the '/' outside braces into segments. Each segment
 * before the first spanning variable becomes one trie level; a node's children
 * are kept per kind, in the order they are tried when matching:
 *   1. static segments, sorted, found by binary search;
 *   2. segment-local regexes ({x:RE}, or a segment mixing text and variables),
 *      in the order added;
 *   3. the single {name} child;
 *   4. spanning regexes: the rest of the pattern from that segment on, compiled
 *      into one anchored regex matched against the rest of the path.
 * Matching is a depth-first walk in that order that backtracks when a branch
 * dead-ends or has no route for the method, so the most specific route wins
 * and cost does not grow with the number of static and {name} routes.
 */
#include "router.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <llhttp.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every route regex must match its whole subject (segment or path tail). */
#define RX_OPTS (PCRE2_ANCHORED | PCRE2_ENDANCHORED)

#define BIT(m) ROUTER_METHOD_BIT(m)

struct route {
    struct route *next; /* routes of one node, in the order added */
    uint64_t methods;
    void *data;
    int line, col;
    char *pattern; /* for overlap messages */
    struct route_vars vars;
};

/* The compiled regex of a segment-local or spanning node. */
struct rx {
    pcre2_code *re;
    char *key; /* the shape (source with var names removed): nodes are shared by shape */
    size_t keylen;
    int whole; /* a single {x:RE} var capturing the whole segment */
    int nvars;
    uint32_t grp[ROUTER_MAX_VARS]; /* capture group number of each var, when !whole */
};

struct node {
    char *seg; /* static nodes: the segment text */
    size_t seglen;
    struct rx *rx;         /* regex nodes */
    struct node **statics; /* sorted by segment, for binary search */
    size_t nstatics, capstatics;
    struct node **locals; /* segment-local regexes, in the order added */
    size_t nlocals;
    struct node *param;  /* {name} */
    struct node **spans; /* spanning regexes (terminal nodes), in the order added */
    size_t nspans;
    struct route *routes;
    uint64_t mask; /* union of the routes' methods */
};

struct router {
    struct node root;
    /* Shared by every match (single-threaded): sized for the largest regex. */
    pcre2_match_data *md;
    uint32_t md_pairs;
};

static const char *const method_names[64] = {
#define XX(num, name, string) [num] = #string,
    HTTP_ALL_METHOD_MAP(XX)
#undef XX
};

/* ---- allocation (out of memory aborts, as router_new promises) ---- */

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    p = realloc(p, size);
    if (!p)
        abort();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xcalloc(1, n + 1);
    memcpy(p, s, n);
    return p;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- pattern lexing ---- */

enum item_kind { IT_END, IT_SLASH, IT_TEXT, IT_VAR };

/* One lexical item of a pattern: '/', a run of static text, or a variable. */
struct item {
    enum item_kind kind;
    const char *p, *end; /* the item's text */
    const char *name;    /* IT_VAR */
    size_t nlen;
    const char *re; /* IT_VAR with ":REGEX", else NULL */
    size_t relen;
};

/*
 * Scans the variable at the '{' at p; returns its end, or NULL when its braces
 * do not balance. Braces inside the regex nest ({m,n} quantifiers) and a
 * backslash escapes the next character, so "\}" does not close the variable.
 */
static const char *scan_var(const char *p, struct item *it)
{
    const char *q = p + 1 + strcspn(p + 1, ":}");
    int depth = 1;

    it->name = p + 1;
    it->nlen = (size_t)(q - it->name);
    it->re = NULL;
    it->relen = 0;
    if (*q == '}')
        return q + 1;
    if (*q != ':')
        return NULL;
    it->re = ++q;
    for (; *q; q++) {
        if (*q == '\\' && q[1]) {
            q++;
        } else if (*q == '{') {
            depth++;
        } else if (*q == '}' && --depth == 0) {
            it->relen = (size_t)(q - it->re);
            return q + 1;
        }
    }
    return NULL;
}

/* Reads the item at p; returns where the next one starts, NULL on a bad brace. */
static const char *next_item(const char *p, struct item *it)
{
    it->p = p;
    if (!*p) {
        it->kind = IT_END;
        it->end = p;
    } else if (*p == '/') {
        it->kind = IT_SLASH;
        it->end = p + 1;
    } else if (*p == '{') {
        it->kind = IT_VAR;
        it->end = scan_var(p, it);
    } else if (*p == '}') {
        it->end = NULL;
    } else {
        it->kind = IT_TEXT;
        it->end = p + strcspn(p, "/{}");
    }
    return it->end;
}

/* ---- spanning classification ---- */

/* Escapes that cannot match '/': classes \d \s \w \h \v, assertions, and
 * single control characters. Any other letter or digit escape may. */
static int escape_may_match_slash(char c)
{
    if (c == '/')
        return 1;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return !strchr("dswhvbBAzZGKtnrfeaE", c);
    return 0; /* an escaped punctuation character is that literal character */
}

/* POSIX classes that cannot match '/'; any other, or a negated one, may. */
static int posix_may_match_slash(const char *p, size_t n)
{
    static const char *const safe[] = {"alpha", "digit",  "alnum", "upper", "lower", "space",
                                       "blank", "xdigit", "word",  "cntrl", NULL};
    for (int i = 0; safe[i]; i++)
        if (strlen(safe[i]) == n && !memcmp(p, safe[i], n))
            return 0;
    return 1;
}

/*
 * Scans the character class whose '[' is at *pp, leaving *pp on its ']'.
 * Returns whether it may match '/': a positive class lists '/' (literally,
 * as \/ or inside a range) or holds an escape or POSIX class that may match
 * it; a negated class does not list '/'. An unterminated class counts as
 * spanning (the regex is rejected by PCRE2 anyway).
 */
static int class_may_match_slash(const char **pp, const char *end)
{
    const char *p = *pp + 1;
    int neg = 0, listed = 0, may = 0;

    if (p < end && *p == '^') {
        neg = 1;
        p++;
    }
    for (int first = 1; p < end && (first || *p != ']'); first = 0) {
        int lo;
        if (*p == '[' && p + 1 < end && p[1] == ':') {
            const char *name = p + 2, *q = name;
            while (q + 1 < end && !(q[0] == ':' && q[1] == ']'))
                q++;
            if (q + 1 >= end) {
                p = end; /* no ":]": counted as unterminated, so spanning */
                break;
            }
            may |= *name == '^' || posix_may_match_slash(name, (size_t)(q - name));
            p = q + 2;
            continue;
        }
        if (*p == '\\' && p + 1 < end) {
            lo = (unsigned char)p[1];
            may |= escape_may_match_slash(p[1]) && p[1] != '/';
            p += 2;
        } else {
            lo = (unsigned char)*p++;
        }
        if (p + 1 < end && *p == '-' && p[1] != ']') {
            int hi = (unsigned char)p[1];
            if (p[1] == '\\' && p + 2 < end) {
                hi = (unsigned char)p[2];
                may |= escape_may_match_slash(p[2]) && p[2] != '/';
                p++;
            }
            p += 2;
            listed |= lo <= '/' && '/' <= hi;
        } else {
            listed |= lo == '/';
        }
    }
    if (p >= end) {
        *pp = end - 1;
        return 1;
    }
    *pp = p;
    return neg ? !listed : listed || may;
}

/*
 * Whether a var's regex may match '/', making the var span segments. The rule
 * is syntactic and conservative (a false "spans" only lowers the var's
 * priority): it spans when, outside a class, it has '.', a literal '/', or an
 * escape other than \d \s \w \h \v \b \B \A \z \Z \G \K \t \n \r \f \e \a \E
 * or escaped punctuation (so \D \S \W \N \H \V \X \C \R \p \x.. \Q .. span);
 * or a class that may match '/' (see class_may_match_slash).
 */
static int regex_spans(const char *re, size_t n)
{
    const char *end = re + n;

    for (const char *p = re; p < end; p++) {
        if (*p == '\\') {
            if (p + 1 >= end || escape_may_match_slash(p[1]))
                return 1;
            p++;
        } else if (*p == '.' || *p == '/') {
            return 1;
        } else if (*p == '[') {
            if (class_may_match_slash(&p, end))
                return 1;
        }
    }
    return 0;
}

/* ---- pattern validation ---- */

/* Compiles src anchored at both ends; on error writes PCRE2's message. */
static pcre2_code *rx_compile(const char *src, size_t n, int jit, char *msg, size_t msglen)
{
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, n, RX_OPTS, &ec, &off, NULL);

    if (!re) {
        PCRE2_UCHAR text[256];
        pcre2_get_error_message(ec, text, sizeof(text));
        snprintf(msg, msglen, "%s at offset %zu", (const char *)text, (size_t)off);
        return NULL;
    }
    /* JIT is an optimisation: when unavailable pcre2_match interprets.
     * YH_PCRE2_NO_JIT=1 turns it off for memory checkers, which cannot follow
     * generated code (make check-valgrind sets it). */
    if (jit && !getenv("YH_PCRE2_NO_JIT"))
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

static int name_ok(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* Checks one variable and appends it to vars (names not yet copied). */
static int check_var(const struct item *it, struct item *vars, int *nvars, char *err, size_t errlen)
{
    int len = (int)(it->end - it->p);

    if (!name_ok(it->name, it->nlen)) {
        set_err(err, errlen, "bad variable name in `%.*s`: use [A-Za-z_][A-Za-z0-9_]*", len, it->p);
        return -1;
    }
    for (int i = 0; i < *nvars; i++) {
        if (vars[i].nlen == it->nlen && !memcmp(vars[i].name, it->name, it->nlen)) {
            set_err(err, errlen, "duplicate variable `%.*s`", (int)it->nlen, it->name);
            return -1;
        }
    }
    if (*nvars == ROUTER_MAX_VARS) {
        set_err(err, errlen, "too many variables (at most %d)", ROUTER_MAX_VARS);
        return -1;
    }
    if (it->re && it->relen == 0) {
        set_err(err, errlen, "empty regex in `%.*s`", len, it->p);
        return -1;
    }
    if (it->re) {
        /* Compiled alone first so a regex cannot leak out of its group later. */
        char msg[300];
        pcre2_code *re = rx_compile(it->re, it->relen, 0, msg, sizeof(msg));
        if (!re) {
            set_err(err, errlen, "bad regex in `%.*s`: %s", len, it->p, msg);
            return -1;
        }
        pcre2_code_free(re);
    }
    vars[(*nvars)++] = *it;
    return 0;
}

/* Validates the whole pattern and collects its variables in order. */
static int check_pattern(const char *pattern, struct item *vars, int *nvars, char *err,
                         size_t errlen)
{
    struct item it;
    const char *p = pattern;

    *nvars = 0;
    if (*pattern != '/') {
        set_err(err, errlen, "pattern `%s` must start with '/'", pattern);
        return -1;
    }
    for (;;) {
        const char *next = next_item(p, &it);
        if (!next) {
            set_err(err, errlen, "%s brace at offset %zu in pattern `%s`",
                    *p == '}' ? "unmatched closing" : "unclosed", (size_t)(p - pattern), pattern);
            return -1;
        }
        if (it.kind == IT_END)
            return 0;
        if (it.kind == IT_VAR && check_var(&it, vars, nvars, err, errlen) < 0)
            return -1;
        p = next;
    }
}

/* ---- trie construction ---- */

enum seg_kind { SEG_STATIC, SEG_PARAM, SEG_WHOLE, SEG_MIXED, SEG_SPAN };

/* A segment of a (valid) pattern: [p, end), without its '/'. */
struct seg {
    const char *p, *end;
    enum seg_kind kind;
    const char *re; /* SEG_WHOLE */
    size_t relen;
};

/* Reads the segment at p and classifies it; returns where it ends. */
static const char *next_seg(const char *p, struct seg *s)
{
    struct item it;
    int ntext = 0, nvars = 0, span = 0;

    s->p = p;
    for (const char *q; (q = next_item(p, &it)) && it.kind != IT_END && it.kind != IT_SLASH;
         p = q) {
        if (it.kind == IT_TEXT) {
            ntext++;
            continue;
        }
        nvars++;
        s->re = it.re;
        s->relen = it.relen;
        span |= it.re && regex_spans(it.re, it.relen);
    }
    s->end = p;
    if (span)
        s->kind = SEG_SPAN;
    else if (nvars == 0)
        s->kind = SEG_STATIC;
    else if (nvars > 1 || ntext > 0)
        s->kind = SEG_MIXED;
    else
        s->kind = s->re ? SEG_WHOLE : SEG_PARAM;
    return p;
}

/* Appends the shape of [p, end): the text with variable names removed. */
static void shape_key(struct buf *b, const char *p, const char *end)
{
    struct item it;

    for (; p < end; p = it.end) {
        next_item(p, &it);
        if (it.kind != IT_VAR) {
            buf_append(b, it.p, (size_t)(it.end - it.p));
            continue;
        }
        buf_putc(b, '{');
        if (it.re) {
            buf_putc(b, ':');
            buf_append(b, it.re, it.relen);
        }
        buf_putc(b, '}');
    }
}

/* Appends static text as a regex matching it literally. */
static void regex_literal(struct buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            buf_putc(b, (char)c);
        else if (c < 0x20 || c >= 0x7f)
            buf_printf(b, "\\x%02x", c);
        else
            buf_printf(b, "\\%c", c);
    }
}

/*
 * Appends a regex for [p, end): text literally, each var as a named group
 * (?<_N>...) so user groups inside the var's regex do not shift our numbering.
 * Returns the number of vars.
 */
static int regex_source(struct buf *b, const char *p, const char *end)
{
    struct item it;
    int n = 0;

    for (; p < end; p = it.end) {
        next_item(p, &it);
        if (it.kind != IT_VAR) {
            regex_literal(b, it.p, (size_t)(it.end - it.p));
            continue;
        }
        buf_printf(b, "(?<_%d>", n++);
        if (it.re)
            buf_append(b, it.re, it.relen);
        else
            buf_puts(b, "[^/]+");
        buf_putc(b, ')');
    }
    return n;
}

/* Grows the shared match data to hold every group of re. */
static void fit_match_data(struct router *r, const pcre2_code *re)
{
    uint32_t ncap = 0;

    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
    if (ncap + 1 <= r->md_pairs)
        return;
    pcre2_match_data_free(r->md);
    r->md_pairs = ncap + 1;
    r->md = pcre2_match_data_create(r->md_pairs, NULL);
    if (!r->md)
        abort();
}

static int cmp_seg(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* Binary search: index of the static child equal to seg, or where it would go. */
static size_t static_pos(const struct node *n, const char *seg, size_t len, int *found)
{
    size_t lo = 0, hi = n->nstatics;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct node *c = n->statics[mid];
        int d = cmp_seg(seg, len, c->seg, c->seglen);
        if (d == 0) {
            *found = 1;
            return mid;
        }
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static struct node *static_child(struct node *n, const char *seg, size_t len)
{
    int found;
    size_t i = static_pos(n, seg, len, &found);

    if (found)
        return n->statics[i];
    if (n->nstatics == n->capstatics) {
        n->capstatics = n->capstatics ? 2 * n->capstatics : 4;
        n->statics = xrealloc(n->statics, n->capstatics * sizeof(*n->statics));
    }
    memmove(n->statics + i + 1, n->statics + i, (n->nstatics - i) * sizeof(*n->statics));
    n->nstatics++;
    struct node *c = xcalloc(1, sizeof(*c));
    c->seg = xstrndup(seg, len);
    c->seglen = len;
    n->statics[i] = c;
    return c;
}

/* Builds the rx of a new regex node; NULL with err set if PCRE2 rejects it. */
static struct rx *rx_new(struct router *r, const struct buf *key, const struct buf *src, int whole,
                         int nvars, char *err, size_t errlen)
{
    char msg[300];
    pcre2_code *re = rx_compile(src->data, src->len, 1, msg, sizeof(msg));

    if (!re) {
        set_err(err, errlen, "bad regex `%.*s`: %s", (int)key->len, key->data, msg);
        return NULL;
    }
    struct rx *x = xcalloc(1, sizeof(*x));
    x->re = re;
    x->key = xstrndup(key->data, key->len);
    x->keylen = key->len;
    x->whole = whole;
    x->nvars = nvars;
    for (int i = 0; !whole && i < nvars; i++) {
        char name[16];
        snprintf(name, sizeof(name), "_%d", i);
        x->grp[i] = (uint32_t)pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
    }
    fit_match_data(r, re);
    return x;
}

/* Finds the regex child of that shape in list, or appends a new one. */
static struct node *regex_child(struct router *r, struct node ***list, size_t *n,
                                const struct buf *key, const struct buf *src, int whole, int nvars,
                                char *err, size_t errlen)
{
    for (size_t i = 0; i < *n; i++) {
        const struct rx *x = (*list)[i]->rx;
        if (x->keylen == key->len && !memcmp(x->key, key->data, key->len))
            return (*list)[i];
    }
    struct rx *x = rx_new(r, key, src, whole, nvars, err, errlen);
    if (!x)
        return NULL;
    struct node *c = xcalloc(1, sizeof(*c));
    c->rx = x;
    *list = xrealloc(*list, (*n + 1) * sizeof(**list));
    (*list)[(*n)++] = c;
    return c;
}

/* Returns the child of n for a non-spanning segment, creating it if needed. */
static struct node *seg_child(struct router *r, struct node *n, const struct seg *s, char *err,
                              size_t errlen)
{
    struct buf key = {0}, src = {0};
    struct node *c;
    int nvars = 1;

    switch (s->kind) {
    case SEG_STATIC:
        return static_child(n, s->p, (size_t)(s->end - s->p));
    case SEG_PARAM:
        if (!n->param)
            n->param = xcalloc(1, sizeof(*n->param));
        return n->param;
    case SEG_WHOLE:
        buf_append(&src, s->re, s->relen);
        break;
    default:
        nvars = regex_source(&src, s->p, s->end);
        break;
    }
    shape_key(&key, s->p, s->end);
    c = regex_child(r, &n->locals, &n->nlocals, &key, &src, s->kind == SEG_WHOLE, nvars, err,
                    errlen);
    buf_free(&key);
    buf_free(&src);
    return c;
}

/* Returns the spanning child of n for the pattern tail at p, creating it. */
static struct node *span_child(struct router *r, struct node *n, const char *p, char *err,
                               size_t errlen)
{
    struct buf key = {0}, src = {0};
    const char *end = p + strlen(p);

    shape_key(&key, p, end);
    int nvars = regex_source(&src, p, end);
    struct node *c = regex_child(r, &n->spans, &n->nspans, &key, &src, 0, nvars, err, errlen);
    buf_free(&key);
    buf_free(&src);
    return c;
}

/* Writes a method set as "GET,POST" ("*" for any) into out. */
static void fmt_methods(uint64_t mask, char *out, size_t outlen)
{
    size_t o = 0;

    out[0] = '\0';
    if (mask == ROUTER_ANY_METHOD) {
        snprintf(out, outlen, "*");
        return;
    }
    for (int m = 0; m < 64 && o < outlen; m++) {
        if (!(mask & BIT(m)))
            continue;
        const char *sep = o ? "," : "";
        int k = method_names[m] ? snprintf(out + o, outlen - o, "%s%s", sep, method_names[m])
                                : snprintf(out + o, outlen - o, "%s#%d", sep, m);
        o += (size_t)k;
    }
}

/* Rejects a route whose methods overlap a route of the same shape. */
static int check_overlap(const struct node *n, const char *pattern, uint64_t methods, char *err,
                         size_t errlen)
{
    for (const struct route *e = n->routes; e; e = e->next) {
        if (!(e->methods & methods))
            continue;
        char mnew[128], mold[128];
        fmt_methods(methods, mnew, sizeof(mnew));
        fmt_methods(e->methods, mold, sizeof(mold));
        set_err(err, errlen, "route `%s %s` overlaps `%s %s` at line %d:%d", mnew, pattern, mold,
                e->pattern, e->line, e->col);
        return -1;
    }
    return 0;
}

static struct route *route_new(const char *pattern, uint64_t methods, int line, int col, void *data,
                               const struct item *vars, int nvars)
{
    struct route *rt = xcalloc(1, sizeof(*rt));

    rt->methods = methods;
    rt->data = data;
    rt->line = line;
    rt->col = col;
    rt->pattern = xstrndup(pattern, strlen(pattern));
    rt->vars.n = nvars;
    for (int i = 0; i < nvars; i++)
        rt->vars.names[i] = xstrndup(vars[i].name, vars[i].nlen);
    return rt;
}

/* Walks (creating) the trie down to the terminal node of a valid pattern. */
static struct node *terminal_node(struct router *r, const char *pattern, char *err, size_t errlen)
{
    struct node *n = &r->root;

    for (const char *p = pattern; n && *p == '/';) {
        struct seg s;
        const char *next = next_seg(p + 1, &s);
        if (s.kind == SEG_SPAN)
            return span_child(r, n, p + 1, err, errlen);
        n = seg_child(r, n, &s, err, errlen);
        p = next;
    }
    return n;
}

int router_split(const char *pattern, struct router_seg *segs, int max)
{
    struct item pv[ROUTER_MAX_VARS];
    int npv, n = 0;

    if (!pattern || check_pattern(pattern, pv, &npv, NULL, 0) < 0)
        return -1;
    for (const char *p = pattern; *p == '/'; n++) {
        struct seg s;
        const char *next = next_seg(p + 1, &s);
        static const enum router_seg_kind kinds[] = {[SEG_STATIC] = ROUTER_SEG_STATIC,
                                                     [SEG_PARAM] = ROUTER_SEG_PARAM,
                                                     [SEG_WHOLE] = ROUTER_SEG_REGEX,
                                                     [SEG_MIXED] = ROUTER_SEG_REGEX,
                                                     [SEG_SPAN] = ROUTER_SEG_SPAN};
        if (n < max) {
            segs[n].kind = kinds[s.kind];
            segs[n].p = p + 1;
            segs[n].len = s.kind == SEG_SPAN ? strlen(p + 1) : (size_t)(s.end - s.p);
        }
        if (s.kind == SEG_SPAN)
            return n + 1;
        p = next;
    }
    return n;
}

int router_seg_same(const struct router_seg *a, const struct router_seg *b)
{
    if (a->kind != b->kind)
        return 0;
    if (a->kind == ROUTER_SEG_PARAM)
        return 1;
    if (a->kind == ROUTER_SEG_STATIC)
        return a->len == b->len && !memcmp(a->p, b->p, a->len);
    struct buf ka = {0}, kb = {0};
    shape_key(&ka, a->p, a->p + a->len);
    shape_key(&kb, b->p, b->p + b->len);
    int same = ka.len == kb.len && (!ka.len || !memcmp(ka.data, kb.data, ka.len));
    buf_free(&ka);
    buf_free(&kb);
    return same;
}

int router_add(struct router *r, const char *pattern, uint64_t methods, int line, int col,
               void *data, struct route_vars *vars, char *err, size_t errlen)
{
    struct item pv[ROUTER_MAX_VARS];
    int npv;

    if (!pattern || !methods) {
        set_err(err, errlen, "route needs a pattern and at least one method");
        return -1;
    }
    if (check_pattern(pattern, pv, &npv, err, errlen) < 0)
        return -1;
    struct node *n = terminal_node(r, pattern, err, errlen);
    if (!n || check_overlap(n, pattern, methods, err, errlen) < 0)
        return -1;

    struct route *rt = route_new(pattern, methods, line, col, data, pv, npv);
    struct route **tail = &n->routes;
    while (*tail)
        tail = &(*tail)->next;
    *tail = rt;
    n->mask |= methods;
    if (vars)
        *vars = rt->vars;
    return 0;
}

/* ---- matching ---- */

/* State of one match: the walk both finds a route and, on a miss, collects Allow. */
struct walk {
    const char *path;
    size_t len;
    int method;
    int collect; /* 405 pass: visit every matching node, OR their masks into allow */
    uint64_t allow;
    pcre2_match_data *md;
    struct router_match *m;
};

/* The node's route for method; a GET route answers HEAD unless one claims HEAD. */
static const struct route *node_route(const struct node *n, int method)
{
    uint64_t bit = BIT(method);

    if (!(n->mask & bit)) {
        if (method != HTTP_HEAD || !(n->mask & BIT(HTTP_GET)))
            return NULL;
        bit = BIT(HTTP_GET);
    }
    for (const struct route *rt = n->routes; rt; rt = rt->next)
        if (rt->methods & bit)
            return rt;
    return NULL;
}

/* The path ends at node n: its route for the method, or none (and collect). */
static const struct route *at_end(struct walk *w, const struct node *n)
{
    if (w->collect) {
        w->allow |= n->mask;
        return NULL;
    }
    return node_route(n, w->method);
}

/* Matches path[start, end) against x, storing its vars from index nv. */
static int rx_match(struct walk *w, const struct rx *x, size_t start, size_t end, int nv)
{
    const char *s = w->path + start;
    /* A negative result is no match, or a PCRE2 limit hit: treated alike. */
    if (pcre2_match(x->re, (PCRE2_SPTR)s, end - start, 0, 0, w->md, NULL) <= 0)
        return 0;
    if (x->whole) {
        w->m->vars[nv] = (yh_span){s, end - start};
        return 1;
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(w->md);
    for (int i = 0; i < x->nvars; i++) {
        PCRE2_SIZE a = ov[2 * x->grp[i]], b = ov[2 * x->grp[i] + 1];
        if (a == PCRE2_UNSET)
            a = b = 0;
        w->m->vars[nv + i] = (yh_span){s + a, b - a};
    }
    return 1;
}

/*
 * Depth-first match of the path from pos (a '/' or the end) below node n,
 * with nv vars captured so far. Children are tried most specific first; a
 * child that dead-ends returns NULL and the next one is tried. Var slots are
 * overwritten by later attempts, so those of the winning branch remain.
 */
static const struct route *walk(struct walk *w, const struct node *n, size_t pos, int nv)
{
    const struct route *rt;
    const struct node *c;
    int found;

    if (pos == w->len)
        return at_end(w, n);
    size_t start = pos + 1;
    const char *seg = w->path + start;
    const char *slash = memchr(seg, '/', w->len - start);
    size_t end = slash ? (size_t)(slash - w->path) : w->len;

    size_t i = static_pos(n, seg, end - start, &found);
    if (found && (rt = walk(w, n->statics[i], end, nv)))
        return rt;
    for (i = 0; i < n->nlocals; i++) {
        c = n->locals[i];
        if (rx_match(w, c->rx, start, end, nv) && (rt = walk(w, c, end, nv + c->rx->nvars)))
            return rt;
    }
    if (n->param && end > start) {
        w->m->vars[nv] = (yh_span){seg, end - start};
        if ((rt = walk(w, n->param, end, nv + 1)))
            return rt;
    }
    for (i = 0; i < n->nspans; i++) {
        c = n->spans[i];
        if (rx_match(w, c->rx, start, w->len, nv) && (rt = at_end(w, c)))
            return rt;
    }
    return NULL;
}

enum router_result router_match(const struct router *r, const char *path, size_t len, int method,
                                struct router_match *m)
{
    struct walk w = {path, len, method, 0, 0, r->md, m};
    const struct route *rt = NULL;

    m->data = NULL;
    m->allow = 0;
    m->nvars = 0;
    if (len == 0 || path[0] != '/')
        return ROUTER_NOT_FOUND;
    if (method >= 0 && method < 64)
        rt = walk(&w, &r->root, 0, 0);
    if (rt) {
        m->data = rt->data;
        m->nvars = rt->vars.n;
        return ROUTER_FOUND;
    }
    /* Slow path, only on a miss: which methods would this path accept? */
    w.collect = 1;
    walk(&w, &r->root, 0, 0);
    if (!w.allow)
        return ROUTER_NOT_FOUND;
    if (w.allow & BIT(HTTP_GET))
        w.allow |= BIT(HTTP_HEAD);
    m->allow = w.allow;
    return ROUTER_METHOD_NOT_ALLOWED;
}

/* ---- lifetime ---- */

struct router *router_new(void)
{
    struct router *r = xcalloc(1, sizeof(*r));

    r->md_pairs = 1;
    r->md = pcre2_match_data_create(r->md_pairs, NULL);
    if (!r->md)
        abort();
    return r;
}

static void node_free(struct node *n);

static void nodes_free(struct node **list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        node_free(list[i]);
        free(list[i]);
    }
    free(list);
}

/* Frees what n owns (not n itself: the root is embedded in the router). */
static void node_free(struct node *n)
{
    nodes_free(n->statics, n->nstatics);
    nodes_free(n->locals, n->nlocals);
    nodes_free(n->spans, n->nspans);
    if (n->param) {
        node_free(n->param);
        free(n->param);
    }
    for (struct route *rt = n->routes, *next; rt; rt = next) {
        next = rt->next;
        for (int i = 0; i < rt->vars.n; i++)
            free((char *)rt->vars.names[i]);
        free(rt->pattern);
        free(rt);
    }
    if (n->rx) {
        pcre2_code_free(n->rx->re);
        free(n->rx->key);
        free(n->rx);
    }
    free(n->seg);
}

void router_free(struct router *r)
{
    if (!r)
        return;
    node_free(&r->root);
    pcre2_match_data_free(r->md);
    free(r);
}
