/* Every rejection reason of_decode_event gives, each with its code and a
 * reason that names what is at fault. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/envelope.h>

#include "helpers.h"

#define OC of_sample_order_created
#define DP of_sample_data_processed
#define EXT_AT "\"schemaversion\":1,"

/* Asserts that OC (or DP) with from replaced by to is rejected so. */
static void reject_variant(const char *base, const char *from, const char *to, of_reject code,
                           const char *part)
{
    char *json = of_subst(base, from, to);
    OF_ASSERT_REJECT(json, code, part);
    free(json);
}

START_TEST(too_large)
{
    of_limits limits;
    of_limits_init(&limits);
    limits.max_record_bytes = 100;
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_with(&limits, OC, strlen(OC), &ev, why), OF_REJECT_TOO_LARGE);
    char want[128];
    snprintf(want, sizeof(want), "record is %zu bytes, over the limit of 100 bytes", strlen(OC));
    ck_assert_str_eq(why, want);
}
END_TEST

START_TEST(not_json)
{
    OF_ASSERT_REJECT("", OF_REJECT_NOT_JSON, "not JSON: the record is empty");
    OF_ASSERT_REJECT("   ", OF_REJECT_NOT_JSON, "not JSON: parse error: premature EOF");
    OF_ASSERT_REJECT("{\"id\":\"x\"", OF_REJECT_NOT_JSON, "premature EOF, byte offset 9");
    OF_ASSERT_REJECT("{\"id\":\"x\"} {}", OF_REJECT_NOT_JSON, "trailing garbage");
    OF_ASSERT_REJECT("{'id':1}", OF_REJECT_NOT_JSON, "not JSON: ");
    OF_ASSERT_REJECT("{\"a\":tru}", OF_REJECT_NOT_JSON, "not JSON: ");
    OF_ASSERT_REJECT("{\"a\":1,}", OF_REJECT_NOT_JSON, "not JSON: ");
    OF_ASSERT_REJECT("{\"a\":01}", OF_REJECT_NOT_JSON, "not JSON: ");
    OF_ASSERT_REJECT("{/* c */}", OF_REJECT_NOT_JSON, "not JSON: ");
    /* A raw control byte inside a string is not JSON either. */
    OF_ASSERT_REJECT("{\"a\":\"x\ty\"}", OF_REJECT_NOT_JSON, "not JSON: ");
    /* Nor a raw NUL, which also ends the C string early: pass the length. */
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_with(NULL, "{\"a\":\"x\0y\"}", 10, &ev, why), OF_REJECT_NOT_JSON);
    ck_assert_ptr_nonnull(strstr(why, "not JSON: "));
}
END_TEST

START_TEST(invalid_utf8)
{
    /* yajl's own check: a lead byte without its continuation. */
    reject_variant(OC, "\"C-42\"", "\"C-\xc3\x28\"", OF_REJECT_INVALID_UTF8,
                   "invalid UTF-8 in a string");
    /* Sequences yajl lets through and ours catches: overlong, surrogate, too high. */
    reject_variant(OC, "\"C-42\"", "\"C-\xc0\xaf\"", OF_REJECT_INVALID_UTF8,
                   "data.customer_id: invalid UTF-8 in a string");
    reject_variant(OC, "\"C-42\"", "\"C-\xed\xa0\x80\"", OF_REJECT_INVALID_UTF8,
                   "data.customer_id: invalid UTF-8");
    reject_variant(OC, "\"C-42\"", "\"C-\xf4\x90\x80\x80\"", OF_REJECT_INVALID_UTF8,
                   "data.customer_id: invalid UTF-8");
    /* An escaped lone low surrogate unescapes to an encoded surrogate. */
    reject_variant(OC, "\"C-42\"", "\"C-\\udc00\"", OF_REJECT_INVALID_UTF8,
                   "data.customer_id: invalid UTF-8");
    /* In a key, and in an extension we would otherwise ignore. */
    reject_variant(OC, "\"subject\"", "\"subj\xe9\"", OF_REJECT_INVALID_UTF8,
                   "invalid UTF-8 in a string or key (byte offset");
    reject_variant(OC, "\"subject\"", "\"subj\xc0\xaf\"", OF_REJECT_INVALID_UTF8,
                   "the envelope: invalid UTF-8 in an object key");
    reject_variant(OC, "\"schemaversion\":1,", "\"schemaversion\":1,\"ext\":[\"\xc0\x80\"],",
                   OF_REJECT_INVALID_UTF8, "attribute 'ext': invalid UTF-8 in a string");
    /* Valid multi-byte text passes. */
    char *ok = of_subst(OC, "\"C-42\"", "\"C-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_text(ok, &ev, why), OF_OK);
    free(ok);
}
END_TEST

START_TEST(not_object)
{
    OF_ASSERT_REJECT("[1,2]", OF_REJECT_NOT_OBJECT, "expected a JSON object, got array");
    OF_ASSERT_REJECT("\"x\"", OF_REJECT_NOT_OBJECT, "expected a JSON object, got string");
    OF_ASSERT_REJECT("42", OF_REJECT_NOT_OBJECT, "expected a JSON object, got number");
    OF_ASSERT_REJECT("null", OF_REJECT_NOT_OBJECT, "expected a JSON object, got null");
    char *json = of_subst(OC, "\"data\":{", "\"data\":[{");
    char *json2 = of_subst(json, "}]}}", "}]}]}");
    OF_ASSERT_REJECT(json2, OF_REJECT_NOT_OBJECT,
                     "attribute 'data': expected an object, got array");
    free(json2);
    free(json);
    reject_variant(DP, "\"data\":{", "\"data\":\"x\",\"zz\":{", OF_REJECT_NOT_OBJECT,
                   "attribute 'data': expected an object, got string");
}
END_TEST

START_TEST(too_deep)
{
    of_limits limits;
    of_limits_init(&limits);
    limits.max_depth = 3; /* envelope, data, items: the item objects are one too deep */
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_with(&limits, OC, strlen(OC), &ev, why), OF_REJECT_TOO_DEEP);
    ck_assert_ptr_nonnull(strstr(why, "data.items[0]: nesting deeper than 3 levels"));
}
END_TEST

START_TEST(string_too_long)
{
    of_limits limits;
    of_limits_init(&limits);
    limits.max_string_bytes = 40; /* the longest string in the fixture is the 36-byte id */
    of_event ev;
    char why[256];
    const char *v41 = "\"0123456789abcdefghijklmnopqrstuvwxyzABCDE\"";
    char *json = of_subst(OC, "\"C-42\"", v41);
    ck_assert_int_eq(of_decode_with(&limits, json, strlen(json), &ev, why),
                     OF_REJECT_STRING_TOO_LONG);
    ck_assert_str_eq(why, "data.customer_id: string of 41 bytes is over the limit of 40 bytes");
    free(json);

    json = of_subst(OC, "\"SKU-1\"", v41);
    ck_assert_int_eq(of_decode_with(&limits, json, strlen(json), &ev, why),
                     OF_REJECT_STRING_TOO_LONG);
    ck_assert_str_eq(why, "data.items[0].sku: string of 41 bytes is over the limit of 40 bytes");
    free(json);

    /* A key over the limit: the reason names the object holding it. */
    json = of_subst(OC, EXT_AT, EXT_AT "\"an_extension_name_of_forty_one_bytes_long\":1,");
    ck_assert_int_eq(of_decode_with(&limits, json, strlen(json), &ev, why),
                     OF_REJECT_STRING_TOO_LONG);
    ck_assert_str_eq(why, "the envelope: object key of 41 bytes is over the limit of 40 bytes");
    free(json);

    /* Inside an ignored extension, too. */
    json = of_subst(OC, EXT_AT,
                    EXT_AT "\"ext\":{\"a\":[1,\"0123456789abcdefghijklmnopqrstuvwxyzABCDE\"]},");
    ck_assert_int_eq(of_decode_with(&limits, json, strlen(json), &ev, why),
                     OF_REJECT_STRING_TOO_LONG);
    ck_assert_str_eq(why, "attribute 'ext': string of 41 bytes is over the limit of 40 bytes");
    free(json);
}
END_TEST

START_TEST(too_many_items)
{
    of_limits limits;
    of_limits_init(&limits);
    limits.max_items = 1;
    of_event ev;
    char why[256];
    char *json =
        of_subst(OC, "}]}}", "},{\"sku\":\"SKU-2\",\"quantity\":1,\"unit_price_cents\":1}]}}");
    ck_assert_int_eq(of_decode_with(&limits, json, strlen(json), &ev, why),
                     OF_REJECT_TOO_MANY_ITEMS);
    ck_assert_str_eq(why, "data.items: more than 1 items");
    free(json);
}
END_TEST

START_TEST(duplicate_attr)
{
    reject_variant(OC, "\"subject\":\"A-1001\",", "\"subject\":\"A-1001\",\"id\":\"again\",",
                   OF_REJECT_DUPLICATE_ATTR, "duplicate attribute 'id'");
    reject_variant(OC, "\"currency\":\"EUR\",", "\"currency\":\"EUR\",\"currency\":\"USD\",",
                   OF_REJECT_DUPLICATE_ATTR, "duplicate field 'data.currency'");
    reject_variant(OC, "\"quantity\":2,", "\"quantity\":2,\"sku\":\"SKU-2\",",
                   OF_REJECT_DUPLICATE_ATTR, "duplicate field 'data.items[0].sku'");
    /* Even when the second one is of another kind. */
    reject_variant(OC, "\"schemaversion\":1,", "\"schemaversion\":1,\"data\":[],",
                   OF_REJECT_DUPLICATE_ATTR, "duplicate attribute 'data'");
}
END_TEST

START_TEST(missing_attr)
{
    static const struct {
        const char *attr;
        const char *value;
    } required[] = {
        {"specversion", "\"1.0\""},
        {"id", "\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\""},
        {"source", "\"orderflow-producer\""},
        {"type", "\"order_created\""},
        {"time", "\"2026-11-24T12:00:00.123Z\""},
        {"datacontenttype", "\"application/json\""},
        {"idempotencykey", "\"order_created:A-1001\""},
        {"subject", "\"A-1001\""},
        {"schemaversion", "1"},
    };
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        char from[128], want[128];
        snprintf(from, sizeof(from), "\"%s\":%s,", required[i].attr, required[i].value);
        snprintf(want, sizeof(want), "missing required attribute '%s'", required[i].attr);
        reject_variant(OC, from, "", OF_REJECT_MISSING_ATTR, want);
    }
    reject_variant(OC,
                   ",\"data\":{\"order_id\":\"A-1001\",\"customer_id\":\"C-42\",\"currency\":"
                   "\"EUR\",\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":"
                   "1999}]}",
                   "", OF_REJECT_MISSING_ATTR, "missing required attribute 'data'");
    reject_variant(OC, "\"order_id\":\"A-1001\",", "", OF_REJECT_MISSING_ATTR,
                   "missing required field 'data.order_id'");
    reject_variant(OC, "\"currency\":\"EUR\",", "", OF_REJECT_MISSING_ATTR,
                   "missing required field 'data.currency'");
    reject_variant(OC, ",\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]",
                   "", OF_REJECT_MISSING_ATTR, "missing required field 'data.items'");
    reject_variant(OC, "\"quantity\":2,", "", OF_REJECT_MISSING_ATTR,
                   "missing required field 'data.items[0].quantity'");
    reject_variant(OC, ",\"unit_price_cents\":1999", "", OF_REJECT_MISSING_ATTR,
                   "missing required field 'data.items[0].unit_price_cents'");
    reject_variant(DP, ",\"total_cents\":3998", "", OF_REJECT_MISSING_ATTR,
                   "missing required field 'data.total_cents'");
    reject_variant(DP, ",\"status\":\"accepted\"", "", OF_REJECT_MISSING_ATTR,
                   "missing required field 'data.status'");
    reject_variant(DP, "\"status\":\"accepted\"", "\"status\":\"rejected\"", OF_REJECT_MISSING_ATTR,
                   "missing required field 'data.reason'");
}
END_TEST

START_TEST(wrong_type)
{
    reject_variant(OC, "\"id\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\"", "\"id\":42",
                   OF_REJECT_WRONG_TYPE, "attribute 'id': expected a string, got number");
    reject_variant(OC, "\"subject\":\"A-1001\"", "\"subject\":null", OF_REJECT_WRONG_TYPE,
                   "attribute 'subject': expected a string, got null");
    reject_variant(OC, "\"schemaversion\":1", "\"schemaversion\":\"1\"", OF_REJECT_WRONG_TYPE,
                   "attribute 'schemaversion': expected an integer, got string");
    reject_variant(OC, "\"schemaversion\":1", "\"schemaversion\":1.0", OF_REJECT_WRONG_TYPE,
                   "attribute 'schemaversion': expected an integer, got 1.0");
    reject_variant(OC, "\"quantity\":2", "\"quantity\":\"2\"", OF_REJECT_WRONG_TYPE,
                   "data.items[0].quantity: expected an integer, got string");
    reject_variant(OC, "\"quantity\":2", "\"quantity\":2e0", OF_REJECT_WRONG_TYPE,
                   "data.items[0].quantity: expected an integer, got 2e0");
    reject_variant(OC, "\"unit_price_cents\":1999", "\"unit_price_cents\":{}", OF_REJECT_WRONG_TYPE,
                   "data.items[0].unit_price_cents: expected an integer, got object");
    reject_variant(OC, "\"sku\":\"SKU-1\"", "\"sku\":1", OF_REJECT_WRONG_TYPE,
                   "data.items[0].sku: expected a string, got number");
    reject_variant(OC, "\"customer_id\":\"C-42\"", "\"customer_id\":[\"C-42\"]",
                   OF_REJECT_WRONG_TYPE, "data.customer_id: expected a string, got array");
    reject_variant(OC, "[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]",
                   "{\"sku\":\"SKU-1\"}", OF_REJECT_WRONG_TYPE,
                   "data.items: expected an array, got object");
    reject_variant(OC, "[{\"sku\"", "[7,{\"sku\"", OF_REJECT_WRONG_TYPE,
                   "data.items[0]: expected an object, got number");
    reject_variant(DP, "\"item_count\":1", "\"item_count\":true", OF_REJECT_WRONG_TYPE,
                   "data.item_count: expected an integer, got boolean");
    /* The first bad item is the one reported. */
    reject_variant(OC, "}]}}",
                   "},{\"sku\":\"S\",\"quantity\":\"x\",\"unit_price_cents\":1},{\"sku\":2}]}}",
                   OF_REJECT_WRONG_TYPE, "data.items[1].quantity: expected an integer, got string");
}
END_TEST

START_TEST(bad_value)
{
    reject_variant(OC, "\"specversion\":\"1.0\"", "\"specversion\":\"0.3\"", OF_REJECT_BAD_VALUE,
                   "attribute 'specversion': unsupported version '0.3' (this build knows 1.0)");
    reject_variant(OC, "\"2026-11-24T12:00:00.123Z\"", "\"2026-11-24 12:00\"", OF_REJECT_BAD_VALUE,
                   "attribute 'time': '2026-11-24 12:00' is not an RFC 3339 timestamp");
    reject_variant(OC, "\"application/json\"", "\"text/plain\"", OF_REJECT_BAD_VALUE,
                   "attribute 'datacontenttype': 'text/plain' is not application/json");
    reject_variant(OC, "\"order_created:A-1001\"", "\"\"", OF_REJECT_BAD_VALUE,
                   "attribute 'idempotencykey': idempotency key is empty");
    reject_variant(OC, "\"order_created:A-1001\"", "\"order\\u007f\"", OF_REJECT_BAD_VALUE,
                   "attribute 'idempotencykey': idempotency key byte 0x7f at offset 5 is not "
                   "printable ASCII");
    reject_variant(OC, "\"subject\":\"A-1001\"", "\"subject\":\"\"", OF_REJECT_BAD_VALUE,
                   "attribute 'subject': must not be empty");
    reject_variant(OC, "\"subject\":\"A-1001\"", "\"subject\":\"A-1002\"", OF_REJECT_BAD_VALUE,
                   "attribute 'subject': 'A-1002' differs from data.order_id 'A-1001'");
    reject_variant(OC, "\"id\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\"", "\"id\":\"\"",
                   OF_REJECT_BAD_VALUE, "attribute 'id': must not be empty");
    reject_variant(DP, "\"status\":\"accepted\"", "\"status\":\"maybe\"", OF_REJECT_BAD_VALUE,
                   "data.status: 'maybe' is neither 'accepted' nor 'rejected'");
    reject_variant(DP, "\"status\":\"accepted\"", "\"status\":\"accepted\",\"reason\":\"why\"",
                   OF_REJECT_BAD_VALUE, "data.reason: present although status is 'accepted'");
    reject_variant(DP, "\"causationid\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\"",
                   "\"causationid\":\"\"", OF_REJECT_BAD_VALUE,
                   "attribute 'causationid': must not be empty");
    /* Untrusted text in a reason is quoted to one line of ASCII. */
    reject_variant(OC, "\"specversion\":\"1.0\"", "\"specversion\":\"1\\n\xc3\xa9'\"",
                   OF_REJECT_BAD_VALUE, "unsupported version '1\\x0a\\xc3\\xa9\\x27'");
}
END_TEST

START_TEST(nul_bytes)
{
    reject_variant(OC, "\"id\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\"", "\"id\":\"a\\u0000b\"",
                   OF_REJECT_BAD_VALUE, "attribute 'id': contains a NUL byte");
    reject_variant(OC, "\"subject\":\"A-1001\"", "\"subject\":\"A-1001\\u0000\"",
                   OF_REJECT_BAD_VALUE, "attribute 'subject': contains a NUL byte");
    reject_variant(OC, "\"order_id\":\"A-1001\"", "\"order_id\":\"\\u0000\"", OF_REJECT_BAD_VALUE,
                   "data.order_id: contains a NUL byte");
    reject_variant(OC, "\"sku\":\"SKU-1\"", "\"sku\":\"SKU\\u0000-1\"", OF_REJECT_BAD_VALUE,
                   "data.items[0].sku: contains a NUL byte");
    reject_variant(OC, "\"order_created:A-1001\"", "\"k\\u0000\"", OF_REJECT_BAD_VALUE,
                   "attribute 'idempotencykey': contains a NUL byte");
}
END_TEST

START_TEST(integers_beyond_int64)
{
    reject_variant(OC, "\"quantity\":2", "\"quantity\":9223372036854775808", OF_REJECT_BAD_VALUE,
                   "data.items[0].quantity: 9223372036854775808 is outside the int64 range");
    reject_variant(OC, "\"unit_price_cents\":1999", "\"unit_price_cents\":-9223372036854775809",
                   OF_REJECT_BAD_VALUE,
                   "data.items[0].unit_price_cents: -9223372036854775809 is outside the int64 "
                   "range");
    reject_variant(OC, "\"schemaversion\":1", "\"schemaversion\":100000000000000000000",
                   OF_REJECT_BAD_VALUE,
                   "attribute 'schemaversion': 100000000000000000000 is outside the int64 range");
    reject_variant(DP, "\"total_cents\":3998", "\"total_cents\":18446744073709551616",
                   OF_REJECT_BAD_VALUE, "data.total_cents: 18446744073709551616 is outside");
    /* A huge number text is cut in the reason. */
    char digits[2000];
    memset(digits, '9', sizeof(digits) - 1);
    digits[sizeof(digits) - 1] = '\0';
    char to[2100];
    snprintf(to, sizeof(to), "\"quantity\":%s", digits);
    reject_variant(OC, "\"quantity\":2", to, OF_REJECT_BAD_VALUE, "999... is outside the int64");
}
END_TEST

START_TEST(unknown_type)
{
    reject_variant(OC, "\"order_created\"", "\"order_deleted\"", OF_REJECT_UNKNOWN_TYPE,
                   "attribute 'type': unknown event type 'order_deleted'");
    reject_variant(OC, "\"order_created\"", "\"\"", OF_REJECT_UNKNOWN_TYPE,
                   "attribute 'type': unknown event type ''");
}
END_TEST

START_TEST(unknown_schema)
{
    reject_variant(OC, "\"schemaversion\":1", "\"schemaversion\":2", OF_REJECT_UNKNOWN_SCHEMA,
                   "attribute 'schemaversion': unknown schema version 2 (this build knows 1)");
    reject_variant(OC, "\"schemaversion\":1", "\"schemaversion\":-1", OF_REJECT_UNKNOWN_SCHEMA,
                   "unknown schema version -1");
    /* An unknown version says so even if its data looks different. */
    reject_variant(OC, "\"schemaversion\":1,\"data\":{", "\"schemaversion\":2,\"data\":{\"v2\":1,",
                   OF_REJECT_UNKNOWN_SCHEMA, "unknown schema version 2");
}
END_TEST

START_TEST(reject_names)
{
    static const char *const want[] = {
        "ok",         "too_large",       "not_json",       "invalid_utf8",   "not_object",
        "too_deep",   "string_too_long", "too_many_items", "duplicate_attr", "missing_attr",
        "wrong_type", "bad_value",       "unknown_type",   "unknown_schema", "no_memory",
    };
    for (int code = OF_OK; code <= OF_REJECT_NO_MEMORY; code++)
        ck_assert_str_eq(of_reject_name((of_reject)code), want[code]);
    ck_assert_str_eq(of_reject_name((of_reject)99), "unknown");
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-reject");
    TCase *tc = tcase_create("reject");
    tcase_set_timeout(tc, 60);
    check_tcase_add_test(tc, too_large);
    check_tcase_add_test(tc, not_json);
    check_tcase_add_test(tc, invalid_utf8);
    check_tcase_add_test(tc, not_object);
    check_tcase_add_test(tc, too_deep);
    check_tcase_add_test(tc, string_too_long);
    check_tcase_add_test(tc, too_many_items);
    check_tcase_add_test(tc, duplicate_attr);
    check_tcase_add_test(tc, missing_attr);
    check_tcase_add_test(tc, wrong_type);
    check_tcase_add_test(tc, bad_value);
    check_tcase_add_test(tc, nul_bytes);
    check_tcase_add_test(tc, integers_beyond_int64);
    check_tcase_add_test(tc, unknown_type);
    check_tcase_add_test(tc, unknown_schema);
    check_tcase_add_test(tc, reject_names);
    suite_add_tcase(s, tc);
    return s;
}
