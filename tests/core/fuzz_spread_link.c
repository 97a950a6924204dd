/* fuzz_spread_link.c - spread_link_parse on arbitrary batch names (a
 * name comes from the log: any key holder may submit one). What it
 * accepts must re-spell byte for byte (spread_link_name), so one link has
 * one name; what it refuses leaves nothing to use. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node/spread_rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[SPREAD_LINK_MAX + 8];
    if (size >= sizeof name)
        return 0; /* names are shorter than QUEUE_NAME_MAX */
    memcpy(name, data, size);
    name[size] = '\0';
    uint64_t parent, index;
    if (spread_link_parse(name, &parent, &index) != 0)
        return 0;
    char again[SPREAD_LINK_MAX];
    spread_link_name(again, parent, index);
    if (strcmp(again, name) != 0 || parent == 0)
        abort();
    return 0;
}
