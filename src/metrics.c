/* Request metrics in shared memory: the segment and the recording side. */
#include "metrics.h"

#include <string.h>
#include <sys/mman.h>

#include "config.h"
#include "request.h"

const double metrics_bounds[METRICS_NBUCKETS - 1] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                     0.5,   1,    2.5,   5,    10};

static struct metrics_segment *seg;
static struct metrics_slot *mine;
static struct metrics_index mine_ix;
/* The series of the last answer: most answers repeat its route and status, so
 * the index is skipped then (the label is compared too: a reload may reuse
 * the address). */
static const char *last_label;
static unsigned last_code;
static struct metrics_series *last;

/* One writer per word: a plain load and a relaxed store, never torn. */
static inline void bump(uint64_t *p, uint64_t by)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + by, __ATOMIC_RELAXED);
}

size_t metrics_segment_size(size_t nslots)
{
    return sizeof(struct metrics_segment) + nslots * sizeof(struct metrics_slot);
}

int metrics_init(void)
{
    if (seg)
        return 0;
    /* About 120 MiB of address space, but pages are only touched as series
     * are added (a few KiB per worker in practice). */
    void *p = mmap(NULL, metrics_segment_size(METRICS_MAX_SLOTS), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    seg = p;
    seg->nslots = METRICS_MAX_SLOTS;
    return 0;
}

const struct metrics_segment *metrics_segment(void)
{
    return seg;
}

void metrics_bind_slot(size_t slot)
{
    mine = seg && slot < seg->nslots ? &seg->slots[slot] : NULL;
    last = NULL;
    if (mine)
        metrics_index_rebuild(&mine_ix, mine); /* a predecessor's series go on */
}

void metrics_set_workers(size_t n)
{
    if (!seg)
        return;
    if (n > seg->nslots)
        n = seg->nslots;
    __atomic_store_n(&seg->workers, (uint32_t)n, __ATOMIC_RELAXED);
    if (n > seg->slots_used)
        __atomic_store_n(&seg->slots_used, (uint32_t)n, __ATOMIC_RELEASE);
}

void metrics_count_reload(int ok)
{
    if (seg)
        bump(ok ? &seg->reloads_ok : &seg->reloads_failed, 1);
}

void metrics_count_restart(void)
{
    if (seg)
        bump(&seg->worker_restarts, 1);
}

void metrics_request_done(const struct request *r, double now)
{
    if (!mine)
        return;
    const char *label = r->route ? r->route->label : METRICS_NO_ROUTE;
    unsigned code = (unsigned)r->status;
    if (!last || label != last_label || code != last_code || strcmp(last->label, label) != 0) {
        last = metrics_slot_series(mine, &mine_ix, label, code);
        last_label = label;
        last_code = code;
    }
    metrics_observe(last, now - r->start);
}

size_t metrics_bucket(double seconds)
{
    for (size_t i = 0; i < METRICS_NBUCKETS - 1; i++)
        if (seconds <= metrics_bounds[i])
            return i;
    return METRICS_NBUCKETS - 1;
}

void metrics_observe(struct metrics_series *e, double seconds)
{
    bump(&e->buckets[metrics_bucket(seconds)], 1);
    if (seconds > 0) /* the loop's clock may step back */
        bump(&e->sum_ns, (uint64_t)(seconds * 1e9 + 0.5));
}

static size_t hash(const char *label, unsigned code)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)label; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ code) * 16777619u;
    return h & (METRICS_INDEX_SIZE - 1);
}

static void index_add(struct metrics_index *ix, const struct metrics_slot *s, size_t i)
{
    size_t h = hash(s->series[i].label, s->series[i].code);
    while (ix->at[h])
        h = (h + 1) & (METRICS_INDEX_SIZE - 1);
    ix->at[h] = (uint16_t)(i + 1);
}

void metrics_index_rebuild(struct metrics_index *ix, const struct metrics_slot *s)
{
    memset(ix, 0, sizeof(*ix));
    uint32_t n = __atomic_load_n(&s->nseries, __ATOMIC_ACQUIRE);
    for (size_t i = 0; i < n && i < METRICS_MAX_SERIES; i++)
        index_add(ix, s, i);
}

static struct metrics_series *lookup(struct metrics_slot *s, const struct metrics_index *ix,
                                     const char *label, unsigned code)
{
    for (size_t h = hash(label, code); ix->at[h]; h = (h + 1) & (METRICS_INDEX_SIZE - 1)) {
        struct metrics_series *e = &s->series[ix->at[h] - 1];
        if (e->code == code && strcmp(e->label, label) == 0)
            return e;
    }
    return NULL;
}

static struct metrics_series *insert(struct metrics_slot *s, struct metrics_index *ix,
                                     const char *label, unsigned code)
{
    uint32_t n = s->nseries;
    struct metrics_series *e = &s->series[n];
    /* Unpublished yet: no reader looks past nseries. A predecessor that died
     * here may have left bytes behind, hence the memset. */
    memset(e, 0, sizeof(*e));
    strcpy(e->label, label);
    e->code = code;
    __atomic_store_n(&s->nseries, n + 1, __ATOMIC_RELEASE);
    index_add(ix, s, n);
    return e;
}

struct metrics_series *metrics_slot_series(struct metrics_slot *s, struct metrics_index *ix,
                                           const char *label, unsigned code)
{
    if (strlen(label) >= METRICS_LABEL_MAX)
        label = METRICS_OTHER;
    struct metrics_series *e = lookup(s, ix, label, code);
    if (e)
        return e;
    int other = strcmp(label, METRICS_OTHER) == 0;
    uint32_t n = s->nseries;
    if (n < METRICS_MAX_SERIES - METRICS_OTHER_RESERVE || (other && n < METRICS_MAX_SERIES - 1))
        return insert(s, ix, label, code);
    if (!other)
        return metrics_slot_series(s, ix, METRICS_OTHER, code);
    /* Even the reserve is full: one last catch-all series. */
    if ((e = lookup(s, ix, METRICS_OTHER, 0)))
        return e;
    return n < METRICS_MAX_SERIES ? insert(s, ix, METRICS_OTHER, 0)
                                  : &s->series[METRICS_MAX_SERIES - 1];
}
