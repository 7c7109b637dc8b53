/* Event ids (UUIDv7), RFC 3339 times and idempotency keys (docs/envelope.md). */
#ifndef ORDERFLOW_IDS_H
#define ORDERFLOW_IDS_H

#include <orderflow/export.h>

#include <stddef.h>
#include <stdint.h>

#include <orderflow/envelope.h>

OF_BEGIN_DECLS

#define OF_UUID_LEN 36 /* "0190b3c4-...", without NUL */
#define OF_TIME_LEN 24 /* "2026-11-24T12:00:00.123Z", without NUL */
#define OF_IDEMPOTENCY_KEY_MAX 256

/* Caller-owned UUIDv7 generator: a PRNG seeded once from getrandom(), and a
 * counter so ids made in the same millisecond still sort in creation order. */
typedef struct of_idgen {
    uint64_t state[4];
    uint64_t last_ms;
    uint32_t sequence;
} of_idgen;

/* Seeds gen from the kernel. Returns 0, or -1 with the reason in err. */
OF_EXPORT int of_idgen_init(of_idgen *gen, char *err, size_t errlen);
/* Seeds gen deterministically (tests, reproducible benchmarks). */
OF_EXPORT void of_idgen_seed(of_idgen *gen, uint64_t seed);
/* Writes a UUIDv7 for unix_ms plus a NUL to out (OF_UUID_LEN + 1 bytes).
 * Ids from one generator always sort in creation order: if unix_ms goes back,
 * or a millisecond uses up the 12-bit counter, the id carries the generator's
 * last timestamp (or the one after it) instead. */
OF_EXPORT void of_uuid7(of_idgen *gen, uint64_t unix_ms, char *out);

/* Milliseconds of CLOCK_MONOTONIC: for timeouts and intervals, never for
 * timestamps. */
OF_EXPORT int64_t of_monotonic_ms(void);
/* Milliseconds since the epoch (CLOCK_REALTIME). */
OF_EXPORT uint64_t of_now_ms(void);
/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" plus a NUL to out (OF_TIME_LEN + 1 bytes).
 * Times after 9999-12-31T23:59:59.999Z are written as that instant. */
OF_EXPORT void of_format_time(uint64_t unix_ms, char *out);
/* 1 when s is an RFC 3339 timestamp (any offset, any fraction), else 0. */
OF_EXPORT int of_time_valid(of_str s);

/* 0 when key is 1..256 printable ASCII bytes (0x20..0x7e), else -1 and the
 * reason in err. */
OF_EXPORT int of_idempotency_key_check(of_str key, char *err, size_t errlen);

/* Writes "<prefix><name>" plus a NUL to out (OF_IDEMPOTENCY_KEY_MAX + 1 bytes)
 * and returns its length. When that would exceed 256 bytes the tail of name is
 * replaced by "~" and 16 hex digits of a 64-bit FNV-1a hash of the whole name, so
 * the derived key stays stable, within bounds and distinct (a prefix over 239
 * bytes is cut too). It does not validate: check the result with
 * of_idempotency_key_check. */
OF_EXPORT size_t of_idempotency_key_derive(const char *prefix, of_str name, char *out);

OF_END_DECLS

#endif
