/* Starting and stopping the metrics endpoint for an executable. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include <librdkafka/rdkafka.h>

#include "cli/log.h"
#include "cli/metrics.h"

of_metrics *of_cli_metrics_registry(char *err, size_t errlen)
{
    of_metrics *registry = of_metrics_new();
    if (!registry) {
        snprintf(err, errlen, "out of memory for the metrics");
        return NULL;
    }
    const char *labels[] = {"version", ORDERFLOW_VERSION, "librdkafka_version",
                            rd_kafka_version_str(), NULL};
    of_metric *info = of_metrics_series(registry, "orderflow_build_info",
                                        "Versions this program was built with; always 1.",
                                        OF_METRIC_GAUGE, labels, NULL, 0, err, errlen);
    if (!info) {
        of_metrics_free(registry);
        return NULL;
    }
    of_metric_set(info, 1);
    return registry;
}

int of_cli_metrics_start(of_cli_metrics *m, const of_config *cfg, const char *option,
                         const char *unready, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (!cfg->metrics_listen) return 0;
    m->registry = of_cli_metrics_registry(err, errlen);
    if (!m->registry) return EX_OSERR;
    of_health_init(&m->health, OF_CLI_HEALTH_STALE_MS, unready);
    m->server =
        of_metrics_server_start(option, cfg->metrics_listen, m->registry, &m->health, err, errlen);
    if (!m->server) {
        of_cli_metrics_stop(m);
        return EX_CONFIG;
    }
    of_warn("metrics on http://%s/metrics (also /healthz, /readyz)",
            of_metrics_server_address(m->server));
    return 0;
}

void of_cli_metrics_stop(of_cli_metrics *m)
{
    of_metrics_server_stop(m->server);
    m->server = NULL;
    of_metrics_free(m->registry);
    m->registry = NULL;
}

void of_cli_metrics_delivery_error(of_metrics *registry, rd_kafka_resp_err_t err)
{
    const char *labels[] = {"error", rd_kafka_err2name(err), NULL};
    char why[256];
    of_metric *series =
        of_metrics_series(registry, "orderflow_delivery_errors_total",
                          "Records the broker did not take, by librdkafka error name.",
                          OF_METRIC_COUNTER, labels, NULL, 0, why, sizeof(why));
    if (series) of_metric_add(series, 1);
}
