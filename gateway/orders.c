/* POST /orders (docs/gateway.md): the producer's validation, the
 * idempotency key, and the record handed to the idempotent producer; the
 * connection waits, suspended, for the delivery report. */
#include <stdlib.h>
#include <string.h>

#include <orderflow/trace.h>

#include "cli/metrics.h"
#include "fingerprint.h"
#include "gateway.h"
#include "record/order_record.h"

static enum MHD_Result unavailable(gw_request *req, const char *detail)
{
    req->resp.retry_after_s = GW_RETRY_AFTER_S;
    return gw_answer_problem(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                             "Service Unavailable", detail);
}

/* Invalid input, with the decoder's reason and the field it names. */
static enum MHD_Result rejected(gw_request *req, of_reject rc, const char *why)
{
    switch (rc) {
    case OF_REJECT_NOT_JSON:
    case OF_REJECT_INVALID_UTF8:
        return gw_answer_problem(req, MHD_HTTP_BAD_REQUEST, "malformed-json", "Bad Request", why);
    case OF_REJECT_TOO_LARGE:
        return gw_answer_problem(req, 413, "too-large", "Content Too Large", why);
    case OF_REJECT_NO_MEMORY:
        return unavailable(req, why);
    default: {
        char pointer[256];
        gw_reason_pointer(why, pointer, sizeof(pointer));
        gw_problem(&req->resp, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid-order",
                   "Unprocessable Content", why, pointer);
        return gw_answer(req);
    }
    }
}

/* The 202 of a key's event at partition/offset (a replay gives the same),
 * into resp. */
static int accepted_into(gw_response *resp, const gw_request *req, int32_t partition,
                         int64_t offset, const char *id)
{
    const ofc_config *cfg = req->gw->cfg;
    if (gw_accepted_body(resp, req->order_id, req->order_id_len, id, req->key, req->key_len,
                         cfg->topic_order_created, partition, offset) != 0)
        return -1;
    resp->location = gw_order_location(req->order_id, req->order_id_len);
    resp->retention_s = cfg->gateway_retention_s;
    return resp->location ? 0 : -1;
}

static int accepted(gw_request *req, int32_t partition, int64_t offset, const char *id)
{
    return accepted_into(&req->resp, req, partition, offset, id);
}

void gw_orders_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    gateway *gw = ofc_kafka_app_opaque(opaque);
    gw_request *req = msg->_private;
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        idem_store_settle(&gw->keys, req->entry, msg->partition, msg->offset, req->id);
        order_view_pending(&gw->view, req->order_id, req->order_id_len);
    } else {
        /* Not in Kafka for all we know (a timed-out record may still land:
         * it carries this key, which the processor deduplicates), so the key
         * is free for the retry the 503 asks for. */
        idem_store_forget(&gw->keys, req->entry);
        ofc_cli_metrics_delivery_error(gw->registry, msg->err);
        /* Every later order would be refused too: the run loop stops the
         * gateway with the grant it lacks. */
        if (ofc_kafka_is_authorization_error(msg->err)) {
            int none = RD_KAFKA_RESP_ERR_NO_ERROR;
            atomic_compare_exchange_strong(&gw->refused, &none, (int)msg->err);
        }
    }
    req->entry = NULL;
    ofc_metric_set(gw->metrics.in_flight, (double)(atomic_fetch_sub(&gw->in_flight, 1) - 1));
    /* The answer is built before taking pub_lock, which the HTTP thread
     * takes for every request it publishes; it is dropped if the deadline
     * answered first. */
    gw_response answer = {0};
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (accepted_into(&answer, req, msg->partition, msg->offset, req->id) != 0) {
            gw_response_clear(&answer);
            gw_problem(&answer, 500, "internal", "Internal Server Error",
                       "the order is in Kafka, but the answer could not be built (out of "
                       "memory): retry with the same key for it",
                       NULL);
        }
    } else {
        char detail[300];
        snprintf(detail, sizeof(detail), "Kafka did not acknowledge the order: %s",
                 rd_kafka_err2str(msg->err));
        answer.retry_after_s = GW_RETRY_AFTER_S;
        gw_problem(&answer, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "Service Unavailable",
                   detail, NULL);
    }
    pthread_mutex_lock(&gw->pub_lock);
    /* Not listed: its deadline passed and it was answered 503; the key's
     * outcome, settled above, is what a retry gets. */
    if (ofc_list_contains(&gw->publishing, &req->pub)) {
        ofc_list_remove(&gw->publishing, &req->pub);
        gw_response_clear(&req->resp);
        req->resp = answer;
        memset(&answer, 0, sizeof(answer));
        req->answered = 1;
        MHD_resume_connection(req->connection);
    }
    pthread_mutex_unlock(&gw->pub_lock);
    gw_response_clear(&answer);
    gw_request_release(req);
}

void gw_orders_expire(gateway *gw, int64_t now_ms)
{
    pthread_mutex_lock(&gw->pub_lock);
    ofc_list_node *node = gw->publishing.first;
    while (node) {
        ofc_list_node *next = node->next;
        gw_request *req = OFC_CONTAINER_OF(node, gw_request, pub);
        if (req->pub_deadline_ms <= now_ms) {
            ofc_list_remove(&gw->publishing, &req->pub);
            req->resp.retry_after_s = GW_RETRY_AFTER_S;
            gw_problem(&req->resp, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                       "Service Unavailable",
                       "Kafka did not acknowledge the order within gateway.request_timeout_ms; "
                       "its key stays in flight (409) until Kafka answers, then a retry gets "
                       "the outcome",
                       NULL);
            req->answered = 1;
            MHD_resume_connection(req->connection);
        }
        node = next;
    }
    pthread_mutex_unlock(&gw->pub_lock);
}

/* The Idempotency-Key, or the derived one when keys are optional. Returns 0,
 * or -1 with the answer queued in *result. */
static int read_key(gw_request *req, const of_order *order, enum MHD_Result *result)
{
    const char *value =
        MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "Idempotency-Key");
    if (!value) {
        if (req->gw->cfg->gateway_require_key) {
            *result = gw_answer_problem(req, MHD_HTTP_BAD_REQUEST, "idempotency-key-missing",
                                        "Bad Request", "the Idempotency-Key header is required");
            return -1;
        }
        char derived[OF_IDEMPOTENCY_KEY_MAX + 1];
        size_t len = of_idempotency_key_derive("order_created:", order->order_id, derived);
        char why[160];
        if (len > IDEM_KEY_MAX ||
            of_idempotency_key_check((of_str){derived, len}, why, sizeof(why)) != 0) {
            *result = gw_answer_problem(req, MHD_HTTP_BAD_REQUEST, "idempotency-key-missing",
                                        "Bad Request",
                                        "no key can be derived from this order_id: send an "
                                        "Idempotency-Key header");
            return -1;
        }
        memcpy(req->key, derived, len + 1);
        req->key_len = len;
        return 0;
    }
    const char *why = NULL;
    int len = idem_key_parse(value, req->key, &why);
    if (len < 0) {
        char detail[200];
        snprintf(detail, sizeof(detail), "Idempotency-Key: %s", why);
        *result = gw_answer_problem(req, MHD_HTTP_BAD_REQUEST, "idempotency-key-invalid",
                                    "Bad Request", detail);
        return -1;
    }
    req->key_len = (size_t)len;
    return 0;
}

/* The request's trace context, like the producer's --traceparent and
 * --tracestate; an invalid one is ignored, as the processor does. */
static void read_trace(gw_request *req, of_str *traceparent, of_str *tracestate)
{
    *traceparent =
        of_str_c(MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "traceparent"));
    *tracestate =
        of_str_c(MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, "tracestate"));
    if (traceparent->ptr && of_traceparent_parse(*traceparent, NULL) != 0)
        *traceparent = (of_str){NULL, 0};
    if (!traceparent->ptr || (tracestate->ptr && !of_tracestate_valid(*tracestate)))
        *tracestate = (of_str){NULL, 0};
}

/* Hands the record to librdkafka; the connection is already suspended.
 * Returns 0, or -1 with the answer set in req->resp. */
static int publish(gw_request *req, const of_order *order, const uint8_t *fingerprint)
{
    gateway *gw = req->gw;
    of_str traceparent, tracestate;
    read_trace(req, &traceparent, &tracestate);
    ofc_order_record rec;
    char err[256];
    if (ofc_order_record_encode(&rec, gw->encoder, &gw->ids, gw->cfg->gateway_source, order,
                                (of_str){req->key, req->key_len}, traceparent, tracestate, 0, 1,
                                err, sizeof(err)) != 0) {
        gw_problem(&req->resp, MHD_HTTP_UNPROCESSABLE_CONTENT, "invalid-order",
                   "Unprocessable Content", err, "");
        return -1;
    }
    memcpy(req->id, rec.id, sizeof(req->id));
    rd_kafka_headers_t *headers = ofc_record_headers(&rec.ev, 1);
    char hex[FINGERPRINT_HEX_LEN + 1];
    fingerprint_hex(fingerprint, hex);
    if (!headers || ofc_kafka_header_add(headers, FINGERPRINT_HEADER, hex, FINGERPRINT_HEX_LEN)) {
        if (headers) rd_kafka_headers_destroy(headers);
        req->resp.retry_after_s = GW_RETRY_AFTER_S;
        gw_problem(&req->resp, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "Service Unavailable",
                   "out of memory", NULL);
        return -1;
    }
    atomic_fetch_add(&gw->in_flight, 1);
    /* From here on the delivery report or the deadline answers req, and the
     * delivery report holds a reference to it until it came. */
    atomic_fetch_add(&req->refs, 1);
    pthread_mutex_lock(&gw->pub_lock);
    req->pub_deadline_ms = req->started_ms + gw->cfg->gateway_request_timeout_ms;
    ofc_list_push_front(&gw->publishing, &req->pub);
    pthread_mutex_unlock(&gw->pub_lock);
    const ofc_kafka_record record = ofc_order_record_kafka(&rec, gw->topic, headers, req);
    /* One try: a full queue is answered 503 with Retry-After at once, like
     * any refusal. Waiting for room would hold libmicrohttpd's thread (every
     * other connection with it), and serving delivery reports here would
     * run gw_orders_on_delivery off the thread that polls the producer.
     * gateway.max_in_flight (10,000) below librdkafka's queue (100,000
     * messages) keeps a full queue rare. */
    const ofc_kafka_retry once = {.max_wait_ms = 0};
    rd_kafka_resp_err_t rc = ofc_kafka_produce(gw->kafka.rk, &record, &once);
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    pthread_mutex_lock(&gw->pub_lock);
    ofc_list_remove(&gw->publishing, &req->pub);
    pthread_mutex_unlock(&gw->pub_lock);
    atomic_fetch_sub(&req->refs, 1);
    atomic_fetch_sub(&gw->in_flight, 1);
    rd_kafka_headers_destroy(headers); /* still ours when producev fails */
    char detail[300];
    snprintf(detail, sizeof(detail), "cannot hand the order to Kafka: %s", rd_kafka_err2str(rc));
    if (rc == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
        gw_problem(&req->resp, 413, "too-large", "Content Too Large", detail, NULL);
    } else {
        req->resp.retry_after_s = GW_RETRY_AFTER_S;
        gw_problem(&req->resp, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable", "Service Unavailable",
                   detail, NULL);
    }
    return -1;
}

enum MHD_Result gw_orders_post(gw_request *req)
{
    gateway *gw = req->gw;
    enum MHD_Result result;
    if (!atomic_load(&gw->accepting))
        return unavailable(req, "starting: restoring idempotency keys from Kafka");
    if (req->too_large) {
        char detail[128];
        snprintf(detail, sizeof(detail), "the body is over %zu bytes (limits.max_record_bytes)",
                 gw->cfg->limits.max_record_bytes);
        return gw_answer_problem(req, 413, "too-large", "Content Too Large", detail);
    }
    of_order order;
    char why[512];
    of_reject rc = of_decode_order(gw->decoder, req->body ? req->body : "", req->len, &order, why,
                                   sizeof(why));
    if (rc != OF_OK) return rejected(req, rc, why);
    if (read_key(req, &order, &result) != 0) return result;

    uint8_t fingerprint[IDEM_FINGERPRINT_LEN];
    if (fingerprint_body(req->body ? req->body : "", req->len, fingerprint) != 0)
        return gw_answer_problem(req, 500, "internal", "Internal Server Error",
                                 "cannot hash the body");
    req->order_id = malloc(order.order_id.len + 1);
    if (!req->order_id) return unavailable(req, "out of memory");
    memcpy(req->order_id, order.order_id.ptr, order.order_id.len);
    req->order_id[order.order_id.len] = '\0';
    req->order_id_len = order.order_id.len;

    idem_outcome outcome;
    switch (idem_store_begin(&gw->keys, req->key, req->key_len, fingerprint, req->order_id,
                             req->order_id_len, of_now_ms(), &req->entry, &outcome)) {
    case IDEM_REPLAY:
        ofc_metric_add(gw->metrics.replays, 1);
        if (accepted(req, outcome.partition, outcome.offset, outcome.id) != 0)
            return unavailable(req, "out of memory");
        req->resp.replayed = 1;
        return gw_answer(req);
    case IDEM_BUSY:
        ofc_metric_add(gw->metrics.conflicts, 1);
        return gw_answer_problem(
            req, MHD_HTTP_CONFLICT, "idempotency-key-in-flight", "Conflict",
            "a request with this Idempotency-Key is still being published; retry "
            "later for its outcome");
    case IDEM_MISMATCH:
        ofc_metric_add(gw->metrics.conflicts, 1);
        return gw_answer_problem(req, MHD_HTTP_UNPROCESSABLE_CONTENT, "idempotency-key-reused",
                                 "Unprocessable Content",
                                 "this Idempotency-Key was used with another body");
    case IDEM_NO_ROOM:
        return unavailable(req, "out of memory for the idempotency key");
    case IDEM_ADDED:
        break;
    }
    /* Checked once the key is known new: a retry of a key in flight is a
     * 409 and a replay costs Kafka nothing, whatever the load. */
    if (atomic_load(&gw->in_flight) >= gw->cfg->gateway_max_in_flight) {
        idem_store_forget(&gw->keys, req->entry);
        req->entry = NULL;
        return unavailable(req, "too many requests waiting for Kafka (gateway.max_in_flight)");
    }
    /* Suspended before the record leaves: its delivery report may resume
     * the connection before rd_kafka_producev even returns. */
    MHD_suspend_connection(req->connection);
    if (publish(req, &order, fingerprint) != 0) {
        idem_store_forget(&gw->keys, req->entry);
        req->entry = NULL;
        req->answered = 1;
        MHD_resume_connection(req->connection);
        return MHD_YES;
    }
    ofc_metric_set(gw->metrics.in_flight, (double)atomic_load(&gw->in_flight));
    return MHD_YES;
}
