/* of_dedup: a FIFO window of keys that grows with use up to its window. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/dedup.h>

#include "../../check_run.h"

static size_t key(char *buf, size_t i)
{
    return (size_t)sprintf(buf, "data_processed:order_created:G1-%zu", i);
}

/* Inserts keys 0..n-1, checks that exactly the last `window` are kept, and
 * returns how many were. */
static size_t check_window(size_t window, size_t n)
{
    of_dedup *set = of_dedup_new(window);
    ck_assert_ptr_nonnull(set);
    char k[64];
    for (size_t i = 0; i < n; i++) {
        size_t len = key(k, i);
        ck_assert_int_eq(of_dedup_insert(set, k, len), 1);
        ck_assert_int_eq(of_dedup_insert(set, k, len), 0); /* a duplicate changes nothing */
    }
    size_t kept = n < window ? n : window;
    ck_assert_uint_eq(of_dedup_count(set), kept);
    for (size_t i = 0; i < n; i++) {
        size_t len = key(k, i);
        ck_assert_msg(of_dedup_contains(set, k, len) == (i >= n - kept),
                      "window %zu after %zu keys: key %zu", window, n, i);
    }
    of_dedup_clear(set);
    ck_assert_uint_eq(of_dedup_count(set), 0);
    ck_assert_int_eq(of_dedup_contains(set, k, key(k, n - 1)), 0);
    of_dedup_free(set);
    return kept;
}

START_TEST(keeps_the_last_window_keys)
{
    ck_assert_uint_eq(check_window(1, 5), 1);
    ck_assert_uint_eq(check_window(7, 3), 3);
    ck_assert_uint_eq(check_window(1000, 1000), 1000);
    /* Across several doublings (1024 -> 100000) and then evictions. */
    ck_assert_uint_eq(check_window(100000, 100000), 100000);
    ck_assert_uint_eq(check_window(100000, 250000), 100000);
    ck_assert_uint_eq(check_window(3000, 10000), 3000);
}
END_TEST

/* Room made up front (a restore that knows its record count) keeps what is
 * there, caps at the window, and changes nothing about which keys are kept. */
START_TEST(reserves_room_up_front)
{
    of_dedup *set = of_dedup_new(5000);
    ck_assert_ptr_nonnull(set);
    char k[64];
    for (size_t i = 0; i < 700; i++)
        ck_assert_int_eq(of_dedup_insert(set, k, key(k, i)), 1);
    ck_assert_int_eq(of_dedup_reserve(set, 3000), 0);
    ck_assert_int_eq(of_dedup_reserve(set, 10), 0); /* never shrinks */
    ck_assert_int_eq(of_dedup_reserve(set, 1000000), 0);
    for (size_t i = 0; i < 700; i++)
        ck_assert_int_eq(of_dedup_contains(set, k, key(k, i)), 1);
    for (size_t i = 700; i < 12000; i++)
        ck_assert_int_eq(of_dedup_insert(set, k, key(k, i)), 1);
    ck_assert_uint_eq(of_dedup_count(set), 5000);
    for (size_t i = 0; i < 12000; i++)
        ck_assert_int_eq(of_dedup_contains(set, k, key(k, i)), i >= 7000);
    of_dedup_clear(set);
    ck_assert_int_eq(of_dedup_reserve(set, 100), 0);
    ck_assert_uint_eq(of_dedup_count(set), 0);
    of_dedup_free(set);
}
END_TEST

/* A key hashed once answers as the key itself, in both directions. */
START_TEST(hashed_keys_are_the_keys)
{
    of_dedup *set = of_dedup_new(2);
    ck_assert_ptr_nonnull(set);
    char k[64];
    size_t len = key(k, 1);
    of_dedup_hash h = of_dedup_hash_key(k, len);
    ck_assert_int_eq(of_dedup_contains_hash(set, h), 0);
    ck_assert_int_eq(of_dedup_insert_hash(set, h), 1);
    ck_assert_int_eq(of_dedup_insert_hash(set, h), 0);
    ck_assert_int_eq(of_dedup_contains(set, k, len), 1);
    ck_assert_int_eq(of_dedup_insert(set, k, len), 0);
    len = key(k, 2);
    ck_assert_int_eq(of_dedup_insert(set, k, len), 1);
    ck_assert_int_eq(of_dedup_contains_hash(set, of_dedup_hash_key(k, len)), 1);
    /* A third key evicts the first, hashed or not. */
    len = key(k, 3);
    ck_assert_int_eq(of_dedup_insert_hash(set, of_dedup_hash_key(k, len)), 1);
    ck_assert_int_eq(of_dedup_contains_hash(set, h), 0);
    ck_assert_uint_eq(of_dedup_count(set), 2);
    of_dedup_free(set);
}
END_TEST

START_TEST(refuses_impossible_windows)
{
    ck_assert_ptr_null(of_dedup_new(0));
    ck_assert_ptr_null(of_dedup_new((size_t)UINT32_MAX));
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        keeps_the_last_window_keys,
        reserves_room_up_front,
        hashed_keys_are_the_keys,
        refuses_impossible_windows,
        NULL,
    };
    return check_run_tests("dedup", tests, 60);
}
