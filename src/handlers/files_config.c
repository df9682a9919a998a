/* `files:` — configurator: DIR or {root:, index:, list:, precompressed:, max_age:, dotfiles:}. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "files.h"

static const char *const files_keys[] = {"root",    "index",    "list", "precompressed",
                                         "max_age", "dotfiles", NULL};

/* Opened now (in the master, before any privilege drop) and kept: the root
 * cannot be swapped for a symlink later. A file root keeps its directory. */
static int open_root(struct cfg_ctx *c, const yaml_node_t *node, struct files_conf *fc)
{
    if (fc->root[0] != '/')
        return cfg_error(c, node, "files: root must be an absolute path, found `%s`", fc->root);
    struct stat st;
    if (stat(fc->root, &st) < 0)
        return cfg_error(c, node, "files: cannot use root `%s`: %s", fc->root, strerror(errno));
    char *dir_copy = strdup(fc->root), *name_copy = strdup(fc->root);
    if (!dir_copy || !name_copy)
        abort();
    const char *dir = fc->root;
    if (!S_ISDIR(st.st_mode)) {
        dir = dirname(dir_copy);
        fc->only_file = strdup(basename(name_copy));
    }
    fc->root_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    int err = errno;
    free(name_copy);
    if (fc->root_fd < 0) {
        cfg_error(c, node, "files: cannot open `%s`: %s", dir, strerror(err));
        free(dir_copy);
        return -1;
    }
    free(dir_copy);
    return 0;
}

static int load_index(struct cfg_ctx *c, const yaml_node_t *node, struct files_conf *fc)
{
    if (node->type == YAML_SCALAR_NODE) {
        fc->index = calloc(1, sizeof(char *));
        fc->nindex = 1;
        return cfg_string(c, node, &fc->index[0]);
    }
    if (node->type != YAML_SEQUENCE_NODE)
        return cfg_error(c, node, "files: index must be a name or a list of names");
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    fc->index = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item =
            yaml_document_get_node(c->doc, node->data.sequence.items.start[i]);
        if (cfg_string(c, item, &fc->index[i]) < 0)
            return -1;
        fc->nindex++;
        if (strchr(fc->index[i], '/'))
            return cfg_error(c, item, "files: an index name cannot contain '/'");
    }
    return 0;
}

static int load_flag(struct cfg_ctx *c, const yaml_node_t *map, const char *key, int *out)
{
    yaml_node_t *v = cfg_get(c, map, key);
    return v ? cfg_bool(c, v, out) : 0;
}

static int files_long_form(struct cfg_ctx *c, const yaml_node_t *v, struct files_conf *fc)
{
    yaml_node_t *n;
    uint64_t ms;
    if (cfg_check_keys(c, v, files_keys) < 0)
        return -1;
    if (!(n = cfg_get(c, v, "root")))
        return cfg_error(c, v, "files: the long form needs `root:`");
    if (cfg_string(c, n, &fc->root) < 0 || open_root(c, n, fc) < 0)
        return -1;
    if ((n = cfg_get(c, v, "index"))) {
        for (size_t i = 0; i < fc->nindex; i++)
            free(fc->index[i]);
        free(fc->index);
        fc->index = NULL;
        fc->nindex = 0;
        if (load_index(c, n, fc) < 0)
            return -1;
    }
    if ((n = cfg_get(c, v, "max_age"))) {
        if (cfg_duration(c, n, &ms) < 0)
            return -1;
        fc->max_age = ms / 1000;
    }
    return load_flag(c, v, "list", &fc->list) |
           load_flag(c, v, "precompressed", &fc->precompressed) |
           load_flag(c, v, "dotfiles", &fc->dotfiles);
}

/* GET (and so HEAD) only: anything else would be answered by a file anyway. */
static int check_methods(struct cfg_ctx *c, const yaml_node_t *v, const struct route *route)
{
    uint64_t allowed = ROUTER_METHOD_BIT(1) | ROUTER_METHOD_BIT(2); /* HTTP_GET, HTTP_HEAD */
    if (route->methods & ~allowed)
        return cfg_error(c, v, "files: serves GET and HEAD only; route `%s` accepts other methods",
                         route->label);
    return 0;
}

static int files_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                           void **state)
{
    struct files_conf *fc = calloc(1, sizeof(*fc));
    if (!fc)
        abort();
    fc->root_fd = -1;
    fc->precompressed = 1;
    fc->index = calloc(1, sizeof(char *));
    fc->index[0] = strdup("index.html");
    fc->nindex = 1;
    int rc = check_methods(c, v, route);
    if (rc == 0 && v->type == YAML_MAPPING_NODE)
        rc = files_long_form(c, v, fc);
    else if (rc == 0)
        rc = cfg_string(c, v, &fc->root) < 0 ? -1 : open_root(c, v, fc);
    if (rc < 0) {
        files_destroy(fc);
        return -1;
    }
    *state = fc;
    return 0;
}

const struct handler_kind handler_files = {
    .name = "files",
    .configure = files_configure,
    .handle = files_handle,
    .destroy = files_destroy,
    .finishes_at_once = 1,
};
