/* The gateway's idempotent producer: acks=all, and a delivery bound of
 * gateway.request_timeout_ms so a request never waits longer than that for
 * its answer (docs/gateway.md, "When Kafka is away"). */
#include <stdio.h>
#include <sysexits.h>

#include "gateway.h"
#include "record/order_record.h"

int gw_kafka_open(gateway *gw, char *err, size_t errlen)
{
    const ofc_config *cfg = gw->cfg;
    char timeout[24];
    snprintf(timeout, sizeof(timeout), "%d", cfg->gateway_request_timeout_ms);
    const ofc_kafka_setting defaults[] = {
        /* A request waits for its batch: keep batching short. */
        {"linger.ms", "1"},
        {"message.timeout.ms", timeout},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = ofc_kafka_producer_conf_new(cfg, defaults, err, errlen);
    if (!conf) return EX_CONFIG;
    rd_kafka_conf_set_dr_msg_cb(conf, gw_orders_on_delivery);
    if (ofc_kafka_new(&gw->kafka, RD_KAFKA_PRODUCER, conf, gw, err, errlen) != 0)
        return EX_SOFTWARE;
    return ofc_order_topic_open(&gw->kafka, cfg, cfg->topic_order_created,
                                cfg->gateway_request_timeout_ms, &gw->topic, err, errlen);
}

void gw_kafka_close(gateway *gw)
{
    if (gw->topic) rd_kafka_topic_destroy(gw->topic);
    gw->topic = NULL;
    if (gw->kafka.rk) ofc_kafka_destroy(&gw->kafka);
}
