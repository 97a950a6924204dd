/* outbox.h - a node's results not yet seen committed, as a small table.
 *
 * Results wait here from the moment a worker gives them until this
 * replica shows them committed: they are sent to the leader once, again to
 * a new leader after a failover, and again when RESEND_MS pass without
 * their commit while nothing at all is committed (a link reset loses what
 * it had queued). The table decides what to send and when; work.c sends.
 * No clock of its own (each call is told the time), no I/O: its rules run
 * in a C test (tests/node/test_outbox.c). doc/DESIGN.md, "Leases settle". */
#ifndef MESH_NODE_OUTBOX_H
#define MESH_NODE_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshmsg.h"
#include "queue.h"

enum {
    OUTBOX_SEND_MAX = 4096,     /* results in one RESULTS message */
    /* ... and their text bytes: a message must stay under the link's 1 MiB
     * (a spread batch's result is up to 64 KiB of relations). */
    OUTBOX_SEND_BYTES = 768 << 10,
    OUTBOX_RESEND_MS = 3000,    /* sent, not committed this long: send again */
    OUTBOX_CHECK_MS = 1000,     /* how often to look for lost results */
};

struct outbox;

struct outbox *outbox_new(void);
void outbox_free(struct outbox *o);

/* Keeps a result (text of len bytes, copied); false when out of memory:
 * then the index stays pending and is leased again. */
bool outbox_add(struct outbox *o, uint64_t batch, uint64_t index, const char *text,
                size_t len);
size_t outbox_count(const struct outbox *o);   /* results kept */
size_t outbox_unsent(const struct outbox *o);  /* of those, waiting to be sent */
/* Bytes allocated for them (capacity, not use): pruning gives back what a
 * burst left behind. */
size_t outbox_held_bytes(const struct outbox *o);

/* What to send next: up to `max` unsent results of one batch (the oldest
 * unsent result's) and of at most OUTBOX_SEND_BYTES of text (at least one),
 * in production order, into items (texts borrowed: valid
 * until the box changes) and their places into which. Returns the count;
 * 0 when nothing is unsent. */
size_t outbox_next(const struct outbox *o, uint64_t *batch, struct msg_result *items,
                   size_t *which, size_t max);
/* Those `count` results went out at now_ms. */
void outbox_sent(struct outbox *o, const size_t *which, size_t count, uint64_t now_ms);

/* A new leader: everything kept is unsent again (the old one may have
 * dropped what it had not proposed). */
void outbox_unsend_all(struct outbox *o);

/* Results of `batch` (of every batch when `all`) that q shows committed,
 * or whose batch is no longer running, leave the box. */
void outbox_prune(struct outbox *o, const struct queue *q, uint64_t batch, bool all);
/* The oldest results, up to the first q does not show committed (or of
 * a batch no longer running), leave the box: what a commit settles when
 * results commit in about the order they were sent. It costs the results
 * that leave, not a pass over all the box holds (that pass, per applied
 * entry, was a tenth of a leader's CPU on trivial numbers); anything left
 * behind a result not yet committed leaves at outbox_check's full prune. */
void outbox_prune_front(struct outbox *o, const struct queue *q);
/* This replica applied a commit (of anyone's results) at now_ms. */
void outbox_commit_seen(struct outbox *o, uint64_t now_ms);

/* Once every OUTBOX_CHECK_MS (false otherwise, and then nothing changes):
 * committed results leave, and when nothing was committed for
 * OUTBOX_RESEND_MS, those sent that long ago are unsent again; *again says
 * how many. Results are deterministic and the leader skips what is done,
 * so a needless resend costs only bytes; but while commits flow, results
 * may merely wait in the leader's queue, and resending them would feed an
 * overloaded leader more of the same. */
bool outbox_check(struct outbox *o, const struct queue *q, uint64_t now_ms, size_t *again);

#endif
