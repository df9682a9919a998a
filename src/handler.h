/* The handler vtable: one per handler kind (text, json, redirect, echo, ...). */
#ifndef YH_HANDLER_H
#define YH_HANDLER_H

#include <yaml.h>

struct cfg_ctx;
struct route;
struct request;

struct handler_kind {
    const char *name;
    /* Validates the handler's YAML value and builds its state (the configurator,
     * kept in handlers/NAME_config.c). Returns 0, or -1 after cfg_error(). */
    int (*configure)(struct cfg_ctx *c, const yaml_node_t *value, struct route *route,
                     void **state);
    /* Answers the request, now or later, by ending with resp_finish(). */
    void (*handle)(struct request *r, const void *state);
    /* Frees what configure() built. */
    void (*destroy)(void *state);
    /* 1: handle() runs as soon as the head is parsed and takes the body as it
     * arrives (r->on_body); 0: it runs once the whole body is buffered. */
    int streams_body;
    /* 1: handle() always completes the answer before it returns, touching no
     * loop, timer or network: route examples run it in process. 0 (the
     * default, so new kinds are safe): examples of its routes are skipped. */
    int finishes_at_once;
};

/* The handler kind called name, or NULL. */
const struct handler_kind *handler_find(const char *name);
/* NULL-terminated list of every handler key (built and planned), for suggestions. */
extern const char *const handler_names[];
/* 1 when name is a handler of the contract this build does not provide yet. */
int handler_is_planned(const char *name);

#endif
