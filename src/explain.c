/*
 * `yhttpd --explain "GET /path"`: which route answers a request, and why the
 * others do not. The winner comes from the real router on the real normalized
 * path; every other route's pattern is then tried alone (a one-route router),
 * and the reason it lost is read from the segment kinds in the order the
 * trie's walk tries them (router.c): static, segment regex, {name}, spanning
 * regex; between two regexes of different shape, the one created first.
 */
#include "explain.h"

#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dispatch.h"
#include "handler.h"
#include "http.h"

#define BIT(m) ROUTER_METHOD_BIT(m)

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

/* ---- ranking ---- */

/* Segments 0..k of a and b reach the same trie nodes. */
static int same_prefix(const struct explain_route *a, const struct explain_route *b, int k)
{
    if (a->nsegs <= k || b->nsegs <= k)
        return 0;
    for (int i = 0; i <= k; i++)
        if (!router_seg_same(&a->segs[i], &b->segs[i]))
            return 0;
    return 1;
}

void explain_routes_build(const char *const *patterns, size_t n, struct explain_route *out)
{
    for (size_t i = 0; i < n; i++) {
        struct explain_route *r = &out[i];
        int k = router_split(patterns[i], NULL, 0);
        r->pattern = patterns[i];
        r->nsegs = k > 0 ? k : 0;
        r->segs = xcalloc((size_t)r->nsegs, sizeof(*r->segs));
        r->first = xcalloc((size_t)r->nsegs, sizeof(*r->first));
        router_split(patterns[i], r->segs, r->nsegs);
        for (int s = 0; s < r->nsegs; s++) {
            size_t j = 0;
            while (j < i && !same_prefix(&out[j], r, s))
                j++;
            r->first[s] = (int)j;
        }
    }
}

void explain_routes_free(struct explain_route *routes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(routes[i].segs);
        free(routes[i].first);
    }
}

static void describe(const struct router_seg *s, char *out, size_t n)
{
    switch (s->kind) {
    case ROUTER_SEG_STATIC:
        snprintf(out, n, "static `%.*s`", (int)s->len, s->p);
        break;
    case ROUTER_SEG_REGEX:
        snprintf(out, n, "a segment regex `%.*s`", (int)s->len, s->p);
        break;
    case ROUTER_SEG_PARAM:
        snprintf(out, n, "%.*s", (int)s->len, s->p);
        break;
    default:
        snprintf(out, n, "a regex spanning segments");
        break;
    }
}

/* why = "<later> ranks below <earlier> at segment N[ note]". */
static void set_why(char *why, size_t whylen, const struct router_seg *later,
                    const struct router_seg *earlier, int seg, const char *note)
{
    char l[160], e[160];
    describe(later, l, sizeof(l));
    describe(earlier, e, sizeof(e));
    if (why)
        snprintf(why, whylen, "%s ranks below %s at segment %d%s", l, e, seg, note);
}

int explain_rank(const struct explain_route *a, const struct explain_route *b, char *why,
                 size_t whylen)
{
    int n = a->nsegs < b->nsegs ? a->nsegs : b->nsegs;
    for (int i = 0; i < n; i++) {
        const struct router_seg *sa = &a->segs[i], *sb = &b->segs[i];
        int d;
        const char *note = "";
        if (sa->kind != sb->kind) {
            d = (int)sa->kind - (int)sb->kind;
        } else if (router_seg_same(sa, sb)) {
            if (sa->kind == ROUTER_SEG_SPAN)
                return 0; /* one terminal node */
            continue;
        } else if (sa->kind == ROUTER_SEG_REGEX || sa->kind == ROUTER_SEG_SPAN) {
            d = a->first[i] - b->first[i];
            note = " (among regexes, file order)";
        } else {
            continue; /* two static texts both matching one segment are equal */
        }
        if (d < 0)
            set_why(why, whylen, sb, sa, i + 1, note);
        else if (d > 0)
            set_why(why, whylen, sa, sb, i + 1, note);
        if (d)
            return d;
    }
    return a->nsegs - b->nsegs;
}

/* ---- the report ---- */

static int accepts(uint64_t methods, int method)
{
    return (methods & BIT(method)) || (method == HTTP_HEAD && (methods & BIT(HTTP_GET)));
}

static void put_methods(struct buf *out, uint64_t methods)
{
    if (methods == ROUTER_ANY_METHOD)
        buf_puts(out, "any method");
    else
        http_append_allow(out, methods, 0);
}

/* Matches path against route's pattern alone; fills m (vars point into path). */
static int pattern_matches(const struct route *route, const char *path, size_t len,
                           struct router_match *m)
{
    struct router *one = router_new();
    int ok = router_add(one, route->pattern, ROUTER_ANY_METHOD, route->line, route->col,
                        (void *)route, NULL, NULL, 0) == 0 &&
             router_match(one, path, len, HTTP_GET, m) == ROUTER_FOUND;
    router_free(one);
    return ok;
}

static void put_route(struct buf *out, const struct config *cfg, const struct route *r)
{
    buf_printf(out, "%s (%s:%d)", r->label, cfg->path, r->line);
}

/* One line for a route whose pattern matches but which did not answer. */
static void put_loser(struct buf *out, const struct config *cfg, const struct explain_route *ranks,
                      size_t winner, size_t i, int method)
{
    const struct route *r = &cfg->routes[i];
    buf_puts(out, "  ");
    put_route(out, cfg, r);
    if (!accepts(r->methods, method)) {
        buf_puts(out, ": the pattern matches, but the route accepts ");
        put_methods(out, r->methods);
        buf_printf(out, ", not %s\n", http_method_name(method));
        return;
    }
    char why[400];
    int d = explain_rank(&ranks[winner], &ranks[i], why, sizeof(why));
    if (d < 0)
        buf_printf(out, ": %s\n", why);
    else if (d == 0)
        buf_printf(out, ": same pattern; %s is claimed by the route above\n",
                   http_method_name(method));
    else
        buf_printf(out, ": ranks first by segment kinds (%s), yet the router chose the other\n",
                   why);
}

/* The matching routes other than the winner, each with why it lost. */
static void put_losers(struct buf *out, const struct config *cfg, const char *path, size_t len,
                       const struct route *winner, int method)
{
    const char **patterns = xcalloc(cfg->nroutes, sizeof(*patterns));
    struct explain_route *ranks = xcalloc(cfg->nroutes, sizeof(*ranks));
    for (size_t i = 0; i < cfg->nroutes; i++)
        patterns[i] = cfg->routes[i].pattern;
    explain_routes_build(patterns, cfg->nroutes, ranks);
    size_t w = winner ? (size_t)(winner - cfg->routes) : 0;
    int any = 0;
    for (size_t i = 0; i < cfg->nroutes; i++) {
        struct router_match m;
        if (&cfg->routes[i] == winner || !pattern_matches(&cfg->routes[i], path, len, &m))
            continue;
        if (!any++)
            buf_puts(out, winner ? "beaten:\n" : "matching patterns:\n");
        put_loser(out, cfg, ranks, w, i, method);
    }
    explain_routes_free(ranks, cfg->nroutes);
    free(ranks);
    free(patterns);
}

static void put_winner(struct buf *out, const struct config *cfg, const struct router_match *m)
{
    const struct route *r = m->data;
    buf_puts(out, "route: ");
    put_route(out, cfg, r);
    buf_printf(out, ", handler %s\n", r->kind ? r->kind->name : "?");
    for (int i = 0; i < m->nvars; i++)
        buf_printf(out, "  %s = %.*s\n", r->vars.names[i], (int)m->vars[i].n, m->vars[i].p);
}

static void put_allow(struct buf *out, int status, uint64_t allow)
{
    buf_printf(out, "result: %d %s%s; Allow: ", status, http_status_text(status),
               status == 204 ? " (automatic OPTIONS answer)" : "");
    http_append_allow(out, allow, 1);
    buf_putc(out, '\n');
}

/* Splits "METHOD TARGET"; returns the method number or -1 (reason in out). */
static int parse_request(const char *request, yh_span *target, struct buf *out)
{
    while (*request == ' ')
        request++;
    size_t mlen = strcspn(request, " \t");
    const char *t = request + mlen;
    while (*t == ' ' || *t == '\t')
        t++;
    size_t tlen = strcspn(t, " \t\r\n");
    if (!mlen || !tlen || t[tlen + strspn(t + tlen, " ")]) {
        buf_printf(out,
                   "yhttpd: --explain wants \"METHOD TARGET\", e.g. \"GET /hello/bob\"; "
                   "got `%s`\n",
                   request);
        return -1;
    }
    int method = http_method_from_name(request, mlen);
    if (method < 0)
        buf_printf(out, "yhttpd: unknown method `%.*s` (methods are case-sensitive)\n", (int)mlen,
                   request);
    *target = (yh_span){t, tlen};
    return method;
}

int explain_request(const struct config *cfg, const char *request, struct buf *out)
{
    yh_span target, query;
    int method = parse_request(request, &target, out);
    if (method < 0)
        return 2;
    buf_printf(out, "request: %s %.*s\n", http_method_name(method), (int)target.n, target.p);
    if (method == HTTP_CONNECT) {
        buf_puts(out, "result: 501 Not Implemented: CONNECT is not supported\n");
        return 1;
    }
    if (method == HTTP_OPTIONS && target.n == 1 && target.p[0] == '*') {
        uint64_t allow = 0;
        for (size_t i = 0; i < cfg->nroutes; i++)
            allow |= cfg->routes[i].methods;
        put_allow(out, 204, allow & BIT(HTTP_GET) ? allow | BIT(HTTP_HEAD) : allow);
        return 1;
    }
    struct buf path = {0};
    if (request_target_path(target, &path, &query, NULL)) {
        buf_puts(out, "result: 400 Bad Request: the server refuses this target (not a /path or "
                      "absolute URL, a bad %XX, %00, or `..` climbing above /)\n");
        buf_free(&path);
        return 1;
    }
    buf_printf(out, "path: %.*s\n", (int)path.len, path.data);
    struct router_match m;
    enum router_result res = router_match(cfg->router, path.data, path.len, method, &m);
    if (res == ROUTER_FOUND)
        put_winner(out, cfg, &m);
    else if (res == ROUTER_METHOD_NOT_ALLOWED)
        put_allow(out, method == HTTP_OPTIONS ? 204 : 405, m.allow);
    else
        buf_printf(out, "result: 404 Not Found: no route pattern matches %.*s\n", (int)path.len,
                   path.data);
    if (res != ROUTER_NOT_FOUND)
        put_losers(out, cfg, path.data, path.len, res == ROUTER_FOUND ? m.data : NULL, method);
    buf_free(&path);
    return res == ROUTER_FOUND ? 0 : 1;
}
