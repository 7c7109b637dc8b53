#include <string.h>
#include <strings.h>

#include "auth.h"

int auth_bearer_ok(const char *authorization, char *const *tokens, size_t count)
{
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) return 0;
    const char *given = authorization + 7;
    while (*given == ' ')
        given++;
    size_t len = strlen(given);
    while (len > 0 && given[len - 1] == ' ')
        len--;
    unsigned matched = 0;
    for (size_t t = 0; t < count; t++) {
        const unsigned char *token = (const unsigned char *)tokens[t];
        size_t token_len = strlen(tokens[t]);
        /* Every byte of the given value is compared, against the token
         * repeated when shorter: no early exit on a length or byte. */
        unsigned diff = token_len != len;
        for (size_t i = 0; i < len; i++)
            diff |= (unsigned)((const unsigned char *)given)[i] ^ token[i % token_len];
        matched |= diff == 0;
    }
    return matched != 0;
}
