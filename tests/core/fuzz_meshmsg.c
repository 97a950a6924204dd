/* fuzz_meshmsg.c - the node's link messages (meshmsg.h) on hostile bytes.
 * The first byte picks the message type, the rest is its body, as a peer
 * holding the key could send. Whatever decodes must re-encode to the very
 * same bytes (one encoding per message). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meshmsg.h"
#include "queue_codec.h"

static void same(const uint8_t *a, size_t alen, uint8_t *b, size_t blen)
{
    if (alen != blen || memcmp(a, b, alen) != 0)
        abort();
    free(b);
}

static void one(uint8_t type, const uint8_t *p, size_t len)
{
    uint8_t *again;
    size_t n;
    switch (type % 12) {
    case 0: {
        struct msg_cluster m;
        if (msg_cluster_decode(&m, p, len) == 0 && msg_cluster_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 1: {
        uint64_t req;
        struct qcmd c;
        if (msg_forward_decode(&req, &c, p, len) == 0) {
            if (msg_forward_encode(req, &c, &again, &n) != 0)
                abort();
            /* A command of the previous format goes on as the current:
             * its format byte follows the request id. */
            struct qreader r;
            qreader_init(&r, p, len);
            qreader_varint(&r);
            if (qreader_u8(&r) != QCMD_FORMAT)
                free(again);
            else
                same(p, len, again, n);
            qcmd_free(&c);
        }
        break;
    }
    case 2: {
        struct msg_reply m;
        if (msg_reply_decode(&m, p, len) == 0 && msg_reply_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 3: {
        struct msg_lease m;
        if (msg_lease_decode(&m, p, len) == 0 && msg_lease_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 4: {
        struct msg_results m;
        if (msg_results_decode(&m, p, len) == 0) {
            if (msg_results_encode(&m, &again, &n) == 0)
                same(p, len, again, n);
            free(m.items);
        }
        break;
    }
    case 6: {
        static struct msg_peers m; /* 24 KiB: off the stack */
        if (msg_peers_decode(&m, p, len) == 0 && msg_peers_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 7: {
        struct msg_membership_note m;
        if (msg_membership_decode(&m, p, len) == 0 &&
            msg_membership_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 8: {
        struct msg_event m;
        if (msg_event_decode(&m, p, len) == 0 && msg_event_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 9: {
        struct msg_progress m;
        if (msg_progress_decode(&m, p, len) == 0 && msg_progress_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 10: {
        struct msg_file_get m;
        if (msg_file_get_decode(&m, p, len) == 0 && msg_file_get_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    case 11: {
        struct msg_file_part m;
        if (msg_file_part_decode(&m, p, len) == 0) {
            if (m.len > MESH_MSG_FILE_CHUNK || m.offset + m.len > m.total ||
                msg_file_part_encode(&m, &again, &n) != 0)
                abort();
            same(p, len, again, n);
        }
        break;
    }
    default: {
        struct msg_lease_end m;
        if (msg_lease_end_decode(&m, p, len) == 0 && msg_lease_end_encode(&m, &again, &n) == 0)
            same(p, len, again, n);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    one(data[0], data + 1, size - 1);
    return 0;
}
