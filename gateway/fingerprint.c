#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "fingerprint.h"

int fingerprint_body(const void *body, size_t len, uint8_t out[IDEM_FINGERPRINT_LEN])
{
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, body, len, out) == 0 ? 0 : -1;
}

void fingerprint_hex(const uint8_t fp[IDEM_FINGERPRINT_LEN], char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < IDEM_FINGERPRINT_LEN; i++) {
        out[2 * i] = digits[fp[i] >> 4];
        out[2 * i + 1] = digits[fp[i] & 15];
    }
    out[FINGERPRINT_HEX_LEN] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int fingerprint_parse(const char *hex, size_t len, uint8_t out[IDEM_FINGERPRINT_LEN])
{
    if (len != FINGERPRINT_HEX_LEN) return -1;
    for (size_t i = 0; i < IDEM_FINGERPRINT_LEN; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
