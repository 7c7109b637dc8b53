/* UUIDv7 ids and RFC 3339 times. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <orderflow/ids.h>

#include "helpers.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Checks the RFC 9562 layout and returns the embedded unix_ms. */
static uint64_t assert_uuid7(const char *id)
{
    ck_assert_uint_eq(strlen(id), OF_UUID_LEN);
    uint64_t ms = 0;
    int nibble = 0;
    for (int i = 0; i < OF_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            ck_assert_int_eq(id[i], '-');
            continue;
        }
        int v = hexval(id[i]);
        ck_assert_msg(v >= 0, "'%c' at %d of %s is not lowercase hex", id[i], i, id);
        if (nibble < 12) ms = ms << 4 | (uint64_t)v;
        nibble++;
    }
    ck_assert_int_eq(id[14], '7');                 /* version */
    ck_assert_ptr_nonnull(strchr("89ab", id[19])); /* variant 10 */
    return ms;
}

START_TEST(uuid7_layout)
{
    of_idgen gen;
    char err[128];
    ck_assert_int_eq(of_idgen_init(&gen, err, sizeof(err)), 0);
    char id[OF_UUID_LEN + 1];
    memset(id, 'x', sizeof(id));
    of_uuid7(&gen, UINT64_C(1795521600123), id);
    ck_assert_int_eq(id[OF_UUID_LEN], '\0');
    ck_assert_uint_eq(assert_uuid7(id), UINT64_C(1795521600123));
    /* 1795521600123 is 0x01a20d6d5a7b: the first 48 bits, big-endian. */
    ck_assert_mem_eq(id, "01a20d6d-5a7b-7", 15);
    /* A generator never goes back in time (see uuid7_monotonic): a new one. */
    of_idgen_seed(&gen, 1);
    of_uuid7(&gen, 0, id);
    ck_assert_uint_eq(assert_uuid7(id), 0);
    ck_assert_mem_eq(id, "00000000-0000-7", 15);
}
END_TEST

START_TEST(uuid7_monotonic)
{
    of_idgen gen;
    of_idgen_seed(&gen, 42);
    char prev[OF_UUID_LEN + 1], id[OF_UUID_LEN + 1];
    uint64_t ms = UINT64_C(1795521600000);
    of_uuid7(&gen, ms, prev);
    /* 10000 in one millisecond: more than the 12-bit counter holds, so the
     * generator borrows the next milliseconds rather than lose the order. */
    for (int i = 0; i < 10000; i++) {
        of_uuid7(&gen, ms, id);
        assert_uuid7(id);
        ck_assert_msg(strcmp(prev, id) < 0, "%s !< %s", prev, id);
        memcpy(prev, id, sizeof(id));
    }
    ck_assert_uint_gt(assert_uuid7(id), ms);
    ck_assert_uint_le(assert_uuid7(id), ms + 5);
    /* Time moving on, and the clock stepping back. */
    for (int i = 0; i < 1000; i++) {
        uint64_t t = ms + 10 + (uint64_t)(i % 7 == 3 ? 0 : i);
        of_uuid7(&gen, t, id);
        ck_assert_msg(strcmp(prev, id) < 0, "%s !< %s", prev, id);
        memcpy(prev, id, sizeof(id));
    }
    /* A fresh millisecond restarts the counter somewhere in its lower half. */
    of_uuid7(&gen, ms + 100000, id);
    ck_assert_uint_eq(assert_uuid7(id), ms + 100000);
    ck_assert_int_le(hexval(id[15]), 7);
}
END_TEST

START_TEST(uuid7_seeding)
{
    of_idgen a, b, c;
    of_idgen_seed(&a, 7);
    of_idgen_seed(&b, 7);
    of_idgen_seed(&c, 8);
    char ia[OF_UUID_LEN + 1], ib[OF_UUID_LEN + 1], ic[OF_UUID_LEN + 1];
    for (int i = 0; i < 100; i++) {
        of_uuid7(&a, 1000 + (uint64_t)i, ia);
        of_uuid7(&b, 1000 + (uint64_t)i, ib);
        of_uuid7(&c, 1000 + (uint64_t)i, ic);
        ck_assert_str_eq(ia, ib);
        ck_assert_str_ne(ia, ic);
    }
    /* Kernel-seeded generators differ from each other. */
    char err[128];
    ck_assert_int_eq(of_idgen_init(&a, err, sizeof(err)), 0);
    ck_assert_int_eq(of_idgen_init(&b, err, sizeof(err)), 0);
    of_uuid7(&a, 5, ia);
    of_uuid7(&b, 5, ib);
    ck_assert_str_ne(ia, ib);
    /* The random part really varies: the last 12 hex digits of 64 ids. */
    int distinct_last = 0;
    char last = 0;
    for (int i = 0; i < 64; i++) {
        of_uuid7(&a, 5, ia);
        if (ia[35] != last) distinct_last++;
        last = ia[35];
    }
    ck_assert_int_gt(distinct_last, 32);
}
END_TEST

START_TEST(format_time_known)
{
    char out[OF_TIME_LEN + 1];
    memset(out, 'x', sizeof(out));
    of_format_time(0, out);
    ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    of_format_time(UINT64_C(1795521600123), out);
    ck_assert_str_eq(out, "2026-11-24T12:00:00.123Z");
    of_format_time(UINT64_C(951782400000), out);
    ck_assert_str_eq(out, "2000-02-29T00:00:00.000Z");
    of_format_time(UINT64_C(4102444799999), out);
    ck_assert_str_eq(out, "2099-12-31T23:59:59.999Z");
    of_format_time(UINT64_C(253402300799999), out);
    ck_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
    /* Beyond four-digit years it stays at the last one rather than overflow. */
    of_format_time(UINT64_MAX, out);
    ck_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
}
END_TEST

START_TEST(format_time_matches_gmtime)
{
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint64_t ms = x % UINT64_C(253402300800000);
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
        char want[64], got[OF_TIME_LEN + 1];
        size_t n = strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(want + n, sizeof(want) - n, ".%03uZ", (unsigned)(ms % 1000));
        of_format_time(ms, got);
        ck_assert_str_eq(got, want);
        ck_assert(of_time_valid(of_str_c(got)));
    }
}
END_TEST

START_TEST(time_valid)
{
    static const char *const good[] = {
        "2026-11-24T12:00:00.123Z",
        "2026-11-24T12:00:00Z",
        "2026-11-24t12:00:00z",
        "2026-11-24T12:00:00+05:30",
        "2026-11-24T12:00:00.123456789-08:00",
        "2016-12-31T23:59:60Z",
        "2024-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "2026-11-24T23:59:59.9+23:59",
    };
    static const char *const bad[] = {
        "",
        "2026-11-24",
        "2026-11-24T12:00:00",
        "2026-11-24 12:00:00Z",
        "2026-11-24T12:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-24T24:00:00Z",
        "2026-11-24T12:60:00Z",
        "2026-11-24T12:00:61Z",
        "2026-11-24T12:00:00.Z",
        "2026-11-24T12:00:00+05:60",
        "2026-11-24T12:00:00+0530",
        "2026-11-24T12:00:00+05",
        "2026-11-24T12:00:00ZZ",
        "2026-11-24T12:00:00Z ",
        "26-11-24T12:00:00Z",
        "2026-1-24T12:00:00Z",
        "2026-11-24T12:00:00.123Q",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(of_time_valid(of_str_c(good[i])) == 1, "'%s' should be valid", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(of_time_valid(of_str_c(bad[i])) == 0, "'%s' should be invalid", bad[i]);
    ck_assert_int_eq(of_time_valid((of_str){NULL, 0}), 0);
    /* The length is honoured: a valid prefix of a longer buffer. */
    ck_assert_int_eq(of_time_valid((of_str){"2026-11-24T12:00:00Zjunk", 20}), 1);
    ck_assert_int_eq(of_time_valid((of_str){"2026-11-24T12:00:00Z", 19}), 0);
}
END_TEST

START_TEST(now_ms)
{
    uint64_t a = of_now_ms();
    time_t t = time(NULL);
    uint64_t b = of_now_ms();
    ck_assert_uint_le(a, b);
    ck_assert_uint_ge(a / 1000 + 1, (uint64_t)t);
    ck_assert_uint_le(a / 1000, (uint64_t)t + 1);
    ck_assert_uint_gt(a, UINT64_C(1577836800000)); /* after 2020 */
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-ids");
    TCase *tc = tcase_create("ids");
    tcase_set_timeout(tc, 60);
    check_tcase_add_test(tc, uuid7_layout);
    check_tcase_add_test(tc, uuid7_monotonic);
    check_tcase_add_test(tc, uuid7_seeding);
    check_tcase_add_test(tc, format_time_known);
    check_tcase_add_test(tc, format_time_matches_gmtime);
    check_tcase_add_test(tc, time_valid);
    check_tcase_add_test(tc, now_ms);
    suite_add_tcase(s, tc);
    return s;
}
