/* Envelope micro-benchmark: ns per encode, per decode+validate, and per
 * of_process_order, for a typical one-item order_created envelope and for a
 * 100-item one.
 *
 *   ninja -C build && ./build/bench/bench-envelope [SCALE]
 *
 * SCALE (default 1) multiplies the iteration counts. Build with the default
 * debugoptimized (or release) buildtype: figures from a sanitizer build are
 * not comparable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/processing.h>

#define SMALL_ITERATIONS 200000L
#define LARGE_ITERATIONS 20000L
#define LARGE_ITEMS 100

/* Results feed this so the compiler cannot drop the measured work. */
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "bench-envelope: %s: %s\n", what, why);
    exit(1);
}

static of_event make_event(const of_item *items, size_t count, char *id, char *time)
{
    return (of_event){
        .type = OF_EVENT_ORDER_CREATED,
        .id = {id, OF_UUID_LEN},
        .source = OF_STR("orderflow-producer"),
        .time = {time, OF_TIME_LEN},
        .idempotencykey = OF_STR("order_created:A-1001"),
        .subject = OF_STR("A-1001"),
        .schemaversion = OF_SCHEMAVERSION,
        .data.order =
            {
                .order_id = OF_STR("A-1001"),
                .customer_id = OF_STR("C-42"),
                .currency = OF_STR("EUR"),
                .items = items,
                .item_count = count,
            },
    };
}

static void run(const char *label, const of_event *ev, long iterations)
{
    of_encoder *enc = of_encoder_new();
    of_decoder *dec = of_decoder_new(NULL);
    if (!enc || !dec) die(label, "out of memory");
    char why[256];
    const char *buf;
    size_t len;

    /* Warm up: buffers grow to size once, outside the timed loops. */
    for (int i = 0; i < 1000; i++)
        if (of_encode_event(enc, ev, &buf, &len, why, sizeof(why)) != 0) die("encode", why);

    uint64_t t0 = now_ns();
    for (long i = 0; i < iterations; i++) {
        of_encode_event(enc, ev, &buf, &len, why, sizeof(why));
        sink += len;
    }
    uint64_t t1 = now_ns();

    /* Decode a private copy: the encoder's buffer is only ours until its next call. */
    char *record = malloc(len);
    if (!record) die(label, "out of memory");
    memcpy(record, buf, len);
    of_event out;
    for (int i = 0; i < 1000; i++)
        if (of_decode_event(dec, record, len, &out, why, sizeof(why)) != OF_OK) die("decode", why);
    uint64_t t2 = now_ns();
    for (long i = 0; i < iterations; i++) {
        of_decode_event(dec, record, len, &out, why, sizeof(why));
        sink += out.data.order.item_count;
    }
    uint64_t t3 = now_ns();

    of_processed result;
    char reason[OF_REASON_MAX];
    long process_iterations = iterations * 10;
    uint64_t t4 = now_ns();
    for (long i = 0; i < process_iterations; i++) {
        of_process_order(&out.data.order, &result, reason);
        sink += (uint64_t)result.total_cents;
    }
    uint64_t t5 = now_ns();

    printf("%-22s %6zu bytes  encode %8.1f ns  decode+validate %8.1f ns  process %7.1f ns"
           "  (%ld iterations)\n",
           label, len, (double)(t1 - t0) / (double)iterations,
           (double)(t3 - t2) / (double)iterations, (double)(t5 - t4) / (double)process_iterations,
           iterations);
    free(record);
    of_decoder_free(dec);
    of_encoder_free(enc);
}

int main(int argc, char **argv)
{
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    if (scale < 1) scale = 1;

    of_idgen gen;
    of_idgen_seed(&gen, 1);
    uint64_t ms = UINT64_C(1795521600123);
    char id[OF_UUID_LEN + 1], time[OF_TIME_LEN + 1];
    of_uuid7(&gen, ms, id);
    of_format_time(ms, time);

    static const of_item one[] = {{OF_STR("SKU-1"), 2, 1999}};
    static of_item many[LARGE_ITEMS];
    static char skus[LARGE_ITEMS][16];
    for (int i = 0; i < LARGE_ITEMS; i++) {
        int n = snprintf(skus[i], sizeof(skus[i]), "SKU-%05d", i);
        many[i] = (of_item){{skus[i], (size_t)n}, 1 + i % 5, 199 + 100 * i};
    }

    of_event typical = make_event(one, 1, id, time);
    of_event large = make_event(many, LARGE_ITEMS, id, time);
    run("order_created, 1 item", &typical, SMALL_ITERATIONS * scale);
    run("order_created, 100 items", &large, LARGE_ITERATIONS * scale);
    return sink == 0; /* never true: keeps sink observable */
}
