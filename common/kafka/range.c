/* Reading partitions from an offset to their end: the restores, the
 * gateway's view and redrive all read this way. */
#include <string.h>

#include <orderflow/ids.h>

#include "kafka/kafka.h"

rd_kafka_resp_err_t ofc_range_open(ofc_range *r, rd_kafka_t *rk, ofc_range_part *parts, int count)
{
    r->rk = rk;
    r->parts = parts;
    r->count = count;
    r->left = 0;
    r->bounded = 0;
    r->wake_cursor = 0;
    r->woken_ms = 0;
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(count);
    for (int i = 0; i < count; i++) {
        ofc_range_part *part = &parts[i];
        if (part->end != OFC_RANGE_TO_EOF) {
            r->bounded = 1;
            if (part->start >= 0 && part->start >= part->end) part->done = 1;
        }
        if (!part->done) r->left++;
        /* An empty part has nothing to wait for; a live view reads on. */
        if (!part->done || r->follow)
            rd_kafka_topic_partition_list_add(assign, part->topic, part->partition)->offset =
                part->start;
    }
    rd_kafka_resp_err_t rc = assign->cnt ? rd_kafka_assign(rk, assign) : RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_topic_partition_list_destroy(assign);
    r->queue = rc ? NULL : rd_kafka_queue_get_consumer(rk);
    return rc;
}

int ofc_range_find(const ofc_range *r, const rd_kafka_message_t *msg)
{
    if (!msg->rkt) return -1;
    int32_t partition = msg->partition;
    const char *topic = rd_kafka_topic_name(msg->rkt);
    /* Parts are mostly laid out as partitions 0..n-1 of one topic. */
    if (partition >= 0 && partition < r->count && r->parts[partition].partition == partition &&
        strcmp(r->parts[partition].topic, topic) == 0)
        return partition;
    for (int i = 0; i < r->count; i++)
        if (r->parts[i].partition == partition && strcmp(r->parts[i].topic, topic) == 0) return i;
    return -1;
}

static void mark_done(ofc_range *r, int i)
{
    if (r->parts[i].done) return;
    r->parts[i].done = 1;
    r->left--;
    if (r->on_done) r->on_done(r->opaque, i);
}

/* Whether msg goes to the caller; marks its part done at its end. */
static int keep(ofc_range *r, const rd_kafka_message_t *msg)
{
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        int i = ofc_range_find(r, msg);
        if (i < 0 || (r->parts[i].done && !r->follow)) return 0;
        mark_done(r, i);
        return 1;
    }
    /* Errors always; records checked only when some part has an end: a
     * restore read to EOF pays nothing per record. */
    if (msg->err || !r->bounded) return 1;
    int i = ofc_range_find(r, msg);
    if (i < 0) return 0;
    ofc_range_part *part = &r->parts[i];
    if (part->end == OFC_RANGE_TO_EOF) return 1;
    if (msg->offset >= part->end) {
        mark_done(r, i);
        return r->follow;
    }
    if (part->done) return r->follow;
    if (msg->offset + 1 >= part->end) mark_done(r, i);
    return 1;
}

/* librdkafka 2.0.2 fetches again only when its broker thread wakes up
 * (ofc_kafka_wake_fetcher): wake it when the queue runs low, at most every
 * this often (each wake is a round trip). */
#define WAKE_EVERY_MS 5

size_t ofc_range_read(ofc_range *r, rd_kafka_message_t **batch, size_t max, int timeout_ms)
{
    if (!r->queue || max == 0) return 0;
    /* Wait for one record, then take what else is fetched without waiting
     * (a batch call alone would wait out its timeout for a full batch at the
     * end of each partition). */
    batch[0] = rd_kafka_consume_queue(r->queue, timeout_ms);
    if (!batch[0]) {
        /* A reader faster than the fetches spent most of its time waiting
         * without this (see ofc_kafka_wake_fetcher). */
        if (r->wake_fetcher) ofc_kafka_wake_fetcher(r->rk, &r->wake_cursor);
        return 0;
    }
    ssize_t more = max > 1 ? rd_kafka_consume_batch_queue(r->queue, 0, batch + 1, max - 1) : 0;
    size_t n = 1 + (more > 0 ? (size_t)more : 0);
    if (r->wake_fetcher) {
        /* With less than two batches left, wake the fetcher now, so that the
         * next fetch arrives while these are taken in instead of after an
         * empty poll (a 12 x 100,000 restore ran dry ~35 times otherwise). */
        int64_t now = of_monotonic_ms();
        if ((size_t)rd_kafka_queue_length(r->queue) < 2 * max &&
            now - r->woken_ms >= WAKE_EVERY_MS) {
            ofc_kafka_wake_fetcher(r->rk, &r->wake_cursor);
            r->woken_ms = now;
        }
    }
    size_t kept = 0;
    for (size_t m = 0; m < n; m++) {
        if (keep(r, batch[m]))
            batch[kept++] = batch[m];
        else
            rd_kafka_message_destroy(batch[m]);
    }
    return kept;
}

void ofc_range_close(ofc_range *r)
{
    if (r->queue) rd_kafka_queue_destroy(r->queue);
    r->queue = NULL;
    if (r->rk) rd_kafka_assign(r->rk, NULL);
    r->rk = NULL;
}

rd_kafka_resp_err_t ofc_kafka_offsets_at(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list,
                                         int64_t ms, int timeout_ms)
{
    for (int i = 0; i < list->cnt; i++)
        list->elems[i].offset = ms;
    rd_kafka_resp_err_t rc = rd_kafka_offsets_for_times(rk, list, timeout_ms);
    for (int i = 0; i < list->cnt && !rc; i++)
        rc = list->elems[i].err;
    return rc;
}
