/* The business rules of docs/envelope.md ("data_processed data"), applied in
 * the documented order. The
 * first broken rule wins, so the same order always gets the same reason. */
#include <stdarg.h>
#include <stdio.h>

#include <orderflow/processing.h>

#include "envelope/text.h"

#define OF_SKU_SHOWN 40 /* keeps the longest reason well inside OF_REASON_MAX */

__attribute__((format(printf, 3, 4))) static int reject(of_processed *out, char *reason_buf,
                                                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(reason_buf, OF_REASON_MAX, fmt, ap);
    va_end(ap);
    out->status = OF_STATUS_REJECTED;
    size_t len = n < 0 ? 0 : (size_t)n;
    out->reason = (of_str){reason_buf, len < OF_REASON_MAX ? len : OF_REASON_MAX - 1};
    return -1;
}

/* Reasons number items from 1 and show the SKU quoted to ASCII, so a reason
 * is one line and valid UTF-8 however the SKU looks. */
static const char *sku(const of_item *item, char *buf)
{
    of_quote(buf, OF_SKU_SHOWN, item->sku.ptr ? item->sku.ptr : "", item->sku.len);
    return buf;
}

static int capital_letters(of_str s)
{
    if (s.len != 3 || !s.ptr) return 0;
    for (size_t i = 0; i < 3; i++)
        if (s.ptr[i] < 'A' || s.ptr[i] > 'Z') return 0;
    return 1;
}

/* Returns 0 when accepted; rejections are recorded in out. */
static int apply(const of_order *order, of_processed *out, char *reason_buf)
{
    char shown[OF_SKU_SHOWN + 1];
    *out = (of_processed){
        .order_id = order->order_id,
        .customer_id = order->customer_id,
        .currency = order->currency,
        .item_count = (int64_t)order->item_count,
        .status = OF_STATUS_ACCEPTED,
    };
    reason_buf[0] = '\0';
    const of_item *items = order->items;
    size_t n = order->item_count;

    if (n == 0) return reject(out, reason_buf, "order has no items");
    for (size_t i = 0; i < n; i++)
        if (items[i].quantity < 1)
            return reject(out, reason_buf, "item %zu (%s): quantity %lld is below 1", i + 1,
                          sku(&items[i], shown), (long long)items[i].quantity);
    for (size_t i = 0; i < n; i++)
        if (items[i].unit_price_cents < 0)
            return reject(out, reason_buf, "item %zu (%s): negative unit price %lld", i + 1,
                          sku(&items[i], shown), (long long)items[i].unit_price_cents);
    if (!capital_letters(order->currency)) {
        of_quote(shown, 16, order->currency.ptr ? order->currency.ptr : "", order->currency.len);
        return reject(out, reason_buf, "currency '%s' is not three capital letters", shown);
    }

    int64_t quantity_total = 0;
    for (size_t i = 0; i < n; i++)
        if (__builtin_add_overflow(quantity_total, items[i].quantity, &quantity_total))
            return reject(out, reason_buf, "quantity total overflows int64");
    out->quantity_total = quantity_total;

    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t line;
        if (__builtin_mul_overflow(items[i].quantity, items[i].unit_price_cents, &line))
            return reject(out, reason_buf, "item %zu (%s): line total overflows int64", i + 1,
                          sku(&items[i], shown));
        if (__builtin_add_overflow(total, line, &total))
            return reject(out, reason_buf, "total overflows int64");
    }
    out->total_cents = total;
    return 0;
}

void of_process_order(const of_order *order, of_processed *out, char *reason_buf)
{
    (void)apply(order, out, reason_buf);
}
