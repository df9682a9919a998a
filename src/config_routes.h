/* The `routes:` section: route keys, options, handlers, the compiled router. */
#ifndef YH_CONFIG_ROUTES_H
#define YH_CONFIG_ROUTES_H

#include <yaml.h>

struct cfg_ctx;
struct config;

/* Loads the routes list into cfg->routes and cfg->router. Returns 0 or -1. */
int config_load_routes(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *list);
/* Frees the routes, their handler states and the router. */
void config_free_routes(struct config *cfg);

#endif
