/* Starting and stopping the metrics endpoint for an executable. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <librdkafka/rdkafka.h>

#include <orderflow/version.h>

#include "cli/log.h"
#include "cli/metrics.h"

ofc_metrics *ofc_cli_metrics_registry(char *err, size_t errlen)
{
    ofc_metrics *registry = ofc_metrics_new();
    if (!registry) {
        snprintf(err, errlen, "out of memory for the metrics");
        return NULL;
    }
    const char *labels[] = {"version", of_version_str(), "librdkafka_version",
                            rd_kafka_version_str(), NULL};
    ofc_metric *info = ofc_metrics_series(registry, "orderflow_build_info",
                                          "Versions this program was built with; always 1.",
                                          OFC_METRIC_GAUGE, labels, NULL, 0, err, errlen);
    if (!info) {
        ofc_metrics_free(registry);
        return NULL;
    }
    ofc_metric_set(info, 1);
    return registry;
}

int ofc_cli_metrics_start(ofc_cli_metrics *m, const ofc_config *cfg, const char *option,
                          const char *unready, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (!cfg->metrics_listen) return 0;
    m->registry = ofc_cli_metrics_registry(err, errlen);
    if (!m->registry) return EX_OSERR;
    ofc_health_init(&m->health, OFC_CLI_HEALTH_STALE_MS, unready);
    m->server =
        ofc_metrics_server_start(option, cfg->metrics_listen, m->registry, &m->health, err, errlen);
    if (!m->server) {
        ofc_cli_metrics_stop(m);
        return EX_CONFIG;
    }
    ofc_warn("metrics on http://%s/metrics (also /healthz, /readyz)",
             ofc_metrics_server_address(m->server));
    return 0;
}

void ofc_cli_metrics_stop(ofc_cli_metrics *m)
{
    ofc_metrics_server_stop(m->server);
    m->server = NULL;
    ofc_metrics_free(m->registry);
    m->registry = NULL;
}

void ofc_cli_metrics_delivery_error(ofc_metrics *registry, rd_kafka_resp_err_t err)
{
    const char *labels[] = {"error", rd_kafka_err2name(err), NULL};
    char why[256];
    ofc_metric *series =
        ofc_metrics_series(registry, "orderflow_delivery_errors_total",
                           "Records the broker did not take, by librdkafka error name.",
                           OFC_METRIC_COUNTER, labels, NULL, 0, why, sizeof(why));
    if (series) ofc_metric_add(series, 1);
}
