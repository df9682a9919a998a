/* Unit tests for src/config.c and src/config_routes.c: YAML -> validated config. */
#include <check.h>
#include <pwd.h>
#include <llhttp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "config_examples.h"
#include "handler.h"
#include "handlers/exec.h"
#include "router.h"

#define NAME   "t.yaml"
#define BIT(m) ROUTER_METHOD_BIT(m)

/* The smallest valid routes section, appended to top-level snippets. */
#define ROUTES                                                                                     \
    "routes:\n"                                                                                    \
    "  - GET /:\n"                                                                                 \
    "      text: hi\n"

/* Loads yaml as NAME; errors end up NUL-terminated in err->data (never NULL). */
static struct config *load(const char *yaml, struct buf *err)
{
    struct config *cfg = config_load_bytes(NAME, yaml, strlen(yaml), err);
    buf_putc(err, 0);
    err->len--;
    return cfg;
}

static size_t count_lines(const struct buf *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->data[i] == '\n';
    return n;
}

/* Loads yaml that must be valid; fails the test with the messages otherwise. */
static struct config *load_ok(const char *yaml)
{
    struct buf err = {0};
    struct config *cfg = load(yaml, &err);
    ck_assert_msg(cfg != NULL, "config rejected:\n%s\n--- errors:\n%s", yaml, err.data);
    ck_assert_msg(err.len == 0, "valid config left messages: %s", err.data);
    buf_free(&err);
    return cfg;
}

static const struct route *find_route(const struct config *cfg, const char *label)
{
    for (size_t i = 0; i < cfg->nroutes; i++)
        if (strcmp(cfg->routes[i].label, label) == 0)
            return &cfg->routes[i];
    return NULL;
}

/* ---- a minimal config and its defaults ---- */

START_TEST(test_minimal_defaults)
{
    struct config *cfg = load_ok(ROUTES);
    ck_assert_int_eq(cfg->refs, 1);
    ck_assert_str_eq(cfg->path, NAME);

    ck_assert_uint_eq(cfg->nlistens, 1);
    ck_assert_str_eq(cfg->listens[0].text, "127.0.0.1:8080");
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg->listens[0].addr;
    ck_assert_int_eq(sin->sin_family, AF_INET);
    ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
    ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001);
    ck_assert_uint_eq(cfg->listens[0].addrlen, sizeof(struct sockaddr_in));

    ck_assert_int_eq(cfg->workers, -1); /* auto */
    ck_assert_ptr_null(cfg->user);
    ck_assert_ptr_null(cfg->group);
    ck_assert_ptr_null(cfg->pid_file);
    ck_assert_str_eq(cfg->server_header, "yhttpd");

    ck_assert_uint_eq(cfg->limits.header_size, 8192);
    ck_assert_uint_eq(cfg->limits.body_size, 1024 * 1024);
    ck_assert_uint_eq(cfg->limits.connections, 10000);
    ck_assert_uint_eq(cfg->limits.keepalive_requests, 10000);

    ck_assert_uint_eq(cfg->timeouts.header, 10000);
    ck_assert_uint_eq(cfg->timeouts.body, 30000);
    ck_assert_uint_eq(cfg->timeouts.keepalive, 60000);
    ck_assert_uint_eq(cfg->timeouts.write, 30000);
    ck_assert_uint_eq(cfg->timeouts.shutdown, 30000);

    ck_assert_str_eq(cfg->access_log.path, "-");
    ck_assert_int_eq(cfg->access_log.format, LOG_COMBINED);
    ck_assert_str_eq(cfg->error_log.path, "-");
    ck_assert_int_eq(cfg->error_log.level, LOG_INFO);

    ck_assert_uint_eq(cfg->nroutes, 1);
    ck_assert_ptr_nonnull(cfg->router);
    const struct route *r = &cfg->routes[0];
    ck_assert_str_eq(r->label, "GET /");
    ck_assert_str_eq(r->pattern, "/");
    ck_assert_uint_eq(r->methods, BIT(HTTP_GET));
    ck_assert_int_eq(r->line, 2);
    ck_assert_int_eq(r->col, 5);
    ck_assert_ptr_nonnull(r->kind);
    ck_assert_str_eq(r->kind->name, "text");
    ck_assert_uint_eq(r->body_size, 1024 * 1024);
    ck_assert_uint_eq(r->nheaders, 0);
    config_unref(cfg);
}
END_TEST

START_TEST(test_ref_unref)
{
    struct config *cfg = load_ok(ROUTES);
    ck_assert_ptr_eq(config_ref(cfg), cfg);
    ck_assert_int_eq(cfg->refs, 2);
    config_unref(cfg);
    ck_assert_int_eq(cfg->refs, 1);
    config_unref(cfg);
    config_unref(NULL); /* harmless */
}
END_TEST

/* ---- every top-level key ---- */

static const char full_config[] = "listen:\n"
                                  "  - 127.0.0.1:8081\n"
                                  "  - \"[::1]:8082\"\n"
                                  "  - \":9000\"\n"
                                  "  - unix:/tmp/yhttpd-test.sock\n"
                                  "workers: 0\n"
                                  "user: www-data\n"
                                  "group: www-data\n"
                                  "pid_file: /run/yhttpd.pid\n"
                                  "server_header: \"false\"\n"
                                  "limits:\n"
                                  "  header_size: 16k\n"
                                  "  body_size: 1m\n"
                                  "  connections: 500\n"
                                  "  keepalive_requests: 100\n"
                                  "timeouts:\n"
                                  "  header: 250ms\n"
                                  "  body: 5m\n"
                                  "  keepalive: 1h\n"
                                  "  write: 10s\n"
                                  "  shutdown: 2\n"
                                  "access_log: {path: /var/log/yhttpd/access.log, format: json}\n"
                                  "error_log: {path: /var/log/yhttpd/error.log, level: debug}\n"
                                  "routes:\n"
                                  "  - GET /:\n"                                   /* 25 */
                                  "      text: \"Hello\\n\"\n"                     /* 26 */
                                  "  - GET,POST /users/{id}:\n"                    /* 27 */
                                  "      json: {id: \"{id}\", ok: true}\n"         /* 28 */
                                  "      headers: {X-Id: \"{id}\", X-Static: b}\n" /* 29 */
                                  "      body_size: 8KiB\n"                        /* 30 */
                                  "  - \"* /any\":\n"                              /* 31 */
                                  "      echo: json\n"                             /* 32 */
                                  "  - PUT /r:\n"                                  /* 33 */
                                  "      redirect: {to: /new, status: 301}\n"      /* 34 */
                                  "  - GET /a:\n"                                  /* 35 */
                                  "      text: {body: a, status: 201, content_type: text/html}\n"
                                  "  - POST /a:\n" /* 37: same pattern, other method */
                                  "      echo: body\n"
                                  "  - HEAD /:\n" /* 39: explicit HEAD next to GET / */
                                  "      text: head\n";

START_TEST(test_full_config_settings)
{
    struct config *cfg = load_ok(full_config);

    ck_assert_uint_eq(cfg->nlistens, 4);
    ck_assert_str_eq(cfg->listens[0].text, "127.0.0.1:8081");
    ck_assert_str_eq(cfg->listens[1].text, "[::1]:8082");
    ck_assert_str_eq(cfg->listens[2].text, ":9000");
    ck_assert_str_eq(cfg->listens[3].text, "unix:/tmp/yhttpd-test.sock");

    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&cfg->listens[0].addr;
    ck_assert_int_eq(v4->sin_family, AF_INET);
    ck_assert_uint_eq(ntohs(v4->sin_port), 8081);

    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&cfg->listens[1].addr;
    ck_assert_int_eq(v6->sin6_family, AF_INET6);
    ck_assert_uint_eq(ntohs(v6->sin6_port), 8082);
    ck_assert(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
    ck_assert_uint_eq(cfg->listens[1].addrlen, sizeof(struct sockaddr_in6));

    const struct sockaddr_in *any = (const struct sockaddr_in *)&cfg->listens[2].addr;
    ck_assert_uint_eq(ntohs(any->sin_port), 9000);

    const struct sockaddr_un *un = (const struct sockaddr_un *)&cfg->listens[3].addr;
    ck_assert_int_eq(un->sun_family, AF_UNIX);
    ck_assert_str_eq(un->sun_path, "/tmp/yhttpd-test.sock");

    ck_assert_int_eq(cfg->workers, 0);
    ck_assert_str_eq(cfg->user, "www-data");
    ck_assert_str_eq(cfg->group, "www-data");
    ck_assert_str_eq(cfg->pid_file, "/run/yhttpd.pid");
    /* quoted "false" is a string, not the boolean */
    ck_assert_str_eq(cfg->server_header, "false");

    ck_assert_uint_eq(cfg->limits.header_size, 16384);
    ck_assert_uint_eq(cfg->limits.body_size, 1048576);
    ck_assert_uint_eq(cfg->limits.connections, 500);
    ck_assert_uint_eq(cfg->limits.keepalive_requests, 100);

    ck_assert_uint_eq(cfg->timeouts.header, 250);
    ck_assert_uint_eq(cfg->timeouts.body, 5 * 60 * 1000);
    ck_assert_uint_eq(cfg->timeouts.keepalive, 60 * 60 * 1000);
    ck_assert_uint_eq(cfg->timeouts.write, 10000);
    ck_assert_uint_eq(cfg->timeouts.shutdown, 2000);

    ck_assert_str_eq(cfg->access_log.path, "/var/log/yhttpd/access.log");
    ck_assert_int_eq(cfg->access_log.format, LOG_JSON);
    ck_assert_str_eq(cfg->error_log.path, "/var/log/yhttpd/error.log");
    ck_assert_int_eq(cfg->error_log.level, LOG_DEBUG);
    config_unref(cfg);
}
END_TEST

START_TEST(test_full_config_routes)
{
    struct config *cfg = load_ok(full_config);
    ck_assert_uint_eq(cfg->nroutes, 7);

    static const struct {
        const char *label, *pattern, *handler;
        int line;
    } want[] = {
        {"GET /", "/", "text", 25},     {"GET,POST /users/{id}", "/users/{id}", "json", 27},
        {"* /any", "/any", "echo", 31}, {"PUT /r", "/r", "redirect", 33},
        {"GET /a", "/a", "text", 35},   {"POST /a", "/a", "echo", 37},
        {"HEAD /", "/", "text", 39},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct route *r = &cfg->routes[i];
        ck_assert_str_eq(r->label, want[i].label);
        ck_assert_str_eq(r->pattern, want[i].pattern);
        ck_assert_ptr_nonnull(r->kind);
        ck_assert_str_eq(r->kind->name, want[i].handler);
        ck_assert_int_eq(r->line, want[i].line);
        ck_assert_int_eq(r->col, 5);
    }

    ck_assert_uint_eq(cfg->routes[0].methods, BIT(HTTP_GET));
    ck_assert_uint_eq(cfg->routes[1].methods, BIT(HTTP_GET) | BIT(HTTP_POST));
    ck_assert_uint_eq(cfg->routes[2].methods, ROUTER_ANY_METHOD);
    ck_assert_uint_eq(cfg->routes[3].methods, BIT(HTTP_PUT));
    ck_assert_uint_eq(cfg->routes[5].methods, BIT(HTTP_POST));
    ck_assert_uint_eq(cfg->routes[6].methods, BIT(HTTP_HEAD));

    /* the body_size override, and the limits.body_size default elsewhere */
    ck_assert_uint_eq(cfg->routes[1].body_size, 8192);
    ck_assert_uint_eq(cfg->routes[0].body_size, 1048576);

    ck_assert_uint_eq(cfg->routes[1].nheaders, 2);
    ck_assert_str_eq(cfg->routes[1].headers[0].name, "X-Id");
    ck_assert_ptr_nonnull(cfg->routes[1].headers[0].value);
    ck_assert_int_eq(tpl_is_constant(cfg->routes[1].headers[0].value), 0);
    ck_assert_str_eq(cfg->routes[1].headers[1].name, "X-Static");
    ck_assert_int_eq(tpl_is_constant(cfg->routes[1].headers[1].value), 1);
    ck_assert_uint_eq(cfg->routes[0].nheaders, 0);

    ck_assert_int_eq(cfg->routes[1].vars.n, 1);
    ck_assert_str_eq(cfg->routes[1].vars.names[0], "id");
    config_unref(cfg);
}
END_TEST

/* The router built at load answers for the routes of the file. */
START_TEST(test_full_config_router)
{
    struct config *cfg = load_ok(full_config);
    struct router_match m;
    ck_assert_int_eq(router_match(cfg->router, "/users/7", 8, HTTP_POST, &m), ROUTER_FOUND);
    ck_assert_ptr_eq(m.data, &cfg->routes[1]);
    ck_assert_int_eq(router_match(cfg->router, "/a", 2, HTTP_POST, &m), ROUTER_FOUND);
    ck_assert_ptr_eq(m.data, &cfg->routes[5]);
    ck_assert_int_eq(router_match(cfg->router, "/a", 2, HTTP_GET, &m), ROUTER_FOUND);
    ck_assert_ptr_eq(m.data, &cfg->routes[4]);
    ck_assert_int_eq(router_match(cfg->router, "/", 1, HTTP_HEAD, &m), ROUTER_FOUND);
    ck_assert_ptr_eq(m.data, &cfg->routes[6]);
    ck_assert_int_eq(router_match(cfg->router, "/any", 4, HTTP_DELETE, &m), ROUTER_FOUND);
    ck_assert_int_eq(router_match(cfg->router, "/r", 2, HTTP_GET, &m), ROUTER_METHOD_NOT_ALLOWED);
    ck_assert_int_eq(router_match(cfg->router, "/nope", 5, HTTP_GET, &m), ROUTER_NOT_FOUND);
    config_unref(cfg);
}
END_TEST

/* limits: is applied before routes: whatever the order in the file. */
START_TEST(test_route_body_size_follows_limits)
{
    struct config *cfg = load_ok(ROUTES "limits:\n"
                                        "  body_size: 2m\n");
    ck_assert_uint_eq(cfg->limits.body_size, 2 * 1048576);
    ck_assert_uint_eq(cfg->routes[0].body_size, 2 * 1048576);
    config_unref(cfg);
}
END_TEST

START_TEST(test_listen_string)
{
    struct config *cfg = load_ok("listen: \"[::1]:8443\"\n" ROUTES);
    ck_assert_uint_eq(cfg->nlistens, 1);
    ck_assert_str_eq(cfg->listens[0].text, "[::1]:8443");
    ck_assert_int_eq(cfg->listens[0].addr.ss_family, AF_INET6);
    config_unref(cfg);

    cfg = load_ok("listen: unix:/run/yhttpd.sock\n" ROUTES);
    ck_assert_uint_eq(cfg->nlistens, 1);
    ck_assert_int_eq(cfg->listens[0].addr.ss_family, AF_UNIX);
    ck_assert_str_eq(((const struct sockaddr_un *)&cfg->listens[0].addr)->sun_path,
                     "/run/yhttpd.sock");
    config_unref(cfg);

    cfg = load_ok("listen: 0.0.0.0:80\n" ROUTES);
    ck_assert_uint_eq(cfg->nlistens, 1);
    ck_assert_str_eq(cfg->listens[0].text, "0.0.0.0:80");
    ck_assert_uint_eq(ntohs(((const struct sockaddr_in *)&cfg->listens[0].addr)->sin_port), 80);
    config_unref(cfg);
}
END_TEST

START_TEST(test_server_header)
{
    struct config *cfg = load_ok("server_header: false\n" ROUTES);
    ck_assert_ptr_null(cfg->server_header);
    config_unref(cfg);

    cfg = load_ok("server_header: my-server/1.0\n" ROUTES);
    ck_assert_str_eq(cfg->server_header, "my-server/1.0");
    config_unref(cfg);
}
END_TEST

START_TEST(test_io_uring_modes)
{
    static const struct {
        const char *yaml;
        int want;
    } cases[] = {
        {"", 1}, {"io_uring: auto\n", 1}, {"io_uring: off\n", 0}, {"io_uring: false\n", 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[512];
        snprintf(yaml, sizeof(yaml), "%s%s", cases[i].yaml, ROUTES);
        struct config *cfg = load_ok(yaml);
        ck_assert_msg(cfg->io_uring == cases[i].want, "%s", cases[i].yaml);
        config_unref(cfg);
    }
}
END_TEST

START_TEST(test_limit_sizes)
{
    struct config *cfg = load_ok("limits:\n"
                                 "  header_size: 8KiB\n"
                                 "  body_size: 8k\n" ROUTES);
    ck_assert_uint_eq(cfg->limits.header_size, 8192);
    ck_assert_uint_eq(cfg->limits.body_size, 8192);
    config_unref(cfg);

    cfg = load_ok("limits: {header_size: 512, body_size: 1MiB}\n" ROUTES);
    ck_assert_uint_eq(cfg->limits.header_size, 512);
    ck_assert_uint_eq(cfg->limits.body_size, 1048576);
    config_unref(cfg);
}
END_TEST

START_TEST(test_timeouts_partial)
{
    /* keys not written keep their defaults */
    struct config *cfg = load_ok("timeouts: {keepalive: 5s}\n" ROUTES);
    ck_assert_uint_eq(cfg->timeouts.keepalive, 5000);
    ck_assert_uint_eq(cfg->timeouts.header, 10000);
    ck_assert_uint_eq(cfg->timeouts.body, 30000);
    ck_assert_uint_eq(cfg->timeouts.write, 30000);
    ck_assert_uint_eq(cfg->timeouts.shutdown, 30000);
    config_unref(cfg);
}
END_TEST

START_TEST(test_access_log_forms)
{
    struct config *cfg = load_ok("access_log: off\n" ROUTES);
    ck_assert_ptr_null(cfg->access_log.path);
    config_unref(cfg);

    cfg = load_ok("access_log: stdout\n" ROUTES);
    ck_assert_str_eq(cfg->access_log.path, "-");
    ck_assert_int_eq(cfg->access_log.format, LOG_COMBINED);
    config_unref(cfg);

    cfg = load_ok("access_log: /var/log/a.log\n" ROUTES);
    ck_assert_str_eq(cfg->access_log.path, "/var/log/a.log");
    ck_assert_int_eq(cfg->access_log.format, LOG_COMBINED);
    config_unref(cfg);

    cfg = load_ok("access_log:\n"
                  "  path: /var/log/a.log\n"
                  "  format: json\n" ROUTES);
    ck_assert_str_eq(cfg->access_log.path, "/var/log/a.log");
    ck_assert_int_eq(cfg->access_log.format, LOG_JSON);
    config_unref(cfg);

    cfg = load_ok("access_log: {format: common}\n" ROUTES);
    ck_assert_str_eq(cfg->access_log.path, "-");
    ck_assert_int_eq(cfg->access_log.format, LOG_COMMON);
    config_unref(cfg);

    cfg = load_ok("access_log: {path: off}\n" ROUTES);
    ck_assert_ptr_null(cfg->access_log.path);
    config_unref(cfg);
}
END_TEST

START_TEST(test_error_log_forms)
{
    struct config *cfg = load_ok("error_log: stderr\n" ROUTES);
    ck_assert_str_eq(cfg->error_log.path, "-");
    ck_assert_int_eq(cfg->error_log.level, LOG_INFO);
    config_unref(cfg);

    cfg = load_ok("error_log: /var/log/e.log\n" ROUTES);
    ck_assert_str_eq(cfg->error_log.path, "/var/log/e.log");
    config_unref(cfg);

    cfg = load_ok("error_log:\n"
                  "  path: /var/log/e.log\n"
                  "  level: debug\n" ROUTES);
    ck_assert_str_eq(cfg->error_log.path, "/var/log/e.log");
    ck_assert_int_eq(cfg->error_log.level, LOG_DEBUG);
    config_unref(cfg);

    cfg = load_ok("error_log: {level: warn}\n" ROUTES);
    ck_assert_str_eq(cfg->error_log.path, "-");
    ck_assert_int_eq(cfg->error_log.level, LOG_WARN);
    config_unref(cfg);

    cfg = load_ok("error_log: {level: error}\n" ROUTES);
    ck_assert_int_eq(cfg->error_log.level, LOG_ERROR);
    config_unref(cfg);
}
END_TEST

START_TEST(test_same_pattern_other_methods)
{
    struct config *cfg = load_ok("routes:\n"
                                 "  - GET /a:\n"
                                 "      text: a\n"
                                 "  - POST /a:\n"
                                 "      text: b\n");
    ck_assert_uint_eq(cfg->nroutes, 2);
    ck_assert_uint_eq(cfg->routes[0].methods, BIT(HTTP_GET));
    ck_assert_uint_eq(cfg->routes[1].methods, BIT(HTTP_POST));
    config_unref(cfg);
}
END_TEST

START_TEST(test_explicit_head_next_to_get)
{
    struct config *cfg = load_ok("routes:\n"
                                 "  - GET /a:\n"
                                 "      text: a\n"
                                 "  - HEAD /a:\n"
                                 "      text: b\n");
    ck_assert_uint_eq(cfg->nroutes, 2);
    ck_assert_uint_eq(cfg->routes[1].methods, BIT(HTTP_HEAD));
    config_unref(cfg);
}
END_TEST

START_TEST(test_method_list)
{
    struct config *cfg = load_ok("routes:\n"
                                 "  - GET,POST,DELETE,PROPFIND /x:\n"
                                 "      echo: json\n");
    const struct route *r = find_route(cfg, "GET,POST,DELETE,PROPFIND /x");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->methods,
                      BIT(HTTP_GET) | BIT(HTTP_POST) | BIT(HTTP_DELETE) | BIT(HTTP_PROPFIND));
    config_unref(cfg);
}
END_TEST

/* ---- config_print_routes ---- */

START_TEST(test_print_routes)
{
    struct config *cfg = load_ok(full_config);
    struct buf out = {0};
    config_print_routes(cfg, &out);
    buf_putc(&out, 0);
    ck_assert_ptr_nonnull(strstr(out.data, "GET,POST /users/{id}"));
    ck_assert_ptr_nonnull(strstr(out.data, "json"));
    ck_assert_ptr_nonnull(strstr(out.data, "redirect"));
    ck_assert_ptr_nonnull(strstr(out.data, NAME ":27"));
    ck_assert_ptr_nonnull(strstr(out.data, NAME ":39"));
    /* one header line, then one line per route, each naming label, handler and source */
    ck_assert_uint_eq(count_lines(&out), 1 + cfg->nroutes);
    const char *line = strstr(out.data, "PUT /r");
    ck_assert_ptr_nonnull(line);
    const char *eol = strchr(line, '\n');
    ck_assert_ptr_nonnull(eol);
    char one[256];
    snprintf(one, sizeof(one), "%.*s", (int)(eol - line), line);
    ck_assert_ptr_nonnull(strstr(one, "redirect"));
    ck_assert_ptr_nonnull(strstr(one, NAME ":33"));
    buf_free(&out);
    config_unref(cfg);
}
END_TEST

/* ---- config_load_file ---- */

START_TEST(test_load_file_missing)
{
    const char *path = "/nonexistent-yhttpd-dir/yhttpd.yaml";
    struct buf err = {0};
    struct config *cfg = config_load_file(path, &err);
    ck_assert_ptr_null(cfg);
    buf_putc(&err, 0);
    ck_assert_str_eq(err.data, "/nonexistent-yhttpd-dir/yhttpd.yaml: No such file or directory\n");
    buf_free(&err);
}
END_TEST

START_TEST(test_load_file_ok_and_error)
{
    char path[] = "/tmp/yhttpd-test-config-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char good[] = "# comment\n" ROUTES;
    ck_assert_int_eq(write(fd, good, sizeof(good) - 1), (ssize_t)(sizeof(good) - 1));
    close(fd);

    struct buf err = {0};
    struct config *cfg = config_load_file(path, &err);
    ck_assert_ptr_nonnull(cfg);
    ck_assert_uint_eq(err.len, 0);
    ck_assert_str_eq(cfg->path, path);
    struct buf out = {0};
    config_print_routes(cfg, &out);
    buf_putc(&out, 0);
    char want[128];
    snprintf(want, sizeof(want), "%s:3", path);
    ck_assert_ptr_nonnull(strstr(out.data, want));
    buf_free(&out);
    config_unref(cfg);

    /* errors are named after the file */
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("listn: x\n" ROUTES, f);
    fclose(f);
    cfg = config_load_file(path, &err);
    ck_assert_ptr_null(cfg);
    buf_putc(&err, 0);
    snprintf(want, sizeof(want), "%s:1:1: unknown key `listn`; did you mean `listen`?\n", path);
    ck_assert_str_eq(err.data, want);
    buf_free(&err);
    unlink(path);
}
END_TEST

/* `examples:` in full: every key lands in its field, with its position. */
START_TEST(test_examples_forms)
{
    struct config *cfg = load_ok("routes:\n"
                                 "  - POST /hello/{name}:\n"
                                 "      text: \"Hello, {name}\\n\"\n"
                                 "      examples:\n"
                                 "        - request: \"POST /hello/bob?x=1\"\n"
                                 "          status: 201\n"
                                 "          body: \"Hello, bob\\n\"\n"
                                 "          headers: {Content-Type: text/plain}\n"
                                 "          contains: [Hello, bob]\n"
                                 "          request_headers: {X-A: b}\n"
                                 "          request_body: data\n"
                                 "        - request: GET /\n"
                                 "          contains: one\n");
    const struct route *r = &cfg->routes[0];
    ck_assert_uint_eq(r->nexamples, 2);
    const struct route_example *ex = &r->examples[0];
    ck_assert_int_eq(ex->at.line, 5);
    ck_assert_int_eq(ex->at.col, 11);
    ck_assert_int_eq(ex->method, HTTP_POST);
    ck_assert_str_eq(ex->request, "POST /hello/bob?x=1");
    ck_assert_str_eq(ex->target, "/hello/bob?x=1");
    ck_assert_int_eq(ex->status, 201);
    ck_assert_int_eq(ex->status_at.line, 6);
    ck_assert_str_eq(ex->body, "Hello, bob\n");
    ck_assert_uint_eq(ex->body_len, 11);
    ck_assert_uint_eq(ex->nheaders, 1);
    ck_assert_str_eq(ex->headers[0].name, "Content-Type");
    ck_assert_str_eq(ex->headers[0].value, "text/plain");
    ck_assert_uint_eq(ex->ncontains, 2);
    ck_assert_str_eq(ex->contains[1].value, "bob");
    ck_assert_uint_eq(ex->nrequest_headers, 1);
    ck_assert_str_eq(ex->request_body, "data");
    ex = &r->examples[1];
    ck_assert_int_eq(ex->status, 200); /* the default */
    ck_assert_ptr_null(ex->body);
    ck_assert_uint_eq(ex->ncontains, 1);
    ck_assert_str_eq(ex->contains[0].value, "one");
    config_unref(cfg);
}
END_TEST

/* ---- error paths: each input gives exactly one message at LINE:COL ---- */

struct err_case {
    const char *yaml;
    const char *where; /* "LINE:COL" */
    const char *msg;   /* a substring of the message */
};

#define R1 "routes:\n  - "

static const struct err_case err_cases[] = {
    /* YAML itself */
    {"key: [a\n", "2:1", "YAML syntax error"},
    {"- a\n- b\n", "1:1", "the configuration must be a mapping, found a list"},
    {"just text\n", "1:1", "the configuration must be a mapping, found a scalar"},
    {"", "1:1", "the file is empty"},
    {"# only a comment\n", "1:1", "the file is empty"},
    /* top-level keys */
    {"listn: 127.0.0.1:80\n" ROUTES, "1:1", "unknown key `listn`; did you mean `listen`?"},
    {"timeout: {}\n" ROUTES, "1:1", "unknown key `timeout`; did you mean `timeouts`?"},
    {"workers: 0\nworkers: 0\n" ROUTES, "2:1", "duplicate key `workers`"},
    /* listen */
    {"listen: localhost\n" ROUTES, "1:9", "bad listen address `localhost`"},
    {"listen: \"1.2.3.4:99999\"\n" ROUTES, "1:9", "bad listen address `1.2.3.4:99999`"},
    {"listen: \"1.2.3.4:\"\n" ROUTES, "1:9", "bad listen address"},
    {"listen: \"[::1]8080\"\n" ROUTES, "1:9", "bad listen address `[::1]8080`"},
    {"listen: \"::1:8080\"\n" ROUTES, "1:9", "bad listen address"},
    {"listen: unix:relative.sock\n" ROUTES, "1:9", "unix socket path must be absolute"},
    {"listen: [\"127.0.0.1:1\", \"nope\"]\n" ROUTES, "1:25", "bad listen address `nope`"},
    {"listen: []\n" ROUTES, "1:9", "listen: the list is empty"},
    {"listen: {a: 1}\n" ROUTES, "1:9", "listen: expected an address string, found a mapping"},
    /* workers */
    {"workers: 2000\n" ROUTES, "1:10",
     "workers: expected 0 (one process), a count up to 1024, or auto"},
    {"workers: \"auto\"\n" ROUTES, "1:10", "workers: expected 0"},
    {"workers: -1\n" ROUTES, "1:10", "workers: expected 0"},
    {"workers: many\n" ROUTES, "1:10", "workers: expected 0"},
    /* io_uring */
    {"io_uring: on\n" ROUTES, "1:11", "io_uring: expected auto or off"},
    {"io_uring: \"off\"\n" ROUTES, "1:11", "io_uring: expected auto or off"},
    {"io_uring: true\n" ROUTES, "1:11", "io_uring: expected auto or off"},
    {"io_uring: [auto]\n" ROUTES, "1:11", "io_uring: expected auto or off"},
    {"io_urin: off\n" ROUTES, "1:1", "did you mean `io_uring`?"},
    /* server_header, strings */
    {"server_header: [a]\n" ROUTES, "1:16", "expected a string, found a list"},
    {"user: ~\n" ROUTES, "1:7", "expected a string, found null"},
    /* limits */
    {"limits:\n  body_size: 1x\n" ROUTES, "2:14", "expected a size like 512, 8k, 8KiB"},
    {"limits:\n  header_size: 8 KiB\n" ROUTES, "2:16", "found `8 KiB`"},
    {"limits:\n  header_size: 100\n" ROUTES, "2:16",
     "limits.header_size: must be from 256 to 1MiB"},
    {"limits:\n  body_sise: 1k\n" ROUTES, "2:3",
     "unknown key `body_sise`; did you mean `body_size`?"},
    {"limits:\n  connections: 0\n" ROUTES, "2:16", "expected a number from 1 to"},
    {"limits: 5\n" ROUTES, "1:9", "limits: expected a mapping, found a scalar"},
    /* timeouts */
    {"timeouts:\n  body: 5y\n" ROUTES, "2:9", "expected a duration like 250ms, 10s, 5m or 1h"},
    {"timeouts:\n  write: 1.5s\n" ROUTES, "2:10", "found `1.5s`"},
    {"timeouts:\n  header: 0s\n" ROUTES, "2:11", "timeouts.header: must be more than 0"},
    {"timeouts: {keepalive: 0}\n" ROUTES, "1:23", "timeouts.keepalive: must be more than 0"},
    {"timeouts: {keepalive: 0ms}\n" ROUTES, "1:23", "timeouts.keepalive: must be more than 0"},
    {"timeouts: {idle: 5s}\n" ROUTES, "1:12", "unknown key `idle`"},
    /* logs */
    {"access_log: {format: xml}\n" ROUTES, "1:22",
     "access_log.format: expected one of combined, common, json, found `xml`"},
    {"error_log: {level: loud}\n" ROUTES, "1:20",
     "error_log.level: expected one of debug, info, warn, error, found `loud`"},
    {"error_log: logs/e.log\n" ROUTES, "1:12", "expected \"stderr\" or an absolute path"},
    {"access_log: logs/a.log\n" ROUTES, "1:13", "expected \"stdout\", \"off\" or an absolute path"},
    {"access_log: {path: a.log}\n" ROUTES, "1:20", "an absolute path"},
    {"error_log: off\n" ROUTES, "1:12", "expected \"stderr\" or an absolute path"},
    {"error_log: {path: /e.log, levl: debug}\n" ROUTES, "1:27",
     "unknown key `levl`; did you mean `level`?"},
    /* routes: the list */
    {"listen: 127.0.0.1:80\n", "1:1", "missing `routes:`"},
    {"routes: []\n", "1:9", "routes: the list is empty"},
    {"routes:\n", "1:8", "routes: expected a list of routes, found a scalar"},
    {"routes: {GET /: {text: a}}\n", "1:9", "routes: expected a list of routes, found a mapping"},
    {"routes: /\n", "1:9", "routes: expected a list of routes, found a scalar"},
    /* one route item */
    {R1 "GET /: {text: a}\n    GET /b: {text: b}\n", "2:5", "each route is a one-key mapping"},
    {R1 "just a string\n", "2:5", "each route is a one-key mapping"},
    {R1 "[GET /]\n", "2:5", "each route is a one-key mapping"},
    {R1 "GET /:\n", "2:11", "route `GET /` needs a mapping with its handler"},
    {R1 "GET /: hello\n", "2:12", "needs a mapping with its handler"},
    /* the route key */
    {R1 "GET: {text: a}\n", "2:5", "a route key must be \"METHODS /pattern\""},
    {R1 "/hello: {text: a}\n", "2:5", "a route key must be \"METHODS /pattern\""},
    {R1 "GET hello: {text: a}\n", "2:5", "route pattern must start with `/`, found `hello`"},
    {R1 "get /: {text: a}\n", "2:5", "unknown method `get`"},
    {R1 "FETCH /: {text: a}\n", "2:5", "unknown method `FETCH`"},
    {R1 "GET,,POST /: {text: a}\n", "2:5", "empty method in `GET,,POST /`"},
    {R1 "GET, /: {text: a}\n", "2:5", "empty method"},
    /* a plain scalar cannot start with `,`: quoted */
    {R1 "\",GET /\": {text: a}\n", "2:5", "empty method"},
    {R1 "GET,pOST /: {text: a}\n", "2:5", "did you mean `POST`?"},
    /* handlers */
    {R1 "GET /: {headers: {X-A: b}}\n", "2:5", "route `GET /` has no handler"},
    {R1 "GET /: {}\n", "2:5", "has no handler"},
    {R1 "GET /: {text: a, json: b}\n", "2:22",
     "a route takes exactly one handler; found `json` after `text`"},
    {R1 "GET /: {txt: a}\n", "2:13", "unknown key `txt`; did you mean `text`?"},
    {R1 "GET /: {redirekt: /x}\n", "2:13", "did you mean `redirect`?"},
    {R1 "GET /: {text: a, header: {X-A: b}}\n", "2:22", "did you mean `headers`?"},
    /* proxy and gather */
    {R1 "GET /: {proxy: ftp://127.0.0.1/}\n", "2:20", "an upstream URL starts with http://"},
    {R1 "GET /: {proxy: https://127.0.0.1/}\n", "2:20", "https upstreams are not supported"},
    {R1 "GET /: {proxy: \"http://127.0.0.1:99999/\"}\n", "2:28",
     "expected http://HOST[:PORT][/PATH]"},
    {R1 "GET /: {proxy: \"http://no-such-host.invalid/\"}\n", "2:28", "cannot resolve"},
    {R1 "GET /{id}: {proxy: \"http://127.0.0.1:9/x/{idd}\"}\n", "2:46", "unknown variable"},
    {R1 "GET /: {proxy: {to: [], read: 1s}}\n", "2:29", "unknown key `read`"},
    {R1 "GET /: {proxy: {to: []}}\n", "2:25", "at least one upstream URL"},
    {R1 "GET /: {proxy: {timeout: {read: 1s}}}\n", "2:20", "needs `to:`"},
    {R1 "GET /: {proxy: {to: \"http://127.0.0.1:9/\", timeout: {raed: 1s}}}\n", "2:58",
     "unknown key `raed`"},
    {R1 "GET /: {proxy: {to: \"http://127.0.0.1:9/\", headers: {Content-Length: 3}}}\n", "2:58",
     "`Content-Length` is managed by the proxy"},
    {R1 "GET /: {gather: {parts: {}}}\n", "2:29", "at least one part"},
    {R1 "GET /: {gather: \"http://127.0.0.1:9/\"}\n", "2:21", "gather: expected {parts:"},
    {R1 "GET /: {gather: {parts: {a: \"http://127.0.0.1:9/\", a: \"http://127.0.0.1:9/\"}}}\n",
     "2:56", "duplicate key `a`"},
    {R1 "GET /: {gather: {parts: {a: \"http://127.0.0.1:9/\"}, timeout: soon}}\n", "2:66", "soon"},
    {R1 "GET /: {metrics: {a: 1}}\n", "2:22", "metrics: takes no options; write `metrics: {}`"},
    {R1 "GET /: {metrics: []}\n", "2:22", "metrics: takes no options"},
    {R1 "GET /:\n      metrics:\n", "3:15", "metrics: takes no options"},
    {R1 "GET /: {metrics: on}\n", "2:22", "metrics: takes no options"},
    {R1 "GET /: {text: a, limit: 0}\n", "2:29", "expected a number from 1 to 1000000, found `0`"},
    {R1 "GET /: {text: a, limit: many}\n", "2:29", "expected a number from 1 to 1000000"},
    {R1 "GET /: {text: a, limt: 3}\n", "2:22", "did you mean `limit`?"},
    /* text */
    {R1 "GET /:\n      text: {bdy: x}\n", "3:14", "unknown key `bdy`; did you mean `body`?"},
    {R1 "GET /:\n      text: {body: x, status: 99}\n", "3:31",
     "expected a number from 200 to 599, found `99`"},
    {R1 "GET /:\n      text: {body: x, status: 600}\n", "3:31",
     "expected a number from 200 to 599, found `600`"},
    {R1 "GET /:\n      text: {status: 201}\n", "3:13", "text: the long form needs `body:`"},
    {R1 "GET /:\n      text: [a]\n", "3:13", "expected a string, found a list"},
    /* redirect */
    {R1 "GET /:\n      redirect: {to: /x, status: 305}\n", "3:34",
     "redirect: status must be 301, 302, 303, 307 or 308"},
    {R1 "GET /:\n      redirect: {to: /x, status: 200}\n", "3:34",
     "expected a number from 300 to 399"},
    {R1 "GET /:\n      redirect: {status: 301}\n", "3:17", "redirect: the long form needs `to:`"},
    /* echo */
    {R1 "GET /:\n      echo: xml\n", "3:13", "echo: expected `json` or `body`"},
    {R1 "GET /:\n      echo: {mode: json}\n", "3:13", "echo: expected `json` or `body`"},
    /* exec */
    {R1 "GET /:\n      exec: {timeout: 1s}\n", "3:13", "exec: the long form needs `argv:`"},
    {R1 "GET /:\n      exec: []\n", "3:13", "exec: argv is empty"},
    {R1 "GET /:\n      exec: /bin/true\n", "3:13", "exec: expected a list [/path/cmd, arg...]"},
    {R1 "GET /:\n      exec: [bin/true]\n", "3:14", "exec: `bin/true` must be an absolute path"},
    {R1 "GET /:\n      exec: [/etc/passwd]\n", "3:14", "exec: `/etc/passwd` is not executable"},
    {R1 "GET /:\n      exec: [/nonexistent/cmd]\n", "3:14",
     "exec: cannot use `/nonexistent/cmd`: No such file or directory"},
    {R1 "GET /:\n      exec: [/]\n", "3:14", "exec: `/` is not a regular file"},
    {R1 "GET /:\n      exec: [/bin/true, {a: b}]\n", "3:25",
     "exec: argv items must be strings, found a mapping"},
    {R1 "GET /:\n      exec: {argv: /bin/true}\n", "3:20", "exec: argv must be a list"},
    {R1 "GET /:\n      exec: {argv: [/bin/true], timeout: 5y}\n", "3:42",
     "expected a duration like 250ms, 10s, 5m or 1h, found `5y`"},
    {R1 "GET /:\n      exec: {argv: [/bin/true], timeout: 0s}\n", "3:42",
     "exec: timeout must be more than 0"},
    {R1 "GET /:\n      exec: {argv: [/bin/true], timout: 1s}\n", "3:33",
     "unknown key `timout`; did you mean `timeout`?"},
    {R1 "GET /:\n      exec: {argv: [/bin/true], max_concurrent: 0}\n", "3:49",
     "expected a number from 1 to 100000, found `0`"},
    {R1 "GET /:\n      exec: {argv: [/bin/true], env: {A-B: x}}\n", "3:39",
     "exec: env name `A-B` is not valid"},
    {R1 "GET /:\n      exec: {argv: [/bin/true], env: [A]}\n", "3:38",
     "exec: env must be a mapping of NAME: value, found a list"},
    {R1 "GET /{name}:\n      exec: {argv: [/bin/true], env: {A: \"{nme}\"}}\n", "3:43",
     "unknown variable {nme}"},
    /* templates: the column is the brace inside the scalar */
    {R1 "GET /{name}:\n      text: Hello, {nme}\n", "3:20", "unknown variable {nme}"},
    {R1 "GET /{name}:\n      text: \"Hello, {nme}\"\n", "3:21", "unknown variable {nme}"},
    {R1 "GET /{name}:\n      text: 'Hello, {nme}'\n", "3:21", "unknown variable {nme}"},
    {R1 "GET /{name}:\n      text: {body: \"Hi {nme}\"}\n", "3:24", "unknown variable {nme}"},
    {R1 "GET /{name}:\n      redirect: /u/{nme}\n", "3:20", "unknown variable {nme}"},
    {R1 "GET /:\n      text: \"{oops\"\n", "3:14", "unclosed {"},
    /* route options */
    {R1 "GET /{name}:\n      text: a\n      headers: {X-A: \"{nme}\"}\n", "4:23",
     "unknown variable {nme}"},
    {R1 "GET /:\n      text: a\n      headers: {\"X Bad\": v}\n", "4:17",
     "headers: `X Bad` is not a valid header name"},
    {R1 "GET /:\n      text: a\n      headers: {\"X:A\": v}\n", "4:17", "not a valid header name"},
    {R1 "GET /:\n      text: a\n      headers: {Content-Length: \"5\"}\n", "4:17",
     "headers: `Content-Length` is set by the server and cannot be configured"},
    {R1 "GET /:\n      text: a\n      headers: {connection: close}\n", "4:17",
     "is set by the server"},
    {R1 "GET /:\n      text: a\n      headers: [X-A]\n", "4:16",
     "headers: expected a mapping of Name: value, found a list"},
    {R1 "GET /: {text: a, body_size: 1x}\n", "2:33", "expected a size like 512"},
    /* route examples */
    {R1 "GET /:\n      text: a\n      examples: {request: GET /}\n", "4:17",
     "examples: expected a list of {request:"},
    {R1 "GET /:\n      text: a\n      examples: [GET /]\n", "4:18",
     "examples: each example is a mapping"},
    {R1 "GET /:\n      text: a\n      examples: [{status: 200}]\n", "4:18",
     "examples: an example needs `request: \"METHOD TARGET\"`"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", stauts: 200}]\n", "4:37",
     "unknown key `stauts`; did you mean `status`?"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", status: 99}]\n", "4:45",
     "expected a number from 100 to 599, found `99`"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", status: 600}]\n", "4:45",
     "expected a number from 100 to 599, found `600`"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", status: ok}]\n", "4:45",
     "expected a number from 100 to 599"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"get /\"}]\n", "4:28",
     "examples: request: unknown method `get`"},
    {R1 "GET /:\n      text: a\n      examples: [{request: GET}]\n", "4:28",
     "examples: request: expected \"METHOD TARGET\""},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /a b\"}]\n", "4:28",
     "holds a blank or a control character"},
    {R1 "GET /:\n      text: a\n      examples: [{request: [GET, /]}]\n", "4:28",
     "examples: request: expected \"METHOD TARGET\", found a list"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", headers: [X-A]}]\n", "4:46",
     "examples: headers: expected a mapping"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", headers: {X-A: [a]}}]\n",
     "4:52", "the value of `X-A` must be a string"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", headers: {\"X A\": a}}]\n",
     "4:47", "`X A` is not a valid header name"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", request_headers: "
        "{Content-Length: 3}}]\n",
     "4:55", "`Content-Length` is set by the example runner"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", contains: [a, {b: c}]}]\n",
     "4:51", "examples: contains: expected a string, found a mapping"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", body: [x]}]\n", "4:43",
     "examples: body: expected a string, found a list"},
    {R1 "GET /:\n      text: a\n      examples: [{request: \"GET /\", request_body: {a: b}}]\n",
     "4:51", "examples: request_body: expected a string"},
    /* ambiguity: the message names the other route's line */
    {R1 "GET /a/{x}:\n      text: a\n  - GET,POST /a/{y}:\n      text: b\n", "4:5",
     "overlaps `GET /a/{x}` at line 2"},
    {R1 "GET /a:\n      text: a\n  - GET /a:\n      text: b\n", "4:5",
     "overlaps `GET /a` at line 2"},
    {R1 "GET /a:\n      text: a\n  - \"* /a\":\n      text: b\n", "4:5",
     "overlaps `GET /a` at line 2"},
};

/*
 * Loads c->yaml and asserts it is refused with exactly one message at c->where
 * containing c->msg. Everything is freed before asserting, so a failure leaks
 * nothing even when Check does not fork (CK_FORK=no under ASan).
 */
static void check_one_error(const struct err_case *c, int i)
{
    struct buf err = {0};
    struct config *cfg = load(c->yaml, &err);
    int accepted = cfg != NULL;
    char msgs[2048];
    snprintf(msgs, sizeof(msgs), "%s", err.data);
    size_t nlines = count_lines(&err);
    config_unref(cfg);
    buf_free(&err);

    ck_assert_msg(!accepted, "case %d accepted:\n%s", i, c->yaml);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), NAME ":%s: ", c->where);
    ck_assert_msg(nlines == 1, "case %d: want one message, got:\n%s\n--- input:\n%s", i, msgs,
                  c->yaml);
    ck_assert_msg(strncmp(msgs, prefix, strlen(prefix)) == 0,
                  "case %d: want \"%s...\", got: %s--- input:\n%s", i, prefix, msgs, c->yaml);
    ck_assert_msg(strstr(msgs, c->msg) != NULL,
                  "case %d: want message containing \"%s\", got: %s--- input:\n%s", i, c->msg, msgs,
                  c->yaml);
}

START_TEST(test_error_case)
{
    check_one_error(&err_cases[_i], _i);
}
END_TEST

/* A lowercase method gets the exact suggestion. */
START_TEST(test_lowercase_method_suggestion)
{
    struct buf err = {0};
    struct config *cfg = load(R1 "get /: {text: a}\n", &err);
    ck_assert_ptr_null(cfg);
    ck_assert_str_eq(err.data, NAME ":2:5: unknown method `get` (methods are case-sensitive); "
                                    "did you mean `GET`?\n");
    buf_free(&err);
}
END_TEST

/*
 * Template errors inside scalars whose text differs from the source (escapes,
 * multi-byte characters, block scalars) must still point at the brace as
 * libyaml marks count: 1-based line, column in characters.
 */
static const struct err_case tpl_position_cases[] = {
    /* `      text: "a\"b {nme}"`: the brace is the 19th character */
    {R1 "GET /{name}:\n      text: \"a\\\"b {nme}\"\n", "3:19", "unknown variable {nme}"},
    /* `      text: "héllo {nme}"`: é is one column */
    {R1 "GET /{name}:\n      text: \"h\xc3\xa9llo {nme}\"\n", "3:20", "unknown variable {nme}"},
    /* a literal block scalar: the brace is on line 5, column 11 */
    {R1 "GET /{name}:\n      text: |\n        line1\n        x {nme}\n", "5:11",
     "unknown variable {nme}"},
};

START_TEST(test_template_error_position)
{
    check_one_error(&tpl_position_cases[_i], _i);
}
END_TEST

/* ---- several errors in one file are all reported ---- */

START_TEST(test_multiple_errors)
{
    const char *yaml = "listen: 127.0.0.1:8080\n"      /* 1 */
                       "listen: 1.2.3.4:5\n"           /* 2: duplicate */
                       "workers: lots\n"               /* 3 */
                       "limits: {body_size: huge}\n"   /* 4 */
                       "timeouts: {header: 0}\n"       /* 5 */
                       "access_log: rel\n"             /* 6 */
                       "routes:\n"                     /* 7 */
                       "  - get /: {text: a}\n"        /* 8 */
                       "  - GET /b: {txt: a}\n"        /* 9 */
                       "  - GET /c:\n"                 /* 10 */
                       "      echo: xml\n"             /* 11 */
                       "  - GET /d/{id}:\n"            /* 12 */
                       "      text: \"{id} {nme}\"\n"; /* 13 */
    struct buf err = {0};
    struct config *cfg = load(yaml, &err);
    ck_assert_ptr_null(cfg);
    static const char *const want[] = {
        NAME ":2:1: duplicate key `listen`\n",
        NAME ":3:10: workers: expected 0 (one process), a count up to 1024, or auto\n",
        NAME ":4:21: expected a size like",
        NAME ":5:20: timeouts.header: must be more than 0\n",
        NAME ":6:13: expected \"stdout\", \"off\" or an absolute path\n",
        NAME ":8:5: unknown method `get`",
        NAME ":9:14: unknown key `txt`; did you mean `text`?\n",
        NAME ":11:13: echo: expected `json` or `body`\n",
        NAME ":13:19: unknown variable {nme}\n",
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    ck_assert_msg(count_lines(&err) == n, "want %zu messages, got:\n%s", n, err.data);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(strstr(err.data, want[i]) != NULL, "missing \"%s\" in:\n%s", want[i],
                      err.data);
    /* in file order */
    for (size_t i = 1; i < n; i++)
        ck_assert_msg(strstr(err.data, want[i - 1]) < strstr(err.data, want[i]),
                      "messages out of order:\n%s", err.data);
    buf_free(&err);
}
END_TEST

/* Errors are appended: the caller's buffer keeps what it had. */
START_TEST(test_errors_appended)
{
    struct buf err = {0};
    buf_puts(&err, "before\n");
    struct config *cfg = config_load_bytes(NAME, "- a\n", 4, &err);
    ck_assert_ptr_null(cfg);
    buf_putc(&err, 0);
    ck_assert_str_eq(err.data, "before\n" NAME ":1:1: the configuration must be a mapping, found a "
                               "list\n");
    buf_free(&err);
}
END_TEST

/* The loader reads exactly len bytes: data need not be NUL-terminated. */
START_TEST(test_load_bytes_uses_len)
{
    const char text[] = ROUTES "listn: x\n";
    struct buf err = {0};
    struct config *cfg = config_load_bytes(NAME, text, strlen(ROUTES), &err);
    ck_assert_msg(cfg != NULL, "%.*s", (int)err.len, err.data);
    ck_assert_uint_eq(err.len, 0);
    config_unref(cfg);
    buf_free(&err);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- workers and privileges ---- */

START_TEST(test_workers_forms)
{
    static const struct {
        const char *yaml;
        int want;
    } cases[] = {{"workers: 0\n", 0}, {"workers: 4\n", 4}, {"workers: auto\n", -1}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf yaml = {0};
        buf_puts(&yaml, cases[i].yaml);
        buf_puts(&yaml, "routes:\n  - GET /: {text: a}\n");
        buf_putc(&yaml, 0);
        struct config *cfg = load_ok(yaml.data);
        ck_assert_int_eq(cfg->workers, cases[i].want);
        if (cases[i].want >= 0)
            ck_assert_int_eq(config_worker_count(cfg), cases[i].want);
        else
            ck_assert_int_ge(config_worker_count(cfg), 1);
        config_unref(cfg);
        buf_free(&yaml);
    }
}
END_TEST

/* Users are resolved only when started as root (there is nothing to drop otherwise). */
START_TEST(test_run_as)
{
    struct config *cfg = load_ok("user: nobody\nroutes:\n  - GET /: {text: a}\n");
    ck_assert_int_eq(cfg->run_as.drop, geteuid() == 0);
    if (geteuid() == 0) {
        ck_assert_uint_eq(cfg->run_as.uid, getpwnam("nobody")->pw_uid);
        ck_assert_str_eq(cfg->run_as.name, "nobody");
    }
    config_unref(cfg);
    if (geteuid() != 0)
        return;
    cfg = load_ok("routes:\n  - GET /: {text: a}\n");
    ck_assert_str_eq(cfg->run_as.name, "nobody"); /* root never runs workers implicitly */
    config_unref(cfg);
    cfg = load_ok("user: root\nroutes:\n  - GET /: {text: a}\n");
    ck_assert_uint_eq(cfg->run_as.uid, 0);
    config_unref(cfg);
    struct buf err = {0};
    ck_assert_ptr_null(load("user: no-such-user-yh\nroutes:\n  - GET /: {text: a}\n", &err));
    ck_assert_msg(strstr(err.data, NAME ":1:7: user `no-such-user-yh` does not exist"), "%s",
                  err.data);
    err.len = 0;
    ck_assert_ptr_null(
        load("user: nobody\ngroup: no-such-group-yh\nroutes:\n  - GET /: {text: a}\n", &err));
    ck_assert_msg(strstr(err.data, NAME ":2:8: group `no-such-group-yh` does not exist"), "%s",
                  err.data);
    buf_free(&err);
}
END_TEST

/* exec: both forms, the defaults, env names. */
START_TEST(test_exec_forms)
{
    struct config *cfg =
        load_ok("routes:\n"
                "  - GET /a:\n"
                "      exec: [/bin/true, \"two words\", \"{x}\"]\n"
                "  - POST /b/{id}:\n"
                "      exec: {argv: [/bin/true], timeout: 250ms, max_concurrent: 2,\n"
                "             env: {MODE: fast, ID: \"{id}\", _x9: \"\"}}\n");
    const struct route *a = find_route(cfg, "GET /a");
    ck_assert_str_eq(a->kind->name, "exec");
    ck_assert_int_eq(a->kind->streams_body, 1);
    const struct exec_route *ea = a->state;
    ck_assert_uint_eq(ea->argc, 3);
    ck_assert_str_eq(ea->argv[0], "/bin/true");
    ck_assert_str_eq(ea->argv[1], "two words");
    ck_assert_str_eq(ea->argv[2], "{x}"); /* literal: argv is no template */
    ck_assert_ptr_null(ea->argv[3]);
    ck_assert_uint_eq(ea->timeout_ms, 30000);
    ck_assert_uint_eq(ea->max_concurrent, 16);
    ck_assert_uint_eq(ea->nenv, 0);
    ck_assert_str_eq(ea->label, "GET /a");
    const struct exec_route *eb = find_route(cfg, "POST /b/{id}")->state;
    ck_assert_uint_eq(eb->argc, 1);
    ck_assert_uint_eq(eb->timeout_ms, 250);
    ck_assert_uint_eq(eb->max_concurrent, 2);
    ck_assert_uint_eq(eb->nenv, 3);
    ck_assert_str_eq(eb->env[0].name, "MODE");
    ck_assert_str_eq(eb->env[1].name, "ID");
    ck_assert_str_eq(eb->env[2].name, "_x9");
    ck_assert(tpl_is_constant(eb->env[0].value));
    ck_assert(!tpl_is_constant(eb->env[1].value));
    config_unref(cfg);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, test_minimal_defaults);
    tcase_add_test(tc, test_ref_unref);
    tcase_add_test(tc, test_full_config_settings);
    tcase_add_test(tc, test_full_config_routes);
    tcase_add_test(tc, test_full_config_router);
    tcase_add_test(tc, test_route_body_size_follows_limits);
    tcase_add_test(tc, test_listen_string);
    tcase_add_test(tc, test_server_header);
    tcase_add_test(tc, test_io_uring_modes);
    tcase_add_test(tc, test_limit_sizes);
    tcase_add_test(tc, test_timeouts_partial);
    tcase_add_test(tc, test_access_log_forms);
    tcase_add_test(tc, test_error_log_forms);
    tcase_add_test(tc, test_same_pattern_other_methods);
    tcase_add_test(tc, test_explicit_head_next_to_get);
    tcase_add_test(tc, test_method_list);
    tcase_add_test(tc, test_print_routes);
    tcase_add_test(tc, test_load_file_missing);
    tcase_add_test(tc, test_load_file_ok_and_error);
    tcase_add_test(tc, test_load_bytes_uses_len);
    tcase_add_test(tc, test_workers_forms);
    tcase_add_test(tc, test_run_as);
    tcase_add_test(tc, test_exec_forms);
    tcase_add_test(tc, test_examples_forms);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_loop_test(tc, test_error_case, 0, N(err_cases));
    tcase_add_test(tc, test_lowercase_method_suggestion);
    tcase_add_loop_test(tc, test_template_error_position, 0, N(tpl_position_cases));
    tcase_add_test(tc, test_multiple_errors);
    tcase_add_test(tc, test_errors_appended);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
