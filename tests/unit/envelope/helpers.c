#include <stdlib.h>
#include <string.h>

#include "helpers.h"

const char of_sample_order_created[] =
    "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\","
    "\"source\":\"orderflow-producer\",\"type\":\"order_created\","
    "\"time\":\"2026-11-24T12:00:00.123Z\",\"datacontenttype\":\"application/json\","
    "\"idempotencykey\":\"order_created:A-1001\",\"subject\":\"A-1001\",\"schemaversion\":1,"
    "\"data\":{\"order_id\":\"A-1001\",\"customer_id\":\"C-42\",\"currency\":\"EUR\","
    "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]}}";

const char of_sample_data_processed[] =
    "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-5e70-7000-8000-000000000001\","
    "\"source\":\"orderflow-consumer/orderflow-processor\",\"type\":\"data_processed\","
    "\"time\":\"2026-11-24T12:00:01.000Z\",\"datacontenttype\":\"application/json\","
    "\"idempotencykey\":\"data_processed:order_created:A-1001\",\"subject\":\"A-1001\","
    "\"correlationid\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\","
    "\"causationid\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\",\"schemaversion\":1,"
    "\"data\":{\"order_id\":\"A-1001\",\"customer_id\":\"C-42\",\"currency\":\"EUR\","
    "\"item_count\":1,\"quantity_total\":2,\"total_cents\":3998,\"status\":\"accepted\"}}";

const char of_sample_order[] =
    "{\"order_id\":\"A-1001\",\"customer_id\":\"C-42\",\"currency\":\"EUR\","
    "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999},"
    "{\"sku\":\"SKU-2\",\"quantity\":1,\"unit_price_cents\":500}]}";

char *of_subst(const char *base, const char *from, const char *to)
{
    const char *at = strstr(base, from);
    ck_assert_msg(at != NULL, "'%s' not in the fixture", from);
    ck_assert_msg(strstr(at + 1, from) == NULL, "'%s' occurs twice in the fixture", from);
    size_t head = (size_t)(at - base), flen = strlen(from), tlen = strlen(to);
    size_t tail = strlen(at + flen);
    char *out = malloc(head + tlen + tail + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, base, head);
    memcpy(out + head, to, tlen);
    memcpy(out + head + tlen, at + flen, tail + 1);
    return out;
}

of_reject of_decode_with(const of_limits *limits, const void *buf, size_t len, of_event *ev,
                         char *why)
{
    of_decoder *dec = of_decoder_new(limits);
    ck_assert_ptr_nonnull(dec);
    of_reject rc = of_decode_event(dec, buf, len, ev, why, 256);
    of_decoder_free(dec);
    return rc;
}

of_reject of_decode_text(const char *s, of_event *ev, char *why)
{
    return of_decode_with(NULL, s, strlen(s), ev, why);
}
