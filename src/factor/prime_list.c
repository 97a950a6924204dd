/* prime_list.c - a growable array of GMP integers. */
#include <stdlib.h>

#include "prime_list.h"

void prime_list_init(struct prime_list *list)
{
    list->items = NULL;
    list->count = 0;
    list->capacity = 0;
}

void prime_list_free(struct prime_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        mpz_clear(list->items[i]);
    free(list->items);
    prime_list_init(list);
}

static int reserve_one(struct prime_list *list)
{
    if (list->count < list->capacity)
        return 0;
    size_t capacity = list->capacity ? list->capacity * 2 : 16;
    mpz_t *items = realloc(list->items, capacity * sizeof *items);
    if (items == NULL)
        return -1;
    list->items = items;
    list->capacity = capacity;
    return 0;
}

int prime_list_push(struct prime_list *list, const mpz_t p, unsigned long times)
{
    for (unsigned long i = 0; i < times; i++) {
        if (reserve_one(list) != 0)
            return -1;
        mpz_init_set(list->items[list->count++], p);
    }
    return 0;
}

int prime_list_push_u64(struct prime_list *list, uint64_t p)
{
    if (reserve_one(list) != 0)
        return -1;
    /* mpz_set_ui takes unsigned long, which is 64 bits on every target we
     * build for (LP64); import keeps this correct elsewhere too. */
    mpz_init(list->items[list->count]);
    mpz_import(list->items[list->count], 1, 1, sizeof p, 0, 0, &p);
    list->count++;
    return 0;
}

static int compare_mpz(const void *a, const void *b)
{
    return mpz_cmp(*(const mpz_t *)a, *(const mpz_t *)b);
}

void prime_list_sort(struct prime_list *list)
{
    if (list->count > 1)
        qsort(list->items, list->count, sizeof *list->items, compare_mpz);
}
