/* A synchronous module: answers "Hello, NAME" with a greeting from its config.
 *
 *   - GET /hello/{name}:
 *       module: {path: /usr/lib/yhttpd/modules/hello.so, config: {greeting: Hi}}
 */
#include <stdlib.h>
#include <string.h>
#include <yhttpd/module.h>

struct hello {
    char greeting[64];
};

static int hello_init(const struct yh_config_node *config, void **state, char *err, size_t errlen)
{
    const char *greeting = yh_config_string(yh_config_get(config, "greeting"));
    if (greeting && strlen(greeting) >= sizeof(((struct hello *)0)->greeting)) {
        strncpy(err, "greeting: at most 63 bytes", errlen - 1);
        return -1;
    }
    struct hello *h = calloc(1, sizeof(*h));
    if (!h)
        return -1;
    strcpy(h->greeting, greeting ? greeting : "Hello");
    *state = h;
    return 0;
}

static void hello_handle(struct yh_request *r, void *state)
{
    const struct hello *h = state;
    size_t n;
    const char *name = yh_var(r, "name", &n);
    yh_add_header(r, "Content-Type", "text/plain; charset=utf-8");
    yh_add_header(r, "X-Module", "hello");
    yh_write(r, h->greeting, strlen(h->greeting));
    yh_write(r, ", ", 2);
    if (name)
        yh_write(r, name, n);
    else
        yh_write(r, "world", 5);
    yh_write(r, "\n", 1);
    yh_respond(r);
}

static void hello_fini(void *state)
{
    free(state);
}

YH_MODULE_DEFINE("hello", hello_init, hello_handle, hello_fini);
