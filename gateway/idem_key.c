#include <string.h>

#include "idem_key.h"

static int printable(char c)
{
    return c >= 0x20 && c <= 0x7e;
}

int idem_key_parse(const char *value, char *out, const char **why)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t end = strlen(value);
    while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\t'))
        end--;
    size_t n = 0;
    if (end > 0 && value[0] == '"') {
        /* RFC 8941 sf-string: the only escapes are \" and \\. */
        size_t i = 1;
        for (; i < end && value[i] != '"'; i++) {
            char c = value[i];
            if (c == '\\') {
                if (i + 1 >= end || (value[i + 1] != '"' && value[i + 1] != '\\')) {
                    *why = "a backslash in an sf-string escapes only \" or \\";
                    return -1;
                }
                c = value[++i];
            } else if (!printable(c)) {
                *why = "the key must be printable ASCII";
                return -1;
            }
            if (n == IDEM_KEY_MAX) {
                *why = "the key is longer than 255 characters";
                return -1;
            }
            out[n++] = c;
        }
        if (i != end - 1) {
            *why = i >= end ? "the sf-string has no closing quote"
                            : "nothing may follow the closing quote";
            return -1;
        }
    } else {
        for (size_t i = 0; i < end; i++) {
            if (!printable(value[i])) {
                *why = "the key must be printable ASCII";
                return -1;
            }
            if (n == IDEM_KEY_MAX) {
                *why = "the key is longer than 255 characters";
                return -1;
            }
            out[n++] = value[i];
        }
    }
    if (n == 0) {
        *why = "the key is empty";
        return -1;
    }
    out[n] = '\0';
    return (int)n;
}
