/* snapshot_seal.h - (consensus-internal) a checksum around snapshot bytes.
 *
 * libraft 0.15 checksums a snapshot's .meta file but not its data: a
 * flipped byte in the data was restored into a wrong result, silently.
 * So the fsm seals whatever the state machine serializes: a 48-byte
 * header in front of the payload (magic "MSHSEAL1", the payload's length
 * as u64 little-endian, its BLAKE2b-256 digest), written as a buffer of its
 * own beside the payload so the payload is never copied. restore opens the
 * seal before anything is decoded.
 *
 * A snapshot of an older release has no seal (it starts with the queue's
 * own magic "MQS"): it is passed through unchecked, so old data dirs replay. */
#ifndef MESH_CONSENSUS_SNAPSHOT_SEAL_H
#define MESH_CONSENSUS_SNAPSHOT_SEAL_H

#include <stddef.h>
#include <stdint.h>

enum {
    SNAPSHOT_SEAL_BYTES = 48,   /* a multiple of 8, like everything raft stores */
};

enum snapshot_seal_result {
    SNAPSHOT_SEALED = 0,        /* the seal holds: payload is what was written */
    SNAPSHOT_UNSEALED = 1,      /* no seal (an older release): payload is all of it */
    SNAPSHOT_DAMAGED = -1,      /* a seal that does not hold: err says how */
};

/* Writes the seal of payload[0..len) into header. Thread-safe (it runs on
 * raft's thread pool). */
void snapshot_seal(const uint8_t *payload, size_t len, uint8_t header[SNAPSHOT_SEAL_BYTES]);

/* Checks buf[0..len) as stored: on SNAPSHOT_SEALED or SNAPSHOT_UNSEALED,
 * *payload and *payload_len give the bytes to restore. */
enum snapshot_seal_result snapshot_seal_open(const uint8_t *buf, size_t len,
                                             const uint8_t **payload, size_t *payload_len,
                                             char *err, size_t errlen);

#endif
