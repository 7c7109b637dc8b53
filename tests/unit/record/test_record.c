/* The records orderflow writes (common/record): the headers every event
 * carries, the data_processed record answering an order_created input, and
 * a dead letter's headers (against librdkafka's mock cluster in process, as
 * only a consumed message has headers to copy). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <orderflow/processing.h>

#include "kafka/kafka.h"
#include "record/record.h"

#include "../../check_run.h"

static const char order_created[] =
    "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d\","
    "\"source\":\"orderflow-producer\",\"type\":\"order_created\","
    "\"time\":\"2026-11-24T12:00:00.123Z\",\"datacontenttype\":\"application/json\","
    "\"idempotencykey\":\"order_created:A-1001\",\"subject\":\"A-1001\","
    "\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\","
    "\"tracestate\":\"vendor=1\",\"schemaversion\":1,"
    "\"data\":{\"order_id\":\"A-1001\",\"customer_id\":\"C-42\",\"currency\":\"EUR\","
    "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}]}}";

/* "name=value;" for each header, in order. */
static void headers_text(const rd_kafka_headers_t *headers, char *out, size_t outlen)
{
    const char *name;
    const void *value;
    size_t len, used = 0;
    out[0] = '\0';
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &len) == 0; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s=%.*s;", name, (int)len,
                                 (const char *)value);
}

static of_str str(const char *s)
{
    return (of_str){s, strlen(s)};
}

START_TEST(event_headers_carry_the_key_and_the_trace_when_there_is_one)
{
    of_event ev = {.idempotencykey = str("order_created:A-1")};
    char text[512];
    rd_kafka_headers_t *headers = ofc_record_headers(&ev, 0);
    headers_text(headers, text, sizeof(text));
    ck_assert_str_eq(text, "content-type=application/cloudevents+json; charset=utf-8;"
                           "idempotency-key=order_created:A-1;");
    rd_kafka_headers_destroy(headers);

    ev.traceparent = str("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    ev.tracestate = str("vendor=1");
    headers = ofc_record_headers(&ev, 1);
    headers_text(headers, text, sizeof(text));
    ck_assert_str_eq(text, "content-type=application/cloudevents+json; charset=utf-8;"
                           "idempotency-key=order_created:A-1;"
                           "traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01;"
                           "tracestate=vendor=1;");
    rd_kafka_headers_destroy(headers);
}
END_TEST

START_TEST(a_processed_record_answers_its_input)
{
    of_limits limits;
    of_limits_init(&limits);
    of_decoder *dec = of_decoder_new(&limits), *out_dec = of_decoder_new(&limits);
    of_encoder *enc = of_encoder_new();
    of_idgen ids;
    of_idgen_seed(&ids, 42);
    of_event in;
    char why[256];
    ck_assert_int_eq(
        of_decode_event(dec, order_created, strlen(order_created), &in, why, sizeof(why)), OF_OK);
    of_processed result;
    char reason[OF_REASON_MAX];
    of_process_order(&in.data.order, &result, reason);
    ofc_processed_record rec = {0};
    const char *key = "data_processed:order_created:A-1001";
    ck_assert_int_eq(ofc_processed_record_encode(&rec, enc, &ids, "orderflow-consumer/g", &in,
                                                 str(key), &result, why, sizeof(why)),
                     0);
    of_event out;
    ck_assert_int_eq(of_decode_event(out_dec, rec.value, rec.value_len, &out, why, sizeof(why)),
                     OF_OK);
    ck_assert_int_eq(out.type, OF_EVENT_DATA_PROCESSED);
    ck_assert(of_str_eq(out.id, (of_str){rec.id, OF_UUID_LEN}));
    ck_assert(of_str_eq(out.idempotencykey, str(key)));
    ck_assert(of_str_eq(out.source, str("orderflow-consumer/g")));
    ck_assert(of_str_eq(out.subject, str("A-1001")));
    /* No correlation id on the input: its own id is the correlation. */
    ck_assert(of_str_eq(out.correlationid, str("0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d")));
    ck_assert(of_str_eq(out.causationid, str("0190b3c4-5e6f-7a8b-9c0d-1e2f3a4b5c6d")));
    ck_assert_int_eq(out.data.processed.total_cents, 3998);
    /* The trace continues: same trace id and flags, a span of its own. */
    ck_assert_int_eq(out.traceparent.len, OF_TRACEPARENT_LEN);
    ck_assert_int_eq(memcmp(out.traceparent.ptr, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36), 0);
    ck_assert_int_ne(memcmp(out.traceparent.ptr + 36, "00f067aa0ba902b7", 16), 0);
    ck_assert_int_eq(memcmp(out.traceparent.ptr + 52, "-01", 3), 0);
    ck_assert(of_str_eq(out.tracestate, str("vendor=1")));
    char text[512];
    rd_kafka_headers_t *headers = ofc_record_headers(&rec.ev, 0);
    headers_text(headers, text, sizeof(text));
    char expected[512];
    snprintf(expected, sizeof(expected),
             "content-type=application/cloudevents+json; "
             "charset=utf-8;idempotency-key=%s;traceparent=%.*s;"
             "tracestate=vendor=1;",
             key, (int)out.traceparent.len, out.traceparent.ptr);
    ck_assert_str_eq(text, expected);
    rd_kafka_headers_destroy(headers);

    /* A second answer: a new id; the time text is kept within its millisecond. */
    char first_id[OF_UUID_LEN + 1];
    memcpy(first_id, rec.id, sizeof(first_id));
    ck_assert_int_eq(ofc_processed_record_encode(&rec, enc, &ids, "orderflow-consumer/g", &in,
                                                 str(key), &result, why, sizeof(why)),
                     0);
    ck_assert_str_ne(rec.id, first_id);
    ck_assert_uint_gt(rec.time_ms, 0);
    char time_text[OF_TIME_LEN + 1];
    of_format_time(rec.time_ms, time_text);
    ck_assert_str_eq(rec.time, time_text);

    /* An output the encoder refuses: -1 and its reason. */
    in.subject = str("bad\x01subject");
    ck_assert_int_eq(ofc_processed_record_encode(&rec, enc, &ids, "orderflow-consumer/g", &in,
                                                 str(key), &result, why, sizeof(why)),
                     -1);
    ck_assert_msg(strstr(why, "subject") != NULL, "why: %s", why);
    of_decoder_free(dec);
    of_decoder_free(out_dec);
    of_encoder_free(enc);
}
END_TEST

/* Produces one record with headers to a mock cluster and consumes it back. */
static rd_kafka_message_t *consumed_with_headers(rd_kafka_t **producer_out,
                                                 rd_kafka_t **consumer_out,
                                                 rd_kafka_headers_t *headers)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(producer != NULL, "%s", err);
    rd_kafka_mock_cluster_t *mock = rd_kafka_handle_mock_cluster(producer);
    ck_assert_int_eq(rd_kafka_mock_topic_create(mock, "orders", 4, 1), 0);
    const ofc_kafka_record rec = {.topic_name = "orders",
                                  .partition = 3,
                                  .key = "A-1",
                                  .key_len = 3,
                                  .value = "{}",
                                  .value_len = 2,
                                  .headers = headers};
    const ofc_kafka_retry retry = {.wait_ms = 10, .max_wait_ms = -1};
    ck_assert_int_eq(ofc_kafka_produce(producer, &rec, &retry), RD_KAFKA_RESP_ERR_NO_ERROR);
    ck_assert_int_eq(rd_kafka_flush(producer, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);

    conf = rd_kafka_conf_new();
    ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers",
                                       rd_kafka_mock_cluster_bootstraps(mock), err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    ck_assert_int_eq(rd_kafka_conf_set(conf, "group.id", "record-test", err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ck_assert_msg(consumer != NULL, "%s", err);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, "orders", 3)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(consumer, list), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_message_t *msg = NULL;
    for (int i = 0; i < 100 && !msg; i++) {
        msg = rd_kafka_consumer_poll(consumer, 100);
        if (msg && msg->err) {
            rd_kafka_message_destroy(msg);
            msg = NULL;
        }
    }
    ck_assert_ptr_nonnull(msg);
    *producer_out = producer; /* its mock cluster serves the consumer */
    *consumer_out = consumer;
    return msg;
}

START_TEST(a_dead_letter_keeps_the_input_headers_and_replaces_its_own)
{
    rd_kafka_headers_t *headers = rd_kafka_headers_new(4);
    rd_kafka_header_add(headers, "idempotency-key", -1, "order_created:A-1", -1);
    rd_kafka_header_add(headers, "orderflow-error", -1, "an earlier reason", -1);
    rd_kafka_header_add(headers, "orderflow-source-offset", -1, "1", -1);
    rd_kafka_header_add(headers, "orderflow-redrive-count", -1, "1", -1);
    rd_kafka_t *producer, *consumer;
    rd_kafka_message_t *msg = consumed_with_headers(&producer, &consumer, headers);
    rd_kafka_headers_t *dead = ofc_dead_letter_headers(msg, "order-created", "attribute 'id': bad");
    char text[1024];
    headers_text(dead, text, sizeof(text));
    ck_assert_str_eq(text, "idempotency-key=order_created:A-1;orderflow-redrive-count=1;"
                           "orderflow-error=attribute 'id': bad;"
                           "orderflow-source-topic=order-created;"
                           "orderflow-source-partition=3;orderflow-source-offset=0;");
    ofc_dead_letter_headers_remove(dead);
    headers_text(dead, text, sizeof(text));
    ck_assert_str_eq(text, "idempotency-key=order_created:A-1;orderflow-redrive-count=1;");
    rd_kafka_headers_destroy(dead);
    rd_kafka_message_destroy(msg);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        event_headers_carry_the_key_and_the_trace_when_there_is_one,
        a_processed_record_answers_its_input,
        a_dead_letter_keeps_the_input_headers_and_replaces_its_own,
        NULL,
    };
    return check_run_tests("record", tests, 60);
}
