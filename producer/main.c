/* orderflow-producer: publishes order_created events (docs/architecture.md, docs/operations.md). */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "cli/metrics.h"
#include "cli/startup.h"
#include "util/signals.h"
#include "util/timer.h"
#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>

#include "generator.h"
#include "line_reader.h"
#include "pacer.h"
#include "publisher.h"

#define PROGRAM "orderflow-producer"
#define PROGRESS_INTERVAL_MS 1000

static void usage(FILE *out)
{
    fprintf(out, "Usage: " PROGRAM " [OPTIONS] [--order JSON | -g N | FILE... | -]\n"
                 "Publish order_created events (CloudEvents JSON) to Kafka.\n"
                 "\n"
                 "Input (one of; default: JSON lines on stdin):\n"
                 "      --order JSON           one order object\n"
                 "  FILE... | -                JSON lines, one order object a line\n"
                 "  -g, --generate N           N deterministic synthetic orders\n"
                 "      --seed S               seed for --generate (default 1)\n"
                 "Options:\n"
                 "  -b, --brokers LIST         bootstrap brokers (default localhost:9092)\n"
                 "  -c, --config FILE          libconfig file (see orderflow.conf.example)\n"
                 "  -X, --property KEY=VALUE   any librdkafka property (repeatable)\n"
                 "  -t, --topic NAME           topic (default order-created)\n"
                 "      --rate N               at most N orders per second\n"
                 "      --idempotency-key K    key for a single --order\n"
                 "                             (default order_created:<order_id>)\n"
                 "      --traceparent TP       W3C trace context for a single --order\n"
                 "      --tracestate TS        and its vendor state (with --traceparent);\n"
                 "                             producer.tracing = true starts a trace per event\n"
                 "      --failed FILE          write undelivered orders here (re-publishable)\n"
                 "      --strict               stop at the first bad input line (status 65;\n"
                 "                             always so for a single --order)\n"
                 "      --metrics ADDR:PORT    serve /metrics, /healthz, /readyz over HTTP\n"
                 "                             (:PORT alone: loopback; default: off)\n"
                 "  -q, --quiet                no per-event lines, no summary\n"
                 "  -v, --verbose              print the effective configuration\n"
                 "  -h, --help                 this help;  -V, --version  versions\n"
                 "\n"
                 "stdout: one JSON line per delivered event; stderr: summary.\n"
                 "Exit: 0 all delivered, 1 some skipped or failed, 64 usage, 65 bad input\n"
                 "(--strict, --order), 66 no input file, 69 broker unavailable, 78 configuration.\n"
                 "\n"
                 "Examples:\n"
                 "  " PROGRAM " --generate 1000 --seed 7 -q\n"
                 "  " PROGRAM " --order '{\"order_id\":\"A-1\",\"customer_id\":\"C-1\",\n"
                 "   "
                 "\"currency\":\"EUR\",\"items\":[{\"sku\":\"S-1\",\"quantity\":2,\"unit_price_"
                 "cents\":9}]}'\n");
}

typedef struct producer_options {
    ofc_cli_common common;
    const char *order_json;
    long long generate;
    long long seed;
    long long rate;
    const char *idempotency_key;
    /* --traceparent, written as version 00: W3C has a later version's
     * traceparent passed on as the one version this code knows. */
    char traceparent[OF_TRACEPARENT_LEN + 1];
    const char *tracestate; /* checked by of_tracestate_valid */
    const char *failed_path;
    int strict;
    char **files;
    int file_count;
} producer_options;

enum {
    OPT_ORDER = 1000,
    OPT_SEED,
    OPT_RATE,
    OPT_KEY,
    OPT_FAILED,
    OPT_STRICT,
    OPT_TRACEPARENT,
    OPT_TRACESTATE
};

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    producer_options *opts = ctx;
    switch (opt) {
    case OPT_ORDER:
        opts->order_json = arg;
        break;
    case 'g':
        if (ofc_cli_parse_long("-g/--generate", arg, 0, 1000000000LL, &opts->generate, err,
                               errlen) != 0)
            return -1;
        break;
    case OPT_SEED:
        if (ofc_cli_parse_long("--seed", arg, 0, INT64_MAX, &opts->seed, err, errlen) != 0)
            return -1;
        break;
    case OPT_RATE:
        if (ofc_cli_parse_long("--rate", arg, 1, 10000000, &opts->rate, err, errlen) != 0)
            return -1;
        break;
    case OPT_KEY:
        opts->idempotency_key = arg;
        break;
    case OPT_TRACEPARENT: {
        of_traceparent tp;
        if (of_traceparent_parse(of_str_c(arg), &tp) != 0) {
            snprintf(err, errlen,
                     "--traceparent '%.80s' is not a W3C traceparent "
                     "(00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>, lowercase, "
                     "ids not all zero)",
                     arg);
            return -1;
        }
        of_traceparent_format(&tp, opts->traceparent);
        break;
    }
    case OPT_TRACESTATE:
        if (!of_tracestate_valid(of_str_c(arg))) {
            snprintf(err, errlen, "--tracestate must be 1..%d bytes of printable ASCII",
                     OF_TRACESTATE_MAX);
            return -1;
        }
        opts->tracestate = arg;
        break;
    case OPT_FAILED:
        opts->failed_path = arg;
        break;
    case OPT_STRICT:
        opts->strict = 1;
        break;
    }
    return 0;
}

/* FILE... and the options that exclude or need each other. */
static int take_operands(void *ctx, int count, char **args, char *err, size_t errlen)
{
    producer_options *opts = ctx;
    opts->files = args;
    opts->file_count = count;
    int inputs = (opts->order_json != NULL) + (opts->generate >= 0) + (opts->file_count > 0);
    if (inputs > 1) {
        snprintf(err, errlen, "--order, -g/--generate and FILE arguments exclude each other");
        return -1;
    }
    /* A single --order is the whole input: a bad one is bad input data
     * (65), as under --strict, not a line skipped among others (1). */
    if (opts->order_json) opts->strict = 1;
    if (opts->idempotency_key && !opts->order_json) {
        snprintf(err, errlen, "--idempotency-key applies to a single --order only");
        return -1;
    }
    if (opts->traceparent[0] && !opts->order_json) {
        snprintf(err, errlen, "--traceparent applies to a single --order only");
        return -1;
    }
    if (opts->tracestate && !opts->traceparent[0]) {
        snprintf(err, errlen, "--tracestate needs --traceparent");
        return -1;
    }
    return 0;
}

typedef struct run_state {
    publisher pub;
    of_decoder *decoder;
    const producer_options *opts;
    pacer pace;
    uint64_t skipped;
    int bad_input_stop; /* --strict hit a bad line */
    int show_progress;
    int64_t start_ms;
    ofc_timer progress_line;
} run_state;

static void progress(run_state *run, int final)
{
    if (!run->show_progress) return;
    int64_t now = of_monotonic_ms();
    if (!ofc_timer_due(&run->progress_line, now) && !final) return;
    double secs = (double)(now - run->start_ms) / 1000.0;
    fprintf(stderr, "\r\033[K%s: %llu sent, %llu delivered, %llu failed, %.0f/s", ofc_log_program(),
            (unsigned long long)run->pub.sent, (unsigned long long)run->pub.delivered,
            (unsigned long long)run->pub.failed, secs > 0 ? run->pub.delivered / secs : 0.0);
    if (final) fputs("\r\033[K", stderr);
}

static void bad_input(run_state *run, const char *input, uint64_t line, const char *why)
{
    run->skipped++;
    if (run->pub.metrics) ofc_metric_add(run->pub.metrics->skipped, 1);
    ofc_warn("%s:%llu: %s%s", input, (unsigned long long)line, why,
             run->opts->strict ? "" : " (line skipped)");
    if (run->opts->strict) run->bad_input_stop = 1;
}

/* Returns 0 to go on, or a sysexits status that ends the run. */
static int publish(run_state *run, const of_order *order, of_str key, int generated,
                   event_origin origin)
{
    char err[1024];
    pacer_wait(&run->pace, &run->pub);
    int rc = publisher_send(&run->pub, order, key, generated, origin, err, sizeof(err));
    if (rc == EX_DATAERR) {
        bad_input(run, origin.input, origin.line, err);
        return 0;
    }
    if (rc != 0) {
        ofc_warn("%s", err);
        return rc;
    }
    publisher_poll(&run->pub, 0);
    progress(run, 0);
    return 0;
}

static int publish_json(run_state *run, const char *json, size_t len, of_str key,
                        event_origin origin)
{
    of_order order;
    char why[512];
    of_reject rc = of_decode_order(run->decoder, json, len, &order, why, sizeof(why));
    if (rc != OF_OK) {
        bad_input(run, origin.input, origin.line, why);
        return 0;
    }
    return publish(run, &order, key, 0, origin);
}

static int publish_file(run_state *run, const char *path, size_t max_line)
{
    int is_stdin = strcmp(path, "-") == 0;
    FILE *file = is_stdin ? stdin : fopen(path, "r");
    if (!file) {
        ofc_warn("%s: cannot open: %s", path, strerror(errno));
        return EX_NOINPUT;
    }
    line_reader reader;
    if (line_reader_open(&reader, file, max_line) != 0) {
        ofc_warn("out of memory for a %zu-byte line buffer", max_line);
        if (!is_stdin) fclose(file);
        return EX_OSERR;
    }
    int status = 0;
    const char *line;
    size_t len;
    line_status ls;
    ofc_health *health = run->pub.metrics ? run->pub.metrics->health : NULL;
    for (;;) {
        if (ofc_stop_signal || run->bad_input_stop) break;
        /* Blocked on input (stdin, a pipe) is waiting, not wedged. */
        if (health) atomic_store_explicit(&health->idle, 1, memory_order_relaxed);
        ls = line_reader_next(&reader, &line, &len);
        if (health) {
            atomic_store_explicit(&health->idle, 0, memory_order_relaxed);
            ofc_health_beat(health, of_monotonic_ms());
        }
        if (ls == LINE_EOF) break;
        event_origin origin = {path, reader.line_number};
        if (ls == LINE_ERROR) {
            ofc_warn("%s: read error after line %llu: %s", path,
                     (unsigned long long)reader.line_number, strerror(reader.read_error));
            status = EX_IOERR;
            break;
        }
        if (ls == LINE_TOO_LONG) {
            char why[128];
            snprintf(why, sizeof(why), "line longer than %zu bytes (limits.max_record_bytes)",
                     max_line);
            bad_input(run, path, reader.line_number, why);
            continue;
        }
        if (len > 0 && line[len - 1] == '\r') len--;
        if (len == 0) continue; /* blank lines separate nothing: ignore */
        status = publish_json(run, line, len, (of_str){NULL, 0}, origin);
        if (status) break;
    }
    line_reader_close(&reader);
    if (!is_stdin) fclose(file);
    return status;
}

static int publish_generated(run_state *run, long long count, long long seed)
{
    generator gen;
    generator_init(&gen, (uint64_t)seed);
    for (long long i = 0; i < count && !ofc_stop_signal; i++) {
        of_order order;
        generator_next(&gen, &order);
        int status =
            publish(run, &order, (of_str){NULL, 0}, 1, (event_origin){"--generate", i + 1});
        if (status) return status;
    }
    return 0;
}

static int run_inputs(run_state *run, const ofc_config *cfg)
{
    const producer_options *opts = run->opts;
    if (opts->order_json)
        return publish_json(run, opts->order_json, strlen(opts->order_json),
                            of_str_c(opts->idempotency_key), (event_origin){"--order", 1});
    if (opts->generate >= 0) return publish_generated(run, opts->generate, opts->seed);
    if (opts->file_count == 0) return publish_file(run, "-", cfg->limits.max_record_bytes);
    for (int i = 0; i < opts->file_count && !ofc_stop_signal && !run->bad_input_stop; i++) {
        int status = publish_file(run, opts->files[i], cfg->limits.max_record_bytes);
        if (status) return status;
    }
    return 0;
}

static int finish(run_state *run, const ofc_config *cfg, int status)
{
    publisher *pub = &run->pub;
    /* Every event gets its report within message.timeout.ms; the margin covers
     * the final request round trip. */
    int flush_ms =
        cfg->producer_timeout_ms > INT_MAX - 5000 ? INT_MAX : cfg->producer_timeout_ms + 5000;
    publisher_flush(pub, flush_ms);
    progress(run, 1);
    if (pub->report && fflush(pub->report) != 0) {
        ofc_warn("cannot write to stdout: %s", strerror(errno));
        if (!status) status = EX_IOERR;
    }
    if (pub->failed_file && (fflush(pub->failed_file) != 0 || pub->failed_write_error)) {
        ofc_warn("%s: cannot write failed orders: %s", pub->failed_path,
                 strerror(pub->failed_write_error ? pub->failed_write_error : errno));
        if (!status) status = EX_IOERR;
    }
    double secs = (double)(of_monotonic_ms() - run->start_ms) / 1000.0;
    if (!run->opts->common.quiet || pub->failed || run->skipped)
        ofc_warn("%llu delivered, %llu failed, %llu skipped (bad input) to '%s' in "
                 "%.2f s (%.0f events/s)%s",
                 (unsigned long long)pub->delivered, (unsigned long long)pub->failed,
                 (unsigned long long)run->skipped, cfg->topic_order_created, secs,
                 secs > 0 ? pub->delivered / secs : 0.0, ofc_stop_signal ? ", interrupted" : "");
    if (status) return status;
    if (pub->authorization_failed) return EX_NOPERM;
    if (ofc_kafka_is_authorization_error(pub->first_failure) && pub->delivered == 0) {
        /* Refused per record (Write on another topic got the producer its id);
         * with some delivered, the grant exists and the failures are counted
         * like any other (exit 1). */
        char why[1024];
        int denied = ofc_kafka_denied(&pub->kafka, "Write", "topic", cfg->topic_order_created, 0,
                                      why, sizeof(why));
        ofc_warn("%s", why);
        return denied;
    }
    if (run->bad_input_stop) return EX_DATAERR;
    if (pub->failed && pub->delivered == 0 &&
        ofc_kafka_exit_code(pub->first_failure) == EX_UNAVAILABLE)
        return EX_UNAVAILABLE;
    if (pub->failed || run->skipped || ofc_stop_signal) return 1;
    return EX_OK;
}

/* -t over the configuration. */
static int configure(void *ctx, ofc_config *cfg, char *err, size_t errlen)
{
    const producer_options *opts = ctx;
    return ofc_cli_override(&cfg->topic_order_created, opts->common.topic, err, errlen);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"order", required_argument, NULL, OPT_ORDER},
        {"generate", required_argument, NULL, 'g'},
        {"seed", required_argument, NULL, OPT_SEED},
        {"rate", required_argument, NULL, OPT_RATE},
        {"idempotency-key", required_argument, NULL, OPT_KEY},
        {"traceparent", required_argument, NULL, OPT_TRACEPARENT},
        {"tracestate", required_argument, NULL, OPT_TRACESTATE},
        {"failed", required_argument, NULL, OPT_FAILED},
        {"strict", no_argument, NULL, OPT_STRICT},
        {NULL, 0, NULL, 0},
    };
    static const ofc_startup startup = {
        OFC_STARTUP_PROGRAM(PROGRAM, PROGRAM, usage, longopts, take_option),
        .flags = OFC_STARTUP_STOP_SIGNALS | OFC_STARTUP_METRICS | OFC_STARTUP_NAME_SHORT_OPTION |
                 OFC_STARTUP_WARN_LIBRDKAFKA,
        .short_options = "g:",
        .operands = take_operands,
        .configure = configure,
        .metrics_unready = "starting: checking the topic",
    };
    producer_options opts = {.generate = -1, .seed = 1};
    ofc_config cfg;
    ofc_cli_metrics endpoint;
    int status = ofc_startup_run(&startup, &opts, argc, argv, &opts.common, &cfg, &endpoint);
    if (status != OFC_STARTUP_CONTINUE) return status;
    char err[1024];
    producer_metrics metrics;
    if (endpoint.registry &&
        producer_metrics_init(&metrics, endpoint.registry, &endpoint.health,
                              cfg.topic_order_created, err, sizeof(err)) != 0) {
        ofc_warn("%s", err);
        ofc_cli_metrics_stop(&endpoint);
        ofc_config_free(&cfg);
        return EX_OSERR;
    }

    FILE *failed_file = NULL;
    if (opts.failed_path && !(failed_file = fopen(opts.failed_path, "w"))) {
        ofc_warn("--failed %s: cannot create: %s", opts.failed_path, strerror(errno));
        ofc_cli_metrics_stop(&endpoint);
        ofc_config_free(&cfg);
        return EX_CANTCREAT;
    }
    static char stdout_buffer[1 << 16];
    setvbuf(stdout, stdout_buffer, _IOFBF, sizeof(stdout_buffer));

    run_state run = {.opts = &opts, .start_ms = of_monotonic_ms()};
    run.show_progress = !opts.common.quiet && isatty(STDERR_FILENO);
    ofc_timer_start(&run.progress_line, PROGRESS_INTERVAL_MS);
    run.decoder = of_decoder_new(&cfg.limits);
    pacer_init(&run.pace, opts.rate);
    status = run.decoder ? 0 : EX_OSERR;
    if (!status)
        status =
            publisher_open(&run.pub, &cfg, opts.common.quiet ? NULL : stdout, failed_file,
                           opts.failed_path, endpoint.registry ? &metrics : NULL, err, sizeof(err));
    if (status) {
        ofc_warn("%s", status == EX_OSERR && !run.decoder ? "out of memory" : err);
    } else {
        if (endpoint.registry) ofc_health_set_unready(&endpoint.health, NULL);
        publisher_set_trace(&run.pub, of_str_c(opts.traceparent[0] ? opts.traceparent : NULL),
                            of_str_c(opts.tracestate), cfg.producer_tracing);
        status = run_inputs(&run, &cfg);
        status = finish(&run, &cfg, status);
    }
    publisher_close(&run.pub);
    ofc_cli_metrics_stop(&endpoint);
    of_decoder_free(run.decoder);
    if (failed_file) fclose(failed_file);
    ofc_config_free(&cfg);
    return status;
}
