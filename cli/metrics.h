/* The metrics endpoint as both executables run it: off unless
 * cfg->metrics_listen is set; then a registry holding
 * orderflow_build_info, liveness/readiness state, and the libmicrohttpd
 * server (docs/operations.md, "Monitoring"). */
#ifndef OF_CLI_METRICS_H
#define OF_CLI_METRICS_H

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "metrics/metrics.h"
#include "metrics/server.h"

/* /healthz says 503 once the event loop has not iterated for this long. */
#define OF_CLI_HEALTH_STALE_MS 10000

typedef struct of_cli_metrics {
    of_metrics *registry; /* NULL: metrics off */
    of_health health;
    of_metrics_server *server;
} of_cli_metrics;

/* A new registry holding orderflow_build_info; NULL with err when out of
 * memory. */
of_metrics *of_cli_metrics_registry(char *err, size_t errlen);
/* Starts the endpoint when cfg->metrics_listen is set (option names its
 * origin in messages: "--metrics" or "metrics.listen"), not ready for
 * `unready` until the program says otherwise, and says on stderr where it
 * listens. Returns 0 (registry NULL when off), or with err EX_CONFIG when it
 * cannot listen (address in use or not local), EX_OSERR when out of memory. */
int of_cli_metrics_start(of_cli_metrics *m, const of_config *cfg, const char *option,
                         const char *unready, char *err, size_t errlen);
/* Counts one record the broker did not take in
 * orderflow_delivery_errors_total{error="<librdkafka error name>"}, the
 * series made on first sight (error names are few and bounded). */
void of_cli_metrics_delivery_error(of_metrics *registry, rd_kafka_resp_err_t err);
/* Stops the server, then frees the registry. */
void of_cli_metrics_stop(of_cli_metrics *m);

#endif
