/* `gather:` — configurator: {parts: {NAME: URL template, ...}, timeout: 5s}. */
#include <stdlib.h>
#include <string.h>

#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "gather.h"

static const char *const gather_keys[] = {"parts", "timeout", NULL};

void gather_destroy(void *state)
{
    struct gather *g = state;
    if (!g)
        return;
    for (size_t i = 0; i < g->nparts; i++) {
        free(g->parts[i].name);
        proxy_target_free(&g->parts[i].target);
    }
    free(g->parts);
    free(g);
}

static int load_parts(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route,
                      struct gather *g)
{
    if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top == v->data.mapping.pairs.start)
        return cfg_error(c, v, "gather: parts is a mapping of NAME: URL with at least one part");
    if (cfg_check_keys(c, v, NULL) < 0)
        return -1; /* duplicate part names */
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    g->parts = calloc(n, sizeof(*g->parts));
    if (!g->parts)
        abort();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *pr = &v->data.mapping.pairs.start[i];
        const char *name = cfg_scalar(yaml_document_get_node(c->doc, pr->key));
        g->parts[i].name = strdup(name ? name : "");
        if (!g->parts[i].name)
            abort();
        g->nparts = i + 1;
        rc |= proxy_target_load(c, yaml_document_get_node(c->doc, pr->value), route, 32,
                                &g->parts[i].target);
    }
    return rc;
}

static int gather_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                            void **state)
{
    if (v->type != YAML_MAPPING_NODE)
        return cfg_error(c, v, "gather: expected {parts: {NAME: URL, ...}, timeout: 5s}, found %s",
                         cfg_type_name(v));
    if (cfg_check_keys(c, v, gather_keys) < 0)
        return -1;
    struct gather *g = calloc(1, sizeof(*g));
    if (!g)
        abort();
    g->timeout = 5.0;
    yaml_node_t *n;
    uint64_t ms;
    int rc = 0;
    if ((n = cfg_get(c, v, "timeout"))) {
        rc = cfg_duration(c, n, &ms);
        g->timeout = (double)ms / 1000.0;
    }
    if (!(n = cfg_get(c, v, "parts")))
        rc = cfg_error(c, v, "gather: `parts:` is required");
    else
        rc |= load_parts(c, n, route, g);
    if (rc < 0) {
        gather_destroy(g);
        return -1;
    }
    *state = g;
    return 0;
}

const struct handler_kind handler_gather = {
    .name = "gather",
    .configure = gather_configure,
    .handle = gather_handle,
    .destroy = gather_destroy,
};
