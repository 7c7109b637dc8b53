/* 128-bit non-cryptographic hash for the dedup set: wide enough that a false
 * "already seen" (which would drop an event) is out of reach in practice. */
#ifndef OF_HASH128_H
#define OF_HASH128_H

#include <stddef.h>
#include <stdint.h>

typedef struct of_hash128 {
    uint64_t lo;
    uint64_t hi;
} of_hash128;

of_hash128 of_hash128_bytes(const void *data, size_t len);

#endif
