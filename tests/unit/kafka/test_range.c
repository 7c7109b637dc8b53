/* Reading partitions from an offset to their end (ofc_range) and offsets at
 * a time (ofc_kafka_offsets_at), against librdkafka's mock cluster in
 * process. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <orderflow/ids.h>

#include "kafka/kafka.h"

#include "../../check_run.h"

#define TOPIC "range-test"
#define OTHER "range-other"
#define PARTITIONS 3
#define RECORDS 10 /* per partition */

typedef struct fixture {
    rd_kafka_t *producer; /* holds the mock cluster */
    rd_kafka_t *consumer;
    int done_calls[PARTITIONS * 2];
} fixture;

/* RECORDS records "p<partition>-<n>" in every partition of TOPIC and OTHER,
 * and a consumer (group id, never joined) on the same mock cluster. */
static void open_fixture(fixture *f)
{
    memset(f, 0, sizeof(*f));
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    f->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(f->producer != NULL, "%s", err);
    rd_kafka_mock_cluster_t *mock = rd_kafka_handle_mock_cluster(f->producer);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, TOPIC, PARTITIONS, 1), 0);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, OTHER, PARTITIONS, 1), 0);
    const ofc_kafka_retry retry = {.wait_ms = 10, .max_wait_ms = -1};
    const char *topics[] = {TOPIC, OTHER};
    for (int t = 0; t < 2; t++)
        for (int32_t p = 0; p < PARTITIONS; p++)
            for (int n = 0; n < RECORDS; n++) {
                char value[32];
                snprintf(value, sizeof(value), "%s/p%d-%d", topics[t], (int)p, n);
                const ofc_kafka_record rec = {.topic_name = topics[t],
                                              .partition = p,
                                              .value = value,
                                              .value_len = strlen(value)};
                ck_assert_int_eq(ofc_kafka_produce(f->producer, &rec, &retry), 0);
            }
    ck_assert_int_eq(rd_kafka_flush(f->producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);

    conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mock)},
        {"group.id", "range-test"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        ck_assert_int_eq(rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof(err)),
                         RD_KAFKA_CONF_OK);
    f->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ck_assert_msg(f->consumer != NULL, "%s", err);
    rd_kafka_poll_set_consumer(f->consumer);
}

static void close_fixture(fixture *f)
{
    rd_kafka_consumer_close(f->consumer);
    rd_kafka_destroy(f->consumer);
    rd_kafka_destroy(f->producer);
}

static void count_done(void *opaque, int part)
{
    fixture *f = opaque;
    f->done_calls[part]++;
}

/* Reads until every part is done (at most 20 s); appends "topic/pP-N," for
 * each record and "eof:P@O," for each EOF to out. */
static void read_all(ofc_range *range, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    rd_kafka_message_t *batch[4];
    int64_t deadline = of_monotonic_ms() + 20000;
    while (range->left > 0 && of_monotonic_ms() < deadline) {
        size_t n = ofc_range_read(range, batch, 4, 100);
        ck_assert_uint_le(n, 4);
        for (size_t m = 0; m < n; m++) {
            rd_kafka_message_t *msg = batch[m];
            ck_assert_msg(!msg->err || msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF, "%s",
                          rd_kafka_message_errstr(msg));
            if (msg->err)
                used += (size_t)snprintf(out + used, outlen - used, "eof:%s/%d@%d,",
                                         rd_kafka_topic_name(msg->rkt), (int)msg->partition,
                                         (int)msg->offset);
            else
                used += (size_t)snprintf(out + used, outlen - used, "%.*s,", (int)msg->len,
                                         (const char *)msg->payload);
            rd_kafka_message_destroy(msg);
        }
    }
    ck_assert_int_eq(range->left, 0);
}

/* The records of one partition in out, in order, as one string. */
static void only(const char *all, const char *prefix, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *at = all; (at = strstr(at, prefix)) != NULL; at++) {
        if (at != all && at[-1] != ',') continue;
        const char *end = strchr(at, ',');
        used += (size_t)snprintf(out + used, outlen - used, "%.*s,", (int)(end - at), at);
    }
}

START_TEST(parts_are_read_from_their_start_to_their_end)
{
    fixture f;
    open_fixture(&f);
    ofc_range_part parts[] = {
        {TOPIC, 0, 3, 8, 0},                /* offsets 3..7 */
        {TOPIC, 1, 7, OFC_RANGE_TO_EOF, 0}, /* 7..9, then EOF */
        {TOPIC, 2, 5, 5, 0},                /* empty: done, never read */
        {OTHER, 0, 9, 10, 0},               /* the last record */
    };
    ofc_range range = {.on_done = count_done, .opaque = &f};
    ck_assert_int_eq(ofc_range_open(&range, f.consumer, parts, 4), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(range.left, 3);
    ck_assert_int_eq(parts[2].done, 1);
    char all[4096], part[1024];
    read_all(&range, all, sizeof(all));
    only(all, TOPIC "/p0-", part, sizeof(part));
    ck_assert_str_eq(part,
                     TOPIC "/p0-3," TOPIC "/p0-4," TOPIC "/p0-5," TOPIC "/p0-6," TOPIC "/p0-7,");
    only(all, TOPIC "/p1-", part, sizeof(part));
    ck_assert_str_eq(part, TOPIC "/p1-7," TOPIC "/p1-8," TOPIC "/p1-9,");
    ck_assert_ptr_null(strstr(all, TOPIC "/p2-"));
    only(all, OTHER "/", part, sizeof(part));
    ck_assert_str_eq(part, OTHER "/p0-9,");
    /* The part read to EOF says where it ended. */
    ck_assert_ptr_nonnull(strstr(all, "eof:" TOPIC "/1@10,"));
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(f.done_calls[i], i == 2 ? 0 : 1); /* once each; not the empty one */
    ofc_range_close(&range);
    close_fixture(&f);
}
END_TEST

START_TEST(a_followed_range_returns_records_past_the_ends)
{
    fixture f;
    open_fixture(&f);
    ofc_range_part parts[] = {
        {TOPIC, 0, 8, 9, 0},   /* caught up at offset 8, record 9 still returned */
        {TOPIC, 1, 10, 10, 0}, /* empty but assigned: nothing yet */
    };
    ofc_range range = {.follow = 1};
    ck_assert_int_eq(ofc_range_open(&range, f.consumer, parts, 2), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(range.left, 1);
    char seen[1024] = "";
    size_t used = 0;
    rd_kafka_message_t *batch[8];
    int64_t deadline = of_monotonic_ms() + 20000;
    int eofs = 0;
    while (eofs < 2 && of_monotonic_ms() < deadline) {
        size_t n = ofc_range_read(&range, batch, 8, 100);
        for (size_t m = 0; m < n; m++) {
            if (batch[m]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                eofs++;
            else if (!batch[m]->err)
                used += (size_t)snprintf(seen + used, sizeof(seen) - used, "%.*s,",
                                         (int)batch[m]->len, (const char *)batch[m]->payload);
            rd_kafka_message_destroy(batch[m]);
        }
    }
    ck_assert_str_eq(seen, TOPIC "/p0-8," TOPIC "/p0-9,");
    ck_assert_int_eq(range.left, 0);
    ofc_range_close(&range);
    close_fixture(&f);
}
END_TEST

START_TEST(offsets_at_the_ends_and_at_a_time)
{
    fixture f;
    open_fixture(&f);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int32_t p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(list, TOPIC, p);
    ck_assert_int_eq(ofc_kafka_offsets_at(f.consumer, list, RD_KAFKA_OFFSET_BEGINNING, 5000), 0);
    for (int32_t p = 0; p < PARTITIONS; p++)
        ck_assert_int_eq(list->elems[p].offset, 0);
    ck_assert_int_eq(ofc_kafka_offsets_at(f.consumer, list, RD_KAFKA_OFFSET_END, 5000), 0);
    for (int32_t p = 0; p < PARTITIONS; p++)
        ck_assert_int_eq(list->elems[p].offset, RECORDS);
    /* librdkafka 2.0.2's mock cluster looks no timestamps up: -1, no error. */
    ck_assert_int_eq(ofc_kafka_offsets_at(f.consumer, list, (int64_t)of_now_ms() - 60000, 5000), 0);
    for (int32_t p = 0; p < PARTITIONS; p++)
        ck_assert_int_eq(list->elems[p].offset, -1);
    rd_kafka_topic_partition_list_destroy(list);
    /* A partition that does not exist: its error comes back. */
    list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, TOPIC, 7);
    ck_assert_int_ne(ofc_kafka_offsets_at(f.consumer, list, RD_KAFKA_OFFSET_END, 5000), 0);
    rd_kafka_topic_partition_list_destroy(list);
    close_fixture(&f);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        parts_are_read_from_their_start_to_their_end,
        a_followed_range_returns_records_past_the_ends,
        offsets_at_the_ends_and_at_a_time,
        NULL,
    };
    return check_run_tests("range", tests, 60);
}
