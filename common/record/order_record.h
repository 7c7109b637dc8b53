/* One order as an order_created Kafka record (docs/envelope.md): the
 * envelope, encoded, and the record headers that go with it. What the
 * producer and the gateway publish is built here, so both send the same
 * bytes for the same order; its headers are ofc_record_headers(&rec.ev, ...). */
#ifndef OFC_PUBLISH_ORDER_RECORD_H
#define OFC_PUBLISH_ORDER_RECORD_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "kafka/kafka.h"
#include "record/record.h"

#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>

typedef struct ofc_order_record {
    char id[OF_UUID_LEN + 1]; /* the new event's id */
    char time[OF_TIME_LEN + 1];
    char new_trace[OF_TRACEPARENT_LEN + 1]; /* a trace started for this event */
    of_event ev;                            /* views into the arguments and the buffers above */
    const char *value;                      /* the encoded envelope, in the encoder's buffer */
    size_t value_len;
} ofc_order_record;

/* Encodes order as a new order_created event from source with idempotency
 * key `key` (checked by the encoder). traceparent and tracestate (views the
 * caller keeps alive, valid or absent) are its trace context; without a
 * traceparent and with tracing set, a new trace is started. checked: run the
 * encoder's value checks; 0 only for a caller that made or already checked
 * every string (of_encode_event_unchecked). The record's value stays valid
 * until the next call on enc. Returns 0, or -1 with err. */
int ofc_order_record_encode(ofc_order_record *rec, of_encoder *enc, of_idgen *ids,
                            const char *source, const of_order *order, of_str key,
                            of_str traceparent, of_str tracestate, int tracing, int checked,
                            char *err, size_t errlen);

/* rec as the record to produce to topic: keyed by the order id (so an order's
 * events stay in one partition, in order), the partitioner choosing the
 * partition, with headers (ofc_record_headers) and the delivery report's
 * opaque. Its views point into rec and its order, which must outlive it. */
ofc_kafka_record ofc_order_record_kafka(const ofc_order_record *rec, rd_kafka_topic_t *topic,
                                        rd_kafka_headers_t *headers, void *opaque);

/* Checks that the order_created topic `name` exists on cfg->brokers (a
 * metadata request through kafka, at most timeout_ms) and returns a handle
 * to it in *topic (the caller destroys it). Returns 0, or a sysexits status
 * with err: EX_UNAVAILABLE when the topic is missing (naming how to create
 * or name another) or no broker answers, EX_SOFTWARE otherwise. */
int ofc_order_topic_open(ofc_kafka *kafka, const ofc_config *cfg, const char *name, int timeout_ms,
                         rd_kafka_topic_t **topic, char *err, size_t errlen);

#endif
