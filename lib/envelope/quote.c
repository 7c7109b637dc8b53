#include <string.h>

#include "text.h"

static int plain(unsigned char c)
{
    return c >= 0x20 && c <= 0x7e && c != '\'' && c != '\\';
}

size_t of_quote(char *out, size_t max_out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t total = 0;
    for (size_t i = 0; i < n && total <= max_out; i++)
        total += plain((unsigned char)s[i]) ? 1 : 4;
    /* Cut only when the whole text does not fit, leaving room for "...". */
    int cut = total > max_out;
    size_t room = cut ? (max_out >= 3 ? max_out - 3 : 0) : max_out;
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (w + (plain(c) ? 1 : 4) > room) break;
        if (plain(c)) {
            out[w++] = (char)c;
        } else {
            out[w++] = '\\';
            out[w++] = 'x';
            out[w++] = hex[c >> 4];
            out[w++] = hex[c & 15];
        }
    }
    if (cut) {
        size_t dots = max_out - w < 3 ? max_out - w : 3;
        memcpy(out + w, "...", dots);
        w += dots;
    }
    out[w] = '\0';
    return w;
}
