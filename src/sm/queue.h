/* queue.h - the replicated state machine: batches and their results.
 *
 * The ONLY way to change state is queue_apply(command). The Raft log replays
 * the same commands on every member, so apply is deterministic and free of
 * side effects: no clock, no randomness, no I/O. Everything else here is a
 * read-only view for the scheduler, the control socket and the CLI. */
#ifndef MESH_QUEUE_H
#define MESH_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

enum { QRESULT_MAX_TEXT = 65536, QUEUE_NAME_MAX = 64 };
enum { QUEUE_FILE_HASH_BYTES = 32 };   /* BLAKE2b-256: a result file's name */

enum qcmd_type {
    QCMD_SUBMIT = 1,
    QCMD_COMPLETE = 2,
    QCMD_CANCEL = 3,
    QCMD_DRAIN = 4,
    QCMD_LIST_PART = 5,  /* one part of a list uploaded in parts (see qcmd_split) */
    QCMD_FORGET = 6,     /* finished or cancelled batches whose results go */
    QCMD_COMPLETE_BLOCK = 7, /* COMPLETE as one compact block (qcmd_block.c):
                                what the leader proposes */
};
/* Why batches were forgotten (FORGET), shown with the id afterwards. */
enum forget_reason {
    FORGET_BY_USER = 1,     /* mesh forget, the dashboard */
    FORGET_BY_AGE = 2,      /* older than --keep-results */
    FORGET_BY_BUDGET = 3,   /* the oldest, past --results-budget */
    FORGET_BY_READER = 4,   /* mesh results --forget, once every line was read */
};
#define FORGET_REASON_MAX FORGET_BY_READER
/* Ids in one FORGET; the tombstones kept of forgotten batches (the newest:
 * a forgotten id is told as such for a while, then as unknown). */
enum { QCMD_FORGET_MAX = 1024, QUEUE_MAX_FORGOTTEN = 4096 };
const char *forget_reason_text(enum forget_reason why);
enum batch_state { BATCH_RUNNING = 1, BATCH_DONE = 2, BATCH_CANCELLED = 3 };

/* text: the result of one number in the canonical form used by
 * `mesh results`: the prime factors ascending separated by single spaces
 * ("" for 0 and 1), optionally followed by " unfactored:C" when the budget
 * ran out (C = remaining composite). Decoders check the length
 * (<= QRESULT_MAX_TEXT) and the charset [0-9a-z: ]; COMPLETE also checks
 * the grammar (qresult_text_well_formed), never the arithmetic: that is
 * the leader's check before it proposes (src/factor/verify.h). */
struct qresult {
    uint64_t index;
    char *text;
};

struct qcmd {
    enum qcmd_type type;
    uint64_t batch_id;          /* COMPLETE, CANCEL; SUBMIT: the id asked for
                                   (0: the next; taken: the next free above) */
    bool import;                /* SUBMIT: a batch of another cluster (a merge)
                                   keeping its id; a copy of one already here
                                   (same id, spec and name) is a no-op */
    struct batch_spec spec;     /* SUBMIT; when upload_id != 0 a LIST spec with
                                   only count, chunk and list_len set (list
                                   and offsets NULL): the staged upload must
                                   match them */
    char name[QUEUE_NAME_MAX];  /* SUBMIT: optional label, NUL-terminated,
                                   no control characters */
    uint64_t token;             /* SUBMIT: the writer's random write token (0:
                                   none); a SUBMIT whose token a batch here
                                   already carries is that batch (a resend
                                   after a leader change), not a new one */
    struct qresult *results;    /* COMPLETE: many per command (malloc'd) */
    char *result_texts;         /* COMPLETE from qcmd_decode: every text lives
                                   here (one block, not a malloc per number) */
    size_t n_results;
    uint8_t *block;             /* COMPLETE_BLOCK from qcmd_decode: its gaps and
                                   compact items, checked (malloc'd; results
                                   stays NULL). A block made to be proposed
                                   sets results instead */
    size_t block_len;
    uint64_t node_id;           /* DRAIN: the node (a Raft id, never 0) */
    bool drained;               /* DRAIN: true drains, false undrains */
    uint64_t upload_id;         /* LIST_PART; SUBMIT of an uploaded list (else 0) */
    uint64_t part_offset;       /* LIST_PART: the upload's bytes before this part
                                   (a resent part is recognised and skipped);
                                   QCMD_PART_APPEND in format 2 entries */
    char *part;                 /* LIST_PART: whole numbers of the packed list,
                                   each NUL-terminated (malloc'd) */
    size_t part_len;
    uint64_t time_ms;           /* every command: the proposer's wall clock,
                                   ms since the epoch (0: unknown, an entry
                                   of an earlier format). The log's own time:
                                   apply reads it, never a local clock */
    uint64_t *forget;           /* FORGET: batch ids (malloc'd) */
    size_t n_forget;            /* FORGET: 1..QCMD_FORGET_MAX */
    uint8_t forget_reason;      /* FORGET: enum forget_reason */
};

/* part_offset of a LIST_PART from a format 2 entry: appended as it comes. */
#define QCMD_PART_APPEND UINT64_MAX
/* The first byte of an encoded command is its format: the current one
 * (written), and the earlier ones (still read: 4 before batch budgets, 3
 * before the proposer's time, 2 before write tokens). */
enum { QCMD_FORMAT = 5, QCMD_FORMAT_NO_BUDGET = 4, QCMD_FORMAT_NO_TIME = 3,
       QCMD_FORMAT_OLDEST = 2 };
/* A snapshot starts "MQS" and its format byte: the current one (written)
 * and the earlier ones (still read: 5 before manifests, 4 before batch budgets, 3 before
 * batch times, 2 before write tokens). */
enum { QUEUE_SNAPSHOT_FORMAT = 6, QUEUE_SNAPSHOT_FORMAT_INLINE = 5,
       QUEUE_SNAPSHOT_FORMAT_NO_BUDGET = 4,
       QUEUE_SNAPSHOT_FORMAT_NO_TIMES = 3, QUEUE_SNAPSHOT_FORMAT_OLDEST = 2 };

/* Frees spec, result texts and the results array; zeroes c. */
void qcmd_free(struct qcmd *c);
/* 0 with a malloc'd buffer, or -1 (invalid command or ENOMEM). */
int qcmd_encode(const struct qcmd *c, uint8_t **buf, size_t *len);
/* Fuzzed: -1 on any bad byte (c left zeroed), 0 with c owning its memory. */
int qcmd_decode(const uint8_t *buf, size_t len, struct qcmd *c);
/* Turns one SUBMIT into the commands that carry it in log entries whose
 * qcmd_encode size is at most max_payload bytes each (for raft entries:
 * ENTRY_MAX_BYTES - ENTRY_HEADER_BYTES). A SUBMIT that fits, or is not a
 * list, becomes one command: a copy of itself. A bigger list becomes
 * LIST_PART commands tagged upload_id (non-zero, chosen at random by the
 * proposer so concurrent uploads never collide), cut at number boundaries,
 * then a final SUBMIT naming the upload; propose them in order. The batch
 * exists only once that SUBMIT applies; an upload whose SUBMIT never comes
 * is dropped by the queue after UPLOAD_IDLE_LIMIT further commands.
 * *cmds is a malloc'd array of *n commands: qcmd_free each, then free it.
 * 0, or -1 (invalid submit, upload_id 0, max_payload too small, ENOMEM). */
int qcmd_split(const struct qcmd *submit, size_t max_payload, uint64_t upload_id,
               struct qcmd **cmds, size_t *n);
/* Puts FORGET ids in the command's form (ascending, no repeats): returns
 * how many are left. */
size_t qcmd_forget_normalize(uint64_t *ids, size_t n);
/* True when text[0..len) is an acceptable result text (see struct qresult). */
bool qresult_text_valid(const char *text, size_t len);
/* True when text[0..len) is "f1 f2 ... [unfactored:C]", "unfactored:C" or
 * "": positive decimals without leading zeros, single spaces; or a spread
 * batch's relations, "rels:" and base-32 letters [0-9a-v]. */
bool qresult_text_well_formed(const char *text, size_t len);

struct queue;
struct queue *queue_new(void);
void queue_free(struct queue *q);

/* What an applied command did, for the caller's effects (waking waiters,
 * aborting workers, logging). Zeroed by queue_apply before anything else. */
struct queue_outcome {
    uint64_t batch_id;  /* SUBMIT: the id assigned; COMPLETE, CANCEL: the target */
    uint64_t node_id;   /* DRAIN: the node */
    uint64_t recorded;  /* COMPLETE: results newly recorded (not duplicates) */
    bool finished;      /* COMPLETE: this command made the batch DONE */
    size_t forgotten;   /* FORGET: batches forgotten (their ids are the
                           command's, minus the refused ones) */
};

/* Applies a command. out may be NULL.
 * SUBMIT validates the spec and name, assigns the id it asks for, or the
 *   next (1, 2, 3...), moving up past taken ids, and returns it in
 *   out->batch_id. An import already applied (same id, spec, name) returns
 *   that batch's id and changes nothing, so a merge may resend.
 * COMPLETE records results for indexes not yet done. A duplicate for a done
 *   index is ignored (leases can be re-issued); an index >= count or a bad
 *   text is an error for that entry only: the other entries are still applied
 *   and -1 is returned naming the first bad entry. When the last index
 *   completes the batch becomes DONE. COMPLETE on a CANCELLED batch is
 *   ignored (returns 0).
 * CANCEL marks RUNNING -> CANCELLED (results so far kept). Cancelling a
 *   CANCELLED batch is a no-op (0); a DONE batch is an error.
 * LIST_PART stages its part (refused when malformed or over the size cap).
 * SUBMIT with upload_id assembles the staged parts, checks them against
 *   spec.count and spec.list_len, and drops the upload whether or not the
 *   batch is created.
 * DRAIN sets or clears the node's drained flag (idempotent both ways).
 * FORGET drops each listed DONE or CANCELLED batch and its results, keeping
 *   a tombstone (id, time, reason; the newest QUEUE_MAX_FORGOTTEN). An id
 *   already forgotten is a no-op; a RUNNING or unknown one is refused (-1,
 *   naming the first) while the others are still forgotten.
 * Returns 0, or -1 with err when the command is refused (unknown batch,
 * already done, a bad entry): a refusal changes nothing beyond what the
 * comment above says and is an outcome for the proposer, not a failure.
 * Out of memory never returns: it aborts (see sm_oom.h), because a replica
 * that skipped a committed command would diverge. */
int queue_apply(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                char *err, size_t errlen);

struct batch_info {
    uint64_t id;
    enum batch_state state;
    uint64_t total, done, unfactored;
    uint32_t chunk;
    char name[QUEUE_NAME_MAX];
    uint64_t token;                 /* its SUBMIT's write token (0: none): a
                                       merge exports it with the batch */
    const struct batch_spec *spec;  /* owned by the queue; valid until the
                                       next queue_apply (a FORGET frees it) */
    uint64_t submitted_ms;          /* its SUBMIT's time (0: unknown) */
    uint64_t ended_ms;              /* when it became DONE or CANCELLED
                                       (0: running, or unknown) */
    uint64_t bytes;                 /* memory its results hold */
    bool results_elsewhere;         /* restored from a manifest, its file not
                                       loaded yet: its results read as absent */
};

/* A batch forgotten (queue_forgotten). */
struct forgotten_info {
    uint64_t id, time_ms;
    enum forget_reason why;
};

/* What the results of retained batches cost: every batch, and the running
 * ones (never forgotten by age or budget) on their own. */
struct retained_info {
    size_t batches, running;
    uint64_t bytes, running_bytes;
};

size_t queue_batch_count(const struct queue *q);
int queue_batch_at(const struct queue *q, size_t i, struct batch_info *out); /* in id order */
int queue_batch_get(const struct queue *q, uint64_t id, struct batch_info *out); /* -1 unknown */
/* Id the next SUBMIT will get. */
uint64_t queue_next_batch_id(const struct queue *q);
/* Batch ids are unique mesh-wide, so that two clusters that meet can merge
 * without renumbering a batch a user was given: each cluster numbers its
 * batches from its own base, a 16-bit tag of its id times 2^20 (a million
 * batches each before they run on into the next range; ids stay within 11
 * digits, short enough to read and type). Two clusters with the same tag
 * (1 in 65536) still merge: a clashing import takes the next free id, and
 * the merge logs the new one. The proposer asks for the id in the SUBMIT,
 * so every replica assigns the same. */
uint64_t queue_batch_id_base(uint64_t cluster_id);
/* The id the next SUBMIT of cluster cluster_id (0: none yet) gets: the
 * queue's next, or the cluster's base while its range is unused. */
uint64_t queue_next_batch_id_in(const struct queue *q, uint64_t cluster_id);
bool queue_is_done(const struct queue *q, uint64_t id, uint64_t index);
/* NULL if unknown or not done. The text is made from the stored item into
 * q's one buffer: valid until the next queue_result, queue_apply,
 * queue_restore or queue_free on q (copy it to keep two). */
const char *queue_result(const struct queue *q, uint64_t id, uint64_t index);
/* Number of consecutive done indexes starting at `from` (for streaming
 * results in order). 0 for an unknown batch. */
uint64_t queue_done_prefix(const struct queue *q, uint64_t id, uint64_t from);
/* First not-done index >= from, or count if none (the scheduler's requeue
 * scan). 0 for an unknown batch. */
uint64_t queue_next_pending(const struct queue *q, uint64_t id, uint64_t from);

void queue_retained(const struct queue *q, struct retained_info *out);
/* retained_info.bytes alone, in O(1). */
uint64_t queue_retained_bytes(const struct queue *q);
/* ... of the batches a snapshot carries inline (running, or finished and
 * not moved to a file yet), in O(1): the part of a snapshot's size that
 * grows with results (the rest names files, "Manifest snapshots"). */
uint64_t queue_inline_bytes(const struct queue *q);
/* 0 with *out when id was forgotten and its tombstone is still kept; -1. */
int queue_forgotten(const struct queue *q, uint64_t id, struct forgotten_info *out);
size_t queue_forgotten_count(const struct queue *q);
/* Tombstones this replica recorded since it was made (a snapshot restores
 * the kept ones as recorded): the t-th (from 0) while it is still kept, or
 * NULL. Lets the leader tell each batch forgotten once, as an event. */
uint64_t queue_forgotten_total(const struct queue *q);
const struct forgotten_info *queue_forgotten_nth(const struct queue *q, uint64_t t);

/* The replicated drained flags: the ids in ascending order. */
bool queue_node_drained(const struct queue *q, uint64_t node_id);
size_t queue_drained_count(const struct queue *q);
uint64_t queue_drained_at(const struct queue *q, size_t i);  /* 0 when i is past the end */

/* Spilling (spill.c): the results of a finished batch move from memory to
 * their canonical file in dir (named by its hash, see result files below),
 * written and hashed a few pages per step on the owner's thread, fsync'd,
 * renamed into place, then mapped read-only. What the queue holds does not
 * change, only where: replicas may spill at different times and stay
 * identical (a snapshot names a spilled batch's file, and carries a batch
 * still in memory inline: both restore to the same state).
 * start: a job for the lowest finished batch still in memory, else for
 *   the lowest segment of a running batch whose qseg_pages pages are all
 *   full (NULL with errno ENOENT when there is none, or another errno).
 * step: writes up to max_pages more pages: 1 more to do, 0 done, -1 failed
 *   (errno: ENOSPC, EIO...; ENOENT: the batch was forgotten meanwhile).
 * finish: maps the file in place of the batch's pages; 0, or -1 (errno).
 *   finish and abort free the job. */
struct queue_spill;
struct queue_spill *queue_spill_start(const struct queue *q, const char *dir);
/* The same for a finished batch only, or a running batch's segment only:
 * an owner may run one job of each at once (they never write the same
 * pages: a finished batch's own file waits for no segment job). */
struct queue_spill *queue_spill_start_whole(const struct queue *q, const char *dir);
struct queue_spill *queue_spill_start_segment(const struct queue *q, const char *dir);
int queue_spill_step(struct queue_spill *s, const struct queue *q, uint64_t max_pages);
int queue_spill_finish(struct queue_spill *s, struct queue *q);
/* Between the last step and finish, optionally: the file's fdatasync, its
 * rename to its hash and the dir's fsync, which touch the job alone (not
 * the queue), so an owner may run it on another thread meanwhile leaving
 * the job alone; finish then maps it. 0, or -1 (errno; finish fails alike).
 * A job aborted after it leaves the named file to the sweep of files no
 * batch names. */
int queue_spill_name(struct queue_spill *s);
void queue_spill_abort(struct queue_spill *s);
uint64_t queue_spill_batch(const struct queue_spill *s);
/* Whether the job writes a running batch's segment (a run of qseg_pages
 * full pages, queue_state.h), not a finished batch's whole file. */
bool queue_spill_is_segment(const struct queue_spill *s);
bool queue_batch_spilled(const struct queue *q, uint64_t id);
/* A finished batch's segments, once its own file is written (spill.c
 * removes their files then; spill_segments.c): a snapshot taken before may
 * still name them, and the own file holds their bytes.
 * read: up to max bytes at offset of the segment of hash, made from its
 *   batch's own file (for a peer asking for it), and its length in
 *   *total; the bytes read (0 past the end), or -1 with errno ENOENT (no
 *   batch with its own file mapped here has that segment) or EBADMSG (its
 *   own file does not hold it).
 * rebuild: the file of the first segment batch id waits for (restored from
 *   a snapshot naming it), made in dir from a file there (its own file,
 *   found by its header) and taken only if the bytes hash to the
 *   segment's name; 0, or -1 with errno ENOENT (no such file: fetch it).
 * source: whether the file at path may be such a file (its header's count
 *   is that of a batch waiting for segments): the sweep keeps it. */
int64_t queue_segment_read(const struct queue *q, const uint8_t *hash, uint64_t offset,
                           void *buf, size_t max, uint64_t *total);
int queue_segment_rebuild(const struct queue *q, uint64_t id, const char *dir);
bool queue_segment_source(const struct queue *q, const char *path);

/* Result files (result_file.c), DATA_DIR/results/<64 hex digits>: a
 * finished batch's results in their canonical form, named by the
 * BLAKE2b-256 of the file. A snapshot names them (a manifest) instead of
 * carrying them; a batch restored from a manifest has its results
 * "elsewhere" until its file is loaded, here or fetched from a peer.
 * wanted: the first batch at or after *at whose results are elsewhere
 *   (*at moves past it); false when there is none.
 * load: maps dir/<hash>, checks its hash and layout against the batch,
 *   and makes it the batch's results. 0, or -1 with errno: ENOENT (no
 *   such file, or no such batch waiting), EBADMSG (the file is damaged:
 *   wrong size, hash or layout), another (I/O).
 * names: whether some batch of q has its results in the file of hash.
 * sweep: removes files in dir that no batch of q names (but those a
 *   batch waiting for segments may rebuild them from), and with
 *   leftovers the files of interrupted writes (*.tmp, *.part: only at
 *   start, when none is being written). The number removed. */
struct queue_file_ref {
    uint64_t batch_id;
    uint8_t hash[QUEUE_FILE_HASH_BYTES];
    uint64_t len;
};
bool queue_results_wanted(const struct queue *q, size_t *at, struct queue_file_ref *ref);
int queue_results_load(struct queue *q, uint64_t id, const char *dir);
/* The same load in three steps, so that the costly part (the hash and the
 * layout check read the whole file: ~0.3 s for a 10M-result batch) runs
 * on a worker thread while the owner keeps applying:
 * start (owner's thread): maps the file of waiting batch id and copies its
 *   manifest entry; NULL with errno as load's (EBADMSG: wrong size).
 * check (any thread; reads only the job): hash, then layout.
 * finish (owner's thread): installs the mapping if the check passed and
 *   the batch of q still waits for the same file; 0, or -1 with errno
 *   EBADMSG (damaged), ENOENT (the batch no longer waits for that file:
 *   forgotten, loaded, or the replica was replaced). Frees the job.
 * abort frees a job at any step (not while check runs). */
struct queue_load;
struct queue_load *queue_load_start(const struct queue *q, uint64_t id, const char *dir);
void queue_load_check(struct queue_load *l);
int queue_load_finish(struct queue_load *l, struct queue *q);
void queue_load_abort(struct queue_load *l);
uint64_t queue_load_batch(const struct queue_load *l);
bool queue_names_file(const struct queue *q, const uint8_t *hash);
size_t queue_results_sweep(const struct queue *q, const char *dir, bool leftovers);
/* "dir/<hex of hash>" into out (at least strlen(dir) + 66 bytes). */
void queue_file_path(const char *dir, const uint8_t *hash, char *out, size_t size);
/* Checks a file of len bytes against hash in one pass: true when it matches. */
bool queue_file_hash_ok(const void *map, size_t len, const uint8_t *hash);

/* Snapshot of the whole state (malloc'd). Restore into an EMPTY queue (one
 * that never applied anything); -1 on malformed input, leaving q empty. */
int queue_snapshot(const struct queue *q, uint8_t **buf, size_t *len);

/* The same snapshot in steps, so the costly encoding (~0.7 s for 10M
 * results) can run on a worker thread while the owner keeps applying:
 * queue_freeze (owner's thread; copies only the state apply may still
 * change, ~1 ms per 10M results), queue_freeze_encode (any thread, any
 * time before the thaw; the bytes are the state at the freeze), queue_thaw
 * (owner's thread). While a freeze is held, queue_apply is fine but
 * queue_restore into q and queue_free(q) are not: thaw first. */
struct queue_freeze;
struct queue_freeze *queue_freeze(struct queue *q);  /* NULL on ENOMEM */
int queue_freeze_encode(const struct queue_freeze *f, uint8_t **buf, size_t *len);
void queue_thaw(struct queue *q, struct queue_freeze *f);
int queue_restore(struct queue *q, const uint8_t *buf, size_t len);

#endif
