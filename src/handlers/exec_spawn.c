/* `exec:` — the CGI/1.1 environment of a request, and starting the program. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../config.h"
#include "../conn.h"
#include "../request.h"
#include "exec.h"

/* The environment being built: "NAME=value\0" strings at offsets into s. */
struct envb {
    const struct exec_route *er;
    struct buf *s;
    size_t *offs;
    size_t n, cap;
};

/* 1 when the route's `env:` sets name: it wins over every other source. */
static int configured(const struct exec_route *er, const char *name, size_t n)
{
    for (size_t i = 0; i < er->nenv; i++)
        if (strlen(er->env[i].name) == n && memcmp(er->env[i].name, name, n) == 0)
            return 1;
    return 0;
}

/* Starts "NAME=" unless `env:` owns the name (then returns 0: skip the value). */
static int env_start(struct envb *e, const char *name, size_t n, int from_config)
{
    if (!from_config && configured(e->er, name, n))
        return 0;
    if (e->n == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->offs = realloc(e->offs, e->cap * sizeof(*e->offs));
        if (!e->offs)
            abort();
    }
    e->offs[e->n++] = e->s->len;
    buf_append(e->s, name, n);
    buf_putc(e->s, '=');
    return 1;
}

static void env_put(struct envb *e, const char *name, const char *value, size_t vlen)
{
    if (!env_start(e, name, strlen(name), 0))
        return;
    buf_append(e->s, value, vlen);
    buf_putc(e->s, 0);
}

static void env_put_span(struct envb *e, const char *name, yh_span v)
{
    env_put(e, name, v.p ? v.p : "", v.n);
}

/* HTTP_NAME from a header name: letters up-cased, '-' as '_'. Names with any
 * other character are not passed (X_Foo must not pose as X-Foo). */
static int http_var_name(yh_span name, char *out, size_t outlen)
{
    if (name.n + 6 > outlen)
        return -1;
    memcpy(out, "HTTP_", 5);
    for (size_t i = 0; i < name.n; i++) {
        unsigned char c = (unsigned char)name.p[i];
        if (c == '-')
            out[5 + i] = '_';
        else if (isalnum(c))
            out[5 + i] = (char)toupper(c);
        else
            return -1;
    }
    out[5 + name.n] = 0;
    return 0;
}

static int same_header(yh_span a, yh_span b)
{
    return a.n == b.n && strncasecmp(a.p, b.p, a.n) == 0;
}

/* Every request header as HTTP_*, repeated ones joined with ", " under the first. */
static void env_headers(struct envb *e, const struct request *r)
{
    char name[128];
    for (size_t i = 0; i < r->nheaders; i++) {
        yh_span hn = r->headers[i].name;
        /* Content-* have their own variables; Proxy would be HTTP_PROXY (httpoxy) */
        if (span_ieq(hn, "content-length") || span_ieq(hn, "content-type") ||
            span_ieq(hn, "proxy") || http_var_name(hn, name, sizeof(name)) < 0)
            continue;
        size_t j = 0;
        while (j < i && !same_header(r->headers[j].name, hn))
            j++;
        if (j < i)
            continue; /* written with the first of its name */
        if (!env_start(e, name, strlen(name), 0))
            continue;
        for (size_t k = i; k < r->nheaders; k++) {
            if (!same_header(r->headers[k].name, hn))
                continue;
            if (k != i)
                buf_puts(e->s, ", ");
            if (r->headers[k].value.n)
                buf_append(e->s, r->headers[k].value.p, r->headers[k].value.n);
        }
        buf_putc(e->s, 0);
    }
}

/* SERVER_NAME: the Host without its port, else the address the request came to. */
static void env_server(struct envb *e, const struct request *r)
{
    yh_span h = r->host;
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int have_local = conn_sockname(r->conn, &ss, &len) == 0;
    char addr[64] = "localhost";
    int port = -1;
    if (have_local && ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
        port = ntohs(sin->sin_port);
    } else if (have_local && ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
        addr[0] = '[';
        inet_ntop(AF_INET6, &sin6->sin6_addr, addr + 1, sizeof(addr) - 2);
        strcat(addr, "]");
        port = ntohs(sin6->sin6_port);
    }
    if (h.n) {
        const char *end = h.p + h.n;
        const char *stop = h.p[0] == '[' ? memchr(h.p, ']', h.n) : memchr(h.p, ':', h.n);
        if (stop && h.p[0] == '[')
            stop++;
        env_put(e, "SERVER_NAME", h.p, (size_t)((stop ? stop : end) - h.p));
    } else {
        env_put(e, "SERVER_NAME", addr, strlen(addr));
    }
    if (port >= 0) {
        char p[16];
        int n = snprintf(p, sizeof(p), "%d", port);
        env_put(e, "SERVER_PORT", p, (size_t)n);
    }
}

char **exec_build_env(const struct exec_route *er, const struct request *r, struct buf *storage)
{
    struct envb e = {.er = er, .s = storage};
    struct tpl_ctx ctx;
    request_tpl_ctx(r, &ctx);
    for (size_t i = 0; i < er->nenv; i++) {
        env_start(&e, er->env[i].name, strlen(er->env[i].name), 1);
        tpl_render(er->env[i].value, &ctx, storage);
        buf_putc(storage, 0);
    }
    env_put(&e, "PATH", EXEC_DEFAULT_PATH, strlen(EXEC_DEFAULT_PATH));
    env_put(&e, "GATEWAY_INTERFACE", "CGI/1.1", 7);
    env_put(&e, "SERVER_PROTOCOL", r->http_minor ? "HTTP/1.1" : "HTTP/1.0", 8);
    env_put(&e, "SERVER_SOFTWARE", "yhttpd", 6);
    env_put_span(&e, "REQUEST_METHOD", r->method_name);
    env_put(&e, "SCRIPT_NAME", "", 0);
    env_put_span(&e, "PATH_INFO", r->path);
    env_put_span(&e, "QUERY_STRING", r->query);
    const struct http_header *h;
    if ((h = request_header(r, "content-length")))
        env_put_span(&e, "CONTENT_LENGTH", h->value);
    if ((h = request_header(r, "content-type")))
        env_put_span(&e, "CONTENT_TYPE", h->value);
    const char *peer = conn_peer(r->conn);
    env_put(&e, "REMOTE_ADDR", peer, strlen(peer));
    env_server(&e, r);
    env_headers(&e, r);
    for (int i = 0; r->route && i < r->match.nvars; i++) {
        char name[128];
        snprintf(name, sizeof(name), "YH_PARAM_%s", r->route->vars.names[i]);
        env_put_span(&e, name, r->match.vars[i]);
    }
    char **envp = malloc((e.n + 1) * sizeof(*envp));
    if (!envp)
        abort();
    for (size_t i = 0; i < e.n; i++)
        envp[i] = storage->data + e.offs[i];
    envp[e.n] = NULL;
    free(e.offs);
    return envp;
}

/* Keeps a pipe end off 0-2, so the dup2s into the child's stdio cannot collide. */
static int above_stdio(int fd)
{
    if (fd > 2)
        return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    return moved;
}

static int make_pipe(int p[2])
{
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    p[0] = above_stdio(p[0]);
    p[1] = above_stdio(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        if (p[0] >= 0)
            close(p[0]);
        if (p[1] >= 0)
            close(p[1]);
        p[0] = p[1] = -1;
        return -1;
    }
    return 0;
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
}

static int spawn_with(pid_t *pid, char *const argv[], char *const envp[], int in, int out, int err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dflt;
    static const int defaults[] = {SIGPIPE, SIGTERM, SIGINT,  SIGHUP,  SIGQUIT,
                                   SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP};
    int rc;
    if ((rc = posix_spawn_file_actions_init(&fa)))
        return rc;
    if ((rc = posix_spawnattr_init(&at))) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    sigemptyset(&none);
    sigemptyset(&dflt);
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        sigaddset(&dflt, defaults[i]);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
#ifdef POSIX_SPAWN_SETSID
    flags |= POSIX_SPAWN_SETSID; /* its own session and process group: one kill reaches all */
#else
    flags |= POSIX_SPAWN_SETPGROUP;
    rc = rc ? rc : posix_spawnattr_setpgroup(&at, 0);
#endif
    rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, in, 0);
    rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, out, 1);
    rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, err, 2);
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
    rc = rc ? rc : posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    rc = rc ? rc : posix_spawnattr_setsigmask(&at, &none);
    rc = rc ? rc : posix_spawnattr_setsigdefault(&at, &dflt);
    rc = rc ? rc : posix_spawnattr_setflags(&at, flags);
    rc = rc ? rc : posix_spawn(pid, argv[0], &fa, &at, argv, envp);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

pid_t exec_spawn(char *const argv[], char *const envp[], int *in_fd, int *out_fd, int *err_fd)
{
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    pid_t pid = -1;
    int rc;
    if (make_pipe(in) < 0 || make_pipe(out) < 0 || make_pipe(err) < 0) {
        rc = errno;
        goto fail;
    }
    /* glibc reports a failed exec here (it spawns with CLONE_VFORK) */
    if ((rc = spawn_with(&pid, argv, envp, in[0], out[1], err[1])))
        goto fail;
    close(in[0]);
    close(out[1]);
    close(err[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    *in_fd = in[1];
    *out_fd = out[0];
    *err_fd = err[0];
    return pid;
fail:
    close_pair(in);
    close_pair(out);
    close_pair(err);
    errno = rc;
    return -1;
}
