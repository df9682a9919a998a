/* The metrics segment in the Prometheus text exposition format (0.0.4). */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

/* One (route, code) series summed over the slots. */
struct row {
    const char *label; /* in the segment: written once, never moved */
    unsigned code;
    uint64_t buckets[METRICS_NBUCKETS];
    uint64_t sum_ns;
};

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void metrics_escape_label(struct buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            buf_puts(out, "\\\\");
        else if (*s == '"')
            buf_puts(out, "\\\"");
        else if (*s == '\n')
            buf_puts(out, "\\n");
        else
            buf_putc(out, *s);
    }
}

static int row_cmp(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    int c = strcmp(x->label, y->label);
    return c ? c : (x->code > y->code) - (x->code < y->code);
}

/* Every published series of every slot ever bound, sorted, equal keys summed. */
static struct row *collect(const struct metrics_segment *seg, size_t *nrows)
{
    size_t slots = __atomic_load_n(&seg->slots_used, __ATOMIC_ACQUIRE), n = 0, cap = 0;
    struct row *rows = NULL;
    for (size_t i = 0; i < slots && i < seg->nslots; i++) {
        const struct metrics_slot *s = &seg->slots[i];
        uint32_t k = __atomic_load_n(&s->nseries, __ATOMIC_ACQUIRE);
        if (k > METRICS_MAX_SERIES)
            k = METRICS_MAX_SERIES;
        if (n + k > cap) {
            cap = (n + k) * 2;
            rows = realloc(rows, cap * sizeof(*rows));
            if (!rows)
                abort();
        }
        for (uint32_t j = 0; j < k; j++, n++) {
            const struct metrics_series *e = &s->series[j];
            rows[n].label = e->label;
            rows[n].code = e->code;
            for (size_t b = 0; b < METRICS_NBUCKETS; b++)
                rows[n].buckets[b] = load(&e->buckets[b]);
            rows[n].sum_ns = load(&e->sum_ns);
        }
    }
    if (n)
        qsort(rows, n, sizeof(*rows), row_cmp);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (out && row_cmp(&rows[out - 1], &rows[i]) == 0) {
            for (size_t b = 0; b < METRICS_NBUCKETS; b++)
                rows[out - 1].buckets[b] += rows[i].buckets[b];
            rows[out - 1].sum_ns += rows[i].sum_ns;
        } else {
            rows[out++] = rows[i];
        }
    }
    *nrows = out;
    return rows;
}

static void put_route(struct buf *out, const char *metric, const char *label)
{
    buf_puts(out, metric);
    buf_puts(out, "{route=\"");
    metrics_escape_label(out, label);
    buf_putc(out, '"');
}

static void put_requests(struct buf *out, const struct row *rows, size_t n)
{
    buf_puts(out, "# HELP yhttpd_requests_total Requests answered, by route pattern and status.\n"
                  "# TYPE yhttpd_requests_total counter\n");
    for (size_t i = 0; i < n; i++) {
        uint64_t count = 0;
        for (size_t b = 0; b < METRICS_NBUCKETS; b++)
            count += rows[i].buckets[b];
        put_route(out, "yhttpd_requests_total", rows[i].label);
        if (rows[i].code)
            buf_printf(out, ",code=\"%u\"} ", rows[i].code);
        else
            buf_puts(out, ",code=\"other\"} ");
        buf_put_u64(out, count);
        buf_putc(out, '\n');
    }
}

/* One histogram per route: the rows of a label (adjacent once sorted) summed. */
static void put_durations(struct buf *out, const struct row *rows, size_t n)
{
    static const char *const name = "yhttpd_request_duration_seconds";
    buf_printf(out,
               "# HELP %s Seconds from a request's first byte to its answer, by route pattern.\n"
               "# TYPE %s histogram\n",
               name, name);
    for (size_t i = 0; i < n;) {
        const char *label = rows[i].label;
        uint64_t buckets[METRICS_NBUCKETS] = {0}, sum_ns = 0, cumulative = 0;
        for (; i < n && strcmp(rows[i].label, label) == 0; i++) {
            for (size_t b = 0; b < METRICS_NBUCKETS; b++)
                buckets[b] += rows[i].buckets[b];
            sum_ns += rows[i].sum_ns;
        }
        for (size_t b = 0; b < METRICS_NBUCKETS; b++) {
            cumulative += buckets[b];
            put_route(out, "yhttpd_request_duration_seconds_bucket", label);
            if (b < METRICS_NBUCKETS - 1)
                buf_printf(out, ",le=\"%g\"} ", metrics_bounds[b]);
            else
                buf_puts(out, ",le=\"+Inf\"} ");
            buf_put_u64(out, cumulative);
            buf_putc(out, '\n');
        }
        put_route(out, "yhttpd_request_duration_seconds_sum", label);
        buf_printf(out, "} %llu.%09llu\n", (unsigned long long)(sum_ns / 1000000000u),
                   (unsigned long long)(sum_ns % 1000000000u));
        put_route(out, "yhttpd_request_duration_seconds_count", label);
        buf_puts(out, "} ");
        buf_put_u64(out, cumulative);
        buf_putc(out, '\n');
    }
}

void metrics_render(const struct metrics_segment *seg, const long *connections, size_t nworkers,
                    struct buf *out)
{
    size_t n;
    struct row *rows = collect(seg, &n);
    put_requests(out, rows, n);
    put_durations(out, rows, n);
    free(rows);
    buf_puts(out, "# HELP yhttpd_connections Open connections, by worker.\n"
                  "# TYPE yhttpd_connections gauge\n");
    for (size_t i = 0; i < nworkers; i++)
        buf_printf(out, "yhttpd_connections{worker=\"%zu\"} %ld\n", i, connections[i]);
    buf_printf(out,
               "# HELP yhttpd_reloads_total Configuration reloads, by result.\n"
               "# TYPE yhttpd_reloads_total counter\n"
               "yhttpd_reloads_total{result=\"ok\"} %llu\n"
               "yhttpd_reloads_total{result=\"failed\"} %llu\n"
               "# HELP yhttpd_worker_restarts_total Workers started again after dying.\n"
               "# TYPE yhttpd_worker_restarts_total counter\n"
               "yhttpd_worker_restarts_total %llu\n",
               (unsigned long long)load(&seg->reloads_ok),
               (unsigned long long)load(&seg->reloads_failed),
               (unsigned long long)load(&seg->worker_restarts));
}
