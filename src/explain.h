/* `yhttpd --explain "GET /path"`: which route answers a request, and why the others do not. */
#ifndef YH_EXPLAIN_H
#define YH_EXPLAIN_H

#include <stddef.h>

#include "buf.h"
#include "router.h"

struct config;

/* A route's pattern as the trie files it, for ranking. */
struct explain_route {
    const char *pattern;
    struct router_seg *segs;
    int nsegs;
    /* per segment: the file index of the first route that reaches the same
     * trie node there (regex nodes are tried in the order they were created) */
    int *first;
};

/* Splits each of n patterns (all valid, in file order) into out[i]; free with explain_routes_free.
 */
void explain_routes_build(const char *const *patterns, size_t n, struct explain_route *out);
void explain_routes_free(struct explain_route *routes, size_t n);

/*
 * Ranks two routes whose patterns both match one path, as the router's walk
 * orders them. Returns < 0 when a is tried first, > 0 when b is, 0 when both
 * end on the same trie node (they differ only by methods). For a non-zero
 * result, why gets "<the later one's segment> ranks below <the other's> at
 * segment N" (or the file-order rule between two regexes).
 */
int explain_rank(const struct explain_route *a, const struct explain_route *b, char *why,
                 size_t whylen);

/*
 * Explains how cfg routes `request` ("METHOD TARGET") into out: the winning
 * route and its variables, the other matching routes and why they lost, or the
 * 404/405/400 the server would answer. Returns 0 when a route answers, 1 when
 * none does, 2 when request is not "METHOD TARGET" (the reason in out).
 */
int explain_request(const struct config *cfg, const char *request, struct buf *out);

#endif
