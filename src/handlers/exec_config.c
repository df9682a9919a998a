/* `exec:` — configurator: [/path/cmd, arg...] or {argv:, timeout:, max_concurrent:, env:}. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "exec.h"

static const char *const exec_keys[] = {"argv", "timeout", "max_concurrent", "env", NULL};

static int load_argv(struct cfg_ctx *c, const yaml_node_t *list, struct exec_route *er)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return cfg_error(c, list, "exec: argv must be a list [/path/cmd, arg...], found %s",
                         cfg_type_name(list));
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n == 0)
        return cfg_error(c, list, "exec: argv is empty; it needs at least the program's path");
    er->argv = calloc(n + 1, sizeof(*er->argv));
    if (!er->argv)
        abort();
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, list->data.sequence.items.start[i]);
        const char *s = cfg_scalar(item);
        if (!s)
            return cfg_error(c, item, "exec: argv items must be strings, found %s",
                             cfg_type_name(item));
        if (strlen(s) != item->data.scalar.length)
            return cfg_error(c, item, "exec: argv items cannot hold a NUL byte");
        er->argv[i] = strdup(s);
        if (!er->argv[i])
            abort();
        er->argc++;
    }
    yaml_node_t *first = yaml_document_get_node(c->doc, list->data.sequence.items.start[0]);
    const char *path = er->argv[0];
    struct stat st;
    if (path[0] != '/')
        return cfg_error(c, first, "exec: `%s` must be an absolute path", path);
    if (stat(path, &st) < 0)
        return cfg_error(c, first, "exec: cannot use `%s`: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cfg_error(c, first, "exec: `%s` is not a regular file", path);
    if (access(path, X_OK) < 0)
        return cfg_error(c, first, "exec: `%s` is not executable: %s", path, strerror(errno));
    return 0;
}

static int valid_env_name(const char *s)
{
    if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

static int load_env(struct cfg_ctx *c, const yaml_node_t *map, const struct route *route,
                    struct exec_route *er)
{
    if (map->type != YAML_MAPPING_NODE)
        return cfg_error(c, map, "exec: env must be a mapping of NAME: value, found %s",
                         cfg_type_name(map));
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    er->env = calloc(n ? n : 1, sizeof(*er->env));
    if (!er->env)
        abort();
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const yaml_node_pair_t *pair = &map->data.mapping.pairs.start[i];
        yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(c->doc, pair->value);
        const char *name = cfg_scalar(k);
        if (!name || !valid_env_name(name)) {
            rc = cfg_error(c, k, "exec: env name `%s` is not valid (use [A-Za-z_][A-Za-z0-9_]*)",
                           name ? name : "?");
            continue;
        }
        for (size_t j = 0; j < er->nenv; j++)
            if (strcmp(er->env[j].name, name) == 0)
                rc = cfg_error(c, k, "duplicate key `%s`", name);
        struct exec_env *e = &er->env[er->nenv];
        if (cfg_template(c, v, route, TPL_RAW, &e->value) < 0) {
            rc = -1;
            continue;
        }
        e->name = strdup(name);
        if (!e->name)
            abort();
        er->nenv++;
    }
    return rc;
}

static int exec_long_form(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route,
                          struct exec_route *er)
{
    yaml_node_t *n;
    uint64_t u;
    if (cfg_check_keys(c, v, exec_keys) < 0)
        return -1;
    if (!(n = cfg_get(c, v, "argv")))
        return cfg_error(c, v, "exec: the long form needs `argv:`");
    int rc = load_argv(c, n, er);
    if ((n = cfg_get(c, v, "timeout"))) {
        if (cfg_duration(c, n, &er->timeout_ms) < 0)
            rc = -1;
        else if (er->timeout_ms == 0)
            rc = cfg_error(c, n, "exec: timeout must be more than 0");
    }
    if ((n = cfg_get(c, v, "max_concurrent"))) {
        if (cfg_uint(c, n, 1, 100000, &u) < 0)
            rc = -1;
        else
            er->max_concurrent = (unsigned)u;
    }
    if ((n = cfg_get(c, v, "env")) && load_env(c, n, route, er) < 0)
        rc = -1;
    return rc;
}

static int exec_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                          void **state)
{
    struct exec_route *er = calloc(1, sizeof(*er));
    if (!er)
        abort();
    er->timeout_ms = EXEC_TIMEOUT_MS;
    er->max_concurrent = EXEC_MAX_CONCURRENT;
    er->label = strdup(route->label);
    if (!er->label)
        abort();
    int rc;
    if (v->type == YAML_MAPPING_NODE)
        rc = exec_long_form(c, v, route, er);
    else if (v->type == YAML_SEQUENCE_NODE)
        rc = load_argv(c, v, er);
    else
        rc = cfg_error(c, v, "exec: expected a list [/path/cmd, arg...] or {argv: [...]}, found %s",
                       cfg_type_name(v));
    if (rc < 0) {
        exec_destroy(er);
        return -1;
    }
    *state = er;
    return 0;
}

const struct handler_kind handler_exec = {
    .name = "exec",
    .configure = exec_configure,
    .handle = exec_handle,
    .destroy = exec_destroy,
    .streams_body = 1,
};
