/* A worker's signals and the master's channel: stop, reload, reopen logs. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "examples.h"
#include "listen.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "worker.h"

static void on_stop_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct worker *w = s->data;
    if (w->ctl_io.fd < 0)
        notify_stopping();
    worker_begin_drain(w);
}

static void on_quit_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct worker *w = s->data;
    log_info("SIGQUIT: stopping now");
    w->draining = 1;
    worker_stop_listening(w);
    worker_abort_all(w);
}

static void on_reopen_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct worker *w = s->data;
    const char *failed = NULL;
    if (log_open(w->cfg, &failed) < 0)
        log_error("reopening logs: %s: %s", failed, strerror(errno));
}

/* The listener of `text` in the running config, or -1. */
static int current_listener(const struct worker *w, const char *text)
{
    for (size_t i = 0; i < w->cfg->nlistens && i < w->nlisten; i++)
        if (strcmp(w->cfg->listens[i].text, text) == 0)
            return w->listen_fds[i];
    return -1;
}

/* Single process: the new config's listeners, reusing the open ones. NULL on failure. */
static int *open_new_listeners(struct worker *w, const struct config *next)
{
    int *fds = calloc(next->nlistens ? next->nlistens : 1, sizeof(*fds));
    if (!fds)
        abort();
    for (size_t i = 0; i < next->nlistens; i++) {
        char err[512];
        int old = current_listener(w, next->listens[i].text);
        fds[i] = old >= 0 ? dup(old) : listen_open(&next->listens[i], 0, err, sizeof(err));
        if (fds[i] < 0) {
            log_error("reload failed, keeping the running config: %s", old >= 0 ? "dup" : err);
            while (i-- > 0)
                close(fds[i]);
            free(fds);
            return NULL;
        }
    }
    return fds;
}

/* Commits a validated config; new listeners are given (pre-fork) or opened here. */
static int apply_config(struct worker *w, struct config *next, int *fds, size_t nfds)
{
    if (!fds && !w->activated && !(fds = open_new_listeners(w, next)))
        return -1;
    if (fds)
        worker_replace_listeners(w, fds, nfds ? nfds : next->nlistens);
    const char *failed = NULL;
    if (log_open(next, &failed) < 0)
        log_error("reload: cannot open log %s: %s; keeping the old logs", failed, strerror(errno));
    worker_set_config(w, next);
    log_info("reloaded %s: %zu route(s)", w->cfg->path, w->cfg->nroutes);
    return 0;
}

static void report_reload_errors(const struct buf *errors)
{
    log_error("reload failed, keeping the running config:\n%.*s", (int)errors->len,
              errors->data ? errors->data : "");
    const char *nl = errors->data ? memchr(errors->data, '\n', errors->len) : NULL;
    notify_ready("reload failed");
    notify_status("reload failed: %.*s", nl ? (int)(nl - errors->data) : 0, errors->data);
}

/* Single-process mode: SIGHUP re-reads the file itself. */
static void on_reload_signal(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct worker *w = s->data;
    struct buf errors = {0};
    notify_reloading();
    struct config *next = config_load_file(w->cfg->path, &errors);
    int ok = 0;
    struct example_counts ex = {0};
    if (next && examples_run(next, &errors, NULL, &ex) < 0) {
        config_unref(next); /* refused exactly like a syntax error */
        next = NULL;
    }
    if (!next) {
        report_reload_errors(&errors);
    } else if (apply_config(w, next, NULL, 0) == 0) {
        notify_ready("running; last reload ok");
        ok = 1;
    } else {
        notify_ready("reload failed: cannot open listeners");
    }
    metrics_count_reload(ok);
    config_unref(next);
    buf_free(&errors);
}

/* Pre-fork mode: the master sends the bytes it validated and our listeners. */
static void on_control(struct ev_loop *loop, ev_io *io, int revents)
{
    struct worker *w = io->data;
    struct buf payload = {0}, errors = {0};
    int fds[CTL_MAX_FDS];
    size_t nfds = 0;
    uint32_t type;
    if (ctl_recv(io->fd, &type, &payload, fds, &nfds) < 0) {
        /* The master is gone: finish what we have and leave. */
        log_warn("master channel closed; stopping");
        ev_ref(loop); /* balance the ev_unref of init before stopping */
        ev_io_stop(loop, io);
        worker_begin_drain(w);
    } else if (type == CTL_RELOAD) {
        struct config *next = config_load_bytes(w->cfg->path, payload.data, payload.len, &errors);
        int *owned = malloc((nfds ? nfds : 1) * sizeof(int));
        if (!owned)
            abort();
        memcpy(owned, fds, nfds * sizeof(int));
        if (!next || apply_config(w, next, owned, nfds) < 0) {
            log_error("reload refused by worker:\n%.*s", (int)errors.len, errors.data);
            for (size_t i = 0; i < nfds; i++)
                close(fds[i]);
            free(owned);
        }
        config_unref(next);
    }
    buf_free(&payload);
    buf_free(&errors);
}

void worker_init_signals(struct worker *w, int ctl_fd)
{
    struct {
        ev_signal *watcher;
        void (*cb)(struct ev_loop *, ev_signal *, int);
        int signo;
    } sigs[] = {{&w->sig_term, on_stop_signal, SIGTERM},
                {&w->sig_int, on_stop_signal, SIGINT},
                {&w->sig_quit, on_quit_signal, SIGQUIT},
                {&w->sig_hup, on_reload_signal, SIGHUP},
                {&w->sig_usr1, on_reopen_signal, SIGUSR1}};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        ev_signal_init(sigs[i].watcher, sigs[i].cb, sigs[i].signo);
        sigs[i].watcher->data = w;
        /* Under a master, reloads arrive on the channel; a stray HUP is ignored. */
        if (sigs[i].signo == SIGHUP && ctl_fd >= 0) {
            signal(SIGHUP, SIG_IGN);
            continue;
        }
        ev_signal_start(w->loop, sigs[i].watcher);
        ev_unref(w->loop); /* signal watchers alone do not keep the loop alive */
    }
    ev_io_init(&w->ctl_io, on_control, ctl_fd, EV_READ);
    w->ctl_io.data = w;
    if (ctl_fd >= 0) {
        ev_io_start(w->loop, &w->ctl_io);
        ev_unref(w->loop);
    }
}
