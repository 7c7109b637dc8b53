/* Where a read of a topic's last retention window starts. */
#include <stdio.h>

#include "window.h"

int window_offsets(rd_kafka_t *rk, const char *topic, int count, int64_t since_ms, int timeout_ms,
                   int64_t *start, window_part *parts, char *err, size_t errlen)
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
        if (rc) break;
        if (at->elems[p].err) rc = at->elems[p].err;
        parts[p].end = high;
        int64_t found = at->elems[p].offset;
        if (found < 0 && zero->elems[p].offset < 0 && high > low)
            found = low; /* no timestamp lookups here: read all, filter */
        start[p] = found < 0 ? high : found;
        parts[p].done = start[p] >= high;
    }
    rd_kafka_topic_partition_list_destroy(at);
    rd_kafka_topic_partition_list_destroy(zero);
    if (rc) {
        snprintf(err, errlen, "cannot find the records of the retention window in '%s': %s", topic,
                 rd_kafka_err2str(rc));
        return -1;
    }
    return 0;
}
