/* The processor with an asynchronous handler (consumer/async_handler.h), in
 * process, on librdkafka's mock cluster: the fake handler of
 * tests/unit/consumer/fake_async.c answers in a pseudo-random order. Each
 * input yields exactly one data_processed (the handler's data, verbatim)
 * or one dead letter; outputs per order id come in input order; the
 * handler never had two calls for one order id nor more than max_in_flight
 * at once; the committed offsets reach the end (at_least_once); and with
 * the breaker open nothing is called until it closes. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>

#include "config/config.h"
#include "record/order_record.h"
#include "record/record.h"

#include "fake_async.h"
#include "handler_load.h"
#include "harness.h"
#include "processor.h"

#include "../check_run.h"

#define PARTITIONS 4
#define ORDER_IDS 23
#define INPUTS 1200
#define MAX_IN_FLIGHT 8

typedef struct run {
    processor_options opts;
    processor_counters counters;
    int status;
    pthread_t thread;
} run;

static void *run_processor(void *arg)
{
    run *r = arg;
    r->status = processor_run(&r->opts, &r->counters);
    return NULL;
}

/* Order k's id: "O-k", or "DL-k" for every seventh (the fake dead-letters them). */
static void order_id(int k, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s-%d", k % 7 == 3 ? "DL" : "O", k);
}

/* INPUTS order_created records, input i for order i % ORDER_IDS with
 * idempotency key "idem-i", each order id on its own partition. */
static void publish(const mock_cluster *mock)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", mock->bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(rk != NULL, "%s", err);
    of_encoder *enc = of_encoder_new();
    of_idgen ids;
    ck_assert_int_eq(of_idgen_init(&ids, err, sizeof(err)), 0);
    of_item item = {.sku = of_str_c("SKU-1"), .quantity = 2, .unit_price_cents = 999};
    for (int i = 0; i < INPUTS; i++) {
        int k = i % ORDER_IDS;
        char id[32], key[32];
        order_id(k, id, sizeof(id));
        snprintf(key, sizeof(key), "idem-%d", i);
        of_order order = {.order_id = of_str_c(id),
                          .customer_id = of_str_c("C-1"),
                          .currency = of_str_c("EUR"),
                          .items = &item,
                          .item_count = 1};
        ofc_order_record rec;
        ck_assert_msg(ofc_order_record_encode(&rec, enc, &ids, "test", &order, of_str_c(key),
                                              (of_str){NULL, 0}, (of_str){NULL, 0}, 1, 1, err,
                                              sizeof(err)) == 0,
                      "%s", err);
        rd_kafka_headers_t *headers = ofc_record_headers(&rec.ev, 0);
        rd_kafka_resp_err_t rc = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC("order-created"), RD_KAFKA_V_PARTITION(k % PARTITIONS),
            RD_KAFKA_V_KEY(id, strlen(id)), RD_KAFKA_V_VALUE((void *)rec.value, rec.value_len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
        ck_assert_int_eq(rc, RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ck_assert_int_eq(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
    of_encoder_free(enc);
    rd_kafka_destroy(rk);
}

static int expected_dead_letters(void)
{
    int n = 0;
    for (int i = 0; i < INPUTS; i++)
        n += (i % ORDER_IDS) % 7 == 3;
    return n;
}

static int64_t committed_total(const char *bootstraps)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "async-test", err, sizeof(err));
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ck_assert_msg(rk != NULL, "%s", err);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int32_t p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(list, "order-created", p);
    ck_assert_int_eq(rd_kafka_committed(rk, list, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t total = 0;
    for (int i = 0; i < list->cnt; i++)
        total += list->elems[i].offset > 0 ? list->elems[i].offset : 0;
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return total;
}

static void check_outputs(const mock_cluster *mock, const fake_async *fake)
{
    int dead = expected_dead_letters();
    records out, dlq;
    read_topic(mock->bootstraps, "data-processed", &out);
    read_topic(mock->bootstraps, "order-created.dlq", &dlq);
    ck_assert_uint_eq(out.count, (size_t)(INPUTS - dead));
    ck_assert_uint_eq(distinct_idempotency_keys(&out), (size_t)(INPUTS - dead));
    ck_assert_uint_eq(dlq.count, (size_t)dead);
    /* Per order id, outputs in input order: idem-i grows (partition order
     * is production order). */
    int last[ORDER_IDS];
    for (int k = 0; k < ORDER_IDS; k++)
        last[k] = -1;
    for (size_t i = 0; i < out.count; i++) {
        const record *r = &out.items[i];
        ck_assert_ptr_nonnull(r->idempotency_key);
        int input = atoi(strstr(r->idempotency_key, "idem-") + 5);
        int k = input % ORDER_IDS;
        char id[32];
        order_id(k, id, sizeof(id));
        ck_assert_str_eq(r->key, id);
        ck_assert_int_eq(r->partition, k % PARTITIONS);
        ck_assert_msg(input > last[k], "order %s: output of input %d after input %d", id, input,
                      last[k]);
        last[k] = input;
        /* The handler's data, verbatim, in orderflow's envelope. */
        char data[128];
        snprintf(data, sizeof(data), "\"data\":{\"order_id\":\"%s\",\"attempt\":1}", id);
        ck_assert_msg(strstr(r->value, data) != NULL, "%s", r->value);
        ck_assert_ptr_nonnull(strstr(r->value, "\"type\":\"data_processed\""));
    }
    for (size_t i = 0; i < dlq.count; i++)
        ck_assert_str_eq(dlq.items[i].error_header, "handler fake: HTTP 422: refused");
    records_free(&out);
    records_free(&dlq);
    ck_assert_uint_eq(fake->same_key_violations, 0);
    ck_assert_uint_le(fake->max_in_flight_seen, MAX_IN_FLIGHT);
    ck_assert_uint_eq(fake->completions, (size_t)INPUTS);
}

static void run_stream(const char *guarantee, int breaker_first)
{
    mock_cluster mock;
    mock_start(&mock, 1, PARTITIONS);
    publish(&mock);
    ofc_config cfg;
    char err[512];
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(ofc_config_set_brokers(&cfg, mock.bootstraps, err, sizeof(err)), 0);
    free(cfg.consumer_group);
    cfg.consumer_group = strdup("async-test");
    cfg.commit_interval_ms = 200;
    cfg.guarantee = strcmp(guarantee, "exactly_once") == 0 ? OFC_EXACTLY_ONCE : OFC_AT_LEAST_ONCE;
    ck_assert_int_eq(ofc_config_set_property(&cfg, "log_level", "2", "test", err, sizeof(err)), 0);

    fake_async *fake = calloc(1, sizeof(*fake));
    fake_async_init(fake, MAX_IN_FLIGHT, 5);
    fake->breaker_open = breaker_first;
    loaded_handler handler = {.async = &fake_async_ops, .async_state = fake};
    static volatile sig_atomic_t stop;
    stop = 0;
    run r = {.opts = {.cfg = &cfg,
                      .output = PROCESSOR_OUTPUT_NONE,
                      .stats_interval_ms = 5000,
                      .stop = &stop,
                      .handler = &handler}};
    ck_assert_int_eq(pthread_create(&r.thread, NULL, run_processor, &r), 0);
    if (breaker_first) {
        /* Breaker open: partitions paused, nothing called. */
        sleep_ms(2000);
        ck_assert_uint_eq(fake->count, 0);
        fake->breaker_open = 0;
    }
    int dead = expected_dead_letters();
    /* Watermarks, not records: under exactly_once the mock of a current
     * librdkafka (2.16.0) counts its transaction markers as offsets too.
     * check_outputs counts the records themselves, exactly. */
    size_t got =
        wait_for_records(mock.bootstraps, "data-processed", (size_t)(INPUTS - dead), 60000);
    ck_assert_uint_ge(got, (size_t)(INPUTS - dead));
    wait_for_records(mock.bootstraps, "order-created.dlq", (size_t)dead, 30000);
    /* Commits catch up behind the outputs. */
    for (int i = 0;
         i < 100 && cfg.guarantee == OFC_AT_LEAST_ONCE && committed_total(mock.bootstraps) < INPUTS;
         i++)
        sleep_ms(100);
    stop = 1;
    pthread_join(r.thread, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(r.counters.consumed, INPUTS);
    ck_assert_uint_eq(r.counters.emitted, (uint64_t)(INPUTS - dead));
    ck_assert_uint_eq(r.counters.dead_lettered, (uint64_t)dead);
    check_outputs(&mock, fake);
    if (cfg.guarantee == OFC_AT_LEAST_ONCE) {
        ck_assert_int_eq(committed_total(mock.bootstraps), INPUTS);
    } else {
        /* librdkafka 2.0.2's mock does not store transactional offsets
         * (tests/integration/test_processor_faults.c): the commits
         * themselves are what can be checked here. */
        ck_assert_uint_ge(r.counters.transactions_committed, 1);
        ck_assert_uint_eq(r.counters.transactions_aborted, 0);
    }
    fake_async_free(fake);
    free(fake);
    ofc_config_free(&cfg);
    mock_stop(&mock);
}

/* The breaker is open at the start: nothing is called until it closes. */
START_TEST(at_least_once_in_order_per_key)
{
    run_stream("at_least_once", 1);
}
END_TEST

START_TEST(exactly_once_in_order_per_key)
{
    run_stream("exactly_once", 0);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        at_least_once_in_order_per_key,
        exactly_once_in_order_per_key,
        NULL,
    };
    return check_run_tests("async_processor", tests, 150);
}
