/* The gateway's pieces that need no HTTP or Kafka: the Idempotency-Key
 * header, the idempotency store, JSON Pointers from decoder reasons, the
 * 202 body, Location, bearer tokens. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fingerprint.h"
#include "idem_key.h"
#include "idem_store.h"
#include "response.h"

#include "../../check_run.h"

START_TEST(key_header_forms)
{
    char key[IDEM_KEY_MAX + 1];
    const char *why = NULL;
    ck_assert_int_eq(idem_key_parse("\"k-1\"", key, &why), 3);
    ck_assert_str_eq(key, "k-1");
    ck_assert_int_eq(idem_key_parse("  \"a\\\"b\\\\c\"  ", key, &why), 5);
    ck_assert_str_eq(key, "a\"b\\c");
    ck_assert_int_eq(idem_key_parse("tok_123", key, &why), 7); /* Stripe's bare value */
    ck_assert_str_eq(key, "tok_123");
    ck_assert_int_eq(idem_key_parse("\"open", key, &why), -1);
    ck_assert_int_eq(idem_key_parse("\"a\"b", key, &why), -1);
    ck_assert_int_eq(idem_key_parse("\"a\\nb\"", key, &why), -1);
    ck_assert_int_eq(idem_key_parse("\"\"", key, &why), -1);
    ck_assert_int_eq(idem_key_parse("", key, &why), -1);
    ck_assert_int_eq(idem_key_parse("a\tb", key, &why), -1);
    char long_key[300];
    memset(long_key, 'x', 255);
    long_key[255] = '\0';
    ck_assert_int_eq(idem_key_parse(long_key, key, &why), 255);
    long_key[255] = 'x';
    long_key[256] = '\0';
    ck_assert_int_eq(idem_key_parse(long_key, key, &why), -1);
    ck_assert_ptr_nonnull(strstr(why, "255"));
}
END_TEST

static void fp_of(const char *body, uint8_t *fp)
{
    ck_assert_int_eq(fingerprint_body(body, strlen(body), fp), 0);
}

START_TEST(store_contract)
{
    idem_store store;
    ck_assert_int_eq(idem_store_init(&store, 3, 1000), 0);
    uint8_t a[IDEM_FINGERPRINT_LEN], b[IDEM_FINGERPRINT_LEN];
    fp_of("{\"a\":1}", a);
    fp_of("{\"a\":2}", b);
    idem_entry *e = NULL;
    idem_outcome out;
    ck_assert_int_eq(idem_store_begin(&store, "k", 1, a, "O-1", 3, 10000, &e, &out), IDEM_ADDED);
    ck_assert_int_eq(idem_store_begin(&store, "k", 1, a, "O-1", 3, 10001, &e, &out), IDEM_BUSY);
    ck_assert_int_eq(idem_store_begin(&store, "k", 1, b, "O-1", 3, 10001, &e, &out), IDEM_BUSY);
    ck_assert_int_eq(idem_store_begin(&store, "k", 1, a, "O-1", 3, 10001, &e, &out), IDEM_BUSY);
    idem_entry *first = NULL;
    ck_assert_int_eq(idem_store_begin(&store, "f", 1, a, "O-2", 3, 10002, &first, &out),
                     IDEM_ADDED);
    idem_store_forget(&store, first); /* not delivered: the key is free again */
    ck_assert_int_eq(idem_store_begin(&store, "f", 1, a, "O-2", 3, 10002, &first, &out),
                     IDEM_ADDED);
    idem_store_forget(&store, first);
    ck_assert_int_eq(idem_store_begin(&store, "k", 1, a, "O-1", 3, 10001, &first, &out), IDEM_BUSY);
    ck_assert_int_eq(idem_store_count(&store), 1); /* "k", in flight */
    idem_entry *k = NULL;
    ck_assert_int_eq(idem_store_begin(&store, "x", 1, a, "O-3", 3, 10003, &k, &out), IDEM_ADDED);
    idem_store_settle(&store, k, 4, 17, "01a22b80-749b-72c3-81ef-918901cac763");
    ck_assert_int_eq(idem_store_begin(&store, "x", 1, a, "O-3", 3, 10004, &e, &out), IDEM_REPLAY);
    ck_assert_int_eq(out.partition, 4);
    ck_assert_int_eq(out.offset, 17);
    ck_assert_str_eq(out.id, "01a22b80-749b-72c3-81ef-918901cac763");
    ck_assert_int_eq(idem_store_begin(&store, "x", 1, b, "O-3", 3, 10004, &e, &out), IDEM_MISMATCH);
    /* Past retention (1000 ms) a settled key is gone: the same key is new. */
    ck_assert_int_eq(idem_store_begin(&store, "x", 1, b, "O-3", 3, 11004, &e, &out), IDEM_ADDED);
    idem_store_free(&store);
}
END_TEST

START_TEST(store_bound_drops_oldest_settled)
{
    idem_store store;
    ck_assert_int_eq(idem_store_init(&store, 2, 1000000), 0);
    uint8_t a[IDEM_FINGERPRINT_LEN];
    fp_of("{}", a);
    idem_outcome out;
    idem_entry *e1, *e2, *e3, *tmp;
    ck_assert_int_eq(idem_store_begin(&store, "1", 1, a, "O", 1, 1, &e1, &out), IDEM_ADDED);
    ck_assert_int_eq(idem_store_begin(&store, "2", 1, a, "O", 1, 2, &e2, &out), IDEM_ADDED);
    idem_store_settle(&store, e2, 0, 2, "01a22b80-749b-72c3-81ef-918901cac763");
    /* Full: "1" is in flight and stays, "2" (settled) is dropped and counted. */
    ck_assert_int_eq(idem_store_begin(&store, "3", 1, a, "O", 1, 3, &e3, &out), IDEM_ADDED);
    ck_assert_uint_eq(idem_store_dropped(&store), 1);
    ck_assert_int_eq(idem_store_begin(&store, "1", 1, a, "O", 1, 4, &tmp, &out), IDEM_BUSY);
    ck_assert_int_eq(idem_store_begin(&store, "2", 1, a, "O", 1, 4, &tmp, &out), IDEM_ADDED);
    /* A restored key does not replace a known one. */
    ck_assert_int_eq(idem_store_restore(&store, "1", 1, a, "O", 1, 5, 1, 1,
                                        "01a22b80-749b-72c3-81ef-918901cac763"),
                     0);
    ck_assert_int_eq(idem_store_begin(&store, "1", 1, a, "O", 1, 6, &tmp, &out), IDEM_BUSY);
    idem_store_free(&store);
}
END_TEST

START_TEST(pointers_from_reasons)
{
    char p[128];
    gw_reason_pointer("items[0].quantity: expected an integer, got string", p, sizeof(p));
    ck_assert_str_eq(p, "/items/0/quantity");
    gw_reason_pointer("missing required field 'items[12].sku'", p, sizeof(p));
    ck_assert_str_eq(p, "/items/12/sku");
    gw_reason_pointer("missing required field 'customer_id'", p, sizeof(p));
    ck_assert_str_eq(p, "/customer_id");
    gw_reason_pointer("duplicate field 'order_id'", p, sizeof(p));
    ck_assert_str_eq(p, "/order_id");
    gw_reason_pointer("items[3]: expected an object, got number", p, sizeof(p));
    ck_assert_str_eq(p, "/items/3");
    gw_reason_pointer("items: more than 2 items", p, sizeof(p));
    ck_assert_str_eq(p, "/items");
    gw_reason_pointer("expected a JSON object, got array", p, sizeof(p));
    ck_assert_str_eq(p, "");
}
END_TEST

START_TEST(accepted_body_and_location)
{
    gw_response r = {0};
    ck_assert_int_eq(gw_accepted_body(&r, "A\"1", 3, "01a22b80-749b-72c3-81ef-918901cac763", "k", 1,
                                      "order-created", 4, 9),
                     0);
    ck_assert_str_eq(r.body, "{\"order_id\":\"A\\\"1\",\"id\":\"01a22b80-749b-72c3-81ef-"
                             "918901cac763\",\"idempotencykey\":\"k\",\"topic\":\"order-"
                             "created\",\"partition\":4,\"offset\":9}");
    ck_assert_uint_eq(r.status, 202);
    gw_response_clear(&r);
    char *loc = gw_order_location("B 1/\xc3\xa9~", 7);
    ck_assert_str_eq(loc, "/orders/B%201%2F%C3%A9~");
    free(loc);
}
END_TEST

START_TEST(bearer_tokens)
{
    char t1[] = "alpha", t2[] = "bravo-longer";
    char *tokens[] = {t1, t2};
    ck_assert_int_eq(auth_bearer_ok("Bearer alpha", tokens, 2), 1);
    ck_assert_int_eq(auth_bearer_ok("bearer bravo-longer", tokens, 2), 1);
    ck_assert_int_eq(auth_bearer_ok("Bearer alph", tokens, 2), 0);
    ck_assert_int_eq(auth_bearer_ok("Bearer alphaa", tokens, 2), 0);
    ck_assert_int_eq(auth_bearer_ok("Bearer ", tokens, 2), 0);
    ck_assert_int_eq(auth_bearer_ok("Basic alpha", tokens, 2), 0);
    ck_assert_int_eq(auth_bearer_ok(NULL, tokens, 2), 0);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        key_header_forms,
        store_contract,
        store_bound_drops_oldest_settled,
        pointers_from_reasons,
        accepted_body_and_location,
        bearer_tokens,
        NULL,
    };
    return check_run_tests("gateway", tests, 60);
}
