/* work_rules.c - a node's decisions on its leases (work_rules.h says what
 * and why). A few leases per worker wait here: a plain list in arrival
 * order, walked whole on a leader change. */
#include "work_rules.h"

#include <stdlib.h>

#include "worker.h"

struct taken {
    struct waiting_lease w;
    struct taken *next;
};

struct work_leases {
    struct taken *first, **tail;
    size_t count;
};

struct work_leases *work_leases_new(void)
{
    struct work_leases *w = calloc(1, sizeof *w);
    if (w != NULL)
        w->tail = &w->first;
    return w;
}

void work_leases_free(struct work_leases *w)
{
    if (w == NULL)
        return;
    while (w->first != NULL) {
        struct taken *t = w->first;
        w->first = t->next;
        free(t);
    }
    free(w);
}

size_t work_leases_count(const struct work_leases *w)
{
    return w->count;
}

bool work_rules_takes_from(uint64_t from, uint64_t self, uint64_t known_leader, bool is_member)
{
    return from == self || from == known_leader || is_member;
}

bool work_leases_holds(const struct work_leases *w, uint64_t granter, uint64_t lease)
{
    for (const struct taken *t = w->first; t != NULL; t = t->next)
        if (t->w.granter == granter && t->w.l.lease == lease)
            return true;
    return false;
}

bool work_leases_add(struct work_leases *w, uint64_t granter, const struct msg_lease *l)
{
    struct taken *t = malloc(sizeof *t);
    if (t == NULL)
        return false;
    *t = (struct taken){{granter, *l}, NULL};
    *w->tail = t;
    w->tail = &t->next;
    w->count++;
    return true;
}

bool work_leases_next(struct work_leases *w, uint64_t applied, struct waiting_lease *out)
{
    struct taken *t = w->first;
    if (t == NULL || applied < t->w.l.needs)
        return false; /* this replica lags: the lease waits for it */
    w->first = t->next;
    if (w->first == NULL)
        w->tail = &w->first;
    w->count--;
    *out = t->w;
    free(t);
    return true;
}

bool work_rules_can_serve(const struct queue *q, const struct msg_lease *l)
{
    struct batch_info info;
    return queue_batch_get(q, l->batch, &info) == 0 && info.state == BATCH_RUNNING &&
           l->hi <= info.total;
}

struct msg_lease_end work_rules_hand_back(const struct msg_lease *l)
{
    return (struct msg_lease_end){l->lease, l->lo, WORKER_JOB_ABORTED, 0, 0};
}

size_t work_rules_on_leader_change(struct work_leases *w, struct outbox *box, uint64_t leader,
                                   work_hand_back_fn *hand_back, void *ud)
{
    size_t handed = 0;
    outbox_unsend_all(box);
    for (struct taken **pp = &w->first; *pp != NULL;) {
        struct taken *t = *pp;
        if (leader == 0 || t->w.granter == leader) {
            pp = &t->next;
            continue;
        }
        *pp = t->next;
        w->count--;
        hand_back(ud, &t->w);
        free(t);
        handed++;
    }
    w->tail = &w->first;
    while (*w->tail != NULL)
        w->tail = &(*w->tail)->next;
    return handed;
}
