/* exactly_once's transaction state (consumer/transaction.c) against
 * librdkafka's mock cluster: when a transaction commits, and that a failed
 * delivery aborts it instead. The 2.0.2 mock neither stores transactional
 * offsets nor hides aborted records, so what a read_committed reader sees is
 * left to a real Kafka (docs/architecture.md, "Processor, exactly_once"). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "transaction.h"

#include "../../check_run.h"

typedef struct fixture {
    rd_kafka_t *mock_handle; /* the mock cluster's handle */
    rd_kafka_mock_cluster_t *mock;
    ofc_config cfg;
    ofc_kafka producer;
    rd_kafka_t *consumer; /* assigned nothing: commits send no offsets */
    transaction txn;
} fixture;

static rd_kafka_conf_t *conf_of(const char *const settings[][2], size_t count)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(rd_kafka_conf_set(conf, settings[i][0], settings[i][1], err, sizeof(err)) ==
                          RD_KAFKA_CONF_OK,
                      "%s: %s", settings[i][0], err);
    return conf;
}

static void fixture_start(fixture *f, int commit_interval_ms)
{
    char err[512];
    memset(f, 0, sizeof(*f));
    const char *mock_settings[][2] = {{"log_level", "3"}};
    f->mock_handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf_of(mock_settings, 1), err, sizeof(err));
    ck_assert_msg(f->mock_handle != NULL, "%s", err);
    f->mock = rd_kafka_mock_cluster_new(f->mock_handle, 1);
    ck_assert_ptr_nonnull(f->mock);
    ck_assert_int_eq(rd_kafka_mock_topic_create(f->mock, "out", 1, 1), 0);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(f->mock);

    ck_assert_int_eq(ofc_config_init(&f->cfg, err, sizeof(err)), 0);
    f->cfg.commit_interval_ms = commit_interval_ms;
    const char *producer_settings[][2] = {{"bootstrap.servers", bootstraps},
                                          {"transactional.id", "transaction-test"},
                                          {"transaction.timeout.ms", "10000"}};
    ck_assert_msg(ofc_kafka_new(&f->producer, RD_KAFKA_PRODUCER, conf_of(producer_settings, 3),
                                NULL, err, sizeof(err)) == 0,
                  "%s", err);
    const char *consumer_settings[][2] = {{"bootstrap.servers", bootstraps},
                                          {"group.id", "transaction-test"},
                                          {"enable.auto.commit", "false"}};
    f->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf_of(consumer_settings, 3), err, sizeof(err));
    ck_assert_msg(f->consumer != NULL, "%s", err);
    ck_assert_msg(transaction_init(&f->txn, &f->producer, &f->cfg, err, sizeof(err)) == 0, "%s",
                  err);
}

static void fixture_stop(fixture *f)
{
    transaction_close(&f->txn);
    rd_kafka_consumer_close(f->consumer);
    rd_kafka_destroy(f->consumer);
    ofc_kafka_destroy(&f->producer);
    ofc_config_free(&f->cfg);
    rd_kafka_mock_cluster_destroy(f->mock);
    rd_kafka_destroy(f->mock_handle);
}

/* Produces one output inside the open transaction and counts it. */
static void produce_output(fixture *f)
{
    ck_assert_int_eq(rd_kafka_producev(f->producer.rk, RD_KAFKA_V_TOPIC("out"),
                                       RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    transaction_count(&f->txn);
}

/* The transaction's open flag and counters, and that nothing went fatal. */
static void assert_state(const transaction *txn, int open, uint64_t commits, uint64_t aborts)
{
    ck_assert_int_eq(txn->open, open);
    ck_assert_uint_eq(txn->commits, commits);
    ck_assert_uint_eq(txn->aborts, aborts);
    ck_assert_int_eq(txn->fatal, 0);
}

START_TEST(commits_when_the_interval_has_passed)
{
    fixture f;
    fixture_start(&f, 1000);
    transaction_begin_if_needed(&f.txn);
    assert_state(&f.txn, 1, 0, 0);
    transaction_maybe_commit(&f.txn, f.consumer, 5000); /* starts the clock; nothing to commit */
    produce_output(&f);
    transaction_maybe_commit(&f.txn, f.consumer, 5999);
    assert_state(&f.txn, 1, 0, 0);
    transaction_maybe_commit(&f.txn, f.consumer, 6000);
    assert_state(&f.txn, 0, 1, 0);

    transaction_begin_if_needed(&f.txn); /* the next one */
    produce_output(&f);
    transaction_commit(&f.txn, f.consumer);
    assert_state(&f.txn, 0, 2, 0);
    fixture_stop(&f);
}
END_TEST

START_TEST(a_failed_delivery_aborts_instead_of_committing)
{
    fixture f;
    fixture_start(&f, 1000);
    transaction_begin_if_needed(&f.txn);
    produce_output(&f);
    transaction_mark_failed(&f.txn, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    ck_assert_int_eq(f.txn.needs_abort, 1);
    ck_assert_str_eq(f.txn.error_text, "output not delivered: Local: Message timed out");
    transaction_begin_if_needed(&f.txn); /* refused until aborted */
    transaction_commit(&f.txn, f.consumer);
    assert_state(&f.txn, 1, 0, 0); /* not committed: the caller aborts */
    ck_assert_int_eq(f.txn.needs_abort, 1);
    transaction_abort_and_rewind(&f.txn, f.consumer);
    assert_state(&f.txn, 0, 0, 1);
    ck_assert_int_eq(f.txn.needs_abort, 0);
    transaction_begin_if_needed(&f.txn);
    assert_state(&f.txn, 1, 0, 1);
    fixture_stop(&f);
}
END_TEST

START_TEST(abort_ends_the_open_transaction)
{
    fixture f;
    fixture_start(&f, 1000);
    transaction_begin_if_needed(&f.txn);
    produce_output(&f);
    ck_assert_int_eq(transaction_abort(&f.txn), 0);
    assert_state(&f.txn, 0, 0, 1);
    fixture_stop(&f);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        commits_when_the_interval_has_passed,
        a_failed_delivery_aborts_instead_of_committing,
        abort_ends_the_open_transaction,
        NULL,
    };
    return check_run_tests("transaction", tests, 60);
}
