/* `module:` — the request and answer API modules call (include/yhttpd/module.h). */
#include "module.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../include/yhttpd/module.h"
#include "../config.h"
#include "../conn.h"
#include "../http.h"
#include "../log.h"
#include "../request.h"
#include "../worker.h"

/* A module's answer being built; the request's handler_ctx until yh_respond(). */
struct module_call {
    int status;
    struct buf headers; /* "Name: value\r\n" lines */
    struct buf body;
    int has_type;
    void (*cancel)(struct yh_request *r, void *arg);
    void *cancel_arg;
};

static struct request *req(const struct yh_request *r)
{
    return (struct request *)r;
}

static struct module_call *call_of(const struct yh_request *r)
{
    return req(r)->handler_ctx;
}

static const char *span_out(yh_span s, size_t *len)
{
    if (len)
        *len = s.p ? s.n : 0;
    return s.p;
}

const char *yh_method(const struct yh_request *r, size_t *len)
{
    return span_out(req(r)->method_name, len);
}

const char *yh_path(const struct yh_request *r, size_t *len)
{
    return span_out(req(r)->path, len);
}

const char *yh_query(const struct yh_request *r, size_t *len)
{
    return span_out(req(r)->query, len);
}

const char *yh_var(const struct yh_request *r, const char *name, size_t *len)
{
    const struct request *q = req(r);
    const struct route_vars *vars = &q->route->vars;
    for (int i = 0; i < vars->n && i < q->match.nvars; i++)
        if (strcmp(vars->names[i], name) == 0)
            return span_out(q->match.vars[i], len);
    return span_out((yh_span){NULL, 0}, len);
}

const char *yh_header(const struct yh_request *r, const char *name, size_t *len)
{
    const struct http_header *h = request_header(req(r), name);
    return span_out(h ? h->value : (yh_span){NULL, 0}, len);
}

const char *yh_body(const struct yh_request *r, size_t *len)
{
    const struct buf *b = &req(r)->body;
    return span_out((yh_span){b->data ? b->data : "", b->len}, len);
}

const char *yh_remote_addr(const struct yh_request *r)
{
    return conn_peer(req(r)->conn);
}

void yh_status(struct yh_request *r, int status)
{
    if (status >= 200 && status <= 599)
        call_of(r)->status = status;
}

/* Framing and connection management stay the server's. */
static int server_owned(const char *name)
{
    static const char *const owned[] = {
        "content-length", "transfer-encoding", "connection", "keep-alive", "date", "upgrade", NULL};
    for (size_t i = 0; owned[i]; i++)
        if (strcasecmp(name, owned[i]) == 0)
            return 1;
    return 0;
}

int yh_add_header(struct yh_request *r, const char *name, const char *value)
{
    struct module_call *mc = call_of(r);
    if (!name || !value || !http_token_valid(name) || server_owned(name) || strpbrk(value, "\r\n"))
        return -1;
    mc->has_type |= strcasecmp(name, "content-type") == 0;
    buf_printf(&mc->headers, "%s: %s\r\n", name, value);
    return 0;
}

void yh_write(struct yh_request *r, const void *data, size_t len)
{
    buf_append(&call_of(r)->body, data, len);
}

static void call_free(struct module_call *mc)
{
    buf_free(&mc->headers);
    buf_free(&mc->body);
    free(mc);
}

void yh_respond(struct yh_request *yr)
{
    struct request *r = req(yr);
    struct module_call *mc = r->handler_ctx;
    r->handler_ctx = NULL;
    resp_begin(r, mc->status);
    if (!mc->has_type)
        resp_header(r, "Content-Type", "text/plain; charset=utf-8", 25);
    resp_header_line(r, mc->headers.data ? mc->headers.data : "", mc->headers.len);
    buf_append(resp_body_buf(r), mc->body.data ? mc->body.data : "", mc->body.len);
    call_free(mc);
    resp_finish(r);
}

void yh_on_cancel(struct yh_request *r, void (*cancel)(struct yh_request *, void *), void *arg)
{
    struct module_call *mc = call_of(r);
    mc->cancel = cancel;
    mc->cancel_arg = arg;
}

struct ev_loop *yh_loop(void)
{
    return the_worker ? the_worker->loop : NULL;
}

void yh_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_warn("module: %s", line);
}

static void on_client_gone(struct request *r)
{
    struct module_call *mc = r->handler_ctx;
    if (mc->cancel)
        mc->cancel((struct yh_request *)r, mc->cancel_arg);
    r->handler_ctx = NULL;
    call_free(mc);
}

void module_handle(struct request *r, const void *state)
{
    const struct module_route *mr = state;
    struct module_call *mc = calloc(1, sizeof(*mc));
    if (!mc) {
        resp_error(r, 503);
        return;
    }
    mc->status = 200;
    r->handler_ctx = mc;
    r->on_cancel = on_client_gone;
    mr->m->handle((struct yh_request *)r, mr->state);
}
