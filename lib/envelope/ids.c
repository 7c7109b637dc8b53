/* UUIDv7 (RFC 9562 section 5.7) from a caller-owned xoshiro256** generator. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <orderflow/ids.h>

#include "idgen.h"

#define OF_UNIX_MS_MASK ((UINT64_C(1) << 48) - 1)
#define OF_SEQUENCE_MAX 0xfffu

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t of_idgen_next(of_idgen *gen)
{
    uint64_t *s = gen->state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void of_idgen_seed(of_idgen *gen, uint64_t seed)
{
    /* splitmix64 spreads any seed, 0 included, into a non-zero state. */
    for (int i = 0; i < 4; i++)
        gen->state[i] = splitmix64(&seed);
    gen->last_ms = 0;
    gen->sequence = 0;
}

int of_idgen_init(of_idgen *gen, char *err, size_t errlen)
{
    unsigned char *p = (unsigned char *)gen->state;
    size_t got = 0;
    while (got < sizeof(gen->state)) {
        ssize_t n = getrandom(p + got, sizeof(gen->state) - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (err && errlen) snprintf(err, errlen, "getrandom: %s", strerror(errno));
            return -1;
        }
        got += (size_t)n;
    }
    /* xoshiro's one bad state: all zero would only ever produce zeros. */
    if (!(gen->state[0] | gen->state[1] | gen->state[2] | gen->state[3])) gen->state[0] = 1;
    gen->last_ms = 0;
    gen->sequence = 0;
    return 0;
}

void of_uuid7(of_idgen *gen, uint64_t unix_ms, char *out)
{
    unix_ms &= OF_UNIX_MS_MASK;
    if (unix_ms > gen->last_ms) {
        gen->last_ms = unix_ms;
        /* RFC 9562 6.2 method 1: a fresh random start each millisecond, top
         * bit clear so at least 2048 more ids fit before it rolls over. */
        gen->sequence = (uint32_t)(of_idgen_next(gen) >> 53);
    } else if (++gen->sequence > OF_SEQUENCE_MAX) {
        /* Same millisecond (or the clock stepped back): stay on the last
         * timestamp, and borrow the next millisecond once the counter is
         * spent, so ids from one generator always sort in creation order. */
        gen->last_ms = (gen->last_ms + 1) & OF_UNIX_MS_MASK;
        gen->sequence = 0;
    }

    /* The 128 bits as two words: 48-bit time, version 7, 12-bit sequence;
     * variant 10, 62 random bits. */
    uint64_t hi = (gen->last_ms << 16) | 0x7000u | gen->sequence;
    uint64_t rand_b = of_idgen_next(gen);
    uint64_t lo = (UINT64_C(0x80) << 56) | (((rand_b >> 56) & 0x3f) << 56) |
                  (rand_b & UINT64_C(0x00ffffffffffffff));
    /* From the last digit back, straight from the words: no byte array and
     * no test for where the dashes go. */
    static const char hex[] = "0123456789abcdef";
    char *w = out + OF_UUID_LEN;
    *w = '\0';
    for (int i = 0; i < 12; i++, lo >>= 4)
        *--w = hex[lo & 15];
    *--w = '-';
    for (int i = 0; i < 4; i++, lo >>= 4)
        *--w = hex[lo & 15];
    *--w = '-';
    for (int i = 0; i < 4; i++, hi >>= 4)
        *--w = hex[hi & 15];
    *--w = '-';
    for (int i = 0; i < 4; i++, hi >>= 4)
        *--w = hex[hi & 15];
    *--w = '-';
    for (int i = 0; i < 8; i++, hi >>= 4)
        *--w = hex[hi & 15];
}
