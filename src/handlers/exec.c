/* `exec:` — one child per request: body to its stdin, its stdout (after an
 * optional CGI header block) streamed as the answer, stderr to the error log.
 * Everything is non-blocking, driven by the worker's (default) libev loop. */
#include "exec.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../config.h"
#include "../http.h"
#include "../log.h"
#include "../request.h"
#include "../worker.h"
#include "exec_cgi.h"

/* One child. It lives until reaped, also after its request was answered or
 * cancelled (then r is NULL and only the kill timer and ev_child remain). */
struct exec_proc {
    struct exec_proc *prev, *next; /* every child of this process, for exec_shutdown() */
    struct exec_route *er;
    struct config *cfg; /* keeps er alive across reloads until the child is reaped */
    struct request *r;  /* NULL once answered or cancelled */
    pid_t pid;
    int in_fd, out_fd, err_fd;
    ev_io in_w, out_w, err_w;
    ev_child child_w;
    ev_timer timer; /* the timeout, then the SIGTERM -> SIGKILL grace */
    int wstatus;
    int64_t left; /* body bytes the script's Content-Length still allows, or -1 */
    unsigned exited : 1, out_eof : 1, head_sent : 1, killing : 1, cut_warned : 1;
    struct buf err_line; /* a stderr line being collected */
    struct cgi_parser cgi;
};

static struct exec_proc *procs;

static struct ev_loop *loop(void)
{
    return the_worker->loop;
}

static void close_watched(int *fd, ev_io *w)
{
    if (*fd < 0)
        return;
    ev_io_stop(loop(), w);
    close(*fd);
    *fd = -1;
}

/* ---- stderr: one log line per output line ---- */

static void log_stderr_line(struct exec_proc *p, char *s, size_t n)
{
    if (n && s[n - 1] == '\r')
        n--;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = s[i] == '\t' ? ' ' : '?';
    log_warn("exec %s [pid %d]: %.*s", p->er->label, (int)p->pid, (int)n, s);
}

static void take_stderr(struct exec_proc *p, const char *s, size_t n)
{
    struct buf *l = &p->err_line;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            log_stderr_line(p, l->data, l->len);
            l->len = 0;
            continue;
        }
        buf_putc(l, s[i]);
        if (l->len == EXEC_STDERR_LINE_MAX) { /* a long line goes out in pieces */
            log_stderr_line(p, l->data, l->len);
            l->len = 0;
        }
    }
}

/* Reads what stderr holds; at its end (or when `final`) logs the last piece and closes it. */
static void read_stderr(struct exec_proc *p, int final)
{
    char chunk[4096];
    for (int i = 0; p->err_fd >= 0 && i < 16; i++) {
        ssize_t n = read(p->err_fd, chunk, sizeof(chunk));
        if (n > 0) {
            take_stderr(p, chunk, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !final)
            return;
        break; /* the end, an error, or nothing more now that the child is gone */
    }
    if (p->err_line.len)
        log_stderr_line(p, p->err_line.data, p->err_line.len);
    p->err_line.len = 0;
    close_watched(&p->err_fd, &p->err_w);
}

static void on_stderr(struct ev_loop *l, ev_io *w, int revents)
{
    read_stderr(w->data, 0);
}

/* ---- lifetime ---- */

static void proc_free(struct exec_proc *p)
{
    if (p->err_fd >= 0)
        read_stderr(p, 1);
    close_watched(&p->in_fd, &p->in_w);
    close_watched(&p->out_fd, &p->out_w);
    ev_child_stop(loop(), &p->child_w);
    ev_timer_stop(loop(), &p->timer);
    cgi_free(&p->cgi);
    buf_free(&p->err_line);
    p->er->running--;
    if (p->prev)
        p->prev->next = p->next;
    else
        procs = p->next;
    if (p->next)
        p->next->prev = p->prev;
    config_unref(p->cfg);
    free(p);
}

static void signal_group(struct exec_proc *p, int sig)
{
    /* only while the leader is unreaped: its pid cannot name anything else */
    if (!p->exited)
        kill(-p->pid, sig);
}

/* The request is answered or gone: stop the child's I/O, end the child, and
 * free everything once it is reaped. */
static void abandon(struct exec_proc *p)
{
    p->r = NULL;
    close_watched(&p->in_fd, &p->in_w);
    close_watched(&p->out_fd, &p->out_w);
    if (p->exited) {
        proc_free(p);
        return;
    }
    if (p->killing)
        return;
    p->killing = 1;
    signal_group(p, SIGTERM);
    ev_timer_stop(loop(), &p->timer);
    ev_timer_set(&p->timer, EXEC_KILL_GRACE, 0.);
    ev_timer_start(loop(), &p->timer);
}

static void answer_error(struct exec_proc *p, int status)
{
    struct request *r = p->r;
    p->r = NULL;
    resp_error(r, status);
}

/* ---- stdout: the head, then the body ---- */

static int status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

static void write_body(struct exec_proc *p, const char *s, size_t n)
{
    if (p->left >= 0 && (int64_t)n > p->left) {
        if (!p->cut_warned)
            log_warn("exec %s [pid %d]: output beyond its Content-Length dropped", p->er->label,
                     (int)p->pid);
        p->cut_warned = 1;
        n = (size_t)p->left;
    }
    if (p->left >= 0)
        p->left -= (int64_t)n;
    if (resp_stream_write(p->r, s, n))
        ev_io_stop(loop(), &p->out_w); /* until on_drain */
}

static void send_head(struct exec_proc *p)
{
    static struct buf line;
    struct request *r = p->r;
    resp_begin(r, p->cgi.status);
    for (size_t i = 0; i < p->cgi.nfields; i++) {
        yh_span name, value;
        cgi_field(&p->cgi, i, &name, &value);
        /* the parser let through tokens and values without controls only */
        line.len = 0;
        buf_append(&line, name.p, name.n);
        buf_append(&line, ": ", 2);
        buf_append(&line, value.p, value.n);
        buf_append(&line, "\r\n", 2);
        resp_header_line(r, line.data, line.len);
    }
    if (!p->cgi.has_type && status_has_body(p->cgi.status))
        resp_header(r, "Content-Type", EXEC_DEFAULT_TYPE, strlen(EXEC_DEFAULT_TYPE));
    p->left = p->cgi.length;
    resp_stream_begin(r, p->cgi.length);
    p->head_sent = 1;
    size_t n;
    const char *body = cgi_body(&p->cgi, &n);
    if (n)
        write_body(p, body, n);
    cgi_free(&p->cgi);
}

static int exited_ok(const struct exec_proc *p)
{
    return WIFEXITED(p->wstatus) && WEXITSTATUS(p->wstatus) == 0;
}

static void describe_exit(const struct exec_proc *p, char *out, size_t n)
{
    if (WIFSIGNALED(p->wstatus))
        snprintf(out, n, "killed by signal %d", WTERMSIG(p->wstatus));
    else
        snprintf(out, n, "exited with status %d", WEXITSTATUS(p->wstatus));
}

/* The child has exited and its stdout ended: the answer is complete. */
static void complete(struct exec_proc *p)
{
    char why[64];
    describe_exit(p, why, sizeof(why));
    read_stderr(p, 1);
    if (!p->head_sent) {
        if (!exited_ok(p)) {
            log_warn("exec %s [pid %d]: %s before its answer", p->er->label, (int)p->pid, why);
            answer_error(p, 502);
        } else if (cgi_eof(&p->cgi) == CGI_ERROR) {
            log_warn("exec %s [pid %d]: bad CGI header block: %s", p->er->label, (int)p->pid,
                     cgi_error(&p->cgi));
            answer_error(p, 502);
        } else {
            send_head(p);
        }
    } else if (!exited_ok(p)) {
        log_warn("exec %s [pid %d]: %s after its answer began", p->er->label, (int)p->pid, why);
    }
    if (p->r) {
        struct request *r = p->r;
        int whole = p->left <= 0;
        if (!whole)
            log_warn("exec %s [pid %d]: output shorter than its Content-Length", p->er->label,
                     (int)p->pid);
        p->r = NULL;
        resp_stream_end(r, whole);
    }
    proc_free(p);
}

static void on_stdout(struct ev_loop *l, ev_io *w, int revents)
{
    struct exec_proc *p = w->data;
    static char chunk[64 * 1024];
    ssize_t n = read(p->out_fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        close_watched(&p->out_fd, &p->out_w);
        p->out_eof = 1;
        if (p->exited)
            complete(p);
        return;
    }
    if (p->head_sent) {
        write_body(p, chunk, (size_t)n);
        return;
    }
    int state = cgi_feed(&p->cgi, chunk, (size_t)n);
    if (state == CGI_DONE) {
        send_head(p);
    } else if (state == CGI_ERROR) {
        log_warn("exec %s [pid %d]: bad CGI header block: %s", p->er->label, (int)p->pid,
                 cgi_error(&p->cgi));
        answer_error(p, 502);
        abandon(p);
    }
}

/* ---- stdin: the request body as it comes ---- */

static void close_stdin(struct exec_proc *p)
{
    close_watched(&p->in_fd, &p->in_w);
}

/* Writes what the request body holds; closes stdin at its end. A child that
 * stops reading (EPIPE) just gets no more: the rest of the body is dropped. */
static void pump_stdin(struct exec_proc *p)
{
    struct request *r = p->r;
    while (p->in_fd >= 0 && r->body.len) {
        ssize_t n = write(p->in_fd, r->body.data, r->body.len);
        if (n > 0) {
            request_body_take(r, (size_t)n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_start(loop(), &p->in_w);
            return;
        } else {
            close_stdin(p);
        }
    }
    if (r->body.len)
        request_body_take(r, r->body.len); /* stdin is closed: discard */
    if (p->in_fd >= 0)
        ev_io_stop(loop(), &p->in_w);
    if (r->body_done)
        close_stdin(p);
}

static void on_stdin(struct ev_loop *l, ev_io *w, int revents)
{
    pump_stdin(w->data);
}

/* ---- the request's hooks ---- */

static void on_body(struct request *r)
{
    pump_stdin(r->handler_ctx);
}

static void on_drain(struct request *r)
{
    struct exec_proc *p = r->handler_ctx;
    if (p->out_fd >= 0)
        ev_io_start(loop(), &p->out_w);
}

static void on_cancel(struct request *r)
{
    abandon(r->handler_ctx);
}

/* ---- the child's end, and the clock ---- */

static void on_child(struct ev_loop *l, ev_child *w, int revents)
{
    struct exec_proc *p = w->data;
    ev_child_stop(l, w);
    p->exited = 1;
    p->wstatus = w->rstatus;
    if (!p->r) {
        proc_free(p);
        return;
    }
    close_stdin(p);
    if (p->out_eof)
        complete(p);
}

static void on_timer(struct ev_loop *l, ev_timer *t, int revents)
{
    struct exec_proc *p = t->data;
    if (p->killing) {
        log_warn("exec %s [pid %d]: still running %.0f s after SIGTERM: SIGKILL", p->er->label,
                 (int)p->pid, EXEC_KILL_GRACE);
        signal_group(p, SIGKILL);
        return; /* reaped by on_child */
    }
    log_warn("exec %s [pid %d]: timed out after %.3g s", p->er->label, (int)p->pid,
             (double)p->er->timeout_ms / 1000.0);
    if (p->r) {
        struct request *r = p->r;
        p->r = NULL;
        if (p->head_sent)
            resp_stream_end(r, 0); /* cut short: the client sees the truncation */
        else
            resp_error(r, 504);
    }
    abandon(p);
}

/* ---- the handler ---- */

static void answer_busy(struct request *r)
{
    resp_begin(r, 503);
    resp_header(r, "Retry-After", "1", 1);
    resp_header(r, "Content-Type", "text/plain; charset=utf-8", 25);
    buf_printf(resp_body_buf(r), "503 %s\n", http_status_text(503));
    resp_finish(r);
}

void exec_handle(struct request *r, const void *state)
{
    struct exec_route *er = (struct exec_route *)state; /* its counter is ours to change */
    if (er->running >= er->max_concurrent) {
        answer_busy(r);
        return;
    }
    struct buf storage = {0};
    char **envp = exec_build_env(er, r, &storage);
    int in_fd, out_fd, err_fd;
    pid_t pid = exec_spawn(er->argv, envp, &in_fd, &out_fd, &err_fd);
    int saved = errno;
    free(envp);
    buf_free(&storage);
    if (pid < 0) {
        log_error("exec %s: cannot start %s: %s", er->label, er->argv[0], strerror(saved));
        resp_error(r, 502);
        return;
    }
    struct exec_proc *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    p->er = er;
    p->cfg = config_ref(r->cfg);
    p->r = r;
    p->pid = pid;
    p->in_fd = in_fd;
    p->out_fd = out_fd;
    p->err_fd = err_fd;
    p->left = -1;
    cgi_init(&p->cgi);
    p->next = procs;
    if (procs)
        procs->prev = p;
    procs = p;
    er->running++;

    ev_io_init(&p->in_w, on_stdin, in_fd, EV_WRITE);
    ev_io_init(&p->out_w, on_stdout, out_fd, EV_READ);
    ev_io_init(&p->err_w, on_stderr, err_fd, EV_READ);
    /* started before the loop runs again, so the exit cannot be missed */
    ev_child_init(&p->child_w, on_child, pid, 0);
    ev_timer_init(&p->timer, on_timer, (double)er->timeout_ms / 1000.0, 0.);
    p->in_w.data = p->out_w.data = p->err_w.data = p->child_w.data = p->timer.data = p;
    ev_io_start(loop(), &p->out_w);
    ev_io_start(loop(), &p->err_w);
    ev_child_start(loop(), &p->child_w);
    ev_timer_start(loop(), &p->timer);

    r->handler_ctx = p;
    r->on_body = on_body;
    r->on_drain = on_drain;
    r->on_cancel = on_cancel;
    pump_stdin(p); /* a request without a body closes stdin at once */
}

void exec_shutdown(void)
{
    while (procs) {
        struct exec_proc *p = procs;
        signal_group(p, SIGKILL);
        p->r = NULL;
        proc_free(p);
    }
}

void exec_destroy(void *state)
{
    struct exec_route *er = state;
    if (!er)
        return;
    for (size_t i = 0; i < er->argc; i++)
        free(er->argv[i]);
    free(er->argv);
    for (size_t i = 0; i < er->nenv; i++) {
        free(er->env[i].name);
        tpl_free(er->env[i].value);
    }
    free(er->env);
    free(er->label);
    free(er);
}
