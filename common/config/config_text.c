/* libconfig 1.5 (Debian 12) cannot read two things the configuration needs:
 * quoted setting names such as "compression.type" (its names are
 * [A-Za-z*][-A-Za-z0-9_*]*, and every librdkafka property has a dot), and
 * integers beyond 32 bits (it wraps them silently, so 4294967360 would read
 * as 64). This pass rewrites the text before libconfig sees it. It never adds
 * or removes a newline, so the lines libconfig reports are still the user's:
 *  - a string literal followed by '=' or ':' becomes a plain name, '*' and
 *    the bytes with anything outside [A-Za-z0-9-] as "_XX" (hex), which
 *    ofc_config_text_name undoes;
 *  - a decimal or hex integer outside the 32-bit range gets an 'L' suffix so
 *    libconfig reads it as a 64-bit integer; one beyond 64 bits is an error;
 *  - @include is refused, because an included file would skip this pass. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

typedef struct text_pass {
    const char *in;
    size_t len;
    size_t pos;
    unsigned line;
    char *out;
    size_t used;
    unsigned *bad_line;
    char *why;
    size_t whylen;
} text_pass;

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int fail(text_pass *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(text_pass *p, const char *fmt, ...)
{
    *p->bad_line = p->line;
    if (p->why && p->whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->why, p->whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void copy(text_pass *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p->in[p->pos + i] == '\n') p->line++;
    memcpy(p->out + p->used, p->in + p->pos, n);
    p->used += n;
    p->pos += n;
}

/* Index just past the closing quote of the literal opening at start, or len
 * when it is unterminated (libconfig then reports the syntax error). */
static size_t string_end(const char *in, size_t len, size_t start)
{
    size_t i = start + 1;
    while (i < len && in[i] != '"')
        i += in[i] == '\\' ? 2 : 1;
    return i < len ? i + 1 : len;
}

/* Decodes the literal in[start..end) with libconfig's escapes and writes the
 * name encoding; the key itself must be printable ASCII without spaces, which
 * every librdkafka property name is. */
static int emit_quoted_name(text_pass *p, size_t start, size_t end)
{
    static const char hex[] = "0123456789abcdef";
    size_t bytes = 0;
    p->out[p->used++] = '*';
    for (size_t i = start + 1; i < end - 1; i++) {
        unsigned char c = (unsigned char)p->in[i];
        if (c == '\\' && i + 1 < end - 1) {
            char e = p->in[i + 1];
            if (e == '"' || e == '\\') {
                c = (unsigned char)e;
                i++;
            } else if (e == 'n' || e == 'r' || e == 't' || e == 'f') {
                c = '\n'; /* which control character does not matter: all are refused */
                i++;
            } else if ((e == 'x' || e == 'X') && i + 3 < end - 1 && hex_value(p->in[i + 2]) >= 0 &&
                       hex_value(p->in[i + 3]) >= 0) {
                c = (unsigned char)(hex_value(p->in[i + 2]) * 16 + hex_value(p->in[i + 3]));
                i += 3;
            }
        }
        if (c <= ' ' || c >= 0x7f)
            return fail(p, "quoted setting name %.*s has a space or a non-printable character",
                        (int)(end - start), p->in + start);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit((char)c) || c == '-') {
            p->out[p->used++] = (char)c;
        } else {
            p->out[p->used++] = '_';
            p->out[p->used++] = hex[c >> 4];
            p->out[p->used++] = hex[c & 15];
        }
        bytes++;
    }
    if (bytes == 0) return fail(p, "empty setting name \"\"");
    p->pos = end;
    return 0;
}

static int string_literal(text_pass *p)
{
    size_t end = string_end(p->in, p->len, p->pos);
    size_t next = end;
    while (next < p->len && (p->in[next] == ' ' || p->in[next] == '\t' || p->in[next] == '\r' ||
                             p->in[next] == '\f' || p->in[next] == '\n'))
        next++;
    if (end == p->len || next == p->len || (p->in[next] != '=' && p->in[next] != ':')) {
        copy(p, end - p->pos);
        return 0;
    }
    for (size_t i = p->pos; i < end; i++)
        if (p->in[i] == '\n') return fail(p, "quoted setting name spans lines");
    return emit_quoted_name(p, p->pos, end);
}

/* Accumulates digits of the given base; -1 when the value exceeds 64 bits. */
static int parse_u64(const char *s, size_t n, unsigned base, unsigned long long *value)
{
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)hex_value(s[i]);
        if (v > (ULLONG_MAX - d) / base) return -1;
        v = v * base + d;
    }
    *value = v;
    return 0;
}

/* One token made of [0-9A-Za-z.+-] that starts like a number. Only the
 * integer forms are looked at; floats and garbage pass through untouched. */
static int number(text_pass *p)
{
    const char *s = p->in + p->pos;
    size_t n = 0;
    while (p->pos + n < p->len &&
           (is_name_start(s[n]) || is_digit(s[n]) || s[n] == '.' || s[n] == '+' || s[n] == '-') &&
           s[n] != '*')
        n++;

    size_t suffix = 0; /* the L or LL libconfig allows on 64-bit integers */
    while (suffix < 2 && suffix < n && s[n - 1 - suffix] == 'L')
        suffix++;
    size_t body = n - suffix;
    unsigned long long value = 0;
    int promote = 0;

    if (body > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        for (size_t i = 2; i < body; i++)
            if (hex_value(s[i]) < 0) goto verbatim;
        if (parse_u64(s + 2, body - 2, 16, &value) != 0)
            return fail(p, "integer %.*s does not fit in 64 bits", (int)n, s);
        promote = suffix == 0 && value > 0xffffffffULL;
    } else {
        size_t sign = (s[0] == '-' || s[0] == '+') ? 1 : 0;
        if (body == sign) goto verbatim;
        for (size_t i = sign; i < body; i++)
            if (!is_digit(s[i])) goto verbatim;
        int negative = s[0] == '-';
        if (parse_u64(s + sign, body - sign, 10, &value) != 0 ||
            value > (negative ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX))
            return fail(p, "integer %.*s does not fit in 64 bits", (int)n, s);
        promote = suffix == 0 && value > (negative ? (unsigned long long)INT_MAX + 1
                                                   : (unsigned long long)INT_MAX);
    }
    copy(p, n);
    if (promote) p->out[p->used++] = 'L';
    return 0;
verbatim:
    copy(p, n);
    return 0;
}

static void line_comment(text_pass *p)
{
    size_t n = 0;
    while (p->pos + n < p->len && p->in[p->pos + n] != '\n')
        n++;
    copy(p, n);
}

static void block_comment(text_pass *p)
{
    size_t n = 2;
    while (p->pos + n < p->len &&
           !(p->in[p->pos + n] == '*' && p->pos + n + 1 < p->len && p->in[p->pos + n + 1] == '/'))
        n++;
    copy(p, p->pos + n < p->len ? n + 2 : n);
}

char *ofc_config_text_prepare(const char *text, size_t len, unsigned *bad_line, char *why,
                              size_t whylen)
{
    /* Worst cases: a one-byte name character becomes three bytes; an integer
     * gains one byte. */
    if (len > (SIZE_MAX - 2) / 3) {
        *bad_line = 0;
        if (why && whylen) snprintf(why, whylen, "file too large");
        return NULL;
    }
    text_pass p = {
        .in = text, .len = len, .line = 1, .bad_line = bad_line, .why = why, .whylen = whylen};
    p.out = malloc(3 * len + 2);
    if (!p.out) {
        *bad_line = 0;
        if (why && whylen) snprintf(why, whylen, "out of memory");
        return NULL;
    }
    int rc = 0;
    while (rc == 0 && p.pos < len) {
        char c = text[p.pos];
        char next = p.pos + 1 < len ? text[p.pos + 1] : '\0';
        if (c == '\0') {
            rc = fail(&p, "NUL byte in the file");
        } else if (c == '#' || (c == '/' && next == '/')) {
            line_comment(&p);
        } else if (c == '/' && next == '*') {
            block_comment(&p);
        } else if (c == '"') {
            rc = string_literal(&p);
        } else if (c == '@' && len - p.pos >= 8 && memcmp(text + p.pos, "@include", 8) == 0) {
            rc = fail(&p, "@include is not supported; put the settings in this file");
        } else if (is_name_start(c)) {
            size_t n = 1;
            while (p.pos + n < len && is_name_char(text[p.pos + n]))
                n++;
            copy(&p, n);
        } else if (is_digit(c) || c == '-' || c == '+' || c == '.') {
            rc = number(&p);
        } else {
            copy(&p, 1);
        }
    }
    if (rc != 0) {
        free(p.out);
        return NULL;
    }
    p.out[p.used] = '\0';
    return p.out;
}

char *ofc_config_text_name(const char *name)
{
    size_t n = strlen(name);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (name[0] != '*') {
        memcpy(out, name, n + 1);
        return out;
    }
    size_t used = 0;
    for (size_t i = 1; i < n; i++) {
        char c = name[i];
        if (c == '_' && i + 2 < n && hex_value(name[i + 1]) >= 0 && hex_value(name[i + 2]) >= 0) {
            out[used++] = (char)(hex_value(name[i + 1]) * 16 + hex_value(name[i + 2]));
            i += 2;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '-') {
            out[used++] = c;
        } else {
            /* Not one of ours: a name the user wrote with a '*' of its own. */
            memcpy(out, name, n + 1);
            return out;
        }
    }
    out[used] = '\0';
    return out;
}
