/* test_safe_name.c - names from the network lose terminal escapes and
 * malformed UTF-8, and keep ordinary (also non-ASCII) text. */
#include <string.h>

#include "check.h"
#include "safe_name.h"

static const char *safe(const char *in, size_t len)
{
    static char out[256];
    safe_name(in, len, out, sizeof out);
    return out;
}

int main(void)
{
    CHECK_STR_EQ(safe("Living Room", 11), "Living Room");
    CHECK_STR_EQ(safe("B\xc3\xbcro \xe2\x98\x83", 9), "B\xc3\xbcro \xe2\x98\x83");
    /* OSC title change, clear screen, CSI via the C1 byte, DEL, NUL */
    static const char evil[] = "x\x1b]0;pwned\x07\x1b[2J\xc2\x9b" "31m\x7f" "a\0b";
    CHECK_STR_EQ(safe(evil, sizeof evil - 1), "x?]0;pwned??[2J??31m?a?b");
    /* overlong '/', a surrogate, past U+10FFFF, a stray byte, truncated */
    CHECK_STR_EQ(safe("\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff\xe2\x98", 12),
                 "????????????");
    char tiny[4];
    CHECK_INT_EQ(safe_name("\xe2\x98\x83\xe2\x98\x83", 6, tiny, sizeof tiny), 3);
    CHECK_INT_EQ(safe_name("abcdef", 6, tiny, sizeof tiny), 3);
    CHECK_STR_EQ(tiny, "abc");
    printf("safe_name: ok\n");
    return 0;
}
