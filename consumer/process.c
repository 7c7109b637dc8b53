#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/log.h"
#include "cli/startup.h"
#include "util/signals.h"

#include "handler_load.h"
#include "process.h"
#include "processor.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: orderflow-consumer process [OPTIONS]\n"
                 "Turn each order_created event into one data_processed event.\n"
                 "\n"
                 "  -b, --brokers LIST         bootstrap brokers (default localhost:9092)\n"
                 "  -c, --config FILE          libconfig file (see orderflow.conf.example)\n"
                 "  -X, --property KEY=VALUE   any librdkafka property (repeatable)\n"
                 "  -t, --topic NAME           input topic (default order-created)\n"
                 "  -G, --group ID             consumer group (default orderflow-processor)\n"
                 "      --instance-id ID       static member ID (group.instance.id), one per\n"
                 "                             instance: a restart keeps its partitions\n"
                 "      --guarantee G          at_least_once (default) or exactly_once\n"
                 "      --handler H            rules (default), PATH.so (a handler plugin) or\n"
                 "                             http[s]://HOST:PORT/PATH (your service)\n"
                 "                             (docs/handlers.md; consumer.handler)\n"
                 "      --handler-arg KEY=VALUE  a handler setting (repeatable; over the\n"
                 "                             configuration's handler group)\n"
                 "      --json                 JSON lines on stdout (default: text)\n"
                 "      --metrics ADDR:PORT    serve /metrics, /healthz, /readyz over HTTP\n"
                 "                             (:PORT alone: loopback; default: off)\n"
                 "  -q, --quiet                no per-event lines, no \"caught up\", no exit\n"
                 "                             summary: errors and warnings only\n"
                 "  -v, --verbose              configuration, assignments, counters every 5 s\n"
                 "                             while events move (none when idle)\n"
                 "                             while events move (silent when idle)\n"
                 "  -h, --help                 this help;  -V, --version  versions\n"
                 "\n"
                 "Per-event lines go to stdout, everything else to stderr. Once the\n"
                 "assigned partitions are consumed to their end, stderr says \"caught up\".\n"
                 "Outputs go to data-processed (same partition number as the input),\n"
                 "poison records to order-created.dlq. SIGINT/SIGTERM: finish in-flight\n"
                 "events, commit, leave the group, exit 0; a second signal exits at once.\n"
                 "Exit: 0 ok, 64 usage, 69 broker unavailable, 70 internal, 78 configuration\n"
                 "(e.g. topics not co-partitioned, --metrics port in use, a handler that\n"
                 "cannot load or open).\n"
                 "\n"
                 "Example: orderflow-consumer process -b localhost:9092 -v\n");
}

enum { OPT_GUARANTEE = 1000, OPT_JSON, OPT_INSTANCE_ID, OPT_HANDLER, OPT_HANDLER_ARG };

typedef struct process_options {
    ofc_cli_common common;
    const char *group;
    const char *guarantee;
    const char *instance_id;
    const char *handler;
    /* --handler-arg values, applied over the file once it is read. */
    const char **handler_args;
    size_t handler_arg_count;
    int json;
    loaded_handler loaded; /* by prepare() */
} process_options;

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    process_options *opts = ctx;
    switch (opt) {
    case 'G':
        opts->group = arg;
        break;
    case OPT_GUARANTEE:
        if (strcmp(arg, "at_least_once") && strcmp(arg, "exactly_once")) {
            snprintf(err, errlen, "--guarantee: expected at_least_once or exactly_once, got '%s'",
                     arg);
            return -1;
        }
        opts->guarantee = arg;
        break;
    case OPT_INSTANCE_ID:
        if (!*arg) {
            snprintf(err, errlen, "--instance-id: expected a non-empty ID");
            return -1;
        }
        opts->instance_id = arg;
        break;
    case OPT_JSON:
        opts->json = 1;
        break;
    case OPT_HANDLER:
        if (!*arg) {
            snprintf(err, errlen, "--handler: expected rules, a PATH.so or an http[s]:// URL");
            return -1;
        }
        opts->handler = arg;
        break;
    case OPT_HANDLER_ARG:
        if (!strchr(arg, '=') || arg[0] == '=') {
            snprintf(err, errlen, "--handler-arg %s: expected KEY=VALUE", arg);
            return -1;
        }
        opts->handler_args[opts->handler_arg_count++] = arg;
        break;
    }
    return 0;
}

/* --handler-arg, --handler, -t, -G, --instance-id and --guarantee over the
 * configuration. */
static int configure(void *ctx, ofc_config *cfg, char *err, size_t errlen)
{
    const process_options *opts = ctx;
    for (size_t i = 0; i < opts->handler_arg_count; i++)
        if (ofc_config_set_handler_arg(cfg, opts->handler_args[i], err, errlen) != 0)
            return EX_USAGE;
    int status = ofc_cli_override(&cfg->consumer_handler, opts->handler, err, errlen);
    if (!status)
        status = ofc_cli_override(&cfg->topic_order_created, opts->common.topic, err, errlen);
    if (!status) status = ofc_cli_override(&cfg->consumer_group, opts->group, err, errlen);
    if (!status)
        status = ofc_cli_override(&cfg->consumer_instance_id, opts->instance_id, err, errlen);
    if (opts->guarantee)
        cfg->guarantee =
            strcmp(opts->guarantee, "exactly_once") == 0 ? OFC_EXACTLY_ONCE : OFC_AT_LEAST_ONCE;
    return status;
}

/* Before the metrics endpoint and the group: a handler that cannot run must
 * not take partitions. */
static int load_handler(void *ctx, const ofc_config *cfg, char *err, size_t errlen)
{
    process_options *opts = ctx;
    int status = handler_load(&opts->loaded, cfg->consumer_handler, cfg, err, errlen);
    if (status) return status;
    if (opts->common.verbose)
        ofc_warn("handler %s %s%s%s", handler_name(&opts->loaded), handler_version(&opts->loaded),
                 opts->loaded.async     ? " calling "
                 : opts->loaded.library ? " from "
                                        : " (built in)",
                 opts->loaded.async || opts->loaded.library ? cfg->consumer_handler : "");
    return 0;
}

static void unload_handler(void *ctx)
{
    process_options *opts = ctx;
    handler_unload(&opts->loaded);
}

int process_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"group", required_argument, NULL, 'G'},
        {"guarantee", required_argument, NULL, OPT_GUARANTEE},
        {"json", no_argument, NULL, OPT_JSON},
        {"instance-id", required_argument, NULL, OPT_INSTANCE_ID},
        {"handler", required_argument, NULL, OPT_HANDLER},
        {"handler-arg", required_argument, NULL, OPT_HANDLER_ARG},
        {NULL, 0, NULL, 0},
    };
    static const ofc_startup startup = {
        OFC_STARTUP_PROGRAM("orderflow-consumer process", "orderflow-consumer", usage, longopts,
                            take_option),
        .flags = OFC_STARTUP_STOP_SIGNALS | OFC_STARTUP_METRICS | OFC_STARTUP_WARN_LIBRDKAFKA,
        .short_options = "G:",
        .configure = configure,
        .prepare = load_handler,
        .unprepare = unload_handler,
        .metrics_unready = "starting: checking topics",
    };
    process_options opts = {.handler_args = calloc((size_t)argc + 1, sizeof(const char *))};
    if (!opts.handler_args) {
        ofc_warn("out of memory");
        return EX_OSERR;
    }
    ofc_config cfg;
    ofc_cli_metrics endpoint;
    int status = ofc_startup_run(&startup, &opts, argc, argv, &opts.common, &cfg, &endpoint);
    free(opts.handler_args);
    if (status != OFC_STARTUP_CONTINUE) return status;
    const ofc_cli_common *common = &opts.common;
    loaded_handler *loaded = &opts.loaded;
    {
        /* An asynchronous handler opens with the metrics registry, still
         * before the group is joined. */
        char err[1024];
        status =
            handler_open_async(loaded, &cfg, endpoint.registry, common->verbose, err, sizeof(err));
        if (status) {
            ofc_warn("%s", err);
            ofc_cli_metrics_stop(&endpoint);
            handler_unload(loaded);
            ofc_config_free(&cfg);
            return status;
        }
    }
    if (endpoint.registry) {
        /* Which handler this processor runs (docs/operations.md, "Monitoring"). */
        char err[1024];
        const char *labels[] = {"name", handler_name(loaded), "version", handler_version(loaded),
                                NULL};
        ofc_metric *info =
            ofc_metrics_series(endpoint.registry, "orderflow_handler_info",
                               "The handler processing the events, by name and version; always 1.",
                               OFC_METRIC_GAUGE, labels, NULL, 0, err, sizeof(err));
        if (!info) {
            ofc_warn("%s", err);
            ofc_cli_metrics_stop(&endpoint);
            handler_unload(loaded);
            ofc_config_free(&cfg);
            return EX_OSERR;
        }
        ofc_metric_set(info, 1);
    }
    static char stdout_buffer[1 << 16];
    setvbuf(stdout, stdout_buffer, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof(stdout_buffer));
    processor_options run = {
        .cfg = &cfg,
        .output = common->quiet ? PROCESSOR_OUTPUT_NONE
                  : opts.json   ? PROCESSOR_OUTPUT_JSON
                                : PROCESSOR_OUTPUT_HUMAN,
        .out = stdout,
        .verbose = common->verbose,
        .stats_interval_ms = 5000,
        .stop = &ofc_stop_signal,
        .metrics = endpoint.registry,
        .health = &endpoint.health,
        .handler = loaded,
    };
    processor_counters counters;
    status = processor_run(&run, &counters);
    if (!common->quiet)
        ofc_warn("%llu consumed, %llu accepted, %llu rejected, %llu duplicates skipped, "
                 "%llu dead-lettered, %llu with an invalid trace context ignored",
                 (unsigned long long)counters.consumed, (unsigned long long)counters.accepted,
                 (unsigned long long)counters.rejected, (unsigned long long)counters.duplicates,
                 (unsigned long long)counters.dead_lettered,
                 (unsigned long long)counters.trace_invalid);
    if (!common->quiet && counters.emitted)
        ofc_warn("%llu emitted with handler %s's data", (unsigned long long)counters.emitted,
                 handler_name(loaded));
    if (!common->quiet && cfg.guarantee == OFC_EXACTLY_ONCE)
        ofc_warn("%llu transactions committed, %llu aborted",
                 (unsigned long long)counters.transactions_committed,
                 (unsigned long long)counters.transactions_aborted);
    ofc_cli_metrics_stop(&endpoint);
    handler_unload(loaded);
    ofc_config_free(&cfg);
    return status;
}
