#include <inttypes.h>

#include "cli/log.h"

#include "retry.h"

/* Seeking a partition back to a retried input; also the wait before a
 * failed seek is tried again. */
#define SEEK_TIMEOUT_MS 5000

void retries_init(retries *r, rd_kafka_t *consumer, const char *topic,
                  partition_state *const *states, int32_t partition_count)
{
    *r = (retries){
        .consumer = consumer,
        .topic = topic,
        .states = states,
        .partition_count = partition_count,
    };
}

unsigned retries_attempt(const partition_state *ps, int64_t offset)
{
    return ps->retry_offset == offset ? ps->retry_attempt : 1;
}

static void pause_or_resume(retries *r, int32_t partition, int pause)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, r->topic, partition);
    rd_kafka_resp_err_t rc = pause ? rd_kafka_pause_partitions(r->consumer, list)
                                   : rd_kafka_resume_partitions(r->consumer, list);
    if (!rc) rc = list->elems[0].err;
    /* Not fatal: a held partition's inputs wait anyway (partition_state_held). */
    if (rc)
        ofc_warn("cannot %s partition %" PRId32 ": %s", pause ? "pause" : "resume", partition,
                 rd_kafka_err2str(rc));
    rd_kafka_topic_partition_list_destroy(list);
}

void retries_hold(retries *r, partition_state *ps, int64_t offset, unsigned attempt, int64_t due_ms)
{
    if (ps->retry_offset < 0) r->waiting++;
    ps->retry_offset = offset;
    ps->retry_attempt = attempt + 1;
    ps->retry_due_ms = due_ms;
    pause_or_resume(r, ps->partition, 1);
}

void retries_give_up(retries *r, partition_state *ps, int64_t offset)
{
    if (ps->retry_offset >= 0 && !ps->gave_up) r->waiting--;
    if (!ps->gave_up) r->gave_up++;
    ps->gave_up = 1;
    ps->retry_due_ms = -1;
    ps->retry_offset = offset;
    pause_or_resume(r, ps->partition, 1);
}

int retries_release(retries *r, partition_state *ps)
{
    if (ps->retry_offset < 0) return 0;
    int was_given_up = ps->gave_up;
    if (was_given_up)
        r->gave_up--;
    else
        r->waiting--;
    if (ps->retry_due_ms >= 0 || was_given_up) pause_or_resume(r, ps->partition, 0);
    ps->retry_offset = -1;
    ps->retry_due_ms = -1;
    ps->retry_attempt = 0;
    ps->gave_up = 0;
    return was_given_up;
}

void retries_due(retries *r, int64_t now_ms)
{
    if (!r->waiting) return;
    for (int32_t i = 0; i < r->partition_count; i++) {
        partition_state *ps = r->states[i];
        if (!ps || ps->retry_offset < 0 || ps->gave_up || ps->retry_due_ms < 0 ||
            now_ms < ps->retry_due_ms)
            continue;
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, r->topic, i)->offset = ps->retry_offset;
        /* The seek also drops what was fetched after the input. */
        rd_kafka_error_t *error = rd_kafka_seek_partitions(r->consumer, list, SEEK_TIMEOUT_MS);
        rd_kafka_resp_err_t rc = error ? rd_kafka_error_code(error) : list->elems[0].err;
        if (rc) {
            /* The partition stays paused meanwhile. */
            ofc_warn("cannot seek partition %" PRId32 " back to offset %" PRId64
                     " for a retry: %s; trying again in %d s",
                     i, ps->retry_offset,
                     error ? rd_kafka_error_string(error) : rd_kafka_err2str(rc),
                     SEEK_TIMEOUT_MS / 1000);
            ps->retry_due_ms = now_ms + SEEK_TIMEOUT_MS;
        } else {
            ps->retry_due_ms = -1;
            pause_or_resume(r, i, 0);
        }
        if (error) rd_kafka_error_destroy(error);
        rd_kafka_topic_partition_list_destroy(list);
    }
}
