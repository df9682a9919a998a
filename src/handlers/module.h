/* `module:` — handlers written in C, loaded with dlopen (include/yhttpd/module.h). */
#ifndef YH_HANDLERS_MODULE_H
#define YH_HANDLERS_MODULE_H

struct request;
struct yh_module;

/* One route's module: the loaded object and what its init() built. */
struct module_route {
    char *path;
    void *dl; /* dlopen handle */
    const struct yh_module *m;
    void *state;
};

void module_handle(struct request *r, const void *state);
void module_destroy(void *state);

#endif
