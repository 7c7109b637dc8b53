#include "mock.h"

#include "cli/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* See broker_mock_create_topic(). */
#define MOCK_OP_GAP_NS (5 * 1000 * 1000)

struct broker_mock {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mcluster;
};

/* librdkafka logs from its own threads (including the mock cluster's); one
 * fprintf per line keeps lines whole. */
static void mock_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* The bookkeeping handle has no bootstrap.servers on purpose: it never
     * connects anywhere, so librdkafka's warning about it would only
     * mislead. */
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "No `bootstrap.servers` configured")) return;
    ofc_warn("librdkafka: %d|%s| %s", level, fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err,
                    size_t errlen)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "cannot set librdkafka property %s=%s: %s", name, value, errstr);
        return -1;
    }
    return 0;
}

int broker_mock_new(broker_mock **out, int debug_level, char *err, size_t errlen)
{
    *out = NULL;
    broker_mock *mock = calloc(1, sizeof(*mock));
    if (!mock) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, mock_log_cb);
    if (conf_set(conf, "client.id", "orderflow-broker", err, errlen) != 0 ||
        (debug_level == 1 && conf_set(conf, "debug", "mock", err, errlen) != 0) ||
        (debug_level >= 2 && conf_set(conf, "debug", "all", err, errlen) != 0)) {
        rd_kafka_conf_destroy(conf);
        free(mock);
        return -1;
    }

    /* A producer is the lightest handle: without bootstrap.servers and
     * without messages it opens no connections of its own. */
    char errstr[512];
    mock->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!mock->rk) {
        /* On failure the configuration still belongs to us. */
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "cannot create the librdkafka handle for the mock cluster: %s",
                 errstr);
        free(mock);
        return -1;
    }

    /* One broker: a development broker needs no replication, and with a
     * single broker every partition leader and every group or transaction
     * coordinator is that broker, which the relay on the fixed port makes
     * reachable for bootstrapping. */
    mock->mcluster = rd_kafka_mock_cluster_new(mock->rk, 1);
    if (!mock->mcluster) {
        snprintf(err, errlen,
                 "librdkafka could not create the mock cluster (its log messages above say why)");
        rd_kafka_destroy(mock->rk);
        free(mock);
        return -1;
    }

    *out = mock;
    return 0;
}

const char *broker_mock_bootstraps(const broker_mock *mock)
{
    return rd_kafka_mock_cluster_bootstraps(mock->mcluster);
}

rd_kafka_mock_cluster_t *broker_mock_cluster(broker_mock *mock)
{
    return mock->mcluster;
}

int broker_mock_create_topic(broker_mock *mock, const char *topic, int partitions, char *err,
                             size_t errlen)
{
    /* Replication factor 1: there is one broker to hold the replicas. */
    rd_kafka_resp_err_t rerr = rd_kafka_mock_topic_create(mock->mcluster, topic, partitions, 1);

    /* librdkafka 2.0.2's mock thread serves its control queue and only then
     * drains the queue's wake-up pipe, so a control request sent right after
     * the previous reply can have its wake-up byte swallowed and wait for the
     * thread's 1 s poll timeout (measured: 1 start in 3 took 1 s longer with
     * three back-to-back topic creations, none in 30 with this pause). */
    nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = MOCK_OP_GAP_NS}, NULL);
    if (rerr) {
        snprintf(err, errlen, "cannot create topic '%s' with %d partitions: %s", topic, partitions,
                 rd_kafka_err2str(rerr));
        return -1;
    }
    return 0;
}

void broker_mock_destroy(broker_mock *mock)
{
    if (!mock) return;
    /* The cluster first: it uses the handle for its timers and logging. */
    if (mock->mcluster) rd_kafka_mock_cluster_destroy(mock->mcluster);
    if (mock->rk) rd_kafka_destroy(mock->rk);
    free(mock);
}
