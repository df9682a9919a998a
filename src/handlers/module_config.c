/* `module:` — configurator: {path: x.so, config: ANY}; dlopen, ABI check, init(). */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "../../include/yhttpd/module.h"
#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "module.h"

static const char *const module_keys[] = {"path", "config", NULL};

/* The YAML behind yh_config_node; wrappers live until init() returns. */
struct yh_config_node {
    yaml_document_t *doc;
    yaml_node_t *node;
    struct yh_config_node *next_alloc;
};

static struct yh_config_node *wrappers; /* one load at a time per process */

static const struct yh_config_node *wrap(yaml_document_t *doc, yaml_node_t *node)
{
    if (!node)
        return NULL;
    struct yh_config_node *w = calloc(1, sizeof(*w));
    if (!w)
        abort();
    w->doc = doc;
    w->node = node;
    w->next_alloc = wrappers;
    wrappers = w;
    return w;
}

static void free_wrappers(void)
{
    while (wrappers) {
        struct yh_config_node *w = wrappers;
        wrappers = w->next_alloc;
        free(w);
    }
}

enum yh_config_kind yh_config_kind(const struct yh_config_node *n)
{
    if (!n)
        return YH_CONFIG_NONE;
    switch (n->node->type) {
    case YAML_SCALAR_NODE:
        return YH_CONFIG_SCALAR;
    case YAML_SEQUENCE_NODE:
        return YH_CONFIG_LIST;
    case YAML_MAPPING_NODE:
        return YH_CONFIG_MAP;
    default:
        return YH_CONFIG_NONE;
    }
}

const char *yh_config_string(const struct yh_config_node *n)
{
    return n && n->node->type == YAML_SCALAR_NODE ? (const char *)n->node->data.scalar.value : NULL;
}

const struct yh_config_node *yh_config_get(const struct yh_config_node *n, const char *key)
{
    if (!n || n->node->type != YAML_MAPPING_NODE || !key)
        return NULL;
    for (yaml_node_pair_t *p = n->node->data.mapping.pairs.start;
         p < n->node->data.mapping.pairs.top; p++) {
        const char *k = cfg_scalar(yaml_document_get_node(n->doc, p->key));
        if (k && strcmp(k, key) == 0)
            return wrap(n->doc, yaml_document_get_node(n->doc, p->value));
    }
    return NULL;
}

size_t yh_config_count(const struct yh_config_node *n)
{
    if (!n)
        return 0;
    if (n->node->type == YAML_SEQUENCE_NODE)
        return (size_t)(n->node->data.sequence.items.top - n->node->data.sequence.items.start);
    if (n->node->type == YAML_MAPPING_NODE)
        return (size_t)(n->node->data.mapping.pairs.top - n->node->data.mapping.pairs.start);
    return 0;
}

const struct yh_config_node *yh_config_item(const struct yh_config_node *n, size_t i,
                                            const char **key)
{
    if (i >= yh_config_count(n))
        return NULL;
    if (n->node->type == YAML_SEQUENCE_NODE) {
        if (key)
            *key = NULL;
        return wrap(n->doc, yaml_document_get_node(n->doc, n->node->data.sequence.items.start[i]));
    }
    yaml_node_pair_t *p = &n->node->data.mapping.pairs.start[i];
    if (key)
        *key = cfg_scalar(yaml_document_get_node(n->doc, p->key));
    return wrap(n->doc, yaml_document_get_node(n->doc, p->value));
}

void module_destroy(void *state)
{
    struct module_route *mr = state;
    if (!mr)
        return;
    if (mr->m && mr->m->fini)
        mr->m->fini(mr->state);
    if (mr->dl)
        dlclose(mr->dl);
    free(mr->path);
    free(mr);
}

/* dlopen + the exported descriptor + its ABI. Returns 0 or -1 after cfg_error at node. */
static int module_open(struct cfg_ctx *c, const yaml_node_t *node, struct module_route *mr)
{
    if (mr->path[0] != '/')
        return cfg_error(c, node, "module: path must be absolute, found `%s`", mr->path);
    mr->dl = dlopen(mr->path, RTLD_NOW | RTLD_LOCAL);
    if (!mr->dl)
        return cfg_error(c, node, "module: cannot load: %s", dlerror());
    mr->m = dlsym(mr->dl, "yh_module");
    if (!mr->m)
        return cfg_error(c, node,
                         "module: `%s` exports no `yh_module` descriptor (use YH_MODULE_DEFINE)",
                         mr->path);
    if (mr->m->abi != YH_MODULE_ABI) {
        unsigned abi = mr->m->abi;
        mr->m = NULL; /* never call into an object built for another ABI */
        return cfg_error(c, node,
                         "module: `%s` was built for module ABI %u; this yhttpd speaks ABI %d "
                         "(rebuild it against this include/yhttpd/module.h)",
                         mr->path, abi, YH_MODULE_ABI);
    }
    if (!mr->m->handle) {
        mr->m = NULL;
        return cfg_error(c, node, "module: `%s` has no handle() function", mr->path);
    }
    return 0;
}

static int module_init(struct cfg_ctx *c, const yaml_node_t *at, const yaml_node_t *config,
                       struct module_route *mr)
{
    if (!mr->m->init)
        return 0;
    char err[512] = "";
    const struct yh_config_node *node = wrap(c->doc, (yaml_node_t *)config);
    int rc = mr->m->init(node, &mr->state, err, sizeof(err));
    free_wrappers();
    if (rc == 0)
        return 0;
    mr->state = NULL;
    return cfg_error(c, config ? config : at, "module `%s`: %s",
                     mr->m->name ? mr->m->name : mr->path, err[0] ? err : "init() failed");
}

static int module_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                            void **state)
{
    if (v->type != YAML_MAPPING_NODE)
        return cfg_error(c, v, "module: expected {path: /path/to/module.so, config: ...}, found %s",
                         cfg_type_name(v));
    if (cfg_check_keys(c, v, module_keys) < 0)
        return -1;
    yaml_node_t *path = cfg_get(c, v, "path");
    if (!path)
        return cfg_error(c, v, "module: `path:` is required");
    struct module_route *mr = calloc(1, sizeof(*mr));
    if (!mr)
        abort();
    if (cfg_string(c, path, &mr->path) < 0 || module_open(c, path, mr) < 0 ||
        module_init(c, v, cfg_get(c, v, "config"), mr) < 0) {
        module_destroy(mr);
        return -1;
    }
    *state = mr;
    return 0;
}

const struct handler_kind handler_module = {
    .name = "module",
    .configure = module_configure,
    .handle = module_handle,
    .destroy = module_destroy,
};
