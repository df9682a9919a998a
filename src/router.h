/* Compiled route table: aiohttp-style patterns in a segment trie. */
#ifndef YH_ROUTER_H
#define YH_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define ROUTER_MAX_VARS 16
/* Method sets are bit masks indexed by llhttp's method numbers (all < 64). */
#define ROUTER_METHOD_BIT(m) ((uint64_t)1 << (m))
#define ROUTER_ANY_METHOD    (~(uint64_t)0)

/* The path variables a pattern declares, in pattern order; names are owned by the router. */
struct route_vars {
    int n;
    const char *names[ROUTER_MAX_VARS];
};

enum router_result {
    ROUTER_FOUND,
    ROUTER_NOT_FOUND,
    ROUTER_METHOD_NOT_ALLOWED,
};

struct router_match {
    void *data;     /* the matched route's data (ROUTER_FOUND) */
    uint64_t allow; /* every method the path accepts, HEAD added for GET (405 only) */
    int nvars;
    yh_span vars[ROUTER_MAX_VARS]; /* spans into the matched path, in the route's var order */
};

struct router;

/* Returns an empty router; aborts on out-of-memory. */
struct router *router_new(void);
/* Frees the router and every compiled pattern; route data is the caller's. */
void router_free(struct router *r);

/*
 * Parses and adds one route. `line`/`col` locate it for ambiguity messages.
 * On success returns 0 and fills *vars (names stay valid for the router's life).
 * On error returns -1 with a one-line message in err (no file:line prefix),
 * e.g. "route overlaps GET /a/{x} at line 12" or "bad regex in {id:[}: ...".
 */
int router_add(struct router *r, const char *pattern, uint64_t methods, int line, int col,
               void *data, struct route_vars *vars, char *err, size_t errlen);

/*
 * Matches an already normalized path (percent-decoded, dot-segments removed)
 * against the table for llhttp method number `method`. A GET route answers HEAD
 * unless a route on the same pattern claims HEAD. Returns a router_result.
 */
enum router_result router_match(const struct router *r, const char *path, size_t len, int method,
                                struct router_match *m);

/* How the trie files one segment of a pattern, most specific first: matching
 * tries the kinds in this order at each segment (see router.c). */
enum router_seg_kind {
    ROUTER_SEG_STATIC, /* literal text */
    ROUTER_SEG_REGEX,  /* {x:RE}, or text mixed with variables, inside one segment */
    ROUTER_SEG_PARAM,  /* {name} */
    ROUTER_SEG_SPAN,   /* a regex that may match '/': covers the rest of the pattern */
};

struct router_seg {
    enum router_seg_kind kind;
    const char *p; /* into the pattern, without the leading '/' (SPAN: up to its end) */
    size_t len;
};

/*
 * Splits a pattern into the segments the trie files it under; a SPAN segment,
 * if any, is the last. Returns how many (at most max are stored), or -1 when
 * the pattern is invalid (router_add would refuse it).
 */
int router_split(const char *pattern, struct router_seg *segs, int max);
/* 1 when two segments of one kind share a trie node: equal text, or regexes of
 * the same shape (variable names aside); {name} segments always do. */
int router_seg_same(const struct router_seg *a, const struct router_seg *b);

#endif
