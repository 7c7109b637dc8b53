/* Topic partition counts, and telling "no broker reachable" from other failures. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <orderflow/ids.h>
#include "kafka/kafka.h"

/* A broker that is just starting gets this long before "all brokers down"
 * counts as unreachable; the configured timeout still bounds the wait. */
#define OF_UNREACHABLE_GRACE_MS 2000
#define OF_METADATA_SLICE_MS 500

static void fill_counts(const struct rd_kafka_metadata *md, ofc_topic_info *topics, size_t count)
{
    for (size_t t = 0; t < count; t++) {
        topics[t].partition_count = 0;
        for (int i = 0; i < md->topic_cnt; i++) {
            const struct rd_kafka_metadata_topic *mt = &md->topics[i];
            if (strcmp(mt->topic, topics[t].name) == 0 && mt->err == RD_KAFKA_RESP_ERR_NO_ERROR)
                topics[t].partition_count = mt->partition_cnt;
        }
    }
}

/* A topic missing from the cluster's metadata may exist but be hidden: Kafka
 * leaves out of an all-topics answer the topics the client may not Describe.
 * Asked for by name, such a topic says TOPIC_AUTHORIZATION_FAILED. Returns
 * 0, or EX_NOPERM with err naming the topic and the grant. */
static int check_hidden(ofc_kafka *kafka, const ofc_topic_info *topics, size_t count,
                        int timeout_ms, char *err, size_t errlen)
{
    for (size_t t = 0; t < count; t++) {
        if (topics[t].partition_count > 0) continue;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(kafka->rk, topics[t].name, NULL);
        if (!rkt) continue;
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t rc = rd_kafka_metadata(kafka->rk, 0, rkt, &md, timeout_ms);
        int denied = rc == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
                     md->topics[0].err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        if (md) rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        if (denied)
            return ofc_kafka_denied(kafka, "Describe", "topic", topics[t].name, 0, err, errlen);
    }
    return 0;
}

int ofc_kafka_describe_topics(ofc_kafka *kafka, const char *brokers, ofc_topic_info *topics,
                              size_t topic_count, int timeout_ms, char *err, size_t errlen)
{
    int64_t start = of_monotonic_ms();
    rd_kafka_resp_err_t last = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (;;) {
        int64_t elapsed = of_monotonic_ms() - start;
        int64_t remaining = timeout_ms - elapsed;
        if (remaining <= 0) break;
        const struct rd_kafka_metadata *md = NULL;
        int slice = remaining < OF_METADATA_SLICE_MS ? (int)remaining : OF_METADATA_SLICE_MS;
        last = rd_kafka_metadata(kafka->rk, 1, NULL, &md, slice);
        if (last == RD_KAFKA_RESP_ERR_NO_ERROR) {
            fill_counts(md, topics, topic_count);
            rd_kafka_metadata_destroy(md);
            remaining = timeout_ms - (of_monotonic_ms() - start);
            return check_hidden(kafka, topics, topic_count,
                                remaining > OF_METADATA_SLICE_MS ? (int)remaining
                                                                 : OF_METADATA_SLICE_MS,
                                err, errlen);
        }
        /* Serves the error callback, which is how "connection refused" shows. */
        rd_kafka_poll(kafka->rk, 0);
        /* A wrong password or an untrusted certificate fails the same way
         * on every try: say so now, not after the timeout. */
        if (ofc_kafka_security_failed(kafka)) return ofc_kafka_security_explain(kafka, err, errlen);
        if (kafka->fatal) break;
        if (kafka->connection_errors && of_monotonic_ms() - start >= OF_UNREACHABLE_GRACE_MS) break;
        if (last != RD_KAFKA_RESP_ERR__TIMED_OUT && last != RD_KAFKA_RESP_ERR__TRANSPORT) break;
    }
    if (kafka->fatal || (last != RD_KAFKA_RESP_ERR__TIMED_OUT &&
                         last != RD_KAFKA_RESP_ERR__TRANSPORT && !kafka->connection_errors)) {
        snprintf(err, errlen, "cannot read cluster metadata from %s: %s", brokers,
                 kafka->fatal ? kafka->last_error_text : rd_kafka_err2str(last));
        return ofc_kafka_exit_code(last);
    }
    snprintf(err, errlen,
             "no Kafka broker reachable at %s after %.1f s (%s); start one (orderflow-broker "
             "for development; Apache Kafka with scripts/kafka.sh up, no Docker needed, or "
             "docker compose -f kafka-compose.yml up) or pass -b HOST:PORT",
             brokers, (double)(of_monotonic_ms() - start) / 1000.0,
             kafka->error_count ? kafka->last_error_text : rd_kafka_err2str(last));
    return EX_UNAVAILABLE;
}
