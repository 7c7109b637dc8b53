/* The metrics endpoint as both executables run it: off unless
 * cfg->metrics_listen is set; then a registry holding
 * orderflow_build_info, liveness/readiness state, and the libmicrohttpd
 * server (docs/operations.md, "Monitoring"). */
#ifndef OFC_CLI_METRICS_H
#define OFC_CLI_METRICS_H

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "metrics/metrics.h"
#include "metrics/server.h"

/* /healthz says 503 once the event loop has not iterated for this long. */
#define OFC_CLI_HEALTH_STALE_MS 10000

typedef struct ofc_cli_metrics {
    ofc_metrics *registry; /* NULL: metrics off */
    ofc_health health;
    ofc_metrics_server *server;
} ofc_cli_metrics;

/* A new registry holding orderflow_build_info; NULL with err when out of
 * memory. */
ofc_metrics *ofc_cli_metrics_registry(char *err, size_t errlen);
/* Starts the endpoint when cfg->metrics_listen is set (option names its
 * origin in messages: "--metrics" or "metrics.listen"), not ready for
 * `unready` until the program says otherwise, and says on stderr where it
 * listens. Returns 0 (registry NULL when off), or with err EX_CONFIG when it
 * cannot listen (address in use or not local), EX_OSERR when out of memory. */
int ofc_cli_metrics_start(ofc_cli_metrics *m, const ofc_config *cfg, const char *option,
                          const char *unready, char *err, size_t errlen);
/* Counts one record the broker did not take in
 * orderflow_delivery_errors_total{error="<librdkafka error name>"}, the
 * series made on first sight (error names are few and bounded). */
void ofc_cli_metrics_delivery_error(ofc_metrics *registry, rd_kafka_resp_err_t err);
/* Stops the server, then frees the registry. */
void ofc_cli_metrics_stop(ofc_cli_metrics *m);

#endif
