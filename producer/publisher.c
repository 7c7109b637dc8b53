#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "cli/log.h"
#include "cli/metrics.h"

#include "record/order_record.h"

#include "publisher.h"

/* Events handed to librdkafka and not yet reported: bounds memory (about
 * 1 KB each with librdkafka's copy and headers) and is above the default
 * queue.buffering.max.messages below, so by default the queue bounds it. */
#define INFLIGHT_MAX 32768
/* Failures beyond this many get counted, not printed one by one. */
#define FAILURES_PRINTED 20
/* How often a run that cannot reach the cluster says so. */
#define UNREACHABLE_REPORT_INTERVAL_MS 5000
/* Re-sending (docs/architecture.md, "Producer"): at most this many times an
 * event, and this many producers replaced after a fatal error in one run. */
#define RESENDS_PER_EVENT 3
#define REPLACEMENTS_MAX 5
/* How long a fatally failed producer gets to hand back what it holds. */
#define DRAIN_AFTER_FATAL_MS 10000

static void write_report(publisher *pub, const rd_kafka_message_t *msg, const inflight_slot *slot)
{
    yajl_gen g = pub->report_json;
    const void *idkey = NULL;
    size_t idkey_len = 0;
    ofc_kafka_header_get((rd_kafka_message_t *)msg, OF_IDEMPOTENCY_KEY_HEADER, &idkey, &idkey_len);
    yajl_gen_clear(g);
    yajl_gen_reset(g, NULL);
    yajl_gen_map_open(g);
    yajl_gen_string(g, (const unsigned char *)"key", 3);
    yajl_gen_string(g, msg->key, msg->key_len);
    yajl_gen_string(g, (const unsigned char *)"idempotency_key", 15);
    yajl_gen_string(g, idkey, idkey_len);
    yajl_gen_string(g, (const unsigned char *)"id", 2);
    yajl_gen_string(g, (const unsigned char *)slot->id, OF_UUID_LEN);
    yajl_gen_string(g, (const unsigned char *)"topic", 5);
    yajl_gen_string(g, (const unsigned char *)pub->topic_name, strlen(pub->topic_name));
    yajl_gen_string(g, (const unsigned char *)"partition", 9);
    yajl_gen_integer(g, msg->partition);
    yajl_gen_string(g, (const unsigned char *)"offset", 6);
    yajl_gen_integer(g, msg->offset);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    yajl_gen_get_buf(g, &buf, &len);
    fwrite(buf, 1, len, pub->report);
    fputc('\n', pub->report);
}

/* The order object inside one of our own envelopes: the encoder writes "data"
 * last and escapes every quote inside strings, so the last `,"data":` is the
 * attribute itself. Re-publishing this object derives the same key. */
static int order_span(const char *value, size_t value_len, const char **start, size_t *len)
{
    static const char marker[] = ",\"data\":";
    if (!value || value_len < sizeof(marker)) return -1;
    for (size_t i = value_len - sizeof(marker); i > 0; i--) {
        if (memcmp(value + i, marker, sizeof(marker) - 1) == 0) {
            *start = value + i + sizeof(marker) - 1;
            *len = value_len - (i + sizeof(marker) - 1) - 1; /* drop the envelope's '}' */
            return 0;
        }
    }
    return -1;
}

static void record_failure(publisher *pub, const inflight_slot *slot, const char *key,
                           size_t key_len, const char *value, size_t value_len,
                           rd_kafka_resp_err_t err)
{
    pub->failed++;
    if (pub->metrics) ofc_metric_add(pub->metrics->failed, 1);
    if (pub->first_failure == RD_KAFKA_RESP_ERR_NO_ERROR) pub->first_failure = err;
    if (pub->failed <= FAILURES_PRINTED)
        ofc_warn("%s:%llu: order '%.*s' not delivered: %s", slot->origin.input,
                 (unsigned long long)slot->origin.line, (int)key_len, key, rd_kafka_err2str(err));
    else if (pub->failed == FAILURES_PRINTED + 1)
        ofc_warn("further failures are counted in the summary%s",
                 pub->failed_file ? " and written to --failed" : "");
    const char *order;
    size_t len;
    if (pub->failed_file && order_span(value, value_len, &order, &len) == 0) {
        if (fwrite(order, 1, len, pub->failed_file) != len || fputc('\n', pub->failed_file) == EOF)
            pub->failed_write_error = errno ? errno : EIO;
    }
}

static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* Served by publisher_poll, on the caller's thread. */
static int on_statistics(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    publisher *pub = ofc_kafka_app_opaque(opaque);
    if (pub && pub->metrics) producer_metrics_statistics(pub->metrics, json, len);
    return 0; /* librdkafka frees json */
}

static void release_slot(publisher *pub, inflight_slot *slot)
{
    free(slot->held);
    slot->held = NULL;
    if (slot->held_headers) rd_kafka_headers_destroy(slot->held_headers);
    slot->held_headers = NULL;
    slot->resends = 0;
    slot->next = pub->free_slots;
    pub->free_slots = slot;
}

static int producer_failed_fatally(const publisher *pub)
{
    return pub->kafka.fatal || rd_kafka_fatal_error(pub->kafka.rk, NULL, 0);
}

/* The delivery failed because the producer's idempotence state broke, not
 * because of the event. librdkafka 2.0.2 fails the batches in flight that it
 * can no longer prove once-only after a sequence gap (an epoch bump: "out of
 * order sequence number", possibly persisted), and everything it holds when
 * it declares the producer unusable (a fatal error). A Kafka leader killed
 * mid-request does both (docs/reliability.md, "Chaos on a Kafka cluster"). */
static int worth_resending(const publisher *pub, const rd_kafka_message_t *msg,
                           const inflight_slot *slot)
{
    if (slot->resends >= RESENDS_PER_EVENT || pub->authorization_failed) return 0;
    int fatal = producer_failed_fatally(pub);
    switch (msg->err) {
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
    case RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
        return !fatal || pub->recoveries < REPLACEMENTS_MAX;
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
        return fatal && pub->recoveries < REPLACEMENTS_MAX;
    default:
        return 0;
    }
}

/* Keeps a copy of the record in its slot, queued for re-sending. The failure
 * path only: the copy is the one allocation an event gets here. */
static int hold_for_resend(publisher *pub, const rd_kafka_message_t *msg, inflight_slot *slot)
{
    slot->held = malloc(msg->key_len + msg->len + 1);
    if (!slot->held) return -1;
    if (msg->key_len) memcpy(slot->held, msg->key, msg->key_len);
    if (msg->len) memcpy(slot->held + msg->key_len, msg->payload, msg->len);
    slot->key_len = msg->key_len;
    slot->value_len = msg->len;
    rd_kafka_headers_t *headers = NULL;
    slot->held_headers = rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR
                             ? rd_kafka_headers_copy(headers)
                             : rd_kafka_headers_new(0);
    slot->next = NULL;
    if (pub->held_last)
        pub->held_last->next = slot;
    else
        pub->held_first = slot;
    pub->held_last = slot;
    pub->held_count++;
    return 0;
}

static inflight_slot *take_held(publisher *pub)
{
    inflight_slot *slot = pub->held_first;
    pub->held_first = slot->next;
    if (!pub->held_first) pub->held_last = NULL;
    pub->held_count--;
    return slot;
}

static void fail_held(publisher *pub, inflight_slot *slot, rd_kafka_resp_err_t err)
{
    record_failure(pub, slot, slot->held, slot->key_len, slot->held + slot->key_len,
                   slot->value_len, err);
    release_slot(pub, slot);
}

/* Hands the held records to librdkafka again, the same bytes (same id and
 * idempotency key: a copy Kafka already had is a duplicate the processor
 * skips), until its queue is full. */
static void resend_held(publisher *pub)
{
    /* One try each: a full queue ends this round; the next poll resumes. */
    const ofc_kafka_retry once = {.max_wait_ms = 0};
    while (pub->held_first) {
        inflight_slot *slot = pub->held_first;
        const ofc_kafka_record rec = {
            .topic = pub->topic,
            .partition = RD_KAFKA_PARTITION_UA,
            .key = slot->held,
            .key_len = slot->key_len,
            .value = slot->held + slot->key_len,
            .value_len = slot->value_len,
            .headers = slot->held_headers,
            .opaque = slot,
        };
        rd_kafka_resp_err_t rc = ofc_kafka_produce(pub->kafka.rk, &rec, &once);
        if (rc == RD_KAFKA_RESP_ERR__QUEUE_FULL || producer_failed_fatally(pub)) return;
        take_held(pub);
        if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fail_held(pub, slot, rc);
            continue;
        }
        slot->held_headers = NULL; /* librdkafka's now */
        free(slot->held);
        slot->held = NULL;
        slot->resends++;
        pub->resent++;
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    publisher *pub = ofc_kafka_app_opaque(opaque);
    inflight_slot *slot = msg->_private;
    if (pub->metrics) {
        producer_metrics *m = pub->metrics;
        /* An event re-sent after an error counts as failed only if it fails
         * for good (record_failure); the error counts each time. */
        if (msg->err)
            ofc_cli_metrics_delivery_error(m->registry, msg->err);
        else
            ofc_metric_add(m->delivered, 1);
        ofc_metric_observe(m->latency, (double)(monotonic_ns() - slot->enqueued_ns) / 1e9);
    }
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        pub->delivered++;
        if (pub->report) write_report(pub, msg, slot);
    } else if (worth_resending(pub, msg, slot) && hold_for_resend(pub, msg, slot) == 0) {
        return; /* the slot stays taken until the copy is delivered or fails */
    } else {
        record_failure(pub, slot, msg->key, msg->key_len, msg->payload, msg->len, msg->err);
    }
    release_slot(pub, slot);
}

int publisher_open(publisher *pub, const ofc_config *cfg, FILE *report, FILE *failed_file,
                   const char *failed_path, producer_metrics *metrics, char *err, size_t errlen)
{
    memset(pub, 0, sizeof(*pub));
    pub->metrics = metrics;
    pub->topic_name = cfg->topic_order_created;
    pub->source = cfg->producer_source;
    pub->report = report;
    pub->failed_file = failed_file;
    pub->failed_path = failed_path;
    char timeout[24];
    snprintf(timeout, sizeof(timeout), "%d", cfg->producer_timeout_ms);
    const ofc_kafka_setting defaults[] = {
        /* Longer batches send fewer requests (200,000 events on 12
         * partitions: 2,148 requests at 5 ms, 265 at 50) and save the broker
         * CPU, but they cost the producer more than that (20-30% more CPU
         * per event at 50 ms, with more events held in memory), and they
         * delay every event at low rates. */
        {"linger.ms", "5"},
        {"batch.num.messages", "10000"},
        /* 20,000 queued events keep batches full; 100,000 (with 65,536
         * in flight) peaked at 22 MB instead of 18 MB over 1M events on
         * 240 partitions, and was no faster. */
        {"queue.buffering.max.messages", "20000"},
        {"message.timeout.ms", timeout},
        /* Metrics on: the broker state for orderflow_broker_up and /readyz. */
        {metrics ? "statistics.interval.ms" : NULL, "1000"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = ofc_kafka_producer_conf_new(cfg, defaults, err, errlen);
    if (!conf) return EX_CONFIG;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (metrics) rd_kafka_conf_set_stats_cb(conf, on_statistics);
    pub->conf_template = rd_kafka_conf_dup(conf);
    if (ofc_kafka_new(&pub->kafka, RD_KAFKA_PRODUCER, conf, pub, err, errlen) != 0)
        return EX_SOFTWARE;

    pub->encoder = of_encoder_new();
    pub->report_json = yajl_gen_alloc(NULL);
    pub->slots = calloc(INFLIGHT_MAX, sizeof(*pub->slots));
    if (!pub->encoder || !pub->report_json || !pub->slots) {
        snprintf(err, errlen, "out of memory");
        return EX_OSERR;
    }
    for (size_t i = 0; i < INFLIGHT_MAX; i++) {
        pub->slots[i].next = pub->free_slots;
        pub->free_slots = &pub->slots[i];
    }
    if (of_idgen_init(&pub->ids, err, errlen) != 0) return EX_OSERR;

    return ofc_order_topic_open(&pub->kafka, cfg, pub->topic_name, cfg->producer_timeout_ms,
                                &pub->topic, err, errlen);
}

/* librdkafka declared the producer unusable (a fatal error; for an idempotent
 * producer, a sequence it cannot reconcile with the broker's): takes back
 * everything it holds, replaces it with a new producer (a new producer id)
 * and re-sends. Returns 0, or a sysexits status with err. */
static int replace_producer(publisher *pub, char *err, size_t errlen)
{
    char why[256];
    rd_kafka_resp_err_t cause = rd_kafka_fatal_error(pub->kafka.rk, why, sizeof(why));
    if (!pub->kafka.fatal) {
        pub->kafka.fatal = 1;
        pub->kafka.last_error = cause;
        snprintf(pub->kafka.last_error_text, sizeof(pub->kafka.last_error_text), "fatal: %s: %s",
                 rd_kafka_err2name(cause), why);
    }
    if (ofc_kafka_is_authorization_error(cause)) {
        /* An idempotent producer without Write on any topic is refused its
         * producer id. A new producer would be refused the same way: what
         * this one holds fails now, reported and written to --failed for a
         * rerun once Write is granted. */
        pub->authorization_failed = 1;
        rd_kafka_purge(pub->kafka.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        int64_t deadline = of_monotonic_ms() + DRAIN_AFTER_FATAL_MS;
        while (rd_kafka_outq_len(pub->kafka.rk) > 0 && of_monotonic_ms() < deadline)
            rd_kafka_poll(pub->kafka.rk, 100);
        while (pub->held_first)
            fail_held(pub, take_held(pub), cause);
        return ofc_kafka_denied(&pub->kafka, "Write", "topic", pub->topic_name, 0, err, errlen);
    }
    if (pub->recoveries >= REPLACEMENTS_MAX) {
        snprintf(err, errlen, "the Kafka producer failed %u times, the last: %s",
                 pub->recoveries + 1, pub->kafka.last_error_text);
        return ofc_kafka_exit_code(cause);
    }
    rd_kafka_purge(pub->kafka.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    int64_t deadline = of_monotonic_ms() + DRAIN_AFTER_FATAL_MS;
    while (rd_kafka_outq_len(pub->kafka.rk) > 0 && of_monotonic_ms() < deadline)
        rd_kafka_poll(pub->kafka.rk, 100);
    if (rd_kafka_outq_len(pub->kafka.rk) > 0) {
        snprintf(err, errlen, "the Kafka producer failed (%s) and did not hand back %d events",
                 pub->kafka.last_error_text, rd_kafka_outq_len(pub->kafka.rk));
        return ofc_kafka_exit_code(cause);
    }
    char text[sizeof(pub->kafka.last_error_text)];
    snprintf(text, sizeof(text), "%s", pub->kafka.last_error_text);
    rd_kafka_topic_destroy(pub->topic);
    pub->topic = NULL;
    ofc_kafka_destroy(&pub->kafka);
    if (ofc_kafka_new(&pub->kafka, RD_KAFKA_PRODUCER, rd_kafka_conf_dup(pub->conf_template), pub,
                      err, errlen) != 0)
        return EX_SOFTWARE;
    pub->topic = rd_kafka_topic_new(pub->kafka.rk, pub->topic_name, NULL);
    if (!pub->topic) {
        snprintf(err, errlen, "cannot use topic '%s': %s", pub->topic_name,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return EX_SOFTWARE;
    }
    pub->recoveries++;
    ofc_warn("the Kafka producer failed (%s); a new producer re-sends the %zu events it had not "
             "confirmed (same ids and idempotency keys: a copy Kafka already had is skipped by the "
             "processor)",
             text, pub->held_count);
    resend_held(pub);
    return 0;
}

void publisher_set_trace(publisher *pub, of_str traceparent, of_str tracestate, int tracing)
{
    pub->traceparent = traceparent;
    pub->tracestate = tracestate;
    pub->tracing = tracing;
}

/* ofc_kafka_retry.wait while the queue is full. */
static void poll_publisher(void *opaque, int timeout_ms)
{
    publisher_poll(opaque, timeout_ms);
}

int publisher_send(publisher *pub, const of_order *order, of_str key_override, int generated,
                   event_origin origin, char *err, size_t errlen)
{
    char derived[OF_IDEMPOTENCY_KEY_MAX + 1];
    of_str key = key_override;
    if (!key.ptr) {
        size_t len = of_idempotency_key_derive("order_created:", order->order_id, derived);
        key = (of_str){derived, len};
    }
    char why[160];
    /* A generated order's key, "order_created:G<seed>-<n>", is printable
     * ASCII well under the length limit. */
    if (!generated && of_idempotency_key_check(key, why, sizeof(why)) != 0) {
        snprintf(err, errlen, "%s (%s)", why,
                 key_override.ptr ? "--idempotency-key"
                                  : "derived from order_id: pass --idempotency-key");
        return EX_DATAERR;
    }

    while (!pub->free_slots && !pub->authorization_failed) {
        publisher_poll(pub, 10);
        if (producer_failed_fatally(pub)) {
            int status = replace_producer(pub, err, errlen);
            if (status == EX_NOPERM)
                ofc_warn("%s", err);
            else if (status)
                return status;
        }
    }
    /* Once refused, every event fails without Kafka: reported and written
     * to --failed like the ones before it (the exit status says 77). */
    inflight_slot refused = {.origin = origin};
    inflight_slot *slot = pub->authorization_failed ? &refused : pub->free_slots;

    /* Once one event has passed the encoder's checks, what every event shares
     * (source, trace state) has too; a generated order's other strings are
     * ours (ids, time, the generator's), so checking them again would only
     * cost time. An order read from input is checked every time. */
    int check = !generated || !pub->shared_checked;
    ofc_order_record rec;
    if (ofc_order_record_encode(&rec, pub->encoder, &pub->ids, pub->source, order, key,
                                pub->traceparent, pub->tracestate, pub->tracing, check, err,
                                errlen) != 0)
        return 1;
    pub->shared_checked = 1;
    memcpy(slot->id, rec.id, sizeof(slot->id));
    if (pub->authorization_failed) goto refuse;

    rd_kafka_headers_t *headers = ofc_record_headers(&rec.ev, 0);
    if (!headers) {
        snprintf(err, errlen, "out of memory for record headers");
        return EX_OSERR;
    }
    /* A full queue: wait for room serving delivery reports and re-sends. */
    const ofc_kafka_retry retry = {
        .wait_ms = 50, .max_wait_ms = -1, .wait = poll_publisher, .opaque = pub};
    for (;;) {
        /* Copied (F_COPY): the encoder's buffer is reused for the next
         * event. The copy goes into librdkafka's one allocation for the
         * message; values kept in a pool of our own instead (no copy)
         * measured no faster. */
        const ofc_kafka_record record = /* a replaced producer has a new handle */
            ofc_order_record_kafka(&rec, pub->topic, headers, slot);
        rd_kafka_resp_err_t rc = ofc_kafka_produce(pub->kafka.rk, &record, &retry);
        if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) break;
        /* The headers are still ours when producing fails. */
        if (producer_failed_fatally(pub)) {
            int status = replace_producer(pub, err, errlen);
            if (status == EX_NOPERM) {
                rd_kafka_headers_destroy(headers);
                ofc_warn("%s", err);
                slot = &refused;
                goto refuse;
            }
            if (status) {
                rd_kafka_headers_destroy(headers);
                return status;
            }
            continue;
        }
        rd_kafka_headers_destroy(headers);
        snprintf(err, errlen, "cannot enqueue order '%.*s': %s", (int)order->order_id.len,
                 order->order_id.ptr, rd_kafka_err2str(rc));
        return rc == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? EX_DATAERR : ofc_kafka_exit_code(rc);
    }
    slot->origin = origin;
    if (pub->metrics) slot->enqueued_ns = monotonic_ns();
    pub->free_slots = slot->next;
    pub->sent++;
    return 0;
refuse:
    pub->sent++;
    record_failure(pub, slot, order->order_id.ptr, order->order_id.len, rec.value, rec.value_len,
                   pub->kafka.last_error);
    return 0;
}

void publisher_poll(publisher *pub, int timeout_ms)
{
    rd_kafka_poll(pub->kafka.rk, timeout_ms);
    if (pub->metrics) {
        ofc_health_beat(pub->metrics->health, of_monotonic_ms());
        ofc_metric_set(pub->metrics->queue, rd_kafka_outq_len(pub->kafka.rk));
    }
    if (pub->held_first) resend_held(pub);
    /* Tested first: polled after every event, the clock read would cost more than the poll. */
    if (pub->kafka.all_brokers_down &&
        ofc_kafka_unreachable_due(&pub->kafka, of_monotonic_ms(), UNREACHABLE_REPORT_INTERVAL_MS))
        ofc_warn("brokers unreachable (%s); retrying, %d events waiting "
                 "(they fail after message.timeout.ms)",
                 pub->kafka.last_error_text, rd_kafka_outq_len(pub->kafka.rk));
}

int publisher_flush(publisher *pub, int timeout_ms)
{
    int64_t deadline = of_monotonic_ms() + timeout_ms;
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR__TIMED_OUT;
    while (pub->kafka.rk) {
        if (pub->authorization_failed) break; /* said when it happened */
        if (producer_failed_fatally(pub)) {
            char err[1024];
            if (replace_producer(pub, err, sizeof(err)) != 0) {
                ofc_warn("%s", err);
                rc = RD_KAFKA_RESP_ERR__FATAL;
                break;
            }
        }
        if (pub->held_first) resend_held(pub);
        int64_t left = deadline - of_monotonic_ms();
        if (left <= 0) break;
        /* In slices: a producer that fails fatally meanwhile is replaced. */
        rc = rd_kafka_flush(pub->kafka.rk, left < 200 ? (int)left : 200);
        if (rc == RD_KAFKA_RESP_ERR_NO_ERROR && !pub->held_first && !producer_failed_fatally(pub))
            return 0;
    }
    if (pub->kafka.rk && !pub->authorization_failed) {
        /* Purged events come back through the delivery callback as failures,
         * so they are reported and written to --failed like any other. */
        ofc_warn("%d events unconfirmed after %d ms: purging them",
                 rd_kafka_outq_len(pub->kafka.rk) + (int)pub->held_count, timeout_ms);
        rd_kafka_purge(pub->kafka.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        for (int i = 0; i < 50 && pub->sent > pub->delivered + pub->failed + pub->held_count; i++)
            rd_kafka_poll(pub->kafka.rk, 100);
    }
    while (pub->held_first)
        fail_held(pub, take_held(pub), RD_KAFKA_RESP_ERR__PURGE_QUEUE);
    uint64_t unconfirmed = pub->sent - pub->delivered - pub->failed;
    pub->failed += unconfirmed;
    if (pub->first_failure == RD_KAFKA_RESP_ERR_NO_ERROR) pub->first_failure = rc;
    return -1;
}

void publisher_close(publisher *pub)
{
    if (pub->topic) rd_kafka_topic_destroy(pub->topic);
    pub->topic = NULL;
    ofc_kafka_destroy(&pub->kafka);
    while (pub->held_first)
        release_slot(pub, take_held(pub));
    if (pub->conf_template) rd_kafka_conf_destroy(pub->conf_template);
    pub->conf_template = NULL;
    of_encoder_free(pub->encoder);
    if (pub->report_json) yajl_gen_free(pub->report_json);
    free(pub->slots);
}
