/* `text:` — configurator: "Hello, {name}\n" or {body:, status:, content_type:}. */
#include <stdint.h>
#include <string.h>

#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "answer.h"

static const char *const text_keys[] = {"body", "status", "content_type", NULL};

static int text_long_form(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route,
                          struct answer *a)
{
    yaml_node_t *n;
    uint64_t status;
    if (cfg_check_keys(c, v, text_keys) < 0)
        return -1;
    if (!(n = cfg_get(c, v, "body")))
        return cfg_error(c, v, "text: the long form needs `body:`");
    if (cfg_template(c, n, route, TPL_RAW, &a->body) < 0)
        return -1;
    if ((n = cfg_get(c, v, "status"))) {
        if (cfg_uint(c, n, 200, 599, &status) < 0)
            return -1;
        a->status = (int)status;
    }
    if ((n = cfg_get(c, v, "content_type")) && cfg_string(c, n, &a->content_type) < 0)
        return -1;
    if (n && strpbrk(a->content_type, "\r\n"))
        return cfg_error(c, n, "text: content_type must be one line");
    return 0;
}

static int text_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                          void **state)
{
    struct answer *a = answer_new(200, "text/plain; charset=utf-8");
    int rc = v->type == YAML_MAPPING_NODE ? text_long_form(c, v, route, a)
                                          : cfg_template(c, v, route, TPL_RAW, &a->body);
    if (rc < 0) {
        answer_destroy(a);
        return -1;
    }
    answer_prepare(a);
    *state = a;
    return 0;
}

const struct handler_kind handler_text = {
    .name = "text",
    .configure = text_configure,
    .handle = answer_handle,
    .destroy = answer_destroy,
    .finishes_at_once = 1,
};
