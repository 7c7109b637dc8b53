/* Hostile record values far beyond every limit of docs/envelope.md ("Limits"): each is
 * refused with its own reason, without a crash, and a decoder that has seen
 * them all keeps its memory bounded. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/envelope.h>

#include "helpers.h"

#define OC of_sample_order_created
#define EXT_AT "\"schemaversion\":1,"

/* OC with `attr` (already JSON: "name":value) inserted as an extension. */
static char *with_extension(const char *attr)
{
    const char *insert = strstr(OC, EXT_AT) + strlen(EXT_AT);
    size_t head = (size_t)(insert - OC), alen = strlen(attr), tail = strlen(insert);
    char *out = malloc(head + alen + 1 + tail + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, OC, head);
    memcpy(out + head, attr, alen);
    out[head + alen] = ',';
    memcpy(out + head + alen + 1, insert, tail + 1);
    return out;
}

/* "x":[[[...]]] nested `depth` deep, closed or not. */
static char *nested(size_t depth, int closed)
{
    char *attr = malloc(2 * depth + 8);
    ck_assert_ptr_nonnull(attr);
    char *w = attr + sprintf(attr, "\"x\":");
    memset(w, '[', depth);
    w += depth;
    if (closed) {
        memset(w, ']', depth);
        w += depth;
    }
    *w = '\0';
    char *out = with_extension(attr);
    free(attr);
    return out;
}

static void assert_reject_bytes(const void *buf, size_t len, of_reject code, const char *part)
{
    of_event ev;
    char why[256];
    of_reject rc = of_decode_with(NULL, buf, len, &ev, why);
    ck_assert_msg(rc == code, "expected %s, got %s (%s)", of_reject_name(code), of_reject_name(rc),
                  why);
    ck_assert_msg(strstr(why, part) != NULL, "reason '%s' lacks '%s'", why, part);
}

START_TEST(nesting_100000_deep)
{
    char *closed = nested(100000, 1), *open = nested(100000, 0);
    assert_reject_bytes(closed, strlen(closed), OF_REJECT_TOO_DEEP, "32");
    assert_reject_bytes(open, strlen(open), OF_REJECT_TOO_DEEP, "32");
    free(closed);
    free(open);
}
END_TEST

START_TEST(objects_nested_in_data)
{
    /* Depth counted through data and items too, not only in extensions. */
    char inner[4096], *w = inner;
    for (int i = 0; i < 40; i++)
        w += sprintf(w, "{\"k\":");
    w += sprintf(w, "1");
    for (int i = 0; i < 40; i++)
        *w++ = '}';
    *w = '\0';
    char attr[4200];
    snprintf(attr, sizeof(attr), "\"sku\":\"SKU-1\",\"extra\":%s,\"quantity\"", inner);
    char *s = of_subst(OC, "\"sku\":\"SKU-1\",\"quantity\"", attr);
    assert_reject_bytes(s, strlen(s), OF_REJECT_TOO_DEEP, "32");
    free(s);
}
END_TEST

START_TEST(string_of_900k)
{
    size_t n = 900 * 1024;
    char *attr = malloc(n + 16);
    ck_assert_ptr_nonnull(attr);
    int head = sprintf(attr, "\"x\":\"");
    memset(attr + head, 'a', n);
    strcpy(attr + head + n, "\"");
    char *s = with_extension(attr);
    assert_reject_bytes(s, strlen(s), OF_REJECT_STRING_TOO_LONG, "65536");
    free(attr);
    free(s);
}
END_TEST

START_TEST(escapes_that_grow_past_the_string_limit)
{
    /* 70,000 characters written as \u00e9 (6 input bytes, 2 output bytes):
     * the limit applies to the unescaped string. */
    size_t count = 70000;
    char *attr = malloc(count * 6 + 16);
    ck_assert_ptr_nonnull(attr);
    char *w = attr + sprintf(attr, "\"x\":\"");
    for (size_t i = 0; i < count; i++)
        w += sprintf(w, "\\u00e9");
    strcpy(w, "\"");
    char *s = with_extension(attr);
    assert_reject_bytes(s, strlen(s), OF_REJECT_STRING_TOO_LONG, "65536");
    free(attr);
    free(s);
}
END_TEST

START_TEST(array_of_300000_numbers_in_items)
{
    size_t count = 300000;
    char *items = malloc(count * 2 + 16);
    ck_assert_ptr_nonnull(items);
    char *w = items + sprintf(items, "\"items\":[");
    for (size_t i = 0; i < count; i++) {
        *w++ = '1';
        *w++ = ',';
    }
    w[-1] = ']';
    *w = '\0';
    char *s = of_subst(
        OC, "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]", items);
    /* The count is over the limit before any element is looked at. */
    assert_reject_bytes(s, strlen(s), OF_REJECT_TOO_MANY_ITEMS, "10000");
    free(items);
    free(s);
    char *few =
        of_subst(OC, "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]",
                 "\"items\":[1,2,3]");
    assert_reject_bytes(few, strlen(few), OF_REJECT_WRONG_TYPE, "items");
    free(few);
}
END_TEST

START_TEST(items_10001_within_the_record_limit)
{
    const char *item = "{\"sku\":\"S\",\"quantity\":1,\"unit_price_cents\":1},";
    size_t count = 10001, ilen = strlen(item);
    char *items = malloc(count * ilen + 16);
    ck_assert_ptr_nonnull(items);
    char *w = items + sprintf(items, "\"items\":[");
    for (size_t i = 0; i < count; i++)
        w += sprintf(w, "%s", item);
    w[-1] = ']';
    char *s = of_subst(
        OC, "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]", items);
    ck_assert_uint_lt(strlen(s), OF_DEFAULT_MAX_RECORD_BYTES);
    assert_reject_bytes(s, strlen(s), OF_REJECT_TOO_MANY_ITEMS, "10000");
    free(items);
    free(s);
}
END_TEST

START_TEST(record_of_8_mib)
{
    size_t n = 8u << 20;
    char *s = malloc(n);
    ck_assert_ptr_nonnull(s);
    memset(s, ' ', n);
    memcpy(s, OC, strlen(OC));
    assert_reject_bytes(s, n, OF_REJECT_TOO_LARGE, "1048576");
    free(s);
}
END_TEST

START_TEST(nul_bytes_everywhere)
{
    /* A raw NUL before the document, inside a string, after the document,
     * and an escaped one in a value. */
    size_t len = strlen(OC);
    char *s = malloc(len + 2);
    ck_assert_ptr_nonnull(s);
    s[0] = '\0';
    memcpy(s + 1, OC, len);
    assert_reject_bytes(s, len + 1, OF_REJECT_NOT_JSON, "");
    memcpy(s, OC, len);
    s[len] = '\0';
    assert_reject_bytes(s, len + 1, OF_REJECT_NOT_JSON, "");
    char *inside = strstr(s, "C-42");
    inside[1] = '\0';
    of_event ev;
    char why[256];
    ck_assert_int_ne(of_decode_with(NULL, s, len, &ev, why), OF_OK);
    free(s);
    char *escaped = of_subst(OC, "\"C-42\"", "\"C-\\u0000-42\"");
    OF_ASSERT_REJECT(escaped, OF_REJECT_BAD_VALUE, "NUL");
    free(escaped);
}
END_TEST

START_TEST(invalid_utf8_forms)
{
    static const char *const forms[] = {
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong, 3 bytes */
        "\xed\xa0\x80",     /* UTF-16 surrogate encoded as UTF-8 */
        "\xe2\x82",         /* truncated sequence */
        "\xf8\x88\x80\x80", /* 5-byte form */
        "\xf4\x90\x80\x80", /* beyond U+10FFFF */
        "\x80",             /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        char bad[32];
        snprintf(bad, sizeof(bad), "\"C-%s\"", forms[i]);
        char *s = of_subst(OC, "\"C-42\"", bad);
        assert_reject_bytes(s, strlen(s), OF_REJECT_INVALID_UTF8, "UTF-8");
        free(s);
    }
    /* Escapes of lone surrogates, which yajl would quietly turn into '?'. */
    static const char *const escapes[] = {"\"C-\\ud800\"", "\"C-\\udc00\"", "\"C-\\ud800x\"",
                                          "\"C-\\ud800\\u0041\""};
    for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        char *s = of_subst(OC, "\"C-42\"", escapes[i]);
        OF_ASSERT_REJECT(s, OF_REJECT_INVALID_UTF8, "UTF-8");
        free(s);
    }
    /* A proper pair (U+1F600) and an escaped backslash before "ud800" pass. */
    static const char *const fine[] = {"\"C-\\ud83d\\ude00\"", "\"C-\\\\ud800\""};
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        char *s = of_subst(OC, "\"C-42\"", fine[i]);
        of_event ev;
        char why[256];
        ck_assert_msg(of_decode_text(s, &ev, why) == OF_OK, "%s: %s", fine[i], why);
        free(s);
    }
}
END_TEST

START_TEST(duplicate_attributes_at_every_level)
{
    char *top =
        of_subst(OC, "\"subject\":\"A-1001\",", "\"subject\":\"A-1001\",\"subject\":\"B\",");
    OF_ASSERT_REJECT(top, OF_REJECT_DUPLICATE_ATTR, "subject");
    char *data =
        of_subst(OC, "\"currency\":\"EUR\",", "\"currency\":\"EUR\",\"currency\":\"USD\",");
    OF_ASSERT_REJECT(data, OF_REJECT_DUPLICATE_ATTR, "currency");
    char *item = of_subst(OC, "\"quantity\":2,", "\"quantity\":2,\"quantity\":3,");
    OF_ASSERT_REJECT(item, OF_REJECT_DUPLICATE_ATTR, "quantity");
    free(top);
    free(data);
    free(item);
}
END_TEST

/* After one round of every hostile input, further rounds allocate nothing
 * that stays: the decoder's arena is bounded by the limits, not the input. */
START_TEST(memory_stays_bounded)
{
    char *inputs[] = {nested(100000, 1), nested(5000, 0), with_extension("\"x\":[1,2,3]")};
    of_decoder *dec = of_decoder_new(NULL);
    ck_assert_ptr_nonnull(dec);
    of_event ev;
    char why[256];
    size_t after_first = 0;
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
            of_decode_event(dec, inputs[i], strlen(inputs[i]), &ev, why, sizeof(why));
        if (round == 0) after_first = mallinfo2().uordblks;
    }
    size_t after_all = mallinfo2().uordblks;
    ck_assert_msg(after_all <= after_first + 4096, "heap grew by %zu bytes over 199 rounds",
                  after_all - after_first);
    of_decoder_free(dec);
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
        free(inputs[i]);
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-hostile");
    TCase *tc = tcase_create("hostile");
    tcase_set_timeout(tc, 120);
    check_tcase_add_test(tc, nesting_100000_deep);
    check_tcase_add_test(tc, objects_nested_in_data);
    check_tcase_add_test(tc, string_of_900k);
    check_tcase_add_test(tc, escapes_that_grow_past_the_string_limit);
    check_tcase_add_test(tc, array_of_300000_numbers_in_items);
    check_tcase_add_test(tc, items_10001_within_the_record_limit);
    check_tcase_add_test(tc, record_of_8_mib);
    check_tcase_add_test(tc, nul_bytes_everywhere);
    check_tcase_add_test(tc, invalid_utf8_forms);
    check_tcase_add_test(tc, duplicate_attributes_at_every_level);
    check_tcase_add_test(tc, memory_stays_bounded);
    suite_add_tcase(s, tc);
    return s;
}
