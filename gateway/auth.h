/* Bearer tokens (docs/gateway.md, "Security"): gateway.tokens, compared in
 * constant time. */
#ifndef OF_GATEWAY_AUTH_H
#define OF_GATEWAY_AUTH_H

#include <stddef.h>

/* 1 when the Authorization header value (NULL: absent) is "Bearer <token>"
 * for one of the count tokens, else 0. The time taken depends on the
 * header's length and the number of tokens, not on where a comparison
 * differs, nor on which token matched. */
int auth_bearer_ok(const char *authorization, char *const *tokens, size_t count);

#endif
