/* The per-worker open-file cache (one process, one loop: no locking). */
#include "filecache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FC_BUCKETS 2048

static struct {
    struct fc_entry *buckets[FC_BUCKETS];
    struct fc_entry lru; /* sentinel: lru.lru_next is the least recently used */
    size_t n;
} cache;

static size_t bucket_of(const void *owner, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)owner;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return (size_t)(h % FC_BUCKETS);
}

static void lru_init(void)
{
    if (!cache.lru.lru_next)
        cache.lru.lru_next = cache.lru.lru_prev = &cache.lru;
}

static void lru_unlink(struct fc_entry *e)
{
    e->lru_prev->lru_next = e->lru_next;
    e->lru_next->lru_prev = e->lru_prev;
}

static void lru_push(struct fc_entry *e)
{
    e->lru_prev = cache.lru.lru_prev;
    e->lru_next = &cache.lru;
    cache.lru.lru_prev->lru_next = e;
    cache.lru.lru_prev = e;
}

static void entry_free(struct fc_entry *e)
{
    if (e->fd >= 0)
        close(e->fd);
    free(e->key);
    free(e);
}

/* Takes e out of the table; it is freed now or by its last release. */
static void evict(struct fc_entry *e)
{
    struct fc_entry **pp = &cache.buckets[bucket_of(e->owner, e->key)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(e);
    e->linked = 0;
    cache.n--;
    if (e->refs == 0)
        entry_free(e);
}

struct fc_entry *fc_get(const void *owner, const char *key, double now)
{
    lru_init();
    for (struct fc_entry *e = cache.buckets[bucket_of(owner, key)]; e; e = e->hnext) {
        if (e->owner != owner || strcmp(e->key, key) != 0)
            continue;
        if (e->expires <= now) {
            evict(e);
            return NULL;
        }
        lru_unlink(e);
        lru_push(e);
        e->refs++;
        return e;
    }
    return NULL;
}

struct fc_entry *fc_put(const void *owner, const char *key, int fd, const struct stat *st,
                        double now)
{
    lru_init();
    while (cache.n >= FC_MAX_ENTRIES)
        evict(cache.lru.lru_next);
    struct fc_entry *e = calloc(1, sizeof(*e));
    if (!e || !(e->key = strdup(key)))
        abort();
    e->fd = fd;
    if (st)
        e->st = *st;
    e->owner = owner;
    e->expires = now + FC_TTL_SECONDS;
    e->refs = 1;
    e->linked = 1;
    size_t b = bucket_of(owner, key);
    e->hnext = cache.buckets[b];
    cache.buckets[b] = e;
    lru_push(e);
    cache.n++;
    return e;
}

void fc_release(struct fc_entry *e)
{
    if (--e->refs == 0 && !e->linked)
        entry_free(e);
}

void fc_forget_owner(const void *owner)
{
    lru_init();
    struct fc_entry *e = cache.lru.lru_next;
    while (e != &cache.lru) {
        struct fc_entry *next = e->lru_next;
        if (e->owner == owner)
            evict(e);
        e = next;
    }
}
