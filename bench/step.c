/* The processing step's CPU per event (consumer/step.c), without Kafka:
 * decode, dedup key, rules, envelope and encode, three ways on the same
 * inputs, in alternating rounds so that a busy machine slows all three
 * alike:
 *   direct   what the processor did before handlers: of_process_order and
 *            ofc_processed_record_encode;
 *   rules    step_process with the built-in handler "rules";
 *   plugin   step_process with a plugin (examples/handlers/rules_plugin.so:
 *            the same rules, loaded with dlopen).
 * Prints the median of the rounds in ns/event (CPU time of the process) and
 * each way's cost against direct. All three write the same bytes (checked).
 * Then an asynchronous handler's two halves (docs/handlers.md, "The HTTP
 * handler"): step_decide alone (decode and dedup: what decoding the input
 * again at completion costs), and step_decide + step_complete with the
 * rules' data as the service's body (decode twice, check the body, encode).
 *
 *   ninja -C build && ./build/bench/bench-step build/examples/handlers/rules_plugin.so [ROUNDS]
 *
 * Build with the default debugoptimized (or release) buildtype. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <orderflow/handler.h>
#include <orderflow/processing.h>

#include "record/record.h"
#include "step.h"

#define INPUTS 16
#define PER_ROUND 200000L

static char values[INPUTS][700];

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-step: %s: %s\n", what, why);
    exit(1);
}

/* One round of the direct way; returns the bytes written. */
static size_t direct_round(of_decoder *dec, of_encoder *enc, of_idgen *ids,
                           ofc_processed_record *rec)
{
    size_t bytes = 0;
    char err[256];
    for (long k = 0; k < PER_ROUND; k++) {
        const char *v = values[k % INPUTS];
        of_event ev;
        if (of_decode_event(dec, v, strlen(v), &ev, err, sizeof(err)) != OF_OK) die("decode", err);
        char key[OF_IDEMPOTENCY_KEY_MAX + 1];
        size_t key_len = of_idempotency_key_derive("data_processed:", ev.idempotencykey, key);
        if (of_dedup_hash_key(key, key_len).hi == 1) bytes++;
        of_processed result;
        char reason[OF_REASON_MAX];
        of_process_order(&ev.data.order, &result, reason);
        if (ofc_processed_record_encode(rec, enc, ids, "orderflow-consumer/bench", &ev,
                                        (of_str){key, key_len}, &result, err, sizeof(err)) != 0)
            die("encode", err);
        bytes += rec->value_len;
    }
    return bytes;
}

static size_t step_round(step *s, step_result *r)
{
    size_t bytes = 0;
    for (long k = 0; k < PER_ROUND; k++) {
        const char *v = values[k % INPUTS];
        step_input in = {v, strlen(v), 0, k, 1};
        step_process(s, NULL, &in, r);
        if (r->outcome != STEP_ACCEPTED && r->outcome != STEP_REJECTED) die("step", r->reason);
        bytes += r->output.value_len;
    }
    return bytes;
}

/* An asynchronous handler's halves: decide only (complete = 0), or decide
 * then complete with body as an EMIT. */
static size_t async_round(step *s, step_result *r, int complete, const char *body)
{
    size_t bytes = 0;
    async_completion c = {.verdict = ASYNC_EMIT, .data = body, .data_len = strlen(body)};
    for (long k = 0; k < PER_ROUND; k++) {
        const char *v = values[k % INPUTS];
        step_input in = {v, strlen(v), 0, k, 1};
        step_decide(s, NULL, &in, r);
        if (r->outcome != STEP_CALL) die("decide", r->reason);
        if (!complete) continue;
        step_complete(s, NULL, &in, "bench", &c, r);
        if (r->outcome != STEP_EMITTED) die("complete", r->reason);
        bytes += r->output.value_len;
    }
    return bytes;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) die("usage", "bench-step PLUGIN.so [ROUNDS]");
    int rounds = argc > 2 ? atoi(argv[2]) : 7;
    if (rounds < 1 || rounds > 100) die("ROUNDS", "1..100");
    for (int i = 0; i < INPUTS; i++)
        snprintf(values[i], sizeof(values[i]),
                 "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-5e6f-7a1b-8c2d-3e4f5a6b7c%02d\","
                 "\"source\":\"orderflow-producer\",\"type\":\"order_created\","
                 "\"time\":\"2026-11-24T12:00:00.123Z\",\"datacontenttype\":\"application/json\","
                 "\"idempotencykey\":\"order_created:A-%d\",\"subject\":\"A-%d\","
                 "\"traceparent\":\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\","
                 "\"schemaversion\":1,\"data\":{\"order_id\":\"A-%d\",\"customer_id\":\"C-42\","
                 "\"currency\":\"%s\",\"items\":[{\"sku\":\"SKU-1\",\"quantity\":2,"
                 "\"unit_price_cents\":1999},{\"sku\":\"SKU-2\",\"quantity\":1,"
                 "\"unit_price_cents\":500}]}}",
                 i, i, i, i, i % 8 ? "EUR" : "eur"); /* one in eight rejected */
    of_limits limits;
    of_limits_init(&limits);
    char err[512];

    void *library = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!library) die(argv[1], dlerror());
    void *symbol = dlsym(library, OF_HANDLER_ENTRY_SYMBOL);
    if (!symbol) die(argv[1], "no of_handler_entry");
    of_handler_entry_fn *entry;
    memcpy(&entry, &symbol, sizeof(entry));
    const of_handler *handlers[2] = {of_handler_rules(), entry()};
    void *states[2] = {NULL, NULL};
    static step steps[2];
    static step_result results[2];
    for (int h = 0; h < 2; h++) {
        if (handlers[h]->open && handlers[h]->open(NULL, &states[h], err, sizeof(err)) != 0)
            die(handlers[h]->name, err);
        if (step_init(&steps[h], &limits, "bench", handlers[h], states[h], 0, err, sizeof(err)))
            die("step_init", err);
    }
    of_decoder *dec = of_decoder_new(&limits);
    of_encoder *enc = of_encoder_new();
    of_idgen ids;
    static ofc_processed_record rec;
    if (!dec || !enc || of_idgen_init(&ids, err, sizeof(err)) != 0) die("setup", err);

    double *ns[3];
    for (int w = 0; w < 3; w++)
        ns[w] = calloc((size_t)rounds, sizeof(double));
    size_t bytes[3] = {0, 0, 0};
    for (int r = 0; r < rounds; r++) {
        for (int w = 0; w < 3; w++) {
            double t0 = cpu_ns();
            size_t b = w == 0 ? direct_round(dec, enc, &ids, &rec)
                              : step_round(&steps[w - 1], &results[w - 1]);
            ns[w][r] = (cpu_ns() - t0) / PER_ROUND;
            bytes[w] = b;
        }
    }
    /* Ids and times differ, not their lengths: the same bytes otherwise. */
    if (bytes[0] != bytes[1] || bytes[0] != bytes[2]) die("outputs", "different sizes");
    static const char *const names[3] = {"direct", "rules", "plugin"};
    double median[3];
    for (int w = 0; w < 3; w++) {
        qsort(ns[w], (size_t)rounds, sizeof(double), by_value);
        median[w] = ns[w][rounds / 2];
    }
    printf("%d rounds of %ld events, median CPU per event:\n", rounds, PER_ROUND);
    for (int w = 0; w < 3; w++)
        printf("  %-7s %7.0f ns  %+5.1f%%\n", names[w], median[w],
               100.0 * (median[w] - median[0]) / median[0]);
    /* The rules' data for A-1, as a service would answer it. */
    static const char body[] = "{\"order_id\":\"A-1\",\"customer_id\":\"C-42\",\"currency\":"
                               "\"EUR\",\"item_count\":2,\"quantity_total\":3,\"total_cents\":"
                               "4498,\"status\":\"accepted\"}";
    double *async_ns[2];
    for (int w = 0; w < 2; w++) {
        async_ns[w] = calloc((size_t)rounds, sizeof(double));
        for (int r = 0; r < rounds; r++) {
            double t0 = cpu_ns();
            async_round(&steps[0], &results[0], w, body);
            async_ns[w][r] = (cpu_ns() - t0) / PER_ROUND;
        }
        qsort(async_ns[w], (size_t)rounds, sizeof(double), by_value);
    }
    printf("an asynchronous handler's halves (no call), median CPU per event:\n"
           "  decide            %7.0f ns  (decode + dedup: decoding again at completion)\n"
           "  decide+complete   %7.0f ns  (decode twice, check the body, encode)\n",
           async_ns[0][rounds / 2], async_ns[1][rounds / 2]);
    free(async_ns[0]);
    free(async_ns[1]);
    for (int h = 0; h < 2; h++) {
        step_free(&steps[h]);
        if (handlers[h]->close) handlers[h]->close(states[h]);
    }
    of_decoder_free(dec);
    of_encoder_free(enc);
    for (int w = 0; w < 3; w++)
        free(ns[w]);
    return 0;
}
