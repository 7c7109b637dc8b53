/* The Idempotency-Key request header (docs/gateway.md, "Idempotency"). */
#ifndef OF_GATEWAY_IDEM_KEY_H
#define OF_GATEWAY_IDEM_KEY_H

#include <stddef.h>

/* The longest key: the header draft's 255, within the envelope's 256. */
#define IDEM_KEY_MAX 255

/* Reads the header's value: a Structured Field sf-string ("..." with \" and
 * \\ escapes, as draft-ietf-httpapi-idempotency-key-header says), or, for
 * clients that send a bare value (Stripe's style), the whole value as it is,
 * surrounding spaces trimmed. The key is 1..255 printable ASCII (0x20..0x7e)
 * either way. Writes it plus a NUL to out (IDEM_KEY_MAX + 1 bytes) and
 * returns its length, or -1 with why. */
int idem_key_parse(const char *value, char *out, const char **why);

#endif
