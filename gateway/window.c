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
                                   int timeout_ms, int64_t *start, window_part *parts)
{
    rd_kafka_topic_partition_list_t *at = rd_kafka_topic_partition_list_new(count);
    rd_kafka_topic_partition_list_t *zero = rd_kafka_topic_partition_list_new(count);
    for (int p = 0; p < count; p++) {
        rd_kafka_topic_partition_list_add(at, topic, p)->offset = since_ms;
        rd_kafka_topic_partition_list_add(zero, topic, p)->offset = 0;
    }
    rd_kafka_resp_err_t rc = rd_kafka_offsets_for_times(rk, at, timeout_ms);
    if (!rc) rc = rd_kafka_offsets_for_times(rk, zero, timeout_ms);
    for (int p = 0; !rc && p < count; p++) {
        int64_t low = 0, high = 0;
        rc = rd_kafka_query_watermark_offsets(rk, topic, p, &low, &high, timeout_ms);
        if (!rc) rc = at->elems[p].err ? at->elems[p].err : zero->elems[p].err;
        if (rc) break;
        parts[p].end = high;
        int64_t found = at->elems[p].offset;
        if (found < 0 && zero->elems[p].offset < 0 && high > low)
            found = low; /* no timestamp lookups here: read all, filter */
        start[p] = found < 0 ? high : found;
        parts[p].done = start[p] >= high;
    }
    rd_kafka_topic_partition_list_destroy(at);
    rd_kafka_topic_partition_list_destroy(zero);
    return rc;
}

int window_offsets(rd_kafka_t *rk, const char *topic, int count, int64_t since_ms, int timeout_ms,
                   int64_t *start, window_part *parts, char *err, size_t errlen)
{
    int64_t deadline = of_monotonic_ms() + WINDOW_RETRY_MS;
    for (;;) {
        rd_kafka_resp_err_t rc = attempt(rk, topic, count, since_ms, timeout_ms, start, parts);
        if (!rc) return 0;
        if (!retriable(rc) || of_monotonic_ms() > deadline) {
            snprintf(err, errlen, "cannot find the records of the retention window in '%s': %s",
                     topic, rd_kafka_err2str(rc));
            return -1;
        }
        usleep(200 * 1000);
    }
}
