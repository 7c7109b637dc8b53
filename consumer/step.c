/* One input to one decision (step.h): what the processor's process_message
 * did between consuming a record and producing, with the rules behind the
 * handler interface. */
#include <stdio.h>
#include <string.h>

#include "record/record.h"

#include "restore.h"
#include "step.h"

int step_init(step *s, const of_limits *limits, const char *group, const of_handler *handler,
              void *handler_state, size_t max_output_bytes, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->handler = handler;
    s->handler_state = handler_state;
    s->decoder = of_decoder_new(limits);
    s->encoder = of_encoder_new();
    s->output = of_handler_output_new(max_output_bytes, limits);
    if (!s->decoder || !s->encoder || !s->output) {
        snprintf(err, errlen, "out of memory setting up the processing step");
        step_free(s);
        return -1;
    }
    if (of_idgen_init(&s->ids, err, errlen) != 0) {
        step_free(s);
        return -1;
    }
    snprintf(s->source, sizeof(s->source), "orderflow-consumer/%s", group);
    return 0;
}

void step_free(step *s)
{
    of_decoder_free(s->decoder);
    of_encoder_free(s->encoder);
    of_handler_output_free(s->output);
    s->decoder = NULL;
    s->encoder = NULL;
    s->output = NULL;
}

/* A dead letter, unless this input was dead-lettered already (before a
 * crash or a rebalance): then a duplicate, not dead-lettered twice. */
static void dead_letter(const of_dedup *emitted, const step_input *in, step_result *r)
{
    r->dead_letter_key_len =
        dead_letter_key(in->offset, r->dead_letter_key, sizeof(r->dead_letter_key));
    if (emitted && of_dedup_contains(emitted, r->dead_letter_key, r->dead_letter_key_len)) {
        r->outcome = STEP_DUPLICATE;
        r->reason = "already dead-lettered";
        return;
    }
    r->outcome = STEP_DEAD_LETTER;
    r->reason = r->reason_text;
}

void step_process(step *s, const of_dedup *emitted, const step_input *in, step_result *r)
{
    r->order_id = (of_str){NULL, 0};
    r->input_time = (of_str){NULL, 0};
    r->trace_ignored = 0;
    r->processed = NULL;
    r->output.value = NULL;
    r->output.value_len = 0;
    r->key_len = 0;
    r->reason = NULL;
    r->reason_text[0] = '\0';
    r->dead_letter_key_len = 0;
    r->retry_delay_ms = 0;
    r->verdict = 0;

    of_event ev;
    of_reject rc = of_decode_event(s->decoder, in->value, in->len, &ev, r->reason_text,
                                   sizeof(r->reason_text));
    if (rc == OF_OK && ev.type != OF_EVENT_ORDER_CREATED) {
        rc = OF_REJECT_UNKNOWN_TYPE;
        snprintf(r->reason_text, sizeof(r->reason_text),
                 "attribute 'type': this stage takes order_created, got %s",
                 of_event_type_name(ev.type));
    }
    if (rc != OF_OK) {
        dead_letter(emitted, in, r);
        return;
    }
    r->trace_ignored = ev.trace_ignored != 0;
    r->order_id = ev.subject;
    r->input_time = ev.time;

    r->key_len = of_idempotency_key_derive("data_processed:", ev.idempotencykey, r->key);
    r->key_hash = of_dedup_hash_key(r->key, r->key_len);
    if (emitted && of_dedup_contains_hash(emitted, r->key_hash)) {
        r->outcome = STEP_DUPLICATE;
        return;
    }

    of_handler_event input = {
        .event = &ev,
        .value = {in->value, in->len},
        .attempt = in->attempt ? in->attempt : 1,
        .partition = in->partition,
        .offset = in->offset,
    };
    of_handler_output_reset(s->output, &ev);
    of_handler_verdict verdict = s->handler->handle(s->handler_state, &input, s->output);
    r->verdict = verdict;
    const char *data = NULL;
    size_t data_len = 0;
    char why[400];
    if (of_handler_output_finish(s->output, verdict, &data, &data_len, &r->processed, why,
                                 sizeof(why)) != 0) {
        snprintf(r->reason_text, sizeof(r->reason_text), "handler %s: %s", s->handler->name, why);
        r->processed = NULL;
        dead_letter(emitted, in, r);
        return;
    }
    if (verdict == OF_HANDLER_DEAD_LETTER) {
        of_str reason = of_handler_output_reason(s->output);
        snprintf(r->reason_text, sizeof(r->reason_text), "handler %s: %.*s", s->handler->name,
                 (int)reason.len, reason.len ? reason.ptr : "no reason given");
        dead_letter(emitted, in, r);
        return;
    }
    if (verdict == OF_HANDLER_RETRY) {
        of_str reason = of_handler_output_reason(s->output);
        r->outcome = STEP_RETRY;
        r->retry_delay_ms = of_handler_output_retry_delay(s->output);
        snprintf(r->reason_text, sizeof(r->reason_text), "%.*s", (int)reason.len,
                 reason.len ? reason.ptr : "");
        r->reason = r->reason_text;
        return;
    }

    if (ofc_processed_record_encode_data(&r->output, s->encoder, &s->ids, s->source, &ev,
                                         (of_str){r->key, r->key_len}, data, data_len, why,
                                         sizeof(why)) != 0) {
        /* Inputs are validated, so this means the output itself is bad:
         * dead-letter the input rather than stop the partition. */
        snprintf(r->reason_text, sizeof(r->reason_text), "cannot encode data_processed: %s", why);
        r->processed = NULL;
        r->output.value = NULL;
        r->output.value_len = 0;
        dead_letter(emitted, in, r);
        return;
    }
    if (r->processed->status == OF_STATUS_ACCEPTED) {
        r->outcome = STEP_ACCEPTED;
    } else {
        r->outcome = STEP_REJECTED;
        /* data.reason is a view (the handler's buffer or the event's), not
         * NUL-terminated: the report takes a C string. */
        snprintf(r->reason_text, sizeof(r->reason_text), "%.*s", (int)r->processed->reason.len,
                 r->processed->reason.ptr);
        r->reason = r->reason_text;
    }
}

rd_kafka_headers_t *step_output_headers(const step_result *r)
{
    return ofc_record_headers(&r->output.ev, 0);
}
