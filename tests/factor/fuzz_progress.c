/* fuzz_progress.c - the node's decoder of the worker child's progress
 * records (progress.h) on arbitrary bytes: no crash, no read past the
 * input, and whatever it accepts the child's encoder writes back byte for
 * byte (one spelling per record: nothing else gets through). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct factor_progress_record r;
    bool is_record = factor_progress_is_record((const char *)data, size);
    if (factor_progress_parse((const char *)data, size, &r) != 0)
        return 0;
    char line[FACTOR_PROGRESS_LINE_MAX];
    size_t len = factor_progress_format(line, &r);
    if (!is_record || len != size + 1 || memcmp(line, data, size) != 0 || line[size] != '\n')
        abort();
    return 0;
}
