/* prime_list.h - a growable array of GMP integers (internal).
 *
 * Collects the prime factors of one number while the kernel works on it;
 * sorted and turned into decimal strings once the work is done. */
#ifndef MESH_FACTOR_PRIME_LIST_H
#define MESH_FACTOR_PRIME_LIST_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

struct prime_list {
    mpz_t *items;
    size_t count;
    size_t capacity;
};

void prime_list_init(struct prime_list *list);
void prime_list_free(struct prime_list *list);
/* Append p (or p^times as `times` copies); -1 when out of memory. */
int prime_list_push(struct prime_list *list, const mpz_t p, unsigned long times);
int prime_list_push_u64(struct prime_list *list, uint64_t p);
void prime_list_sort(struct prime_list *list);

#endif
