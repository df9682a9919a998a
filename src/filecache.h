/* The per-worker open-file cache: path -> (fd, stat) for a short TTL, so hot
 * files cost no open/stat per request. Entries are reference-counted: an
 * answer still being sent keeps its fd open after eviction. */
#ifndef YH_FILECACHE_H
#define YH_FILECACHE_H

#include <stddef.h>
#include <sys/stat.h>

#define FC_TTL_SECONDS 1.0
#define FC_MAX_ENTRIES 1024

struct fc_entry {
    int fd;         /* -1: a cached "does not exist" */
    struct stat st; /* valid when fd >= 0 */
    /* private */
    struct fc_entry *hnext, *lru_prev, *lru_next;
    const void *owner;
    char *key;
    double expires;
    int refs;
    int linked;
};

/* The live entry for (owner, key), referenced (release it), or NULL when absent or expired. */
struct fc_entry *fc_get(const void *owner, const char *key, double now);
/* Caches fd (taken; -1 records absence) and its stat; returns the entry, referenced. */
struct fc_entry *fc_put(const void *owner, const char *key, int fd, const struct stat *st,
                        double now);
/* Drops a reference; the fd closes once the entry is evicted and unreferenced. */
void fc_release(struct fc_entry *e);
/* Evicts every entry of owner (its handler is being destroyed). */
void fc_forget_owner(const void *owner);

#endif
