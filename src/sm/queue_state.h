/* queue_state.h - (sm-internal) the queue's representation, shared by the
 * files that apply commands (queue.c) and that snapshot and restore it
 * (queue_snapshot.c). Nothing outside src/sm includes it.
 *
 * Results are kept in pages of QPAGE_SIZE consecutive indexes, allocated
 * when the first result of the page arrives, so submitting a 10M batch costs
 * a few bytes until work is done. A page holds a done bitmap, a 32-bit offset
 * per index and one buffer ("text") with the results packed as their
 * compact items (result_item.h: what a COMPLETE_BLOCK carries, stored as
 * is; queue_result renders the text). Memory per done number: 4 bytes
 * offset + 1 bit + its item (a trivial number's: 3-8 bytes), plus ~8 bytes
 * per page of 1024 in the page table: about 12 bytes for a trivial number,
 * where its NUL-terminated text made it about 20. No
 * malloc per number (a malloc'd char* each would add ~24 bytes of pointer
 * and allocator overhead). The price: a text buffer may move when its page
 * grows, so queue_result() pointers live only until the next apply.
 *
 * What a frozen snapshot (retire.h) relies on: batches, their specs and
 * names, pages and a done index's offset and text never change once
 * written; texts only move by retire_realloc. */
#ifndef MESH_QUEUE_STATE_H
#define MESH_QUEUE_STATE_H

#include "queue.h"
#include "nodeset.h"
#include "retire.h"
#include "upload.h"

/* The drained set is small by nature (one id per drained machine); the cap
 * only bounds what a buggy or hostile member could make every replica hold. */
enum { QUEUE_MAX_DRAINED = 4096 };

enum { QPAGE_SHIFT = 10, QPAGE_SIZE = 1 << QPAGE_SHIFT, QPAGE_WORDS = QPAGE_SIZE / 64 };

struct result_page {
    uint64_t done[QPAGE_WORDS];   /* bit i: index (page base + i) is done */
    uint32_t offset[QPAGE_SIZE];  /* where index i's text starts in text */
    uint32_t n_done;              /* QPAGE_SIZE lets scans skip the page */
    char *text;                   /* packed NUL-terminated results */
    size_t len, cap;
};

/* A finished batch's results in their canonical file (spill.c), mapped
 * read-only: the pages' layout with each page's items repacked by
 * ascending index, so every replica writes the same bytes whatever order
 * its results came in, and reads see pages as they see them in memory.
 * The file is named by its BLAKE2b-256 in DATA_DIR/results (result_file.c):
 * a snapshot names it by that hash instead of carrying the results. */
struct spilled {
    void *map;
    size_t map_len;
    const uint64_t *page_base;    /* per page: where its texts start in texts */
    const uint64_t *done;         /* QPAGE_WORDS words per page */
    const uint32_t *offset;       /* QPAGE_SIZE per page, as in result_page */
    const char *texts;
    uint64_t text_len;
};

/* The smallest result file: its header and the byte after the texts. */
enum { QUEUE_FILE_MIN_BYTES = 33 };

/* Points d's fields into a result file mapped at map (len bytes) for a
 * batch of count numbers: 0, or -1 when its header or sizes do not fit
 * (the items themselves are checked by result_file.c's load). */
int spilled_bind(struct spilled *d, void *map, size_t len, uint64_t count);

/* A finished batch's canonical file: its name and size. */
struct result_ref {
    uint8_t hash[QUEUE_FILE_HASH_BYTES];
    uint64_t len;
};

/* A running batch's full pages leave memory in segments of QSEG_PAGES
 * consecutive pages (segment k: pages k * QSEG_PAGES ..), each as a result
 * file of its own: the finished file's layout for a "batch" of
 * QSEG_PAGES * QPAGE_SIZE numbers, every one done, so spill writes it, the
 * loader checks it and peers fetch it as they do a finished batch's file.
 * Only a segment all of whose pages are full, so which segments exist
 * follows from the results alone; when is local (spill.c). A snapshot
 * names the spilled segments (hash, counters) and carries the rest inline. */
enum { QSEG_PAGES = 64, QSEG_RESULTS = QSEG_PAGES * QPAGE_SIZE };

/* A spread batch's segments are one page each. Its results are relation
 * sets (~16 KB an A at 330 bits: a page of them ~16 MB, where a page of
 * ordinary results is ~12 KB), and it has fewer than QSEG_RESULTS indexes
 * (BATCH_SPREAD_MAX_BITS bounds its ranges), so a run of QSEG_PAGES pages
 * never filled: every relation of a running hard number was inline in
 * every snapshot (~65 MB at 330 bits). No spread batch ever had a segment,
 * so a snapshot of an earlier release reads the same. Follows from the
 * spec alone, as every replica must agree on which segments exist. */
uint64_t qseg_pages(const struct batch_spec *spec);
static inline uint64_t qseg_results(const struct batch_spec *spec)
{
    return qseg_pages(spec) * QPAGE_SIZE;
}

struct qsegment {
    struct result_ref file;
    uint64_t unfactored;          /* of its results */
    uint64_t bytes;               /* its pages' share of the batch's bytes */
    struct spilled *disk;         /* mapped; NULL while elsewhere, or once the
                                     batch's own file replaced it */
    bool elsewhere;               /* named by a snapshot, not loaded yet */
    bool released;                /* its file removed once the batch's own
                                     file held it: read from that one
                                     (spill_segments.c) */
};

struct qbatch {
    uint64_t id;
    enum batch_state state;
    char name[QUEUE_NAME_MAX];
    uint64_t token;               /* the SUBMIT's write token (0: none) */
    struct batch_spec spec;
    uint64_t done, unfactored;
    struct result_page **pages;   /* ceil(count / QPAGE_SIZE); NULL until a result */
    struct spilled *disk;         /* instead of pages, once spilled (finished only) */
    struct result_ref file;       /* with disk, or elsewhere: its file */
    bool elsewhere;               /* restored from a manifest and not loaded yet:
                                     no pages, no disk, counters from the snapshot */
    uint64_t cursor;              /* lowest not-done index; count when all done */
    uint64_t submitted_ms;        /* the log's time of its SUBMIT (0: unknown) */
    uint64_t ended_ms;            /* ... of the command that ended it */
    uint64_t bytes;               /* memory of its pages and their texts */
    struct qsegment **segs;       /* qbatch_seg_count(); NULL until one spills */
    uint64_t segs_elsewhere;      /* of them, not loaded yet */
    uint64_t seg_bytes;           /* bytes of the segments in files (in
                                     queue.file_bytes while no disk) */
};

/* The segments a batch of count numbers can have: whole ones only. */
uint64_t qbatch_seg_count(const struct qbatch *b);
/* Page p's segment if it is in a file or elsewhere, else NULL. */
const struct qsegment *qbatch_seg_of(const struct qbatch *b, uint64_t p);

/* b's own file is in place (spill.c): its segments' files go from dir,
 * but those another batch of q names (an identical one's segment). */
void queue_segments_release(const struct queue *q, struct qbatch *b, const char *dir);

/* The names (hash, length) of the segments a batch's own file holds in
 * full, computed from the file (mapped as d, count numbers) where its
 * writer or loader is (a worker thread may): so the batch can answer for
 * a segment it never spilled as one, or whose record a restart lost, when
 * a peer restoring an older snapshot asks for it (spill_segments.c).
 * skip (NULL: none): a bit per segment already known. Out of memory
 * leaves fewer names: those segments are then not served from here. */
struct seg_names {
    size_t n;
    uint64_t *seg;
    struct result_ref *file;
};
void seg_names_compute(struct seg_names *out, const struct spilled *d, uint64_t count,
                       uint64_t seg_pages, const uint8_t *skip);
/* Adds them to b as released segments (no file; read from b's own). */
void seg_names_install(struct qbatch *b, const struct seg_names *names);
void seg_names_free(struct seg_names *names);

/* Tombstones of forgotten batches: a ring of the newest, oldest first. */
struct forgotten_ring {
    struct forgotten_info *items;
    size_t n, head;               /* head: the oldest, once the ring is full */
    uint64_t total;               /* tombstones recorded by this replica since
                                     it started (read side: who tells events) */
};

struct queue {
    struct qbatch **batches;      /* ascending id; pointers so infos stay valid */
    size_t n, cap;
    uint64_t next_id;
    uint64_t applied;             /* commands applied: the uploads' clock */
    struct nodeset drained;       /* nodes whose drained flag is set */
    struct upload_set uploads;    /* lists arriving in parts */
    struct retire retire;         /* blocks a frozen snapshot may still read */
    struct forgotten_ring forgotten;
    uint64_t bytes;               /* every batch's bytes, summed */
    uint64_t file_bytes;          /* ... of the batches whose results are in a
                                     file (disk or elsewhere): a snapshot
                                     names these, it carries the rest */
    char *render;                 /* queue_result's text (QRESULT_MAX_TEXT + 1) */
};

/* One page of results, wherever it lives (memory or a spilled file). */
struct page_view {
    const uint64_t *done;         /* QPAGE_WORDS words */
    const uint32_t *offset;       /* QPAGE_SIZE */
    const char *text;
    size_t len;                   /* bytes of text */
    bool full;                    /* every index of the page is done */
};
/* false when page p holds no result. */
bool qbatch_page(const struct qbatch *b, uint64_t p, struct page_view *v);

void qbatch_free(struct qbatch *b);
/* qbatch_free through the retire list: a frozen snapshot may still read it. */
void qbatch_retire(struct retire *rt, struct qbatch *b);
/* The bytes a result page costs with a text buffer of cap bytes. */
uint64_t qpage_bytes(size_t cap);
/* The cursor from the pages (a restore that set segments first). */
void qbatch_reset_cursor(struct qbatch *b);
/* Records a tombstone, dropping the oldest past QUEUE_MAX_FORGOTTEN. */
void queue_remember_forgotten(struct queue *q, const struct forgotten_info *f);
/* The i-th tombstone, oldest first. */
const struct forgotten_info *queue_forgotten_at(const struct queue *q, size_t i);
uint64_t qbatch_page_count(const struct qbatch *b);
bool qbatch_is_done(const struct qbatch *b, uint64_t index);
/* Stores the result of a not-yet-done, in-range index with a valid text
 * (as its item). Updates the counters, the cursor and the DONE transition.
 * -1 on ENOMEM. */
int qbatch_record(struct retire *rt, struct qbatch *b, uint64_t index, const char *text,
                  size_t len);
/* The same with the result's checked item (result_item.h), stored as is. */
int qbatch_record_item(struct retire *rt, struct qbatch *b, uint64_t index,
                       const uint8_t *item, size_t len);
/* The same for a batch in q: keeps q's byte total. */
int queue_record(struct queue *q, struct qbatch *b, uint64_t index, const char *text,
                 size_t len);
int queue_append_batch(struct queue *q, struct qbatch *b);
bool queue_name_valid(const char *name);
/* Back to the state of queue_new(). */
void queue_clear(struct queue *q);

#endif
