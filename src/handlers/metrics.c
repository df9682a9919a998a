/* `metrics: {}` — the Prometheus text of every worker's counters (metrics.c). */
#include <stdlib.h>

#include "../cfg.h"
#include "../handler.h"
#include "../metrics.h"
#include "../request.h"
#include "../shared_stats.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

static int metrics_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                             void **state)
{
    if (v->type != YAML_MAPPING_NODE || v->data.mapping.pairs.top != v->data.mapping.pairs.start)
        return cfg_error(c, v, "metrics: takes no options; write `metrics: {}`");
    *state = NULL;
    return 0;
}

static void metrics_handle(struct request *r, const void *state)
{
    const struct metrics_segment *seg = metrics_segment();
    if (!seg) {
        resp_error(r, 503); /* no shared memory at start (logged then) */
        return;
    }
    size_t n = __atomic_load_n(&seg->workers, __ATOMIC_RELAXED);
    long *conns = calloc(n ? n : 1, sizeof(*conns));
    if (!conns)
        abort();
    for (size_t i = 0; i < n; i++)
        conns[i] = stats_connections_of(i);
    resp_begin(r, 200);
    resp_header(r, "Content-Type", CONTENT_TYPE, sizeof(CONTENT_TYPE) - 1);
    resp_header(r, "Cache-Control", "no-store", 8);
    metrics_render(seg, conns, n, resp_body_buf(r));
    free(conns);
    resp_finish(r);
}

static void metrics_destroy(void *state)
{
}

const struct handler_kind handler_metrics = {
    .name = "metrics",
    .configure = metrics_configure,
    .handle = metrics_handle,
    .destroy = metrics_destroy,
};
