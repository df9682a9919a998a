/* The registry of handler kinds. */
#include "handler.h"

#include <string.h>

extern const struct handler_kind handler_text, handler_json, handler_redirect, handler_echo,
    handler_health, handler_files, handler_proxy, handler_gather, handler_exec, handler_module,
    handler_metrics;

static const struct handler_kind *const kinds[] = {
    &handler_text,   &handler_json,   &handler_redirect, &handler_echo,
    &handler_health, &handler_files,  &handler_proxy,    &handler_gather,
    &handler_exec,   &handler_module, &handler_metrics,  NULL,
};

/* Handlers of the contract (DESIGN.md) that later versions add: none left. */
static const char *const planned[] = {NULL};

const char *const handler_names[] = {"text",  "json",   "redirect", "echo",   "health",  "files",
                                     "proxy", "gather", "exec",     "module", "metrics", NULL};

const struct handler_kind *handler_find(const char *name)
{
    for (size_t i = 0; kinds[i]; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

int handler_is_planned(const char *name)
{
    for (size_t i = 0; planned[i]; i++)
        if (strcmp(planned[i], name) == 0)
            return 1;
    return 0;
}
