/* A route's `examples:` — requests with their expected answers, run by -t and before a reload. */
#include "config_examples.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "config.h"
#include "http.h"

static const char *const example_keys[] = {"request",  "status",          "body",         "headers",
                                           "contains", "request_headers", "request_body", NULL};

/* The runner frames the request itself: these would contradict it. */
static const char *const runner_headers[] = {"content-length", "transfer-encoding", "connection",
                                             NULL};

static struct ex_pos pos_of(const yaml_node_t *n)
{
    return (struct ex_pos){(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
}

static size_t count_pairs(const yaml_node_t *map)
{
    return (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
}

/* A scalar's bytes, NUL included when escaped in (body: "a\0b"). */
static int load_bytes(struct cfg_ctx *c, const yaml_node_t *node, const char *what, char **out,
                      size_t *len)
{
    if (node->type != YAML_SCALAR_NODE)
        return cfg_error(c, node, "examples: %s: expected a string, found %s", what,
                         cfg_type_name(node));
    *len = node->data.scalar.length;
    *out = malloc(*len + 1);
    if (!*out)
        abort();
    memcpy(*out, node->data.scalar.value, *len);
    (*out)[*len] = '\0';
    return 0;
}

/* "METHOD TARGET": a known method, one space, a target without blanks. */
static int load_request(struct cfg_ctx *c, struct route_example *ex, const yaml_node_t *node)
{
    const char *s = cfg_scalar(node);
    if (!s)
        return cfg_error(c, node, "examples: request: expected \"METHOD TARGET\", found %s",
                         cfg_type_name(node));
    const char *sp = strchr(s, ' ');
    ex->method = sp ? http_method_from_name(s, (size_t)(sp - s)) : -1;
    if (!sp || sp == s || !sp[1])
        return cfg_error(c, node,
                         "examples: request: expected \"METHOD TARGET\" (e.g. \"GET /\"), "
                         "found `%s`",
                         s);
    if (ex->method < 0)
        return cfg_error(c, node,
                         "examples: request: unknown method `%.*s` (methods are "
                         "case-sensitive)",
                         (int)(sp - s), s);
    for (const char *p = sp + 1; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return cfg_error(c, node,
                             "examples: request: the target `%s` holds a blank or a "
                             "control character",
                             sp + 1);
    ex->request = strdup(s);
    ex->target = strdup(sp + 1);
    if (!ex->request || !ex->target)
        abort();
    return 0;
}

static int in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcasecmp(name, list[i]) == 0)
            return 1;
    return 0;
}

/* A mapping of Name: value into *out; for_request bars the headers the runner sets. */
static int load_headers(struct cfg_ctx *c, const yaml_node_t *map, const char *what,
                        int for_request, struct ex_header **out, size_t *n)
{
    if (map->type != YAML_MAPPING_NODE)
        return cfg_error(c, map, "examples: %s: expected a mapping of Name: value, found %s", what,
                         cfg_type_name(map));
    if (cfg_check_keys(c, map, NULL) < 0)
        return -1;
    *out = calloc(count_pairs(map) + 1, sizeof(**out));
    if (!*out)
        abort();
    int rc = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
        const char *name = cfg_scalar(k);
        const char *value = cfg_scalar(v);
        if (!http_token_valid(name)) {
            rc = cfg_error(c, k, "examples: %s: `%s` is not a valid header name", what, name);
        } else if (for_request && in_list(name, runner_headers)) {
            rc = cfg_error(c, k, "examples: %s: `%s` is set by the example runner", what, name);
        } else if (!value) {
            rc = cfg_error(c, v, "examples: %s: the value of `%s` must be a string, found %s", what,
                           name, cfg_type_name(v));
        } else if (strpbrk(value, "\r\n")) {
            rc = cfg_error(c, v, "examples: %s: the value of `%s` must be one line", what, name);
        } else {
            struct ex_header *h = &(*out)[(*n)++];
            h->name = strdup(name);
            h->value = strdup(value);
            if (!h->name || !h->value)
                abort();
            h->at = pos_of(v);
        }
    }
    return rc;
}

/* `contains:` — one substring or a list of them. */
static int load_contains(struct cfg_ctx *c, struct route_example *ex, const yaml_node_t *node)
{
    const yaml_node_item_t *start = NULL, *top = NULL;
    yaml_node_item_t self = 0;
    if (node->type == YAML_SEQUENCE_NODE) {
        start = node->data.sequence.items.start;
        top = node->data.sequence.items.top;
    } else {
        start = &self;
        top = start + 1;
    }
    ex->contains = calloc((size_t)(top - start) + 1, sizeof(*ex->contains));
    if (!ex->contains)
        abort();
    int rc = 0;
    for (const yaml_node_item_t *i = start; i < top; i++) {
        const yaml_node_t *item = i == &self ? node : yaml_document_get_node(c->doc, *i);
        size_t len;
        struct ex_header *h = &ex->contains[ex->ncontains];
        if (load_bytes(c, item, "contains", &h->value, &len) < 0) {
            rc = -1;
            continue;
        }
        h->at = pos_of(item);
        ex->ncontains++;
    }
    return rc;
}

static int load_status(struct cfg_ctx *c, struct route_example *ex, const yaml_node_t *node)
{
    uint64_t v;
    ex->status_at = pos_of(node);
    if (cfg_uint(c, node, 100, 599, &v) < 0)
        return -1;
    ex->status = (int)v;
    return 0;
}

static int load_example(struct cfg_ctx *c, struct route_example *ex, const yaml_node_t *item)
{
    ex->at = pos_of(item);
    ex->status = 200;
    ex->status_at = ex->at;
    if (item->type != YAML_MAPPING_NODE)
        return cfg_error(c, item,
                         "examples: each example is a mapping like {request: \"GET /\", "
                         "status: 200}; found %s",
                         cfg_type_name(item));
    if (cfg_check_keys(c, item, example_keys) < 0)
        return -1;
    yaml_node_t *v = cfg_get(c, item, "request");
    if (!v)
        return cfg_error(c, item, "examples: an example needs `request: \"METHOD TARGET\"`");
    int rc = load_request(c, ex, v);
    if ((v = cfg_get(c, item, "status")))
        rc |= load_status(c, ex, v);
    if ((v = cfg_get(c, item, "body"))) {
        ex->body_at = pos_of(v);
        rc |= load_bytes(c, v, "body", &ex->body, &ex->body_len);
    }
    if ((v = cfg_get(c, item, "headers")))
        rc |= load_headers(c, v, "headers", 0, &ex->headers, &ex->nheaders);
    if ((v = cfg_get(c, item, "contains")))
        rc |= load_contains(c, ex, v);
    if ((v = cfg_get(c, item, "request_headers")))
        rc |= load_headers(c, v, "request_headers", 1, &ex->request_headers, &ex->nrequest_headers);
    if ((v = cfg_get(c, item, "request_body")))
        rc |= load_bytes(c, v, "request_body", &ex->request_body, &ex->request_body_len);
    return rc;
}

int config_load_examples(struct cfg_ctx *c, struct route *route, const yaml_node_t *list)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return cfg_error(c, list,
                         "examples: expected a list of {request: \"METHOD TARGET\", status: ...}, "
                         "found %s",
                         cfg_type_name(list));
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    route->examples = calloc(n + 1, sizeof(*route->examples));
    if (!route->examples)
        abort();
    route->nexamples = n;
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= load_example(c, &route->examples[i],
                           yaml_document_get_node(c->doc, list->data.sequence.items.start[i]));
    return rc;
}

static void free_headers(struct ex_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }
    free(h);
}

void config_free_examples(struct route *route)
{
    for (size_t i = 0; i < route->nexamples; i++) {
        struct route_example *ex = &route->examples[i];
        free(ex->request);
        free(ex->target);
        free_headers(ex->request_headers, ex->nrequest_headers);
        free(ex->request_body);
        free(ex->body);
        free_headers(ex->headers, ex->nheaders);
        free_headers(ex->contains, ex->ncontains);
    }
    free(route->examples);
    route->examples = NULL;
    route->nexamples = 0;
}
