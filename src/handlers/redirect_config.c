/* `redirect:` — configurator: /new/{name} or {to:, status: 301|302|303|307|308}. */
#include <stdint.h>

#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "answer.h"

static const char *const redirect_keys[] = {"to", "status", NULL};

static int redirect_status(struct cfg_ctx *c, const yaml_node_t *n, struct answer *a)
{
    uint64_t s;
    if (cfg_uint(c, n, 300, 399, &s) < 0)
        return -1;
    if (s != 301 && s != 302 && s != 303 && s != 307 && s != 308)
        return cfg_error(c, n, "redirect: status must be 301, 302, 303, 307 or 308");
    a->status = (int)s;
    return 0;
}

static int redirect_long_form(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route,
                              struct answer *a)
{
    yaml_node_t *n;
    if (cfg_check_keys(c, v, redirect_keys) < 0)
        return -1;
    if (!(n = cfg_get(c, v, "to")))
        return cfg_error(c, v, "redirect: the long form needs `to:`");
    if (cfg_template(c, n, route, TPL_RAW, &a->location) < 0)
        return -1;
    n = cfg_get(c, v, "status");
    return n ? redirect_status(c, n, a) : 0;
}

static int redirect_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                              void **state)
{
    struct answer *a = answer_new(302, "");
    a->body = tpl_new(); /* empty body: Content-Length: 0 */
    int rc = v->type == YAML_MAPPING_NODE ? redirect_long_form(c, v, route, a)
                                          : cfg_template(c, v, route, TPL_RAW, &a->location);
    if (rc < 0) {
        answer_destroy(a);
        return -1;
    }
    answer_prepare(a);
    *state = a;
    return 0;
}

const struct handler_kind handler_redirect = {
    .name = "redirect",
    .configure = redirect_configure,
    .handle = answer_handle,
    .destroy = answer_destroy,
    .finishes_at_once = 1,
};
