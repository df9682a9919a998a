/* The validated configuration: YAML file -> structs, errors as FILE:LINE:COL. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "cfg.h"
#include "config_routes.h"
#include "listen.h"
#include "privdrop.h"

static const char *const top_keys[] = {"listen",     "workers",       "user",     "group",
                                       "pid_file",   "server_header", "limits",   "timeouts",
                                       "access_log", "error_log",     "io_uring", "routes",
                                       NULL};
static const char *const limit_keys[] = {"header_size", "body_size", "connections",
                                         "keepalive_requests", NULL};
static const char *const timeout_keys[] = {"header", "body",     "keepalive",
                                           "write",  "shutdown", NULL};
static const char *const access_log_keys[] = {"path", "format", NULL};
static const char *const error_log_keys[] = {"path", "level", NULL};

static void config_defaults(struct config *cfg)
{
    cfg->refs = 1;
    cfg->workers = -1;
    cfg->io_uring = 1;
    cfg->server_header = strdup("yhttpd");
    cfg->limits.header_size = 8 * 1024;
    cfg->limits.body_size = 1024 * 1024;
    cfg->limits.connections = 10000;
    cfg->limits.keepalive_requests = 10000;
    cfg->timeouts.header = 10000;
    cfg->timeouts.body = 30000;
    cfg->timeouts.keepalive = 60000;
    cfg->timeouts.write = 30000;
    cfg->timeouts.shutdown = 30000;
    cfg->access_log.path = strdup("-");
    cfg->access_log.format = LOG_COMBINED;
    cfg->error_log.path = strdup("-");
    cfg->error_log.level = LOG_INFO;
}

static int load_one_listen(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    const char *s = cfg_scalar(node);
    if (!s)
        return cfg_error(c, node, "listen: expected an address string, found %s",
                         cfg_type_name(node));
    char err[256];
    struct listen_addr a;
    if (listen_parse(s, &a, err, sizeof(err)) < 0)
        return cfg_error(c, node, "%s", err);
    cfg->listens = realloc(cfg->listens, (cfg->nlistens + 1) * sizeof(*cfg->listens));
    if (!cfg->listens)
        abort();
    cfg->listens[cfg->nlistens++] = a;
    return 0;
}

static int load_listen(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    if (node->type != YAML_SEQUENCE_NODE)
        return load_one_listen(c, cfg, node);
    int rc = 0;
    for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top;
         i++)
        rc |= load_one_listen(c, cfg, yaml_document_get_node(c->doc, *i));
    if (cfg->nlistens == 0 && rc == 0)
        return cfg_error(c, node, "listen: the list is empty");
    return rc;
}

static int load_workers(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    const char *s = cfg_scalar(node);
    uint64_t n = 0;
    if (s && cfg_is_plain(node) && strcmp(s, "auto") == 0) {
        cfg->workers = -1;
        return 0;
    }
    char *end = NULL;
    if (s && cfg_is_plain(node) && s[0] >= '0' && s[0] <= '9')
        n = strtoull(s, &end, 10);
    if (!end || *end || n > 1024)
        return cfg_error(c, node, "workers: expected 0 (one process), a count up to 1024, or auto");
    cfg->workers = (int)n;
    return 0;
}

/* auto: batch socket I/O through io_uring where the kernel allows; off: never. */
static int load_io_uring(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    const char *s = cfg_scalar(node);
    if (!s || !cfg_is_plain(node) ||
        (strcmp(s, "auto") != 0 && strcmp(s, "off") != 0 && strcmp(s, "false") != 0))
        return cfg_error(c, node, "io_uring: expected auto or off");
    cfg->io_uring = strcmp(s, "auto") == 0;
    return 0;
}

/* Resolved at load so a missing user is an error with its line, not a dead worker. */
static int load_run_as(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *root)
{
    char err[256];
    if (privdrop_resolve(cfg->user, cfg->group, &cfg->run_as, err, sizeof(err)) == 0)
        return 0;
    yaml_node_t *at = cfg_get(c, root, cfg->group && strstr(err, "group") ? "group" : "user");
    return cfg_error(c, at ? at : root, "%s", err);
}

static int load_server_header(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    const char *s = cfg_scalar(node);
    if (s && cfg_is_plain(node) && strcmp(s, "false") == 0) {
        free(cfg->server_header);
        cfg->server_header = NULL;
        return 0;
    }
    if (cfg_string(c, node, &cfg->server_header) < 0)
        return -1;
    if (strpbrk(cfg->server_header, "\r\n"))
        return cfg_error(c, node, "server_header: must be one line");
    return 0;
}

static int expect_mapping(struct cfg_ctx *c, const yaml_node_t *node, const char *what)
{
    if (node->type != YAML_MAPPING_NODE)
        return cfg_error(c, node, "%s: expected a mapping, found %s", what, cfg_type_name(node));
    return 0;
}

static int load_limits(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    if (expect_mapping(c, node, "limits") < 0 || cfg_check_keys(c, node, limit_keys) < 0)
        return -1;
    yaml_node_t *v;
    int rc = 0;
    if ((v = cfg_get(c, node, "header_size")))
        rc |= cfg_size(c, v, &cfg->limits.header_size);
    if ((v = cfg_get(c, node, "body_size")))
        rc |= cfg_size(c, v, &cfg->limits.body_size);
    if ((v = cfg_get(c, node, "connections")))
        rc |= cfg_uint(c, v, 1, 10000000, &cfg->limits.connections);
    if ((v = cfg_get(c, node, "keepalive_requests")))
        rc |= cfg_uint(c, v, 1, UINT32_MAX, &cfg->limits.keepalive_requests);
    if (rc == 0 && (cfg->limits.header_size < 256 || cfg->limits.header_size > 1024 * 1024))
        rc = cfg_error(c, cfg_get(c, node, "header_size"),
                       "limits.header_size: must be from 256 to 1MiB");
    return rc;
}

static int load_timeouts(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    if (expect_mapping(c, node, "timeouts") < 0 || cfg_check_keys(c, node, timeout_keys) < 0)
        return -1;
    uint64_t *slots[] = {&cfg->timeouts.header, &cfg->timeouts.body, &cfg->timeouts.keepalive,
                         &cfg->timeouts.write, &cfg->timeouts.shutdown};
    int rc = 0;
    for (size_t i = 0; timeout_keys[i]; i++) {
        yaml_node_t *v = cfg_get(c, node, timeout_keys[i]);
        if (!v)
            continue;
        if (cfg_duration(c, v, slots[i]) < 0)
            rc = -1;
        else if (*slots[i] == 0)
            rc = cfg_error(c, v, "timeouts.%s: must be more than 0", timeout_keys[i]);
    }
    return rc;
}

/* Sets *out to the index of the node's value in names; `choices` lists them for the message. */
static int pick_name(struct cfg_ctx *c, const yaml_node_t *node, const char *what,
                     const char *const *names, const char *choices, int *out)
{
    const char *s = cfg_scalar(node);
    for (int i = 0; s && names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return cfg_error(c, node, "%s: expected one of %s, found `%s`", what, choices,
                     s ? s : cfg_type_name(node));
}

/* "stdout"/"stderr" -> "-", "off" -> NULL, anything else is a path. */
static int log_path(struct cfg_ctx *c, const yaml_node_t *node, const char *std, int allow_off,
                    char **out)
{
    char *s = NULL;
    if (cfg_string(c, node, &s) < 0)
        return -1;
    free(*out);
    *out = NULL;
    if (strcmp(s, std) == 0) {
        *out = strdup("-");
        free(s);
    } else if (allow_off && strcmp(s, "off") == 0) {
        free(s);
    } else if (s[0] != '/') {
        free(s);
        return cfg_error(c, node, "expected \"%s\"%s or an absolute path", std,
                         allow_off ? ", \"off\"" : "");
    } else {
        *out = s;
    }
    return 0;
}

static int load_access_log(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    static const char *const formats[] = {"combined", "common", "json", NULL};
    if (node->type == YAML_SCALAR_NODE)
        return log_path(c, node, "stdout", 1, &cfg->access_log.path);
    if (expect_mapping(c, node, "access_log") < 0 || cfg_check_keys(c, node, access_log_keys) < 0)
        return -1;
    yaml_node_t *v;
    int rc = 0, fmt;
    if ((v = cfg_get(c, node, "path")))
        rc |= log_path(c, v, "stdout", 1, &cfg->access_log.path);
    if ((v = cfg_get(c, node, "format"))) {
        if (pick_name(c, v, "access_log.format", formats, "combined, common, json", &fmt) < 0)
            rc = -1;
        else
            cfg->access_log.format = (enum log_format)fmt;
    }
    return rc;
}

static int load_error_log(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *node)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    if (node->type == YAML_SCALAR_NODE)
        return log_path(c, node, "stderr", 0, &cfg->error_log.path);
    if (expect_mapping(c, node, "error_log") < 0 || cfg_check_keys(c, node, error_log_keys) < 0)
        return -1;
    yaml_node_t *v;
    int rc = 0, level;
    if ((v = cfg_get(c, node, "path")))
        rc |= log_path(c, v, "stderr", 0, &cfg->error_log.path);
    if ((v = cfg_get(c, node, "level"))) {
        if (pick_name(c, v, "error_log.level", levels, "debug, info, warn, error", &level) < 0)
            rc = -1;
        else
            cfg->error_log.level = (enum log_level)level;
    }
    return rc;
}

static int load_optional_string(struct cfg_ctx *c, const yaml_node_t *root, const char *key,
                                char **out)
{
    yaml_node_t *v = cfg_get(c, root, key);
    return v ? cfg_string(c, v, out) : 0;
}

static int load_root(struct cfg_ctx *c, struct config *cfg, const yaml_node_t *root)
{
    if (root->type != YAML_MAPPING_NODE)
        return cfg_error(c, root, "the configuration must be a mapping, found %s",
                         cfg_type_name(root));
    int rc = cfg_check_keys(c, root, top_keys);
    yaml_node_t *v;
    if ((v = cfg_get(c, root, "listen")))
        rc |= load_listen(c, cfg, v);
    if ((v = cfg_get(c, root, "workers")))
        rc |= load_workers(c, cfg, v);
    rc |= load_optional_string(c, root, "user", &cfg->user);
    rc |= load_optional_string(c, root, "group", &cfg->group);
    if (rc == 0)
        rc |= load_run_as(c, cfg, root);
    rc |= load_optional_string(c, root, "pid_file", &cfg->pid_file);
    if ((v = cfg_get(c, root, "server_header")))
        rc |= load_server_header(c, cfg, v);
    if ((v = cfg_get(c, root, "limits")))
        rc |= load_limits(c, cfg, v);
    if ((v = cfg_get(c, root, "timeouts")))
        rc |= load_timeouts(c, cfg, v);
    if ((v = cfg_get(c, root, "access_log")))
        rc |= load_access_log(c, cfg, v);
    if ((v = cfg_get(c, root, "error_log")))
        rc |= load_error_log(c, cfg, v);
    if ((v = cfg_get(c, root, "io_uring")))
        rc |= load_io_uring(c, cfg, v);
    if ((v = cfg_get(c, root, "routes")))
        rc |= config_load_routes(c, cfg, v);
    else
        rc = cfg_error(c, root, "missing `routes:` (a list of at least one route)");
    return rc;
}

static int default_listen(struct config *cfg)
{
    char err[128];
    cfg->listens = calloc(1, sizeof(*cfg->listens));
    if (!cfg->listens)
        abort();
    if (listen_parse("127.0.0.1:8080", &cfg->listens[0], err, sizeof(err)) < 0)
        return -1;
    cfg->nlistens = 1;
    return 0;
}

static void report_yaml_error(struct cfg_ctx *c, const yaml_parser_t *p)
{
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
    buf_printf(c->errors, "%s:%zu:%zu: YAML syntax error: %s", c->name, m->line + 1, m->column + 1,
               p->problem ? p->problem : "unreadable document");
    if (p->context)
        buf_printf(c->errors, " (%s at line %zu)", p->context, p->context_mark.line + 1);
    buf_putc(c->errors, '\n');
    c->nerrors++;
}

struct config *config_load_bytes(const char *name, const char *data, size_t len, struct buf *errors)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    struct cfg_ctx c = {.name = name, .src = data, .srclen = len, .doc = &doc, .errors = errors};
    struct config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        abort();
    config_defaults(cfg);
    cfg->path = strdup(name);

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &doc)) {
        report_yaml_error(&c, &parser);
        yaml_parser_delete(&parser);
        config_unref(cfg);
        return NULL;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        cfg_error(&c, NULL, "the file is empty: it needs at least `routes:`");
    else
        load_root(&c, cfg, root);
    if (c.nerrors == 0 && cfg->nlistens == 0)
        default_listen(cfg);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (c.nerrors) {
        config_unref(cfg);
        return NULL;
    }
    return cfg;
}

int config_read_file(const char *path, struct buf *out, struct buf *errors)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf_printf(errors, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_append(out, chunk, n);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        buf_printf(errors, "%s: read error\n", path);
        return -1;
    }
    return 0;
}

struct config *config_load_file(const char *path, struct buf *errors)
{
    struct buf data = {0};
    struct config *cfg = NULL;
    if (config_read_file(path, &data, errors) == 0)
        cfg = config_load_bytes(path, data.data ? data.data : "", data.len, errors);
    buf_free(&data);
    return cfg;
}

struct config *config_ref(struct config *c)
{
    c->refs++;
    return c;
}

static void free_listens(struct config *c)
{
    for (size_t i = 0; i < c->nlistens; i++)
        free(c->listens[i].text);
    free(c->listens);
}

void config_unref(struct config *c)
{
    if (!c || --c->refs > 0)
        return;
    config_free_routes(c);
    free_listens(c);
    free(c->path);
    free(c->user);
    free(c->group);
    free(c->pid_file);
    free(c->server_header);
    free(c->access_log.path);
    free(c->error_log.path);
    free(c);
}

int config_worker_count(const struct config *c)
{
    if (c->workers >= 0)
        return c->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
