/* Timeout lists: one ev_timer per list of connections sharing a timeout. */
#include "tlist.h"

#include <stddef.h>

static void tlist_arm(struct tlist *l)
{
    if (l->head.next == &l->head) {
        ev_timer_stop(l->loop, &l->timer);
        return;
    }
    double after = l->head.next->deadline - ev_now(l->loop);
    /* An armed timer due no later than the head re-arms itself when it fires. */
    if (ev_is_active(&l->timer)) {
        if (ev_timer_remaining(l->loop, &l->timer) <= after)
            return;
        ev_timer_stop(l->loop, &l->timer);
    }
    ev_timer_set(&l->timer, after > 0 ? after : 0, 0.);
    ev_timer_start(l->loop, &l->timer);
}

static void tlist_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct tlist *l = w->data;
    double now = ev_now(loop);
    while (l->head.next != &l->head && l->head.next->deadline <= now) {
        struct tnode *n = l->head.next;
        tlist_remove(n);
        l->expire(n); /* may free n's owner */
    }
    tlist_arm(l);
}

void tlist_init(struct tlist *l, struct ev_loop *loop, double timeout,
                void (*expire)(struct tnode *n))
{
    l->head.prev = l->head.next = &l->head;
    l->head.list = l;
    l->timeout = timeout;
    l->loop = loop;
    l->expire = expire;
    ev_init(&l->timer, tlist_fire);
    l->timer.data = l;
}

void tlist_set_timeout(struct tlist *l, double timeout)
{
    l->timeout = timeout;
}

void tlist_remove(struct tnode *n)
{
    if (!n->list)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
    n->list = NULL;
}

void tlist_touch(struct tlist *l, struct tnode *n)
{
    tlist_remove(n);
    n->deadline = ev_now(l->loop) + l->timeout;
    n->prev = l->head.prev;
    n->next = &l->head;
    l->head.prev->next = n;
    l->head.prev = n;
    n->list = l;
    tlist_arm(l);
}

void tlist_enter(struct tlist *l, struct tnode *n)
{
    if (n->list != l)
        tlist_touch(l, n);
}

void tlist_stop(struct tlist *l)
{
    while (l->head.next != &l->head)
        tlist_remove(l->head.next);
    ev_timer_stop(l->loop, &l->timer);
}
