/* txt.h - the _mesh._tcp TXT record: build and parse, no Avahi needed.
 *
 * A TXT record arrives from any host on the LAN, so parsing treats every
 * byte as hostile: each item is length-checked, each value is validated
 * before it is copied, and nothing is trusted that was not checked here.
 *
 * Items (RFC 6763 key=value, keys case-insensitive, first occurrence wins,
 * unknown keys ignored):
 *   v=<decimal protocol version>   id=<node id, hex>
 *   pk=<X25519 public key, 64 hex> tag=<mesh tag, hex>
 * The authkey itself is never in the record; only the derived tag. */
#ifndef MESH_MDNS_TXT_H
#define MESH_MDNS_TXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TXT_PK_BYTES 32
#define TXT_ID_HEX_MAX 64       /* node id: 1..32 bytes as hex */
#define TXT_TAG_HEX_MAX 64      /* mesh tag: 1..32 bytes as hex */
#define TXT_ITEM_MAX 255        /* one DNS character-string */

enum txt_result {
    TXT_OK = 0,
    TXT_MISSING,        /* a required key is absent */
    TXT_BAD_VALUE,      /* a required key has a malformed value */
    TXT_BAD_WIRE,       /* wire format truncated */
};

/* What a peer says about itself; hex strings are NUL-terminated, lowercase. */
struct txt_record {
    unsigned version;
    char id_hex[TXT_ID_HEX_MAX + 1];
    uint8_t pk[TXT_PK_BYTES];
    char tag_hex[TXT_TAG_HEX_MAX + 1];
    /* which keys were seen (valid or not): first occurrence wins */
    bool have_version, have_id, have_pk, have_tag;
    bool bad_value;
};

void txt_record_init(struct txt_record *r);

/* Feeds one item ("key=value" bytes, not NUL-terminated). */
void txt_record_add_item(struct txt_record *r, const uint8_t *item, size_t len);

/* After all items: TXT_OK when every required key had a valid value. */
enum txt_result txt_record_finish(const struct txt_record *r);

/* Parses DNS wire format (a sequence of length-prefixed strings). */
enum txt_result txt_parse_wire(struct txt_record *r, const uint8_t *buf,
                               size_t len);

/* Validates and lowercases a hex string of even length 2..max_chars into
 * out (max_chars+1 bytes). Returns false on anything else. */
bool txt_normalize_hex(const char *in, size_t in_len, size_t max_chars,
                       char *out);

/* Decodes exactly 2*n hex chars into n bytes; false on a bad digit/length. */
bool txt_hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t n);

const char *txt_result_str(enum txt_result r);

#endif
