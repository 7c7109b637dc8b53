#include "text.h"

of_int_parse of_parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int negative = 0;
    if (i < n && s[i] == '-') {
        negative = 1;
        i++;
    }
    if (i == n) return OF_INT_NOT_INTEGER;
    /* Accumulate the magnitude unsigned so INT64_MIN, whose magnitude does not
     * fit in int64, parses without overflow. */
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    int range = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (c < '0' || c > '9') return OF_INT_NOT_INTEGER;
        unsigned d = (unsigned)(c - '0');
        /* Keep scanning after an overflow: "1e400" is a fraction, not a range error. */
        if (!range && (v > (limit - d) / 10)) range = 1;
        if (!range) v = v * 10 + d;
    }
    if (range) return OF_INT_RANGE;
    /* -(v - 1) - 1 reaches INT64_MIN without an out-of-range conversion. */
    *out = negative ? (v == 0 ? 0 : -(int64_t)(v - 1) - 1) : (int64_t)v;
    return OF_INT_OK;
}
