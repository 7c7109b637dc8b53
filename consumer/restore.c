#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <orderflow/ids.h>
#include <orderflow/envelope.h>

#include "restore.h"

static int restore_connect(restorer *r, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(r->conf);
    if (!conf) {
        snprintf(err, errlen, "restore: out of memory");
        return -1;
    }
    if (ofc_kafka_new(&r->kafka, RD_KAFKA_CONSUMER, conf, r, err, errlen) != 0) return -1;
    rd_kafka_poll_set_consumer(r->kafka.rk);
    return 0;
}

static void restore_disconnect(restorer *r)
{
    if (!r->kafka.rk) return;
    rd_kafka_consumer_close(r->kafka.rk);
    ofc_kafka_destroy(&r->kafka);
}

/* Fetch responses of at most 1 MB (librdkafka's default here is
 * queued.max.messages.kbytes, 8 MB), unless the user chose a size: they stay
 * under orderflow-consumer's mmap threshold (main.c), so each is a reused
 * heap block, not fresh pages to fault in and zero (840 MB of them for a
 * 12 x 100,000 restore: 0.3-0.4 s of system time), and it is still in the
 * cache when its records are absorbed. The wake-up before the queue runs dry
 * (below) keeps the extra round trips off the critical path. librdkafka
 * requires at least message.max.bytes. */
static int small_fetches(rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    char value[32];
    size_t len = sizeof(value);
    if (rd_kafka_conf_get(conf, "fetch.max.bytes", value, &len) != RD_KAFKA_CONF_OK ||
        strcmp(value, "52428800") != 0)
        return 0;
    len = sizeof(value);
    long long message_max = 0;
    if (rd_kafka_conf_get(conf, "message.max.bytes", value, &len) == RD_KAFKA_CONF_OK)
        message_max = strtoll(value, NULL, 10);
    snprintf(value, sizeof(value), "%lld", message_max > 1000000 ? message_max : 1000000);
    char why[256];
    if (rd_kafka_conf_set(conf, "fetch.max.bytes", value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "restore: fetch.max.bytes=%s: %s", value, why);
        return -1;
    }
    return 0;
}

int restorer_open(restorer *r, const ofc_config *cfg, char *err, size_t errlen)
{
    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    const ofc_kafka_setting defaults[] = {
        {"fetch.wait.max.ms", "50"},
        /* Records are dropped as soon as their key is noted: a small
         * prefetch is enough and keeps the peak RSS of a restore low. */
        {"queued.max.messages.kbytes", "8192"},
        {NULL, NULL},
    };
    /* Reads only what it is assigned, commits nothing, and tells us when it
     * has caught up with each partition. */
    const ofc_kafka_setting forced[] = {
        {"group.id", "orderflow-restore"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
        {"isolation.level",
         cfg->guarantee == OFC_EXACTLY_ONCE ? "read_committed" : "read_uncommitted"},
        {NULL, NULL},
    };
    r->conf = ofc_kafka_conf_new(cfg, defaults, forced, err, errlen);
    if (!r->conf) return -1;
    if (small_fetches(r->conf, err, errlen) != 0) return -1;
    return restore_connect(r, err, errlen);
}

void restorer_close(restorer *r)
{
    restore_disconnect(r);
    if (r->conf) rd_kafka_conf_destroy(r->conf);
    r->conf = NULL;
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
    if (ofc_kafka_header_get(msg, name, &value, &len) != 0) return 0;
    return len == strlen(expected) && memcmp(value, expected, len) == 0;
}

static void absorb(restorer *r, rd_kafka_message_t *msg, partition_state *ps, int is_output)
{
    const void *value;
    size_t len;
    r->records_read++;
    if (is_output) {
        if (ofc_kafka_header_get(msg, OF_IDEMPOTENCY_KEY_HEADER, &value, &len) == 0)
            of_dedup_insert(ps->emitted, value, len);
        return;
    }
    char partition[16];
    snprintf(partition, sizeof(partition), "%" PRId32, ps->partition);
    if (!header_equals(msg, OF_SOURCE_TOPIC_HEADER, r->cfg->topic_order_created) ||
        !header_equals(msg, OF_SOURCE_PARTITION_HEADER, partition) ||
        ofc_kafka_header_get(msg, OF_SOURCE_OFFSET_HEADER, &value, &len) != 0 || len > 20)
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

/* How many records ahead of the one being absorbed its set is prefetched:
 * enough to cover a cache miss with the work of absorbing the ones between. */
#define PREFETCH_AHEAD 8

/* Whether msg is from the output topic. Its records share one topic handle
 * while assigned: the name is compared once, not per record. */
static int from_output(rd_kafka_message_t *msg, const char *output, const rd_kafka_topic_t **seen)
{
    if (msg->rkt == *seen) return 1;
    if (strcmp(rd_kafka_topic_name(msg->rkt), output) != 0) return 0;
    *seen = msg->rkt;
    return 1;
}

static void prefetch(rd_kafka_message_t *msg, partition_state **states, size_t count,
                     const char *output, const rd_kafka_topic_t **seen)
{
    const void *value;
    size_t len;
    partition_state *ps;
    /* Dead letters are few: only outputs are worth it. */
    if (msg->err || !(ps = state_for(states, count, msg->partition)) ||
        !from_output(msg, output, seen) ||
        ofc_kafka_header_get(msg, OF_IDEMPOTENCY_KEY_HEADER, &value, &len) != 0)
        return;
    of_dedup_prefetch(ps->emitted, value, len);
}

/* Up to this many records are taken from librdkafka per call: one wait, one
 * clock read and one deadline check per batch rather than per record. */
#define RESTORE_BATCH 1024

/* Sets each part's start to the first record of the last `window` records
 * of its partition (or its log start, when it holds fewer) and returns the
 * records to read in counts[], so the sets can be sized before reading.
 * Two ListOffsets round trips in all. -1 when the offsets cannot be had:
 * the caller then starts at the tail and lets the sets grow, and its loop
 * waits for the broker (a query blocks, deaf to *stop: hence a short
 * timeout of its own). */
#define WINDOW_QUERY_TIMEOUT_MS 2000

static int last_records_start(rd_kafka_t *rk, ofc_range_part *parts, int count, int64_t window,
                              int64_t *counts)
{
    rd_kafka_topic_partition_list_t *low = rd_kafka_topic_partition_list_new(count);
    for (int i = 0; i < count; i++)
        rd_kafka_topic_partition_list_add(low, parts[i].topic, parts[i].partition);
    rd_kafka_topic_partition_list_t *high = rd_kafka_topic_partition_list_copy(low);
    int status =
        ofc_kafka_offsets_at(rk, low, RD_KAFKA_OFFSET_BEGINNING, WINDOW_QUERY_TIMEOUT_MS) ||
                ofc_kafka_offsets_at(rk, high, RD_KAFKA_OFFSET_END, WINDOW_QUERY_TIMEOUT_MS)
            ? -1
            : 0;
    for (int i = 0; i < count && status == 0; i++) {
        if (low->elems[i].offset < 0 || high->elems[i].offset < 0) {
            status = -1;
            break;
        }
        int64_t from = high->elems[i].offset - window;
        if (from < low->elems[i].offset) from = low->elems[i].offset;
        counts[i] = high->elems[i].offset - from;
        parts[i].start = from;
    }
    if (status != 0)
        for (int i = 0; i < count; i++) {
            parts[i].start = RD_KAFKA_OFFSET_TAIL(window);
            counts[i] = -1;
        }
    rd_kafka_topic_partition_list_destroy(low);
    rd_kafka_topic_partition_list_destroy(high);
    return status;
}

static int restore(restorer *r, partition_state **states, size_t count, volatile sig_atomic_t *stop,
                   int timeout_ms, char *err, size_t errlen);

int restorer_restore(restorer *r, partition_state **states, size_t count,
                     volatile sig_atomic_t *stop, int timeout_ms, char *err, size_t errlen)
{
    if (count == 0) return 0;
    if (!r->kafka.rk && restore_connect(r, err, errlen) != 0) return -1;
    int status = restore(r, states, count, stop, timeout_ms, err, errlen);
    restore_disconnect(r);
    return status;
}

static int restore(restorer *r, partition_state **states, size_t count, volatile sig_atomic_t *stop,
                   int timeout_ms, char *err, size_t errlen)
{
    const char *output = r->cfg->topic_data_processed;
    const char *dead_letter = r->cfg->topic_dead_letter;
    int64_t window = (int64_t)r->cfg->dedup_window;
    int part_count = (int)count * 2;
    /* Each state's output and dead-letter partitions, read to their EOF:
     * what is written while the restore runs is read too. */
    ofc_range_part *parts = calloc((size_t)part_count, sizeof(*parts));
    int64_t *counts = calloc((size_t)part_count, sizeof(*counts));
    rd_kafka_message_t **batch = malloc(RESTORE_BATCH * sizeof(*batch));
    if (!parts || !counts || !batch) {
        snprintf(err, errlen, "restore: out of memory");
        free(parts);
        free(counts);
        free(batch);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        of_dedup_clear(states[i]->emitted);
        parts[2 * i] = (ofc_range_part){output, states[i]->partition, 0, OFC_RANGE_TO_EOF, 0};
        parts[2 * i + 1] =
            (ofc_range_part){dead_letter, states[i]->partition, 0, OFC_RANGE_TO_EOF, 0};
    }
    int64_t deadline = of_monotonic_ms() + timeout_ms;
    if (last_records_start(r->kafka.rk, parts, part_count, window, counts) == 0) {
        for (size_t i = 0; i < count; i++)
            /* Best effort: without the room the set grows as it used to. */
            of_dedup_reserve(states[i]->emitted, (size_t)(counts[2 * i] + counts[2 * i + 1]));
        /* An empty window (as a dead-letter partition mostly is) is not
         * assigned at all: there is nothing to wait for. */
        for (int i = 0; i < part_count; i++)
            if (counts[i] == 0) parts[i].done = 1;
    }
    ofc_range range = {.wake_fetcher = 1};
    rd_kafka_resp_err_t rc = ofc_range_open(&range, r->kafka.rk, parts, part_count);
    if (rc) {
        snprintf(err, errlen, "restore: cannot assign %s/%s partitions: %s", output, dead_letter,
                 rd_kafka_err2str(rc));
        ofc_range_close(&range);
        free(parts);
        free(counts);
        free(batch);
        return -1;
    }
    int status = 0;
    const rd_kafka_topic_t *output_rkt = NULL;
    while (range.left > 0 && status == 0) {
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
        size_t n = ofc_range_read(&range, batch, RESTORE_BATCH, 10);
        for (size_t m = 0; m < n; m++) {
            rd_kafka_message_t *msg = batch[m];
            if (status == 0 && m + PREFETCH_AHEAD < n)
                prefetch(batch[m + PREFETCH_AHEAD], states, count, output, &output_rkt);
            if (status == 0 && msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* Transient fetch errors are retried by librdkafka; report
                 * the rest, which would make the restored state incomplete. */
                if (msg->err != RD_KAFKA_RESP_ERR__TRANSPORT) {
                    snprintf(err, errlen, "restore: reading %s [%" PRId32 "]: %s",
                             msg->rkt ? rd_kafka_topic_name(msg->rkt) : "?", msg->partition,
                             rd_kafka_message_errstr(msg));
                    status = -1;
                }
                if (ofc_kafka_refusal(&r->kafka, msg->err,
                                      msg->rkt ? rd_kafka_topic_name(msg->rkt) : NULL, NULL, err,
                                      errlen))
                    status = EX_NOPERM;
            } else if (status == 0 && !msg->err) {
                partition_state *ps = state_for(states, count, msg->partition);
                if (ps) absorb(r, msg, ps, from_output(msg, output, &output_rkt));
            }
            rd_kafka_message_destroy(msg);
        }
    }
    ofc_range_close(&range);
    free(parts);
    free(counts);
    free(batch);
    return status;
}
