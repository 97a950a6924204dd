/* entry.h - (consensus-internal) the byte envelope of a log entry.
 *
 * raft_uv refuses entry buffers whose length is not a multiple of 8
 * (RAFT_INVALID "entry buffers must be 8-byte aligned"), so every entry is
 *   magic "ME" u16 | version u16 (1) | payload length u32 (little-endian)
 *   | payload (qcmd_encode bytes) | zero padding to a multiple of 8.
 * The decoder is strict (fuzzed): wrong magic/version, a length past the
 * buffer, non-zero padding or more than 7 padding bytes are refused. */
#ifndef MESH_CONSENSUS_ENTRY_H
#define MESH_CONSENSUS_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"

enum {
    ENTRY_HEADER_BYTES = 8,
    ENTRY_MAX_BYTES = 1 << 20,   /* every entry is at most 1 MiB */
    /* Largest qcmd_encode size that fits: the max_payload for qcmd_split. */
    ENTRY_MAX_PAYLOAD = ENTRY_MAX_BYTES - ENTRY_HEADER_BYTES,
};

/* Encodes c into a raft_malloc'd buffer (raft frees it once applied).
 * 0; -1 on ENOMEM or an invalid command; -2 when it would exceed
 * ENTRY_MAX_BYTES (split it first: see qcmd_split in queue.h). */
int entry_encode(const struct qcmd *c, void **buf, size_t *len);
/* 0 with c owning its memory, or -1 (c zeroed). */
int entry_decode(const void *buf, size_t len, struct qcmd *c);

#endif
