/* qcmd_block.h - (sm-internal) the body of a COMPLETE_BLOCK command: a
 * batch's results as one compact block (doc/DESIGN.md, "Results as
 * blocks"). queue_codec.c calls these for that command type; nothing
 * outside src/sm includes this header. */
#ifndef MESH_QCMD_BLOCK_H
#define MESH_QCMD_BLOCK_H

#include "queue.h"
#include "queue_codec.h"

/* Writes batch_id and the results (indexes strictly ascending, texts
 * valid and well formed). -1 when the command cannot be encoded. */
int qcmd_block_encode(const struct qcmd *c, struct qbuf *out);
/* Reads what qcmd_block_encode writes, and nothing else (every other byte
 * string fails): results with their texts rendered into c->result_texts,
 * already checked against the result grammar (c->texts_checked). */
int qcmd_block_decode(struct qreader *in, struct qcmd *c);

#endif
