/* The pre-fork master: binds, forks workers, supervises, reloads, stops.
 * It runs no event loop of its own (workers create theirs after fork, so no
 * watcher is inherited by accident): signals arrive on a signalfd. */
#include "master.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "examples.h"
#include "log.h"
#include "master_listen.h"
#include "metrics.h"
#include "notify.h"
#include "privdrop.h"
#include "shared_stats.h"
#include "worker.h"

#define RESPAWN_MAX_DELAY 5.0
#define QUICK_DEATH       1.0 /* a worker dying sooner than this is "crashing" */
#define STATUS_EVERY      5.0 /* seconds between STATUS= refreshes */

struct slot {
    pid_t pid; /* 0: not running */
    int ctl;   /* the master's end of the channel, -1 when none */
    double started;
    int quick_deaths;
    double respawn_at; /* 0: nothing scheduled */
};

static struct {
    struct config *cfg;
    struct listener_set listeners;
    struct slot *slots;
    size_t nslots;
    int sigfd;
    int stopping;
    double stop_deadline;
    unsigned restarts;
    char last_reload[200];
    double status_at; /* next STATUS= refresh */
    int unclean_stop; /* a worker crashed or was killed while stopping: exit 1 */
} m;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const sigset_t *master_signals(void)
{
    static sigset_t set;
    sigemptyset(&set);
    int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGCHLD};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    return &set;
}

static void report_status(void)
{
    size_t up = 0;
    for (size_t i = 0; i < m.nslots; i++)
        up += m.slots[i].pid != 0;
    notify_status("%zu of %zu workers up; %ld connections; %u restarts; last reload: %s", up,
                  m.nslots, stats_connections_total(m.nslots), m.restarts, m.last_reload);
    m.status_at = now_seconds() + STATUS_EVERY;
}

/* In the child: keep only this slot's sockets and channel, then serve. */
static void worker_main(size_t index, int ctl)
{
    int *fds = calloc(m.listeners.n ? m.listeners.n : 1, sizeof(int));
    if (!fds)
        abort();
    listeners_for_slot(&m.listeners, index, fds);
    close(m.sigfd);
    for (size_t i = 0; i < m.nslots; i++)
        if (m.slots[i].ctl >= 0)
            close(m.slots[i].ctl);
    for (size_t i = 0; i < m.listeners.n; i++) {
        const struct listener *l = &m.listeners.items[i];
        for (size_t k = 0; k < l->nfds; k++)
            if (!l->shared && k != index)
                close(l->fds[k]);
    }
    sigprocmask(SIG_UNBLOCK, master_signals(), NULL);
    stats_bind_slot(index);
    metrics_bind_slot(index);
    char err[256];
    if (privdrop_apply(&m.cfg->run_as, err, sizeof(err)) < 0) {
        log_error("worker %zu: %s", index, err);
        log_flush();
        _exit(2);
    }
    struct worker w;
    if (worker_init(&w, m.cfg, fds, m.listeners.n, ctl) < 0)
        _exit(1);
    int status = worker_run(&w);
    worker_destroy(&w);
    listeners_close(&m.listeners); /* the fork's copies of the bookkeeping */
    free(m.slots);
    config_unref(m.cfg);
    log_close();
    exit(status);
}

static int spawn(size_t index)
{
    struct slot *s = &m.slots[index];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        log_error("socketpair: %s", strerror(errno));
        return -1;
    }
    log_flush(); /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        log_error("fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        return -1;
    }
    if (pid == 0) {
        close(sv[0]);
        worker_main(index, sv[1]);
    }
    close(sv[1]);
    s->pid = pid;
    s->ctl = sv[0];
    s->started = now_seconds();
    s->respawn_at = 0;
    log_info("worker %zu started (pid %d)", index, (int)pid);
    return 0;
}

static void schedule_respawn(struct slot *s, double now)
{
    s->quick_deaths = now - s->started < QUICK_DEATH ? s->quick_deaths + 1 : 0;
    double delay = 0;
    /* The first crash is respawned at once; a crash loop backs off. */
    for (int i = 1; i < s->quick_deaths && delay < RESPAWN_MAX_DELAY; i++)
        delay = delay ? delay * 2 : 0.1;
    s->respawn_at = now + (delay < RESPAWN_MAX_DELAY ? delay : RESPAWN_MAX_DELAY);
}

static void describe_exit(int status, char *out, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(out, n, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(out, n, "exited with status %d", WEXITSTATUS(status));
}

static void reap_children(void)
{
    int status;
    pid_t pid;
    double now = now_seconds();
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < m.nslots; i++) {
            struct slot *s = &m.slots[i];
            if (s->pid != pid)
                continue;
            s->pid = 0;
            close(s->ctl);
            s->ctl = -1;
            stats_reset_slot(i);
            char how[64];
            describe_exit(status, how, sizeof(how));
            if (m.stopping) {
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    log_error("worker %zu (pid %d) %s while stopping", i, (int)pid, how);
                    m.unclean_stop = 1;
                }
                break;
            }
            log_warn("worker %zu (pid %d) %s; respawning", i, (int)pid, how);
            m.restarts++;
            metrics_count_restart();
            schedule_respawn(s, now);
        }
    }
    report_status();
}

static void respawn_due(void)
{
    double now = now_seconds();
    for (size_t i = 0; i < m.nslots; i++)
        if (!m.stopping && m.slots[i].pid == 0 && m.slots[i].respawn_at &&
            m.slots[i].respawn_at <= now)
            spawn(i);
}

static void signal_workers(int signo)
{
    for (size_t i = 0; i < m.nslots; i++)
        if (m.slots[i].pid)
            kill(m.slots[i].pid, signo);
}

static void begin_stop(int signo)
{
    if (m.stopping)
        return;
    m.stopping = 1;
    notify_stopping();
    log_info("%s: stopping %zu worker(s)", signo == SIGQUIT ? "SIGQUIT" : "stop signal", m.nslots);
    /* New connections are refused from now on rather than queued for nobody. */
    listeners_close(&m.listeners);
    signal_workers(signo == SIGQUIT ? SIGQUIT : SIGTERM);
    double grace = signo == SIGQUIT ? 2.0 : (double)m.cfg->timeouts.shutdown / 1000.0 + 2.0;
    m.stop_deadline = now_seconds() + grace;
}

/* Changes the number of workers: new slots start, extra ones drain and go. */
static void resize_slots(size_t n)
{
    for (size_t i = n; i < m.nslots; i++) {
        if (m.slots[i].pid) {
            kill(m.slots[i].pid, SIGTERM);
            close(m.slots[i].ctl);
            log_info("worker %zu (pid %d) retired", i, (int)m.slots[i].pid);
        }
    }
    size_t old = m.nslots;
    m.slots = realloc(m.slots, (n ? n : 1) * sizeof(*m.slots));
    if (!m.slots)
        abort();
    m.nslots = n;
    metrics_set_workers(n);
    for (size_t i = old; i < n; i++)
        m.slots[i] = (struct slot){.ctl = -1};
    for (size_t i = old; i < n; i++)
        spawn(i);
}

static void send_reload(size_t count, const struct buf *bytes)
{
    int fds[CTL_MAX_FDS];
    for (size_t i = 0; i < count && i < m.nslots; i++) {
        if (!m.slots[i].pid)
            continue; /* respawns fork from the new config */
        listeners_for_slot(&m.listeners, i, fds);
        if (ctl_send(m.slots[i].ctl, CTL_RELOAD, bytes->data, bytes->len, fds, m.listeners.n) < 0)
            log_error("worker %zu: cannot send the new config: %s", i, strerror(errno));
    }
}

/* Settings a running master cannot change in place keep their old values. */
static void keep_fixed_settings(struct config *next, size_t *workers)
{
    if (next->run_as.uid != m.cfg->run_as.uid || next->run_as.gid != m.cfg->run_as.gid) {
        log_warn("reload: user/group changed; restart to apply (workers keep running as `%s`)",
                 m.cfg->run_as.name);
        next->run_as = m.cfg->run_as;
    }
    if (*workers == 0) {
        log_warn("reload: workers: 0 needs a restart; keeping %zu workers", m.nslots);
        *workers = m.nslots;
    }
}

static void reload_failed(const struct buf *errors)
{
    log_error("reload failed, keeping the running config:\n%.*s", (int)errors->len,
              errors->data ? errors->data : "");
    const char *nl = errors->data ? memchr(errors->data, '\n', errors->len) : NULL;
    snprintf(m.last_reload, sizeof(m.last_reload), "failed: %.*s",
             nl ? (int)(nl - errors->data) : 0, errors->data);
}

static void reload(void)
{
    struct buf bytes = {0}, errors = {0};
    notify_reloading();
    struct config *next = NULL;
    if (config_read_file(m.cfg->path, &bytes, &errors) == 0)
        next = config_load_bytes(m.cfg->path, bytes.data ? bytes.data : "", bytes.len, &errors);
    struct example_counts ex = {0};
    if (next && examples_run(next, &errors, NULL, &ex) < 0) {
        config_unref(next); /* refused exactly like a syntax error */
        next = NULL;
    }
    size_t workers = next ? (size_t)config_worker_count(next) : 0;
    if (next)
        keep_fixed_settings(next, &workers);
    if (next && listeners_update(&m.listeners, next, workers) < 0) {
        buf_puts(&errors, "cannot open the new listeners (see above)\n");
        config_unref(next);
        next = NULL;
    }
    metrics_count_reload(next != NULL);
    if (!next) {
        reload_failed(&errors);
    } else {
        const char *failed = NULL;
        if (log_open(next, &failed) < 0)
            log_error("reload: cannot open log %s: %s", failed, strerror(errno));
        struct config *old = m.cfg;
        m.cfg = next;
        /* Running workers switch first; new ones fork from the new config. */
        send_reload(m.nslots < workers ? m.nslots : workers, &bytes);
        resize_slots(workers);
        config_unref(old);
        snprintf(m.last_reload, sizeof(m.last_reload), "ok (%zu routes)", m.cfg->nroutes);
        log_info("reloaded %s: %zu route(s), %zu worker(s), %u example(s) passed", m.cfg->path,
                 m.cfg->nroutes, m.nslots, ex.passed);
    }
    notify_ready(m.last_reload);
    report_status();
    buf_free(&bytes);
    buf_free(&errors);
}

static void reopen_logs(void)
{
    const char *failed = NULL;
    if (log_open(m.cfg, &failed) < 0)
        log_error("reopening logs: %s: %s", failed, strerror(errno));
    else if (m.cfg->run_as.drop)
        log_chown(m.cfg->run_as.uid, m.cfg->run_as.gid);
    signal_workers(SIGUSR1);
}

static int all_stopped(void)
{
    for (size_t i = 0; i < m.nslots; i++)
        if (m.slots[i].pid)
            return 0;
    return 1;
}

/* Milliseconds until the next respawn or the stop deadline; -1: none. */
static int next_timeout_ms(void)
{
    double now = now_seconds(), next = 0;
    for (size_t i = 0; i < m.nslots; i++)
        if (!m.slots[i].pid && m.slots[i].respawn_at && (!next || m.slots[i].respawn_at < next))
            next = m.slots[i].respawn_at;
    if (m.stopping && (!next || m.stop_deadline < next))
        next = m.stop_deadline;
    if (!m.stopping && (!next || m.status_at < next))
        next = m.status_at;
    if (!next)
        return -1;
    return next <= now ? 0 : (int)((next - now) * 1000) + 1;
}

static void handle_signal(int signo)
{
    switch (signo) {
    case SIGCHLD:
        reap_children();
        break;
    case SIGHUP:
        if (!m.stopping)
            reload();
        break;
    case SIGUSR1:
        reopen_logs();
        break;
    default:
        begin_stop(signo);
        break;
    }
}

static void master_loop(void)
{
    while (!(m.stopping && all_stopped())) {
        struct pollfd p = {.fd = m.sigfd, .events = POLLIN};
        int n = poll(&p, 1, next_timeout_ms());
        struct signalfd_siginfo si;
        while (n > 0 && read(m.sigfd, &si, sizeof(si)) == sizeof(si))
            handle_signal((int)si.ssi_signo);
        respawn_due();
        if (!m.stopping && now_seconds() >= m.status_at)
            report_status();
        if (m.stopping && now_seconds() >= m.stop_deadline && !all_stopped()) {
            log_warn("workers still running at the deadline: killing them");
            signal_workers(SIGKILL);
            m.stop_deadline = now_seconds() + 5;
        }
        log_flush();
    }
}

static int open_master_listeners(size_t slots)
{
    int activated = notify_listen_fds();
    if (activated > 0) {
        log_info("using %d socket-activated listener(s)", activated);
        listeners_adopt(&m.listeners, activated);
        return 0;
    }
    return listeners_open(&m.listeners, m.cfg, slots);
}

int master_run(struct config *cfg)
{
    memset(&m, 0, sizeof(m));
    m.cfg = config_ref(cfg);
    snprintf(m.last_reload, sizeof(m.last_reload), "none");
    sigprocmask(SIG_BLOCK, master_signals(), NULL);
    signal(SIGPIPE, SIG_IGN); /* a worker that died mid-reload must not take the master along */
    m.sigfd = signalfd(-1, master_signals(), SFD_CLOEXEC | SFD_NONBLOCK);
    size_t n = (size_t)config_worker_count(cfg);
    if (stats_init() < 0)
        log_warn("no shared memory for statistics: %s", strerror(errno));
    if (metrics_init() < 0)
        log_warn("no shared memory for metrics: %s", strerror(errno));
    if (m.sigfd < 0 || open_master_listeners(n) < 0) {
        config_unref(m.cfg);
        return 1;
    }
    m.nslots = 0;
    resize_slots(n);
    notify_ready("running");
    report_status();
    log_flush();
    master_loop();
    listeners_close(&m.listeners);
    free(m.slots);
    close(m.sigfd);
    config_unref(m.cfg);
    return m.unclean_stop ? 1 : 0;
}
