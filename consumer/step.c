/* One input to one decision (step.h): what the processor's process_message
 * did between consuming a record and producing, with the rules behind the
 * handler interface. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "record/record.h"

#include "restore.h"
#include "step.h"

typedef struct data_check {
    yajl_handle parser;
    unsigned depth;     /* open objects and arrays */
    unsigned max_depth; /* data's own nesting allowed */
    int values;         /* top-level values seen */
    const char *fault;  /* why the callbacks stopped the parse */
} data_check;

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
    s->max_output_bytes = max_output_bytes;
    if (limits)
        s->limits = *limits;
    else
        of_limits_init(&s->limits);
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
    data_check *c = s->data_check;
    if (c && c->parser) yajl_free(c->parser);
    free(c);
    s->data_check = NULL;
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

static inline void reset(step_result *r)
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
}

/* Decodes in into s->event and derives the output's idempotency key.
 * Returns 0, or -1 with r a DEAD_LETTER (or DUPLICATE of one). */
static inline int decode(step *s, const of_dedup *emitted, const step_input *in, step_result *r,
                         of_event *ev)
{
    of_reject rc =
        of_decode_event(s->decoder, in->value, in->len, ev, r->reason_text, sizeof(r->reason_text));
    if (rc == OF_OK && ev->type != OF_EVENT_ORDER_CREATED) {
        rc = OF_REJECT_UNKNOWN_TYPE;
        snprintf(r->reason_text, sizeof(r->reason_text),
                 "attribute 'type': this stage takes order_created, got %s",
                 of_event_type_name(ev->type));
    }
    if (rc != OF_OK) {
        dead_letter(emitted, in, r);
        return -1;
    }
    r->trace_ignored = ev->trace_ignored != 0;
    r->order_id = ev->subject;
    r->input_time = ev->time;
    r->key_len = of_idempotency_key_derive("data_processed:", ev->idempotencykey, r->key);
    r->key_hash = of_dedup_hash_key(r->key, r->key_len);
    return 0;
}

of_handler_event step_call_event(const step *s, const step_input *in)
{
    return (of_handler_event){
        .event = &s->event,
        .value = {in->value, in->len},
        .attempt = in->attempt ? in->attempt : 1,
        .partition = in->partition,
        .offset = in->offset,
    };
}

void step_process(step *s, const of_dedup *emitted, const step_input *in, step_result *r)
{
    reset(r);
    /* On the stack, not in s: the rules path stays as fast as before the
     * asynchronous halves (bench/step.c). */
    of_event event;
    if (decode(s, emitted, in, r, &event) != 0) return;
    if (emitted && of_dedup_contains_hash(emitted, r->key_hash)) {
        r->outcome = STEP_DUPLICATE;
        return;
    }
    const of_event *ev = &event;
    of_handler_event input = {
        .event = ev,
        .value = {in->value, in->len},
        .attempt = in->attempt ? in->attempt : 1,
        .partition = in->partition,
        .offset = in->offset,
    };
    of_handler_output_reset(s->output, ev);
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

    if (ofc_processed_record_encode_data(&r->output, s->encoder, &s->ids, s->source, ev,
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

void step_decide(step *s, const of_dedup *emitted, const step_input *in, step_result *r)
{
    reset(r);
    if (decode(s, emitted, in, r, &s->event) != 0) return;
    r->outcome =
        emitted && of_dedup_contains_hash(emitted, r->key_hash) ? STEP_DUPLICATE : STEP_CALL;
}

/* ---- checking an asynchronous handler's data ------------------------------ */

static int check_scalar(data_check *c)
{
    if (c->depth == 0) {
        c->fault = "data is not a JSON object";
        return 0;
    }
    return 1;
}

static int on_null(void *ctx)
{
    return check_scalar(ctx);
}

static int on_bool(void *ctx, int value)
{
    (void)value;
    return check_scalar(ctx);
}

static int on_number(void *ctx, const char *text, size_t len)
{
    (void)text;
    (void)len;
    return check_scalar(ctx);
}

static int on_string(void *ctx, const unsigned char *text, size_t len)
{
    (void)text;
    (void)len;
    return check_scalar(ctx);
}

static int open_nested(data_check *c, int is_object)
{
    if (c->depth == 0 && (!is_object || c->values++ > 0)) {
        c->fault = "data is not a JSON object";
        return 0;
    }
    if (++c->depth > c->max_depth) {
        c->fault = "data is nested too deeply";
        return 0;
    }
    return 1;
}

static int on_start_map(void *ctx)
{
    return open_nested(ctx, 1);
}

static int on_start_array(void *ctx)
{
    return open_nested(ctx, 0);
}

static int on_end(void *ctx)
{
    data_check *c = ctx;
    c->depth--;
    return 1;
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len)
{
    (void)ctx;
    (void)key;
    (void)len;
    return 1;
}

static const yajl_callbacks data_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

int step_check_data(step *s, const char *data, size_t len, char *err, size_t errlen)
{
    size_t max = s->max_output_bytes ? s->max_output_bytes : OF_HANDLER_DEFAULT_MAX_OUTPUT_BYTES;
    if (len > max) {
        snprintf(err, errlen, "data is over the limit of %zu bytes (handler.max_output_bytes)",
                 max);
        return -1;
    }
    data_check *c = s->data_check;
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c) {
            snprintf(err, errlen, "out of memory checking data");
            return -1;
        }
        s->data_check = c;
    }
    /* yajl_reset does not exist in yajl 2: a handle per check (the data of
     * a call over HTTP, whose own cost is far above this). */
    if (c->parser) yajl_free(c->parser);
    c->parser = yajl_alloc(&data_callbacks, NULL, c);
    if (!c->parser) {
        snprintf(err, errlen, "out of memory checking data");
        return -1;
    }
    c->depth = 0;
    c->values = 0;
    c->fault = NULL;
    /* The envelope is depth 1 and data depth 2 in it. */
    c->max_depth = s->limits.max_depth > 1 ? s->limits.max_depth - 1 : 1;
    yajl_status st = yajl_parse(c->parser, (const unsigned char *)data, len);
    if (st == yajl_status_ok) st = yajl_complete_parse(c->parser);
    if (st == yajl_status_ok && c->values == 1) return 0;
    if (c->fault) {
        snprintf(err, errlen, "%s", c->fault);
    } else if (st == yajl_status_ok) {
        snprintf(err, errlen, "data is not a JSON object");
    } else {
        unsigned char *why = yajl_get_error(c->parser, 0, NULL, 0);
        /* yajl's lexer names the fault: "invalid bytes in UTF8 string.", ... */
        snprintf(err, errlen, "data is not valid JSON: %s",
                 why ? (const char *)why : "parse error");
        size_t n = strlen(err);
        while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
            err[--n] = '\0';
        if (why) yajl_free_error(c->parser, why);
    }
    return -1;
}

void step_complete(step *s, const of_dedup *emitted, const step_input *in, const char *name,
                   const async_completion *c, step_result *r)
{
    reset(r);
    if (decode(s, emitted, in, r, &s->event) != 0) return;
    char why[400];
    switch (c->verdict) {
    case ASYNC_EMIT:
        if (step_check_data(s, c->data, c->data_len, why, sizeof(why)) != 0) {
            snprintf(r->reason_text, sizeof(r->reason_text), "handler %s: %s", name, why);
            dead_letter(emitted, in, r);
            return;
        }
        if (ofc_processed_record_encode_data(&r->output, s->encoder, &s->ids, s->source, &s->event,
                                             (of_str){r->key, r->key_len}, c->data, c->data_len,
                                             why, sizeof(why)) != 0) {
            snprintf(r->reason_text, sizeof(r->reason_text), "cannot encode data_processed: %s",
                     why);
            r->output.value = NULL;
            r->output.value_len = 0;
            dead_letter(emitted, in, r);
            return;
        }
        r->outcome = STEP_EMITTED;
        return;
    case ASYNC_DEAD_LETTER:
        snprintf(r->reason_text, sizeof(r->reason_text), "handler %s: %s", name,
                 c->reason && c->reason[0] ? c->reason : "no reason given");
        dead_letter(emitted, in, r);
        return;
    case ASYNC_EXHAUSTED:
        break;
    }
    snprintf(r->reason_text, sizeof(r->reason_text), "handler %s: gave up after %u attempts: %s",
             name, c->attempts, c->reason && c->reason[0] ? c->reason : "no reason given");
    r->reason = r->reason_text;
    r->outcome = STEP_EXHAUSTED;
}

rd_kafka_headers_t *step_output_headers(const step_result *r)
{
    return ofc_record_headers(&r->output.ev, 0);
}
