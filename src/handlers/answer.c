/* A fixed answer (text, json, redirect): status, type, templated body and Location. */
#include "answer.h"

#include <stdlib.h>
#include <string.h>

#include "../request.h"
#include "../template.h"

struct answer *answer_new(int status, const char *content_type)
{
    struct answer *a = calloc(1, sizeof(*a));
    if (!a || !(a->content_type = strdup(content_type)))
        abort();
    a->status = status;
    return a;
}

static void render_into(struct request *r, const struct tpl *t, struct buf *out)
{
    struct tpl_ctx ctx;
    request_tpl_ctx(r, &ctx);
    tpl_render(t, &ctx, out);
}

void answer_prepare(struct answer *a)
{
    struct buf line = {0};
    if (a->content_type[0]) {
        buf_puts(&line, "Content-Type: ");
        buf_puts(&line, a->content_type);
        buf_puts(&line, "\r\n");
    }
    a->content_type_line_len = line.len;
    buf_putc(&line, 0);
    free(a->content_type_line);
    a->content_type_line = line.data;
}

void answer_handle(struct request *r, const void *state)
{
    const struct answer *a = state;
    resp_begin(r, a->status);
    resp_header_line(r, a->content_type_line, a->content_type_line_len);
    if (a->location) {
        struct buf *scratch = resp_body_buf(r);
        render_into(r, a->location, scratch);
        resp_header(r, "Location", scratch->data, scratch->len);
        scratch->len = 0;
    }
    size_t n;
    const char *constant = tpl_constant(a->body, &n);
    if (constant)
        resp_body_static(r, constant, n);
    else
        render_into(r, a->body, resp_body_buf(r));
    resp_finish(r);
}

void answer_destroy(void *state)
{
    struct answer *a = state;
    if (!a)
        return;
    tpl_free(a->body);
    tpl_free(a->location);
    free(a->content_type);
    free(a->content_type_line);
    free(a);
}
