/* The processing step without Kafka (consumer/step.c): each verdict of a
 * handler, the built-in rules byte for byte, deduplication, and every fault
 * of a handler's output becoming a dead letter that names the handler. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/handler.h>
#include <orderflow/processing.h>

#include "step.h"

#include "../../check_run.h"

static const char ORDER_VALUE[] =
    "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-5e6f-7a1b-8c2d-3e4f5a6b7c8d\","
    "\"source\":\"orderflow-producer\",\"type\":\"order_created\","
    "\"time\":\"2026-11-24T12:00:00.123Z\",\"datacontenttype\":\"application/json\","
    "\"idempotencykey\":\"order:A-1\",\"subject\":\"A-1\",\"schemaversion\":1,"
    "\"data\":{\"order_id\":\"A-1\",\"customer_id\":\"C-42\",\"currency\":\"EUR\","
    "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,\"unit_price_cents\":1999}],\"note\":\"x\"}}";

static const char BAD_CURRENCY_VALUE[] =
    "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-5e6f-7a1b-8c2d-3e4f5a6b7c8e\","
    "\"source\":\"orderflow-producer\",\"type\":\"order_created\","
    "\"time\":\"2026-11-24T12:00:00.123Z\",\"datacontenttype\":\"application/json\","
    "\"idempotencykey\":\"order:A-2\",\"subject\":\"A-2\",\"correlationid\":\"flow-9\","
    "\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\","
    "\"tracestate\":\"vendor=1\",\"schemaversion\":1,"
    "\"data\":{\"order_id\":\"A-2\",\"customer_id\":\"C-42\",\"currency\":\"eur\","
    "\"items\":[{\"sku\":\"SKU-1\",\"quantity\":1,\"unit_price_cents\":5}]}}";

/* ---- a handler whose behaviour each test picks ------------------------- */

typedef enum mode {
    MODE_EXTRAS,          /* rules' fields plus members of its own */
    MODE_JSON,            /* the data as text (given_json) */
    MODE_DEAD_LETTER,     /* dead-letter with a reason */
    MODE_RETRY,           /* retry with a delay, reason names the attempt */
    MODE_BAD_UTF8,        /* a string member that is not UTF-8 */
    MODE_DOCUMENTED_KEY,  /* a member named like a documented field */
    MODE_NO_DATA,         /* EMIT without writing anything */
    MODE_STATUS_MISMATCH, /* EMIT with a rejected result */
    MODE_LEFT_OPEN,       /* an array never closed */
    MODE_BIG,             /* a string member over the output limit */
    MODE_UNKNOWN_VERDICT,
} mode;

static mode test_mode;
static const char *given_json;
static unsigned seen_attempt;
static of_str seen_data_json;

static of_handler_verdict test_handle(void *state, const of_handler_event *event,
                                      of_handler_output *out)
{
    (void)state;
    seen_attempt = event->attempt;
    seen_data_json = of_handler_event_data_json(event);
    static char reason[OF_REASON_MAX];
    of_processed result;
    of_process_order(&event->event->data.order, &result, reason);
    static char big[70000];
    switch (test_mode) {
    case MODE_EXTRAS:
        of_handler_write_processed(out, &result);
        of_handler_write_int(out, "score", 17);
        of_handler_write_string(out, "note", "caf\xc3\xa9 \"q\"", 9);
        of_handler_begin_array(out, "tags");
        of_handler_write_string(out, NULL, "a", 1);
        of_handler_write_bool(out, NULL, 1);
        of_handler_write_null(out, NULL);
        of_handler_end(out);
        of_handler_begin_object(out, "tax");
        of_handler_write_double(out, "rate", 0.1);
        of_handler_end(out);
        return OF_HANDLER_EMIT;
    case MODE_JSON:
        of_handler_set_data_json(out, given_json, strlen(given_json));
        return OF_HANDLER_EMIT;
    case MODE_DEAD_LETTER:
        of_handler_set_reason(out, "score 93 is over 80\n");
        return OF_HANDLER_DEAD_LETTER;
    case MODE_RETRY:
        of_handler_set_reason(out, "pricing service unavailable");
        of_handler_set_retry_delay(out, 250);
        return OF_HANDLER_RETRY;
    case MODE_BAD_UTF8:
        of_handler_write_processed(out, &result);
        of_handler_write_string(out, "note", "\xff\xfe", 2);
        return OF_HANDLER_EMIT;
    case MODE_DOCUMENTED_KEY:
        of_handler_write_processed(out, &result);
        of_handler_write_int(out, "total_cents", 1);
        return OF_HANDLER_EMIT;
    case MODE_NO_DATA:
        return OF_HANDLER_EMIT;
    case MODE_STATUS_MISMATCH:
        result.status = OF_STATUS_REJECTED;
        result.reason = of_str_c("no");
        of_handler_write_processed(out, &result);
        return OF_HANDLER_EMIT;
    case MODE_LEFT_OPEN:
        of_handler_write_processed(out, &result);
        of_handler_begin_array(out, "tags");
        return OF_HANDLER_EMIT;
    case MODE_BIG:
        memset(big, 'x', sizeof(big));
        of_handler_write_processed(out, &result);
        of_handler_write_string(out, "blob", big, 60000);
        of_handler_write_string(out, "blob2", big, 60000);
        return OF_HANDLER_EMIT;
    case MODE_UNKNOWN_VERDICT:
        return (of_handler_verdict)9;
    }
    return OF_HANDLER_EMIT;
}

static const of_handler test_handler = {
    .abi_version = OF_HANDLER_ABI_VERSION,
    .name = "test",
    .version = "0.0.1",
    .handle = test_handle,
};

static step s;
static void *rules_state;

static void setup_with(const of_handler *h)
{
    of_limits limits;
    of_limits_init(&limits);
    char err[256];
    rules_state = NULL;
    if (h->open) ck_assert_int_eq(h->open(NULL, &rules_state, err, sizeof(err)), 0);
    ck_assert_int_eq(
        step_init(&s, &limits, "orderflow-processor", h, rules_state, 0, err, sizeof(err)), 0);
}

static void teardown_with(const of_handler *h)
{
    step_free(&s);
    if (h->close) h->close(rules_state);
}

/* The result lives here: it holds views of its own buffers, so it is not
 * copied (step.h). */
static step_result last_result;

static step_result *run(const char *value, int64_t offset, const of_dedup *emitted)
{
    step_input in = {
        .value = value, .len = strlen(value), .partition = 3, .offset = offset, .attempt = 1};
    step_process(&s, emitted, &in, &last_result);
    return &last_result;
}

/* The value today's processor wrote for the input (before handlers): the
 * rules' result through of_encode_event, with the id and time the step
 * chose. */
static char *expected_value(const char *input, const step_result *r)
{
    of_limits limits;
    of_limits_init(&limits);
    of_decoder *dec = of_decoder_new(&limits), *out_dec = of_decoder_new(&limits);
    of_event ev, out;
    ck_assert_int_eq(of_decode_event(dec, input, strlen(input), &ev, NULL, 0), OF_OK);
    ck_assert_int_eq(of_decode_event(out_dec, r->output.value, r->output.value_len, &out, NULL, 0),
                     OF_OK);
    of_processed result;
    char reason[OF_REASON_MAX];
    of_process_order(&ev.data.order, &result, reason);
    of_event want = {
        .type = OF_EVENT_DATA_PROCESSED,
        .id = out.id,
        .source = OF_STR("orderflow-consumer/orderflow-processor"),
        .time = out.time,
        .idempotencykey = {r->key, r->key_len},
        .subject = ev.subject,
        .correlationid = ev.correlationid.ptr ? ev.correlationid : ev.id,
        .causationid = ev.id,
        .traceparent = out.traceparent,
        .tracestate = out.traceparent.ptr ? ev.tracestate : (of_str){NULL, 0},
        .schemaversion = OF_SCHEMAVERSION,
        .data.processed = result,
    };
    of_encoder *enc = of_encoder_new();
    const char *text;
    size_t len;
    ck_assert_int_eq(of_encode_event(enc, &want, &text, &len, NULL, 0), 0);
    char *copy = strndup(text, len);
    of_encoder_free(enc);
    of_decoder_free(dec);
    of_decoder_free(out_dec);
    return copy;
}

START_TEST(rules_accepts_byte_for_byte)
{
    setup_with(of_handler_rules());
    step_result *r = run(ORDER_VALUE, 7, NULL);
    ck_assert_int_eq(r->outcome, STEP_ACCEPTED);
    ck_assert_int_eq(r->verdict, OF_HANDLER_EMIT);
    ck_assert(of_str_eq(r->order_id, OF_STR("A-1")));
    ck_assert_int_eq(r->processed->total_cents, 3998);
    ck_assert_str_eq(r->key, "data_processed:order:A-1");
    ck_assert_ptr_null(r->output.ev.traceparent.ptr);
    char *want = expected_value(ORDER_VALUE, r);
    ck_assert_int_eq(r->output.value_len, strlen(want));
    ck_assert(memcmp(r->output.value, want, r->output.value_len) == 0);
    ck_assert_ptr_nonnull(strstr(want, "\"data\":{\"order_id\":\"A-1\",\"customer_id\":\"C-42\","
                                       "\"currency\":\"EUR\",\"item_count\":1,\"quantity_total\":2,"
                                       "\"total_cents\":3998,\"status\":\"accepted\"}}"));
    free(want);
    teardown_with(of_handler_rules());
}
END_TEST

START_TEST(rules_rejects_byte_for_byte_with_trace_headers)
{
    setup_with(of_handler_rules());
    step_result *r = run(BAD_CURRENCY_VALUE, 8, NULL);
    ck_assert_int_eq(r->outcome, STEP_REJECTED);
    ck_assert_str_eq(r->reason, "currency 'eur' is not three capital letters");
    char *want = expected_value(BAD_CURRENCY_VALUE, r);
    ck_assert_int_eq(r->output.value_len, strlen(want));
    ck_assert(memcmp(r->output.value, want, r->output.value_len) == 0);
    ck_assert_ptr_nonnull(strstr(want, "\"correlationid\":\"flow-9\""));
    /* Same trace, a span of its own. */
    ck_assert_int_eq(r->output.ev.traceparent.len, OF_TRACEPARENT_LEN);
    ck_assert(memcmp(r->output.ev.traceparent.ptr, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36) ==
              0);
    ck_assert(memcmp(r->output.ev.traceparent.ptr + 36, "00f067aa0ba902b7", 16) != 0);
    ck_assert(of_str_eq(r->output.ev.tracestate, OF_STR("vendor=1")));
    rd_kafka_headers_t *h = step_output_headers(r);
    ck_assert_int_eq(rd_kafka_header_cnt(h), 4);
    const void *v;
    size_t n;
    ck_assert_int_eq(rd_kafka_header_get_last(h, "idempotency-key", &v, &n), 0);
    ck_assert_int_eq(n, strlen("data_processed:order:A-2"));
    ck_assert(memcmp(v, "data_processed:order:A-2", n) == 0);
    ck_assert_int_eq(rd_kafka_header_get_last(h, "content-type", &v, &n), 0);
    ck_assert(memcmp(v, OF_CONTENT_TYPE_VALUE, n) == 0);
    ck_assert_int_eq(rd_kafka_header_get_last(h, "tracestate", &v, &n), 0);
    ck_assert(memcmp(v, "vendor=1", n) == 0);
    rd_kafka_headers_destroy(h);
    free(want);
    teardown_with(of_handler_rules());
}
END_TEST

START_TEST(emitted_key_is_a_duplicate)
{
    setup_with(of_handler_rules());
    of_dedup *emitted = of_dedup_new(100);
    step_result *r = run(ORDER_VALUE, 7, emitted);
    ck_assert_int_eq(r->outcome, STEP_ACCEPTED);
    of_dedup_insert_hash(emitted, r->key_hash);
    r = run(ORDER_VALUE, 9, emitted);
    ck_assert_int_eq(r->outcome, STEP_DUPLICATE);
    ck_assert_ptr_null(r->reason);
    ck_assert(of_str_eq(r->order_id, OF_STR("A-1")));
    of_dedup_free(emitted);
    teardown_with(of_handler_rules());
}
END_TEST

START_TEST(undecodable_input_is_dead_lettered_once)
{
    setup_with(of_handler_rules());
    of_dedup *emitted = of_dedup_new(100);
    step_result *r = run("{\"specversion\":\"1.0\"", 42, emitted);
    ck_assert_int_eq(r->outcome, STEP_DEAD_LETTER);
    ck_assert_ptr_nonnull(strstr(r->reason, "JSON"));
    ck_assert_str_eq(r->dead_letter_key, "dlq:42");
    of_dedup_insert(emitted, r->dead_letter_key, r->dead_letter_key_len);
    r = run("{\"specversion\":\"1.0\"", 42, emitted);
    ck_assert_int_eq(r->outcome, STEP_DUPLICATE);
    ck_assert_str_eq(r->reason, "already dead-lettered");
    of_dedup_free(emitted);
    teardown_with(of_handler_rules());
}
END_TEST

START_TEST(handler_members_of_its_own)
{
    setup_with(&test_handler);
    test_mode = MODE_EXTRAS;
    step_result *r = run(ORDER_VALUE, 1, NULL);
    ck_assert_msg(r->outcome == STEP_ACCEPTED, "%s", r->reason);
    ck_assert_ptr_nonnull(strstr(r->output.value,
                                 "\"total_cents\":3998,\"status\":\"accepted\",\"score\":17,"
                                 "\"note\":\"caf\xc3\xa9 \\\"q\\\"\",\"tags\":[\"a\",true,null],"
                                 "\"tax\":{\"rate\":0.1}}}"));
    /* The output is an event orderflow's own decoder takes. */
    of_limits limits;
    of_limits_init(&limits);
    of_decoder *dec = of_decoder_new(&limits);
    of_event out;
    ck_assert_int_eq(of_decode_event(dec, r->output.value, r->output.value_len, &out, NULL, 0),
                     OF_OK);
    ck_assert_int_eq(out.data.processed.total_cents, 3998);
    of_decoder_free(dec);
    /* The input's data as the record had it, unknown fields included. */
    ck_assert_uint_eq(seen_attempt, 1);
    ck_assert_int_eq(seen_data_json.len,
                     strlen("{\"order_id\":\"A-1\",\"customer_id\":\"C-42\","
                            "\"currency\":\"EUR\",\"items\":[{\"sku\":\"SKU-1\","
                            "\"quantity\":2,\"unit_price_cents\":1999}],"
                            "\"note\":\"x\"}"));
    ck_assert(memcmp(seen_data_json.ptr, "{\"order_id\":\"A-1\"", 17) == 0);
    teardown_with(&test_handler);
}
END_TEST

START_TEST(handler_data_as_json_text)
{
    setup_with(&test_handler);
    test_mode = MODE_JSON;
    given_json = " {\"order_id\":\"A-1\",\"customer_id\":\"C-42\",\"currency\":\"EUR\","
                 "\"item_count\":1,\"quantity_total\":2,\"total_cents\":4398,"
                 "\"status\":\"accepted\",\"tax_cents\":400}\n";
    step_result *r = run(ORDER_VALUE, 1, NULL);
    ck_assert_int_eq(r->outcome, STEP_ACCEPTED);
    ck_assert_int_eq(r->processed->total_cents, 4398);
    ck_assert_ptr_nonnull(strstr(r->output.value,
                                 "\"data\":{\"order_id\":\"A-1\",\"customer_id\":\"C-42\","
                                 "\"currency\":\"EUR\",\"item_count\":1,"
                                 "\"quantity_total\":2,\"total_cents\":4398,"
                                 "\"status\":\"accepted\",\"tax_cents\":400}}"));
    teardown_with(&test_handler);
}
END_TEST

START_TEST(handler_dead_letter_and_retry)
{
    setup_with(&test_handler);
    test_mode = MODE_DEAD_LETTER;
    step_result *r = run(ORDER_VALUE, 5, NULL);
    ck_assert_int_eq(r->outcome, STEP_DEAD_LETTER);
    ck_assert_str_eq(r->reason, "handler test: score 93 is over 80\\x0a");
    ck_assert_str_eq(r->dead_letter_key, "dlq:5");
    ck_assert_ptr_null(r->output.value);

    test_mode = MODE_RETRY;
    step_input in = {.value = ORDER_VALUE, .len = strlen(ORDER_VALUE), .offset = 5, .attempt = 3};
    step_process(&s, NULL, &in, r);
    ck_assert_int_eq(r->outcome, STEP_RETRY);
    ck_assert_uint_eq(seen_attempt, 3);
    ck_assert_uint_eq(r->retry_delay_ms, 250);
    ck_assert_str_eq(r->reason, "pricing service unavailable");
    teardown_with(&test_handler);
}
END_TEST

/* Each fault: the input is dead-lettered with a reason naming the handler
 * and the fault, and nothing is encoded. */
static const struct {
    mode m;
    const char *json;
    const char *reason;
} faults[] = {
    {MODE_JSON, "[1,2]", "handler test: data is not a data_processed object: "},
    {MODE_JSON, "{\"order_id\":\"A-1\"", "handler test: data is not a data_processed object: "},
    {MODE_JSON, "{\"order_id\":\"A-1\",\"customer_id\":\"\xc3\x28\"}",
     "handler test: data is not valid UTF-8"},
    {MODE_JSON,
     "{\"order_id\":\"B-9\",\"customer_id\":\"C\",\"currency\":\"EUR\",\"item_count\":1,"
     "\"quantity_total\":2,\"total_cents\":4,\"status\":\"accepted\"}",
     "handler test: data.order_id differs from the event's order id"},
    {MODE_JSON,
     "{\"order_id\":\"A-1\",\"customer_id\":\"C\",\"currency\":\"EUR\",\"item_count\":1,"
     "\"quantity_total\":2,\"total_cents\":4,\"status\":\"rejected\",\"reason\":\"r\"}",
     "handler test: verdict emit with data.status rejected"},
    {MODE_BAD_UTF8, NULL, "handler test: string value is not valid UTF-8"},
    {MODE_DOCUMENTED_KEY, NULL,
     "handler test: key 'total_cents' is a documented field: write it with "
     "of_handler_write_processed"},
    {MODE_NO_DATA, NULL,
     "handler test: emit without data (of_handler_write_processed or of_handler_set_data_json)"},
    {MODE_STATUS_MISMATCH, NULL, "handler test: verdict emit with data.status rejected"},
    {MODE_LEFT_OPEN, NULL, "handler test: 1 object(s) or array(s) left open in data"},
    {MODE_BIG, NULL,
     "handler test: data is over the limit of 65536 bytes (handler.max_output_bytes)"},
    {MODE_UNKNOWN_VERDICT, NULL,
     "handler test: verdict 9 is none of emit, reject, dead_letter, retry"},
};

START_TEST(handler_output_faults_are_dead_letters)
{
    setup_with(&test_handler);
    test_mode = faults[_i].m;
    given_json = faults[_i].json;
    step_result *r = run(ORDER_VALUE, 11, NULL);
    ck_assert_int_eq(r->outcome, STEP_DEAD_LETTER);
    ck_assert_msg(strncmp(r->reason, faults[_i].reason, strlen(faults[_i].reason)) == 0,
                  "fault %d: got '%s'", _i, r->reason);
    ck_assert_ptr_null(r->output.value);
    ck_assert_ptr_null(r->processed);
    /* The next event on the same output is not affected by the fault. */
    test_mode = MODE_EXTRAS;
    r = run(ORDER_VALUE, 12, NULL);
    ck_assert_int_eq(r->outcome, STEP_ACCEPTED);
    teardown_with(&test_handler);
}
END_TEST

START_TEST(config_lookup)
{
    const char *keys[] = {"rate.EUR", "threshold"};
    const char *values[] = {"19", "80"};
    of_handler_config config = {keys, values, 2};
    ck_assert_str_eq(of_handler_config_get(&config, "threshold"), "80");
    ck_assert_ptr_null(of_handler_config_get(&config, "rate"));
    ck_assert_ptr_null(of_handler_config_get(NULL, "rate"));
    ck_assert_str_eq(of_handler_verdict_name(OF_HANDLER_DEAD_LETTER), "dead_letter");
}
END_TEST

/* An asynchronous handler's halves: decide (decode, dedup), then the
 * completion: an EMIT's body is the data verbatim when it is one JSON
 * object within the limit, else a dead letter naming the handler and the
 * fault; DEAD_LETTER and EXHAUSTED carry the handler's reason. */
static const struct {
    async_verdict verdict;
    const char *body;
    step_outcome outcome;
    const char *reason;
} completions[] = {
    {ASYNC_EMIT, "{}", STEP_EMITTED, NULL},
    {ASYNC_EMIT, "{\"approved\":true,\"n\":[1,{\"x\":null}]}", STEP_EMITTED, NULL},
    {ASYNC_EMIT, "[1,2]", STEP_DEAD_LETTER, "handler http: data is not a JSON object"},
    {ASYNC_EMIT, "\"text\"", STEP_DEAD_LETTER, "handler http: data is not a JSON object"},
    {ASYNC_EMIT, "{} {}", STEP_DEAD_LETTER,
     "handler http: data is not valid JSON: parse error: trailing garbage"},
    {ASYNC_EMIT, "{\"a\":\"\xff\"}", STEP_DEAD_LETTER,
     "handler http: data is not valid JSON: lexical error: invalid bytes in UTF8 string."},
    {ASYNC_EMIT, "{\"a\":", STEP_DEAD_LETTER,
     "handler http: data is not valid JSON: parse error: premature EOF"},
    {ASYNC_DEAD_LETTER, NULL, STEP_DEAD_LETTER, "handler http: HTTP 422: {\"error\":\"no\"}"},
    {ASYNC_EXHAUSTED, NULL, STEP_EXHAUSTED, "handler http: gave up after 5 attempts: HTTP 503"},
};

START_TEST(async_halves)
{
    setup_with(of_handler_rules());
    step_input in = {.value = ORDER_VALUE, .len = strlen(ORDER_VALUE), .partition = 2, .offset = 9};
    step_decide(&s, NULL, &in, &last_result);
    ck_assert_int_eq(last_result.outcome, STEP_CALL);
    ck_assert_str_eq(last_result.key, "data_processed:order:A-1");
    of_handler_event ev = step_call_event(&s, &in);
    ck_assert(of_str_eq(ev.event->subject, OF_STR("A-1")));
    ck_assert_int_eq(ev.attempt, 1);
    ck_assert_int_eq(ev.offset, 9);
    /* Emitted already: a duplicate, never called. */
    of_dedup *emitted = of_dedup_new(10);
    of_dedup_insert_hash(emitted, last_result.key_hash);
    step_decide(&s, emitted, &in, &last_result);
    ck_assert_int_eq(last_result.outcome, STEP_DUPLICATE);
    of_dedup_free(emitted);

    int i = _i;
    async_completion c = {
        .ticket = 1,
        .verdict = completions[i].verdict,
        .data = completions[i].body,
        .data_len = completions[i].body ? strlen(completions[i].body) : 0,
        .reason = completions[i].verdict == ASYNC_DEAD_LETTER ? "HTTP 422: {\"error\":\"no\"}"
                                                              : "HTTP 503",
        .attempts = 5,
    };
    step_complete(&s, NULL, &in, "http", &c, &last_result);
    ck_assert_int_eq(last_result.outcome, completions[i].outcome);
    if (completions[i].reason) {
        ck_assert_str_eq(last_result.reason, completions[i].reason);
    } else {
        /* orderflow's envelope around the body, byte for byte. */
        char want[256];
        snprintf(want, sizeof(want), "\"data\":%s}", completions[i].body);
        ck_assert_ptr_nonnull(strstr(last_result.output.value, want));
        ck_assert_ptr_nonnull(strstr(last_result.output.value, "\"idempotencykey\":"
                                                               "\"data_processed:order:A-1\""));
        ck_assert(of_str_eq(last_result.order_id, OF_STR("A-1")));
    }
    teardown_with(of_handler_rules());
}
END_TEST

/* Over handler.max_output_bytes: a dead letter saying so. */
START_TEST(async_body_over_the_limit)
{
    of_limits limits;
    of_limits_init(&limits);
    char err[256];
    ck_assert_int_eq(step_init(&s, &limits, "g", of_handler_rules(), NULL, 64, err, sizeof(err)),
                     0);
    char body[100];
    memset(body, ' ', sizeof(body));
    body[0] = '{';
    body[98] = '}';
    body[99] = '\0';
    ck_assert_int_eq(step_check_data(&s, body, 64, err, sizeof(err)), -1); /* a cut object */
    ck_assert_int_eq(step_check_data(&s, body, strlen(body), err, sizeof(err)), -1);
    ck_assert_str_eq(err, "data is over the limit of 64 bytes (handler.max_output_bytes)");
    ck_assert_int_eq(step_check_data(&s, "{ }", 3, err, sizeof(err)), 0);
    step_free(&s);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("step");
    TCase *tc = tcase_create("step");
    tcase_set_timeout(tc, 30);
    check_tcase_add_test(tc, rules_accepts_byte_for_byte);
    check_tcase_add_test(tc, rules_rejects_byte_for_byte_with_trace_headers);
    check_tcase_add_test(tc, emitted_key_is_a_duplicate);
    check_tcase_add_test(tc, undecodable_input_is_dead_lettered_once);
    check_tcase_add_test(tc, handler_members_of_its_own);
    check_tcase_add_test(tc, handler_data_as_json_text);
    check_tcase_add_test(tc, handler_dead_letter_and_retry);
    check_tcase_add_loop_test(tc, handler_output_faults_are_dead_letters, 0,
                              (int)(sizeof(faults) / sizeof(faults[0])));
    check_tcase_add_test(tc, config_lookup);
    check_tcase_add_loop_test(tc, async_halves, 0,
                              (int)(sizeof(completions) / sizeof(completions[0])));
    check_tcase_add_test(tc, async_body_over_the_limit);
    suite_add_tcase(suite, tc);
    return check_run_suite(suite);
}
