/* The processing rules: every rejection reason, their order, overflow, and
 * determinism. */
#include <stdint.h>
#include <string.h>

#include <orderflow/processing.h>

#include "helpers.h"

static of_order order_of(const of_item *items, size_t count, const char *currency)
{
    return (of_order){
        .order_id = OF_STR("A-1001"),
        .customer_id = OF_STR("C-42"),
        .currency = of_str_c(currency),
        .items = items,
        .item_count = count,
    };
}

static of_processed run(const of_order *order, char *reason)
{
    of_processed out;
    memset(&out, 0xa5, sizeof(out));
    of_process_order(order, &out, reason);
    return out;
}

static void assert_rejected(const of_order *order, const char *reason_text)
{
    char reason[OF_REASON_MAX];
    of_processed out = run(order, reason);
    ck_assert_int_eq(out.status, OF_STATUS_REJECTED);
    ck_assert_str_eq(reason, reason_text);
    ck_assert_ptr_eq(out.reason.ptr, reason);
    ck_assert_uint_eq(out.reason.len, strlen(reason_text));
    ck_assert(of_str_eq(out.order_id, order->order_id));
    ck_assert_int_eq(out.item_count, (int64_t)order->item_count);
}

START_TEST(accepted)
{
    const of_item items[] = {
        {OF_STR("SKU-1"), 2, 1999},
        {OF_STR("SKU-2"), 3, 0},
        {OF_STR("SKU-3"), 1, 250},
    };
    of_order order = order_of(items, 3, "EUR");
    char reason[OF_REASON_MAX];
    of_processed out = run(&order, reason);
    ck_assert_int_eq(out.status, OF_STATUS_ACCEPTED);
    ck_assert_ptr_null(out.reason.ptr);
    ck_assert_int_eq(out.item_count, 3);
    ck_assert_int_eq(out.quantity_total, 6);
    ck_assert_int_eq(out.total_cents, 2 * 1999 + 250);
    /* The strings are views of the order's. */
    ck_assert_ptr_eq(out.order_id.ptr, order.order_id.ptr);
    ck_assert_ptr_eq(out.customer_id.ptr, order.customer_id.ptr);
    ck_assert_ptr_eq(out.currency.ptr, order.currency.ptr);
    ck_assert_uint_eq(out.currency.len, 3);
}
END_TEST

START_TEST(no_items)
{
    of_order order = order_of(NULL, 0, "EUR");
    assert_rejected(&order, "order has no items");
    char reason[OF_REASON_MAX];
    of_processed out = run(&order, reason);
    ck_assert_int_eq(out.quantity_total, 0);
    ck_assert_int_eq(out.total_cents, 0);
}
END_TEST

START_TEST(quantity_below_one)
{
    const of_item items[] = {
        {OF_STR("SKU-1"), 1, 100},
        {OF_STR("SKU-9"), 0, 100},
        {OF_STR("SKU-3"), -4, 100},
    };
    of_order order = order_of(items, 3, "EUR");
    assert_rejected(&order, "item 2 (SKU-9): quantity 0 is below 1");
    order.items = items + 2;
    order.item_count = 1;
    assert_rejected(&order, "item 1 (SKU-3): quantity -4 is below 1");
}
END_TEST

START_TEST(negative_price)
{
    const of_item items[] = {{OF_STR("SKU-1"), 1, -5}, {OF_STR("SKU-2"), 1, INT64_MIN}};
    of_order order = order_of(items, 2, "EUR");
    assert_rejected(&order, "item 1 (SKU-1): negative unit price -5");
    order.items = items + 1;
    order.item_count = 1;
    assert_rejected(&order, "item 1 (SKU-2): negative unit price -9223372036854775808");
}
END_TEST

START_TEST(bad_currency)
{
    const of_item items[] = {{OF_STR("SKU-1"), 1, 5}};
    static const char *const bad[] = {"eur", "EU", "EURO", "E1R", "", "\xc3\x89UR"};
    static const char *const reason[] = {
        "currency 'eur' is not three capital letters",
        "currency 'EU' is not three capital letters",
        "currency 'EURO' is not three capital letters",
        "currency 'E1R' is not three capital letters",
        "currency '' is not three capital letters",
        "currency '\\xc3\\x89UR' is not three capital letters",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        of_order order = order_of(items, 1, bad[i]);
        assert_rejected(&order, reason[i]);
        char r[OF_REASON_MAX];
        of_processed out = run(&order, r);
        ck_assert_int_eq(out.quantity_total, 0); /* not reached */
        ck_assert_int_eq(out.total_cents, 0);
    }
}
END_TEST

START_TEST(overflow)
{
    /* The quantities alone overflow. */
    const of_item q[] = {{OF_STR("A"), INT64_MAX, 0}, {OF_STR("B"), 1, 0}};
    of_order order = order_of(q, 2, "EUR");
    assert_rejected(&order, "quantity total overflows int64");
    char reason[OF_REASON_MAX];
    of_processed out = run(&order, reason);
    ck_assert_int_eq(out.quantity_total, 0);
    ck_assert_int_eq(out.total_cents, 0);

    /* One line overflows. */
    const of_item line[] = {{OF_STR("A"), 1, 1}, {OF_STR("BIG"), 3, INT64_MAX / 2}};
    order = order_of(line, 2, "EUR");
    assert_rejected(&order, "item 2 (BIG): line total overflows int64");
    out = run(&order, reason);
    ck_assert_int_eq(out.quantity_total, 4);
    ck_assert_int_eq(out.total_cents, 0);

    /* Every line fits, their sum does not. */
    const of_item sum[] = {{OF_STR("A"), 1, INT64_MAX}, {OF_STR("B"), 1, 1}};
    order = order_of(sum, 2, "EUR");
    assert_rejected(&order, "total overflows int64");
    out = run(&order, reason);
    ck_assert_int_eq(out.quantity_total, 2);
    ck_assert_int_eq(out.total_cents, 0);

    /* Right at the edge is fine. */
    const of_item edge[] = {{OF_STR("A"), 1, INT64_MAX - 1}, {OF_STR("B"), 1, 1}};
    order = order_of(edge, 2, "EUR");
    out = run(&order, reason);
    ck_assert_int_eq(out.status, OF_STATUS_ACCEPTED);
    ck_assert_int_eq(out.total_cents, INT64_MAX);
}
END_TEST

START_TEST(rule_order)
{
    /* Quantity before price before currency: the first broken rule is reported. */
    const of_item items[] = {{OF_STR("P"), 1, -1}, {OF_STR("Q"), 0, 1}};
    of_order order = order_of(items, 2, "eur");
    assert_rejected(&order, "item 2 (Q): quantity 0 is below 1");
    order.items = items;
    order.item_count = 1;
    assert_rejected(&order, "item 1 (P): negative unit price -1");
}
END_TEST

START_TEST(reason_is_one_bounded_line)
{
    char sku[300];
    memset(sku, 'S', sizeof(sku));
    sku[3] = '\n';
    sku[4] = '\xe9';
    const of_item items[] = {{{sku, sizeof(sku)}, 0, 1}};
    of_order order = order_of(items, 1, "EUR");
    char reason[OF_REASON_MAX];
    of_processed out = run(&order, reason);
    ck_assert_int_eq(out.status, OF_STATUS_REJECTED);
    ck_assert_uint_lt(strlen(reason), OF_REASON_MAX);
    ck_assert_uint_eq(out.reason.len, strlen(reason));
    ck_assert_ptr_null(strchr(reason, '\n'));
    for (const char *p = reason; *p; p++)
        ck_assert_msg(*p >= 0x20 && *p <= 0x7e, "byte 0x%02x in reason", (unsigned char)*p);
    ck_assert_ptr_nonnull(strstr(reason, "item 1 (SSS\\x0a\\xe9SSS"));
    ck_assert_ptr_nonnull(strstr(reason, "...): quantity 0 is below 1"));
}
END_TEST

START_TEST(deterministic)
{
    const of_item items[] = {{OF_STR("SKU-1"), 2, 1999}, {OF_STR("SKU-2"), 0, 5}};
    for (size_t count = 1; count <= 2; count++) {
        of_order order = order_of(items, count, "EUR");
        char r1[OF_REASON_MAX], r2[OF_REASON_MAX];
        memset(r1, 1, sizeof(r1));
        memset(r2, 2, sizeof(r2));
        of_processed a = run(&order, r1), b = run(&order, r2);
        ck_assert_int_eq(a.status, b.status);
        ck_assert_int_eq(a.item_count, b.item_count);
        ck_assert_int_eq(a.quantity_total, b.quantity_total);
        ck_assert_int_eq(a.total_cents, b.total_cents);
        ck_assert_str_eq(r1, r2);
        ck_assert_uint_eq(a.reason.len, b.reason.len);
        ck_assert_int_eq(a.status, count == 1 ? OF_STATUS_ACCEPTED : OF_STATUS_REJECTED);
    }
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-processing");
    TCase *tc = tcase_create("processing");
    check_tcase_add_test(tc, accepted);
    check_tcase_add_test(tc, no_items);
    check_tcase_add_test(tc, quantity_below_one);
    check_tcase_add_test(tc, negative_price);
    check_tcase_add_test(tc, bad_currency);
    check_tcase_add_test(tc, overflow);
    check_tcase_add_test(tc, rule_order);
    check_tcase_add_test(tc, reason_is_one_bounded_line);
    check_tcase_add_test(tc, deterministic);
    suite_add_tcase(s, tc);
    return s;
}
