/* The master's listening sockets: one SO_REUSEPORT socket per worker per
 * address, or one shared socket (unix sockets, socket activation). */
#ifndef YH_MASTER_LISTEN_H
#define YH_MASTER_LISTEN_H

#include <stddef.h>

struct config;

struct listener {
    char *text; /* the `listen:` entry, to match across reloads */
    int shared; /* one socket for every worker */
    int *fds;   /* per worker slot, or fds[0] when shared */
    size_t nfds;
};

struct listener_set {
    struct listener *items;
    size_t n;
    int activated; /* from LISTEN_FDS: fixed for the master's life */
};

/* Opens every listener of cfg for `slots` workers. Returns 0, or -1 (logged). */
int listeners_open(struct listener_set *set, const struct config *cfg, size_t slots);
/* Adopts n socket-activated fds (starting at 3), shared by all workers. */
void listeners_adopt(struct listener_set *set, int n);
/*
 * Builds the set for a new config and worker count from the current one,
 * reusing sockets of unchanged addresses. Returns 0, or -1 (logged) leaving
 * `cur` untouched. On success the sockets no longer needed are closed.
 */
int listeners_update(struct listener_set *cur, const struct config *cfg, size_t slots);
/* The listening fds of worker slot i, in config order, into fds (at least set->n). */
void listeners_for_slot(const struct listener_set *set, size_t slot, int *fds);
/* Closes every socket in the set (the start of a stop: new connections are refused). */
void listeners_close(struct listener_set *set);

#endif
