/* From a parsed head to a handler: validation, routing, automatic answers. */
#ifndef YH_DISPATCH_H
#define YH_DISPATCH_H

#include <llhttp.h>

#include "buf.h"

struct request;

/* Validates the head (Host, target, framing, Expect), normalizes the path and
 * routes it. Returns 0, or a status that ends the connection (400, 413, 417,
 * 501, 505). 404/405/OPTIONS answers are recorded for request_dispatch(). */
int request_route(struct request *r, llhttp_t *p);

/* The path a request target is routed by: origin- or absolute-form, query
 * split off (*query points into target), percent-decoded and dot-segments
 * removed into path (NUL-terminated); an absolute-form authority is stored in
 * *host (when host is not NULL) as it stands for the Host header. Returns 0,
 * or 400 for a target the server refuses. Shared by real requests and
 * `yhttpd --explain`. */
int request_target_path(yh_span target, struct buf *path, yh_span *query, yh_span *host);

/* Answers the complete request: the route's handler, or the recorded automatic answer. */
void request_dispatch(struct request *r);

#endif
