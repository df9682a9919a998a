/* Timeout lists: every connection waiting on the same timeout sits in one list,
 * ordered by deadline, with one ev_timer for the whole list (libev's
 * "same timeout, one list" pattern: O(1) touch, no heap per connection). */
#ifndef YH_TLIST_H
#define YH_TLIST_H

#include <ev.h>

struct tlist;

struct tnode {
    struct tnode *prev, *next;
    struct tlist *list; /* NULL when in no list */
    double deadline;
};

struct tlist {
    struct tnode head; /* sentinel of a circular list */
    double timeout;    /* seconds */
    ev_timer timer;
    struct ev_loop *loop;
    void (*expire)(struct tnode *n);
};

void tlist_init(struct tlist *l, struct ev_loop *loop, double timeout,
                void (*expire)(struct tnode *n));
/* Changes the timeout; nodes already queued keep their deadlines. */
void tlist_set_timeout(struct tlist *l, double timeout);
/* Puts n at the tail of l with deadline now + timeout (moving it from any list). */
void tlist_touch(struct tlist *l, struct tnode *n);
/* Same as tlist_touch, unless n is already in l (its deadline then stands). */
void tlist_enter(struct tlist *l, struct tnode *n);
void tlist_remove(struct tnode *n);
void tlist_stop(struct tlist *l);

#endif
