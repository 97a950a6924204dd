/* upload.h - staging areas for list batches submitted in parts.
 *
 * A log entry holds at most 1 MiB, a list batch up to 256 MiB. So the
 * proposer sends the list as LIST_PART commands tagged with an upload id of
 * its choosing, then one SUBMIT naming the upload; only that SUBMIT creates
 * the batch, so readers never see half a list. Staging is replicated state
 * (in the snapshot) and is cleaned up deterministically: an upload idle for
 * UPLOAD_IDLE_LIMIT applied commands is dropped (its proposer died), and
 * when the caps are reached the least recently touched upload makes room.
 * "Time" is the queue's count of applied commands, never a clock. */
#ifndef MESH_UPLOAD_H
#define MESH_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    UPLOAD_MAX_ACTIVE = 16,
    UPLOAD_IDLE_LIMIT = 100000,  /* applied commands without a part */
};
/* All staged bytes together: two maximal lists at once. */
#define UPLOAD_MAX_STAGED ((size_t)512 << 20)

/* Parts stay separate, immutable chunks until the SUBMIT: appending never
 * moves bytes already staged. */
struct upload_part {
    char *bytes;
    size_t len;
};

struct upload {
    uint64_t id;
    uint64_t touched;          /* applied-command count at the last part */
    size_t len;                /* bytes over all parts */
    struct upload_part *parts;
    size_t n_parts, cap;
};

struct upload_set {
    struct upload *items;      /* in creation order (canonical for snapshots) */
    size_t n, cap;
    size_t staged;             /* bytes over all uploads */
    struct retire *retire;     /* where part bytes go when dropped (may be NULL) */
};

struct qbuf;
struct retire;
struct qreader;

/* Frees every upload; keeps s->retire. */
void upload_set_free(struct upload_set *s);
struct upload *upload_find(const struct upload_set *s, uint64_t id);
/* Stages one part (copied) of upload id at time now, creating the upload or
 * evicting the least recently touched others as the caps require.
 * 0; -1 refused (err says why); -2 out of memory. */
int upload_add_part(struct upload_set *s, uint64_t id, const char *bytes, size_t len,
                    uint64_t now, char *err, size_t errlen);
/* Concatenates the parts of u into one malloc'd buffer (NULL on ENOMEM). */
char *upload_concat(const struct upload *u);
/* Removes upload id (no-op when absent). */
void upload_drop(struct upload_set *s, uint64_t id);
/* Drops every upload idle for more than UPLOAD_IDLE_LIMIT at time now. */
void upload_expire(struct upload_set *s, uint64_t now);

/* A copy of s whose parts point at s's bytes (immutable until retired):
 * what a frozen snapshot encodes. 0, or -1 on ENOMEM (dst zeroed). */
int upload_set_share(struct upload_set *dst, const struct upload_set *src);
/* Frees a shared copy, not the bytes it points at. */
void upload_set_unshare(struct upload_set *s);

/* Snapshot section: count, then per upload id, touched, part count, parts.
 * Decode refuses anything apply could not have produced at time now. */
void upload_set_encode(const struct upload_set *s, struct qbuf *out);
int upload_set_decode(struct upload_set *s, struct qreader *in, uint64_t now);

#endif
