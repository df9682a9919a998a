/* Helpers shared by the config loader and the handler configurators. */
#ifndef YH_CFG_H
#define YH_CFG_H

#include <stdint.h>
#include <yaml.h>

#include "buf.h"
#include "template.h"

struct route;

/* The state of one load: the YAML document and the error list. */
struct cfg_ctx {
    const char *name;
    const char *src; /* the document's bytes, to place errors inside scalars */
    size_t srclen;
    yaml_document_t *doc;
    struct buf *errors;
    int nerrors;
};

/* Appends "NAME:LINE:COL: message" for node (1-based line and column). Always returns -1. */
int cfg_error(struct cfg_ctx *c, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, at a byte offset inside a scalar (for template errors). */
int cfg_error_at(struct cfg_ctx *c, const yaml_node_t *node, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The scalar's text (NUL-terminated) or NULL when node is not a scalar. */
const char *cfg_scalar(const yaml_node_t *node);
/* 1 when node is a plain (unquoted) scalar: true/false/null/numbers keep their YAML meaning. */
int cfg_is_plain(const yaml_node_t *node);

/* Checks every key of a mapping is in allowed (NULL-terminated; NULL: any
 * string); reports unknown keys with a "did you mean" suggestion and duplicate
 * keys. Returns 0 or -1. */
int cfg_check_keys(struct cfg_ctx *c, const yaml_node_t *map, const char *const *allowed);
/* The value node of key in a mapping, or NULL. */
yaml_node_t *cfg_get(struct cfg_ctx *c, const yaml_node_t *map, const char *key);

/* Typed readers: each returns 0 and sets *out, or reports at node and returns -1. */
int cfg_string(struct cfg_ctx *c, const yaml_node_t *node, char **out);
int cfg_bool(struct cfg_ctx *c, const yaml_node_t *node, int *out);
int cfg_uint(struct cfg_ctx *c, const yaml_node_t *node, uint64_t min, uint64_t max, uint64_t *out);
int cfg_size(struct cfg_ctx *c, const yaml_node_t *node, uint64_t *out);
int cfg_duration(struct cfg_ctx *c, const yaml_node_t *node, uint64_t *ms);
/* Compiles a scalar as a template for route (its path variables are in scope). */
int cfg_template(struct cfg_ctx *c, const yaml_node_t *node, const struct route *route,
                 enum tpl_escape esc, struct tpl **out);
/* Names the node's YAML type for messages ("a mapping", "a list", "a string"). */
const char *cfg_type_name(const yaml_node_t *node);

#endif
