/* qcmd_split.c - one big list SUBMIT as a sequence of bounded commands
 * (see qcmd_split in queue.h). Parts are cut at number boundaries so each
 * one is checkable on its own when it is applied. */
#include "queue.h"

#include <stdlib.h>
#include <string.h>

enum {
    /* version, type, upload_id, part_offset and part length varints (<= 10 each) */
    PART_OVERHEAD = 2 + 10 + 10 + 10,
    /* Room for the final SUBMIT (name + header) and for the longest number
     * (MESH_MAX_DIGITS + NUL) in one part. */
    SPLIT_MIN_PAYLOAD = 512,
};

static size_t encoded_size(const struct qcmd *c)
{
    uint8_t *buf;
    size_t len;
    if (qcmd_encode(c, &buf, &len) != 0)
        return 0;
    free(buf);
    return len;
}

/* Bytes of number i, its NUL included. */
static size_t number_len(const struct batch_spec *s, uint64_t i)
{
    uint64_t end = i + 1 < s->count ? s->offsets[i + 1] : s->list_len;
    return (size_t)(end - s->offsets[i]);
}

/* Numbers [i, end) fitting in room bytes from number i on. */
static uint64_t part_end(const struct batch_spec *s, uint64_t i, size_t room)
{
    size_t used = 0;
    uint64_t j = i;
    while (j < s->count && used + number_len(s, j) <= room)
        used += number_len(s, j++);
    return j;
}

static int make_part(struct qcmd *c, const struct batch_spec *s, uint64_t i, uint64_t end,
                     uint64_t upload_id)
{
    size_t from = (size_t)s->offsets[i];
    size_t to = end < s->count ? (size_t)s->offsets[end] : s->list_len;
    *c = (struct qcmd){.type = QCMD_LIST_PART, .upload_id = upload_id, .part_offset = from};
    c->part = malloc(to - from);
    if (c->part == NULL)
        return -1;
    memcpy(c->part, s->list + from, to - from);
    c->part_len = to - from;
    return 0;
}

static size_t count_parts(const struct batch_spec *s, size_t room)
{
    size_t n = 0;
    for (uint64_t i = 0; i < s->count; i = part_end(s, i, room))
        n++;
    return n;
}

static int split_list(const struct qcmd *submit, size_t room, uint64_t upload_id,
                      struct qcmd *cmds, size_t n_parts)
{
    const struct batch_spec *s = &submit->spec;
    uint64_t i = 0;
    for (size_t k = 0; k < n_parts; k++) {
        uint64_t end = part_end(s, i, room);
        if (make_part(&cmds[k], s, i, end, upload_id) != 0)
            return -1;
        i = end;
    }
    struct qcmd *last = &cmds[n_parts];
    *last = (struct qcmd){.type = QCMD_SUBMIT, .upload_id = upload_id,
                          .batch_id = submit->batch_id, .import = submit->import,
                          .token = submit->token};
    memcpy(last->name, submit->name, sizeof last->name);
    last->spec = (struct batch_spec){.kind = BATCH_LIST, .count = s->count,
                                     .chunk = s->chunk, .list_len = s->list_len,
                                     .budget_ms = s->budget_ms};
    return 0;
}

static void free_cmds(struct qcmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qcmd_free(&cmds[i]);
    free(cmds);
}

int qcmd_split(const struct qcmd *submit, size_t max_payload, uint64_t upload_id,
               struct qcmd **cmds, size_t *n)
{
    *cmds = NULL;
    *n = 0;
    size_t size = submit->type == QCMD_SUBMIT && submit->upload_id == 0
        ? encoded_size(submit) : 0;
    if (size == 0)
        return -1;
    bool whole = size <= max_payload;
    if (!whole && (submit->spec.kind != BATCH_LIST || upload_id == 0 ||
                   max_payload < SPLIT_MIN_PAYLOAD))
        return -1;
    size_t room = max_payload - PART_OVERHEAD;
    size_t n_cmds = whole ? 1 : count_parts(&submit->spec, room) + 1;
    struct qcmd *out = calloc(n_cmds, sizeof *out);
    if (out == NULL)
        return -1;
    int rc;
    if (whole) {
        out[0] = *submit;
        out[0].results = NULL;
        out[0].part = NULL;
        rc = batch_spec_copy(&out[0].spec, &submit->spec);
    } else {
        rc = split_list(submit, room, upload_id, out, n_cmds - 1);
    }
    if (rc != 0) {
        free_cmds(out, n_cmds);
        return -1;
    }
    *cmds = out;
    *n = n_cmds;
    return 0;
}
