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

static int cfg_verror(struct cfg_ctx *c, size_t line, size_t col, const char *fmt, va_list ap)
{
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
    cfg_verror(c, node ? node->start_mark.line + 1 : 1, node ? node->start_mark.column + 1 : 1, fmt,
               ap);
    va_end(ap);
    return -1;
}

/* A cursor over the source that counts lines and columns as libyaml does (in characters). */
struct src_pos {
    const char *s;
    size_t n, i, line, col;
};

static void pos_advance(struct src_pos *p, size_t bytes)
{
    for (; bytes > 0 && p->i < p->n; bytes--, p->i++) {
        unsigned char ch = (unsigned char)p->s[p->i];
        if (ch == '\n') {
            p->line++;
            p->col = 0;
        } else if ((ch & 0xc0) != 0x80) {
            p->col++;
        }
    }
}

static size_t utf8_len(unsigned long cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* Consumes one double-quoted escape; returns the decoded bytes it stands for. */
static size_t pos_escape(struct src_pos *p)
{
    char e = p->i + 1 < p->n ? p->s[p->i + 1] : 0;
    size_t hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
    if (hex && p->i + 2 + hex <= p->n) {
        char digits[9] = {0};
        memcpy(digits, p->s + p->i + 2, hex);
        pos_advance(p, 2 + hex);
        return utf8_len(strtoul(digits, NULL, 16));
    }
    pos_advance(p, 2);
    return e == '\n' ? 0 : 1;
}

/* Walks a block scalar (| or >): content lines lose their indentation. */
static void locate_block(struct src_pos *p, size_t offset)
{
    while (p->i < p->n && p->s[p->i] != '\n')
        pos_advance(p, 1);
    pos_advance(p, 1);
    size_t indent = 0;
    while (p->i + indent < p->n && p->s[p->i + indent] == ' ')
        indent++;
    for (size_t decoded = 0; p->i < p->n && decoded < offset; decoded++) {
        int at_line_start = p->col == 0;
        if (at_line_start)
            pos_advance(p, indent);
        pos_advance(p, 1);
    }
    if (p->col == 0)
        pos_advance(p, indent);
}

/* Walks a flow scalar (plain or quoted) to the decoded byte offset. */
static void locate_flow(struct src_pos *p, int style, size_t offset)
{
    if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
        pos_advance(p, 1);
    size_t decoded = 0;
    while (p->i < p->n && decoded < offset) {
        char ch = p->s[p->i];
        if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && ch == '\\') {
            decoded += pos_escape(p);
        } else if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && ch == '\'') {
            pos_advance(p, 2);
            decoded++;
        } else if (ch == '\n') {
            pos_advance(p, 1); /* a folded line break: one space, indentation dropped */
            while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t'))
                pos_advance(p, 1);
            decoded++;
        } else {
            pos_advance(p, 1);
            decoded++;
        }
    }
}

int cfg_error_at(struct cfg_ctx *c, const yaml_node_t *node, size_t offset, const char *fmt, ...)
{
    struct src_pos p = {c->src, c->src ? c->srclen : 0, node->start_mark.index,
                        node->start_mark.line, node->start_mark.column};
    int style = node->type == YAML_SCALAR_NODE ? (int)node->data.scalar.style : 0;
    if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE)
        locate_block(&p, offset);
    else
        locate_flow(&p, style, offset);
    va_list ap;
    va_start(ap, fmt);
    cfg_verror(c, p.line + 1, p.col + 1, fmt, ap);
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
        if (!allowed || key_allowed(key, allowed))
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
