/* Two independent 64-bit lanes of multiply-xorshift mixing over 8-byte words. */
#include <string.h>

#include "hash128.h"

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

of_hash128 of_hash128_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t a = 0x9e3779b97f4a7c15ULL ^ len;
    uint64_t b = 0xd6e8feb86659fd93ULL ^ (len * 0x9e3779b97f4a7c15ULL);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        a = mix(a ^ w) + 0x2545f4914f6cdd1dULL;
        b = mix(b + w) ^ 0x94d049bb133111ebULL;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    a = mix(a ^ tail ^ 0x1);
    b = mix(b + tail + 0x2);
    return (of_hash128){mix(a ^ (b >> 17)), mix(b ^ (a << 13))};
}
