/* Full jitter (the AWS Architecture Blog's "Exponential Backoff And
 * Jitter"): spreading the retries of many inputs that failed together over
 * the whole window, so a recovering service is not hit by them at once. */
#include "backoff.h"

long http_backoff_bound_ms(long base_ms, long max_ms, unsigned attempt)
{
    if (base_ms <= 0 || max_ms <= 0) return 0;
    long bound = base_ms;
    for (unsigned i = 1; i < attempt && bound < max_ms; i++)
        bound = bound > max_ms / 2 ? max_ms : bound * 2;
    return bound < max_ms ? bound : max_ms;
}

long http_backoff_delay_ms(long base_ms, long max_ms, unsigned attempt, long retry_after_ms,
                           uint64_t random)
{
    if (retry_after_ms >= 0) return retry_after_ms < max_ms ? retry_after_ms : max_ms;
    long bound = http_backoff_bound_ms(base_ms, max_ms, attempt);
    return (long)(random % ((uint64_t)bound + 1));
}

uint64_t http_random_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
