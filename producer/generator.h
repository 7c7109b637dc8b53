/* Deterministic synthetic orders for --generate: the same seed gives the same
 * orders (ids, customers, items) on every run and machine. */
#ifndef OF_PRODUCER_GENERATOR_H
#define OF_PRODUCER_GENERATOR_H

#include <stdint.h>

#include <orderflow/envelope.h>

#define GENERATOR_MAX_ITEMS 5

typedef struct generator {
    uint64_t seed;
    uint64_t next_index;
    /* "G" seed "-" index, each up to 20 digits: 43 bytes and the NUL. */
    char order_id[48];
    size_t order_prefix_len; /* "G<seed>-", written once */
    char customer_id[24];
    char skus[GENERATOR_MAX_ITEMS][16];
    of_item items[GENERATOR_MAX_ITEMS];
} generator;

void generator_init(generator *gen, uint64_t seed);
/* Fills *order with the next order; its strings live in gen until the next call. */
void generator_next(generator *gen, of_order *order);

#endif
