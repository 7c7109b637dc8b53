/* Record headers: the ones every event carries, and a dead letter's. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kafka/kafka.h"
#include "record/record.h"

rd_kafka_headers_t *ofc_record_headers(const of_event *ev, size_t extra)
{
    rd_kafka_headers_t *headers = rd_kafka_headers_new((ev->traceparent.ptr ? 4 : 2) + extra);
    if (!headers) return NULL;
    ofc_kafka_header_add(headers, OF_CONTENT_TYPE_HEADER, OF_CONTENT_TYPE_VALUE,
                         sizeof(OF_CONTENT_TYPE_VALUE) - 1);
    ofc_kafka_header_add(headers, OF_IDEMPOTENCY_KEY_HEADER, ev->idempotencykey.ptr,
                         ev->idempotencykey.len);
    /* The envelope's trace context, for consumers that read headers only. */
    if (ev->traceparent.ptr)
        ofc_kafka_header_add(headers, OF_TRACEPARENT_HEADER, ev->traceparent.ptr,
                             ev->traceparent.len);
    if (ev->tracestate.ptr)
        ofc_kafka_header_add(headers, OF_TRACESTATE_HEADER, ev->tracestate.ptr, ev->tracestate.len);
    return headers;
}

void ofc_dead_letter_headers_remove(rd_kafka_headers_t *headers)
{
    rd_kafka_header_remove(headers, OF_DEAD_LETTER_ERROR_HEADER);
    rd_kafka_header_remove(headers, OF_SOURCE_TOPIC_HEADER);
    rd_kafka_header_remove(headers, OF_SOURCE_PARTITION_HEADER);
    rd_kafka_header_remove(headers, OF_SOURCE_OFFSET_HEADER);
}

rd_kafka_headers_t *ofc_dead_letter_headers(const rd_kafka_message_t *input,
                                            const char *source_topic, const char *reason)
{
    char partition[16], offset[24];
    snprintf(partition, sizeof(partition), "%" PRId32, input->partition);
    snprintf(offset, sizeof(offset), "%" PRId64, input->offset);
    rd_kafka_headers_t *input_headers = NULL, *headers = NULL;
    if (rd_kafka_message_headers(input, &input_headers) == RD_KAFKA_RESP_ERR_NO_ERROR)
        headers = rd_kafka_headers_copy(input_headers);
    if (headers)
        ofc_dead_letter_headers_remove(headers);
    else
        headers = rd_kafka_headers_new(4);
    if (!headers) return NULL;
    ofc_kafka_header_add(headers, OF_DEAD_LETTER_ERROR_HEADER, reason, strlen(reason));
    ofc_kafka_header_add(headers, OF_SOURCE_TOPIC_HEADER, source_topic, strlen(source_topic));
    ofc_kafka_header_add(headers, OF_SOURCE_PARTITION_HEADER, partition, strlen(partition));
    ofc_kafka_header_add(headers, OF_SOURCE_OFFSET_HEADER, offset, strlen(offset));
    return headers;
}
