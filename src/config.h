/* The validated configuration: YAML file -> structs, errors as FILE:LINE:COL. */
#ifndef YH_CONFIG_H
#define YH_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "buf.h"
#include "privdrop.h"
#include "router.h"
#include "template.h"

struct handler_kind;
struct route_example;

/* One `listen:` entry, resolved at load. */
struct listen_addr {
    char *text; /* as written, for messages */
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

enum log_format { LOG_COMBINED, LOG_COMMON, LOG_JSON };
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* A `headers:` entry of a route: added to every answer of that route. */
struct route_header {
    char *name;
    struct tpl *value;
};

struct route {
    char *label; /* "GET /hello/{name}" as written, for logs */
    char *pattern;
    uint64_t methods;
    int line, col;
    struct route_vars vars;
    const struct handler_kind *kind;
    void *state; /* the handler's, from its configure() */
    struct route_header *headers;
    size_t nheaders;
    uint64_t body_size;             /* limit for this route's request bodies */
    uint64_t limit;                 /* `limit:` requests in flight per worker, 0 = none */
    unsigned *inflight;             /* the count against limit (writable through const routes) */
    struct route_example *examples; /* `examples:` (config_examples.h) */
    size_t nexamples;
};

struct config {
    int refs;
    char *path;
    struct listen_addr *listens;
    size_t nlistens;
    int workers;  /* 0 = single process; -1 = auto */
    int io_uring; /* 1: batch socket I/O through io_uring when available; 0: off */
    char *user, *group, *pid_file;
    struct run_as run_as; /* who workers run as (resolved only when started as root) */
    char *server_header;  /* NULL: send no Server header */
    struct {
        uint64_t header_size, body_size, connections, keepalive_requests;
    } limits;
    struct {
        uint64_t header, body, keepalive, write, shutdown; /* milliseconds */
    } timeouts;
    struct {
        char *path; /* NULL: off; "-" = stdout */
        enum log_format format;
    } access_log;
    struct {
        char *path; /* "-" = stderr */
        enum log_level level;
    } error_log;
    struct route *routes;
    size_t nroutes;
    struct router *router;
};

/*
 * Loads and validates a YAML document. `name` is used in messages (the file
 * path). Returns a config with one reference, or NULL with every error appended
 * to errors as "NAME:LINE:COL: message\n" lines.
 */
struct config *config_load_bytes(const char *name, const char *data, size_t len,
                                 struct buf *errors);
/* Appends the bytes of the file at path to out (the master keeps them to hand
 * to its workers). Returns 0, or -1 with "PATH: reason" appended to errors. */
int config_read_file(const char *path, struct buf *out, struct buf *errors);
/* Same as config_load_bytes, reading the file at path; an unreadable file is reported as "PATH:
 * reason". */
struct config *config_load_file(const char *path, struct buf *errors);

/* Reference counting: requests in flight keep the config they started on. */
struct config *config_ref(struct config *c);
void config_unref(struct config *c);

/* The number of worker processes: `workers:`, with auto = online CPUs (0 = single process). */
int config_worker_count(const struct config *c);

/* Writes the route table (methods, pattern, handler, source line) as text. */
void config_print_routes(const struct config *c, struct buf *out);

#endif
