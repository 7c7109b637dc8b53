#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/cli.h"
#include <orderflow/dedup.h>
#include <orderflow/envelope.h>
#include "kafka/kafka.h"

#include "cli/log.h"

#include "restore.h"
#include "cli/startup.h"
#include "util/signals.h"
#include "tail.h"

#define DEFAULT_WINDOW 1000000

typedef struct tail_options {
    ofc_cli_common common;
    const char *topic;
    int from_beginning;
    int exit_at_end;
    long long count; /* -1: unlimited */
    int json;
    int raw;
    long long window;
} tail_options;

typedef struct tail_state {
    const tail_options *opts;
    ofc_kafka consumer;
    of_decoder *decoder;
    of_dedup *seen;
    uint64_t shown;
    uint64_t duplicates; /* records whose key was already seen */
    uint64_t undecodable;
    int32_t partition_count;
    uint8_t *at_end;
    int32_t partitions_at_end;
} tail_state;

static void usage(FILE *out)
{
    fprintf(out, "Usage: orderflow-consumer tail [OPTIONS] [TOPIC]\n"
                 "Follow TOPIC (default data-processed), printing each event once per\n"
                 "idempotency key.\n"
                 "\n"
                 "      --from-beginning       start at the oldest record (default: new ones)\n"
                 "  -e, --exit-at-end          exit when every partition is read to its end\n"
                 "  -n, --count N              exit after N events\n"
                 "      --json                 print each record value as one JSON line\n"
                 "      --raw                  print duplicates too\n"
                 "      --window N             keys remembered for dedup (default 1000000)\n"
                 "  -b, --brokers LIST   -c, --config FILE   -X KEY=VALUE   -t, --topic NAME\n"
                 "  -q, --quiet          no summary on stderr\n"
                 "  -v, --verbose        the configuration, and each event's trace-id\n"
                 "  -h, --help           -V, --version\n"
                 "\n"
                 "Example: orderflow-consumer tail --from-beginning -e --json | jq .data\n");
}

enum { OPT_FROM_BEGINNING = 1000, OPT_JSON, OPT_RAW, OPT_WINDOW };

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    tail_options *opts = ctx;
    switch (opt) {
    case OPT_FROM_BEGINNING:
        opts->from_beginning = 1;
        break;
    case 'e':
        opts->exit_at_end = 1;
        break;
    case 'n':
        return ofc_cli_parse_long("-n/--count", arg, 0, INT64_MAX, &opts->count, err, errlen);
    case OPT_JSON:
        opts->json = 1;
        break;
    case OPT_RAW:
        opts->raw = 1;
        break;
    case OPT_WINDOW:
        return ofc_cli_parse_long("--window", arg, 1, 100000000, &opts->window, err, errlen);
    }
    return 0;
}

/* [TOPIC], or -t. */
static int take_operands(void *ctx, int count, char **args, char *err, size_t errlen)
{
    tail_options *opts = ctx;
    if (count > 0) opts->topic = args[0];
    if (count > 1) {
        snprintf(err, errlen, "unexpected argument '%s' (one TOPIC at most)", args[1]);
        return -1;
    }
    if (opts->topic && opts->common.topic) {
        snprintf(err, errlen, "give the topic either as TOPIC or with -t, not both");
        return -1;
    }
    if (!opts->topic) opts->topic = opts->common.topic;
    return 0;
}

static void print_header_text(FILE *out, rd_kafka_message_t *msg, const char *name)
{
    const void *value;
    size_t len;
    if (ofc_kafka_header_get(msg, name, &value, &len) == 0)
        fprintf(out, "%.*s", (int)(len > 200 ? 200 : len), (const char *)value);
    else
        fputs("?", out);
}

static void print_human(tail_state *t, rd_kafka_message_t *msg, const of_event *ev, int decoded)
{
    FILE *out = stdout;
    const char *topic = rd_kafka_topic_name(msg->rkt);
    if (!decoded) {
        fprintf(out, "%s p%" PRId32 "@%" PRId64 "  not an event", topic, msg->partition,
                msg->offset);
        const void *value;
        size_t len;
        if (ofc_kafka_header_get(msg, OF_DEAD_LETTER_ERROR_HEADER, &value, &len) == 0) {
            fputs(": dead letter from ", out);
            print_header_text(out, msg, OF_SOURCE_TOPIC_HEADER);
            fputs(" p", out);
            print_header_text(out, msg, OF_SOURCE_PARTITION_HEADER);
            fputs("@", out);
            print_header_text(out, msg, OF_SOURCE_OFFSET_HEADER);
            fprintf(out, ": %.*s", (int)(len > 300 ? 300 : len), (const char *)value);
        }
        fputc('\n', out);
        return;
    }
    if (ev->type == OF_EVENT_DATA_PROCESSED) {
        const of_processed *d = &ev->data.processed;
        fprintf(out, "%-10.*s %-8s", (int)d->order_id.len, d->order_id.ptr,
                d->status == OF_STATUS_ACCEPTED ? "accepted" : "rejected");
        if (d->status == OF_STATUS_ACCEPTED)
            fprintf(out, " %" PRId64 ".%02" PRId64 " %.*s  %" PRId64 " item%s, qty %" PRId64,
                    d->total_cents / 100, d->total_cents % 100, (int)d->currency.len,
                    d->currency.ptr, d->item_count, d->item_count == 1 ? "" : "s",
                    d->quantity_total);
        else
            fprintf(out, " %.*s", (int)d->reason.len, d->reason.ptr);
    } else {
        const of_order *o = &ev->data.order;
        fprintf(out, "%-10.*s %-8s %zu item%s %.*s", (int)o->order_id.len, o->order_id.ptr,
                "created", o->item_count, o->item_count == 1 ? "" : "s", (int)o->currency.len,
                o->currency.ptr);
    }
    fprintf(out, "  [%s p%" PRId32 "@%" PRId64 "  %.*s]", topic, msg->partition, msg->offset,
            (int)ev->idempotencykey.len, ev->idempotencykey.ptr);
    /* The trace-id is the part of traceparent a tracing backend finds a
     * trace by (docs/architecture.md, "Trace context"). */
    if (t->opts->common.verbose)
        fprintf(out, "  trace %.32s", ev->traceparent.ptr ? ev->traceparent.ptr + 3 : "-");
    fputc('\n', out);
}

/* Returns 1 when the record was shown. */
static int show(tail_state *t, rd_kafka_message_t *msg)
{
    of_event ev;
    char why[256];
    int decoded =
        of_decode_event(t->decoder, msg->payload, msg->len, &ev, why, sizeof(why)) == OF_OK;
    if (!decoded) t->undecodable++;
    const void *key = NULL;
    size_t key_len = 0;
    if (ofc_kafka_header_get(msg, OF_IDEMPOTENCY_KEY_HEADER, &key, &key_len) != 0 && decoded) {
        key = ev.idempotencykey.ptr;
        key_len = ev.idempotencykey.len;
    }
    if (key && !of_dedup_insert(t->seen, key, key_len)) {
        t->duplicates++;
        if (!t->opts->raw) return 0;
    }
    if (t->opts->json) {
        fwrite(msg->payload, 1, msg->len, stdout);
        fputc('\n', stdout);
    } else {
        print_human(t, msg, &ev, decoded);
    }
    t->shown++;
    return 1;
}

static int assign_all(tail_state *t, const ofc_config *cfg, char *err, size_t errlen)
{
    ofc_topic_info info = {t->opts->topic, 0};
    int status = ofc_kafka_describe_topics(&t->consumer, cfg->brokers, &info, 1,
                                           cfg->producer_timeout_ms, err, errlen);
    if (status) return status;
    if (info.partition_count == 0) {
        snprintf(err, errlen, "topic '%s' does not exist on %s", info.name, cfg->brokers);
        return EX_UNAVAILABLE;
    }
    t->partition_count = info.partition_count;
    t->at_end = calloc((size_t)info.partition_count, 1);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(info.partition_count);
    for (int32_t i = 0; i < info.partition_count; i++)
        rd_kafka_topic_partition_list_add(list, info.name, i)->offset =
            t->opts->from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    rd_kafka_resp_err_t rc = rd_kafka_assign(t->consumer.rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (rc || !t->at_end) {
        snprintf(err, errlen, "cannot assign '%s': %s", info.name,
                 rc ? rd_kafka_err2str(rc) : "out of memory");
        return rc ? ofc_kafka_exit_code(rc) : EX_OSERR;
    }
    return 0;
}

static int follow(tail_state *t)
{
    const tail_options *opts = t->opts;
    while (!ofc_stop_signal) {
        if (opts->count >= 0 && t->shown >= (uint64_t)opts->count) return EX_OK;
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(t->consumer.rk, 0);
        if (!msg) {
            /* Nothing more fetched yet: show what we have now, so a pipe
             * sees events as they come, not when the buffer fills. */
            fflush(stdout);
            msg = rd_kafka_consumer_poll(t->consumer.rk, 200);
        }
        if (!msg) {
            if (t->consumer.fatal) {
                ofc_warn("%s", t->consumer.last_error_text);
                return EX_SOFTWARE;
            }
            continue;
        }
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* A partition caught up: show what we have (on a busy topic
             * there is always some event or end-of-partition to poll, and
             * the flush above would wait for a full buffer). */
            fflush(stdout);
            if (msg->partition >= 0 && msg->partition < t->partition_count &&
                !t->at_end[msg->partition]) {
                t->at_end[msg->partition] = 1;
                t->partitions_at_end++;
            }
            rd_kafka_message_destroy(msg);
            if (opts->exit_at_end && t->partitions_at_end == t->partition_count) return EX_OK;
            continue;
        }
        if (msg->err) {
            ofc_warn("%s", rd_kafka_message_errstr(msg));
            int fatal = msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                        msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
            rd_kafka_message_destroy(msg);
            if (fatal) return EX_UNAVAILABLE;
            continue;
        }
        if (msg->partition >= 0 && msg->partition < t->partition_count &&
            t->at_end[msg->partition]) {
            t->at_end[msg->partition] = 0;
            t->partitions_at_end--;
        }
        show(t, msg);
        rd_kafka_message_destroy(msg);
    }
    return EX_OK;
}

int tail_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"from-beginning", no_argument, NULL, OPT_FROM_BEGINNING},
        {"exit-at-end", no_argument, NULL, 'e'},
        {"count", required_argument, NULL, 'n'},
        {"json", no_argument, NULL, OPT_JSON},
        {"raw", no_argument, NULL, OPT_RAW},
        {"window", required_argument, NULL, OPT_WINDOW},
        {NULL, 0, NULL, 0},
    };
    static const ofc_startup startup = {
        OFC_STARTUP_PROGRAM("orderflow-consumer tail", "orderflow-consumer", usage, longopts,
                            take_option),
        .flags = OFC_STARTUP_STOP_SIGNALS,
        .short_options = "en:",
        .operands = take_operands,
    };
    tail_options opts = {.count = -1, .window = DEFAULT_WINDOW};
    ofc_config cfg;
    int status = ofc_startup_run(&startup, &opts, argc, argv, &opts.common, &cfg, NULL);
    if (status != OFC_STARTUP_CONTINUE) return status;
    char err[1024];
    if (!opts.topic) opts.topic = cfg.topic_data_processed;

    /* No group membership and no commits: a tail never disturbs the stage. */
    const ofc_kafka_setting forced[] = {
        {"group.id", "orderflow-tail"},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
        {NULL, NULL},
    };
    tail_state t = {.opts = &opts};
    static char stdout_buffer[1 << 16];
    setvbuf(stdout, stdout_buffer, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof(stdout_buffer));
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(&cfg, NULL, forced, err, sizeof(err));
    status = conf ? 0 : EX_CONFIG;
    if (!status && ofc_kafka_new(&t.consumer, RD_KAFKA_CONSUMER, conf, &t, err, sizeof(err)) != 0)
        status = EX_SOFTWARE;
    if (!status) {
        t.decoder = of_decoder_new(&cfg.limits);
        t.seen = of_dedup_new((size_t)opts.window);
        if (!t.decoder || !t.seen) {
            snprintf(err, sizeof(err), "out of memory for a %lld-key window", opts.window);
            status = EX_OSERR;
        }
    }
    if (!status) {
        rd_kafka_poll_set_consumer(t.consumer.rk);
        status = assign_all(&t, &cfg, err, sizeof(err));
    }
    if (status) {
        ofc_warn("%s", err);
    } else {
        status = follow(&t);
        if (fflush(stdout) != 0) status = EX_IOERR;
        if (!opts.common.quiet)
            ofc_warn("%llu shown, %llu duplicate records %s, %llu not events",
                     (unsigned long long)t.shown, (unsigned long long)t.duplicates,
                     opts.raw ? "included" : "suppressed", (unsigned long long)t.undecodable);
    }
    if (t.consumer.rk) rd_kafka_consumer_close(t.consumer.rk);
    ofc_kafka_destroy(&t.consumer);
    of_decoder_free(t.decoder);
    of_dedup_free(t.seen);
    free(t.at_end);
    ofc_config_free(&cfg);
    return status;
}
