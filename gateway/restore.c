/* Idempotency keys back from Kafka at start (docs/gateway.md, "Restart"):
 * every record of order-created from now - retention to the high watermark
 * that carries an idempotency-fingerprint header (so it came through a
 * gateway) gives its key, fingerprint and answer (partition, offset, id,
 * order_id) back to the store, and its order to the view as pending. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli/log.h"
#include "fingerprint.h"
#include "gateway.h"
#include "window.h"

/* How long restoring may take before the gateway gives up. */
#define RESTORE_TIMEOUT_MS 120000
/* Records taken from librdkafka at a time. */
#define RESTORE_BATCH 64

/* One record: its key back in the store when it came through a gateway. */
static int restore_record(gateway *gw, of_decoder *dec, rd_kafka_message_t *msg, int64_t since_ms,
                          uint64_t *restored)
{
    rd_kafka_timestamp_type_t type;
    int64_t ts = rd_kafka_message_timestamp(msg, &type);
    if (ts >= 0 && ts < since_ms) return 0;
    const void *hex;
    size_t hex_len;
    uint8_t fp[IDEM_FINGERPRINT_LEN];
    if (ofc_kafka_header_get(msg, FINGERPRINT_HEADER, &hex, &hex_len) != 0 ||
        fingerprint_parse(hex, hex_len, fp) != 0)
        return 0; /* not published through a gateway: no request to replay */
    of_event ev;
    if (of_decode_event(dec, msg->payload, msg->len, &ev, NULL, 0) != OF_OK ||
        ev.type != OF_EVENT_ORDER_CREATED || ev.id.len != OF_UUID_LEN ||
        ev.idempotencykey.len > IDEM_KEY_MAX)
        return 0;
    if (idem_store_restore(&gw->keys, ev.idempotencykey.ptr, ev.idempotencykey.len, fp,
                           ev.subject.ptr, ev.subject.len, ts >= 0 ? (uint64_t)ts : of_now_ms(),
                           msg->partition, msg->offset, ev.id.ptr) != 0)
        return -1;
    order_view_pending(&gw->view, ev.subject.ptr, ev.subject.len);
    (*restored)++;
    return 0;
}

int gw_restore(gateway *gw, uint64_t *restored_out, char *err, size_t errlen)
{
    const ofc_config *cfg = gw->cfg;
    const char *topic = cfg->topic_order_created;
    const ofc_kafka_setting defaults[] = {
        {"group.id", "orderflow-gateway-restore"}, /* required; never joined */
        {NULL, NULL},
    };
    const ofc_kafka_setting forced[] = {
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
        {NULL, NULL},
    };
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(cfg, defaults, forced, err, errlen);
    if (!conf) return EX_CONFIG;
    ofc_kafka kafka;
    memset(&kafka, 0, sizeof(kafka));
    if (ofc_kafka_new(&kafka, RD_KAFKA_CONSUMER, conf, gw, err, errlen) != 0) return EX_SOFTWARE;
    rd_kafka_poll_set_consumer(kafka.rk);
    int status = EX_OK;
    of_decoder *dec = of_decoder_new(&cfg->limits);
    ofc_topic_info info = {topic, 0};
    ofc_range_part *parts = NULL;
    ofc_range range = {0};
    if (!dec) {
        snprintf(err, errlen, "out of memory");
        status = EX_OSERR;
        goto done;
    }
    status = ofc_kafka_describe_topics(&kafka, cfg->brokers, &info, 1,
                                       cfg->gateway_request_timeout_ms, err, errlen);
    if (status) goto done;
    int count = info.partition_count;
    parts = calloc((size_t)count + 1, sizeof(*parts));
    if (!parts) {
        snprintf(err, errlen, "out of memory");
        status = EX_OSERR;
        goto done;
    }
    int64_t since = (int64_t)of_now_ms() - (int64_t)cfg->gateway_retention_s * 1000;
    if (retention_window_parts(kafka.rk, topic, count, since, cfg->gateway_request_timeout_ms,
                               parts, err, errlen) != 0) {
        status = EX_UNAVAILABLE;
        goto done;
    }
    rd_kafka_resp_err_t rc = ofc_range_open(&range, kafka.rk, parts, count);
    if (rc) {
        snprintf(err, errlen, "cannot read '%s' to restore idempotency keys: %s", topic,
                 rd_kafka_err2str(rc));
        status = ofc_kafka_exit_code(rc);
        goto done;
    }
    uint64_t restored = 0;
    int64_t deadline = of_monotonic_ms() + RESTORE_TIMEOUT_MS;
    rd_kafka_message_t *batch[RESTORE_BATCH];
    while (range.left > 0 && !status) {
        if (of_monotonic_ms() > deadline) {
            snprintf(err, errlen, "restoring idempotency keys from '%s' took over %d s", topic,
                     RESTORE_TIMEOUT_MS / 1000);
            status = EX_UNAVAILABLE;
            goto done;
        }
        size_t n = ofc_range_read(&range, batch, RESTORE_BATCH, 200);
        for (size_t m = 0; m < n; m++) {
            rd_kafka_message_t *msg = batch[m];
            if (status) {
                /* out of memory: the rest of the batch is dropped */
            } else if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
                if (restore_record(gw, dec, msg, since, &restored) != 0) {
                    snprintf(err, errlen, "out of memory restoring idempotency keys");
                    status = EX_OSERR;
                }
            } else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                ofc_warn("restoring idempotency keys: %s", rd_kafka_message_errstr(msg));
            }
            rd_kafka_message_destroy(msg);
        }
    }
    if (status) goto done;
    *restored_out = restored;
done:
    ofc_range_close(&range);
    free(parts);
    of_decoder_free(dec);
    rd_kafka_consumer_close(kafka.rk);
    ofc_kafka_destroy(&kafka);
    return status;
}
