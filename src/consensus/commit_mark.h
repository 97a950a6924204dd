/* commit_mark.h - (consensus-internal) the highest raft index this node
 * knows committed, kept in a small file of its own in the raft dir.
 *
 * libraft 0.15, finding a damaged tail in the last closed segment, renames
 * it corrupt-* and starts from the entries before it, silently: committed
 * batches vanished and a batch id was issued again. raft's own files
 * cannot tell the node what it lost, so the node keeps this mark and
 * refuses to start on a log that ends below it (consensus.c).
 *
 * The file is 64 bytes: two 32-byte slots, written in turn, each "MSHCMT1\0",
 * the index (u64 little-endian) and 16 bytes of BLAKE2b over both. A write
 * overwrites one slot in place and fdatasyncs it: no new block is
 * allocated (it works on a full disk) and a torn write spoils one slot at
 * most; the mark is the highest index of a valid slot. */
#ifndef MESH_CONSENSUS_COMMIT_MARK_H
#define MESH_CONSENSUS_COMMIT_MARK_H

#include <stddef.h>
#include <stdint.h>

#define COMMIT_MARK_FILE "committed"

enum { COMMIT_MARK_SLOT_BYTES = 32 };

struct commit_mark {
    int fd;                 /* -1: not open */
    uint64_t index;         /* highest index recorded (0: none) */
    unsigned next_slot;
    char path[4200];
};

/* Opens (creating if missing) DIR/committed and reads the mark.
 * 0; -1 with err when the file cannot be opened or both slots are damaged. */
int commit_mark_open(struct commit_mark *m, const char *dir, char *err, size_t errlen);
/* Records index if it is above the mark: one pwrite + fdatasync. 0 (also
 * when there was nothing to do) or -1 with err. */
int commit_mark_record(struct commit_mark *m, uint64_t index, char *err, size_t errlen);
/* The same in two steps, for a write done elsewhere (the thread pool):
 * the slot bytes and file offset that record index (-1: index is not
 * above the mark, nothing to write); then, once the write and an
 * fdatasync succeeded, commit_mark_written. */
int commit_mark_prepare(const struct commit_mark *m, uint64_t index,
                        uint8_t slot[COMMIT_MARK_SLOT_BYTES], int64_t *offset);
void commit_mark_written(struct commit_mark *m, uint64_t index);
void commit_mark_close(struct commit_mark *m);

#endif
