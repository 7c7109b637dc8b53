/* common/util: FNV-1a-64 against its published test values, the hash table
 * (lookups, removal, many keys in few buckets) and the intrusive list. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/hash.h"
#include "util/list.h"

#include "../../check_run.h"

START_TEST(fnv1a64_known_values)
{
    /* The offset basis and the FNV-1a test vectors of draft-eastlake-fnv
     * (and www.isthe.com/chongo/tech/comp/fnv). */
    ck_assert_uint_eq(ofc_fnv1a64("", 0), UINT64_C(0xcbf29ce484222325));
    ck_assert_uint_eq(ofc_fnv1a64("a", 1), UINT64_C(0xaf63dc4c8601ec8c));
    ck_assert_uint_eq(ofc_fnv1a64("foobar", 6), UINT64_C(0x85944171f73967e8));
    /* Bytes, not characters: a high byte is not sign-extended. */
    ck_assert_uint_eq(ofc_fnv1a64("\xff", 1), UINT64_C(0xaf64724c8602eb6e));
}
END_TEST

typedef struct item {
    ofc_hash_node by_key;
    ofc_list_node in_list;
    char key[16];
    size_t key_len;
} item;

static const char *item_key(const ofc_hash_node *node, size_t *len)
{
    const item *it = OFC_CONTAINER_OF(node, const item, by_key);
    *len = it->key_len;
    return it->key;
}

static item *find(const ofc_hash *table, const char *key)
{
    ofc_hash_node *node = ofc_hash_find(table, key, strlen(key));
    return node ? OFC_CONTAINER_OF(node, item, by_key) : NULL;
}

#define ITEMS 5000

START_TEST(hash_table_finds_what_it_holds)
{
    static item items[ITEMS];
    ofc_hash table;
    ck_assert_int_eq(ofc_hash_init(&table, 10, item_key), 0);
    ck_assert_uint_eq(table.bucket_mask + 1, 1024); /* the least: 5,000 keys share them */
    for (int i = 0; i < ITEMS; i++) {
        items[i].key_len = (size_t)snprintf(items[i].key, sizeof(items[i].key), "key-%d", i);
        ofc_hash_insert(&table, &items[i].by_key);
    }
    ck_assert_uint_eq(table.count, ITEMS);
    for (int i = 0; i < ITEMS; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key-%d", i);
        ck_assert_ptr_eq(find(&table, key), &items[i]);
    }
    ck_assert_ptr_null(find(&table, "key-5000"));
    ck_assert_ptr_null(find(&table, "key-"));
    ck_assert_ptr_null(find(&table, ""));
    /* A key that is a prefix of another is a different key. */
    ck_assert_ptr_eq(find(&table, "key-1"), &items[1]);
    ck_assert_ptr_eq(find(&table, "key-12"), &items[12]);

    for (int i = 0; i < ITEMS; i += 2)
        ofc_hash_remove(&table, &items[i].by_key);
    ck_assert_uint_eq(table.count, ITEMS / 2);
    for (int i = 0; i < ITEMS; i++) {
        char key[16];
        snprintf(key, sizeof(key), "key-%d", i);
        ck_assert_ptr_eq(find(&table, key), i % 2 ? &items[i] : NULL);
    }
    ofc_hash_insert(&table, &items[0].by_key);
    ck_assert_ptr_eq(find(&table, "key-0"), &items[0]);
    ofc_hash_free(&table);
    ck_assert_ptr_null(table.buckets);
    ofc_hash_free(&table); /* twice is fine */
}
END_TEST

START_TEST(hash_table_sizes_for_two_keys_a_bucket)
{
    ofc_hash table;
    ck_assert_int_eq(ofc_hash_init(&table, 100000, item_key), 0);
    ck_assert_uint_eq(table.bucket_mask + 1, 65536);
    ofc_hash_free(&table);
}
END_TEST

static const char *keys_in_order(const ofc_list *list, char *out, size_t outlen)
{
    out[0] = '\0';
    for (ofc_list_node *n = list->first; n; n = n->next) {
        const item *it = OFC_CONTAINER_OF(n, const item, in_list);
        strncat(out, it->key, outlen - strlen(out) - 1);
    }
    return out;
}

START_TEST(list_keeps_order_and_unlinks)
{
    item a = {.key = "a"}, b = {.key = "b"}, c = {.key = "c"}, d = {.key = "d"};
    ofc_list list = {0};
    char text[16];
    ck_assert_ptr_null(ofc_list_pop_front(&list));
    ck_assert_int_eq(ofc_list_contains(&list, &a.in_list), 0);
    ofc_list_push_back(&list, &b.in_list);
    ofc_list_push_back(&list, &c.in_list);
    ofc_list_push_front(&list, &a.in_list);
    ofc_list_push_back(&list, &d.in_list);
    ck_assert_str_eq(keys_in_order(&list, text, sizeof(text)), "abcd");
    ck_assert_uint_eq(list.count, 4);
    ck_assert_int_eq(ofc_list_contains(&list, &a.in_list), 1);
    ck_assert_int_eq(ofc_list_contains(&list, &c.in_list), 1);

    ofc_list_remove(&list, &c.in_list); /* middle */
    ck_assert_str_eq(keys_in_order(&list, text, sizeof(text)), "abd");
    ck_assert_int_eq(ofc_list_contains(&list, &c.in_list), 0);
    ofc_list_remove(&list, &d.in_list); /* last */
    ck_assert_str_eq(keys_in_order(&list, text, sizeof(text)), "ab");
    ck_assert_ptr_eq(list.last, &b.in_list);
    ck_assert_ptr_eq(ofc_list_pop_front(&list), &a.in_list); /* first */
    ck_assert_int_eq(ofc_list_contains(&list, &a.in_list), 0);
    ck_assert_int_eq(ofc_list_contains(&list, &b.in_list), 1);
    ck_assert_ptr_eq(ofc_list_pop_front(&list), &b.in_list);
    ck_assert_ptr_null(list.first);
    ck_assert_ptr_null(list.last);
    ck_assert_uint_eq(list.count, 0);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {fnv1a64_known_values, hash_table_finds_what_it_holds,
                                  hash_table_sizes_for_two_keys_a_bucket,
                                  list_keeps_order_and_unlinks, NULL};
    return check_run_tests("containers", tests, 30);
}
