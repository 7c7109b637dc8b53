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
    int64_t *start = NULL;
    window_part *parts = NULL;
    if (!dec) {
        snprintf(err, errlen, "out of memory");
        status = EX_OSERR;
        goto done;
    }
    status = ofc_kafka_describe_topics(&kafka, cfg->brokers, &info, 1,
                                       cfg->gateway_request_timeout_ms, err, errlen);
    if (status) goto done;
    int count = info.partition_count;
    start = calloc((size_t)count + 1, sizeof(*start));
    parts = calloc((size_t)count + 1, sizeof(*parts));
    if (!start || !parts) {
        snprintf(err, errlen, "out of memory");
        status = EX_OSERR;
        goto done;
    }
    int64_t since = (int64_t)of_now_ms() - (int64_t)cfg->gateway_retention_s * 1000;
    if (window_offsets(kafka.rk, topic, count, since, cfg->gateway_request_timeout_ms, start, parts,
                       err, errlen) != 0) {
        status = EX_UNAVAILABLE;
        goto done;
    }
    rd_kafka_topic_partition_list_t *assign = rd_kafka_topic_partition_list_new(count);
    int left = 0;
    for (int p = 0; p < count; p++) {
        if (parts[p].done) continue;
        rd_kafka_topic_partition_list_add(assign, topic, p)->offset = start[p];
        left++;
    }
    rd_kafka_resp_err_t rc = left ? rd_kafka_assign(kafka.rk, assign) : 0;
    rd_kafka_topic_partition_list_destroy(assign);
    if (rc) {
        snprintf(err, errlen, "cannot read '%s' to restore idempotency keys: %s", topic,
                 rd_kafka_err2str(rc));
        status = ofc_kafka_exit_code(rc);
        goto done;
    }
    uint64_t restored = 0;
    int64_t deadline = of_monotonic_ms() + RESTORE_TIMEOUT_MS;
    while (left > 0) {
        if (of_monotonic_ms() > deadline) {
            snprintf(err, errlen, "restoring idempotency keys from '%s' took over %d s", topic,
                     RESTORE_TIMEOUT_MS / 1000);
            status = EX_UNAVAILABLE;
            goto done;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(kafka.rk, 200);
        if (!msg) continue;
        int32_t p = msg->partition;
        int ours = p >= 0 && p < count && !parts[p].done;
        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR && ours) {
            if (restore_record(gw, dec, msg, since, &restored) != 0) {
                rd_kafka_message_destroy(msg);
                snprintf(err, errlen, "out of memory restoring idempotency keys");
                status = EX_OSERR;
                goto done;
            }
            if (msg->offset + 1 >= parts[p].end) {
                parts[p].done = 1;
                left--;
            }
        } else if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF && ours) {
            parts[p].done = 1;
            left--;
        } else if (msg->err && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            ofc_warn("restoring idempotency keys: %s", rd_kafka_message_errstr(msg));
        }
        rd_kafka_message_destroy(msg);
    }
    *restored_out = restored;
done:
    free(start);
    free(parts);
    of_decoder_free(dec);
    rd_kafka_consumer_close(kafka.rk);
    ofc_kafka_destroy(&kafka);
    return status;
}
