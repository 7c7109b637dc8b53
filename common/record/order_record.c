#include <stdio.h>
#include <sysexits.h>

#include "kafka/kafka.h"
#include "record/order_record.h"

int ofc_order_record_encode(ofc_order_record *rec, of_encoder *enc, of_idgen *ids,
                            const char *source, const of_order *order, of_str key,
                            of_str traceparent, of_str tracestate, int tracing, int checked,
                            char *err, size_t errlen)
{
    uint64_t now = of_now_ms();
    of_uuid7(ids, now, rec->id);
    of_format_time(now, rec->time);
    if (!traceparent.ptr && tracing) {
        of_traceparent tp;
        of_trace_start(ids, &tp);
        of_traceparent_format(&tp, rec->new_trace);
        traceparent = (of_str){rec->new_trace, OF_TRACEPARENT_LEN};
    }
    rec->ev = (of_event){
        .type = OF_EVENT_ORDER_CREATED,
        .id = {rec->id, OF_UUID_LEN},
        .source = of_str_c(source),
        .time = {rec->time, OF_TIME_LEN},
        .idempotencykey = key,
        .subject = order->order_id,
        .traceparent = traceparent,
        .tracestate = traceparent.ptr ? tracestate : (of_str){NULL, 0},
        .schemaversion = OF_SCHEMAVERSION,
        .data.order = *order,
    };
    char why[160];
    int encoded =
        checked ? of_encode_event(enc, &rec->ev, &rec->value, &rec->value_len, why, sizeof(why))
                : of_encode_event_unchecked(enc, &rec->ev, &rec->value, &rec->value_len, why,
                                            sizeof(why));
    if (encoded != 0) {
        snprintf(err, errlen, "cannot encode the event: %s", why);
        return -1;
    }
    return 0;
}

ofc_kafka_record ofc_order_record_kafka(const ofc_order_record *rec, rd_kafka_topic_t *topic,
                                        rd_kafka_headers_t *headers, void *opaque)
{
    return (ofc_kafka_record){
        .topic = topic,
        .partition = RD_KAFKA_PARTITION_UA,
        .key = rec->ev.subject.ptr,
        .key_len = rec->ev.subject.len,
        .value = rec->value,
        .value_len = rec->value_len,
        .headers = headers,
        .opaque = opaque,
    };
}

int ofc_order_topic_open(ofc_kafka *kafka, const ofc_config *cfg, const char *name, int timeout_ms,
                         rd_kafka_topic_t **topic, char *err, size_t errlen)
{
    ofc_topic_info info = {name, 0};
    int status = ofc_kafka_describe_topics(kafka, cfg->brokers, &info, 1, timeout_ms, err, errlen);
    if (status) return status;
    if (info.partition_count == 0) {
        snprintf(err, errlen,
                 "topic '%s' does not exist on %s; create it (see kafka-compose.yml) or name "
                 "another with -t/--topic or topics.order_created",
                 name, cfg->brokers);
        return EX_UNAVAILABLE;
    }
    *topic = rd_kafka_topic_new(kafka->rk, name, NULL);
    if (!*topic) {
        snprintf(err, errlen, "cannot use topic '%s': %s", name,
                 rd_kafka_err2str(rd_kafka_last_error()));
        return EX_SOFTWARE;
    }
    return 0;
}
