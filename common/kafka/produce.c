/* Producing with retries while librdkafka's queue is full, as kcat's
 * produce() does: the queue empties only as delivery reports are served, so
 * each wait serves them. */
#include "kafka/kafka.h"

#include <orderflow/ids.h>

rd_kafka_resp_err_t ofc_kafka_produce(rd_kafka_t *rk, const ofc_kafka_record *rec,
                                      const ofc_kafka_retry *retry)
{
    int64_t deadline_ms = -1; /* set at the first full queue, when there is a bound */
    for (;;) {
        rd_kafka_resp_err_t rc;
        if (rec->topic)
            rc = rd_kafka_producev(
                rk, RD_KAFKA_V_RKT(rec->topic), RD_KAFKA_V_PARTITION(rec->partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(rec->key, rec->key_len),
                RD_KAFKA_V_VALUE((void *)rec->value, rec->value_len),
                RD_KAFKA_V_HEADERS(rec->headers), RD_KAFKA_V_OPAQUE(rec->opaque), RD_KAFKA_V_END);
        else
            rc = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(rec->topic_name), RD_KAFKA_V_PARTITION(rec->partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(rec->key, rec->key_len),
                RD_KAFKA_V_VALUE((void *)rec->value, rec->value_len),
                RD_KAFKA_V_HEADERS(rec->headers), RD_KAFKA_V_OPAQUE(rec->opaque), RD_KAFKA_V_END);
        if (rc != RD_KAFKA_RESP_ERR__QUEUE_FULL || retry->max_wait_ms == 0) return rc;
        if (retry->stop && retry->stop(retry->opaque)) return rc;
        int wait_ms = retry->wait_ms;
        if (retry->max_wait_ms > 0) {
            int64_t now = of_monotonic_ms();
            if (deadline_ms < 0) deadline_ms = now + retry->max_wait_ms;
            if (now >= deadline_ms) return rc;
            if (deadline_ms - now < wait_ms) wait_ms = (int)(deadline_ms - now);
        }
        if (retry->wait)
            retry->wait(retry->opaque, wait_ms);
        else
            rd_kafka_poll(rk, wait_ms);
    }
}
