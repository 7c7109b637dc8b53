/* Encode -> decode round trips, the encoder's output format and its refusals,
 * and what the decoder accepts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/processing.h>

#include "helpers.h"

#define ASSERT_STR(view, literal)                                                                  \
    do {                                                                                           \
        of_str v_ = (view);                                                                        \
        ck_assert_ptr_nonnull(v_.ptr);                                                             \
        ck_assert_uint_eq(v_.len, strlen(literal));                                                \
        ck_assert_mem_eq(v_.ptr, (literal), v_.len);                                               \
        ck_assert_int_eq(v_.ptr[v_.len], '\0');                                                    \
    } while (0)

static const of_item sample_items[] = {
    {OF_STR("SKU-1"), 2, 1999},
    {OF_STR("SKU-\xc3\xa9\"q\\"), 1, 0},
    {OF_STR("SKU-3"), INT64_MAX, INT64_MIN},
};

static of_event sample_order_event(void)
{
    return (of_event){
        .type = OF_EVENT_ORDER_CREATED,
        .id = OF_STR("0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"),
        .source = OF_STR("orderflow-producer"),
        .time = OF_STR("2026-11-24T12:00:00.123Z"),
        .idempotencykey = OF_STR("order_created:A-1001"),
        .subject = OF_STR("A-1001"),
        .schemaversion = OF_SCHEMAVERSION,
        .data.order =
            {
                .order_id = OF_STR("A-1001"),
                .customer_id = OF_STR("C-42"),
                .currency = OF_STR("EUR"),
                .items = sample_items,
                .item_count = 3,
            },
    };
}

static of_event sample_processed_event(of_status status)
{
    of_event ev = {
        .type = OF_EVENT_DATA_PROCESSED,
        .id = OF_STR("0190b3c4-5e70-7000-8000-000000000001"),
        .source = OF_STR("orderflow-consumer/orderflow-processor"),
        .time = OF_STR("2026-11-24T12:00:01.000Z"),
        .idempotencykey = OF_STR("data_processed:order_created:A-1001"),
        .subject = OF_STR("A-1001"),
        .correlationid = OF_STR("0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d"),
        .causationid = OF_STR("0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6e"),
        .schemaversion = OF_SCHEMAVERSION,
        .data.processed =
            {
                .order_id = OF_STR("A-1001"),
                .customer_id = OF_STR("C-42"),
                .currency = OF_STR("EUR"),
                .item_count = 1,
                .quantity_total = 2,
                .total_cents = 3998,
                .status = status,
            },
    };
    if (status == OF_STATUS_REJECTED) ev.data.processed.reason = OF_STR("order has no items");
    return ev;
}

static void encode_ok(of_encoder *enc, const of_event *ev, const char **out, size_t *len)
{
    char why[256];
    int rc = of_encode_event(enc, ev, out, len, why, sizeof(why));
    ck_assert_msg(rc == 0, "encode failed: %s", why);
}

static void decode_ok(of_decoder *dec, const char *buf, size_t len, of_event *ev)
{
    char why[256];
    of_reject rc = of_decode_event(dec, buf, len, ev, why, sizeof(why));
    ck_assert_msg(rc == OF_OK, "decode failed: %s: %s", of_reject_name(rc), why);
    ck_assert_str_eq(why, "");
}

START_TEST(order_created_exact_json)
{
    of_encoder *enc = of_encoder_new();
    ck_assert_ptr_nonnull(enc);
    of_event ev = sample_order_event();
    ev.data.order.item_count = 1;
    const char *out;
    size_t len;
    encode_ok(enc, &ev, &out, &len);
    /* Attribute order, no whitespace, no trailing newline. */
    ck_assert_uint_eq(len, strlen(of_sample_order_created));
    ck_assert_mem_eq(out, of_sample_order_created, len);
    of_encoder_free(enc);
}
END_TEST

START_TEST(data_processed_exact_json)
{
    of_encoder *enc = of_encoder_new();
    of_event ev = sample_processed_event(OF_STATUS_ACCEPTED);
    ev.causationid = ev.correlationid;
    ev.data.processed.reason = OF_STR("ignored when accepted");
    const char *out;
    size_t len;
    encode_ok(enc, &ev, &out, &len);
    ck_assert_uint_eq(len, strlen(of_sample_data_processed));
    ck_assert_mem_eq(out, of_sample_data_processed, len);
    of_encoder_free(enc);
}
END_TEST

START_TEST(order_created_round_trip)
{
    of_encoder *enc = of_encoder_new();
    of_decoder *dec = of_decoder_new(NULL);
    ck_assert_ptr_nonnull(dec);
    of_event in = sample_order_event();
    in.correlationid = OF_STR("corr-1");
    const char *out;
    size_t len;
    encode_ok(enc, &in, &out, &len);
    ck_assert_int_ne(out[len - 1], '\n');

    of_event ev;
    decode_ok(dec, out, len, &ev);
    ck_assert_int_eq(ev.type, OF_EVENT_ORDER_CREATED);
    ASSERT_STR(ev.id, "0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d");
    ASSERT_STR(ev.source, "orderflow-producer");
    ASSERT_STR(ev.time, "2026-11-24T12:00:00.123Z");
    ASSERT_STR(ev.idempotencykey, "order_created:A-1001");
    ASSERT_STR(ev.subject, "A-1001");
    ASSERT_STR(ev.correlationid, "corr-1");
    ck_assert_ptr_null(ev.causationid.ptr);
    ck_assert_int_eq(ev.schemaversion, 1);
    ASSERT_STR(ev.data.order.order_id, "A-1001");
    ASSERT_STR(ev.data.order.customer_id, "C-42");
    ASSERT_STR(ev.data.order.currency, "EUR");
    ck_assert_uint_eq(ev.data.order.item_count, 3);
    for (size_t i = 0; i < 3; i++) {
        const of_item *got = &ev.data.order.items[i], *want = &sample_items[i];
        ck_assert_msg(of_str_eq(got->sku, want->sku), "item %zu sku", i);
        ck_assert_int_eq(got->quantity, want->quantity);
        ck_assert_int_eq(got->unit_price_cents, want->unit_price_cents);
    }
    of_decoder_free(dec);
    of_encoder_free(enc);
}
END_TEST

static void processed_round_trip(of_status status)
{
    of_encoder *enc = of_encoder_new();
    of_decoder *dec = of_decoder_new(NULL);
    of_event in = sample_processed_event(status);
    const char *out;
    size_t len;
    encode_ok(enc, &in, &out, &len);
    of_event ev;
    decode_ok(dec, out, len, &ev);
    ck_assert_int_eq(ev.type, OF_EVENT_DATA_PROCESSED);
    ASSERT_STR(ev.id, "0190b3c4-5e70-7000-8000-000000000001");
    ASSERT_STR(ev.source, "orderflow-consumer/orderflow-processor");
    ASSERT_STR(ev.time, "2026-11-24T12:00:01.000Z");
    ASSERT_STR(ev.idempotencykey, "data_processed:order_created:A-1001");
    ASSERT_STR(ev.subject, "A-1001");
    ASSERT_STR(ev.correlationid, "0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d");
    ASSERT_STR(ev.causationid, "0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6e");
    ck_assert_int_eq(ev.schemaversion, 1);
    const of_processed *p = &ev.data.processed;
    ASSERT_STR(p->order_id, "A-1001");
    ASSERT_STR(p->customer_id, "C-42");
    ASSERT_STR(p->currency, "EUR");
    ck_assert_int_eq(p->item_count, 1);
    ck_assert_int_eq(p->quantity_total, 2);
    ck_assert_int_eq(p->total_cents, 3998);
    ck_assert_int_eq(p->status, status);
    if (status == OF_STATUS_REJECTED) {
        ASSERT_STR(p->reason, "order has no items");
        ck_assert_ptr_nonnull(
            strstr(out, "\"status\":\"rejected\",\"reason\":\"order has no items\"}"));
    } else {
        ck_assert_ptr_null(p->reason.ptr);
        ck_assert_ptr_null(strstr(out, "reason"));
    }
    of_decoder_free(dec);
    of_encoder_free(enc);
}

START_TEST(data_processed_round_trip_accepted)
{
    processed_round_trip(OF_STATUS_ACCEPTED);
}
END_TEST

START_TEST(data_processed_round_trip_rejected)
{
    processed_round_trip(OF_STATUS_REJECTED);
}
END_TEST

/* The processor's path: decode an order, process it, encode the result, and
 * a consumer decodes the same numbers. */
START_TEST(process_then_encode_round_trip)
{
    of_decoder *dec = of_decoder_new(NULL);
    of_encoder *enc = of_encoder_new();
    of_event in;
    decode_ok(dec, of_sample_order_created, strlen(of_sample_order_created), &in);
    of_processed result;
    char reason[OF_REASON_MAX];
    of_process_order(&in.data.order, &result, reason);
    of_event out = sample_processed_event(OF_STATUS_ACCEPTED);
    out.data.processed = result;
    const char *buf;
    size_t len;
    encode_ok(enc, &out, &buf, &len);
    of_event back;
    decode_ok(dec, buf, len, &back);
    ck_assert_int_eq(back.data.processed.status, OF_STATUS_ACCEPTED);
    ck_assert_int_eq(back.data.processed.item_count, 1);
    ck_assert_int_eq(back.data.processed.quantity_total, 2);
    ck_assert_int_eq(back.data.processed.total_cents, 3998);
    ASSERT_STR(back.data.processed.order_id, "A-1001");
    of_encoder_free(enc);
    of_decoder_free(dec);
}
END_TEST

START_TEST(encoder_reuses_its_buffer)
{
    of_encoder *enc = of_encoder_new();
    of_item many[40];
    for (size_t i = 0; i < 40; i++)
        many[i] = sample_items[i % 3];
    of_event big = sample_order_event();
    big.data.order.items = many;
    big.data.order.item_count = 40;
    of_event small = sample_processed_event(OF_STATUS_ACCEPTED);
    const char *a, *b, *c;
    size_t alen, blen, clen;
    encode_ok(enc, &big, &a, &alen);
    encode_ok(enc, &small, &b, &blen);
    ck_assert_ptr_eq(a, b);
    ck_assert_uint_lt(blen, alen);
    ck_assert_int_eq(b[0], '{');
    ck_assert_int_eq(b[blen - 1], '}');
    encode_ok(enc, &big, &c, &clen);
    ck_assert_uint_eq(clen, alen);
    /* A failed encode leaves the encoder usable. */
    of_event bad = small;
    bad.id = (of_str){NULL, 0};
    char why[128];
    ck_assert_int_eq(of_encode_event(enc, &bad, &b, &blen, why, sizeof(why)), -1);
    encode_ok(enc, &small, &b, &blen);
    ck_assert_ptr_nonnull(strstr(b, "\"type\":\"data_processed\""));
    of_encoder_free(enc);
}
END_TEST

START_TEST(encoder_escapes_strings)
{
    of_encoder *enc = of_encoder_new();
    of_decoder *dec = of_decoder_new(NULL);
    of_event in = sample_order_event();
    in.data.order.customer_id = OF_STR("tab\there \"quoted\" back\\slash / \x01 \xe2\x82\xac");
    const char *out;
    size_t len;
    encode_ok(enc, &in, &out, &len);
    ck_assert_ptr_nonnull(
        strstr(out, "tab\\there \\\"quoted\\\" back\\\\slash / \\u0001 \xe2\x82\xac"));
    of_event ev;
    decode_ok(dec, out, len, &ev);
    ASSERT_STR(ev.data.order.customer_id, "tab\there \"quoted\" back\\slash / \x01 \xe2\x82\xac");
    of_decoder_free(dec);
    of_encoder_free(enc);
}
END_TEST

/* The escaping json_out.h promises, one byte at a time: the reference for
 * the writer, which skips plain bytes eight at a time. */
static size_t reference_escape(char *out, const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *named = c == '"'    ? "\\\""
                            : c == '\\' ? "\\\\"
                            : c == '\b' ? "\\b"
                            : c == '\f' ? "\\f"
                            : c == '\n' ? "\\n"
                            : c == '\r' ? "\\r"
                            : c == '\t' ? "\\t"
                                        : NULL;
        if (named)
            w += (size_t)sprintf(out + w, "%s", named);
        else if (c < 0x20)
            w += (size_t)sprintf(out + w, "\\u%04X", c);
        else
            out[w++] = (char)c;
    }
    out[w] = '\0';
    return w;
}

START_TEST(encoder_escapes_at_every_offset)
{
    /* Each byte the writer treats specially, and its neighbours that it must
     * not (0x1f/0x20, '!'/'"'/'#', '['/'\\'/']', DEL, a byte above 0x7f). */
    static const unsigned char specials[] = {0x01, 0x08, 0x09, 0x0a, 0x1f, 0x20, '!', '"',
                                             '#',  '[',  '\\', ']',  0x7f, 0xc3, 0x00};
    of_encoder *enc = of_encoder_new();
    for (size_t len = 1; len <= 20; len++) {
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof(specials); k++) {
                char text[32];
                memset(text, 'a', len);
                text[at] = (char)specials[k];
                of_event ev = sample_order_event();
                ev.data.order.customer_id = (of_str){text, len};
                const char *out;
                size_t out_len;
                char why[256];
                /* Unchecked: the writer alone, NUL and lone bytes included. */
                ck_assert_int_eq(
                    of_encode_event_unchecked(enc, &ev, &out, &out_len, why, sizeof(why)), 0);
                char want[256];
                want[0] = '"';
                size_t n = reference_escape(want + 1, text, len);
                want[1 + n] = '"';
                want[2 + n] = '\0';
                const char *member = strstr(out, "\"customer_id\":");
                ck_assert_ptr_nonnull(member);
                member += strlen("\"customer_id\":");
                ck_assert_msg(strncmp(member, want, n + 2) == 0 && member[n + 2] == ',',
                              "length %zu, byte 0x%02x at %zu: got %.40s, want %s", len,
                              specials[k], at, member, want);
            }
        }
    }
    of_encoder_free(enc);
}
END_TEST

START_TEST(unchecked_encoding_is_byte_identical)
{
    of_encoder *checked = of_encoder_new();
    of_encoder *unchecked = of_encoder_new();
    of_event events[] = {sample_order_event(), sample_processed_event(OF_STATUS_ACCEPTED),
                         sample_processed_event(OF_STATUS_REJECTED), sample_order_event()};
    events[3].traceparent = OF_STR("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    events[3].tracestate = OF_STR("congo=t61rcWkgMzE");
    events[3].correlationid = OF_STR("corr-1");
    events[3].causationid = OF_STR("cause-1");
    for (size_t i = 0; i < sizeof(events) / sizeof(*events); i++) {
        const char *a, *b;
        size_t alen, blen;
        char why[256];
        encode_ok(checked, &events[i], &a, &alen);
        ck_assert_int_eq(
            of_encode_event_unchecked(unchecked, &events[i], &b, &blen, why, sizeof(why)), 0);
        ck_assert_uint_eq(alen, blen);
        ck_assert_mem_eq(a, b, alen);
        ck_assert_int_eq(b[blen], '\0');
    }
    /* What it cannot write, it still refuses. */
    of_event bad = sample_order_event();
    bad.data.order.items = NULL;
    const char *out;
    size_t len;
    char why[256];
    ck_assert_int_eq(of_encode_event_unchecked(unchecked, &bad, &out, &len, why, sizeof(why)), -1);
    ck_assert_ptr_nonnull(strstr(why, "items"));
    bad = sample_order_event();
    bad.type = (of_event_type)99;
    ck_assert_int_eq(of_encode_event_unchecked(unchecked, &bad, &out, &len, why, sizeof(why)), -1);
    of_encoder_free(checked);
    of_encoder_free(unchecked);
}
END_TEST

static void assert_encode_refused(of_event ev, const char *part)
{
    of_encoder *enc = of_encoder_new();
    const char *out = NULL;
    size_t len = 0;
    char why[256];
    ck_assert_int_eq(of_encode_event(enc, &ev, &out, &len, why, sizeof(why)), -1);
    ck_assert_msg(strstr(why, part) != NULL, "reason '%s' lacks '%s'", why, part);
    of_encoder_free(enc);
}

START_TEST(encoder_refuses_bad_events)
{
    of_event ev = sample_order_event();
    ev.id = (of_str){NULL, 0};
    assert_encode_refused(ev, "id is required");

    ev = sample_order_event();
    ev.data.order.customer_id = OF_STR("C-\xc3\x28");
    assert_encode_refused(ev, "data.customer_id is not valid UTF-8");

    ev = sample_order_event();
    ev.data.order.customer_id = OF_STR("C-\xc0\xaf"); /* overlong "/": yajl would pass it */
    assert_encode_refused(ev, "data.customer_id is not valid UTF-8");

    ev = sample_order_event();
    ev.data.order.customer_id = OF_STR("C-\xed\xa0\x80"); /* an encoded surrogate */
    assert_encode_refused(ev, "data.customer_id is not valid UTF-8");

    ev = sample_order_event();
    ev.source = (of_str){"orderflow\0producer", 18};
    assert_encode_refused(ev, "source contains a NUL byte");

    ev = sample_order_event();
    ev.idempotencykey = OF_STR("");
    assert_encode_refused(ev, "idempotencykey: idempotency key is empty");

    ev = sample_order_event();
    ev.schemaversion = 0;
    assert_encode_refused(ev, "schemaversion 0 is not set");

    ev = sample_order_event();
    ev.subject = OF_STR("A-1002");
    assert_encode_refused(ev, "subject differs from data.order_id");

    ev = sample_order_event();
    ev.time = OF_STR("yesterday");
    assert_encode_refused(ev, "time is not an RFC 3339 timestamp");

    ev = sample_order_event();
    ev.type = (of_event_type)7;
    assert_encode_refused(ev, "type 7 is not an event type");

    ev = sample_processed_event(OF_STATUS_REJECTED);
    ev.data.processed.reason = (of_str){NULL, 0};
    assert_encode_refused(ev, "data.reason is required");

    ev = sample_processed_event(OF_STATUS_ACCEPTED);
    ev.data.processed.status = (of_status)0;
    assert_encode_refused(ev, "data.status 0 is neither");

    ev = sample_order_event();
    ev.data.order.items = NULL;
    assert_encode_refused(ev, "data.items is missing");
}
END_TEST

START_TEST(type_after_data)
{
    /* Attribute order is free in JSON: type last, data first. */
    char *moved = of_subst(of_sample_order_created, "\"type\":\"order_created\",", "");
    char *json = of_subst(moved, "}]}}", "}]},\"type\":\"order_created\"}");
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    decode_ok(dec, json, strlen(json), &ev);
    ck_assert_int_eq(ev.type, OF_EVENT_ORDER_CREATED);
    ck_assert_uint_eq(ev.data.order.item_count, 1);
    ASSERT_STR(ev.data.order.items[0].sku, "SKU-1");
    ck_assert_int_eq(ev.data.order.items[0].quantity, 2);
    ck_assert_int_eq(ev.data.order.items[0].unit_price_cents, 1999);
    free(json);
    free(moved);

    /* The same for data_processed, whose data has no items. */
    moved = of_subst(of_sample_data_processed, "\"type\":\"data_processed\",", "");
    json = of_subst(moved, "\"accepted\"}}", "\"accepted\"},\"type\":\"data_processed\"}");
    decode_ok(dec, json, strlen(json), &ev);
    ck_assert_int_eq(ev.type, OF_EVENT_DATA_PROCESSED);
    ck_assert_int_eq(ev.data.processed.total_cents, 3998);
    free(json);
    free(moved);
    of_decoder_free(dec);
}
END_TEST

START_TEST(extensions_and_unknown_fields_ignored)
{
    char *json = of_subst(
        of_sample_order_created, "\"schemaversion\":1,",
        "\"schemaversion\":1,\"traceparent\":\"00-abc-01\",\"ext\":{\"a\":[1,2,{\"b\":null}]},"
        "\"flag\":true,\"n\":1.5e300,\"odd\\u0000\":\"x\\u0000y\",");
    char *json2 = of_subst(json, "\"currency\":\"EUR\",",
                           "\"currency\":\"EUR\",\"note\":{\"x\":[true]},\"status\":7,");
    char *json3 = of_subst(json2, "\"quantity\":2,", "\"quantity\":2,\"color\":[\"red\"],");
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    decode_ok(dec, json3, strlen(json3), &ev);
    ASSERT_STR(ev.data.order.currency, "EUR");
    ck_assert_int_eq(ev.data.order.items[0].quantity, 2);
    ck_assert_int_eq(ev.data.order.items[0].unit_price_cents, 1999);
    free(json3);
    free(json2);
    free(json);
    of_decoder_free(dec);
}
END_TEST

START_TEST(optional_attributes_null_means_absent)
{
    char *json = of_subst(of_sample_data_processed,
                          "\"correlationid\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\"",
                          "\"correlationid\":null");
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    decode_ok(dec, json, strlen(json), &ev);
    ck_assert_ptr_null(ev.correlationid.ptr);
    ASSERT_STR(ev.causationid, "0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d");
    free(json);
    of_decoder_free(dec);
}
END_TEST

START_TEST(whitespace_and_escapes_accepted)
{
    const char *json =
        " {\n \"specversion\" : \"1.0\", \"id\":\"i\",\"source\":\"s\",\"type\":\"order_created\","
        "\"time\":\"2026-11-24T12:00:00+01:00\",\"datacontenttype\":\"application\\/json\","
        "\"idempotencykey\":\"k\",\"subject\":\"\\u0041-1\",\"schemaversion\":1,\"data\":{"
        "\"order_id\":\"A-1\",\"customer_id\":\"\",\"currency\":\"EUR\",\"items\":[]}}\n";
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    decode_ok(dec, json, strlen(json), &ev);
    ASSERT_STR(ev.subject, "A-1");
    ASSERT_STR(ev.data.order.customer_id, "");
    ck_assert_uint_eq(ev.data.order.item_count, 0);
    of_decoder_free(dec);
}
END_TEST

START_TEST(business_rule_values_decode)
{
    /* Negative prices, quantity 0, a lowercase currency and no items are the
     * processor's business, not the decoder's. */
    char *a = of_subst(of_sample_order_created, "\"quantity\":2,\"unit_price_cents\":1999",
                       "\"quantity\":0,\"unit_price_cents\":-5");
    char *b = of_subst(a, "\"EUR\"", "\"eur\"");
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    decode_ok(dec, b, strlen(b), &ev);
    ck_assert_int_eq(ev.data.order.items[0].quantity, 0);
    ck_assert_int_eq(ev.data.order.items[0].unit_price_cents, -5);
    ASSERT_STR(ev.data.order.currency, "eur");
    char *c = of_subst(of_sample_order_created,
                       "[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]", "[]");
    decode_ok(dec, c, strlen(c), &ev);
    ck_assert_uint_eq(ev.data.order.item_count, 0);
    free(a);
    free(b);
    free(c);
    of_decoder_free(dec);
}
END_TEST

START_TEST(int64_extremes_decode)
{
    char *json =
        of_subst(of_sample_order_created, "\"quantity\":2,\"unit_price_cents\":1999",
                 "\"quantity\":9223372036854775807,\"unit_price_cents\":-9223372036854775808");
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    decode_ok(dec, json, strlen(json), &ev);
    ck_assert_int_eq(ev.data.order.items[0].quantity, INT64_MAX);
    ck_assert_int_eq(ev.data.order.items[0].unit_price_cents, INT64_MIN);
    free(json);
    of_decoder_free(dec);
}
END_TEST

START_TEST(decoder_reuse_after_reject)
{
    of_decoder *dec = of_decoder_new(NULL);
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_event(dec, "{\"id\":", 6, &ev, why, sizeof(why)),
                     OF_REJECT_NOT_JSON);
    decode_ok(dec, of_sample_data_processed, strlen(of_sample_data_processed), &ev);
    ASSERT_STR(ev.subject, "A-1001");
    ck_assert_int_eq(of_decode_event(dec, "[]", 2, &ev, why, sizeof(why)), OF_REJECT_NOT_OBJECT);
    decode_ok(dec, of_sample_order_created, strlen(of_sample_order_created), &ev);
    ASSERT_STR(ev.data.order.items[0].sku, "SKU-1");
    /* A NULL or zero-length err buffer is allowed. */
    ck_assert_int_eq(of_decode_event(dec, "x", 1, &ev, NULL, 0), OF_REJECT_NOT_JSON);
    of_decoder_free(dec);
}
END_TEST

START_TEST(bare_order_decodes)
{
    of_decoder *dec = of_decoder_new(NULL);
    of_order order;
    char why[256];
    ck_assert_int_eq(
        of_decode_order(dec, of_sample_order, strlen(of_sample_order), &order, why, sizeof(why)),
        OF_OK);
    ASSERT_STR(order.order_id, "A-1001");
    ASSERT_STR(order.customer_id, "C-42");
    ASSERT_STR(order.currency, "EUR");
    ck_assert_uint_eq(order.item_count, 2);
    ASSERT_STR(order.items[0].sku, "SKU-1");
    ck_assert_int_eq(order.items[0].quantity, 2);
    ck_assert_int_eq(order.items[0].unit_price_cents, 1999);
    ASSERT_STR(order.items[1].sku, "SKU-2");
    ck_assert_int_eq(order.items[1].quantity, 1);
    ck_assert_int_eq(order.items[1].unit_price_cents, 500);
    of_decoder_free(dec);
}
END_TEST

START_TEST(bare_order_rejects_name_fields_without_data_prefix)
{
    of_decoder *dec = of_decoder_new(NULL);
    of_order order;
    char why[256];
    char *json = of_subst(of_sample_order, "\"quantity\":1", "\"quantity\":\"1\"");
    ck_assert_int_eq(of_decode_order(dec, json, strlen(json), &order, why, sizeof(why)),
                     OF_REJECT_WRONG_TYPE);
    ck_assert_str_eq(why, "items[1].quantity: expected an integer, got string");
    free(json);

    json = of_subst(of_sample_order, "\"customer_id\":\"C-42\",", "");
    ck_assert_int_eq(of_decode_order(dec, json, strlen(json), &order, why, sizeof(why)),
                     OF_REJECT_MISSING_ATTR);
    ck_assert_str_eq(why, "missing required field 'customer_id'");
    free(json);

    ck_assert_int_eq(of_decode_order(dec, "[1]", 3, &order, why, sizeof(why)),
                     OF_REJECT_NOT_OBJECT);
    ck_assert_str_eq(why, "expected a JSON object, got array");

    /* The order object is depth 1, its items array 2 and an item 3. */
    of_limits limits;
    of_limits_init(&limits);
    limits.max_depth = 3;
    of_decoder *shallow = of_decoder_new(&limits);
    ck_assert_int_eq(of_decode_order(shallow, of_sample_order, strlen(of_sample_order), &order, why,
                                     sizeof(why)),
                     OF_OK);
    limits.max_depth = 2;
    of_decoder *shallower = of_decoder_new(&limits);
    ck_assert_int_eq(of_decode_order(shallower, of_sample_order, strlen(of_sample_order), &order,
                                     why, sizeof(why)),
                     OF_REJECT_TOO_DEEP);
    ck_assert_ptr_nonnull(strstr(why, "items[0]: nesting deeper than 2 levels"));
    of_decoder_free(shallower);
    of_decoder_free(shallow);
    of_decoder_free(dec);
}
END_TEST

START_TEST(str_helpers)
{
    ck_assert(of_str_eq(of_str_c("abc"), OF_STR("abc")));
    ck_assert(!of_str_eq(of_str_c("abc"), OF_STR("abd")));
    ck_assert(!of_str_eq(of_str_c("ab"), OF_STR("abc")));
    ck_assert(of_str_eq(of_str_c(NULL), (of_str){NULL, 0}));
    ck_assert(!of_str_eq(of_str_c(NULL), OF_STR("")));
    ck_assert(of_str_eq(of_str_c(""), OF_STR("")));
    ck_assert_ptr_null(of_str_c(NULL).ptr);
    ck_assert_uint_eq(of_str_c("hello").len, 5);
    ck_assert_str_eq(of_event_type_name(OF_EVENT_ORDER_CREATED), "order_created");
    ck_assert_str_eq(of_event_type_name(OF_EVENT_DATA_PROCESSED), "data_processed");
    ck_assert_str_eq(of_event_type_name((of_event_type)0), "unknown");
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-codec");
    TCase *tc = tcase_create("codec");
    tcase_set_timeout(tc, 60);
    check_tcase_add_test(tc, order_created_exact_json);
    check_tcase_add_test(tc, data_processed_exact_json);
    check_tcase_add_test(tc, order_created_round_trip);
    check_tcase_add_test(tc, data_processed_round_trip_accepted);
    check_tcase_add_test(tc, data_processed_round_trip_rejected);
    check_tcase_add_test(tc, process_then_encode_round_trip);
    check_tcase_add_test(tc, encoder_reuses_its_buffer);
    check_tcase_add_test(tc, encoder_escapes_strings);
    check_tcase_add_test(tc, encoder_escapes_at_every_offset);
    check_tcase_add_test(tc, unchecked_encoding_is_byte_identical);
    check_tcase_add_test(tc, encoder_refuses_bad_events);
    check_tcase_add_test(tc, type_after_data);
    check_tcase_add_test(tc, extensions_and_unknown_fields_ignored);
    check_tcase_add_test(tc, optional_attributes_null_means_absent);
    check_tcase_add_test(tc, whitespace_and_escapes_accepted);
    check_tcase_add_test(tc, business_rule_values_decode);
    check_tcase_add_test(tc, int64_extremes_decode);
    check_tcase_add_test(tc, decoder_reuse_after_reject);
    check_tcase_add_test(tc, bare_order_decodes);
    check_tcase_add_test(tc, bare_order_rejects_name_fields_without_data_prefix);
    check_tcase_add_test(tc, str_helpers);
    suite_add_tcase(s, tc);
    return s;
}
