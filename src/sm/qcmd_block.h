/* qcmd_block.h - (sm-internal) the body of a COMPLETE_BLOCK command: a
 * batch's results as one compact block (doc/DESIGN.md, "Results as
 * blocks"). queue_codec.c calls these for that command type; nothing
 * outside src/sm includes this header. */
#ifndef MESH_QCMD_BLOCK_H
#define MESH_QCMD_BLOCK_H

#include <stdbool.h>

#include "queue.h"
#include "queue_codec.h"

/* Writes batch_id and the results: from results (indexes strictly
 * ascending, texts valid and well formed) when set, else the decoded
 * block as it came. -1 when the command cannot be encoded. */
int qcmd_block_encode(const struct qcmd *c, struct qbuf *out);
/* Reads what qcmd_block_encode writes, and nothing else (every other byte
 * string fails): c->block holds the checked gaps and items, c->n_results
 * their count; c->results stays NULL. */
int qcmd_block_decode(struct qreader *in, struct qcmd *c);
/* Walks a decoded block: the result at *pos (0 first, first true), its
 * index (from the previous one in *index) and its item; *pos moves past
 * it. -1 at a malformed one (not after qcmd_block_decode). */
int qcmd_block_next(const struct qcmd *c, size_t *pos, uint64_t *index, bool first,
                    const uint8_t **item, size_t *item_len);

#endif
