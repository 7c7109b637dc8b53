/* orderflow-gateway: the synchronous HTTP edge (docs/gateway.md). Options,
 * configuration and wiring; the work is in http.c and orders.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "cli/metrics.h"
#include "cli/startup.h"
#include "util/signals.h"
#include "util/timer.h"

#include "gateway.h"

#define PROGRAM "orderflow-gateway"
/* /healthz says 503 once the poll loop has not iterated for this long. */
#define HEALTH_STALE_MS 10000
/* How long reading data-processed's window back may take at start. */
#define VIEW_CATCH_UP_MS 120000
/* The sweeps of the poll loop (request deadlines, slow clients, gauges) run
 * at most this often: under load rd_kafka_poll returns for every batch of
 * delivery reports, and each sweep walks lists whose locks the HTTP thread
 * takes for every request. Deadlines are seconds; this is noise to them. */
#define HOUSEKEEPING_MS 10

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: " PROGRAM " [OPTIONS]\n"
            "Take orders over HTTP and publish them to Kafka as order_created events.\n"
            "\n"
            "  POST /orders              one order (JSON), header Idempotency-Key;\n"
            "                            202 once Kafka acknowledged it (acks=all)\n"
            "  GET /orders/ID[?wait=S]   its status (pending, accepted, rejected)\n"
            "  GET /metrics, /healthz, /readyz\n"
            "\n"
            "Options:\n"
            "      --listen ADDR:PORT     where to listen (default 127.0.0.1:8080;\n"
            "                             gateway.listen; :PORT alone: loopback)\n"
            "  -b, --brokers LIST         bootstrap brokers (default localhost:9092)\n"
            "  -c, --config FILE          libconfig file (see orderflow.conf.example)\n"
            "  -X, --property KEY=VALUE   any librdkafka property (repeatable)\n"
            "  -t, --topic NAME           topic (default order-created)\n"
            "  -q, --quiet                no start-up line\n"
            "  -v, --verbose              print the effective configuration\n"
            "  -h, --help                 this help;  -V, --version  versions\n"
            "\n"
            "stderr: \"listening on ADDR:PORT\", then \"ready\" (/readyz 200).\n"
            "Exit: 0 stopped by SIGINT/SIGTERM, 64 usage, 69 broker unavailable (at\n"
            "start, or the producer failed fatally: restart it), 70 internal,\n"
            "77 not authorized (the line names the kafka-acls.sh grant),\n"
            "78 configuration (including an address in use).\n"
            "\n"
            "Example:\n"
            "  curl -i localhost:8080/orders -H 'Content-Type: application/json' \\\n"
            "    -H 'Idempotency-Key: \"k-1\"' -d '{\"order_id\":\"A-1\",\"customer_id\":\"C-1\",\n"
            "    \"currency\":\"EUR\",\"items\":[{\"sku\":\"S-1\",\"quantity\":2,"
            "\"unit_price_cents\":9}]}'\n");
}

typedef struct gateway_options {
    ofc_cli_common common;
    const char *listen;
} gateway_options;

enum { OPT_LISTEN = 1000 };

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    gateway_options *opts = ctx;
    (void)opt; /* OPT_LISTEN, the only one */
    if (ofc_listen_parse("--listen", arg, NULL, NULL, err, errlen) != 0) return -1;
    opts->listen = arg;
    return 0;
}

/* -t and --listen over the configuration. */
static int configure(void *ctx, ofc_config *cfg, char *err, size_t errlen)
{
    const gateway_options *opts = ctx;
    int status = ofc_cli_override(&cfg->topic_order_created, opts->common.topic, err, errlen);
    if (!status) status = ofc_cli_override(&cfg->gateway_listen, opts->listen, err, errlen);
    return status;
}

/* EX_NOPERM with err naming the grant when Kafka refused the producer: its
 * idempotent producer id (a fatal CLUSTER_AUTHORIZATION_FAILED: no Write on
 * any topic) or a delivery (no Write on the topic). Else 0. */
static int producer_refused(gateway *gw, char *err, size_t errlen)
{
    char why[256];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(gw->kafka.rk, why, sizeof(why));
    if (!ofc_kafka_is_authorization_error(code)) code = atomic_load(&gw->refused);
    return ofc_kafka_refusal(&gw->kafka, code, gw->cfg->topic_order_created, NULL, err, errlen);
}

static int open_gateway(gateway *gw, const ofc_config *cfg, const char *listen_option, int quiet,
                        char *err, size_t errlen)
{
    gw->cfg = cfg;
    atomic_init(&gw->in_flight, 0);
    atomic_init(&gw->requests, 0);
    atomic_init(&gw->accepting, 0);
    atomic_init(&gw->refused, RD_KAFKA_RESP_ERR_NO_ERROR);
    pthread_mutex_init(&gw->pub_lock, NULL);
    slow_clients_init(&gw->slow, (int64_t)cfg->gateway_client_timeout_s * 1000);
    ofc_health_init(&gw->health, HEALTH_STALE_MS, "starting: connecting to Kafka");
    gw->registry = ofc_cli_metrics_registry(err, errlen);
    if (!gw->registry) return EX_OSERR;
    if (gw_metrics_init(&gw->metrics, gw->registry, err, errlen) != 0) return EX_OSERR;
    gw->encoder = of_encoder_new();
    gw->decoder = of_decoder_new(&cfg->limits);
    if (!gw->encoder || !gw->decoder ||
        idem_store_init(&gw->keys, cfg->gateway_max_keys,
                        (uint64_t)cfg->gateway_retention_s * 1000) != 0 ||
        order_view_init(&gw->view, cfg->gateway_max_keys) != 0) {
        snprintf(err, errlen, "out of memory");
        return EX_OSERR;
    }
    if (of_idgen_init(&gw->ids, err, errlen) != 0) return EX_OSERR;
    /* Listening first: a port in use is a configuration error worth
     * reporting before waiting for Kafka, and /healthz answers meanwhile. */
    int status = gw_http_start(gw, listen_option, err, errlen);
    if (status) return status;
    if (!quiet) ofc_warn("listening on %s", gw->address);
    status = gw_kafka_open(gw, err, errlen);
    if (!status) status = gw_view_open(gw, err, errlen);
    if (!status) status = gw_view_start(gw, err, errlen);
    if (status) return status;
    ofc_health_set_unready(&gw->health, "starting: restoring idempotency keys");
    uint64_t restored = 0;
    status = gw_restore(gw, &restored, err, errlen);
    if (!status && !quiet)
        ofc_warn("restored %llu idempotency keys from '%s'", (unsigned long long)restored,
                 cfg->topic_order_created);
    /* Ready once the view has the window's results too: a GET right after
     * /readyz says 200 must not call a processed order pending. */
    ofc_health_set_unready(&gw->health, "starting: reading the results of the retention window");
    for (int64_t deadline = of_monotonic_ms() + VIEW_CATCH_UP_MS;
         !status && !gw_view_caught_up(gw) && !ofc_stop_signal;) {
        if (of_monotonic_ms() > deadline) {
            snprintf(err, errlen, "reading '%s' back took over %d s", cfg->topic_data_processed,
                     VIEW_CATCH_UP_MS / 1000);
            status = EX_UNAVAILABLE;
        }
        usleep(20 * 1000);
    }
    /* Refused its producer id while starting: no "ready" to take back. */
    if (!status) status = producer_refused(gw, err, errlen);
    return status;
}

static void close_gateway(gateway *gw)
{
    gw_view_stop(gw);
    gw_http_stop(gw);
    gw_view_close(gw);
    gw_kafka_close(gw);
    if (gw->view.by_id.buckets) order_view_free(&gw->view);
    slow_clients_free(&gw->slow);
    if (gw->keys.by_key.buckets) idem_store_free(&gw->keys);
    of_encoder_free(gw->encoder);
    of_decoder_free(gw->decoder);
    ofc_metrics_free(gw->registry);
}

/* Returns 0 when stopped by a signal, EX_NOPERM when Kafka refused the
 * producer, EX_UNAVAILABLE when it failed fatally otherwise. */
static int run(gateway *gw)
{
    int status = 0;
    ofc_timer sweeps;
    ofc_timer_start(&sweeps, HOUSEKEEPING_MS);
    while (!ofc_stop_signal) {
        char why[1024];
        status = producer_refused(gw, why, sizeof(why));
        if (status) {
            ofc_warn("%s", why);
            break;
        }
        rd_kafka_resp_err_t fatal = rd_kafka_fatal_error(gw->kafka.rk, why, sizeof(why));
        if (fatal) {
            /* The idempotent producer cannot go on (its sequence broke).
             * A restart is the replacement: it restores the keys, and
             * the requests failed here are retried by their clients. */
            ofc_warn("the producer failed fatally (%s: %s): stopping so a supervisor restarts "
                     "the gateway",
                     rd_kafka_err2name(fatal), why);
            status = EX_UNAVAILABLE;
            break;
        }
        rd_kafka_poll(gw->kafka.rk, 100);
        int64_t now_ms = of_monotonic_ms();
        if (!ofc_timer_due(&sweeps, now_ms)) continue;
        gw_orders_expire(gw, now_ms);
        slow_clients_sweep(&gw->slow, now_ms);
        ofc_health_beat(&gw->health, now_ms);
        ofc_metric_set(gw->metrics.keys, (double)idem_store_count(&gw->keys));
        atomic_store_explicit(&gw->metrics.keys_dropped->value, idem_store_dropped(&gw->keys),
                              memory_order_relaxed);
    }
    /* Stop taking requests; answer those waiting for Kafka (their delivery
     * reports come within message.timeout.ms), then stop. */
    ofc_health_set_unready(&gw->health, "stopping");
    gw_http_quiesce(gw);
    gw_view_stop(gw);
    rd_kafka_flush(gw->kafka.rk, gw->cfg->gateway_request_timeout_ms + 1000);
    rd_kafka_poll(gw->kafka.rk, 0);
    /* The answers just resumed still have to go out. */
    for (int i = 0; i < 40 && atomic_load(&gw->requests) > 0; i++)
        usleep(50 * 1000);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {NULL, 0, NULL, 0},
    };
    static const ofc_startup startup = {
        OFC_STARTUP_PROGRAM(PROGRAM, PROGRAM, usage, longopts, take_option),
        .flags = OFC_STARTUP_STOP_SIGNALS | OFC_STARTUP_IGNORE_SIGPIPE |
                 OFC_STARTUP_NAME_SHORT_OPTION | OFC_STARTUP_WARN_LIBRDKAFKA,
        .configure = configure,
    };
    gateway_options opts = {0};
    ofc_config cfg;
    int status = ofc_startup_run(&startup, &opts, argc, argv, &opts.common, &cfg, NULL);
    if (status != OFC_STARTUP_CONTINUE) return status;
    char err[1024];
    static gateway gw;
    status = open_gateway(&gw, &cfg, opts.listen ? "--listen" : "gateway.listen", opts.common.quiet,
                          err, sizeof(err));
    if (status) {
        ofc_warn("%s", err);
    } else {
        atomic_store(&gw.accepting, 1);
        ofc_health_set_unready(&gw.health, NULL);
        if (!opts.common.quiet) ofc_warn("ready");
        status = run(&gw);
    }
    close_gateway(&gw);
    ofc_config_free(&cfg);
    return status;
}
