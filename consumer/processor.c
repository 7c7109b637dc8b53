#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/kafka.h>
#include <orderflow/processing.h>

#include "partition_state.h"
#include "processor.h"
#include "restore.h"
#include "transaction.h"

#define PROGRAM "orderflow-consumer process"
#define BATCH_SIZE 1000
#define RING_CAPACITY (1u << 16)
/* Stop taking input while this many outputs wait for the broker. */
#define OUTQ_HIGH_WATER 10000
#define WAKE_AFTER 4096 /* a backlog, not a trickle: see loop() */
#define STORE_INTERVAL_MS 100
#define UNAVAILABLE_REPORT_INTERVAL_MS 5000
#define RESTORE_TIMEOUT_MS 120000
#define CLOSE_WAIT_MS 10000
#define MAX_PARTITIONS 100000

typedef struct processor {
    const processor_options *opts;
    const of_config *cfg;
    of_kafka consumer;
    of_kafka producer;
    rd_kafka_queue_t *queue;
    rd_kafka_topic_t *output_topic;
    rd_kafka_topic_t *dead_letter_topic;
    restorer restore;
    transaction txn;
    int eos;

    partition_state **states; /* by partition number; NULL when not assigned */
    int32_t partition_count;
    uint64_t states_created; /* gives each new state its own sequence range */

    of_decoder *decoder;
    of_encoder *encoder;
    of_idgen ids;
    char source[300];
    yajl_gen line_json;

    size_t max_message_bytes; /* the producer's message.max.bytes */
    int commit_interval_ms;   /* the consumer's auto.commit.interval.ms */
    processor_counters c;
    int fatal_status;
    int64_t last_store_ms;
    int64_t last_commit_ms;
    int offsets_uncommitted; /* stored since the last commit */
    int64_t last_stats_ms;
    int64_t last_unavailable_report_ms;
} processor;

/* Records the first fatal error (later ones are consequences) and says it. */
__attribute__((format(printf, 3, 4))) static void fail(processor *p, int status, const char *fmt,
                                                       ...)
{
    if (p->fatal_status) return;
    p->fatal_status = status;
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, PROGRAM ": ");
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

/* ---- delivery of outputs ---------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    processor *p = of_kafka_app_opaque(opaque);
    if (msg->err) {
        if (p->eos) {
            /* The transaction will abort and the inputs be re-read. */
            transaction_mark_failed(&p->txn, msg->err);
            return;
        }
        /* Its input offset is never committed, so a restart re-processes it. */
        char detail[512];
        snprintf(detail, sizeof(detail), "%s [%" PRId32 "]: %s", rd_kafka_topic_name(msg->rkt),
                 msg->partition, rd_kafka_err2str(msg->err));
        fail(p, of_kafka_exit_code(msg->err),
             "output not delivered to %s; stopping without "
             "committing it (a restart re-processes it)",
             detail);
        return;
    }
    p->c.delivered++;
    if (msg->partition >= 0 && msg->partition < p->partition_count && p->states[msg->partition])
        partition_state_complete(p->states[msg->partition], (uint64_t)(uintptr_t)msg->_private);
}

static void store_offsets(processor *p)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int32_t i = 0; i < p->partition_count; i++) {
        partition_state *ps = p->states[i];
        if (!ps || ps->committable < 0 || ps->committable == ps->stored) continue;
        if (!list) list = rd_kafka_topic_partition_list_new(p->partition_count);
        rd_kafka_topic_partition_list_add(list, p->cfg->topic_order_created, i)->offset =
            ps->committable;
        ps->stored = ps->committable;
    }
    if (!list) return;
    p->offsets_uncommitted = 1;
    rd_kafka_resp_err_t rc = rd_kafka_offsets_store(p->consumer.rk, list);
    if (rc && rc != RD_KAFKA_RESP_ERR__STATE)
        fprintf(stderr, PROGRAM ": cannot store offsets: %s\n", rd_kafka_err2str(rc));
    /* A fresh list each time: librdkafka attaches partition references to the
     * elements that only list_destroy releases (at most every 100 ms). */
    rd_kafka_topic_partition_list_destroy(list);
}

/* Waits for every output in flight (bounded), then stores offsets. Returns 0
 * when everything was delivered. */
static int drain(processor *p, int timeout_ms)
{
    int64_t deadline = of_monotonic_ms() + timeout_ms;
    while (rd_kafka_outq_len(p->producer.rk) > 0 && of_monotonic_ms() < deadline &&
           !p->producer.fatal)
        rd_kafka_poll(p->producer.rk, 50);
    store_offsets(p);
    return rd_kafka_outq_len(p->producer.rk) == 0 ? 0 : -1;
}

/* ---- per-event output --------------------------------------------------- */

static void report_line(processor *p, const rd_kafka_message_t *msg, const char *outcome,
                        of_str order_id, const of_processed *out, const char *reason)
{
    FILE *f = p->opts->out;
    if (p->opts->output == PROCESSOR_OUTPUT_NONE) return;
    if (p->opts->output == PROCESSOR_OUTPUT_HUMAN) {
        fprintf(f, "%-13s p%" PRId32 "@%" PRId64 "  %.*s", outcome, msg->partition, msg->offset,
                (int)(order_id.len > 64 ? 64 : order_id.len), order_id.ptr ? order_id.ptr : "");
        if (out && out->status == OF_STATUS_ACCEPTED)
            fprintf(f, "  %" PRId64 ".%02" PRId64 " %.*s, %" PRId64 " items",
                    out->total_cents / 100, out->total_cents % 100, (int)out->currency.len,
                    out->currency.ptr, out->item_count);
        if (reason) fprintf(f, "  (%s)", reason);
        fputc('\n', f);
        return;
    }
    yajl_gen g = p->line_json;
    yajl_gen_clear(g);
    yajl_gen_reset(g, NULL);
    yajl_gen_map_open(g);
    yajl_gen_string(g, (const unsigned char *)"outcome", 7);
    yajl_gen_string(g, (const unsigned char *)outcome, strlen(outcome));
    yajl_gen_string(g, (const unsigned char *)"partition", 9);
    yajl_gen_integer(g, msg->partition);
    yajl_gen_string(g, (const unsigned char *)"offset", 6);
    yajl_gen_integer(g, msg->offset);
    if (order_id.ptr) {
        yajl_gen_string(g, (const unsigned char *)"order_id", 8);
        yajl_gen_string(g, (const unsigned char *)order_id.ptr, order_id.len);
    }
    if (out && out->status == OF_STATUS_ACCEPTED) {
        yajl_gen_string(g, (const unsigned char *)"total_cents", 11);
        yajl_gen_integer(g, out->total_cents);
    }
    if (reason) {
        yajl_gen_string(g, (const unsigned char *)"reason", 6);
        yajl_gen_string(g, (const unsigned char *)reason, strlen(reason));
    }
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        fwrite(buf, 1, len, f);
        fputc('\n', f);
    }
}

/* Produces with retries while librdkafka's queue is full. */
static int produce(processor *p, rd_kafka_topic_t *topic, int32_t partition, const void *key,
                   size_t key_len, const void *value, size_t value_len, rd_kafka_headers_t *headers,
                   uint64_t sequence)
{
    for (;;) {
        rd_kafka_resp_err_t rc = rd_kafka_producev(
            p->producer.rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_HEADERS(headers),
            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)sequence), RD_KAFKA_V_END);
        if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
        if (rc == RD_KAFKA_RESP_ERR__QUEUE_FULL && !p->fatal_status) {
            rd_kafka_poll(p->producer.rk, 10);
            continue;
        }
        rd_kafka_headers_destroy(headers);
        if (p->eos && rc == RD_KAFKA_RESP_ERR__STATE) {
            /* A failed delivery left the transaction needing an abort, and
             * librdkafka refuses new outputs until then: the loop aborts and
             * re-reads this input (seen on Apache Kafka, a refused output). */
            transaction_mark_failed(&p->txn, rc);
            return -1;
        }
        char detail[512];
        snprintf(detail, sizeof(detail), "%s [%" PRId32 "]: %s", rd_kafka_topic_name(topic),
                 partition, rd_kafka_err2str(rc));
        fail(p, of_kafka_exit_code(rc), "cannot produce to %s", detail);
        return -1;
    }
}

static void dead_letter(processor *p, partition_state *ps, const rd_kafka_message_t *msg,
                        const char *reason)
{
    char key[32];
    size_t key_len = dead_letter_key(msg->offset, key, sizeof(key));
    if (of_dedup_contains(ps->emitted, key, key_len)) {
        /* Dead-lettered before a crash or rebalance: do not do it twice. */
        partition_state_push(ps, msg->offset, 1);
        p->c.duplicates++;
        report_line(p, msg, "duplicate", (of_str){NULL, 0}, NULL, "already dead-lettered");
        return;
    }
    char partition[16], offset[24];
    snprintf(partition, sizeof(partition), "%" PRId32, msg->partition);
    snprintf(offset, sizeof(offset), "%" PRId64, msg->offset);
    rd_kafka_headers_t *headers = rd_kafka_headers_new(4);
    of_kafka_header_add(headers, ORDERFLOW_ERROR_HEADER, reason, strlen(reason));
    of_kafka_header_add(headers, ORDERFLOW_SOURCE_TOPIC_HEADER, p->cfg->topic_order_created,
                        strlen(p->cfg->topic_order_created));
    of_kafka_header_add(headers, ORDERFLOW_SOURCE_PARTITION_HEADER, partition, strlen(partition));
    of_kafka_header_add(headers, ORDERFLOW_SOURCE_OFFSET_HEADER, offset, strlen(offset));
    uint64_t sequence = partition_state_push(ps, msg->offset, 0);
    /* Original key and value bytes, untouched (SPEC 4), when they fit. */
    if (msg->len + msg->key_len + 1024 > p->max_message_bytes) {
        /* Forwarding would fail on every retry and stop the partition: keep
         * the record's place and say where the bytes are instead. */
        char note[160];
        snprintf(note, sizeof(note),
                 "; value of %zu bytes not copied (over message.max.bytes %zu): read it at the "
                 "source offset",
                 msg->len, p->max_message_bytes);
        rd_kafka_header_remove(headers, ORDERFLOW_ERROR_HEADER);
        char full[700];
        snprintf(full, sizeof(full), "%s%s", reason, note);
        of_kafka_header_add(headers, ORDERFLOW_ERROR_HEADER, full, strlen(full));
        if (produce(p, p->dead_letter_topic, msg->partition, msg->key, msg->key_len, NULL, 0,
                    headers, sequence) != 0)
            return;
    } else if (produce(p, p->dead_letter_topic, msg->partition, msg->key, msg->key_len,
                       msg->payload, msg->len, headers, sequence) != 0) {
        return;
    }
    of_dedup_insert(ps->emitted, key, key_len);
    p->c.dead_lettered++;
    report_line(p, msg, "dead-lettered", (of_str){NULL, 0}, NULL, reason);
}

static void process_message(processor *p, rd_kafka_message_t *msg)
{
    if (msg->err) {
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
        fprintf(stderr, PROGRAM ": consumer: %s\n", rd_kafka_message_errstr(msg));
        if (msg->err == RD_KAFKA_RESP_ERR__FATAL || msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
            msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            fail(p, of_kafka_exit_code(msg->err), "%s", rd_kafka_message_errstr(msg));
        return;
    }
    if (msg->partition < 0 || msg->partition >= p->partition_count) return;
    partition_state *ps = p->states[msg->partition];
    if (!ps) return; /* revoked meanwhile: the new owner processes it */
    while (!partition_state_has_room(ps) && !p->fatal_status)
        rd_kafka_poll(p->producer.rk, 10);
    if (p->fatal_status) return;
    p->c.consumed++;

    of_event ev;
    char why[512];
    of_reject rc = of_decode_event(p->decoder, msg->payload, msg->len, &ev, why, sizeof(why));
    if (rc == OF_OK && ev.type != OF_EVENT_ORDER_CREATED) {
        rc = OF_REJECT_UNKNOWN_TYPE;
        snprintf(why, sizeof(why), "attribute 'type': this stage takes order_created, got %s",
                 of_event_type_name(ev.type));
    }
    if (rc != OF_OK) {
        dead_letter(p, ps, msg, why);
        return;
    }

    char key[OF_IDEMPOTENCY_KEY_MAX + 1];
    size_t key_len = of_idempotency_key_derive("data_processed:", ev.idempotencykey, key);
    if (of_dedup_contains(ps->emitted, key, key_len)) {
        partition_state_push(ps, msg->offset, 1);
        p->c.duplicates++;
        report_line(p, msg, "duplicate", ev.subject, NULL, NULL);
        return;
    }

    of_processed result;
    char reason[OF_REASON_MAX];
    of_process_order(&ev.data.order, &result, reason);
    uint64_t now = of_now_ms();
    char id[OF_UUID_LEN + 1], time[OF_TIME_LEN + 1];
    of_uuid7(&p->ids, now, id);
    of_format_time(now, time);
    of_event out = {
        .type = OF_EVENT_DATA_PROCESSED,
        .id = {id, OF_UUID_LEN},
        .source = of_str_c(p->source),
        .time = {time, OF_TIME_LEN},
        .idempotencykey = {key, key_len},
        .subject = ev.subject,
        .correlationid = ev.correlationid.ptr ? ev.correlationid : ev.id,
        .causationid = ev.id,
        .schemaversion = OF_SCHEMAVERSION,
        .data.processed = result,
    };
    const char *value;
    size_t value_len;
    if (of_encode_event(p->encoder, &out, &value, &value_len, why, sizeof(why)) != 0) {
        /* Inputs are validated, so this means the output itself is bad:
         * dead-letter the input rather than stop the partition. */
        char reason_text[600];
        snprintf(reason_text, sizeof(reason_text), "cannot encode data_processed: %s", why);
        dead_letter(p, ps, msg, reason_text);
        return;
    }
    rd_kafka_headers_t *headers = rd_kafka_headers_new(2);
    of_kafka_header_add(headers, OF_CONTENT_TYPE_HEADER, OF_CONTENT_TYPE_VALUE,
                        sizeof(OF_CONTENT_TYPE_VALUE) - 1);
    of_kafka_header_add(headers, OF_IDEMPOTENCY_KEY_HEADER, key, key_len);
    uint64_t sequence = partition_state_push(ps, msg->offset, 0);
    if (produce(p, p->output_topic, msg->partition, ev.subject.ptr, ev.subject.len, value,
                value_len, headers, sequence) != 0)
        return;
    of_dedup_insert(ps->emitted, key, key_len);
    if (p->eos) transaction_count(&p->txn);
    if (result.status == OF_STATUS_ACCEPTED) {
        p->c.accepted++;
        report_line(p, msg, "accepted", ev.subject, &result, NULL);
    } else {
        p->c.rejected++;
        report_line(p, msg, "rejected", ev.subject, &result, reason);
    }
}

/* ---- assignment ---------------------------------------------------------- */

static void release_partitions(processor *p, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        int32_t n = parts->elems[i].partition;
        if (n >= 0 && n < p->partition_count) {
            partition_state_free(p->states[n]);
            p->states[n] = NULL;
        }
    }
}

static int take_partitions(processor *p, const rd_kafka_topic_partition_list_t *parts)
{
    partition_state **fresh = calloc((size_t)parts->cnt + 1, sizeof(*fresh));
    size_t count = 0;
    int status = fresh ? 0 : -1;
    for (int i = 0; i < parts->cnt && status == 0; i++) {
        int32_t n = parts->elems[i].partition;
        if (n < 0 || n >= p->partition_count) continue;
        partition_state_free(p->states[n]);
        /* 2^40 sequences per state: more inputs than one assignment sees. */
        p->states[n] =
            partition_state_new(n, p->cfg->dedup_window, RING_CAPACITY, ++p->states_created << 40);
        if (!p->states[n])
            status = -1;
        else
            fresh[count++] = p->states[n];
    }
    if (status != 0) {
        fail(p, EX_OSERR, "out of memory for partition state");
        free(fresh);
        return -1;
    }
    size_t before = p->restore.records_read;
    char err[512];
    int64_t start = of_monotonic_ms();
    if (restorer_restore(&p->restore, fresh, count, p->opts->stop, RESTORE_TIMEOUT_MS, err,
                         sizeof(err)) != 0) {
        if (!*p->opts->stop) fail(p, EX_UNAVAILABLE, "%s", err);
        free(fresh);
        return -1;
    }
    size_t keys = 0;
    for (size_t i = 0; i < count; i++)
        keys += of_dedup_count(fresh[i]->emitted);
    p->c.restored_keys += keys;
    if (p->opts->verbose)
        fprintf(stderr,
                PROGRAM ": assigned %zu partitions; restored %zu keys from %zu records in "
                        "%" PRId64 " ms\n",
                count, keys, p->restore.records_read - before, of_monotonic_ms() - start);
    free(fresh);
    return 0;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    processor *p = of_kafka_app_opaque(opaque);
    int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    p->c.rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (take_partitions(p, parts) != 0) {
            /* Without restored state processing could emit twice: take nothing. */
            release_partitions(p, parts);
            return;
        }
        if (p->eos) transaction_rewind_to_committed(&p->txn, p->consumer.rk, parts);
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            rc = rd_kafka_assign(rk, parts);
        if (error || rc)
            fail(p, EX_SOFTWARE, "cannot assign partitions: %s",
                 error ? rd_kafka_error_string(error) : rd_kafka_err2str(rc));
        if (error) rd_kafka_error_destroy(error);
        return;
    }
    /* Revoked (or lost): finish what was taken from these partitions so the
     * next owner starts exactly behind it. */
    if (p->eos) {
        transaction_commit(&p->txn, p->consumer.rk);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        drain(p, p->cfg->producer_timeout_ms);
        rd_kafka_resp_err_t rc = rd_kafka_commit(rk, NULL, 0);
        if (rc && rc != RD_KAFKA_RESP_ERR__NO_OFFSET && p->opts->verbose)
            fprintf(stderr, PROGRAM ": commit on revoke: %s\n", rd_kafka_err2str(rc));
    }
    release_partitions(p, parts);
    if (cooperative) {
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(rk, parts);
        if (error) rd_kafka_error_destroy(error);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- set-up ------------------------------------------------------------ */

static int check_topics(processor *p, char *err, size_t errlen)
{
    of_topic_info topics[] = {
        {p->cfg->topic_order_created, 0},
        {p->cfg->topic_data_processed, 0},
        {p->cfg->topic_dead_letter, 0},
    };
    int status = 0;
    if (of_kafka_describe_topics(&p->producer, p->cfg->brokers, topics, 3,
                                 p->cfg->producer_timeout_ms, &status, err, errlen) != 0)
        return status;
    for (int i = 0; i < 3; i++) {
        if (topics[i].partition_count == 0) {
            snprintf(err, errlen,
                     "topic '%s' does not exist on %s; create the three topics with the same "
                     "partition count (see kafka-compose.yml) or name others in the topics "
                     "group of the config file",
                     topics[i].name, p->cfg->brokers);
            return EX_UNAVAILABLE;
        }
    }
    /* Kafka can add partitions but never remove them: the advice grows the
     * smaller topics to the largest count. */
    int most = 0;
    for (int i = 0; i < 3; i++)
        if (topics[i].partition_count > topics[most].partition_count) most = i;
    for (int i = 0; i < 3; i++) {
        if (topics[i].partition_count != topics[most].partition_count) {
            snprintf(err, errlen,
                     "topics are not co-partitioned: '%s' has %d partitions but '%s' has %d; "
                     "output partition N must match input partition N, so give '%s' %d "
                     "partitions (kafka-topics.sh --bootstrap-server %s --alter --topic %s "
                     "--partitions %d)",
                     topics[i].name, topics[i].partition_count, topics[most].name,
                     topics[most].partition_count, topics[i].name, topics[most].partition_count,
                     p->cfg->brokers, topics[i].name, topics[most].partition_count);
            return EX_CONFIG;
        }
    }
    if (topics[0].partition_count > MAX_PARTITIONS) {
        snprintf(err, errlen, "topic '%s' has %d partitions; at most %d are supported",
                 topics[0].name, topics[0].partition_count, MAX_PARTITIONS);
        return EX_CONFIG;
    }
    p->partition_count = topics[0].partition_count;
    return 0;
}

static int open_clients(processor *p, char *err, size_t errlen)
{
    const of_config *cfg = p->cfg;
    char hostname[128] = "host";
    gethostname(hostname, sizeof(hostname) - 1);
    char transactional_id[400];
    snprintf(transactional_id, sizeof(transactional_id), "%s-%s-%d", cfg->consumer_group, hostname,
             (int)getpid());

    /* Room to dead-letter a record at the size limit, plus headers. */
    char message_max[32];
    snprintf(message_max, sizeof(message_max), "%zu",
             cfg->limits.max_record_bytes * 2 + 65536 > 1000000
                 ? cfg->limits.max_record_bytes * 2 + 65536
                 : 1000000);
    const of_kafka_setting producer_defaults[] = {
        {"message.max.bytes", message_max},
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        {"queue.buffering.max.messages", "500000"},
        /* Outputs are retried until delivered: a broker outage pauses the
         * stage instead of failing events (at_least_once only). With
         * transactions, a crashed instance's open transaction blocks
         * read_committed readers until transaction.timeout.ms: keep it short. */
        {p->eos ? "transaction.timeout.ms" : "message.timeout.ms", p->eos ? "10000" : "0"},
        {p->eos ? "transactional.id" : NULL, transactional_id},
        {NULL, NULL},
    };
    const of_kafka_setting producer_forced[] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = of_kafka_conf_new(cfg, producer_defaults, producer_forced, err, errlen);
    if (!conf) return EX_CONFIG;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char max_bytes[32];
    size_t max_bytes_len = sizeof(max_bytes);
    if (rd_kafka_conf_get(conf, "message.max.bytes", max_bytes, &max_bytes_len) == RD_KAFKA_CONF_OK)
        p->max_message_bytes = (size_t)strtoull(max_bytes, NULL, 10);
    if (of_kafka_new(&p->producer, RD_KAFKA_PRODUCER, conf, p, err, errlen) != 0)
        return EX_SOFTWARE;

    char commit_interval[24];
    snprintf(commit_interval, sizeof(commit_interval), "%d", cfg->commit_interval_ms);
    const of_kafka_setting consumer_defaults[] = {
        {"group.id", cfg->consumer_group},
        {"auto.offset.reset", "earliest"},
        {"session.timeout.ms", "10000"},
        {"heartbeat.interval.ms", "1000"},
        {"auto.commit.interval.ms", commit_interval},
        /* librdkafka 2.0.2 waits up to 1 s before fetching again once this
         * much is prefetched; loop() wakes it instead (of_kafka_wake_fetcher),
         * so 8 MB no longer caps a backlog's pace (docs/benchmarks.md). */
        {"queued.max.messages.kbytes", "8192"},
        {"max.partition.fetch.bytes", "262144"}, /* 12 partitions: 3 MB a fetch, not 12 */
        {NULL, NULL},
    };
    /* at_least_once: we store an offset only when every output before it is
     * delivered, and commit the stored offsets every auto.commit.interval.ms
     * (commit_stored_offsets says why not librdkafka's own timer).
     * exactly_once: offsets go into the transaction instead. */
    const of_kafka_setting consumer_forced_alo[] = {
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "false"},
        {NULL, NULL},
    };
    const of_kafka_setting consumer_forced_eos[] = {
        {"enable.auto.offset.store", "false"},
        {"enable.auto.commit", "false"},
        {"isolation.level", "read_committed"},
        {NULL, NULL},
    };
    conf = of_kafka_conf_new(cfg, consumer_defaults,
                             p->eos ? consumer_forced_eos : consumer_forced_alo, err, errlen);
    if (!conf) return EX_CONFIG;
    char interval[24];
    size_t interval_len = sizeof(interval);
    p->commit_interval_ms = cfg->commit_interval_ms;
    if (rd_kafka_conf_get(conf, "auto.commit.interval.ms", interval, &interval_len) ==
        RD_KAFKA_CONF_OK)
        p->commit_interval_ms = atoi(interval);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    if (of_kafka_new(&p->consumer, RD_KAFKA_CONSUMER, conf, p, err, errlen) != 0)
        return EX_SOFTWARE;
    if (restorer_open(&p->restore, cfg, err, errlen) != 0) return EX_CONFIG;
    return 0;
}

static int setup(processor *p, char *err, size_t errlen)
{
    int status = open_clients(p, err, errlen);
    if (status) return status;
    if ((status = check_topics(p, err, errlen)) != 0) return status;
    p->states = calloc((size_t)p->partition_count, sizeof(*p->states));
    p->decoder = of_decoder_new(&p->cfg->limits);
    p->encoder = of_encoder_new();
    p->line_json = yajl_gen_alloc(NULL);
    p->output_topic = rd_kafka_topic_new(p->producer.rk, p->cfg->topic_data_processed, NULL);
    p->dead_letter_topic = rd_kafka_topic_new(p->producer.rk, p->cfg->topic_dead_letter, NULL);
    if (!p->states || !p->decoder || !p->encoder || !p->line_json || !p->output_topic ||
        !p->dead_letter_topic) {
        snprintf(err, errlen, "out of memory setting up the processor");
        return EX_OSERR;
    }
    if (of_idgen_init(&p->ids, err, errlen) != 0) return EX_OSERR;
    snprintf(p->source, sizeof(p->source), "orderflow-consumer/%s", p->cfg->consumer_group);
    if (p->eos && transaction_init(&p->txn, &p->producer, p->cfg, err, errlen) != 0)
        return EX_UNAVAILABLE;

    rd_kafka_poll_set_consumer(p->consumer.rk);
    p->queue = rd_kafka_queue_get_consumer(p->consumer.rk);
    rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subscription, p->cfg->topic_order_created,
                                      RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t rc = rd_kafka_subscribe(p->consumer.rk, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (rc) {
        snprintf(err, errlen, "cannot subscribe to '%s': %s", p->cfg->topic_order_created,
                 rd_kafka_err2str(rc));
        return of_kafka_exit_code(rc);
    }
    return 0;
}

/* ---- the loop ------------------------------------------------------------ */

static void print_stats(processor *p, FILE *f)
{
    fprintf(f,
            PROGRAM ": consumed %" PRIu64 ", accepted %" PRIu64 ", rejected %" PRIu64
                    ", duplicates %" PRIu64 ", dead-lettered %" PRIu64 ", delivered %" PRIu64
                    ", in flight %d\n",
            p->c.consumed, p->c.accepted, p->c.rejected, p->c.duplicates, p->c.dead_lettered,
            p->c.delivered, rd_kafka_outq_len(p->producer.rk));
}

/* at_least_once commits here rather than by librdkafka's auto-commit timer:
 * in 2.0.2 that timer can start a commit after the group has decided to
 * terminate and before it tears down, which aborts consumer_close
 * (rdkafka_cgrp.c:2583) when the close had waited for a commit that timed
 * out for want of a coordinator, as after a broker outage. Asynchronous; a
 * failure is logged by librdkafka (COMMITFAIL) and the next commit carries
 * the same or later offsets. */
static void commit_stored_offsets(processor *p, int64_t now)
{
    p->last_commit_ms = now;
    p->offsets_uncommitted = 0;
    rd_kafka_resp_err_t rc = rd_kafka_commit(p->consumer.rk, NULL, 1);
    if (rc && rc != RD_KAFKA_RESP_ERR__NO_OFFSET)
        fprintf(stderr, PROGRAM ": cannot commit offsets: %s\n", rd_kafka_err2str(rc));
}

static void housekeeping(processor *p)
{
    int64_t now = of_monotonic_ms();
    rd_kafka_poll(p->producer.rk, 0);
    if (p->producer.fatal)
        fail(p, of_kafka_exit_code(p->producer.last_error), "producer: %s",
             p->producer.last_error_text);
    if (p->consumer.fatal)
        fail(p, of_kafka_exit_code(p->consumer.last_error), "consumer: %s",
             p->consumer.last_error_text);
    if (!p->eos && now - p->last_store_ms >= STORE_INTERVAL_MS) {
        store_offsets(p);
        p->last_store_ms = now;
    }
    if (!p->eos && p->offsets_uncommitted && now - p->last_commit_ms >= p->commit_interval_ms)
        commit_stored_offsets(p, now);
    if (p->eos) transaction_maybe_commit(&p->txn, p->consumer.rk, now);
    if (p->eos && p->txn.fatal) fail(p, EX_SOFTWARE, "transaction: %s", p->txn.error_text);
    /* Say once per interval, not per event, that the cluster is away. */
    int producer_away = of_kafka_unreachable_due(&p->producer, now, UNAVAILABLE_REPORT_INTERVAL_MS);
    int consumer_away = of_kafka_unreachable_due(&p->consumer, now, UNAVAILABLE_REPORT_INTERVAL_MS);
    if ((producer_away || consumer_away) &&
        now - p->last_unavailable_report_ms >= UNAVAILABLE_REPORT_INTERVAL_MS) {
        p->last_unavailable_report_ms = now;
        fprintf(stderr, PROGRAM ": brokers unreachable (%s); retrying, %d outputs waiting\n",
                producer_away ? p->producer.last_error_text : p->consumer.last_error_text,
                rd_kafka_outq_len(p->producer.rk));
    }
    if (p->opts->verbose && now - p->last_stats_ms >= p->opts->stats_interval_ms) {
        p->last_stats_ms = now;
        print_stats(p, stderr);
    }
}

static int loop(processor *p)
{
    rd_kafka_message_t *batch[BATCH_SIZE];
    unsigned wake_cursor = 0; /* bench tuning: see of_kafka_wake_fetcher */
    size_t drained = 0;       /* events since the queue was last empty */
    while (!*p->opts->stop && !p->fatal_status) {
        if (rd_kafka_outq_len(p->producer.rk) > OUTQ_HIGH_WATER) {
            /* Backpressure: the broker is behind; let it catch up. */
            rd_kafka_poll(p->producer.rk, 50);
            housekeeping(p);
            continue;
        }
        if (p->eos) transaction_begin_if_needed(&p->txn);
        /* Wait for one message, then take what else is there without
         * waiting: rd_kafka_consume_batch_queue alone holds a part batch
         * back until its timeout, which a low rate pays as latency. */
        ssize_t n = 0;
        batch[0] = rd_kafka_consume_queue(p->queue, drained >= WAKE_AFTER ? 10 : 100);
        if (!batch[0] && drained >= WAKE_AFTER) of_kafka_wake_fetcher(p->consumer.rk, &wake_cursor);
        if (!batch[0]) drained = 0;
        if (batch[0]) {
            ssize_t more = rd_kafka_consume_batch_queue(p->queue, 0, batch + 1, BATCH_SIZE - 1);
            n = 1 + (more > 0 ? more : 0);
            drained += (size_t)n;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (!p->fatal_status) process_message(p, batch[i]);
            rd_kafka_message_destroy(batch[i]);
        }
        /* One write per batch: readers of a pipe see events as they happen. */
        if (n > 0 && p->opts->out) fflush(p->opts->out);
        housekeeping(p);
        if (p->eos && p->txn.needs_abort) {
            transaction_abort_and_rewind(&p->txn, p->consumer.rk);
            /* Outputs of the aborted transaction are invisible to the next
             * read_committed restore: rebuild the emitted sets. */
            rd_kafka_topic_partition_list_t *assigned = NULL;
            if (rd_kafka_assignment(p->consumer.rk, &assigned) == 0 && assigned) {
                take_partitions(p, assigned);
                rd_kafka_topic_partition_list_destroy(assigned);
            }
        }
    }
    return p->fatal_status;
}

/* Leaves the assignment the way a rebalance does before the close: commit
 * and wait (bounded) for the coordinator's answer, unsubscribe, and serve
 * the revoke until nothing is assigned. The close then has no commit or
 * partition stop to wait for; a close that waits for one can abort in
 * librdkafka 2.0.2 (see commit_stored_offsets). */
static void leave_assignment(processor *p)
{
    rd_kafka_t *rk = p->consumer.rk;
    rd_kafka_queue_t *results = rd_kafka_queue_new(rk);
    if (rd_kafka_commit_queue(rk, NULL, results, NULL, NULL) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_event_t *done = rd_kafka_queue_poll(results, CLOSE_WAIT_MS);
        if (done) rd_kafka_event_destroy(done);
    }
    rd_kafka_queue_destroy(results);
    if (rd_kafka_unsubscribe(rk) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    uint64_t deadline = of_now_ms() + CLOSE_WAIT_MS;
    while (of_now_ms() < deadline) {
        /* Serves the revoke callback; a message fetched meanwhile is left
         * uncommitted, for the next owner. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m) rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *assigned = NULL;
        if (rd_kafka_assignment(rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
        int empty = assigned->cnt == 0;
        rd_kafka_topic_partition_list_destroy(assigned);
        if (empty) break;
    }
}

static void shutdown_stage(processor *p)
{
    if (p->eos) {
        if (!p->fatal_status) transaction_commit(&p->txn, p->consumer.rk);
    } else if (drain(p, p->cfg->producer_timeout_ms) != 0) {
        fprintf(stderr,
                PROGRAM ": %d outputs undelivered at shutdown; their inputs stay uncommitted "
                        "and will be re-processed\n",
                rd_kafka_outq_len(p->producer.rk));
        if (!p->fatal_status) p->fatal_status = EX_UNAVAILABLE;
    }
    if (p->queue) rd_kafka_queue_destroy(p->queue);
    p->queue = NULL;
    if (p->consumer.rk) {
        if (!p->eos) leave_assignment(p);
        /* Commits the stored offsets (revoke callback) and leaves the group. */
        rd_kafka_resp_err_t rc = rd_kafka_consumer_close(p->consumer.rk);
        if (rc) fprintf(stderr, PROGRAM ": leaving the group: %s\n", rd_kafka_err2str(rc));
    }
}

static void teardown(processor *p)
{
    restorer_close(&p->restore);
    if (p->output_topic) rd_kafka_topic_destroy(p->output_topic);
    if (p->dead_letter_topic) rd_kafka_topic_destroy(p->dead_letter_topic);
    of_kafka_destroy(&p->consumer);
    if (p->eos) transaction_close(&p->txn);
    of_kafka_destroy(&p->producer);
    for (int32_t i = 0; p->states && i < p->partition_count; i++)
        partition_state_free(p->states[i]);
    free(p->states);
    of_decoder_free(p->decoder);
    of_encoder_free(p->encoder);
    if (p->line_json) yajl_gen_free(p->line_json);
}

int processor_run(const processor_options *opts, processor_counters *counters)
{
    processor p = {.opts = opts, .cfg = opts->cfg, .eos = opts->cfg->guarantee == OF_EXACTLY_ONCE};
    char err[1024];
    int status = setup(&p, err, sizeof(err));
    if (status) {
        fprintf(stderr, PROGRAM ": %s\n", err);
    } else {
        if (opts->verbose)
            fprintf(stderr,
                    PROGRAM ": group '%s', %s, %s -> %s (dead letters: %s), %d partitions\n",
                    opts->cfg->consumer_group, p.eos ? "exactly_once" : "at_least_once",
                    opts->cfg->topic_order_created, opts->cfg->topic_data_processed,
                    opts->cfg->topic_dead_letter, p.partition_count);
        status = loop(&p);
        shutdown_stage(&p);
        if (!status) status = p.fatal_status;
        if (opts->verbose) print_stats(&p, stderr);
    }
    if (opts->out) fflush(opts->out);
    p.c.transactions_committed = p.txn.commits;
    p.c.transactions_aborted = p.txn.aborts;
    if (counters) *counters = p.c;
    teardown(&p);
    return status;
}
