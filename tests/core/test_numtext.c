/* test_numtext.c - decimal token validation and normalisation. */
#include <string.h>

#include "check.h"
#include "numtext.h"

static int norm(const char *tok, char *out, char *err)
{
    return numtext_normalize(tok, strlen(tok), out, MESH_MAX_DIGITS + 2, err, 128);
}

static void test_accepts_and_normalises(void)
{
    char out[MESH_MAX_DIGITS + 2], err[128];
    CHECK_INT_EQ(norm("12345", out, err), 0);
    CHECK_STR_EQ(out, "12345");
    CHECK_INT_EQ(norm("007", out, err), 0);
    CHECK_STR_EQ(out, "7");
    CHECK_INT_EQ(norm("+0", out, err), 0);
    CHECK_STR_EQ(out, "0");
    CHECK_INT_EQ(norm("0000", out, err), 0);
    CHECK_STR_EQ(out, "0");
    CHECK_INT_EQ(norm("+18446744073709551616", out, err), 0);
    CHECK_STR_EQ(out, "18446744073709551616");
}

static void test_rejects_garbage(void)
{
    char out[MESH_MAX_DIGITS + 2], err[128];
    const char *bad[] = {"abc", "-1", "+", "++1", "1+", "1 2", " 1", "1e5", "0x10", "1.0", "١"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT_EQ(norm(bad[i], out, err), -1);
        CHECK_STR_EQ(err, "not a valid non-negative integer");
    }
    CHECK_INT_EQ(norm("", out, err), -1);
    CHECK_STR_EQ(err, "empty");
    /* An embedded NUL is not a digit. */
    CHECK_INT_EQ(numtext_normalize("1\0002", 3, out, sizeof out, err, sizeof err), -1);
}

/* 2^1024 - 1 is the largest accepted value; 2^1024 is the first refused. */
static const char two_1024_minus_1[] =
    "17976931348623159077293051907890247336179769789423065727343008115773267580550096313270847"
    "73224075360211201138798713933576587897688144166224928474306394741243777678934248654852763"
    "02219601246094119453082952085005768838150682342462881473913110540827237163350510684586298"
    "239947245938479716304835356329624224137215";
static const char two_1024[] =
    "17976931348623159077293051907890247336179769789423065727343008115773267580550096313270847"
    "73224075360211201138798713933576587897688144166224928474306394741243777678934248654852763"
    "02219601246094119453082952085005768838150682342462881473913110540827237163350510684586298"
    "239947245938479716304835356329624224137216";

static void test_1024_bit_boundary(void)
{
    char out[MESH_MAX_DIGITS + 2], err[128];
    CHECK_INT_EQ(strlen(two_1024_minus_1), MESH_MAX_DIGITS);
    CHECK_INT_EQ(norm(two_1024_minus_1, out, err), 0);
    CHECK_STR_EQ(out, two_1024_minus_1);
    CHECK_INT_EQ(norm(two_1024, out, err), -1);
    CHECK_STR_EQ(err, "number exceeds 1024 bits");
    /* Leading zeros do not count against the limit. */
    char padded[400] = "000000";
    strcat(padded, two_1024_minus_1);
    CHECK_INT_EQ(norm(padded, out, err), 0);
    CHECK_STR_EQ(out, two_1024_minus_1);
    char big[400];
    memset(big, '9', 310);
    big[310] = '\0';
    CHECK_INT_EQ(norm(big, out, err), -1);
    CHECK_STR_EQ(err, "number exceeds 1024 bits");
    /* A 309-digit number smaller than 2^1024 - 1 passes. */
    memset(big, '1', 309);
    big[309] = '\0';
    CHECK_INT_EQ(norm(big, out, err), 0);
}

static void test_is_normal(void)
{
    CHECK(numtext_is_normal("0", 1));
    CHECK(numtext_is_normal("10", 2));
    CHECK(!numtext_is_normal("", 0));
    CHECK(!numtext_is_normal("01", 2));
    CHECK(!numtext_is_normal("+1", 2));
    CHECK(numtext_is_normal(two_1024_minus_1, MESH_MAX_DIGITS));
    CHECK(!numtext_is_normal(two_1024, MESH_MAX_DIGITS));
}

static void test_small_output_buffer(void)
{
    char out[3], err[128];
    CHECK_INT_EQ(numtext_normalize("123", 3, out, sizeof out, err, sizeof err), -1);
    CHECK_INT_EQ(numtext_normalize("12", 2, out, sizeof out, NULL, 0), 0);
    CHECK_STR_EQ(out, "12");
}

int main(void)
{
    test_accepts_and_normalises();
    test_rejects_garbage();
    test_1024_bit_boundary();
    test_is_normal();
    test_small_output_buffer();
    return 0;
}
