// Every public header included from C++: each must parse as C++ and give its
// functions C linkage (extern "C"), or the calls below would not link.
#include <orderflow/dedup.h>
#include <orderflow/envelope.h>
#include <orderflow/export.h>
#include <orderflow/handler.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>
#include <orderflow/limits.h>
#include <orderflow/processing.h>
#include <orderflow/version.h>

#include <cstdio>
#include <cstring>
#include <string>

static int failures = 0;

static void expect(bool ok, const char *what)
{
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what);
        failures++;
    }
}

int main()
{
    of_limits limits;
    of_limits_init(&limits);
    expect(limits.max_record_bytes == OF_DEFAULT_MAX_RECORD_BYTES, "of_limits_init defaults");

    char key[OF_IDEMPOTENCY_KEY_MAX + 1];
    size_t n = of_idempotency_key_derive("order_created:", of_str_c("A-1001"), key);
    expect(n == 20 && std::strcmp(key, "order_created:A-1001") == 0, "of_idempotency_key_derive");

    of_dedup *seen = of_dedup_new(4);
    expect(seen != nullptr, "of_dedup_new");
    expect(of_dedup_insert(seen, "k", 1) == 1 && of_dedup_contains(seen, "k", 1) == 1,
           "of_dedup insert/contains");
    of_dedup_free(seen);

    char time[OF_TIME_LEN + 1];
    of_format_time(UINT64_C(1795521600123), time);
    expect(std::strcmp(time, "2026-11-24T12:00:00.123Z") == 0, "of_format_time");
    expect(std::strcmp(of_event_type_name(OF_EVENT_ORDER_CREATED), "order_created") == 0,
           "of_event_type_name");
    // A handler driven from C++: the built-in rules through the output API.
    const of_handler *rules = of_handler_rules();
    expect(rules->abi_version == OF_HANDLER_ABI_VERSION && std::strcmp(rules->name, "rules") == 0,
           "of_handler_rules descriptor");
    of_item item = {of_str_c("SKU-1"), 2, 1999};
    of_event ev = {};
    ev.type = OF_EVENT_ORDER_CREATED;
    ev.subject = of_str_c("A-1");
    ev.data.order = {of_str_c("A-1"), of_str_c("C-42"), of_str_c("EUR"), &item, 1};
    of_handler_event input = {&ev, {nullptr, 0}, 1, 0, 0};
    void *state = nullptr;
    char err[128];
    expect(rules->open(nullptr, &state, err, sizeof(err)) == 0, "rules open");
    of_handler_output *out = of_handler_output_new(0, nullptr);
    of_handler_output_reset(out, &ev);
    of_handler_verdict verdict = rules->handle(state, &input, out);
    const char *data = nullptr;
    size_t data_len = 0;
    const of_processed *processed = nullptr;
    expect(verdict == OF_HANDLER_EMIT &&
               of_handler_output_finish(out, verdict, &data, &data_len, &processed, err,
                                        sizeof(err)) == 0 &&
               processed->total_cents == 3998 &&
               std::string(data, data_len) ==
                   "{\"order_id\":\"A-1\",\"customer_id\":\"C-42\",\"currency\":\"EUR\","
                   "\"item_count\":1,\"quantity_total\":2,\"total_cents\":3998,"
                   "\"status\":\"accepted\"}",
           "rules handler output");
    of_handler_output_free(out);
    rules->close(state);
    expect(of_version() == OF_VERSION && std::strcmp(of_version_str(), OF_VERSION_STR) == 0,
           "of_version, of_version_str");
    if (failures == 0) std::printf("ok: C++ program built against every public header\n");
    return failures ? 1 : 0;
}
