/* The consumer behind GET /orders/<order_id>: every partition of
 * data-processed assigned from the start of the retention window (no group,
 * no commits: the view is this process's own), read on its own thread into
 * the order view, so the orders whose keys were restored find their
 * results too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli/log.h"
#include "gateway.h"
#include "window.h"

/* Records taken from librdkafka at a time. */
#define VIEW_BATCH 64

int gw_view_open(gateway *gw, char *err, size_t errlen)
{
    const ofc_config *cfg = gw->cfg;
    const ofc_kafka_setting defaults[] = {
        /* librdkafka wants a group id for a consumer; nothing joins or commits. */
        {"group.id", "orderflow-gateway-view"},
        {NULL, NULL},
    };
    const ofc_kafka_setting forced[] = {
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"}, /* for gw_view_caught_up */
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(cfg, defaults, forced, err, errlen);
    if (!conf) return EX_CONFIG;
    if (ofc_kafka_new(&gw->view_kafka, RD_KAFKA_CONSUMER, conf, gw, err, errlen) != 0)
        return EX_SOFTWARE;
    rd_kafka_poll_set_consumer(gw->view_kafka.rk);
    ofc_topic_info topic = {cfg->topic_data_processed, 0};
    int status = ofc_kafka_describe_topics(&gw->view_kafka, cfg->brokers, &topic, 1,
                                           cfg->gateway_request_timeout_ms, err, errlen);
    if (status) return status;
    if (topic.partition_count == 0) {
        snprintf(err, errlen, "topic '%s' does not exist on %s (topics.data_processed)",
                 cfg->topic_data_processed, cfg->brokers);
        return EX_UNAVAILABLE;
    }
    int count = topic.partition_count;
    gw->view_parts = calloc((size_t)count, sizeof(*gw->view_parts));
    if (!gw->view_parts) {
        snprintf(err, errlen, "out of memory");
        return EX_OSERR;
    }
    gw->view_since_ms = (int64_t)of_now_ms() - (int64_t)cfg->gateway_retention_s * 1000;
    if (retention_window_parts(gw->view_kafka.rk, cfg->topic_data_processed, count,
                               gw->view_since_ms, cfg->gateway_request_timeout_ms, gw->view_parts,
                               err, errlen) != 0)
        return EX_UNAVAILABLE;
    /* Every partition, also those with nothing in the window yet: the view
     * follows what the processor writes from now on. */
    gw->view_range = (ofc_range){.follow = 1};
    rd_kafka_resp_err_t rc =
        ofc_range_open(&gw->view_range, gw->view_kafka.rk, gw->view_parts, count);
    atomic_init(&gw->view_left, gw->view_range.left);
    if (rc) {
        snprintf(err, errlen, "cannot read '%s': %s", cfg->topic_data_processed,
                 rd_kafka_err2str(rc));
        return ofc_kafka_exit_code(rc);
    }
    gw->view_decoder = of_decoder_new(&cfg->limits);
    if (!gw->view_decoder) {
        snprintf(err, errlen, "out of memory");
        return EX_OSERR;
    }
    return 0;
}

static void take(gateway *gw, const rd_kafka_message_t *msg)
{
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(msg, &type);
    if (ts >= 0 && ts < gw->view_since_ms) return; /* before the window (window.h) */
    of_event ev;
    if (of_decode_event(gw->view_decoder, msg->payload, msg->len, &ev, NULL, 0) != OF_OK ||
        ev.type != OF_EVENT_DATA_PROCESSED)
        return; /* not ours to judge: the processor wrote it */
    const of_processed *p = &ev.data.processed;
    gw_response body = {0};
    if (gw_status_body(&body, p->order_id.ptr, p->order_id.len,
                       p->status == OF_STATUS_ACCEPTED ? "accepted" : "rejected", p) == 0)
        order_view_result(&gw->view, p->order_id.ptr, p->order_id.len, body.body, body.len);
    gw_response_clear(&body);
}

/* 1 once every partition was read up to its high watermark at open:
 * until then the view is still catching up. */
int gw_view_caught_up(gateway *gw)
{
    return atomic_load(&gw->view_left) == 0;
}

static void *run(void *arg)
{
    gateway *gw = arg;
    rd_kafka_message_t *batch[VIEW_BATCH];
    while (!atomic_load(&gw->view_stop)) {
        size_t n = ofc_range_read(&gw->view_range, batch, VIEW_BATCH, 100);
        for (size_t m = 0; m < n; m++) {
            rd_kafka_message_t *msg = batch[m];
            if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
                take(gw, msg);
            else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                ofc_warn("reading %s: %s", gw->cfg->topic_data_processed,
                         rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
        }
        atomic_store(&gw->view_left, gw->view_range.left);
        /* Long polls whose wait ended answer what is known. */
        order_view_expire(&gw->view, of_monotonic_ms(), 0);
    }
    return NULL;
}

int gw_view_start(gateway *gw, char *err, size_t errlen)
{
    atomic_init(&gw->view_stop, 0);
    if (pthread_create(&gw->view_thread, NULL, run, gw) != 0) {
        snprintf(err, errlen, "cannot start the view thread");
        return EX_OSERR;
    }
    gw->view_running = 1;
    return 0;
}

void gw_view_stop(gateway *gw)
{
    if (gw->view_running) {
        atomic_store(&gw->view_stop, 1);
        pthread_join(gw->view_thread, NULL);
        gw->view_running = 0;
    }
    if (gw->view.by_id.buckets) order_view_expire(&gw->view, 0, 1);
}

void gw_view_close(gateway *gw)
{
    ofc_range_close(&gw->view_range);
    if (gw->view_kafka.rk) {
        rd_kafka_consumer_close(gw->view_kafka.rk);
        ofc_kafka_destroy(&gw->view_kafka);
    }
    of_decoder_free(gw->view_decoder);
    gw->view_decoder = NULL;
    free(gw->view_parts);
    gw->view_parts = NULL;
}
