/* generator: deterministic orders, their ids formatted as "%llu" would. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator.h"

#include "../../check_run.h"

#define ASSERT_STR(s, want)                                                                        \
    do {                                                                                           \
        of_str s_ = (s);                                                                           \
        ck_assert_msg(s_.len == strlen(want) && memcmp(s_.ptr, (want), s_.len) == 0,               \
                      "got '%.*s', want '%s'", (int)s_.len, s_.ptr, (want));                       \
    } while (0)

/* The first order of seed 1, as every release so far has generated it. */
START_TEST(seed_1_first_order)
{
    generator gen;
    generator_init(&gen, 1);
    of_order order;
    generator_next(&gen, &order);
    ASSERT_STR(order.order_id, "G1-1");
    ASSERT_STR(order.customer_id, "C-32430");
    ASSERT_STR(order.currency, "JPY");
    static const struct {
        const char *sku;
        int64_t quantity, unit_price_cents;
    } want[] = {
        {"SKU-563", 9, 51166},
        {"SKU-3928", 3, 80955},
        {"SKU-323", 9, 68235},
        {"SKU-2087", 5, 45602},
    };
    ck_assert_uint_eq(order.item_count, 4);
    for (size_t i = 0; i < 4; i++) {
        ASSERT_STR(order.items[i].sku, want[i].sku);
        ck_assert_int_eq(order.items[i].quantity, want[i].quantity);
        ck_assert_int_eq(order.items[i].unit_price_cents, want[i].unit_price_cents);
    }
}
END_TEST

/* A number in a generated id as snprintf's %llu writes it: no leading zero,
 * and every digit. */
static void assert_decimal(of_str s, size_t prefix_len, unsigned long long max)
{
    ck_assert_uint_gt(s.len, prefix_len);
    char text[64];
    ck_assert_uint_lt(s.len, sizeof(text));
    memcpy(text, s.ptr, s.len);
    text[s.len] = '\0';
    char *end;
    unsigned long long v = strtoull(text + prefix_len, &end, 10);
    ck_assert_msg(*end == '\0', "'%s' is not digits after its prefix", text);
    ck_assert_uint_le(v, max);
    char again[64];
    snprintf(again, sizeof(again), "%.*s%llu", (int)prefix_len, text, v);
    ck_assert_str_eq(text, again);
}

START_TEST(ids_as_printf_writes_them)
{
    static const unsigned long long seeds[] = {0,  1,   9,         10,
                                               99, 100, 123456789, 9223372036854775807ULL};
    for (size_t k = 0; k < sizeof(seeds) / sizeof(*seeds); k++) {
        generator gen;
        generator_init(&gen, seeds[k]);
        for (unsigned long long i = 1; i <= 1200; i++) {
            of_order order;
            generator_next(&gen, &order);
            char want[64];
            snprintf(want, sizeof(want), "G%llu-%llu", seeds[k], i);
            ASSERT_STR(order.order_id, want);
            assert_decimal(order.customer_id, 2, 99999);
            ck_assert_uint_ge(order.item_count, 1);
            ck_assert_uint_le(order.item_count, GENERATOR_MAX_ITEMS);
            for (size_t j = 0; j < order.item_count; j++)
                assert_decimal(order.items[j].sku, 4, 4999);
            ck_assert_uint_eq(order.currency.len, 3);
        }
    }
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        seed_1_first_order,
        ids_as_printf_writes_them,
        NULL,
    };
    return check_run_tests("generator", tests, 60);
}
