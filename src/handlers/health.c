/* `health:` — 200 "ok" while serving, 503 "draining" once a stop has begun, so
 * a load balancer takes the host out before its connections close. */
#include <stdlib.h>

#include "../cfg.h"
#include "../handler.h"
#include "../request.h"
#include "../worker.h"

static int health_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                            void **state)
{
    if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top != v->data.mapping.pairs.start)
        return cfg_error(c, v, "health: takes no options; write `health: {}`");
    *state = NULL;
    return 0;
}

static void health_handle(struct request *r, const void *state)
{
    int draining = the_worker && the_worker->draining;
    resp_begin(r, draining ? 503 : 200);
    resp_header(r, "Content-Type", "text/plain; charset=utf-8", 25);
    resp_header(r, "Cache-Control", "no-store", 8);
    if (draining)
        resp_body_static(r, "draining\n", 9);
    else
        resp_body_static(r, "ok\n", 3);
    resp_finish(r);
}

static void health_destroy(void *state)
{
}

const struct handler_kind handler_health = {
    .name = "health",
    .configure = health_configure,
    .handle = health_handle,
    .destroy = health_destroy,
    .finishes_at_once = 1,
};
