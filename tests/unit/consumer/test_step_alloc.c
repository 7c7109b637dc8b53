/* No allocation per event on the handler path (docs/handlers.md): after a
 * warm-up, step_process (decode, dedup decision, handler, output checks,
 * data_processed envelope) makes no call to malloc, calloc or realloc, with
 * the built-in "rules" and with examples/handlers/rules_plugin.so (argv[1])
 * loaded as the processor loads a plugin. The record headers are counted
 * apart: librdkafka allocates them on every produce (rd_kafka_headers_new
 * and one per header), outside the handler path; the test pins that count
 * so that a change there is seen too.
 *
 * Counting: in a plain build this executable defines malloc, calloc and
 * realloc (forwarding to glibc's __libc_* entries), which every shared
 * object's calls resolve to; under AddressSanitizer, whose runtime owns
 * malloc, the sanitizer's allocation hook counts instead. */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/handler.h>

#include "step.h"

#include "../../check_run.h"

#if defined(__SANITIZE_ADDRESS__)
#define COUNT_WITH_SANITIZER_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNT_WITH_SANITIZER_HOOK 1
#endif
#endif

static volatile unsigned long allocations;

#ifdef COUNT_WITH_SANITIZER_HOOK
/* Declared here: <sanitizer/allocator_interface.h> is not always installed. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void count_allocation(const volatile void *ptr, size_t size)
{
    (void)ptr;
    (void)size;
    allocations++;
}

static void count_nothing(const volatile void *ptr)
{
    (void)ptr;
}

static void start_counting(void)
{
    ck_assert_int_ne(__sanitizer_install_malloc_and_free_hooks(count_allocation, count_nothing), 0);
}
#else
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);

void *malloc(size_t size)
{
    allocations++;
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size)
{
    allocations++;
    return __libc_calloc(count, size);
}

void *realloc(void *ptr, size_t size)
{
    allocations++;
    return __libc_realloc(ptr, size);
}

static void start_counting(void) {}
#endif

#define INPUTS 16
#define WARM_UP 64
#define MEASURED 5000

static const char *plugin_path;
static char values[INPUTS][800];

/* Accepted and rejected orders (one in four has a currency the rules
 * reject), some with a traceparent and a correlation id, items of varied
 * counts, so that every branch of the envelope is written. */
static void make_values(void)
{
    for (int i = 0; i < INPUTS; i++) {
        char items[400] = "";
        size_t used = 0;
        for (int k = 0; k <= i % 4; k++)
            used += (size_t)snprintf(items + used, sizeof(items) - used,
                                     "%s{\"sku\":\"SKU-%d\",\"quantity\":%d,"
                                     "\"unit_price_cents\":%d}",
                                     k ? "," : "", k, k + 1, 199 * (i + 1));
        snprintf(values[i], sizeof(values[i]),
                 "{\"specversion\":\"1.0\",\"id\":\"0190b3c4-5e6f-7a1b-8c2d-3e4f5a6b7c%02d\","
                 "\"source\":\"orderflow-producer\",\"type\":\"order_created\","
                 "\"time\":\"2026-11-24T12:00:00.123Z\",\"datacontenttype\":\"application/json\","
                 "\"idempotencykey\":\"order_created:A-%d\",\"subject\":\"A-%d\",%s"
                 "\"schemaversion\":1,\"data\":{\"order_id\":\"A-%d\",\"customer_id\":\"C-42\","
                 "\"currency\":\"%s\",\"items\":[%s]}}",
                 i, i, i,
                 i % 2 ? "\"correlationid\":\"flow-9\",\"traceparent\":"
                         "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\","
                       : "",
                 i, i % 4 == 3 ? "eur" : "EUR", items);
    }
}

typedef struct counts {
    unsigned long step, headers, outputs;
} counts;

static void run(step *s, step_result *r, int events, counts *c)
{
    for (int k = 0; k < events; k++) {
        const char *v = values[k % INPUTS];
        step_input in = {v, strlen(v), k % 3, k, 1};
        unsigned long before = allocations;
        step_process(s, NULL, &in, r);
        unsigned long after_step = allocations;
        ck_assert_msg(r->outcome == STEP_ACCEPTED || r->outcome == STEP_REJECTED,
                      "input %d: outcome %d (%s)", k % INPUTS, (int)r->outcome,
                      r->reason ? r->reason : "");
        ck_assert_uint_gt(r->output.value_len, 0);
        rd_kafka_headers_t *headers = step_output_headers(r);
        unsigned long after_headers = allocations;
        ck_assert_ptr_nonnull(headers);
        rd_kafka_headers_destroy(headers);
        c->step += after_step - before;
        c->headers += after_headers - after_step;
        c->outputs += r->outcome == STEP_ACCEPTED;
    }
}

static void check_no_allocation(const of_handler *h)
{
    of_limits limits;
    of_limits_init(&limits);
    char err[256];
    void *state = NULL;
    if (h->open) ck_assert_msg(h->open(NULL, &state, err, sizeof(err)) == 0, "%s", err);
    static step s;
    static step_result r;
    ck_assert_msg(step_init(&s, &limits, "orderflow-processor", h, state, 0, err, sizeof(err)) == 0,
                  "%s", err);
    make_values();
    start_counting();
    counts warm = {0, 0, 0};
    run(&s, &r, WARM_UP, &warm);
    counts measured = {0, 0, 0};
    run(&s, &r, MEASURED, &measured);
    printf("%s: warm-up %d events: %lu allocations in the step; then %d events: %lu in the "
           "step, %lu in the headers (%.1f per event, librdkafka's)\n",
           h->name, WARM_UP, warm.step, MEASURED, measured.step, measured.headers,
           (double)measured.headers / MEASURED);
    /* Both verdicts went through the measured part. */
    ck_assert_uint_gt(measured.outputs, 0);
    ck_assert_uint_lt(measured.outputs, MEASURED);
    ck_assert_msg(measured.step == 0, "%s: %lu allocations in %d events after the warm-up", h->name,
                  measured.step, MEASURED);
    /* The counter sees allocations at all: librdkafka's headers allocate. */
    ck_assert_uint_ge(measured.headers, MEASURED);
    step_free(&s);
    if (h->close) h->close(state);
}

START_TEST(rules_builtin_allocates_nothing_per_event)
{
    check_no_allocation(of_handler_rules());
}
END_TEST

START_TEST(rules_plugin_allocates_nothing_per_event)
{
    void *library = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(library != NULL, "%s", dlerror());
    void *symbol = dlsym(library, OF_HANDLER_ENTRY_SYMBOL);
    ck_assert_msg(symbol != NULL, "%s: no %s", plugin_path, OF_HANDLER_ENTRY_SYMBOL);
    of_handler_entry_fn *entry;
    memcpy(&entry, &symbol, sizeof(entry));
    check_no_allocation(entry());
    dlclose(library);
}
END_TEST

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s RULES_PLUGIN.so\n", argv[0]);
        return 64; /* EX_USAGE */
    }
    plugin_path = argv[1];
    Suite *suite = suite_create("step_alloc");
    TCase *tc = tcase_create("no allocation per event");
    tcase_set_timeout(tc, 30);
    check_tcase_add_test(tc, rules_builtin_allocates_nothing_per_event);
    check_tcase_add_test(tc, rules_plugin_allocates_nothing_per_event);
    suite_add_tcase(suite, tc);
    return check_run_suite(suite);
}
