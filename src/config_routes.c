/* The `routes:` section: route keys, options, handlers, the compiled router. */
#include "config_routes.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "config.h"
#include "config_examples.h"
#include "handler.h"
#include "http.h"
#include "suggest.h"

static const char *const option_keys[] = {"headers", "body_size", "limit", "examples", NULL};

static const char *const known_methods[] = {
    "GET",   "HEAD", "POST", "PUT",  "DELETE", "PATCH",  "OPTIONS", "TRACE", "PURGE", "PROPFIND",
    "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",  "QUERY", NULL};

/* Headers the server itself owns: a route may not set them. */
static const char *const reserved_headers[] = {
    "content-length", "transfer-encoding", "connection", "date", "keep-alive", "upgrade", NULL};

static int in_list(const char *s, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

static int parse_one_method(struct cfg_ctx *c, const yaml_node_t *key, const char *name, size_t len,
                            uint64_t *mask)
{
    int m = http_method_from_name(name, len);
    if (m >= 0) {
        *mask |= ROUTER_METHOD_BIT(m);
        return 0;
    }
    char word[32];
    snprintf(word, sizeof(word), "%.*s", (int)len, name);
    const char *hint = suggest_closest(word, known_methods);
    if (hint)
        return cfg_error(c, key,
                         "unknown method `%s` (methods are case-sensitive); did you mean "
                         "`%s`?",
                         word, hint);
    return cfg_error(c, key, "unknown method `%s`", word);
}

/* "GET,POST" or "*" -> a method mask. */
static int parse_methods(struct cfg_ctx *c, const yaml_node_t *key, const char *s, size_t len,
                         uint64_t *mask)
{
    *mask = 0;
    if (len == 1 && s[0] == '*') {
        *mask = ROUTER_ANY_METHOD;
        return 0;
    }
    while (len > 0) {
        const char *comma = memchr(s, ',', len);
        size_t n = comma ? (size_t)(comma - s) : len;
        if (n == 0)
            return cfg_error(c, key, "empty method in `%s`", cfg_scalar(key));
        if (parse_one_method(c, key, s, n, mask) < 0)
            return -1;
        s += n + (comma ? 1 : 0);
        len -= n + (comma ? 1 : 0);
        if (comma && len == 0)
            return cfg_error(c, key, "empty method in `%s`", cfg_scalar(key));
    }
    return 0;
}

/* "METHODS PATTERN" -> route->methods, route->pattern, route->label. */
static int parse_route_key(struct cfg_ctx *c, const yaml_node_t *key, struct route *route)
{
    const char *s = cfg_scalar(key);
    if (!s)
        return cfg_error(c, key, "a route key must be \"METHODS /pattern\", found %s",
                         cfg_type_name(key));
    const char *sp = strpbrk(s, " \t");
    if (!sp)
        return cfg_error(c, key,
                         "a route key must be \"METHODS /pattern\" (e.g. \"GET /\"), "
                         "found `%s`",
                         s);
    if (parse_methods(c, key, s, (size_t)(sp - s), &route->methods) < 0)
        return -1;
    while (*sp == ' ' || *sp == '\t')
        sp++;
    if (*sp != '/')
        return cfg_error(c, key, "route pattern must start with `/`, found `%s`", sp);
    route->pattern = strdup(sp);
    route->label = strdup(s);
    if (!route->pattern || !route->label)
        abort();
    return 0;
}

static int reserved_header(const char *name)
{
    char lower[64];
    size_t i;
    for (i = 0; name[i] && i < sizeof(lower) - 1; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = 0;
    return in_list(lower, reserved_headers);
}

static int load_route_header(struct cfg_ctx *c, struct route *route, const yaml_node_t *k,
                             const yaml_node_t *v)
{
    const char *name = cfg_scalar(k);
    if (!name || !http_token_valid(name))
        return cfg_error(c, k, "headers: `%s` is not a valid header name", name ? name : "?");
    if (reserved_header(name))
        return cfg_error(c, k, "headers: `%s` is set by the server and cannot be configured", name);
    struct route_header *h = &route->headers[route->nheaders];
    if (cfg_template(c, v, route, TPL_RAW, &h->value) < 0)
        return -1;
    h->name = strdup(name);
    if (!h->name)
        abort();
    route->nheaders++;
    return 0;
}

static int load_route_headers(struct cfg_ctx *c, struct route *route, const yaml_node_t *node)
{
    if (node->type != YAML_MAPPING_NODE)
        return cfg_error(c, node, "headers: expected a mapping of Name: value, found %s",
                         cfg_type_name(node));
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    route->headers = calloc(n ? n : 1, sizeof(*route->headers));
    if (!route->headers)
        abort();
    int rc = 0;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++)
        rc |= load_route_header(c, route, yaml_document_get_node(c->doc, p->key),
                                yaml_document_get_node(c->doc, p->value));
    return rc;
}

/* Finds the one handler key of a route's mapping; reports none, several or unknown. */
static const yaml_node_pair_t *find_handler(struct cfg_ctx *c, const yaml_node_t *key,
                                            const yaml_node_t *map)
{
    const yaml_node_pair_t *found = NULL;
    int bad = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *name = cfg_scalar(k);
        if (!name || in_list(name, option_keys))
            continue;
        if (handler_is_planned(name)) {
            bad = cfg_error(c, k, "handler `%s` is not available in this version", name);
        } else if (!handler_find(name)) {
            const char *hint = suggest_closest(name, handler_names);
            if (!hint)
                hint = suggest_closest(name, option_keys);
            bad = hint ? cfg_error(c, k, "unknown key `%s`; did you mean `%s`?", name, hint)
                       : cfg_error(c, k, "unknown key `%s`", name);
        } else if (found) {
            bad = cfg_error(c, k, "a route takes exactly one handler; found `%s` after `%s`", name,
                            cfg_scalar(yaml_document_get_node(c->doc, found->key)));
        } else {
            found = p;
        }
    }
    if (!found && !bad)
        cfg_error(c, key, "route `%s` has no handler (one of: text, json, redirect, echo, ...)",
                  cfg_scalar(key));
    return bad ? NULL : found;
}

static int load_route_options(struct cfg_ctx *c, const struct config *cfg, struct route *route,
                              const yaml_node_t *map)
{
    yaml_node_t *v;
    int rc = 0;
    route->body_size = cfg->limits.body_size;
    if ((v = cfg_get(c, map, "body_size")))
        rc |= cfg_size(c, v, &route->body_size);
    if ((v = cfg_get(c, map, "headers")))
        rc |= load_route_headers(c, route, v);
    if ((v = cfg_get(c, map, "limit")))
        rc |= cfg_uint(c, v, 1, 1000000, &route->limit);
    if ((v = cfg_get(c, map, "examples")))
        rc |= config_load_examples(c, route, v);
    route->inflight = calloc(1, sizeof(*route->inflight));
    if (!route->inflight)
        abort();
    return rc;
}

static int load_route(struct cfg_ctx *c, struct config *cfg, struct route *route,
                      const yaml_node_t *item)
{
    if (item->type != YAML_MAPPING_NODE ||
        item->data.mapping.pairs.top - item->data.mapping.pairs.start != 1)
        return cfg_error(c, item,
                         "each route is a one-key mapping: \"METHODS /pattern\": "
                         "{handler: ...}");
    yaml_node_pair_t *pair = item->data.mapping.pairs.start;
    yaml_node_t *key = yaml_document_get_node(c->doc, pair->key);
    yaml_node_t *value = yaml_document_get_node(c->doc, pair->value);
    route->line = (int)key->start_mark.line + 1;
    route->col = (int)key->start_mark.column + 1;
    if (parse_route_key(c, key, route) < 0)
        return -1;
    char err[512];
    if (router_add(cfg->router, route->pattern, route->methods, route->line, route->col, route,
                   &route->vars, err, sizeof(err)) < 0)
        return cfg_error(c, key, "%s", err);
    if (value->type != YAML_MAPPING_NODE)
        return cfg_error(c, value,
                         "route `%s` needs a mapping with its handler, e.g. {text: "
                         "\"hi\"}; found %s",
                         route->label, cfg_type_name(value));
    const yaml_node_pair_t *h = find_handler(c, key, value);
    if (!h)
        return -1;
    int rc = load_route_options(c, cfg, route, value);
    route->kind = handler_find(cfg_scalar(yaml_document_get_node(c->doc, h->key)));
    if (route->kind->configure(c, yaml_document_get_node(c->doc, h->value), route, &route->state) <
        0) {
        route->kind = NULL; /* nothing to destroy */
        return -1;
    }
    return rc;
}

int config_load_routes(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *list)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return cfg_error(c, list, "routes: expected a list of routes, found %s",
                         cfg_type_name(list));
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0)
        return cfg_error(c, list, "routes: the list is empty; add at least one route");
    cfg->routes = calloc(n, sizeof(*cfg->routes));
    if (!cfg->routes)
        abort();
    cfg->nroutes = n;
    cfg->router = router_new();
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= load_route(c, cfg, &cfg->routes[i],
                         yaml_document_get_node(c->doc, list->data.sequence.items.start[i]));
    return rc;
}

void config_free_routes(struct config *cfg)
{
    for (size_t i = 0; i < cfg->nroutes; i++) {
        struct route *r = &cfg->routes[i];
        if (r->kind && r->kind->destroy)
            r->kind->destroy(r->state);
        for (size_t j = 0; j < r->nheaders; j++) {
            free(r->headers[j].name);
            tpl_free(r->headers[j].value);
        }
        free(r->headers);
        config_free_examples(r);
        free(r->inflight);
        free(r->label);
        free(r->pattern);
    }
    free(cfg->routes);
    if (cfg->router)
        router_free(cfg->router);
}

void config_print_routes(const struct config *cfg, struct buf *out)
{
    size_t w = 6;
    for (size_t i = 0; i < cfg->nroutes; i++)
        if (strlen(cfg->routes[i].label) > w)
            w = strlen(cfg->routes[i].label);
    buf_printf(out, "%-*s  %-8s  %s\n", (int)w, "ROUTE", "HANDLER", "SOURCE");
    for (size_t i = 0; i < cfg->nroutes; i++) {
        const struct route *r = &cfg->routes[i];
        buf_printf(out, "%-*s  %-8s  %s:%d\n", (int)w, r->label, r->kind ? r->kind->name : "?",
                   cfg->path, r->line);
    }
}
