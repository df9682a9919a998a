/*
 * yhttpd handler modules: request handlers written in C, loaded with dlopen.
 *
 * A module is a shared object that exports one descriptor called
 * `yh_module` (use YH_MODULE_DEFINE). yhttpd checks its ABI version when the
 * configuration loads, then calls init() once per route that uses it, handle()
 * for every request of that route (inside a worker's event loop: never
 * block), and fini() when that configuration is released.
 *
 *   routes:
 *     - GET /hello/{name}:
 *         module: {path: /usr/lib/yhttpd/modules/hello.so, config: {greeting: Hi}}
 *
 * Build: cc -shared -fPIC $(pkg-config --cflags yhttpd-module) -o hello.so hello.c
 * See yhttpd-module(3).
 */
#ifndef YHTTPD_MODULE_H
#define YHTTPD_MODULE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped whenever this header changes incompatibly; a module built against
 * another version is refused at load with a clear error. */
#define YH_MODULE_ABI 1

struct ev_loop;        /* libev's loop: the worker's own */
struct yh_request;     /* a request being answered (opaque) */
struct yh_config_node; /* the route's `config:` value, or a part of it (opaque) */

/* ---- the route's `config:` value (valid during init() only) ---- */

/* Kinds of configuration nodes. */
enum yh_config_kind { YH_CONFIG_NONE, YH_CONFIG_SCALAR, YH_CONFIG_LIST, YH_CONFIG_MAP };

/* The node's kind; YH_CONFIG_NONE for NULL (an absent `config:`). */
enum yh_config_kind yh_config_kind(const struct yh_config_node *n);
/* A scalar's text (NUL-terminated), or NULL when n is not a scalar. */
const char *yh_config_string(const struct yh_config_node *n);
/* The value of key in a mapping, or NULL. */
const struct yh_config_node *yh_config_get(const struct yh_config_node *n, const char *key);
/* The number of items of a list (or pairs of a mapping); 0 otherwise. */
size_t yh_config_count(const struct yh_config_node *n);
/* Item i of a list, or the value of pair i of a mapping (*key set when not NULL); NULL past the
 * end. */
const struct yh_config_node *yh_config_item(const struct yh_config_node *n, size_t i,
                                            const char **key);

/* ---- the request (valid until yh_respond() or the cancel callback) ---- */

/* Request accessors. Each returns a pointer into the request (not
 * NUL-terminated) and its length in *len; absent values are NULL with *len 0. */
const char *yh_method(const struct yh_request *r, size_t *len);
/* The normalized, percent-decoded path. */
const char *yh_path(const struct yh_request *r, size_t *len);
/* The raw query string, without '?'. */
const char *yh_query(const struct yh_request *r, size_t *len);
/* The path variable called name (percent-decoded). */
const char *yh_var(const struct yh_request *r, const char *name, size_t *len);
/* The first request header called name (case-insensitive). */
const char *yh_header(const struct yh_request *r, const char *name, size_t *len);
/* The request body (buffered whole before handle(), within body_size). */
const char *yh_body(const struct yh_request *r, size_t *len);
/* The client's address as text ("127.0.0.1", "::1", "unix"). */
const char *yh_remote_addr(const struct yh_request *r);

/* ---- the answer ---- */

/* Sets the status (default 200). */
void yh_status(struct yh_request *r, int status);
/* Adds a header (framing headers such as Content-Length are the server's own
 * and are ignored). Returns 0, or -1 when name or value is not allowed. */
int yh_add_header(struct yh_request *r, const char *name, const char *value);
/* Appends bytes to the answer's body. */
void yh_write(struct yh_request *r, const void *data, size_t len);
/* Sends the answer. Call it exactly once, from handle() or later from any
 * callback of yh_loop(); the request must not be used afterwards. */
void yh_respond(struct yh_request *r);
/* Registers a function called when the client goes away before yh_respond():
 * release what the request holds (timers, ...); the request is gone after it. */
void yh_on_cancel(struct yh_request *r, void (*cancel)(struct yh_request *r, void *arg), void *arg);
/* The worker's libev loop, for asynchronous modules (ev_timer, ev_io, ...). */
struct ev_loop *yh_loop(void);
/* Writes a line to the server's error log at warning level. */
void yh_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the descriptor a module exports ---- */

struct yh_module {
    unsigned abi;     /* YH_MODULE_ABI */
    const char *name; /* for messages */
    /* Builds the module's state from the route's `config:` (NULL when
     * absent). Returns 0, or -1 with a message in err (errlen bytes): the
     * configuration is then refused, naming the route's line and column. */
    int (*init)(const struct yh_config_node *config, void **state, char *err, size_t errlen);
    /* Answers a request; the answer ends with yh_respond(), now or later. */
    void (*handle)(struct yh_request *r, void *state);
    /* Releases the state (may be NULL). */
    void (*fini)(void *state);
};

/* Defines the exported descriptor. */
#define YH_MODULE_DEFINE(NAME, INIT, HANDLE, FINI)                                                 \
    const struct yh_module yh_module = {YH_MODULE_ABI, NAME, INIT, HANDLE, FINI}

#ifdef __cplusplus
}
#endif

#endif
