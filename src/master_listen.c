/* The master's listening sockets, kept open for its whole life so that a
 * respawned worker finds its queued connections waiting. */
#include "master_listen.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "listen.h"
#include "log.h"

static void listener_close(struct listener *l)
{
    for (size_t i = 0; i < l->nfds; i++)
        if (l->fds[i] >= 0)
            close(l->fds[i]);
    free(l->fds);
    free(l->text);
    memset(l, 0, sizeof(*l));
}

/* Opens sockets until the listener has `want` of them (one when shared). */
static int listener_grow(struct listener *l, const struct listen_addr *a, size_t want)
{
    if (l->shared)
        want = 1;
    if (want <= l->nfds)
        return 0;
    l->fds = realloc(l->fds, want * sizeof(*l->fds));
    if (!l->fds)
        abort();
    for (; l->nfds < want; l->nfds++) {
        char err[512];
        l->fds[l->nfds] = listen_open(a, !l->shared, err, sizeof(err));
        if (l->fds[l->nfds] < 0) {
            log_error("%s", err);
            return -1;
        }
    }
    return 0;
}

/* Closes the sockets of slots that no longer exist. */
static void listener_shrink(struct listener *l, size_t want)
{
    if (l->shared)
        return;
    while (l->nfds > want)
        close(l->fds[--l->nfds]);
}

static int listener_init(struct listener *l, const struct listen_addr *a, size_t slots)
{
    memset(l, 0, sizeof(*l));
    l->text = strdup(a->text);
    if (!l->text)
        abort();
    /* SO_REUSEPORT does not spread unix sockets: workers share one. */
    l->shared = a->addr.ss_family == AF_UNIX;
    return listener_grow(l, a, slots);
}

int listeners_open(struct listener_set *set, const struct config *cfg, size_t slots)
{
    memset(set, 0, sizeof(*set));
    return listeners_update(set, cfg, slots);
}

void listeners_adopt(struct listener_set *set, int n)
{
    memset(set, 0, sizeof(*set));
    set->activated = 1;
    set->items = calloc((size_t)n, sizeof(*set->items));
    if (!set->items)
        abort();
    for (int i = 0; i < n; i++) {
        struct listener *l = &set->items[i];
        l->shared = 1;
        l->text = strdup("socket-activated");
        l->fds = malloc(sizeof(int));
        if (!l->text || !l->fds)
            abort();
        l->fds[0] = 3 + i;
        l->nfds = 1;
    }
    set->n = (size_t)n;
}

static struct listener *find_listener(struct listener_set *set, const char *text)
{
    for (size_t i = 0; i < set->n; i++)
        if (set->items[i].text && strcmp(set->items[i].text, text) == 0)
            return &set->items[i];
    return NULL;
}

/* The next set's entry for an address already open: the same sockets, plus
 * any the added slots need. Only those new sockets are the entry's to close on
 * failure (`opened_from` marks them). */
static int listener_extend(struct listener *l, const struct listener *old,
                           const struct listen_addr *a, size_t slots, size_t *opened_from)
{
    *l = *old;
    l->text = strdup(old->text);
    l->fds = malloc((old->nfds > slots ? old->nfds : slots) * sizeof(int) + sizeof(int));
    if (!l->text || !l->fds)
        abort();
    memcpy(l->fds, old->fds, old->nfds * sizeof(int));
    *opened_from = old->nfds;
    return listener_grow(l, a, slots);
}

/* Undoes a failed update: closes only the sockets this update opened. */
static void discard_pending(struct listener *next, const size_t *opened_from, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        for (size_t j = opened_from[k]; j < next[k].nfds; j++)
            close(next[k].fds[j]);
        free(next[k].fds);
        free(next[k].text);
    }
}

int listeners_update(struct listener_set *cur, const struct config *cfg, size_t slots)
{
    if (cur->activated)
        return 0; /* systemd owns the addresses */
    size_t n = cfg->nlistens;
    struct listener *next = calloc(n, sizeof(*next));
    size_t *opened_from = calloc(n, sizeof(*opened_from));
    if (!next || !opened_from)
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct listener *old = find_listener(cur, cfg->listens[i].text);
        int rc = old ? listener_extend(&next[i], old, &cfg->listens[i], slots, &opened_from[i])
                     : listener_init(&next[i], &cfg->listens[i], slots);
        if (rc < 0) {
            discard_pending(next, opened_from, i + 1);
            free(next);
            free(opened_from);
            return -1;
        }
    }
    /* Commit: sockets still in use move over; the rest of the old set closes. */
    for (size_t i = 0; i < n; i++) {
        struct listener *old = find_listener(cur, next[i].text);
        if (old) {
            free(old->fds);
            free(old->text);
            memset(old, 0, sizeof(*old));
        }
        listener_shrink(&next[i], slots);
    }
    listeners_close(cur);
    cur->items = next;
    cur->n = n;
    free(opened_from);
    return 0;
}

void listeners_for_slot(const struct listener_set *set, size_t slot, int *fds)
{
    for (size_t i = 0; i < set->n; i++) {
        const struct listener *l = &set->items[i];
        fds[i] = l->shared ? l->fds[0] : l->fds[slot];
    }
}

void listeners_close(struct listener_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        listener_close(&set->items[i]);
    free(set->items);
    set->items = NULL;
    set->n = 0;
}
