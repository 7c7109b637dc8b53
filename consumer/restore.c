#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <orderflow/ids.h>
#include <orderflow/envelope.h>

#include "restore.h"

int restorer_open(restorer *r, const of_config *cfg, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    const of_kafka_setting defaults[] = {
        {"fetch.wait.max.ms", "50"},
        /* Records are dropped as soon as their key is noted: a small
         * prefetch is enough and keeps the peak RSS of a restore low. */
        {"queued.max.messages.kbytes", "8192"},
        {NULL, NULL},
    };
    /* Reads only what it is assigned, commits nothing, and tells us when it
     * has caught up with each partition. */
    const of_kafka_setting forced[] = {
        {"group.id", "orderflow-restore"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
        {"isolation.level",
         cfg->guarantee == OF_EXACTLY_ONCE ? "read_committed" : "read_uncommitted"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = of_kafka_conf_new(cfg, defaults, forced, err, errlen);
    if (!conf) return -1;
    if (of_kafka_new(&r->kafka, RD_KAFKA_CONSUMER, conf, r, err, errlen) != 0) return -1;
    rd_kafka_poll_set_consumer(r->kafka.rk);
    return 0;
}

void restorer_close(restorer *r)
{
    if (!r->kafka.rk) return;
    rd_kafka_consumer_close(r->kafka.rk);
    of_kafka_destroy(&r->kafka);
}

size_t dead_letter_key(int64_t offset, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "dlq:%" PRId64, offset);
    return n < 0 ? 0 : (size_t)n;
}

static partition_state *state_for(partition_state **states, size_t count, int32_t partition)
{
    for (size_t i = 0; i < count; i++)
        if (states[i]->partition == partition) return states[i];
    return NULL;
}

static int header_equals(rd_kafka_message_t *msg, const char *name, const char *expected)
{
    const void *value;
    size_t len;
    if (of_kafka_header_get(msg, name, &value, &len) != 0) return 0;
    return len == strlen(expected) && memcmp(value, expected, len) == 0;
}

static void absorb(restorer *r, rd_kafka_message_t *msg, partition_state *ps, int is_output)
{
    const void *value;
    size_t len;
    r->records_read++;
    if (is_output) {
        if (of_kafka_header_get(msg, OF_IDEMPOTENCY_KEY_HEADER, &value, &len) == 0)
            of_dedup_insert(ps->emitted, value, len);
        return;
    }
    char partition[16];
    snprintf(partition, sizeof(partition), "%" PRId32, ps->partition);
    if (!header_equals(msg, OF_SOURCE_TOPIC_HEADER, r->cfg->topic_order_created) ||
        !header_equals(msg, OF_SOURCE_PARTITION_HEADER, partition) ||
        of_kafka_header_get(msg, OF_SOURCE_OFFSET_HEADER, &value, &len) != 0 || len > 20)
        return;
    char offset_text[24], key[32];
    memcpy(offset_text, value, len);
    offset_text[len] = '\0';
    char *end;
    long long offset = strtoll(offset_text, &end, 10);
    if (*end) return;
    size_t key_len = dead_letter_key(offset, key, sizeof(key));
    of_dedup_insert(ps->emitted, key, key_len);
}

int restorer_restore(restorer *r, partition_state **states, size_t count,
                     volatile sig_atomic_t *stop, int timeout_ms, char *err, size_t errlen)
{
    if (count == 0) return 0;
    const char *output = r->cfg->topic_data_processed;
    const char *dead_letter = r->cfg->topic_dead_letter;
    int64_t window = (int64_t)r->cfg->dedup_window;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)count * 2);
    for (size_t i = 0; i < count; i++) {
        of_dedup_clear(states[i]->emitted);
        rd_kafka_topic_partition_list_add(list, output, states[i]->partition)->offset =
            RD_KAFKA_OFFSET_TAIL(window);
        rd_kafka_topic_partition_list_add(list, dead_letter, states[i]->partition)->offset =
            RD_KAFKA_OFFSET_TAIL(window);
    }
    rd_kafka_resp_err_t rc = rd_kafka_assign(r->kafka.rk, list);
    if (rc) {
        snprintf(err, errlen, "restore: cannot assign %s/%s partitions: %s", output, dead_letter,
                 rd_kafka_err2str(rc));
        rd_kafka_topic_partition_list_destroy(list);
        return -1;
    }
    size_t remaining = (size_t)list->cnt;
    uint8_t *at_end = calloc((size_t)list->cnt, 1);
    int64_t deadline = of_monotonic_ms() + timeout_ms;
    int status = 0;
    unsigned wake_cursor = 0;
    while (remaining > 0) {
        if (*stop) {
            snprintf(err, errlen, "restore interrupted");
            status = -1;
            break;
        }
        if (of_monotonic_ms() > deadline) {
            snprintf(err, errlen,
                     "restore: %s and %s not read to the end within %d ms (%s); is the broker "
                     "reachable?",
                     output, dead_letter, timeout_ms,
                     r->kafka.error_count ? r->kafka.last_error_text : "no error reported");
            status = -1;
            break;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(r->kafka.rk, 10);
        if (!msg) {
            /* A restore reads faster than it absorbs: without this it spent
             * most of its time waiting (see of_kafka_wake_fetcher). */
            of_kafka_wake_fetcher(r->kafka.rk, &wake_cursor);
            continue;
        }
        int is_output = strcmp(rd_kafka_topic_name(msg->rkt), output) == 0;
        partition_state *ps = state_for(states, count, msg->partition);
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            for (int i = 0; i < list->cnt; i++) {
                if (!at_end[i] && list->elems[i].partition == msg->partition &&
                    strcmp(list->elems[i].topic, rd_kafka_topic_name(msg->rkt)) == 0) {
                    at_end[i] = 1;
                    remaining--;
                }
            }
        } else if (msg->err) {
            /* Transient fetch errors are retried by librdkafka; report the
             * rest, which would make the restored state incomplete. */
            if (msg->err != RD_KAFKA_RESP_ERR__TRANSPORT) {
                snprintf(err, errlen, "restore: reading %s [%" PRId32 "]: %s",
                         msg->rkt ? rd_kafka_topic_name(msg->rkt) : "?", msg->partition,
                         rd_kafka_message_errstr(msg));
                status = -1;
            }
        } else if (ps) {
            absorb(r, msg, ps, is_output);
        }
        rd_kafka_message_destroy(msg);
        if (status) break;
    }
    free(at_end);
    rd_kafka_assign(r->kafka.rk, NULL);
    rd_kafka_topic_partition_list_destroy(list);
    return status;
}
