/* commit_mark.c - see commit_mark.h. */
#include "commit_mark.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"

enum { SLOT_BYTES = COMMIT_MARK_SLOT_BYTES, SLOTS = 2, MAGIC_BYTES = 8, SUM_BYTES = 16 };

static const uint8_t mark_magic[MAGIC_BYTES] = {'M', 'S', 'H', 'C', 'M', 'T', '1', 0};

static void slot_sum(const uint8_t slot[SLOT_BYTES], uint8_t out[SUM_BYTES])
{
    crypto_generichash(out, SUM_BYTES, slot, MAGIC_BYTES + 8, NULL, 0);
}

static void slot_encode(uint64_t index, uint8_t slot[SLOT_BYTES])
{
    memcpy(slot, mark_magic, MAGIC_BYTES);
    for (int i = 0; i < 8; i++)
        slot[MAGIC_BYTES + i] = (uint8_t)(index >> (8 * i));
    slot_sum(slot, slot + MAGIC_BYTES + 8);
}

/* 1 valid (*index set), 0 never written (all zero), -1 damaged. */
static int slot_decode(const uint8_t slot[SLOT_BYTES], uint64_t *index)
{
    static const uint8_t zero[SLOT_BYTES];
    if (memcmp(slot, zero, SLOT_BYTES) == 0)
        return 0;
    uint8_t sum[SUM_BYTES];
    slot_sum(slot, sum);
    if (memcmp(slot, mark_magic, MAGIC_BYTES) != 0 ||
        memcmp(sum, slot + MAGIC_BYTES + 8, SUM_BYTES) != 0)
        return -1;
    *index = 0;
    for (int i = 7; i >= 0; i--)
        *index = *index << 8 | slot[MAGIC_BYTES + i];
    return 1;
}

/* A new file gets its two (empty) slots at once, so later writes never
 * need a block the disk may not have. */
static int read_slots(struct commit_mark *m, char *err, size_t errlen)
{
    uint8_t buf[SLOT_BYTES * SLOTS] = {0};
    ssize_t n = pread(m->fd, buf, sizeof buf, 0);
    if (n < 0) {
        set_err(err, errlen, "cannot read %s: %s", m->path, strerror(errno));
        return -1;
    }
    if (n == 0) {
        if (pwrite(m->fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf)
            return 0;
        set_err(err, errlen, "cannot write %s: %s", m->path, strerror(errno));
        return -1;
    }
    int valid = 0, damaged = 0;
    for (unsigned i = 0; i < SLOTS; i++) {
        uint64_t index;
        int rc = (size_t)n >= (i + 1) * SLOT_BYTES ? slot_decode(buf + i * SLOT_BYTES, &index)
                                                    : -1;
        if (rc < 0)
            damaged++;
        if (rc > 0 && (valid++ == 0 || index > m->index)) {
            m->index = index;
            m->next_slot = (i + 1) % SLOTS;  /* overwrite the older one next */
        }
    }
    if (valid == 0 && damaged > 0) {
        set_err(err, errlen, "%s is damaged (neither copy of the committed index reads "
                "back); delete it to start without the check", m->path);
        return -1;
    }
    return 0;
}

int commit_mark_open(struct commit_mark *m, const char *dir, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    snprintf(m->path, sizeof m->path, "%s/%s", dir, COMMIT_MARK_FILE);
    m->fd = open(m->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (m->fd < 0) {
        set_err(err, errlen, "cannot open %s: %s", m->path, strerror(errno));
        return -1;
    }
    if (read_slots(m, err, errlen) != 0) {
        commit_mark_close(m);
        return -1;
    }
    return 0;
}

int commit_mark_prepare(const struct commit_mark *m, uint64_t index,
                        uint8_t slot[COMMIT_MARK_SLOT_BYTES], int64_t *offset)
{
    if (m->fd < 0 || index <= m->index)
        return -1;
    slot_encode(index, slot);
    *offset = (int64_t)m->next_slot * SLOT_BYTES;
    return 0;
}

void commit_mark_written(struct commit_mark *m, uint64_t index)
{
    if (index <= m->index)
        return;
    m->index = index;
    m->next_slot = (m->next_slot + 1) % SLOTS;
}

int commit_mark_record(struct commit_mark *m, uint64_t index, char *err, size_t errlen)
{
    uint8_t slot[SLOT_BYTES];
    int64_t at;
    if (commit_mark_prepare(m, index, slot, &at) != 0)
        return 0;
    if (pwrite(m->fd, slot, sizeof slot, (off_t)at) != (ssize_t)sizeof slot ||
        fdatasync(m->fd) != 0) {
        set_err(err, errlen, "cannot record the committed index in %s: %s", m->path,
                strerror(errno));
        return -1;
    }
    commit_mark_written(m, index);
    return 0;
}

void commit_mark_close(struct commit_mark *m)
{
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}
