/* Record header helpers. */
#include "kafka/kafka.h"

int ofc_kafka_header_add(rd_kafka_headers_t *headers, const char *name, const void *value,
                         size_t len)
{
    return rd_kafka_header_add(headers, name, -1, value, (ssize_t)len) == RD_KAFKA_RESP_ERR_NO_ERROR
               ? 0
               : -1;
}

int ofc_kafka_header_get(rd_kafka_message_t *msg, const char *name, const void **value, size_t *len)
{
    rd_kafka_headers_t *headers = NULL;
    /* Without headers librdkafka returns __NOENT: same as an absent header. */
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return -1;
    if (rd_kafka_header_get_last(headers, name, value, len) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    return 0;
}
