/* The HTTP handler's pure parts (consumer/http/): settings and their
 * messages, the request's headers, the status table row by row, Retry-After,
 * backoff bounds and the breaker's transitions. No network. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "backoff.h"
#include "breaker.h"
#include "../../check_run.h"
#include "request.h"
#include "response.h"
#include "settings.h"

/* ---- settings ---------------------------------------------------------- */

static int read_settings(http_settings *s, const char *target, const char *key, const char *value,
                         char *err, size_t errlen)
{
    const char *keys[] = {key};
    const char *values[] = {value};
    of_handler_config cfg = {keys, values, key ? 1 : 0};
    return http_settings_read(s, target, &cfg, err, errlen);
}

START_TEST(settings_defaults)
{
    http_settings s;
    char err[512] = "";
    ck_assert_int_eq(http_settings_read(&s, "http://127.0.0.1:8081/orders", NULL, err, sizeof(err)),
                     0);
    ck_assert_int_eq(s.timeout_ms, 5000);
    ck_assert_uint_eq(s.max_in_flight, 64);
    ck_assert_int_eq(s.backoff_ms, 100);
    ck_assert_int_eq(s.backoff_max_ms, 30000);
    ck_assert_uint_eq(s.breaker_failures, 5);
    ck_assert_int_eq(s.breaker_open_ms, 5000);
    ck_assert_int_eq(s.content_mode, HTTP_CONTENT_BINARY);
    ck_assert_int_eq(s.tls_verify, 1);
    ck_assert_ptr_null(s.ca_location);
    http_settings_free(&s);
    ck_assert_int_eq(read_settings(&s, "http://h/x", "max_in_flight", "32", err, sizeof(err)), 0);
    ck_assert_uint_eq(s.max_in_flight, 32);
    http_settings_free(&s);
    ck_assert_int_eq(
        read_settings(&s, "http://h/x", "content_mode", "structured", err, sizeof(err)), 0);
    ck_assert_int_eq(s.content_mode, HTTP_CONTENT_STRUCTURED);
    http_settings_free(&s);
}
END_TEST

START_TEST(settings_errors)
{
    http_settings s;
    char err[512];
    ck_assert_int_eq(read_settings(&s, "http://h/x", "timeout_ms", "5s", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "'handler.timeout_ms' = '5s': expected an integer from 1 to 3600000 "
                          "(milliseconds)");
    ck_assert_int_eq(read_settings(&s, "http://h/x", "max_in_flight", "0", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "'handler.max_in_flight' = '0': expected an integer from 1 to 10000");
    ck_assert_int_eq(read_settings(&s, "http://h/x", "content_mode", "batch", err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "'handler.content_mode' = 'batch': expected binary or structured");
    ck_assert_int_eq(read_settings(&s, "http://h/x", "tls_verify", "no", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "'handler.tls_verify' = 'no': expected true or false");
    ck_assert_int_eq(read_settings(&s, "http://h/x", "timeout", "100", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err,
                         "'handler.timeout' is not a setting of the http handler; did you "
                         "mean 'handler.timeout_ms'? (it takes: timeout_ms, max_in_flight,") == err,
                  "%s", err);
    ck_assert_int_eq(read_settings(&s, "http://h/x", "zzzzzzzzzz", "1", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "'handler.zzzzzzzzzz' is not a setting of the http handler (it "
                              "takes: ") == err,
                  "%s", err);
    ck_assert_int_eq(read_settings(&s, "http://h/x", "ca_location", "/ca.pem", err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "'handler.ca_location' is set but the target 'http://h/x' is not "
                          "https://");
    ck_assert_int_eq(read_settings(&s, "https://h/x", "cert_location", "/c.pem", err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "'handler.cert_location' is set without 'handler.key_location': a "
                          "client certificate needs both");
    ck_assert_int_eq(read_settings(&s, "ftp://h/x", NULL, NULL, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "handler target 'ftp://h/x' is not an http:// or https:// URL");
    ck_assert_int_eq(
        read_settings(&s, "https://h/x", "key_password_file", "/nonexistent/pw", err, sizeof(err)),
        -1);
    ck_assert_str_eq(err, "'handler.key_password_file' /nonexistent/pw: cannot open: No such file "
                          "or directory");
    const char *keys[] = {"backoff_ms", "backoff_max_ms"};
    const char *values[] = {"500", "100"};
    of_handler_config cfg = {keys, values, 2};
    ck_assert_int_eq(http_settings_read(&s, "http://h/x", &cfg, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "'handler.backoff_max_ms' (100) is below 'handler.backoff_ms' (500)");
}
END_TEST

START_TEST(settings_password_never_in_messages)
{
    http_settings s;
    char err[512];
    char path[] = "/tmp/of-http-pw-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "s3cret\nsecond line\n", 19), 19);
    close(fd);
    unsetenv(HTTP_KEY_PASSWORD_ENV);
    ck_assert_int_eq(read_settings(&s, "https://h/x", "key_password_file", path, err, sizeof(err)),
                     0);
    ck_assert_str_eq(s.key_password, "s3cret");
    http_settings_free(&s);
    setenv(HTTP_KEY_PASSWORD_ENV, "from-env", 1);
    ck_assert_int_eq(read_settings(&s, "https://h/x", "key_password_file", path, err, sizeof(err)),
                     0);
    ck_assert_str_eq(s.key_password, "from-env");
    http_settings_free(&s);
    unsetenv(HTTP_KEY_PASSWORD_ENV);
    ck_assert_int_eq(read_settings(&s, "http://h/x", "key_password", "hunter2", err, sizeof(err)),
                     -1);
    ck_assert_ptr_null(strstr(err, "hunter2"));
    unlink(path);
}
END_TEST

/* ---- request ----------------------------------------------------------- */

static const char envelope[] =
    "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-0000-7000-8000-000000000001\","
    "\"type\":\"order_created\",\"source\":\"/orderflow/producer\",\"time\":"
    "\"2026-11-24T12:00:00.123Z\",\"subject\":\"o-1\",\"datacontenttype\":\"application/json\","
    "\"idempotencykey\":\"order_created:o-1\",\"data\":{\"order_id\":\"o-1\",\"x\":[1,2]}}";

static of_event make_event(void)
{
    of_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = OF_EVENT_ORDER_CREATED;
    ev.id = OF_STR("0190b3c4-0000-7000-8000-000000000001");
    ev.source = OF_STR("/orderflow/producer 1");
    ev.time = OF_STR("2026-11-24T12:00:00.123Z");
    ev.idempotencykey = OF_STR("order_created:o-1");
    ev.subject = OF_STR("o-1\r\nX-Injected: 1");
    ev.correlationid = OF_STR("corr-\xc3\xa9%\"");
    ev.schemaversion = 1;
    return ev;
}

static of_handler_event make_input(const of_event *ev)
{
    of_handler_event in;
    memset(&in, 0, sizeof(in));
    in.event = ev;
    in.value = OF_STR(envelope);
    in.attempt = 1;
    return in;
}

START_TEST(request_binary_headers)
{
    of_idgen gen;
    of_idgen_seed(&gen, 7);
    of_event ev = make_event();
    ev.traceparent = OF_STR("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    ev.tracestate = OF_STR("congo=t61rcWkgMzE");
    of_handler_event in = make_input(&ev);
    http_request r;
    memset(&r, 0, sizeof(r));
    char err[256];
    ck_assert_int_eq(http_request_prepare(&r, &in, HTTP_CONTENT_BINARY, &gen, err, sizeof(err)),
                     HTTP_PREPARE_OK);
    http_request_attempt(&r, 1, &gen);
    ck_assert_str_eq(r.body, "{\"order_id\":\"o-1\",\"x\":[1,2]}");
    ck_assert_uint_eq(r.body_len, strlen(r.body));
    ck_assert_str_eq(http_request_header(&r, "Content-Type"), "application/json");
    ck_assert_str_eq(http_request_header(&r, "ce-specversion"), "1.0");
    ck_assert_str_eq(http_request_header(&r, "ce-id"), "0190b3c4-0000-7000-8000-000000000001");
    ck_assert_str_eq(http_request_header(&r, "ce-type"), "order_created");
    ck_assert_str_eq(http_request_header(&r, "ce-source"), "/orderflow/producer%201");
    ck_assert_str_eq(http_request_header(&r, "ce-time"), "2026-11-24T12:00:00.123Z");
    /* A line break cannot reach the wire: percent-encoded. */
    ck_assert_str_eq(http_request_header(&r, "ce-subject"), "o-1%0D%0AX-Injected:%201");
    ck_assert_str_eq(http_request_header(&r, "ce-correlationid"), "corr-%C3%A9%25%22");
    ck_assert_ptr_null(http_request_header(&r, "ce-causationid"));
    ck_assert_str_eq(http_request_header(&r, "ce-idempotencykey"), "order_created:o-1");
    ck_assert_str_eq(http_request_header(&r, "ce-schemaversion"), "1");
    ck_assert_str_eq(http_request_header(&r, "Idempotency-Key"), "order_created:o-1");
    ck_assert_str_eq(http_request_header(&r, "tracestate"), "congo=t61rcWkgMzE");
    ck_assert_str_eq(http_request_header(&r, HTTP_ATTEMPT_HEADER), "1");
    for (size_t i = 0; i < r.line_count; i++)
        ck_assert_ptr_null(strpbrk(r.lines[i], "\r\n"));
    /* "Expect:" alone: curl then sends no Expect: 100-continue. */
    int expect = 0;
    for (size_t i = 0; i < r.line_count; i++)
        expect += strcmp(r.lines[i], "Expect:") == 0;
    ck_assert_int_eq(expect, 1);

    char first[64];
    snprintf(first, sizeof(first), "%s", http_request_header(&r, "traceparent"));
    ck_assert_uint_eq(strlen(first), OF_TRACEPARENT_LEN);
    ck_assert_msg(strncmp(first, "00-0af7651916cd43dd8448eb211c80319c-", 36) == 0, "%s", first);
    ck_assert_str_ne(first + 36, "b7ad6b7169203331-01");
    ck_assert_str_eq(first + 53, "01");
    http_request_attempt(&r, 2, &gen);
    ck_assert_str_eq(http_request_header(&r, HTTP_ATTEMPT_HEADER), "2");
    const char *second = http_request_header(&r, "traceparent");
    ck_assert_int_eq(strncmp(second, first, 36), 0); /* same trace */
    ck_assert_str_ne(second, first);                 /* new span */
    ck_assert_str_eq(http_request_header(&r, "Idempotency-Key"), "order_created:o-1");
    http_request_free(&r);
}
END_TEST

START_TEST(request_structured_and_new_trace)
{
    of_idgen gen;
    of_idgen_seed(&gen, 9);
    of_event ev = make_event();
    ev.tracestate = OF_STR("congo=t61rcWkgMzE"); /* without a traceparent: left out */
    of_handler_event in = make_input(&ev);
    http_request r;
    memset(&r, 0, sizeof(r));
    char err[256];
    ck_assert_int_eq(http_request_prepare(&r, &in, HTTP_CONTENT_STRUCTURED, &gen, err, sizeof(err)),
                     HTTP_PREPARE_OK);
    http_request_attempt(&r, 1, &gen);
    ck_assert_str_eq(r.body, envelope);
    ck_assert_str_eq(http_request_header(&r, "Content-Type"),
                     "application/cloudevents+json; charset=utf-8");
    ck_assert_ptr_null(http_request_header(&r, "ce-id"));
    ck_assert_ptr_null(http_request_header(&r, "tracestate"));
    ck_assert_str_eq(http_request_header(&r, "Idempotency-Key"), "order_created:o-1");
    char first[64];
    snprintf(first, sizeof(first), "%s", http_request_header(&r, "traceparent"));
    ck_assert_int_eq(of_traceparent_parse(of_str_c(first), NULL), 0);
    http_request_attempt(&r, 2, &gen);
    ck_assert_int_eq(strncmp(http_request_header(&r, "traceparent"), first, 36), 0);
    ck_assert_str_ne(http_request_header(&r, "traceparent"), first);

    /* Reused for another event: nothing of the first one is left. */
    of_event ev2 = make_event();
    ev2.idempotencykey = OF_STR("k-2");
    ev2.correlationid = (of_str){NULL, 0};
    in = make_input(&ev2);
    ck_assert_int_eq(http_request_prepare(&r, &in, HTTP_CONTENT_BINARY, &gen, err, sizeof(err)),
                     HTTP_PREPARE_OK);
    http_request_attempt(&r, 1, &gen);
    ck_assert_str_eq(http_request_header(&r, "Idempotency-Key"), "k-2");
    ck_assert_ptr_null(http_request_header(&r, "ce-correlationid"));
    http_request_free(&r);
}
END_TEST

START_TEST(request_bad_event)
{
    of_idgen gen;
    of_idgen_seed(&gen, 1);
    of_event ev = make_event();
    ev.idempotencykey = OF_STR("k\n1");
    of_handler_event in = make_input(&ev);
    http_request r;
    memset(&r, 0, sizeof(r));
    char err[256];
    ck_assert_int_eq(http_request_prepare(&r, &in, HTTP_CONTENT_BINARY, &gen, err, sizeof(err)),
                     HTTP_PREPARE_BAD_EVENT);
    ck_assert_str_eq(err, "attribute 'idempotencykey' byte 0x0a at offset 1 cannot be sent in the "
                          "Idempotency-Key header");
    ev = make_event();
    in = make_input(&ev);
    in.value = OF_STR("{\"id\":\"x\"}");
    ck_assert_int_eq(http_request_prepare(&r, &in, HTTP_CONTENT_BINARY, &gen, err, sizeof(err)),
                     HTTP_PREPARE_BAD_EVENT);
    ck_assert_str_eq(err, "the event has no data object to send");
    http_request_free(&r);
}
END_TEST

/* ---- the status table ---------------------------------------------------- */

static http_classified classify_status(long status, const char *body, const char *retry_after)
{
    http_result r = {.curl_code = CURLE_OK,
                     .status = status,
                     .body = body,
                     .body_len = body ? strlen(body) : 0,
                     .max_output_bytes = 65536,
                     .timeout_ms = 5000,
                     .retry_after = retry_after,
                     .now_unix_s = 1764000000};
    http_classified c;
    http_classify(&r, &c);
    return c;
}

START_TEST(status_2xx)
{
    http_classified c = classify_status(200, "{\"order_id\":\"o-1\"}", NULL);
    ck_assert_int_eq(c.action, HTTP_ACTION_EMIT);
    ck_assert_int_eq(c.outcome, HTTP_OUTCOME_SUCCESS);
    ck_assert_str_eq(c.data, "{\"order_id\":\"o-1\"}");
    ck_assert_uint_eq(c.data_len, 18);
    c = classify_status(201, " \n{\"a\":1}", NULL);
    ck_assert_int_eq(c.action, HTTP_ACTION_EMIT);
    c = classify_status(204, NULL, NULL);
    ck_assert_int_eq(c.action, HTTP_ACTION_EMIT);
    ck_assert_str_eq(c.data, "{}");
    c = classify_status(200, "", NULL);
    ck_assert_int_eq(c.action, HTTP_ACTION_EMIT);
    ck_assert_str_eq(c.data, "{}");
    ck_assert_uint_eq(c.data_len, 2);
    c = classify_status(200, "[1,2]", NULL);
    ck_assert_int_eq(c.action, HTTP_ACTION_DEAD_LETTER);
    ck_assert_str_eq(c.reason, "HTTP 200: the body is not a JSON object: [1,2]");
    http_result over = {.curl_code = CURLE_WRITE_ERROR,
                        .status = 200,
                        .body_over_limit = 1,
                        .max_output_bytes = 10};
    http_classify(&over, &c);
    ck_assert_int_eq(c.action, HTTP_ACTION_DEAD_LETTER);
    ck_assert_str_eq(c.reason, "HTTP 200: the body is longer than handler.max_output_bytes = 10 "
                               "bytes");
}
END_TEST

START_TEST(status_dead_letter_now)
{
    static const long statuses[] = {400, 404, 410, 413, 415, 422, 405, 406, 411, 412, 414, 418};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        http_classified c = classify_status(statuses[i], "{\"error\":\"no\"}\n\x01", NULL);
        ck_assert_int_eq(c.action, HTTP_ACTION_DEAD_LETTER);
        ck_assert_int_eq(c.outcome, HTTP_OUTCOME_DEAD_LETTER);
        char want[128];
        snprintf(want, sizeof(want), "HTTP %ld: {\"error\":\"no\"}\\x0a\\x01", statuses[i]);
        ck_assert_str_eq(c.reason, want);
    }
    http_classified c = classify_status(422, NULL, NULL);
    ck_assert_str_eq(c.reason, "HTTP 422");
    /* Only the first 512 bytes of a body are quoted. */
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    c = classify_status(400, big, NULL);
    ck_assert_uint_eq(strlen(c.reason), strlen("HTTP 400: ") + 512);
}
END_TEST

START_TEST(status_retry)
{
    static const long statuses[] = {408, 409, 425, 429, 500, 502, 503, 504,
                                    599, 401, 403, 407, 301, 302, 101, 600};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        http_classified c = classify_status(statuses[i], "busy", NULL);
        ck_assert_int_eq(c.action, HTTP_ACTION_RETRY);
        ck_assert_int_eq(c.outcome, HTTP_OUTCOME_RETRY);
        ck_assert_int_eq(c.retry_after_ms, -1);
        char want[64];
        snprintf(want, sizeof(want), "HTTP %ld: busy", statuses[i]);
        ck_assert_str_eq(c.reason, want);
    }
    http_classified c = classify_status(429, NULL, "3");
    ck_assert_int_eq(c.retry_after_ms, 3000);
    ck_assert_str_eq(c.reason, "HTTP 429");
    /* 1764000000 is Mon, 24 Nov 2025 16:00:00 GMT. */
    c = classify_status(503, NULL, "Mon, 24 Nov 2025 16:00:07 GMT");
    ck_assert_int_eq(c.retry_after_ms, 7000);
    c = classify_status(503, NULL, "Mon, 24 Nov 2025 15:00:00 GMT");
    ck_assert_int_eq(c.retry_after_ms, 0);
    c = classify_status(503, NULL, "soon");
    ck_assert_int_eq(c.retry_after_ms, -1);
    ck_assert_int_eq(http_retry_after_ms(" 12 ", 0), 12000);
    ck_assert_int_eq(http_retry_after_ms("1.5", 0), -1);
}
END_TEST

START_TEST(transport_failures)
{
    http_result r = {.curl_code = CURLE_OPERATION_TIMEDOUT,
                     .timeout_ms = 250,
                     .curl_error = "Operation timed out after 251 milliseconds"};
    http_classified c;
    http_classify(&r, &c);
    ck_assert_int_eq(c.action, HTTP_ACTION_RETRY);
    ck_assert_int_eq(c.outcome, HTTP_OUTCOME_TIMEOUT);
    ck_assert_str_eq(c.reason, "timeout: no complete answer within handler.timeout_ms = 250 ms");
    r = (http_result){.curl_code = CURLE_COULDNT_CONNECT,
                      .curl_error = "Failed to connect to 127.0.0.1 port 9: Connection refused"};
    http_classify(&r, &c);
    ck_assert_int_eq(c.outcome, HTTP_OUTCOME_REFUSED);
    ck_assert_str_eq(c.reason, "connection refused: Failed to connect to 127.0.0.1 port 9: "
                               "Connection refused");
    r.os_errno = ECONNREFUSED;
    r.curl_error = "Failed to connect to 127.0.0.1 port 9 after 0 ms: Couldn't connect to server";
    http_classify(&r, &c);
    ck_assert_str_eq(c.reason, "connection refused: Failed to connect to 127.0.0.1 port 9 after 0 "
                               "ms: Couldn't connect to server (Connection refused)");
    static const int resets[] = {CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING,
                                 CURLE_PARTIAL_FILE};
    for (size_t i = 0; i < 4; i++) {
        r = (http_result){.curl_code = resets[i], .curl_error = "Connection reset by peer"};
        http_classify(&r, &c);
        ck_assert_int_eq(c.action, HTTP_ACTION_RETRY);
        ck_assert_int_eq(c.outcome, HTTP_OUTCOME_RESET);
        ck_assert_str_eq(c.reason, "connection reset: Connection reset by peer");
    }
    r = (http_result){.curl_code = CURLE_COULDNT_RESOLVE_HOST,
                      .curl_error = "Could not resolve host: nowhere"};
    http_classify(&r, &c);
    ck_assert_int_eq(c.action, HTTP_ACTION_RETRY);
    ck_assert_int_eq(c.outcome, HTTP_OUTCOME_ERROR);
    ck_assert_str_eq(c.reason, "Couldn't resolve host name: Could not resolve host: nowhere");
    ck_assert_str_eq(http_outcome_name(HTTP_OUTCOME_REFUSED), "refused");
}
END_TEST

/* ---- backoff --------------------------------------------------------------- */

START_TEST(backoff_bounds)
{
    ck_assert_int_eq(http_backoff_bound_ms(100, 30000, 1), 100);
    ck_assert_int_eq(http_backoff_bound_ms(100, 30000, 2), 200);
    ck_assert_int_eq(http_backoff_bound_ms(100, 30000, 5), 1600);
    ck_assert_int_eq(http_backoff_bound_ms(100, 30000, 9), 25600);
    ck_assert_int_eq(http_backoff_bound_ms(100, 30000, 10), 30000);
    ck_assert_int_eq(http_backoff_bound_ms(100, 30000, 4000000000u), 30000);
    ck_assert_int_eq(http_backoff_bound_ms(0, 30000, 3), 0);
    uint64_t state = 42;
    long lowest = 1000000, highest = -1;
    for (int i = 0; i < 10000; i++) {
        long d = http_backoff_delay_ms(100, 30000, 3, -1, http_random_next(&state));
        ck_assert_int_ge(d, 0);
        ck_assert_int_le(d, 400);
        if (d < lowest) lowest = d;
        if (d > highest) highest = d;
    }
    /* Full jitter covers the whole window. */
    ck_assert_int_le(lowest, 10);
    ck_assert_int_ge(highest, 390);
    ck_assert_int_eq(http_backoff_delay_ms(100, 30000, 3, 7000, 12345), 7000);
    ck_assert_int_eq(http_backoff_delay_ms(100, 30000, 3, 120000, 12345), 30000);
    ck_assert_int_eq(http_backoff_delay_ms(100, 30000, 3, 0, 12345), 0);
}
END_TEST

/* ---- breaker ------------------------------------------------------------- */

START_TEST(breaker_transitions)
{
    http_breaker b;
    http_breaker_init(&b, 3, 1000);
    int probe, changed;
    ck_assert_int_eq(http_breaker_acquire(&b, 0, &probe, &changed), 1);
    ck_assert_int_eq(probe, 0);
    ck_assert_int_eq(http_breaker_failure(&b, 10, "HTTP 503"), 0);
    ck_assert_int_eq(http_breaker_failure(&b, 20, "HTTP 503"), 0);
    ck_assert_int_eq(http_breaker_success(&b), 0); /* a success resets the count */
    ck_assert_int_eq(http_breaker_failure(&b, 30, "HTTP 503"), 0);
    ck_assert_int_eq(http_breaker_failure(&b, 40, "HTTP 503"), 0);
    ck_assert_int_eq(http_breaker_failure(&b, 50, "connection refused: x"), 1);
    ck_assert_int_eq(b.state, HTTP_BREAKER_OPEN);
    ck_assert_str_eq(b.last_failure, "connection refused: x");
    ck_assert_int_eq(http_breaker_wait_ms(&b, 50), 1000);
    ck_assert_int_eq(http_breaker_acquire(&b, 1049, &probe, &changed), 0);
    ck_assert_int_eq(http_breaker_failure(&b, 60, "late"), 0); /* already open: no transition */
    ck_assert_int_eq(http_breaker_acquire(&b, 1050, &probe, &changed), 1);
    ck_assert_int_eq(probe, 1);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(b.state, HTTP_BREAKER_HALF_OPEN);
    ck_assert_int_eq(http_breaker_wait_ms(&b, 1050), -1);
    ck_assert_int_eq(http_breaker_acquire(&b, 1051, &probe, &changed), 0); /* one probe only */
    ck_assert_int_eq(http_breaker_failure(&b, 1100, "HTTP 500"), 1);       /* reopens */
    ck_assert_int_eq(b.state, HTTP_BREAKER_OPEN);
    ck_assert_int_eq(http_breaker_wait_ms(&b, 1100), 1000);
    ck_assert_int_eq(http_breaker_acquire(&b, 2100, &probe, &changed), 1);
    ck_assert_int_eq(probe, 1);
    http_breaker_release_probe(&b); /* cancelled: another may go */
    ck_assert_int_eq(http_breaker_acquire(&b, 2101, &probe, &changed), 1);
    ck_assert_int_eq(probe, 1);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(http_breaker_success(&b), 1);
    ck_assert_int_eq(b.state, HTTP_BREAKER_CLOSED);
    ck_assert_int_eq(http_breaker_wait_ms(&b, 2101), 0);
    ck_assert_str_eq(http_breaker_state_name(HTTP_BREAKER_HALF_OPEN), "half-open");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("http_parts");
    TCase *tc = tcase_create("parts");
    check_tcase_add_test(tc, settings_defaults);
    check_tcase_add_test(tc, settings_errors);
    check_tcase_add_test(tc, settings_password_never_in_messages);
    check_tcase_add_test(tc, request_binary_headers);
    check_tcase_add_test(tc, request_structured_and_new_trace);
    check_tcase_add_test(tc, request_bad_event);
    check_tcase_add_test(tc, status_2xx);
    check_tcase_add_test(tc, status_dead_letter_now);
    check_tcase_add_test(tc, status_retry);
    check_tcase_add_test(tc, transport_failures);
    check_tcase_add_test(tc, backoff_bounds);
    check_tcase_add_test(tc, breaker_transitions);
    suite_add_tcase(s, tc);
    return check_run_suite(s);
}
