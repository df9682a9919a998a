/* `exec:` — runs a program per request, CGI/1.1: the body on its stdin, its
 * stdout (optional CGI header block) as the answer, no shell. */
#ifndef YH_HANDLERS_EXEC_H
#define YH_HANDLERS_EXEC_H

#include <stdint.h>
#include <sys/types.h>

#include "../template.h"

#define EXEC_TIMEOUT_MS      30000 /* `timeout:` default */
#define EXEC_MAX_CONCURRENT  16    /* `max_concurrent:` default, per worker */
#define EXEC_KILL_GRACE      2.0   /* seconds between SIGTERM and SIGKILL */
#define EXEC_DEFAULT_PATH    "/usr/local/bin:/usr/bin:/bin"
#define EXEC_DEFAULT_TYPE    "text/plain; charset=utf-8"
#define EXEC_STDERR_LINE_MAX 1024

struct request;
struct route;

/* An `env:` entry: NAME: template. */
struct exec_env {
    char *name;
    struct tpl *value;
};

/* A route's handler state, built at load. */
struct exec_route {
    char **argv; /* NULL-terminated, literal */
    size_t argc;
    uint64_t timeout_ms;
    unsigned max_concurrent;
    unsigned running; /* this worker's children of the route, until reaped */
    struct exec_env *env;
    size_t nenv;
    char *label; /* the route, for the log */
};

void exec_handle(struct request *r, const void *state);
void exec_destroy(void *state);
/* At worker exit: SIGKILLs the children still running and frees their state. */
void exec_shutdown(void);

/* Builds the CGI/1.1 environment for r (exec_env.c): "NAME=value" strings in
 * *storage, pointers to them in the returned NULL-terminated array (malloc'd). */
char **exec_build_env(const struct exec_route *er, const struct request *r, struct buf *storage);
/* Starts argv with stdin/stdout/stderr on pipes (our ends non-blocking and
 * close-on-exec), in a new session, signals at their defaults, no other fd
 * open. Returns the pid, or -1 with errno set. */
pid_t exec_spawn(char *const argv[], char *const envp[], int *in_fd, int *out_fd, int *err_fd);

#endif
