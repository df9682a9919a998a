/* A route's `examples:` — requests with their expected answers, run by -t and before a reload. */
#ifndef YH_CONFIG_EXAMPLES_H
#define YH_CONFIG_EXAMPLES_H

#include <stddef.h>
#include <yaml.h>

struct cfg_ctx;
struct route;

/* Where a value was written (1-based), for failure messages. */
struct ex_pos {
    int line, col;
};

struct ex_header {
    char *name, *value;
    struct ex_pos at; /* of the value */
};

struct route_example {
    struct ex_pos at; /* the list item */
    int method;       /* llhttp method number */
    char *request;    /* "GET /hello/bob?x=1" as written */
    char *target;     /* "/hello/bob?x=1" */
    struct ex_header *request_headers;
    size_t nrequest_headers;
    char *request_body; /* NULL: none */
    size_t request_body_len;
    int status; /* expected; 200 unless given */
    struct ex_pos status_at;
    char *body; /* expected exactly; NULL: not checked */
    size_t body_len;
    struct ex_pos body_at;
    struct ex_header *headers; /* expected answer headers */
    size_t nheaders;
    struct ex_header *contains; /* substrings of the body (value only) */
    size_t ncontains;
};

/* Loads a route's `examples:` list into route->examples. Returns 0 or -1 (errors reported). */
int config_load_examples(struct cfg_ctx *c, struct route *route, const yaml_node_t *list);
/* Frees route->examples. */
void config_free_examples(struct route *route);

#endif
