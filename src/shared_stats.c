/* Counters shared by the master and its workers. */
#include "shared_stats.h"

#include <sys/mman.h>

static struct worker_stats *table;
static struct worker_stats *mine;

int stats_init(void)
{
    if (table)
        return 0;
    void *p = mmap(NULL, sizeof(struct worker_stats) * STATS_MAX_SLOTS, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    table = p;
    return 0;
}

void stats_bind_slot(size_t slot)
{
    mine = table && slot < STATS_MAX_SLOTS ? &table[slot] : NULL;
    if (mine)
        __atomic_store_n(&mine->connections, 0, __ATOMIC_RELAXED);
}

void stats_connections_add(long delta)
{
    if (mine)
        __atomic_add_fetch(&mine->connections, delta, __ATOMIC_RELAXED);
}

void stats_reset_slot(size_t slot)
{
    if (table && slot < STATS_MAX_SLOTS)
        __atomic_store_n(&table[slot].connections, 0, __ATOMIC_RELAXED);
}

long stats_connections_of(size_t slot)
{
    return table && slot < STATS_MAX_SLOTS
               ? __atomic_load_n(&table[slot].connections, __ATOMIC_RELAXED)
               : 0;
}

long stats_connections_total(size_t n)
{
    long sum = 0;
    for (size_t i = 0; table && i < n && i < STATS_MAX_SLOTS; i++)
        sum += __atomic_load_n(&table[i].connections, __ATOMIC_RELAXED);
    return sum;
}
