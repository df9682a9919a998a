/* Helpers shared by the config loader and the handler configurators. */
#include "cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "suggest.h"
#include "units.h"

static int cfg_verror(struct cfg_ctx *c, const yaml_node_t *node, size_t extra_col, const char *fmt,
                      va_list ap)
{
    size_t line = node ? node->start_mark.line + 1 : 1;
    size_t col = node ? node->start_mark.column + 1 + extra_col : 1;
    buf_printf(c->errors, "%s:%zu:%zu: ", c->name, line, col);
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    buf_puts(c->errors, msg);
    buf_putc(c->errors, '\n');
    c->nerrors++;
    return -1;
}

int cfg_error(struct cfg_ctx *c, const yaml_node_t *node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_verror(c, node, 0, fmt, ap);
    va_end(ap);
    return -1;
}

int cfg_error_at(struct cfg_ctx *c, const yaml_node_t *node, size_t offset, const char *fmt, ...)
{
    /* Quoted scalars start at the quote; the text starts one column later. */
    size_t quote = node && node->type == YAML_SCALAR_NODE && !cfg_is_plain(node) &&
                           (node->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                            node->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
                       ? 1
                       : 0;
    va_list ap;
    va_start(ap, fmt);
    cfg_verror(c, node, offset + quote, fmt, ap);
    va_end(ap);
    return -1;
}

const char *cfg_scalar(const yaml_node_t *node)
{
    if (!node || node->type != YAML_SCALAR_NODE)
        return NULL;
    return (const char *)node->data.scalar.value;
}

int cfg_is_plain(const yaml_node_t *node)
{
    return node && node->type == YAML_SCALAR_NODE &&
           node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

const char *cfg_type_name(const yaml_node_t *node)
{
    if (!node)
        return "nothing";
    switch (node->type) {
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_SCALAR_NODE:
        return "a scalar";
    default:
        return "nothing";
    }
}

static int key_allowed(const char *key, const char *const *allowed)
{
    for (size_t i = 0; allowed[i]; i++)
        if (strcmp(key, allowed[i]) == 0)
            return 1;
    return 0;
}

int cfg_check_keys(struct cfg_ctx *c, const yaml_node_t *map, const char *const *allowed)
{
    int rc = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *key = cfg_scalar(k);
        if (!key) {
            rc = cfg_error(c, k, "keys must be strings, not %s", cfg_type_name(k));
            continue;
        }
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const char *prev = cfg_scalar(yaml_document_get_node(c->doc, q->key));
            if (prev && strcmp(prev, key) == 0) {
                rc = cfg_error(c, k, "duplicate key `%s`", key);
                break;
            }
        }
        if (key_allowed(key, allowed))
            continue;
        const char *hint = suggest_closest(key, allowed);
        if (hint)
            rc = cfg_error(c, k, "unknown key `%s`; did you mean `%s`?", key, hint);
        else
            rc = cfg_error(c, k, "unknown key `%s`", key);
    }
    return rc;
}

yaml_node_t *cfg_get(struct cfg_ctx *c, const yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = cfg_scalar(yaml_document_get_node(c->doc, p->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(c->doc, p->value);
    }
    return NULL;
}

int cfg_string(struct cfg_ctx *c, const yaml_node_t *node, char **out)
{
    const char *s = cfg_scalar(node);
    if (!s)
        return cfg_error(c, node, "expected a string, found %s", cfg_type_name(node));
    if (cfg_is_plain(node) && (strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || s[0] == 0))
        return cfg_error(c, node, "expected a string, found null");
    free(*out);
    *out = strdup(s);
    if (!*out)
        abort();
    return 0;
}

int cfg_bool(struct cfg_ctx *c, const yaml_node_t *node, int *out)
{
    const char *s = cfg_scalar(node);
    if (s && cfg_is_plain(node) && strcmp(s, "true") == 0)
        *out = 1;
    else if (s && cfg_is_plain(node) && strcmp(s, "false") == 0)
        *out = 0;
    else
        return cfg_error(c, node, "expected true or false");
    return 0;
}

int cfg_uint(struct cfg_ctx *c, const yaml_node_t *node, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *s = cfg_scalar(node);
    if (!s || !cfg_is_plain(node) || s[0] < '0' || s[0] > '9')
        return cfg_error(c, node, "expected a number from %llu to %llu", (unsigned long long)min,
                         (unsigned long long)max);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return cfg_error(c, node, "expected a number from %llu to %llu, found `%s`",
                         (unsigned long long)min, (unsigned long long)max, s);
    *out = v;
    return 0;
}

int cfg_size(struct cfg_ctx *c, const yaml_node_t *node, uint64_t *out)
{
    const char *s = cfg_scalar(node);
    if (!s || parse_size(s, out) < 0)
        return cfg_error(c, node, "expected a size like 512, 8k, 8KiB, 1m or 1MiB, found `%s`",
                         s ? s : cfg_type_name(node));
    return 0;
}

int cfg_duration(struct cfg_ctx *c, const yaml_node_t *node, uint64_t *ms)
{
    const char *s = cfg_scalar(node);
    if (!s || parse_duration(s, ms) < 0)
        return cfg_error(c, node, "expected a duration like 250ms, 10s, 5m or 1h, found `%s`",
                         s ? s : cfg_type_name(node));
    return 0;
}

int cfg_template(struct cfg_ctx *c, const yaml_node_t *node, const struct route *route,
                 enum tpl_escape esc, struct tpl **out)
{
    const char *s = cfg_scalar(node);
    if (!s)
        return cfg_error(c, node, "expected a string, found %s", cfg_type_name(node));
    struct tpl *t = tpl_new();
    char err[256];
    size_t off = 0;
    if (tpl_append_source(t, s, node->data.scalar.length, esc, &route->vars, err, sizeof(err),
                          &off) < 0) {
        tpl_free(t);
        return cfg_error_at(c, node, off, "%s", err);
    }
    *out = t;
    return 0;
}
