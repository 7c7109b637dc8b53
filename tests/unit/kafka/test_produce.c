/* Producing with retries while librdkafka's queue is full
 * (ofc_kafka_produce) and the producer presets, against librdkafka's mock
 * cluster in process. */
#include <check.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <orderflow/ids.h>

#include "kafka/kafka.h"

#include "../../check_run.h"

#define TOPIC "produce-test"
#define PARTITIONS 3

typedef struct fixture {
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    int delivered;
    int failed;
    char keys[64][16]; /* keys of the delivered records, in report order */
    int32_t partitions[64];
    int waits;      /* calls of the wait callback */
    int stop_after; /* stop says yes from this many calls on; -1 never */
    int stops;
} fixture;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    fixture *f = opaque;
    if (msg->err) {
        f->failed++;
        return;
    }
    if (f->delivered < 64) {
        snprintf(f->keys[f->delivered], sizeof(f->keys[0]), "%.*s", (int)msg->key_len,
                 (const char *)msg->key);
        f->partitions[f->delivered] = msg->partition;
    }
    f->delivered++;
}

/* A producer on its own mock cluster whose queue holds `queue_max` records
 * and sends a batch only after linger_ms. */
static void open_producer(fixture *f, const char *queue_max, const char *linger_ms)
{
    memset(f, 0, sizeof(*f));
    f->stop_after = -1;
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {
        {"test.mock.num.brokers", "1"},
        {"queue.buffering.max.messages", queue_max},
        {"linger.ms", linger_ms},
        {"message.timeout.ms", "120000"},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        ck_assert_int_eq(rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof(err)),
                         RD_KAFKA_CONF_OK);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, f);
    f->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(f->rk != NULL, "rd_kafka_new: %s", err);
    rd_kafka_mock_cluster_t *mock = rd_kafka_handle_mock_cluster(f->rk);
    ck_assert_ptr_nonnull(mock);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, TOPIC, PARTITIONS, 1), 0);
    f->topic = rd_kafka_topic_new(f->rk, TOPIC, NULL);
    ck_assert_ptr_nonnull(f->topic);
}

static void close_producer(fixture *f)
{
    rd_kafka_flush(f->rk, 10000);
    rd_kafka_topic_destroy(f->topic);
    rd_kafka_destroy(f->rk);
}

static void counting_wait(void *opaque, int timeout_ms)
{
    fixture *f = opaque;
    f->waits++;
    rd_kafka_poll(f->rk, timeout_ms);
}

static int stop_after(void *opaque)
{
    fixture *f = opaque;
    f->stops++;
    return f->stop_after >= 0 && f->stops > f->stop_after;
}

static ofc_kafka_record record_of(fixture *f, const char *key, rd_kafka_headers_t *headers)
{
    return (ofc_kafka_record){.topic = f->topic,
                              .partition = 1,
                              .key = key,
                              .key_len = strlen(key),
                              .value = "value",
                              .value_len = 5,
                              .headers = headers};
}

START_TEST(a_full_queue_is_waited_out_serving_delivery_reports)
{
    fixture f;
    open_producer(&f, "2", "0");
    const ofc_kafka_retry retry = {
        .wait_ms = 10, .max_wait_ms = -1, .wait = counting_wait, .opaque = &f};
    char key[16];
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        ofc_kafka_record rec = record_of(&f, key, NULL);
        ck_assert_int_eq(ofc_kafka_produce(f.rk, &rec, &retry), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    /* A queue of 2 and 20 records: only served delivery reports made room. */
    ck_assert_int_gt(f.waits, 0);
    close_producer(&f);
    ck_assert_int_eq(f.delivered, 20);
    ck_assert_int_eq(f.failed, 0);
    for (int i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        ck_assert_str_eq(f.keys[i], key); /* one partition: in order, each once */
        ck_assert_int_eq(f.partitions[i], 1);
    }
}
END_TEST

START_TEST(one_try_answers_a_full_queue_at_once)
{
    fixture f;
    open_producer(&f, "1", "60000"); /* the first record stays queued */
    const ofc_kafka_retry once = {.max_wait_ms = 0, .wait = counting_wait, .opaque = &f};
    ofc_kafka_record first = record_of(&f, "first", NULL);
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &first, &once), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_headers_t *headers = rd_kafka_headers_new(1);
    rd_kafka_header_add(headers, "h", 1, "v", 1);
    ofc_kafka_record second = record_of(&f, "second", headers);
    int64_t start = of_monotonic_ms();
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &second, &once), RD_KAFKA_RESP_ERR__QUEUE_FULL);
    ck_assert_int_lt(of_monotonic_ms() - start, 1000);
    ck_assert_int_eq(f.waits, 0);
    rd_kafka_headers_destroy(headers); /* still ours: ASan says if not */
    close_producer(&f);
    ck_assert_int_eq(f.delivered, 1);
    ck_assert_str_eq(f.keys[0], "first");
}
END_TEST

START_TEST(a_bound_gives_up_once_it_passed)
{
    fixture f;
    open_producer(&f, "1", "60000");
    ofc_kafka_record first = record_of(&f, "first", NULL);
    const ofc_kafka_retry bounded = {
        .wait_ms = 50, .max_wait_ms = 300, .wait = counting_wait, .opaque = &f};
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &first, &bounded), RD_KAFKA_RESP_ERR_NO_ERROR);
    ofc_kafka_record second = record_of(&f, "second", NULL);
    int64_t start = of_monotonic_ms();
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &second, &bounded), RD_KAFKA_RESP_ERR__QUEUE_FULL);
    int64_t took = of_monotonic_ms() - start;
    ck_assert_int_ge(took, 300);
    ck_assert_int_lt(took, 5000);
    ck_assert_int_ge(f.waits, 6); /* 300 ms in waits of 50 */
    close_producer(&f);
    ck_assert_int_eq(f.delivered, 1);
}
END_TEST

START_TEST(stop_ends_the_retries)
{
    fixture f;
    open_producer(&f, "1", "60000");
    f.stop_after = 3;
    const ofc_kafka_retry retry = {
        .wait_ms = 10, .max_wait_ms = -1, .wait = counting_wait, .stop = stop_after, .opaque = &f};
    ofc_kafka_record first = record_of(&f, "first", NULL);
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &first, &retry), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(f.stops, 0); /* asked only when the queue is full */
    ofc_kafka_record second = record_of(&f, "second", NULL);
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &second, &retry), RD_KAFKA_RESP_ERR__QUEUE_FULL);
    ck_assert_int_eq(f.stops, 4);
    ck_assert_int_eq(f.waits, 3); /* one wait per "not yet" */
    close_producer(&f);
}
END_TEST

START_TEST(a_topic_by_name_with_headers_and_opaque)
{
    fixture f;
    open_producer(&f, "100", "0");
    rd_kafka_headers_t *headers = rd_kafka_headers_new(1);
    rd_kafka_header_add(headers, "h", 1, "v", 1);
    const ofc_kafka_record rec = {.topic_name = TOPIC,
                                  .partition = 2,
                                  .key = "named",
                                  .key_len = 5,
                                  .value = "v",
                                  .value_len = 1,
                                  .headers = headers};
    const ofc_kafka_retry retry = {.wait_ms = 10, .max_wait_ms = -1};
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &rec, &retry), RD_KAFKA_RESP_ERR_NO_ERROR);
    /* Another error than a full queue comes back at once: a value over
     * message.max.bytes (1,000,000). */
    static char big[1000001];
    const ofc_kafka_record too_large = {
        .topic = f.topic, .partition = 0, .value = big, .value_len = sizeof(big)};
    int64_t start = of_monotonic_ms();
    ck_assert_int_eq(ofc_kafka_produce(f.rk, &too_large, &retry),
                     RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    ck_assert_int_lt(of_monotonic_ms() - start, 1000);
    close_producer(&f);
    ck_assert_int_eq(f.delivered, 1);
    ck_assert_str_eq(f.keys[0], "named");
    ck_assert_int_eq(f.partitions[0], 2);
}
END_TEST

START_TEST(the_producer_preset_forces_idempotence)
{
    ofc_config cfg;
    char err[512] = "";
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    const ofc_kafka_setting defaults[] = {{"linger.ms", "7"}, {NULL, NULL}};
    rd_kafka_conf_t *conf = ofc_kafka_producer_conf_new(&cfg, defaults, err, sizeof(err));
    ck_assert_msg(conf != NULL, "refused: %s", err);
    const char *expected[][2] = {
        {"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "7"}};
    for (size_t i = 0; i < 3; i++) {
        char value[64];
        size_t len = sizeof(value);
        ck_assert_int_eq(rd_kafka_conf_get(conf, expected[i][0], value, &len), RD_KAFKA_CONF_OK);
        /* librdkafka spells acks=all as -1 */
        ck_assert_str_eq(value, strcmp(expected[i][0], "acks") == 0 ? "-1" : expected[i][1]);
    }
    rd_kafka_conf_destroy(conf);
    ck_assert_int_eq(ofc_config_set_property(&cfg, "acks", "1", "-X", err, sizeof(err)), 0);
    ck_assert_ptr_null(ofc_kafka_producer_conf_new(&cfg, defaults, err, sizeof(err)));
    ck_assert_str_eq(err, "-X: librdkafka property 'acks=1' cannot be changed: this program "
                          "needs 'acks=all' for its delivery guarantees; remove the setting");
    ofc_config_free(&cfg);
}
END_TEST

START_TEST(dead_letter_room_is_twice_the_record_limit_plus_64_kib)
{
    ck_assert_uint_eq(ofc_kafka_dead_letter_message_max(1048576), 2162688);
    ck_assert_uint_eq(ofc_kafka_dead_letter_message_max(67108864), 134283264);
    /* Never below librdkafka's own default. */
    ck_assert_uint_eq(ofc_kafka_dead_letter_message_max(64), 1000000);
    ck_assert_uint_eq(ofc_kafka_dead_letter_message_max(467232), 1000000);
    ck_assert_uint_eq(ofc_kafka_dead_letter_message_max(467233), 1000002);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        a_full_queue_is_waited_out_serving_delivery_reports,
        one_try_answers_a_full_queue_at_once,
        a_bound_gives_up_once_it_passed,
        stop_ends_the_retries,
        a_topic_by_name_with_headers_and_opaque,
        the_producer_preset_forces_idempotence,
        dead_letter_room_is_twice_the_record_limit_plus_64_kib,
        NULL,
    };
    return check_run_tests("produce", tests, 60);
}
