/* Idempotency key rules and derivation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/ids.h>

#include "helpers.h"

static void assert_check_fails(of_str key, const char *reason)
{
    char err[160];
    ck_assert_int_eq(of_idempotency_key_check(key, err, sizeof(err)), -1);
    ck_assert_str_eq(err, reason);
}

START_TEST(check_rules)
{
    char err[160];
    char key[OF_IDEMPOTENCY_KEY_MAX + 2];
    ck_assert_int_eq(of_idempotency_key_check(OF_STR("order_created:A-1001"), err, sizeof(err)), 0);
    ck_assert_int_eq(of_idempotency_key_check(OF_STR(" ~all printable~ "), err, sizeof(err)), 0);
    ck_assert_int_eq(of_idempotency_key_check(OF_STR("x"), NULL, 0), 0);
    memset(key, 'k', sizeof(key));
    ck_assert_int_eq(of_idempotency_key_check((of_str){key, 256}, err, sizeof(err)), 0);

    assert_check_fails(OF_STR(""), "idempotency key is empty");
    assert_check_fails((of_str){NULL, 0}, "idempotency key is empty");
    assert_check_fails((of_str){key, 257}, "idempotency key is too long: 257 bytes (max 256)");
    assert_check_fails(OF_STR("abc\x7f"),
                       "idempotency key byte 0x7f at offset 3 is not printable ASCII");
    assert_check_fails(OF_STR("a\tb"),
                       "idempotency key byte 0x09 at offset 1 is not printable ASCII");
    assert_check_fails(OF_STR("caf\xc3\xa9"),
                       "idempotency key byte 0xc3 at offset 3 is not printable ASCII");
    assert_check_fails((of_str){"a\0b", 3},
                       "idempotency key byte 0x00 at offset 1 is not printable ASCII");
    /* No err buffer: still refuses. */
    ck_assert_int_eq(of_idempotency_key_check(OF_STR(""), NULL, 0), -1);
}
END_TEST

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211u;
    return h;
}

START_TEST(derive_short)
{
    char out[OF_IDEMPOTENCY_KEY_MAX + 1];
    size_t n = of_idempotency_key_derive("order_created:", OF_STR("A-1001"), out);
    ck_assert_uint_eq(n, strlen("order_created:A-1001"));
    ck_assert_str_eq(out, "order_created:A-1001");
    n = of_idempotency_key_derive("p:", (of_str){NULL, 0}, out);
    ck_assert_str_eq(out, "p:");
    ck_assert_uint_eq(n, 2);
    n = of_idempotency_key_derive(NULL, OF_STR("abc"), out);
    ck_assert_str_eq(out, "abc");

    /* Exactly 256 bytes is kept as is. */
    char name[300];
    memset(name, 'n', sizeof(name));
    n = of_idempotency_key_derive("order_created:", (of_str){name, 256 - 14}, out);
    ck_assert_uint_eq(n, 256);
    ck_assert_int_eq(out[255], 'n');
    ck_assert_ptr_null(strchr(out, '~'));
}
END_TEST

START_TEST(derive_long)
{
    char out[OF_IDEMPOTENCY_KEY_MAX + 1], again[OF_IDEMPOTENCY_KEY_MAX + 1];
    char other[OF_IDEMPOTENCY_KEY_MAX + 1];
    char name[1000];
    for (size_t i = 0; i < sizeof(name); i++)
        name[i] = (char)('a' + i % 26);
    of_str long_name = {name, sizeof(name)};
    size_t n = of_idempotency_key_derive("data_processed:", long_name, out);
    ck_assert_uint_eq(n, OF_IDEMPOTENCY_KEY_MAX);
    ck_assert_uint_eq(strlen(out), n);
    /* prefix, the start of the name, "~", 16 hex digits of the name's hash. */
    ck_assert_mem_eq(out, "data_processed:", 15);
    ck_assert_mem_eq(out + 15, name, 256 - 17 - 15);
    ck_assert_int_eq(out[239], '~');
    char hash[17];
    snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)fnv1a(name, sizeof(name)));
    ck_assert_str_eq(out + 240, hash);
    ck_assert_int_eq(of_idempotency_key_check((of_str){out, n}, NULL, 0), 0);

    /* Deterministic. */
    ck_assert_uint_eq(of_idempotency_key_derive("data_processed:", long_name, again), n);
    ck_assert_str_eq(out, again);

    /* Names sharing the kept start still get distinct keys. */
    name[999] = 'Z';
    of_idempotency_key_derive("data_processed:", long_name, other);
    ck_assert_mem_eq(out, other, 239);
    ck_assert_str_ne(out, other);

    /* One byte over the limit is enough to switch to the hashed form. */
    n = of_idempotency_key_derive("order_created:", (of_str){name, 256 - 14 + 1}, out);
    ck_assert_uint_eq(n, 256);
    ck_assert_int_eq(out[239], '~');

    /* The processor's use: a 256-byte input key under a prefix stays bounded. */
    n = of_idempotency_key_derive("data_processed:", (of_str){name, 256}, out);
    ck_assert_uint_eq(n, 256);

    /* Even an absurd prefix never overflows out. */
    char prefix[400];
    memset(prefix, 'p', sizeof(prefix) - 1);
    prefix[sizeof(prefix) - 1] = '\0';
    n = of_idempotency_key_derive(prefix, OF_STR("x"), out);
    ck_assert_uint_eq(n, 256);
    ck_assert_int_eq(out[239], '~');
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-idempotency");
    TCase *tc = tcase_create("idempotency");
    check_tcase_add_test(tc, check_rules);
    check_tcase_add_test(tc, derive_short);
    check_tcase_add_test(tc, derive_long);
    suite_add_tcase(s, tc);
    return s;
}
