#include <string.h>

#include "generator.h"

static const of_str currencies[] = {OF_STR("EUR"), OF_STR("USD"), OF_STR("GBP"),
                                    OF_STR("CHF"), OF_STR("SEK"), OF_STR("JPY")};

/* splitmix64: a stateless mix of (seed, index, field), so orders do not depend
 * on how many were generated before them. */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Decimal digits of v at w; returns the end. By hand, two digits per
 * division: snprintf's format parsing was most of the generator's time. */
static char *put_u64(char *w, uint64_t v)
{
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    size_t digits = 1;
    for (uint64_t rest = v; rest >= 10; rest /= 10)
        digits++;
    char *end = w + digits, *p = end;
    while (v >= 100) {
        p -= 2;
        memcpy(p, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * v, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return end;
}

/* prefix then the digits of v into out, which the callers size for the
 * longest (a 20-digit number); returns the length. */
static size_t put_id(char *out, const char *prefix, size_t prefix_len, uint64_t v)
{
    memcpy(out, prefix, prefix_len);
    char *end = put_u64(out + prefix_len, v);
    *end = '\0';
    return (size_t)(end - out);
}

void generator_init(generator *gen, uint64_t seed)
{
    gen->seed = seed;
    gen->next_index = 0;
    /* "G<seed>-": the same for every order of the run. */
    gen->order_id[0] = 'G';
    char *w = put_u64(gen->order_id + 1, seed);
    *w++ = '-';
    gen->order_prefix_len = (size_t)(w - gen->order_id);
}

void generator_next(generator *gen, of_order *order)
{
    uint64_t index = gen->next_index++;
    uint64_t r = mix(gen->seed ^ mix(index));
    char *end = put_u64(gen->order_id + gen->order_prefix_len, index + 1);
    *end = '\0';
    size_t id_len = (size_t)(end - gen->order_id);
    size_t customer_len = put_id(gen->customer_id, "C-", 2, r % 100000);
    size_t count = 1 + (size_t)((r >> 20) % GENERATOR_MAX_ITEMS);
    for (size_t i = 0; i < count; i++) {
        uint64_t ri = mix(r + i + 1);
        size_t sku_len = put_id(gen->skus[i], "SKU-", 4, ri % 5000);
        gen->items[i].sku = (of_str){gen->skus[i], sku_len};
        gen->items[i].quantity = (int64_t)(1 + (ri >> 16) % 9);
        gen->items[i].unit_price_cents = (int64_t)(99 + (ri >> 32) % 99901);
    }
    order->order_id = (of_str){gen->order_id, id_len};
    order->customer_id = (of_str){gen->customer_id, customer_len};
    order->currency = currencies[(r >> 8) % (sizeof(currencies) / sizeof(*currencies))];
    order->items = gen->items;
    order->item_count = count;
}
