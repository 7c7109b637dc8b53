/* The records orderflow writes (docs/envelope.md): the record headers every
 * event carries, a data_processed record, and a dead letter's headers. The
 * order_created record is in order_record.h; both event types' headers come
 * from ofc_record_headers, so they cannot drift apart. */
#ifndef OFC_RECORD_RECORD_H
#define OFC_RECORD_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>

/* The headers of the record carrying ev (docs/envelope.md, "Record
 * headers"): content-type, idempotency-key, and traceparent/tracestate when
 * the envelope has them (for consumers that read headers only), with room
 * for `extra` more. The caller owns the result (librdkafka does once
 * producev takes it). NULL when out of memory. */
rd_kafka_headers_t *ofc_record_headers(const of_event *ev, size_t extra);

/* The data_processed event answering one order_created input. Kept by the
 * caller from one event to the next: hundreds of events share a
 * millisecond, and its time text is formatted once. */
typedef struct ofc_processed_record {
    char id[OF_UUID_LEN + 1]; /* the new event's id */
    uint64_t time_ms;         /* the millisecond `time` shows; 0: none yet */
    char time[OF_TIME_LEN + 1];
    char traceparent[OF_TRACEPARENT_LEN + 1]; /* the input's trace, continued */
    of_event ev;                              /* views into the arguments and the buffers above */
    const char *value;                        /* the encoded envelope, in the encoder's buffer */
    size_t value_len;
} ofc_processed_record;

/* Encodes result as the data_processed event from source that answers the
 * decoded order_created `input`, with idempotency key `key` (views the
 * caller keeps alive while rec is used): same subject, correlation id
 * (the input's own id when it has none), causation id the input's id, and
 * the input's trace continued with a span of its own (docs/architecture.md,
 * "Trace context"). The value stays valid until the next call on enc.
 * Returns 0, or -1 with the encoder's reason in err. */
int ofc_processed_record_encode(ofc_processed_record *rec, of_encoder *enc, of_idgen *ids,
                                const char *source, const of_event *input, of_str key,
                                const of_processed *result, char *err, size_t errlen);

/* As ofc_processed_record_encode, with the data object given as JSON text
 * that the caller has validated (a handler's output, checked by
 * of_handler_output_finish: its order_id is the input's subject), written
 * byte for byte (of_encode_event_data). rec->ev.data is not set. */
int ofc_processed_record_encode_data(ofc_processed_record *rec, of_encoder *enc, of_idgen *ids,
                                     const char *source, const of_event *input, of_str key,
                                     const char *data, size_t data_len, char *err, size_t errlen);

/* A dead letter's headers (docs/envelope.md, "Dead letters"): the input's
 * own (so redrive can put them back) with any earlier dead-letter headers
 * replaced by orderflow-error = reason and the input's source topic,
 * partition and offset. The caller owns the result. NULL when out of
 * memory. */
rd_kafka_headers_t *ofc_dead_letter_headers(const rd_kafka_message_t *input,
                                            const char *source_topic, const char *reason);

/* Removes the four dead-letter headers (orderflow-error and the source
 * topic, partition and offset) from headers. */
void ofc_dead_letter_headers_remove(rd_kafka_headers_t *headers);

#endif
