#include <stdio.h>
#include <string.h>

#include <orderflow/ids.h>

#define OF_HASH_SUFFIX_LEN 17 /* "~" and 16 hex digits */

int of_idempotency_key_check(of_str key, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (!key.ptr || key.len == 0) {
        snprintf(err, errlen, "idempotency key is empty");
        return -1;
    }
    if (key.len > OF_IDEMPOTENCY_KEY_MAX) {
        snprintf(err, errlen, "idempotency key is too long: %zu bytes (max %d)", key.len,
                 OF_IDEMPOTENCY_KEY_MAX);
        return -1;
    }
    for (size_t i = 0; i < key.len; i++) {
        unsigned char c = (unsigned char)key.ptr[i];
        if (c < 0x20 || c > 0x7e) {
            snprintf(err, errlen,
                     "idempotency key byte 0x%02x at offset %zu is not printable ASCII", c, i);
            return -1;
        }
    }
    return 0;
}

static uint64_t fnv1a64(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

size_t of_idempotency_key_derive(const char *prefix, of_str name, char *out)
{
    if (!prefix) prefix = "";
    size_t plen = strlen(prefix);
    const char *nptr = name.ptr ? name.ptr : "";
    size_t nlen = name.ptr ? name.len : 0;
    if (plen <= OF_IDEMPOTENCY_KEY_MAX && nlen <= OF_IDEMPOTENCY_KEY_MAX - plen) {
        memcpy(out, prefix, plen);
        memcpy(out + plen, nptr, nlen);
        out[plen + nlen] = '\0';
        return plen + nlen;
    }
    /* Too long: keep the start of the name (readable in logs) and let the hash
     * of all of it keep long names that share that start apart. An absurdly
     * long prefix is cut too, so the result never overflows out. */
    if (plen > OF_IDEMPOTENCY_KEY_MAX - OF_HASH_SUFFIX_LEN)
        plen = OF_IDEMPOTENCY_KEY_MAX - OF_HASH_SUFFIX_LEN;
    size_t keep = OF_IDEMPOTENCY_KEY_MAX - OF_HASH_SUFFIX_LEN - plen;
    if (keep > nlen) keep = nlen;
    memcpy(out, prefix, plen);
    memcpy(out + plen, nptr, keep);
    size_t w = plen + keep;
    uint64_t h = fnv1a64(nptr, nlen);
    static const char hex[] = "0123456789abcdef";
    out[w++] = '~';
    for (int shift = 60; shift >= 0; shift -= 4)
        out[w++] = hex[(h >> shift) & 15];
    out[w] = '\0';
    return w;
}
