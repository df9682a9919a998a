/* Request metrics shared by the master and its workers: one MAP_SHARED segment
 * created before fork (or by the single process), one slot per worker index.
 * A worker writes only its own slot, with relaxed atomic stores (no locks, no
 * shared read-modify-write); a scrape reads every slot and sums. A respawned
 * worker binds its predecessor's slot, so counters never go backwards. */
#ifndef YH_METRICS_H
#define YH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct request;

#define METRICS_MAX_SLOTS  1024 /* the highest `workers:` count */
#define METRICS_MAX_SERIES 512  /* (route, status) series per slot */
/* Of those, the last ones are kept for "(other)" series, so overflow still
 * counts by status; past them everything lands in ("(other)", code 0). */
#define METRICS_OTHER_RESERVE 16
#define METRICS_LABEL_MAX     128 /* a longer route label counts as "(other)" */
#define METRICS_NBUCKETS      12  /* 11 bounds and +Inf */
#define METRICS_INDEX_SIZE    1024

#define METRICS_NO_ROUTE "(none)"  /* answered without a route: 400, 404, 405, 408... */
#define METRICS_OTHER    "(other)" /* the slot's series table is full */

/* Upper bounds (seconds) of the histogram buckets but the last (+Inf). */
extern const double metrics_bounds[METRICS_NBUCKETS - 1];

struct metrics_series {
    char label[METRICS_LABEL_MAX];      /* written once, before the series is published */
    uint32_t code;                      /* HTTP status; 0 for the overflow catch-all */
    uint64_t buckets[METRICS_NBUCKETS]; /* per bucket, not cumulative: they sum to the count */
    uint64_t sum_ns;
};

struct metrics_slot {
    uint32_t nseries; /* release store once series[nseries] is written */
    struct metrics_series series[METRICS_MAX_SERIES];
};

struct metrics_segment {
    /* written by the master (or the single process) only */
    uint64_t reloads_ok, reloads_failed, worker_restarts;
    uint32_t workers;    /* worker processes now */
    uint32_t slots_used; /* slots ever bound: a retired worker's counts still add up */
    uint32_t nslots;
    struct metrics_slot slots[];
};

/* The slot's series by hash, local to the writing process (rebuilt on bind). */
struct metrics_index {
    uint16_t at[METRICS_INDEX_SIZE]; /* series index + 1; 0: empty */
};

/* ---- this process ---- */

/* Maps the segment (once: the master before fork, or the single process). 0 or -1. */
int metrics_init(void);
/* Records this process's requests into slot (a worker after fork). */
void metrics_bind_slot(size_t slot);
/* The master: n worker processes serve now. */
void metrics_set_workers(size_t n);
void metrics_count_reload(int ok);
void metrics_count_restart(void);
/* An answer is complete (next to the access log line). */
void metrics_request_done(const struct request *r, double now);
/* The segment, or NULL when it could not be mapped. */
const struct metrics_segment *metrics_segment(void);

/* ---- pure parts (unit-tested on a heap segment) ---- */

size_t metrics_segment_size(size_t nslots);
/* The bucket index for a duration: the first bound >= seconds, else +Inf. */
size_t metrics_bucket(double seconds);
/* The series for (label, code) in slot s, inserted when new (see the overflow
 * rules above). Only the slot's writer calls this. */
struct metrics_series *metrics_slot_series(struct metrics_slot *s, struct metrics_index *ix,
                                           const char *label, unsigned code);
void metrics_index_rebuild(struct metrics_index *ix, const struct metrics_slot *s);
/* Counts one request of that duration. */
void metrics_observe(struct metrics_series *e, double seconds);

/* ---- text format (metrics_text.c) ---- */

/* Appends label value s escaped for the Prometheus text format. */
void metrics_escape_label(struct buf *out, const char *s);
/* Appends every metric of seg, summed over its slots; connections[i] is
 * worker i's open connection count. */
void metrics_render(const struct metrics_segment *seg, const long *connections, size_t nworkers,
                    struct buf *out);

#endif
