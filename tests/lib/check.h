/* check.h - the smallest useful test harness: a failed CHECK prints where
 * and what, and the test exits non-zero (meson counts it as failed). */
#ifndef MESH_CHECK_H
#define MESH_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                   \
    do {                                                                     \
        const char *check_a_ = (a), *check_b_ = (b);                         \
        if (check_a_ == NULL || check_b_ == NULL ||                          \
            strcmp(check_a_, check_b_) != 0) {                               \
            fprintf(stderr, "%s:%d: expected \"%s\" == \"%s\"\n", __FILE__,  \
                    __LINE__, check_a_ ? check_a_ : "(null)",                \
                    check_b_ ? check_b_ : "(null)");                         \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                   \
    do {                                                                     \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);      \
        if (check_a_ != check_b_) {                                          \
            fprintf(stderr, "%s:%d: expected %s == %s (%lld != %lld)\n",     \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);         \
            exit(1);                                                         \
        }                                                                    \
    } while (0)

#endif
