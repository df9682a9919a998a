/* Counters shared by the master and its workers: a MAP_SHARED page created
 * before fork, one slot per worker, written only by that worker (no locks). */
#ifndef YH_SHARED_STATS_H
#define YH_SHARED_STATS_H

#include <stddef.h>

#define STATS_MAX_SLOTS 1024

struct worker_stats {
    long connections; /* open now */
};

/* Maps the shared table (once, in the master). Returns 0 or -1. */
int stats_init(void);
/* This process's slot (set in a worker after fork; NULL when there is no table). */
void stats_bind_slot(size_t slot);
/* Adds delta to this process's open-connection count. */
void stats_connections_add(long delta);
/* Zeroes a slot (a worker died: its connections died with it). */
void stats_reset_slot(size_t slot);
/* Open connections of one slot (0 when there is no table). */
long stats_connections_of(size_t slot);
/* Sum of open connections over the first n slots. */
long stats_connections_total(size_t n);

#endif
