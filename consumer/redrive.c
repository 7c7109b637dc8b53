/* orderflow-consumer redrive: re-publishes dead letters, once their cause is
 * fixed, to the topic and partition named in their headers, with their
 * original key, value and headers plus orderflow-redrive-count.
 *
 * It reads the dead-letter topic by assignment (no group membership) and
 * keeps its progress as committed offsets of its own group, committed only
 * after the batch before them is delivered: an interrupted run resumes
 * behind the last delivered batch. */
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "kafka/kafka.h"
#include "record/record.h"

#include "redrive.h"
#include "redrive_filters.h"
#include "restore.h"
#include "cli/startup.h"
#include "util/signals.h"

#define DEFAULT_GROUP "orderflow-redrive"
#define DEFAULT_MAX_REDRIVES 3
/* Records per batch and the longest a batch stays open: what a kill -9 can
 * leave delivered but uncommitted. */
#define BATCH_MAX 100
#define BATCH_MS 1000

typedef struct redrive_options {
    ofc_cli_common common;
    const char *group;
    const char *reason_text;
    regex_t reason;
    int has_reason;
    int64_t since_ms; /* -1: none */
    int64_t until_ms; /* -1: none */
    long long partition;
    long long offset_from, offset_to; /* -1: none */
    long long count;                  /* -1: no limit */
    long long max_redrives;
    long long rate; /* 0: as fast as delivered */
    int dry_run;
    int64_t parsed_at_ms; /* of_now_ms() then: what relative times count from */
} redrive_options;

typedef struct redrive_part {
    int32_t partition;
    int64_t start, end; /* records [start, end) are this run's */
    int64_t next;       /* the offset after the last record examined */
    int64_t committed;  /* the group's progress, -1 when none */
} redrive_part;

typedef struct batch_entry {
    int32_t part; /* index into parts */
    int64_t offset;
    long long redrive_count; /* the count the re-published record carries */
    int failed;
} batch_entry;

typedef struct redrive {
    const redrive_options *opts;
    const ofc_config *cfg;
    const char *dlq;
    ofc_kafka consumer;
    ofc_kafka producer;
    redrive_part *parts;
    int32_t part_count;
    batch_entry batch[BATCH_MAX];
    int batch_len;
    uint64_t queued;  /* handed to the producer (counts against -n) */
    uint64_t sent;    /* delivered (dry run: would be sent) */
    uint64_t skipped; /* by a filter */
    uint64_t refused; /* by the loop guard */
    uint64_t failed;  /* not a dead letter, or not delivered */
    int delivery_failed;
    /* Kafka refused the producer (an authorization error): the first one
     * and the topic it was sending to. */
    rd_kafka_resp_err_t refused_code;
    char refused_topic[256];
    redrive_reasons reasons;
    double next_send_ms; /* --rate pacing */
} redrive;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: orderflow-consumer redrive [OPTIONS]\n"
            "Re-publish dead letters to the topic and partition they came from, with their\n"
            "original key, value and headers plus orderflow-redrive-count, once the cause\n"
            "is fixed.\n"
            "\n"
            "      --dry-run              print what would be sent and a summary by reason\n"
            "      --reason REGEX         records whose orderflow-error matches (POSIX ERE)\n"
            "      --since TIME           only records written at or after TIME\n"
            "      --until TIME           only records written before TIME; TIME is RFC 3339\n"
            "                             (2026-11-30T02:00:00Z) or relative (-2h, -30m, -7d)\n"
            "      --partition N          only partition N of the dead-letter topic\n"
            "      --offset FROM[..TO]    only offsets FROM to TO (inclusive)\n"
            "  -n, --count N              send at most N records\n"
            "      --max-redrives N       refuse records already redriven N times (default 3)\n"
            "      --rate N               at most N records per second\n"
            "  -G, --group ID             progress group (default orderflow-redrive)\n"
            "  -t, --topic NAME           dead-letter topic (default order-created.dlq)\n"
            "  -b, --brokers LIST   -c, --config FILE   -X KEY=VALUE\n"
            "  -q, --quiet          no per-record lines, no summary\n"
            "  -v, --verbose        the configuration, and records a filter skipped\n"
            "  -h, --help           -V, --version\n"
            "\n"
            "Progress is committed in the group after delivery: a rerun (same group)\n"
            "sends nothing twice and resumes where an interrupted run stopped. A run's\n"
            "selection is final for its group; use another group for another selection.\n"
            "Exit: 0 ok, 1 records refused by the loop guard or not dead letters, 64 usage,\n"
            "69 broker unavailable or a record not delivered, 77 not authorized (the line\n"
            "names the kafka-acls.sh grant), 78 configuration.\n"
            "\n"
            "Example: orderflow-consumer redrive --reason 'more than [0-9]+ items' --dry-run\n");
}

/* ---- options -------------------------------------------------------------- */

enum {
    OPT_DRY_RUN = 1000,
    OPT_REASON,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_PARTITION,
    OPT_OFFSET,
    OPT_MAX_REDRIVES,
    OPT_RATE
};

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    redrive_options *opts = ctx;
    int64_t now = opts->parsed_at_ms;
    switch (opt) {
    case 'G':
        opts->group = arg;
        break;
    case 'n':
        if (ofc_cli_parse_long("-n/--count", arg, 0, INT64_MAX, &opts->count, err, errlen))
            return -1;
        break;
    case OPT_DRY_RUN:
        opts->dry_run = 1;
        break;
    case OPT_REASON: {
        if (opts->has_reason) regfree(&opts->reason);
        opts->has_reason = 0;
        int rc = regcomp(&opts->reason, arg, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char why[256];
            regerror(rc, &opts->reason, why, sizeof(why));
            snprintf(err, errlen, "--reason: '%s' is not a POSIX extended regex: %s", arg, why);
            return -1;
        }
        opts->has_reason = 1;
        opts->reason_text = arg;
        break;
    }
    case OPT_SINCE:
    case OPT_UNTIL:
        if (redrive_parse_time(opt == OPT_SINCE ? "--since" : "--until", arg, now,
                               opt == OPT_SINCE ? &opts->since_ms : &opts->until_ms, err, errlen))
            return -1;
        break;
    case OPT_PARTITION:
        if (ofc_cli_parse_long("--partition", arg, 0, INT32_MAX, &opts->partition, err, errlen))
            return -1;
        break;
    case OPT_OFFSET:
        if (redrive_parse_offset_range(arg, &opts->offset_from, &opts->offset_to, err, errlen))
            return -1;
        break;
    case OPT_MAX_REDRIVES:
        if (ofc_cli_parse_long("--max-redrives", arg, 0, 1000000, &opts->max_redrives, err, errlen))
            return -1;
        break;
    case OPT_RATE:
        if (ofc_cli_parse_long("--rate", arg, 1, 1000000, &opts->rate, err, errlen)) return -1;
        break;
    }
    return 0;
}

static int take_operands(void *ctx, int count, char **args, char *err, size_t errlen)
{
    redrive_options *opts = ctx;
    if (count > 0) {
        snprintf(err, errlen, "unexpected argument '%s'", args[0]);
        return -1;
    }
    if (opts->since_ms >= 0 && opts->until_ms >= 0 && opts->until_ms <= opts->since_ms) {
        snprintf(err, errlen, "--until must be later than --since");
        return -1;
    }
    if (!opts->group) opts->group = DEFAULT_GROUP;
    return 0;
}

/* ---- where to start and stop ---------------------------------------------- */

/* The first offset of each part's partition written at or after ms, or -1
 * when the broker knows none (Kafka: no such record; librdkafka 2.0.2's mock
 * cluster answers -1 to every time): the records' own timestamps then
 * decide, one by one. */
static int offsets_at(redrive *r, int64_t ms, int64_t *out, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(r->part_count);
    for (int32_t i = 0; i < r->part_count; i++)
        rd_kafka_topic_partition_list_add(list, r->dlq, r->parts[i].partition);
    rd_kafka_resp_err_t rc =
        ofc_kafka_offsets_at(r->consumer.rk, list, ms, r->cfg->producer_timeout_ms);
    for (int32_t i = 0; i < r->part_count && !rc; i++)
        out[i] = list->elems[i].offset;
    rd_kafka_topic_partition_list_destroy(list);
    if (rc) {
        snprintf(err, errlen, "cannot find the offsets of %s at a time: %s", r->dlq,
                 rd_kafka_err2str(rc));
        return ofc_kafka_exit_code(rc);
    }
    return 0;
}

static int plan(redrive *r, char *err, size_t errlen)
{
    const redrive_options *opts = r->opts;
    ofc_topic_info info = {r->dlq, 0};
    int status = ofc_kafka_describe_topics(&r->consumer, r->cfg->brokers, &info, 1,
                                           r->cfg->producer_timeout_ms, err, errlen);
    if (status) return status;
    if (info.partition_count == 0) {
        snprintf(err, errlen, "dead-letter topic '%s' does not exist on %s", r->dlq,
                 r->cfg->brokers);
        return EX_UNAVAILABLE;
    }
    if (opts->partition >= info.partition_count) {
        snprintf(err, errlen, "--partition %lld: '%s' has partitions 0..%d", opts->partition,
                 r->dlq, info.partition_count - 1);
        return EX_USAGE;
    }
    r->part_count = opts->partition >= 0 ? 1 : info.partition_count;
    r->parts = calloc((size_t)r->part_count, sizeof(*r->parts));
    int64_t *at = calloc((size_t)r->part_count, sizeof(*at));
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(r->part_count);
    if (!r->parts || !at) {
        snprintf(err, errlen, "out of memory for %d partitions", r->part_count);
        status = EX_OSERR;
        goto out;
    }
    for (int32_t i = 0; i < r->part_count; i++) {
        r->parts[i].partition = opts->partition >= 0 ? (int32_t)opts->partition : i;
        rd_kafka_topic_partition_list_add(list, r->dlq, r->parts[i].partition);
    }
    rd_kafka_resp_err_t rc = rd_kafka_committed(r->consumer.rk, list, r->cfg->producer_timeout_ms);
    if (rc == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
        /* Read: the progress is committed there too. */
        status = ofc_kafka_denied(&r->consumer, "Read", "group", opts->group, 0, err, errlen);
        goto out;
    }
    if (rc) {
        snprintf(err, errlen, "cannot read the progress of group '%s': %s", opts->group,
                 rd_kafka_err2str(rc));
        status = ofc_kafka_exit_code(rc);
        goto out;
    }
    for (int32_t i = 0; i < r->part_count; i++) {
        redrive_part *part = &r->parts[i];
        int64_t low = 0, high = 0;
        rc = rd_kafka_query_watermark_offsets(r->consumer.rk, r->dlq, part->partition, &low, &high,
                                              r->cfg->producer_timeout_ms);
        if (!rc) rc = list->elems[i].err;
        if (rc) {
            snprintf(err, errlen, "cannot read the offsets of %s [%" PRId32 "]: %s", r->dlq,
                     part->partition, rd_kafka_err2str(rc));
            status = ofc_kafka_exit_code(rc);
            goto out;
        }
        part->committed = list->elems[i].offset >= 0 ? list->elems[i].offset : -1;
        /* Records taken by retention are gone; ones written during the run
         * (a redriven record dead-lettered again) are the next run's. */
        part->start = part->committed > low ? part->committed : low;
        list->elems[i].offset = part->start;
        part->end = high;
        if (opts->offset_from > part->start) part->start = opts->offset_from;
        if (opts->offset_to >= 0 && opts->offset_to + 1 < part->end)
            part->end = opts->offset_to + 1;
    }
    if (opts->since_ms >= 0) {
        if ((status = offsets_at(r, opts->since_ms, at, err, errlen)) != 0) goto out;
        for (int32_t i = 0; i < r->part_count; i++)
            if (at[i] > r->parts[i].start) r->parts[i].start = at[i];
    }
    if (opts->until_ms >= 0) {
        if ((status = offsets_at(r, opts->until_ms, at, err, errlen)) != 0) goto out;
        for (int32_t i = 0; i < r->part_count; i++)
            if (at[i] >= 0 && at[i] < r->parts[i].end) r->parts[i].end = at[i];
    }
    if (!opts->dry_run) {
        /* Read on the group, which committing the progress needs, is
         * checked before anything is sent: by committing where a run
         * starts without filters (the group's progress, or the first record
         * kept), which changes nothing for this run or the next. */
        rc = rd_kafka_commit(r->consumer.rk, list, 0);
        for (int i = 0; !rc && i < list->cnt; i++)
            rc = list->elems[i].err;
        if (rc == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
            status = ofc_kafka_denied(&r->consumer, "Read", "group", opts->group, 0, err, errlen);
        } else if (ofc_kafka_is_authorization_error(rc)) {
            /* Committing an offset of a topic takes Read on it too. */
            status = ofc_kafka_refusal(&r->consumer, rc, r->dlq, NULL, err, errlen);
        } else if (rc) {
            snprintf(err, errlen, "cannot commit the progress of group '%s': %s", opts->group,
                     rd_kafka_err2str(rc));
            status = ofc_kafka_exit_code(rc);
        } else {
            for (int32_t i = 0; i < r->part_count; i++)
                r->parts[i].committed = list->elems[i].offset;
        }
    }
out:
    rd_kafka_topic_partition_list_destroy(list);
    free(at);
    return status;
}

/* ---- sending ---------------------------------------------------------------- */

/* 1 when a failure to send to topic is Kafka refusing the producer: no
 * Write on the topic, or (a fatal error) its idempotent producer id, which
 * Write on no topic at all costs. The first is kept for the run's one line. */
static int refused(redrive *r, rd_kafka_resp_err_t code, const char *topic)
{
    char why[256];
    if (code == RD_KAFKA_RESP_ERR__FATAL || code == RD_KAFKA_RESP_ERR__PURGE_QUEUE) {
        /* librdkafka 2.16.0 fails the queued records of a producer whose
         * idempotent producer id Kafka refused as purged, where 2.0.2 says
         * fatal: the refusal is the handle's fatal or last error. */
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(r->producer.rk, why, sizeof(why));
        if (fatal)
            code = fatal;
        else if (ofc_kafka_is_authorization_error(r->producer.last_error))
            code = r->producer.last_error;
    }
    if (!ofc_kafka_is_authorization_error(code)) return 0;
    if (!r->refused_code) {
        r->refused_code = code;
        snprintf(r->refused_topic, sizeof(r->refused_topic), "%s", topic);
    }
    return 1;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    redrive *r = ofc_kafka_app_opaque(opaque);
    batch_entry *e = &r->batch[(uintptr_t)msg->_private];
    const redrive_part *part = &r->parts[e->part];
    if (msg->err) {
        e->failed = 1;
        r->failed++;
        r->delivery_failed = 1;
        /* Said once, for the run, with the grant (run). */
        if (refused(r, msg->err, rd_kafka_topic_name(msg->rkt))) return;
        ofc_warn("%s p%" PRId32 "@%" PRId64 " not delivered to %s [%" PRId32 "]: %s", r->dlq,
                 part->partition, e->offset, rd_kafka_topic_name(msg->rkt), msg->partition,
                 rd_kafka_err2str(msg->err));
        return;
    }
    r->sent++;
    if (!r->opts->common.quiet)
        printf("sent        %s p%" PRId32 "@%" PRId64 " -> %s p%" PRId32 "@%" PRId64
               "  key %.*s  redrive %lld\n",
               r->dlq, part->partition, e->offset, rd_kafka_topic_name(msg->rkt), msg->partition,
               msg->offset, (int)(msg->key_len > 64 ? 64 : msg->key_len),
               msg->key ? (const char *)msg->key : "", e->redrive_count);
}

/* Copies a header value into a C string; 0, or -1 when absent or too long. */
static int header_text(rd_kafka_headers_t *headers, const char *name, char *out, size_t outlen)
{
    const void *value;
    size_t len;
    if (!headers || rd_kafka_header_get_last(headers, name, &value, &len) || !value ||
        len + 1 > outlen)
        return -1;
    memcpy(out, value, len);
    out[len] = '\0';
    return 0;
}

static void record_line(redrive *r, const char *what, const rd_kafka_message_t *msg,
                        const char *detail)
{
    if (r->opts->common.quiet) return;
    printf("%-11s %s p%" PRId32 "@%" PRId64 "  key %.*s  %s\n", what, r->dlq, msg->partition,
           msg->offset, (int)(msg->key_len > 64 ? 64 : msg->key_len),
           msg->key ? (const char *)msg->key : "", detail);
}

static void pace(redrive *r)
{
    if (!r->opts->rate) return;
    double now = (double)of_monotonic_ms();
    if (r->next_send_ms < now) r->next_send_ms = now;
    while ((double)of_monotonic_ms() < r->next_send_ms && !ofc_stop_signal) {
        int wait = (int)(r->next_send_ms - (double)of_monotonic_ms()) + 1;
        if (r->producer.rk)
            rd_kafka_poll(r->producer.rk, wait);
        else
            usleep((useconds_t)wait * 1000);
    }
    r->next_send_ms += 1000.0 / (double)r->opts->rate;
}

/* Sends (or in a dry run shows) one dead letter. Returns 0, or -1 when the
 * record must not be passed: -n is reached or it could not be queued. */
static int examine(redrive *r, int32_t part_index, rd_kafka_message_t *msg)
{
    const redrive_options *opts = r->opts;
    rd_kafka_headers_t *headers = NULL;
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) headers = NULL;
    const void *reason = NULL;
    size_t reason_len = 0;
    if (!headers ||
        rd_kafka_header_get_last(headers, OF_DEAD_LETTER_ERROR_HEADER, &reason, &reason_len) ||
        !reason) {
        reason = "";
        reason_len = 0;
    }
    char reason_c[1024];
    snprintf(reason_c, sizeof(reason_c), "%.*s", (int)reason_len, (const char *)reason);

    int64_t ts = rd_kafka_message_timestamp(msg, NULL);
    int selected = !opts->has_reason || regexec(&opts->reason, reason_c, 0, NULL, 0) == 0;
    if (selected && opts->since_ms >= 0 && ts >= 0 && ts < opts->since_ms) selected = 0;
    if (selected && opts->until_ms >= 0 && ts >= 0 && ts >= opts->until_ms) selected = 0;
    if (!selected) {
        r->skipped++;
        if (opts->common.verbose) record_line(r, "skipped", msg, reason_c);
        return 0;
    }
    if (opts->count >= 0 && r->queued >= (uint64_t)opts->count) return -1;

    char topic[256], partition_text[16], count_text[24];
    if (header_text(headers, OF_SOURCE_TOPIC_HEADER, topic, sizeof(topic)) || !topic[0]) {
        r->failed++;
        record_line(r, "failed", msg, "no orderflow-source-topic header: not a dead letter");
        return 0;
    }
    if (strcmp(topic, r->dlq) == 0) {
        r->failed++;
        record_line(r, "failed", msg, "orderflow-source-topic names the dead-letter topic itself");
        return 0;
    }
    long long redrives = 0;
    if (header_text(headers, OF_REDRIVE_COUNT_HEADER, count_text, sizeof(count_text)) == 0) {
        char *end = NULL;
        redrives = strtoll(count_text, &end, 10);
        if (end == count_text || *end || redrives < 0) {
            r->failed++;
            record_line(r, "failed", msg, "orderflow-redrive-count header is not a count");
            return 0;
        }
    }
    if (redrives >= opts->max_redrives) {
        char detail[1200];
        snprintf(detail, sizeof(detail), "already redriven %lld times (--max-redrives %lld): %s",
                 redrives, opts->max_redrives, reason_c);
        r->refused++;
        record_line(r, "refused", msg, detail);
        return 0;
    }
    /* Back to the partition it came from: the processor remembers the keys
     * it processed per partition, so a redriven order it already processed
     * is found there as a duplicate. */
    int32_t target = RD_KAFKA_PARTITION_UA;
    if (header_text(headers, OF_SOURCE_PARTITION_HEADER, partition_text, sizeof(partition_text)) ==
        0) {
        char *end = NULL;
        long n = strtol(partition_text, &end, 10);
        if (end != partition_text && !*end && n >= 0 && n <= INT32_MAX) target = (int32_t)n;
    }
    redrive_reasons_add(&r->reasons, reason_c, strlen(reason_c));
    r->queued++;
    if (opts->dry_run) {
        char detail[1400];
        snprintf(detail, sizeof(detail), "-> %s p%" PRId32 "  redrive %lld  (%s)", topic, target,
                 redrives + 1, reason_c);
        record_line(r, "would send", msg, detail);
        r->sent++;
        return 0;
    }

    rd_kafka_headers_t *out = headers ? rd_kafka_headers_copy(headers) : rd_kafka_headers_new(1);
    ofc_dead_letter_headers_remove(out);
    rd_kafka_header_remove(out, OF_REDRIVE_COUNT_HEADER);
    snprintf(count_text, sizeof(count_text), "%lld", redrives + 1);
    ofc_kafka_header_add(out, OF_REDRIVE_COUNT_HEADER, count_text, strlen(count_text));

    batch_entry *e = &r->batch[r->batch_len];
    *e = (batch_entry){.part = part_index, .offset = msg->offset, .redrive_count = redrives + 1};
    pace(r);
    const ofc_kafka_record rec = {
        .topic_name = topic,
        .partition = target,
        .key = msg->key,
        .key_len = msg->key_len,
        .value = msg->payload,
        .value_len = msg->len,
        .headers = out,
        .opaque = (void *)(uintptr_t)r->batch_len,
    };
    /* A full queue empties as deliveries end (message.timeout.ms bounds each). */
    const ofc_kafka_retry retry = {.wait_ms = 10, .max_wait_ms = -1};
    rd_kafka_resp_err_t rc = ofc_kafka_produce(r->producer.rk, &rec, &retry);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(out);
        r->queued--;
        r->failed++;
        r->delivery_failed = 1;
        if (!refused(r, rc, topic))
            ofc_warn("%s p%" PRId32 "@%" PRId64 ": cannot produce to %s: %s", r->dlq,
                     msg->partition, msg->offset, topic, rd_kafka_err2str(rc));
        return -1;
    }
    r->batch_len++;
    return 0;
}

/* Waits for the batch, then commits each partition's progress up to its
 * first undelivered record. Returns 0 or a sysexits status. */
static int finish_batch(redrive *r, char *err, size_t errlen)
{
    if (r->opts->dry_run) return 0;
    if (r->batch_len) {
        /* message.timeout.ms bounds every delivery, so the flush ends. */
        while (rd_kafka_outq_len(r->producer.rk) > 0)
            rd_kafka_flush(r->producer.rk, 1000);
        for (int i = 0; i < r->batch_len; i++) {
            redrive_part *part = &r->parts[r->batch[i].part];
            if (r->batch[i].failed && r->batch[i].offset < part->next)
                part->next = r->batch[i].offset;
        }
        r->batch_len = 0;
    }
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int32_t i = 0; i < r->part_count; i++) {
        redrive_part *part = &r->parts[i];
        if (part->next <= part->committed) continue;
        if (!list) list = rd_kafka_topic_partition_list_new(r->part_count);
        rd_kafka_topic_partition_list_add(list, r->dlq, part->partition)->offset = part->next;
    }
    if (!list) return 0;
    rd_kafka_resp_err_t rc = rd_kafka_commit(r->consumer.rk, list, 0);
    for (int i = 0; !rc && i < list->cnt; i++)
        rc = list->elems[i].err;
    if (!rc) {
        for (int32_t i = 0; i < r->part_count; i++)
            if (r->parts[i].next > r->parts[i].committed) r->parts[i].committed = r->parts[i].next;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (rc == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
        int status =
            ofc_kafka_denied(&r->consumer, "Read", "group", r->opts->group, 0, err, errlen);
        snprintf(err + strlen(err), errlen - strlen(err),
                 " (the last batch was delivered: a rerun sends it again, the processor skips "
                 "what it already processed)");
        return status;
    }
    if (rc) {
        snprintf(err, errlen,
                 "cannot commit the progress of group '%s': %s; the last batch was delivered, "
                 "and a rerun sends it again (the processor skips what it already processed)",
                 r->opts->group, rd_kafka_err2str(rc));
        return ofc_kafka_exit_code(rc);
    }
    return 0;
}

/* ofc_range.on_done: a partition read to its end is paused, only to save
 * fetches: a failure costs nothing but those. */
static void pause_done(void *opaque, int part_index)
{
    redrive *r = opaque;
    int32_t partition = r->parts[part_index].partition;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, r->dlq, partition);
    rd_kafka_resp_err_t rc = rd_kafka_pause_partitions(r->consumer.rk, list);
    if (rc && r->opts->common.verbose)
        ofc_warn("cannot pause %s [%" PRId32 "]: %s", r->dlq, partition, rd_kafka_err2str(rc));
    rd_kafka_topic_partition_list_destroy(list);
}

static int run(redrive *r, char *err, size_t errlen)
{
    ofc_range_part *range_parts = calloc((size_t)r->part_count, sizeof(*range_parts));
    if (!range_parts) {
        snprintf(err, errlen, "out of memory for %d partitions", r->part_count);
        return EX_OSERR;
    }
    for (int32_t i = 0; i < r->part_count; i++) {
        redrive_part *part = &r->parts[i];
        part->next = part->start;
        range_parts[i] = (ofc_range_part){r->dlq, part->partition, part->start, part->end, 0};
    }
    ofc_range range = {.on_done = pause_done, .opaque = r};
    rd_kafka_resp_err_t rc = ofc_range_open(&range, r->consumer.rk, range_parts, r->part_count);
    if (rc) {
        snprintf(err, errlen, "cannot assign %s: %s", r->dlq, rd_kafka_err2str(rc));
        free(range_parts);
        return ofc_kafka_exit_code(rc);
    }
    int stop = 0, status = 0;
    while (!stop && range.left > 0 && !ofc_stop_signal) {
        int64_t batch_end = of_monotonic_ms() + BATCH_MS;
        while (!stop && range.left > 0 && !ofc_stop_signal && r->batch_len < BATCH_MAX &&
               of_monotonic_ms() < batch_end) {
            /* One at a time: the batch may fill at any record. */
            rd_kafka_message_t *msg = NULL;
            size_t n = ofc_range_read(&range, &msg, 1, 100);
            if (r->producer.rk) rd_kafka_poll(r->producer.rk, 0);
            if (!n) {
                if (r->consumer.fatal) {
                    snprintf(err, errlen, "%s", r->consumer.last_error_text);
                    status = EX_SOFTWARE;
                    stop = 1;
                }
                continue;
            }
            int32_t i = ofc_range_find(&range, msg);
            redrive_part *part = i >= 0 ? &r->parts[i] : NULL;
            if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* Everything readable is read (with read_committed, an open
                 * transaction holds the rest back: the next run's). */
                int64_t at = msg->offset < part->end ? msg->offset : part->end;
                if (at > part->next) part->next = at;
            } else if (ofc_kafka_is_authorization_error(msg->err)) {
                status = ofc_kafka_refusal(&r->consumer, msg->err, r->dlq, NULL, err, errlen);
                stop = 1;
            } else if (msg->err) {
                /* Errors of no partition of this run's, or of one already
                 * read, are not this run's concern. */
                if (part && !range.parts[i].done) {
                    ofc_warn("%s", rd_kafka_message_errstr(msg));
                    if (msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                        msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                        msg->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
                        snprintf(err, errlen, "reading %s [%" PRId32 "]: %s", r->dlq,
                                 msg->partition, rd_kafka_err2str(msg->err));
                        status = ofc_kafka_exit_code(msg->err);
                        stop = 1;
                    }
                }
            } else if (msg->offset >= part->next) {
                if (examine(r, i, msg) != 0)
                    stop = 1;
                else
                    part->next = msg->offset + 1;
            }
            rd_kafka_message_destroy(msg);
        }
        if (!status) status = finish_batch(r, err, errlen);
        if (r->delivery_failed || status) stop = 1;
    }
    ofc_range_close(&range);
    free(range_parts);
    if (r->refused_code && !status) {
        status =
            ofc_kafka_refusal(&r->producer, r->refused_code, r->refused_topic, NULL, err, errlen);
        snprintf(err + strlen(err), errlen - strlen(err),
                 "; nothing after the first refused record is committed: a rerun sends it");
    } else if (r->delivery_failed && !status) {
        snprintf(err, errlen,
                 "stopped at the first record not delivered; its partition's progress stays "
                 "before it, so a rerun tries it again");
        status = EX_UNAVAILABLE;
    }
    return status;
}

/* ---- main ----------------------------------------------------------------- */

static int open_clients(redrive *r, char *err, size_t errlen)
{
    const ofc_kafka_setting consumer_forced[] = {
        {"group.id", r->opts->group},
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(r->cfg, NULL, consumer_forced, err, errlen);
    if (!conf) return EX_CONFIG;
    if (ofc_kafka_new(&r->consumer, RD_KAFKA_CONSUMER, conf, r, err, errlen) != 0)
        return EX_SOFTWARE;
    rd_kafka_poll_set_consumer(r->consumer.rk);
    if (r->opts->dry_run) return 0;

    char timeout[24], message_max[32];
    snprintf(timeout, sizeof(timeout), "%d", r->cfg->producer_timeout_ms);
    /* A dead letter is its input plus headers: room for the largest input. */
    snprintf(message_max, sizeof(message_max), "%zu",
             ofc_kafka_dead_letter_message_max(r->cfg->limits.max_record_bytes));
    const ofc_kafka_setting producer_defaults[] = {
        {"message.timeout.ms", timeout},
        {"message.max.bytes", message_max},
        {"linger.ms", "5"},
        {NULL, NULL},
    };
    conf = ofc_kafka_producer_conf_new(r->cfg, producer_defaults, err, errlen);
    if (!conf) return EX_CONFIG;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    if (ofc_kafka_new(&r->producer, RD_KAFKA_PRODUCER, conf, r, err, errlen) != 0)
        return EX_SOFTWARE;
    return 0;
}

static void print_summary(const redrive *r, int status)
{
    const redrive_options *opts = r->opts;
    if (opts->common.quiet) return;
    /* Failed before a record was read (no broker, no topic): the error says
     * all there is; an empty table after it would only look like a result. */
    if (status && !r->sent && !r->skipped && !r->refused && !r->failed) return;
    if (opts->dry_run || opts->common.verbose) {
        ofc_warn("%s, by reason:", opts->dry_run ? "would send" : "sent");
        for (size_t i = 0; i < r->reasons.kind_count; i++)
            fprintf(stderr, "%8" PRIu64 "  %s\n", r->reasons.kinds[i].count,
                    r->reasons.kinds[i].text);
        if (r->reasons.others)
            fprintf(stderr, "%8" PRIu64 "  (other reasons)\n", r->reasons.others);
    }
    ofc_warn("%s%" PRIu64 " %s, %" PRIu64 " skipped by filter, %" PRIu64
             " refused by the loop guard, %" PRIu64 " failed%s",
             opts->dry_run ? "dry run, nothing sent: " : "", r->sent,
             opts->dry_run ? "would be sent" : "sent", r->skipped, r->refused, r->failed,
             ofc_stop_signal && !status ? " (stopped by a signal; a rerun resumes)" : "");
}

int redrive_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"group", required_argument, NULL, 'G'},
        {"count", required_argument, NULL, 'n'},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"reason", required_argument, NULL, OPT_REASON},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"partition", required_argument, NULL, OPT_PARTITION},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"max-redrives", required_argument, NULL, OPT_MAX_REDRIVES},
        {"rate", required_argument, NULL, OPT_RATE},
        {NULL, 0, NULL, 0},
    };
    static const ofc_startup startup = {
        OFC_STARTUP_PROGRAM("orderflow-consumer redrive", "orderflow-consumer", usage, longopts,
                            take_option),
        .flags = OFC_STARTUP_STOP_SIGNALS,
        .short_options = "G:n:",
        .operands = take_operands,
    };
    redrive_options opts = {
        .since_ms = -1,
        .until_ms = -1,
        .partition = -1,
        .offset_from = -1,
        .offset_to = -1,
        .count = -1,
        .max_redrives = DEFAULT_MAX_REDRIVES,
        .parsed_at_ms = (int64_t)of_now_ms(),
    };
    ofc_config cfg;
    int status = ofc_startup_run(&startup, &opts, argc, argv, &opts.common, &cfg, NULL);
    if (status != OFC_STARTUP_CONTINUE) {
        if (opts.has_reason) regfree(&opts.reason);
        return status;
    }
    char err[1024];
    redrive *r = calloc(1, sizeof(*r));
    if (!r) {
        ofc_warn("out of memory");
        ofc_config_free(&cfg);
        if (opts.has_reason) regfree(&opts.reason);
        return EX_OSERR;
    }
    r->opts = &opts;
    r->cfg = &cfg;
    r->dlq = opts.common.topic ? opts.common.topic : cfg.topic_dead_letter;
    static char stdout_buffer[1 << 16];
    setvbuf(stdout, stdout_buffer, _IOLBF, sizeof(stdout_buffer));

    status = open_clients(r, err, sizeof(err));
    if (!status) status = plan(r, err, sizeof(err));
    if (!status) status = run(r, err, sizeof(err));
    if (status) ofc_warn("%s", err);
    if (fflush(stdout) != 0 && !status) status = EX_IOERR;
    print_summary(r, status);
    if (!status && (r->refused || r->failed)) status = 1;

    if (r->consumer.rk) rd_kafka_consumer_close(r->consumer.rk);
    ofc_kafka_destroy(&r->consumer);
    ofc_kafka_destroy(&r->producer);
    free(r->parts);
    free(r);
    ofc_config_free(&cfg);
    if (opts.has_reason) regfree(&opts.reason);
    return status;
}
