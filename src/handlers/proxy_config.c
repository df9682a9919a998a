/* `proxy:` — configurator: a URL template, or {to:, timeout: {connect:, read:}, headers:,
 * keepalive:}. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "../http.h"
#include "../template.h"
#include "proxy.h"

static const char *const proxy_keys[] = {"to", "timeout", "headers", "keepalive", NULL};
static const char *const timeout_keys[] = {"connect", "read", NULL};
/* The proxy frames the body and manages the connection itself. */
static const char *const unsettable[] = {
    "content-length", "transfer-encoding", "connection", "keep-alive", "te", "upgrade", NULL};

static struct proxy *proxy_new(void)
{
    struct proxy *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    p->connect_timeout = 2.0;
    p->read_timeout = 30.0;
    return p;
}

void proxy_destroy(void *state)
{
    struct proxy *p = state;
    if (!p)
        return;
    for (size_t i = 0; i < p->nto; i++)
        proxy_target_free(&p->to[i]);
    free(p->to);
    for (size_t i = 0; i < p->nheaders; i++) {
        free(p->headers[i].name);
        tpl_free(p->headers[i].value);
    }
    free(p->headers);
    free(p);
}

static int load_targets(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route,
                        unsigned keepalive, struct proxy *p)
{
    int list = v->type == YAML_SEQUENCE_NODE;
    size_t n = list ? (size_t)(v->data.sequence.items.top - v->data.sequence.items.start) : 1;
    if (n == 0)
        return cfg_error(c, v, "proxy: `to` needs at least one upstream URL");
    p->to = calloc(n, sizeof(*p->to));
    if (!p->to)
        abort();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item =
            list ? yaml_document_get_node(c->doc, v->data.sequence.items.start[i]) : v;
        rc |= proxy_target_load(c, item, route, keepalive, &p->to[i]);
        p->nto = i + 1;
    }
    return rc;
}

static int load_timeouts(struct cfg_ctx *c, const yaml_node_t *v, struct proxy *p)
{
    if (v->type != YAML_MAPPING_NODE)
        return cfg_error(c, v, "proxy: timeout is a mapping {connect: 2s, read: 30s}, found %s",
                         cfg_type_name(v));
    if (cfg_check_keys(c, v, timeout_keys) < 0)
        return -1;
    yaml_node_t *n;
    uint64_t ms;
    if ((n = cfg_get(c, v, "connect"))) {
        if (cfg_duration(c, n, &ms) < 0)
            return -1;
        p->connect_timeout = (double)ms / 1000.0;
    }
    if ((n = cfg_get(c, v, "read"))) {
        if (cfg_duration(c, n, &ms) < 0)
            return -1;
        p->read_timeout = (double)ms / 1000.0;
    }
    return 0;
}

static int load_header(struct cfg_ctx *c, const struct route *route, const yaml_node_t *k,
                       const yaml_node_t *v, struct proxy *p)
{
    const char *name = cfg_scalar(k);
    if (!name || !http_token_valid(name))
        return cfg_error(c, k, "proxy: headers: `%s` is not a valid header name",
                         name ? name : "?");
    for (size_t i = 0; unsettable[i]; i++)
        if (strcasecmp(name, unsettable[i]) == 0)
            return cfg_error(c, k, "proxy: headers: `%s` is managed by the proxy", name);
    struct route_header *h = &p->headers[p->nheaders];
    if (cfg_template(c, v, route, TPL_RAW, &h->value) < 0)
        return -1;
    h->name = strdup(name);
    if (!h->name)
        abort();
    p->sets_host |= strcasecmp(name, "host") == 0;
    p->nheaders++;
    return 0;
}

static int load_headers(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route,
                        struct proxy *p)
{
    if (v->type != YAML_MAPPING_NODE)
        return cfg_error(c, v, "proxy: headers: expected a mapping of Name: value, found %s",
                         cfg_type_name(v));
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    p->headers = calloc(n ? n : 1, sizeof(*p->headers));
    if (!p->headers)
        abort();
    int rc = 0;
    for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++)
        rc |= load_header(c, route, yaml_document_get_node(c->doc, pr->key),
                          yaml_document_get_node(c->doc, pr->value), p);
    return rc;
}

static int proxy_long_form(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route,
                           struct proxy *p)
{
    if (cfg_check_keys(c, v, proxy_keys) < 0)
        return -1;
    yaml_node_t *n;
    uint64_t keepalive = 32;
    if ((n = cfg_get(c, v, "keepalive")) && cfg_uint(c, n, 0, 10000, &keepalive) < 0)
        return -1;
    int rc = 0;
    if ((n = cfg_get(c, v, "timeout")))
        rc |= load_timeouts(c, n, p);
    if ((n = cfg_get(c, v, "headers")))
        rc |= load_headers(c, n, route, p);
    if (!(n = cfg_get(c, v, "to")))
        return cfg_error(c, v, "proxy: the long form needs `to:` (one URL or a list)");
    return rc | load_targets(c, n, route, (unsigned)keepalive, p);
}

static int proxy_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                           void **state)
{
    struct proxy *p = proxy_new();
    int rc = v->type == YAML_MAPPING_NODE ? proxy_long_form(c, v, route, p)
                                          : load_targets(c, v, route, 32, p);
    if (rc < 0) {
        proxy_destroy(p);
        return -1;
    }
    *state = p;
    return 0;
}

const struct handler_kind handler_proxy = {
    .name = "proxy",
    .configure = proxy_configure,
    .handle = proxy_handle,
    .destroy = proxy_destroy,
    .streams_body = 1,
};
