/* Each limit at exactly its value (accepted) and one past it (rejected), with
 * the documented defaults (docs/envelope.md, "Limits"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/envelope.h>

#include "helpers.h"

#define OC of_sample_order_created
#define EXT_AT "\"schemaversion\":1,"

/* OC with an extension attribute "pad" (an array of strings, each within the
 * string limit) inserted so that the whole record is exactly total bytes. */
static char *padded(size_t total)
{
    const char *insert = strstr(OC, EXT_AT) + strlen(EXT_AT);
    size_t base = strlen(OC), head = (size_t)(insert - OC);
    const char *open = "\"pad\":[", *close = "],";
    size_t frame = strlen(open) + strlen(close);
    ck_assert_uint_gt(total, base + frame + 2);
    size_t payload = total - base - frame; /* the array's strings with quotes and commas */
    size_t per = OF_DEFAULT_MAX_STRING_BYTES - 100;
    size_t count = (payload + per + 2) / (per + 3);
    size_t content = payload - 2 - 3 * (count - 1);

    char *out = malloc(total + 1);
    ck_assert_ptr_nonnull(out);
    char *w = out;
    memcpy(w, OC, head);
    w += head;
    w += sprintf(w, "%s", open);
    for (size_t i = 0; i < count; i++) {
        size_t n = content / count + (i < content % count ? 1 : 0);
        if (i) *w++ = ',';
        *w++ = '"';
        memset(w, 'p', n);
        w += n;
        *w++ = '"';
    }
    w += sprintf(w, "%s", close);
    memcpy(w, insert, base - head + 1);
    ck_assert_uint_eq(strlen(out), total);
    return out;
}

START_TEST(record_size)
{
    of_event ev;
    char why[256];
    char *json = padded(OF_DEFAULT_MAX_RECORD_BYTES);
    ck_assert_msg(of_decode_text(json, &ev, why) == OF_OK, "%s", why);
    free(json);

    json = padded(OF_DEFAULT_MAX_RECORD_BYTES + 1);
    ck_assert_int_eq(of_decode_text(json, &ev, why), OF_REJECT_TOO_LARGE);
    ck_assert_str_eq(why, "record is 1048577 bytes, over the limit of 1048576 bytes");
    free(json);

    /* A configured limit works the same way. */
    of_limits limits;
    of_limits_init(&limits);
    limits.max_record_bytes = strlen(OC);
    ck_assert_int_eq(of_decode_with(&limits, OC, strlen(OC), &ev, why), OF_OK);
    limits.max_record_bytes = strlen(OC) - 1;
    ck_assert_int_eq(of_decode_with(&limits, OC, strlen(OC), &ev, why), OF_REJECT_TOO_LARGE);
}
END_TEST

/* OC with an extension of nested arrays so the deepest is at depth levels
 * (the envelope is 1, the extension's outer array 2). */
static char *nested(unsigned levels)
{
    unsigned arrays = levels - 1;
    char *to = malloc(strlen(EXT_AT) + 2 * arrays + 16);
    ck_assert_ptr_nonnull(to);
    char *w = to + sprintf(to, "%s\"deep\":", EXT_AT);
    memset(w, '[', arrays);
    memset(w + arrays, ']', arrays);
    strcpy(w + 2 * arrays, ",");
    char *json = of_subst(OC, EXT_AT, to);
    free(to);
    return json;
}

START_TEST(depth)
{
    of_event ev;
    char why[256];
    char *json = nested(OF_DEFAULT_MAX_DEPTH);
    ck_assert_msg(of_decode_text(json, &ev, why) == OF_OK, "%s", why);
    free(json);

    json = nested(OF_DEFAULT_MAX_DEPTH + 1);
    ck_assert_int_eq(of_decode_text(json, &ev, why), OF_REJECT_TOO_DEEP);
    ck_assert_ptr_nonnull(strstr(why, "attribute 'deep': nesting deeper than 32 levels"));
    free(json);

    /* The items are at depth 4: envelope, data, items array, item. */
    of_limits limits;
    of_limits_init(&limits);
    limits.max_depth = 4;
    ck_assert_int_eq(of_decode_with(&limits, OC, strlen(OC), &ev, why), OF_OK);
    limits.max_depth = 3;
    ck_assert_int_eq(of_decode_with(&limits, OC, strlen(OC), &ev, why), OF_REJECT_TOO_DEEP);

    /* A record of nothing but brackets stops at the limit, long before its end. */
    size_t n = 1000000;
    char *brackets = malloc(n);
    memset(brackets, '[', n);
    brackets[0] = '{';
    memcpy(brackets + 1, "\"a\":", 4);
    ck_assert_int_eq(of_decode_with(NULL, brackets, n, &ev, why), OF_REJECT_TOO_DEEP);
    free(brackets);
}
END_TEST

static char *with_customer(size_t bytes, const char *unit)
{
    size_t ulen = strlen(unit);
    char *value = malloc(bytes * ulen + 3);
    char *w = value;
    *w++ = '"';
    for (size_t i = 0; i < bytes; i++, w += ulen)
        memcpy(w, unit, ulen);
    *w++ = '"';
    *w = '\0';
    char *json = of_subst(OC, "\"C-42\"", value);
    free(value);
    return json;
}

START_TEST(string_length)
{
    of_event ev;
    char why[256];
    char *json = with_customer(OF_DEFAULT_MAX_STRING_BYTES, "c");
    ck_assert_msg(of_decode_text(json, &ev, why) == OF_OK, "%s", why);
    free(json);

    json = with_customer(OF_DEFAULT_MAX_STRING_BYTES + 1, "c");
    ck_assert_int_eq(of_decode_text(json, &ev, why), OF_REJECT_STRING_TOO_LONG);
    ck_assert_str_eq(why,
                     "data.customer_id: string of 65537 bytes is over the limit of 65536 bytes");
    free(json);

    /* Counted after unescaping: each \u00e9 is two bytes of UTF-8. */
    json = with_customer(OF_DEFAULT_MAX_STRING_BYTES / 2, "\\u00e9");
    ck_assert_msg(of_decode_text(json, &ev, why) == OF_OK, "%s", why);
    free(json);
    char *longer = with_customer(OF_DEFAULT_MAX_STRING_BYTES / 2, "\\u00e9");
    json = of_subst(longer, "\",\"currency\"", "x\",\"currency\"");
    ck_assert_int_eq(of_decode_text(json, &ev, why), OF_REJECT_STRING_TOO_LONG);
    ck_assert_ptr_nonnull(strstr(why, "string of 65537 bytes"));
    free(json);
    free(longer);

    /* Keys too, known or not. */
    char *key = malloc(OF_DEFAULT_MAX_STRING_BYTES + 16);
    for (size_t extra = 0; extra <= 1; extra++) {
        size_t n = OF_DEFAULT_MAX_STRING_BYTES + extra;
        key[0] = '"';
        memset(key + 1, 'k', n);
        memcpy(key + 1 + n, "\":1,", 5);
        char *to = malloc(n + 32);
        sprintf(to, "%s%s", EXT_AT, key);
        json = of_subst(OC, EXT_AT, to);
        of_reject rc = of_decode_text(json, &ev, why);
        if (extra) {
            ck_assert_int_eq(rc, OF_REJECT_STRING_TOO_LONG);
            ck_assert_ptr_nonnull(strstr(why, "object key of 65537 bytes"));
        } else {
            ck_assert_msg(rc == OF_OK, "%s", why);
        }
        free(json);
        free(to);
    }
    free(key);
}
END_TEST

static char *with_items(size_t count)
{
    static const char item[] = "{\"sku\":\"S\",\"quantity\":1,\"unit_price_cents\":1}";
    size_t ilen = strlen(item);
    char *items = malloc(count * (ilen + 1) + 3);
    char *w = items;
    *w++ = '[';
    for (size_t i = 0; i < count; i++) {
        if (i) *w++ = ',';
        memcpy(w, item, ilen);
        w += ilen;
    }
    *w++ = ']';
    *w = '\0';
    char *json =
        of_subst(OC, "[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]", items);
    free(items);
    return json;
}

START_TEST(item_count)
{
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    char why[256];
    char *json = with_items(OF_DEFAULT_MAX_ITEMS);
    ck_assert_msg(of_decode_event(dec, json, strlen(json), &ev, why, sizeof(why)) == OF_OK, "%s",
                  why);
    ck_assert_uint_eq(ev.data.order.item_count, OF_DEFAULT_MAX_ITEMS);
    ck_assert_int_eq(ev.data.order.items[OF_DEFAULT_MAX_ITEMS - 1].quantity, 1);
    ck_assert_int_eq(ev.data.order.items[OF_DEFAULT_MAX_ITEMS - 1].sku.ptr[0], 'S');
    free(json);

    json = with_items(OF_DEFAULT_MAX_ITEMS + 1);
    ck_assert_int_eq(of_decode_event(dec, json, strlen(json), &ev, why, sizeof(why)),
                     OF_REJECT_TOO_MANY_ITEMS);
    ck_assert_str_eq(why, "data.items: more than 10000 items");
    free(json);

    /* The decoder is still good after refusing. */
    ck_assert_int_eq(of_decode_event(dec, OC, strlen(OC), &ev, why, sizeof(why)), OF_OK);
    ck_assert_uint_eq(ev.data.order.item_count, 1);
    of_decoder_free(dec);
}
END_TEST

START_TEST(defaults)
{
    of_limits limits;
    memset(&limits, 0xff, sizeof(limits));
    of_limits_init(&limits);
    ck_assert_uint_eq(limits.max_record_bytes, 1048576);
    ck_assert_uint_eq(limits.max_depth, 32);
    ck_assert_uint_eq(limits.max_string_bytes, 65536);
    ck_assert_uint_eq(limits.max_items, 10000);
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-limits");
    TCase *tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    check_tcase_add_test(tc, record_size);
    check_tcase_add_test(tc, depth);
    check_tcase_add_test(tc, string_length);
    check_tcase_add_test(tc, item_count);
    check_tcase_add_test(tc, defaults);
    suite_add_tcase(s, tc);
    return s;
}
