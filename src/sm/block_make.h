/* block_make.h - a COMPLETE_BLOCK made by the leader from compact items
 * (doc/DESIGN.md, "Results as blocks"; "The last few percent").
 *
 * The leader checks each result's text (factor_verify), which reads its
 * parts as words; making the item from those words when the result is
 * taken spares a second parse of every text when the block is encoded
 * (that parse, with its strlen, was ~8% of a leader's CPU on trivial
 * numbers). The item is byte for byte the one result_item_from_text
 * makes of the text, so every replica stores the same. */
#ifndef MESH_BLOCK_MAKE_H
#define MESH_BLOCK_MAKE_H

#include <stddef.h>
#include <stdint.h>

#include "queue.h"

/* Room block_item needs for a text of len bytes read as n_words words. */
size_t block_item_room(size_t len, size_t n_words);
/* The item of a result into out (block_item_room bytes of room): from
 * words when they are given (the text's parts in order, read by the
 * leader's check; NULL: none) and are factors in ascending order, else
 * from the text. Its size; 0 when the text is not well formed or longer
 * than QRESULT_MAX_TEXT (nothing to propose). */
size_t block_item(const char *text, size_t len, const uint64_t *words, size_t n_words,
                  uint8_t *out);

struct block_entry {
    uint64_t index;
    const uint8_t *item;        /* block_item's */
    size_t len;
};

/* cmd (zeroed by the caller) becomes a COMPLETE_BLOCK of batch holding
 * the n entries (n >= 1, indexes strictly ascending): its bytes in
 * cmd->block (malloc'd: the caller frees them), results NULL, as
 * qcmd_decode makes one. -1 when out of memory or not ascending. */
int block_make(struct qcmd *cmd, uint64_t batch, const struct block_entry *e, size_t n);

#endif
