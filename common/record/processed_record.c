/* A data_processed record: the event answering one order_created input. */
#include <stdio.h>

#include "record/record.h"

/* Fills rec->ev's envelope for input; its data is the caller's. */
static void envelope(ofc_processed_record *rec, of_idgen *ids, const char *source,
                     const of_event *input, of_str key)
{
    uint64_t now = of_now_ms();
    of_uuid7(ids, now, rec->id);
    if (now != rec->time_ms || !rec->time[0]) {
        of_format_time(now, rec->time);
        rec->time_ms = now;
    }
    /* The output continues the input's trace: same trace-id and flags, a
     * span id of its own; the input span is named by causationid
     * (docs/architecture.md, "Trace context"). */
    of_str traceparent = {NULL, 0};
    of_traceparent trace;
    if (input->traceparent.ptr && of_traceparent_parse(input->traceparent, &trace) == 0) {
        of_trace_continue(ids, &trace, &trace);
        of_traceparent_format(&trace, rec->traceparent);
        traceparent = (of_str){rec->traceparent, OF_TRACEPARENT_LEN};
    }
    rec->ev = (of_event){
        .type = OF_EVENT_DATA_PROCESSED,
        .id = {rec->id, OF_UUID_LEN},
        .source = of_str_c(source),
        .time = {rec->time, OF_TIME_LEN},
        .idempotencykey = key,
        .subject = input->subject,
        .correlationid = input->correlationid.ptr ? input->correlationid : input->id,
        .causationid = input->id,
        .traceparent = traceparent,
        .tracestate = traceparent.ptr ? input->tracestate : (of_str){NULL, 0},
        .schemaversion = OF_SCHEMAVERSION,
    };
}

int ofc_processed_record_encode(ofc_processed_record *rec, of_encoder *enc, of_idgen *ids,
                                const char *source, const of_event *input, of_str key,
                                const of_processed *result, char *err, size_t errlen)
{
    envelope(rec, ids, source, input, key);
    rec->ev.data.processed = *result;
    return of_encode_event(enc, &rec->ev, &rec->value, &rec->value_len, err, errlen) != 0 ? -1 : 0;
}

int ofc_processed_record_encode_data(ofc_processed_record *rec, of_encoder *enc, of_idgen *ids,
                                     const char *source, const of_event *input, of_str key,
                                     const char *data, size_t data_len, char *err, size_t errlen)
{
    envelope(rec, ids, source, input, key);
    return of_encode_event_data(enc, &rec->ev, data, data_len, &rec->value, &rec->value_len, err,
                                errlen) != 0
               ? -1
               : 0;
}
