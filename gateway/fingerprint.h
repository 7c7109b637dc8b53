/* The fingerprint of a request body: its SHA-256 (GnuTLS), compared when a
 * key comes back, and carried in the record's idempotency-fingerprint header
 * so keys survive a restart. */
#ifndef OF_GATEWAY_FINGERPRINT_H
#define OF_GATEWAY_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "idem_store.h"

#define FINGERPRINT_HEADER "idempotency-fingerprint"
#define FINGERPRINT_HEX_LEN (2 * IDEM_FINGERPRINT_LEN)

/* Returns 0, or -1 when GnuTLS fails. */
int fingerprint_body(const void *body, size_t len, uint8_t out[IDEM_FINGERPRINT_LEN]);
/* Lowercase hex plus a NUL (FINGERPRINT_HEX_LEN + 1 bytes). */
void fingerprint_hex(const uint8_t fp[IDEM_FINGERPRINT_LEN], char *out);
/* Reads FINGERPRINT_HEX_LEN hex digits; returns 0 or -1. */
int fingerprint_parse(const char *hex, size_t len, uint8_t out[IDEM_FINGERPRINT_LEN]);

#endif
