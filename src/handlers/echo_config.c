/* `echo:` — configurator: `echo: json` or `echo: body`. */
#include <stdlib.h>
#include <string.h>

#include "../cfg.h"
#include "../handler.h"
#include "echo.h"

static int echo_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                          void **state)
{
    const char *s = cfg_scalar(v);
    enum echo_mode mode;
    if (s && strcmp(s, "json") == 0)
        mode = ECHO_JSON;
    else if (s && strcmp(s, "body") == 0)
        mode = ECHO_BODY;
    else
        return cfg_error(c, v, "echo: expected `json` or `body`");
    enum echo_mode *m = malloc(sizeof(*m));
    if (!m)
        abort();
    *m = mode;
    *state = m;
    return 0;
}

const struct handler_kind handler_echo = {
    .name = "echo",
    .configure = echo_configure,
    .handle = echo_handle,
    .destroy = echo_destroy,
    .finishes_at_once = 1,
};
