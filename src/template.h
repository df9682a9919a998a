/* "{var}" templates, compiled at load and rendered per request. */
#ifndef YH_TEMPLATE_H
#define YH_TEMPLATE_H

#include <stddef.h>

#include "buf.h"
#include "router.h"

/* How substituted values are escaped (literal text is never escaped). */
enum tpl_escape {
    TPL_RAW,  /* as is */
    TPL_JSON, /* inside a JSON string: quotes, backslash, control chars escaped */
};

/* A request header as the renderer sees it. */
struct http_header {
    yh_span name;
    yh_span value;
};

/* What a template can read from the request being answered. */
struct tpl_ctx {
    const yh_span *vars; /* path variable values, in the route's var order */
    int nvars;
    yh_span method;
    yh_span path;  /* normalized path */
    yh_span query; /* raw query string, without '?' (may be empty) */
    yh_span remote_addr;
    yh_span host;
    const struct http_header *headers;
    size_t nheaders;
};

struct tpl;

/* Returns an empty template; aborts on out-of-memory. */
struct tpl *tpl_new(void);
void tpl_free(struct tpl *t);

/*
 * Compiles src and appends it. Variables: a path variable in *vars, query.NAME,
 * header.NAME, method, path, remote_addr, host; "{{" and "}}" are literal braces.
 * Returns 0, or -1 with a message in err and the byte offset of the fault in
 * src in *err_off (e.g. "unknown variable {nme}", "unclosed {").
 */
int tpl_append_source(struct tpl *t, const char *src, size_t n, enum tpl_escape esc,
                      const struct route_vars *vars, char *err, size_t errlen, size_t *err_off);
/* Appends literal text (never escaped, braces not interpreted). */
void tpl_append_literal(struct tpl *t, const char *s, size_t n);

/* 1 when the template has no variables: its text is then tpl_constant(). */
int tpl_is_constant(const struct tpl *t);
/* The text of a constant template (NULL otherwise); *n gets its length. */
const char *tpl_constant(const struct tpl *t, size_t *n);

/* Appends the rendering to out. {query.X} is the first X= value, percent-decoded
 * with '+' as space; {header.X} the first header X (case-insensitive); absent = "". */
void tpl_render(const struct tpl *t, const struct tpl_ctx *ctx, struct buf *out);

/* Appends s escaped for the inside of a JSON string. */
void json_escape_append(struct buf *out, const char *s, size_t n);

#endif
