#include <stdio.h>

#include "generator.h"

static const char *const currencies[] = {"EUR", "USD", "GBP", "CHF", "SEK", "JPY"};

/* splitmix64: a stateless mix of (seed, index, field), so orders do not depend
 * on how many were generated before them. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void generator_init(generator *gen, uint64_t seed)
{
    gen->seed = seed;
    gen->next_index = 0;
}

void generator_next(generator *gen, of_order *order)
{
    uint64_t index = gen->next_index++;
    uint64_t r = mix(gen->seed ^ mix(index));
    int id_len = snprintf(gen->order_id, sizeof(gen->order_id), "G%llu-%llu",
                          (unsigned long long)gen->seed, (unsigned long long)index + 1);
    int customer_len = snprintf(gen->customer_id, sizeof(gen->customer_id), "C-%llu",
                                (unsigned long long)(r % 100000));
    size_t count = 1 + (size_t)((r >> 20) % GENERATOR_MAX_ITEMS);
    for (size_t i = 0; i < count; i++) {
        uint64_t ri = mix(r + i + 1);
        int sku_len = snprintf(gen->skus[i], sizeof(gen->skus[i]), "SKU-%llu",
                               (unsigned long long)(ri % 5000));
        gen->items[i].sku = (of_str){gen->skus[i], (size_t)sku_len};
        gen->items[i].quantity = (int64_t)(1 + (ri >> 16) % 9);
        gen->items[i].unit_price_cents = (int64_t)(99 + (ri >> 32) % 99901);
    }
    order->order_id = (of_str){gen->order_id, (size_t)id_len};
    order->customer_id = (of_str){gen->customer_id, (size_t)customer_len};
    order->currency = of_str_c(currencies[(r >> 8) % (sizeof(currencies) / sizeof(*currencies))]);
    order->items = gen->items;
    order->item_count = count;
}
