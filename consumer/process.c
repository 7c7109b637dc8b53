#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/cli.h"

#include "cli/log.h"
#include "cli/metrics.h"

#include "handler_load.h"
#include "process.h"
#include "processor.h"
#include "signals.h"

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
                 "      --handler H            rules (default) or PATH.so, a handler plugin\n"
                 "                             (docs/handlers.md; consumer.handler)\n"
                 "      --handler-arg KEY=VALUE  a handler setting (repeatable; over the\n"
                 "                             configuration's handler group)\n"
                 "      --json                 JSON lines on stdout (default: text)\n"
                 "      --metrics ADDR:PORT    serve /metrics, /healthz, /readyz over HTTP\n"
                 "                             (:PORT alone: loopback; default: off)\n"
                 "  -q, --quiet                no per-event lines\n"
                 "  -v, --verbose              configuration, assignments, counters every 5 s\n"
                 "  -h, --help                 this help;  -V, --version  versions\n"
                 "\n"
                 "Outputs go to data-processed (same partition number as the input),\n"
                 "poison records to order-created.dlq. SIGINT/SIGTERM: finish in-flight\n"
                 "events, commit, leave the group, exit 0; a second signal exits at once.\n"
                 "Exit: 0 ok, 64 usage, 69 broker unavailable, 70 internal, 78 configuration\n"
                 "(e.g. topics not co-partitioned, --metrics port in use, a handler that\n"
                 "cannot load or open).\n"
                 "\n"
                 "Example: orderflow-consumer process -b localhost:9092 -v\n");
}

enum { OPT_GUARANTEE = 1000, OPT_JSON, OPT_INSTANCE_ID, OPT_METRICS, OPT_HANDLER, OPT_HANDLER_ARG };

int process_main(int argc, char **argv)
{
    ofc_log_set_program("orderflow-consumer process");
    /* First: a supervisor's SIGTERM that comes while the processor is still
     * starting (reading its configuration, checking topics) must end in the
     * same clean stop as one that comes later, not in death by signal. */
    install_stop_handlers();
    static const struct option longopts[] = {
        OFC_CLI_COMMON_LONG,
        {"group", required_argument, NULL, 'G'},
        {"guarantee", required_argument, NULL, OPT_GUARANTEE},
        {"json", no_argument, NULL, OPT_JSON},
        {"instance-id", required_argument, NULL, OPT_INSTANCE_ID},
        {"metrics", required_argument, NULL, OPT_METRICS},
        {"handler", required_argument, NULL, OPT_HANDLER},
        {"handler-arg", required_argument, NULL, OPT_HANDLER_ARG},
        {NULL, 0, NULL, 0},
    };
    ofc_cli_common common = {0};
    const char *group = NULL, *guarantee = NULL, *instance_id = NULL, *metrics = NULL,
               *handler = NULL;
    /* --handler-arg values, applied over the file once it is read. */
    char **handler_args = calloc((size_t)argc + 1, sizeof(*handler_args));
    size_t handler_arg_count = 0;
    if (!handler_args) {
        ofc_warn("out of memory");
        return EX_OSERR;
    }
    int json = 0, opt;
    char err[1024];
    opterr = 0;
    while ((opt = getopt_long(argc, argv, OFC_CLI_COMMON_SHORT "G:", longopts, NULL)) != -1) {
        int taken = ofc_cli_common_option(&common, opt, optarg, err, sizeof(err));
        if (taken < 0) goto usage_error;
        if (taken) continue;
        switch (opt) {
        case 'G':
            group = optarg;
            break;
        case OPT_GUARANTEE:
            if (strcmp(optarg, "at_least_once") && strcmp(optarg, "exactly_once")) {
                snprintf(err, sizeof(err),
                         "--guarantee: expected at_least_once or exactly_once, got '%s'", optarg);
                goto usage_error;
            }
            guarantee = optarg;
            break;
        case OPT_INSTANCE_ID:
            if (!*optarg) {
                snprintf(err, sizeof(err), "--instance-id: expected a non-empty ID");
                goto usage_error;
            }
            instance_id = optarg;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_HANDLER:
            if (!*optarg) {
                snprintf(err, sizeof(err), "--handler: expected rules or a PATH.so");
                goto usage_error;
            }
            handler = optarg;
            break;
        case OPT_HANDLER_ARG:
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                snprintf(err, sizeof(err), "--handler-arg %s: expected KEY=VALUE", optarg);
                goto usage_error;
            }
            handler_args[handler_arg_count++] = optarg;
            break;
        case OPT_METRICS:
            if (ofc_listen_parse("--metrics", optarg, NULL, NULL, err, sizeof(err)) != 0)
                goto usage_error;
            metrics = optarg;
            break;
        default:
            snprintf(err, sizeof(err), "option '%s' is unknown or needs a value", argv[optind - 1]);
            goto usage_error;
        }
    }
    if (optind < argc) {
        snprintf(err, sizeof(err), "unexpected argument '%s'", argv[optind]);
        goto usage_error;
    }
    if (common.help) {
        usage(stdout);
        free(handler_args);
        return EX_OK;
    }
    if (common.version) {
        ofc_cli_print_version("orderflow-consumer");
        free(handler_args);
        return EX_OK;
    }

    ofc_config cfg;
    int status = ofc_cli_build_config(&common, &cfg, err, sizeof(err));
    if (status) {
        ofc_warn("%s", err);
        free(handler_args);
        return status;
    }
    ofc_cli_warn_librdkafka(&common);
    for (size_t i = 0; i < handler_arg_count && !status; i++)
        if (ofc_config_set_handler_arg(&cfg, handler_args[i], err, sizeof(err)) != 0)
            status = EX_USAGE;
    free(handler_args);
    handler_args = NULL;
    if (status) {
        ofc_config_free(&cfg);
        goto usage_error;
    }
    if (handler) {
        free(cfg.consumer_handler);
        cfg.consumer_handler = strdup(handler);
    }
    if (common.topic) {
        free(cfg.topic_order_created);
        cfg.topic_order_created = strdup(common.topic);
    }
    if (group) {
        free(cfg.consumer_group);
        cfg.consumer_group = strdup(group);
    }
    if (instance_id) {
        free(cfg.consumer_instance_id);
        cfg.consumer_instance_id = strdup(instance_id);
    }
    if (metrics) {
        free(cfg.metrics_listen);
        cfg.metrics_listen = strdup(metrics);
    }
    if (guarantee)
        cfg.guarantee =
            strcmp(guarantee, "exactly_once") == 0 ? OFC_EXACTLY_ONCE : OFC_AT_LEAST_ONCE;
    if (!cfg.topic_order_created || !cfg.consumer_group ||
        (instance_id && !cfg.consumer_instance_id) || (metrics && !cfg.metrics_listen) ||
        (handler && !cfg.consumer_handler)) {
        ofc_warn("out of memory");
        ofc_config_free(&cfg);
        return EX_OSERR;
    }
    if (common.verbose) ofc_config_print(&cfg, stderr);

    /* Before the metrics endpoint and the group: a handler that cannot run
     * must not take partitions. */
    loaded_handler loaded;
    status = handler_load(&loaded, cfg.consumer_handler, &cfg, err, sizeof(err));
    if (status) {
        ofc_warn("%s", err);
        ofc_config_free(&cfg);
        return status;
    }
    if (common.verbose)
        ofc_warn("handler %s %s%s%s", loaded.handler->name, loaded.handler->version,
                 loaded.library ? " from " : " (built in)",
                 loaded.library ? cfg.consumer_handler : "");

    ofc_cli_metrics endpoint;
    status = ofc_cli_metrics_start(&endpoint, &cfg, metrics ? "--metrics" : "metrics.listen",
                                   "starting: checking topics", err, sizeof(err));
    if (status) {
        ofc_warn("%s", err);
        handler_unload(&loaded);
        ofc_config_free(&cfg);
        return status;
    }
    if (endpoint.registry) {
        /* Which handler this processor runs (docs/operations.md, "Monitoring"). */
        const char *labels[] = {"name", loaded.handler->name, "version", loaded.handler->version,
                                NULL};
        ofc_metric *info = ofc_metrics_series(
            endpoint.registry, "orderflow_handler_info",
            "The handler processing the events, by name and version; always 1.", OFC_METRIC_GAUGE,
            labels, NULL, 0, err, sizeof(err));
        if (!info) {
            ofc_warn("%s", err);
            ofc_cli_metrics_stop(&endpoint);
            handler_unload(&loaded);
            ofc_config_free(&cfg);
            return EX_OSERR;
        }
        ofc_metric_set(info, 1);
    }
    static char stdout_buffer[1 << 16];
    setvbuf(stdout, stdout_buffer, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof(stdout_buffer));
    processor_options opts = {
        .cfg = &cfg,
        .output = common.quiet ? PROCESSOR_OUTPUT_NONE
                  : json       ? PROCESSOR_OUTPUT_JSON
                               : PROCESSOR_OUTPUT_HUMAN,
        .out = stdout,
        .verbose = common.verbose,
        .stats_interval_ms = 5000,
        .stop = &stop_requested,
        .metrics = endpoint.registry,
        .health = &endpoint.health,
        .handler = &loaded,
    };
    processor_counters counters;
    status = processor_run(&opts, &counters);
    if (!common.quiet)
        ofc_warn("%llu consumed, %llu accepted, %llu rejected, %llu duplicates skipped, "
                 "%llu dead-lettered, %llu with an invalid trace context ignored",
                 (unsigned long long)counters.consumed, (unsigned long long)counters.accepted,
                 (unsigned long long)counters.rejected, (unsigned long long)counters.duplicates,
                 (unsigned long long)counters.dead_lettered,
                 (unsigned long long)counters.trace_invalid);
    if (!common.quiet && cfg.guarantee == OFC_EXACTLY_ONCE)
        ofc_warn("%llu transactions committed, %llu aborted",
                 (unsigned long long)counters.transactions_committed,
                 (unsigned long long)counters.transactions_aborted);
    ofc_cli_metrics_stop(&endpoint);
    handler_unload(&loaded);
    ofc_config_free(&cfg);
    return status;

usage_error:
    free(handler_args);
    ofc_warn("%s\nTry 'orderflow-consumer process --help'.", err);
    return EX_USAGE;
}
