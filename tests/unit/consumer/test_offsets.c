/* at_least_once offsets (consumer/offsets.c) against librdkafka's mock
 * cluster: only a finished prefix of each partition is stored, stored
 * offsets are committed on the commit interval, and a lost assignment
 * commits nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <orderflow/ids.h>

#include "offsets.h"
#include "partition_state.h"

#include "../../check_run.h"

#define TOPIC "orders"
#define PARTITIONS 2

typedef struct fixture {
    rd_kafka_t *consumer;
    partition_state *states[PARTITIONS];
    offset_committer oc;
} fixture;

/* A consumer of group "offsets-test" on its own mock cluster, with both
 * partitions of TOPIC assigned and a state for each. */
static void fixture_start(fixture *f, int commit_interval_ms)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"test.mock.num.brokers", "1"},
        {"group.id", "offsets-test"},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"log_level", "3"},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        ck_assert_int_eq(rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof(err)),
                         RD_KAFKA_CONF_OK);
    f->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ck_assert_msg(f->consumer != NULL, "rd_kafka_new: %s", err);
    rd_kafka_mock_cluster_t *mock = rd_kafka_handle_mock_cluster(f->consumer);
    ck_assert_ptr_nonnull(mock);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, TOPIC, PARTITIONS, 1), 0);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int32_t i = 0; i < PARTITIONS; i++) {
        rd_kafka_topic_partition_list_add(parts, TOPIC, i);
        f->states[i] = partition_state_new(i, 100, 8, (uint64_t)(i + 1) << 40);
        ck_assert_ptr_nonnull(f->states[i]);
    }
    ck_assert_int_eq(rd_kafka_assign(f->consumer, parts), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(parts);
    offsets_init(&f->oc, f->consumer, TOPIC, f->states, PARTITIONS, commit_interval_ms);
}

static void fixture_stop(fixture *f)
{
    rd_kafka_assign(f->consumer, NULL);
    rd_kafka_consumer_close(f->consumer);
    rd_kafka_destroy(f->consumer);
    for (int i = 0; i < PARTITIONS; i++)
        partition_state_free(f->states[i]);
}

/* The group's committed offset of partition, RD_KAFKA_OFFSET_INVALID if none. */
static int64_t committed(fixture *f, int32_t partition)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, TOPIC, partition);
    ck_assert_int_eq(rd_kafka_committed(f->consumer, list, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t offset = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    return offset;
}

/* Waits (at most 10 s) for an asynchronous commit to reach the coordinator. */
static int64_t committed_after_wait(fixture *f, int32_t partition, int64_t expected)
{
    int64_t deadline = of_monotonic_ms() + 10000;
    int64_t offset;
    while ((offset = committed(f, partition)) != expected && of_monotonic_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(f->consumer, 100);
        if (m) rd_kafka_message_destroy(m);
    }
    return offset;
}

START_TEST(stores_only_what_moved)
{
    fixture f;
    fixture_start(&f, 1000);
    ck_assert_int_eq(offsets_store(&f.oc), 0); /* nothing finished yet */
    uint64_t a = partition_state_push(f.states[0], 10, 0);
    partition_state_push(f.states[0], 11, 1);
    partition_state_push(f.states[1], 70, 0); /* in flight */
    ck_assert_int_eq(offsets_store(&f.oc), 0);
    partition_state_complete(f.states[0], a);
    ck_assert_int_eq(offsets_store(&f.oc), 1);
    ck_assert_int_eq(f.states[0]->stored, 12);
    ck_assert_int_eq(f.states[1]->stored, -1);
    ck_assert_int_eq(f.oc.uncommitted, 1);
    ck_assert_int_eq(offsets_store(&f.oc), 0); /* unchanged since */
    fixture_stop(&f);
}
END_TEST

START_TEST(commits_on_the_interval_behind_delivered_outputs)
{
    fixture f;
    fixture_start(&f, 1000);
    uint64_t a = partition_state_push(f.states[0], 0, 0);
    uint64_t b = partition_state_push(f.states[0], 1, 0);
    partition_state_push(f.states[1], 0, 0); /* never delivered */
    partition_state_complete(f.states[0], a);
    offsets_tick(&f.oc, 50); /* before the store interval */
    ck_assert_int_eq(f.states[0]->stored, -1);
    offsets_tick(&f.oc, OFFSETS_STORE_INTERVAL_MS);
    ck_assert_int_eq(f.states[0]->stored, 1);
    ck_assert_int_eq(f.oc.uncommitted, 1); /* commit waits for its interval */
    partition_state_complete(f.states[0], b);
    offsets_tick(&f.oc, 1000);
    ck_assert_int_eq(f.oc.uncommitted, 0);
    ck_assert_int_eq(f.oc.last_commit_ms, 1000);
    /* The store at 1000 moved partition 0 to 2 before the commit. */
    ck_assert_int_eq(committed_after_wait(&f, 0, 2), 2);
    ck_assert_int_eq(committed(&f, 1), RD_KAFKA_OFFSET_INVALID);
    fixture_stop(&f);
}
END_TEST

START_TEST(a_lost_assignment_commits_nothing)
{
    fixture f;
    fixture_start(&f, 1000);
    partition_state_push(f.states[0], 5, 1);
    ck_assert_int_eq(offsets_store(&f.oc), 1);
    ck_assert_int_eq(offsets_commit_on_revoke(&f.oc, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(committed(&f, 0), RD_KAFKA_OFFSET_INVALID);
    ck_assert_int_eq(f.oc.uncommitted, 1);
    ck_assert_int_eq(offsets_commit_on_revoke(&f.oc, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(committed(&f, 0), 6);
    ck_assert_int_eq(f.oc.uncommitted, 0);
    fixture_stop(&f);
}
END_TEST

/* While the member's group rebalances the periodic commit waits (a commit
 * refused with ILLEGAL_GENERATION would lose the assignment in librdkafka
 * 2.0.2), at most OFFSETS_REBALANCE_HOLD_MAX_MS. */
START_TEST(no_periodic_commit_while_the_group_rebalances)
{
    fixture f;
    fixture_start(&f, 1000);
    ofc_kafka member = {0};
    atomic_init(&member.group_rebalancing, 1);
    f.oc.member = &member;
    partition_state_push(f.states[0], 0, 1);
    offsets_tick(&f.oc, 1000);
    ck_assert_int_eq(f.states[0]->stored, 1);
    ck_assert_int_eq(f.oc.uncommitted, 1); /* held */
    offsets_tick(&f.oc, 1000 + OFFSETS_REBALANCE_HOLD_MAX_MS - 1);
    ck_assert_int_eq(f.oc.uncommitted, 1);
    offsets_tick(&f.oc, 1000 + OFFSETS_REBALANCE_HOLD_MAX_MS);
    ck_assert_int_eq(f.oc.uncommitted, 0); /* a group that does not settle */
    ck_assert_int_eq(committed_after_wait(&f, 0, 1), 1);

    partition_state_push(f.states[0], 1, 1);
    atomic_store(&member.group_rebalancing, 0); /* settled: the hold starts over */
    offsets_tick(&f.oc, 1000 + OFFSETS_REBALANCE_HOLD_MAX_MS + 1000);
    ck_assert_int_eq(f.oc.uncommitted, 0);
    ck_assert_int_eq(f.oc.held_since_ms, -1);
    ck_assert_int_eq(committed_after_wait(&f, 0, 2), 2);
    fixture_stop(&f);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        stores_only_what_moved,
        commits_on_the_interval_behind_delivered_outputs,
        a_lost_assignment_commits_nothing,
        no_periodic_commit_while_the_group_rebalances,
        NULL,
    };
    return check_run_tests("offsets", tests, 60);
}
