/* Where a read of a topic's last retention window starts. */
#include <stdio.h>
#include <unistd.h>

#include <orderflow/ids.h>

#include "window.h"

/* A cluster that just started (or is moving a leader) answers lookups with
 * these for a while: asked again until WINDOW_RETRY_MS has passed. */
#define WINDOW_RETRY_MS 30000

static int retriable(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return 1;
    default:
        return 0;
    }
}

static rd_kafka_resp_err_t attempt(rd_kafka_t *rk, const char *topic, int count, int64_t since_ms,
                                   int timeout_ms, ofc_range_part *parts)
{
    rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(count);
    for (int p = 0; p < count; p++)
        rd_kafka_topic_partition_list_add(at, topic, p);
    rd_kafka_topic_partition_list_t *zero = rd_kafka_topic_partition_list_copy(at);
    rd_kafka_resp_err_t rc = ofc_kafka_offsets_at(rk, at, since_ms, timeout_ms);
    if (!rc) rc = ofc_kafka_offsets_at(rk, zero, 0, timeout_ms);
    for (int p = 0; !rc && p < count; p++) {
        int64_t low = 0, high = 0;
        rc = rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, timeout_ms);
        if (rc) break;
        int64_t found = at->elems[p].offset;
        if (found < 0 && zero->elems[p].offset < 0 && high > low)
            found = low; /* no timestamp lookups here: read all, filter */
        int64_t start = found < 0 ? high : found;
        parts[p] = (ofc_range_part){topic, p, start, high, start >= high};
    }
    rd_kafka_topic_partition_list_destroy(at);
    rd_kafka_topic_partition_list_destroy(zero);
    return rc;
}

int retention_window_parts(rd_kafka_t *rk, const char *topic, int count, int64_t since_ms,
                           int timeout_ms, ofc_range_part *parts, char *err, size_t errlen)
{
    int64_t deadline = of_monotonic_ms() + WINDOW_RETRY_MS;
    for (;;) {
        rd_kafka_resp_err_t rc = attempt(rk, topic, count, since_ms, timeout_ms, parts);
        if (!rc) return 0;
        if (!retriable(rc) || of_monotonic_ms() > deadline) {
            snprintf(err, errlen, "cannot find the records of the retention window in '%s': %s",
                     topic, rd_kafka_err2str(rc));
            return -1;
        }
        usleep(200 * 1000);
    }
}
