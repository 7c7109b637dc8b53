/* The JSON writer behind of_encode_event (see json_out.h for the format). */
#include <stdlib.h>

#include "json_out.h"

/* For each byte: 0 when it goes out as it is, else the letter after the
 * backslash ('u' for \u00XX). */
static const char escape_letter[256] = {
    ['\0'] = 'u', [1] = 'u',    [2] = 'u',    [3] = 'u',     [4] = 'u',    [5] = 'u',
    [6] = 'u',    [7] = 'u',    ['\b'] = 'b', ['\t'] = 't',  ['\n'] = 'n', [11] = 'u',
    ['\f'] = 'f', ['\r'] = 'r', [14] = 'u',   [15] = 'u',    [16] = 'u',   [17] = 'u',
    [18] = 'u',   [19] = 'u',   [20] = 'u',   [21] = 'u',    [22] = 'u',   [23] = 'u',
    [24] = 'u',   [25] = 'u',   [26] = 'u',   [27] = 'u',    [28] = 'u',   [29] = 'u',
    [30] = 'u',   [31] = 'u',   ['"'] = '"',  ['\\'] = '\\',
};

#define BYTES(b) (UINT64_C(0x0101010101010101) * (b))

/* Whether any of the 8 bytes at s is one escape_letter escapes: below 0x20,
 * '"' or '\\'. A byte is below k when subtracting k borrows into its top bit
 * while that bit was clear (exact for "any", which is all this answers). */
static int any_escaped(const char *s)
{
    uint64_t w;
    memcpy(&w, s, sizeof(w));
    uint64_t quote = w ^ BYTES('"'), backslash = w ^ BYTES('\\');
    uint64_t hit = ((w - BYTES(0x20)) & ~w) | ((quote - BYTES(1)) & ~quote) |
                   ((backslash - BYTES(1)) & ~backslash);
    return (hit & BYTES(0x80)) != 0;
}

int of_json_out_grow(of_json_out *o, size_t n)
{
    size_t cap = o->cap ? o->cap : 1024;
    while (cap - o->len < n) {
        if (cap > SIZE_MAX / 2) {
            o->failed = 1;
            return -1;
        }
        cap *= 2;
    }
    char *buf = realloc(o->buf, cap);
    if (!buf) {
        o->failed = 1;
        return -1;
    }
    o->buf = buf;
    o->cap = cap;
    return 0;
}

/* s[0..n) escaped at p; returns the end. Out of the common path: strings
 * nearly never need it. */
__attribute__((cold, noinline)) static char *write_escaped(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char letter = escape_letter[c];
        if (!letter) {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        *p++ = letter;
        if (letter == 'u') {
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xF];
        }
    }
    return p;
}

void of_json_out_string(of_json_out *o, const char *s, size_t n)
{
    /* Worst case: every byte as \u00XX, plus the quotes. */
    if (n > (SIZE_MAX - 2) / 6) {
        o->failed = 1;
        return;
    }
    if (of_json_out_reserve(o, 6 * n + 2) != 0) return;
    char *p = o->buf + o->len;
    *p++ = '"';
    /* Checked and copied eight bytes at a time while none needs escaping:
     * strings nearly never do. */
    size_t i = 0;
    for (; i + 8 <= n && !any_escaped(s + i); i += 8)
        memcpy(p + i, s + i, 8);
    if (i + 8 > n) {
        /* No escape seen: the last 0-7 bytes are plain if the final eight,
         * overlapping what was checked, are. */
        if (n >= 8 && !any_escaped(s + n - 8)) {
            memcpy(p + n - 8, s + n - 8, 8);
            i = n;
        }
        for (; i < n && !escape_letter[(unsigned char)s[i]]; i++)
            p[i] = s[i];
    }
    p += i;
    if (i < n) p = write_escaped(p, s + i, n - i);
    *p++ = '"';
    o->len = (size_t)(p - o->buf);
}

void of_json_out_int(of_json_out *o, int64_t v)
{
    /* "-9223372036854775808" is the longest. */
    if (of_json_out_reserve(o, 20) != 0) return;
    /* Two digits per division: a third of the divisions of one at a time. */
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    /* Written from the last digit back, in place. */
    size_t n = 1 + (v < 0);
    for (uint64_t rest = mag; rest >= 10; rest /= 10)
        n++;
    char *p = o->buf + o->len + n;
    while (mag >= 100) {
        p -= 2;
        memcpy(p, pairs + 2 * (mag % 100), 2);
        mag /= 100;
    }
    if (mag >= 10) {
        p -= 2;
        memcpy(p, pairs + 2 * mag, 2);
    } else {
        *--p = (char)('0' + mag);
    }
    if (v < 0) *--p = '-';
    o->len += n;
}
