// Every public header included from C++: each must parse as C++ and give its
// functions C linkage (extern "C"), or the calls below would not link.
#include <orderflow/dedup.h>
#include <orderflow/envelope.h>
#include <orderflow/export.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>
#include <orderflow/limits.h>
#include <orderflow/processing.h>

#include <cstdio>
#include <cstring>

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
    if (failures == 0) std::printf("ok: C++ program built against every public header\n");
    return failures ? 1 : 0;
}
