/* yhttpd command line: serve, test a config (-t), print routes (--routes), --explain. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "examples.h"
#include "explain.h"
#include "listen.h"
#include "log.h"
#include "master.h"
#include "metrics.h"
#include "notify.h"
#include "privdrop.h"
#include "shared_stats.h"
#include "worker.h"

#ifndef YH_DEFAULT_CONFIG
#define YH_DEFAULT_CONFIG "/etc/yhttpd/yhttpd.yaml"
#endif

enum { OPT_ROUTES = 256, OPT_EXPLAIN };

struct options {
    const char *config;
    int test;
    int routes;
    const char *explain; /* "METHOD TARGET" */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: yhttpd [-c FILE] [-t | --routes | --explain \"METHOD TARGET\"]\n"
            "  -c, --config FILE  configuration file (default: %s)\n"
            "  -t, --test         check the configuration, print \"FILE: ok\" or the errors\n"
            "      --routes       print the compiled route table and exit\n"
            "      --explain REQ  show which route answers REQ (\"GET /hello/bob\") and why\n"
            "  -V, --version      print the version\n"
            "  -h, --help         this help\n",
            YH_DEFAULT_CONFIG);
}

static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"test", no_argument, NULL, 't'},
                                             {"routes", no_argument, NULL, OPT_ROUTES},
                                             {"version", no_argument, NULL, 'V'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"explain", required_argument, NULL, OPT_EXPLAIN},
                                             {NULL, 0, NULL, 0}};
    int ch;
    o->config = YH_DEFAULT_CONFIG;
    while ((ch = getopt_long(argc, argv, "c:tVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            o->config = optarg;
            break;
        case 't':
            o->test = 1;
            break;
        case OPT_ROUTES:
            o->routes = 1;
            break;
        case OPT_EXPLAIN:
            o->explain = optarg;
            break;
        case 'V':
            printf("yhttpd %s\n", PACKAGE_VERSION);
            exit(0);
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "yhttpd: unexpected argument `%s`\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

static struct config *load_or_report(const char *path)
{
    struct buf errors = {0};
    struct config *cfg = config_load_file(path, &errors);
    if (!cfg)
        fwrite(errors.data, 1, errors.len, stderr);
    buf_free(&errors);
    return cfg;
}

/* Runs the route examples: failures on stderr; with verbose (-t), skipped ones
 * and the count passed on stdout. Returns 0 when none failed. */
static int check_examples(struct config *cfg, int verbose)
{
    struct buf errors = {0}, notes = {0};
    struct example_counts n;
    int rc = examples_run(cfg, &errors, &notes, &n);
    if (verbose && notes.len)
        fwrite(notes.data, 1, notes.len, stdout);
    if (errors.len)
        fwrite(errors.data, 1, errors.len, stderr);
    if (rc < 0)
        fprintf(stderr, "%s: %u of %u example(s) failed\n", cfg->path, n.failed,
                n.failed + n.passed);
    else if (verbose && n.passed + n.skipped)
        printf("%s: %u example(s) passed%s\n", cfg->path, n.passed,
               n.skipped ? ", some skipped (asynchronous handlers)" : "");
    buf_free(&errors);
    buf_free(&notes);
    return rc;
}

/* Binds every listener; returns the fds (caller owns) or NULL after logging. */
static int *open_listeners(const struct config *cfg)
{
    int *fds = calloc(cfg->nlistens, sizeof(*fds));
    if (!fds)
        abort();
    for (size_t i = 0; i < cfg->nlistens; i++) {
        char err[512];
        fds[i] = listen_open(&cfg->listens[i], 0, err, sizeof(err));
        if (fds[i] < 0) {
            log_error("%s", err);
            while (i-- > 0)
                close(fds[i]);
            free(fds);
            return NULL;
        }
    }
    return fds;
}

static void announce(const struct config *cfg)
{
    struct buf table = {0};
    config_print_routes(cfg, &table);
    fprintf(stderr, "%.*s", (int)table.len, table.data);
    buf_free(&table);
    int activated = notify_activation_pending();
    if (activated > 0) {
        log_info("serving %s on %d socket-activated listener(s); `listen:` is not used", cfg->path,
                 activated);
        return;
    }
    for (size_t i = 0; i < cfg->nlistens; i++) {
        char url[300];
        listen_url(&cfg->listens[i], url, sizeof(url));
        log_info("serving %s on %s/", cfg->path, url);
    }
}

static int write_pid_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "%d\n", (int)getpid());
    return fclose(f);
}

/* workers: 0 — this process binds, drops privileges and serves. */
static int serve_single(struct config *cfg)
{
    int activated = notify_listen_fds();
    int *fds = activated ? calloc((size_t)activated, sizeof(int)) : open_listeners(cfg);
    if (!fds)
        return 1;
    for (int i = 0; i < activated; i++)
        fds[i] = 3 + i;
    char err[256];
    if (privdrop_apply(&cfg->run_as, err, sizeof(err)) < 0) {
        log_error("%s", err);
        return 1;
    }
    /* No master: this process owns the shared counters and their only slot. */
    if (stats_init() < 0 || metrics_init() < 0)
        log_warn("no shared memory for statistics: %s", strerror(errno));
    stats_bind_slot(0);
    metrics_bind_slot(0);
    metrics_set_workers(1);
    struct worker w;
    if (worker_init(&w, cfg, fds, activated ? (size_t)activated : cfg->nlistens, -1) < 0) {
        log_error("cannot create the event loop");
        return 1;
    }
    w.activated = activated > 0;
    notify_ready("running (single process)");
    int status = worker_run(&w);
    worker_destroy(&w);
    return status;
}

static int serve(struct config *cfg)
{
    const char *failed = NULL;
    if (log_open(cfg, &failed) < 0) {
        fprintf(stderr, "yhttpd: cannot open log %s: %s\n", failed, strerror(errno));
        return 1;
    }
    if (cfg->pid_file && write_pid_file(cfg->pid_file) < 0) {
        log_error("cannot write pid file %s: %s", cfg->pid_file, strerror(errno));
        return 1;
    }
    char *pid_file = cfg->pid_file ? strdup(cfg->pid_file) : NULL;
    announce(cfg);
    int status;
    if (config_worker_count(cfg) == 0) {
        status = serve_single(cfg);
    } else {
        if (cfg->run_as.drop)
            log_chown(cfg->run_as.uid, cfg->run_as.gid);
        status = master_run(cfg);
    }
    if (pid_file)
        unlink(pid_file);
    free(pid_file);
    log_info("stopped");
    log_close();
    return status;
}

int main(int argc, char **argv)
{
    struct options o = {0};
    if (parse_args(argc, argv, &o) < 0)
        return 2;
    struct config *cfg = load_or_report(o.config);
    if (!cfg)
        return o.explain ? 2 : 1;
    int status = 0;
    if (o.explain) {
        struct buf out = {0};
        status = explain_request(cfg, o.explain, &out);
        if (out.len)
            fwrite(out.data, 1, out.len, status == 2 ? stderr : stdout);
        buf_free(&out);
    } else if (o.test) {
        if (check_examples(cfg, 1) < 0)
            status = 1;
        else
            printf("%s: ok\n", o.config);
    } else if (o.routes) {
        struct buf table = {0};
        config_print_routes(cfg, &table);
        fwrite(table.data, 1, table.len, stdout);
        buf_free(&table);
    } else if (check_examples(cfg, 0) < 0) {
        status = 1; /* failing examples refuse to start, like a config error */
    } else {
        status = serve(cfg);
    }
    config_unref(cfg);
    return status;
}
