/* `json:` — configurator: any YAML value serialized as JSON once, at load, into
 * a template whose string values may hold {vars} (substituted JSON-escaped). */
#include <stdint.h>
#include <string.h>

#include "../cfg.h"
#include "../config.h"
#include "../handler.h"
#include "answer.h"

#define JSON_MAX_DEPTH 64

static int emit_node(struct cfg_ctx *c, const yaml_node_t *n, const struct route *route,
                     struct tpl *t, int depth);

/* A plain scalar spelled as a JSON number ("12", "-1.5e3"), kept as a number. */
static int is_json_number(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return 0;
    if (*p == '.') {
        if (!(*++p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return 0;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

static int emit_scalar(struct cfg_ctx *c, const yaml_node_t *n, const struct route *route,
                       struct tpl *t)
{
    const char *s = cfg_scalar(n);
    if (cfg_is_plain(n)) {
        if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0) {
            tpl_append_literal(t, "null", 4);
            return 0;
        }
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0 || is_json_number(s)) {
            tpl_append_literal(t, s, strlen(s));
            return 0;
        }
    }
    char err[256];
    size_t off = 0;
    tpl_append_literal(t, "\"", 1);
    if (tpl_append_source(t, s, n->data.scalar.length, TPL_JSON, &route->vars, err, sizeof(err),
                          &off) < 0)
        return cfg_error_at(c, n, off, "json: %s", err);
    tpl_append_literal(t, "\"", 1);
    return 0;
}

static int emit_sequence(struct cfg_ctx *c, const yaml_node_t *n, const struct route *route,
                         struct tpl *t, int depth)
{
    tpl_append_literal(t, "[", 1);
    for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
        if (i != n->data.sequence.items.start)
            tpl_append_literal(t, ",", 1);
        if (emit_node(c, yaml_document_get_node(c->doc, *i), route, t, depth + 1) < 0)
            return -1;
    }
    tpl_append_literal(t, "]", 1);
    return 0;
}

static int emit_mapping(struct cfg_ctx *c, const yaml_node_t *n, const struct route *route,
                        struct tpl *t, int depth)
{
    tpl_append_literal(t, "{", 1);
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
        const char *key = cfg_scalar(k);
        if (!key)
            return cfg_error(c, k, "json: object keys must be strings");
        if (p != n->data.mapping.pairs.start)
            tpl_append_literal(t, ",", 1);
        struct buf escaped = {0};
        buf_putc(&escaped, '"');
        json_escape_append(&escaped, key, k->data.scalar.length);
        buf_puts(&escaped, "\":");
        tpl_append_literal(t, escaped.data, escaped.len);
        buf_free(&escaped);
        if (emit_node(c, yaml_document_get_node(c->doc, p->value), route, t, depth + 1) < 0)
            return -1;
    }
    tpl_append_literal(t, "}", 1);
    return 0;
}

static int emit_node(struct cfg_ctx *c, const yaml_node_t *n, const struct route *route,
                     struct tpl *t, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return cfg_error(c, n, "json: nested deeper than %d levels", JSON_MAX_DEPTH);
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return emit_scalar(c, n, route, t);
    case YAML_SEQUENCE_NODE:
        return emit_sequence(c, n, route, t, depth);
    case YAML_MAPPING_NODE:
        return emit_mapping(c, n, route, t, depth);
    default:
        return cfg_error(c, n, "json: empty value");
    }
}

/* {body: ANY, status: N} is the long form; any other mapping is the JSON itself. */
static int is_long_form(struct cfg_ctx *c, const yaml_node_t *v)
{
    if (v->type != YAML_MAPPING_NODE || !cfg_get(c, v, "body"))
        return 0;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        const char *k = cfg_scalar(yaml_document_get_node(c->doc, p->key));
        if (!k || (strcmp(k, "body") != 0 && strcmp(k, "status") != 0))
            return 0;
    }
    return 1;
}

static int json_configure(struct cfg_ctx *c, const yaml_node_t *v, struct route *route,
                          void **state)
{
    struct answer *a = answer_new(200, "application/json");
    const yaml_node_t *body = v;
    uint64_t status;
    int rc = 0;
    if (is_long_form(c, v)) {
        yaml_node_t *s = cfg_get(c, v, "status");
        body = cfg_get(c, v, "body");
        if (s && (rc = cfg_uint(c, s, 200, 599, &status)) == 0)
            a->status = (int)status;
    }
    a->body = tpl_new();
    if (rc < 0 || emit_node(c, body, route, a->body, 0) < 0) {
        answer_destroy(a);
        return -1;
    }
    answer_prepare(a);
    *state = a;
    return 0;
}

const struct handler_kind handler_json = {
    .name = "json",
    .configure = json_configure,
    .handle = answer_handle,
    .destroy = answer_destroy,
    .finishes_at_once = 1,
};
