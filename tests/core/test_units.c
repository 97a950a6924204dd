/* test_units.c - durations and sizes as typed on a command line. */
#include <string.h>

#include "check.h"
#include "units.h"

static void test_durations(void)
{
    uint64_t ms;
    CHECK_INT_EQ(units_parse_duration_ms("7d", &ms), 0);
    CHECK(ms == 7ull * 86400000);
    CHECK_INT_EQ(units_parse_duration_ms("12h", &ms), 0);
    CHECK(ms == 12ull * 3600000);
    CHECK_INT_EQ(units_parse_duration_ms("90m", &ms), 0);
    CHECK(ms == 90ull * 60000);
    CHECK_INT_EQ(units_parse_duration_ms("30s", &ms), 0);
    CHECK(ms == 30000);
    CHECK_INT_EQ(units_parse_duration_ms("250ms", &ms), 0);
    CHECK(ms == 250);
    CHECK_INT_EQ(units_parse_duration_ms("45", &ms), 0);  /* bare: seconds */
    CHECK(ms == 45000);
    const char *bad[] = {"", "d", "7 d", "7days", "1.5h", "-1s", "7D", "99999999999999999999d",
                         "300000000000000d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT_EQ(units_parse_duration_ms(bad[i], &ms), -1);
    char buf[32];
    units_format_duration(7ull * 86400000, buf, sizeof buf);
    CHECK_STR_EQ(buf, "7d");
    units_format_duration(90ull * 60000, buf, sizeof buf);
    CHECK_STR_EQ(buf, "90m");
    units_format_duration(1500, buf, sizeof buf);
    CHECK_STR_EQ(buf, "1500ms");
}

static void test_sizes(void)
{
    uint64_t b;
    CHECK_INT_EQ(units_parse_size("1GiB", &b), 0);
    CHECK(b == 1ull << 30);
    CHECK_INT_EQ(units_parse_size("512M", &b), 0);
    CHECK(b == 512ull << 20);
    CHECK_INT_EQ(units_parse_size("64KB", &b), 0);
    CHECK(b == 64ull << 10);
    CHECK_INT_EQ(units_parse_size("4096", &b), 0);
    CHECK(b == 4096);
    const char *bad[] = {"", "G", "1 G", "1.5G", "1g", "1Gi", "-5M", "99999999999TiB"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT_EQ(units_parse_size(bad[i], &b), -1);
    char buf[32];
    units_format_size(1ull << 30, buf, sizeof buf);
    CHECK_STR_EQ(buf, "1.0 GiB");
    units_format_size(512ull << 20, buf, sizeof buf);
    CHECK_STR_EQ(buf, "512 MiB");
    units_format_size(17, buf, sizeof buf);
    CHECK_STR_EQ(buf, "17 B");
}

/* One budget syntax for the node and mesh factor: durations, seconds with a
 * fraction, none. */
static void test_timeouts(void)
{
    uint64_t ms;
    CHECK_INT_EQ(units_parse_timeout_ms("5s", &ms), 0);
    CHECK(ms == 5000);
    CHECK_INT_EQ(units_parse_timeout_ms("10m", &ms), 0);
    CHECK(ms == 600000);
    CHECK_INT_EQ(units_parse_timeout_ms("250ms", &ms), 0);
    CHECK(ms == 250);
    CHECK_INT_EQ(units_parse_timeout_ms("60", &ms), 0);
    CHECK(ms == 60000);
    CHECK_INT_EQ(units_parse_timeout_ms("0.3", &ms), 0);
    CHECK(ms == 300);
    CHECK_INT_EQ(units_parse_timeout_ms("0.0001", &ms), 0);
    CHECK(ms == 1);
    CHECK_INT_EQ(units_parse_timeout_ms("none", &ms), 0);
    CHECK(ms == 0);
    CHECK_INT_EQ(units_parse_timeout_ms("0", &ms), 0);
    CHECK(ms == 0);
    const char *bad[] = {"", "-1", "1e3", "5 s", "five", "0x10", "nan", "inf", "1.5h", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT_EQ(units_parse_timeout_ms(bad[i], &ms), -1);
}

int main(void)
{
    test_timeouts();
    test_durations();
    test_sizes();
    return 0;
}
