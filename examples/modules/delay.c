/* An asynchronous module: answers after a libev timer, never blocking the loop.
 * `?ms=N` sets the delay (default from config `ms:`, else 100 ms; at most 10 s).
 *
 *   - GET /delay:
 *       module: {path: /usr/lib/yhttpd/modules/delay.so, config: {ms: 200}}
 */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yhttpd/module.h>

struct delay_conf {
    long ms;
};

/* One waiting request. */
struct pending {
    ev_timer timer;
    struct yh_request *r;
    long ms;
};

static int delay_init(const struct yh_config_node *config, void **state, char *err, size_t errlen)
{
    struct delay_conf *d = calloc(1, sizeof(*d));
    if (!d)
        return -1;
    d->ms = 100;
    const char *ms = yh_config_string(yh_config_get(config, "ms"));
    if (ms) {
        char *end;
        d->ms = strtol(ms, &end, 10);
        if (*end || d->ms < 0 || d->ms > 10000) {
            snprintf(err, errlen, "ms: expected 0 to 10000, found `%s`", ms);
            free(d);
            return -1;
        }
    }
    *state = d;
    return 0;
}

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct pending *p = t->data;
    char body[64];
    int n = snprintf(body, sizeof(body), "waited %ld ms\n", p->ms);
    yh_write(p->r, body, (size_t)n);
    yh_respond(p->r);
    free(p);
}

static void on_cancel(struct yh_request *r, void *arg)
{
    struct pending *p = arg;
    ev_timer_stop(yh_loop(), &p->timer);
    free(p);
}

static long query_ms(struct yh_request *r, long fallback)
{
    size_t n;
    const char *q = yh_query(r, &n);
    char buf[32];
    if (!q || n < 4 || n >= sizeof(buf) || strncmp(q, "ms=", 3) != 0)
        return fallback;
    memcpy(buf, q + 3, n - 3);
    buf[n - 3] = '\0';
    long ms = strtol(buf, NULL, 10);
    return ms >= 0 && ms <= 10000 ? ms : fallback;
}

static void delay_handle(struct yh_request *r, void *state)
{
    const struct delay_conf *d = state;
    struct pending *p = calloc(1, sizeof(*p));
    if (!p) {
        yh_status(r, 503);
        yh_respond(r);
        return;
    }
    p->r = r;
    p->ms = query_ms(r, d->ms);
    ev_timer_init(&p->timer, on_timer, (double)p->ms / 1000.0, 0.);
    p->timer.data = p;
    ev_timer_start(yh_loop(), &p->timer);
    yh_on_cancel(r, on_cancel, p);
}

static void delay_fini(void *state)
{
    free(state);
}

YH_MODULE_DEFINE("delay", delay_init, delay_handle, delay_fini);
