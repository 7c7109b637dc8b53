/* W3C Trace Context: traceparent parsing and formatting, new trace and span
 * ids from the caller's of_idgen (seeded once from getrandom, so an id costs
 * no system call), and the bounds on a tracestate passed through. */
#include <string.h>

#include <orderflow/trace.h>

#include "idgen.h"

/* Lowercase hex digit value, or -1: W3C refuses uppercase in traceparent. */
static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Reads n bytes as 2n lowercase hex digits; 1 when some byte is not zero,
 * 0 when all are, -1 on a bad digit. */
static int hex_bytes(const char *s, uint8_t *out, size_t n)
{
    int nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value((unsigned char)s[2 * i]), lo = hex_value((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
        nonzero |= out[i] != 0;
    }
    return nonzero;
}

int of_traceparent_parse(of_str s, of_traceparent *out)
{
    of_traceparent scratch;
    if (!out) out = &scratch;
    if (!s.ptr || s.len < OF_TRACEPARENT_LEN) return -1;
    const char *p = s.ptr;
    if (hex_bytes(p, &out->version, 1) < 0 || out->version == 0xff) return -1;
    /* Version 00 has exactly these fields; a later version may append more,
     * each after a '-', and its first four are read as 00's. */
    if (out->version == 0 ? s.len != OF_TRACEPARENT_LEN
                          : s.len > OF_TRACEPARENT_LEN && p[OF_TRACEPARENT_LEN] != '-')
        return -1;
    if (p[2] != '-' || p[35] != '-' || p[52] != '-') return -1;
    if (hex_bytes(p + 3, out->trace_id, 16) != 1) return -1;  /* all zero is invalid */
    if (hex_bytes(p + 36, out->parent_id, 8) != 1) return -1; /* all zero is invalid */
    if (hex_bytes(p + 53, &out->flags, 1) < 0) return -1;
    return 0;
}

static char *put_hex(char *w, const uint8_t *b, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        *w++ = hex[b[i] >> 4];
        *w++ = hex[b[i] & 15];
    }
    return w;
}

void of_traceparent_format(const of_traceparent *tp, char *out)
{
    char *w = out;
    *w++ = '0';
    *w++ = '0';
    *w++ = '-';
    w = put_hex(w, tp->trace_id, 16);
    *w++ = '-';
    w = put_hex(w, tp->parent_id, 8);
    *w++ = '-';
    w = put_hex(w, &tp->flags, 1);
    *w = '\0';
}

/* n random bytes, never all zero (W3C: an all-zero id is invalid). */
static void random_id(of_idgen *gen, uint8_t *out, size_t n)
{
    for (;;) {
        uint64_t word = 0, any = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % 8 == 0) word = of_idgen_next(gen);
            out[i] = (uint8_t)(word >> (8 * (i % 8)));
            any |= out[i];
        }
        if (any) return;
    }
}

void of_trace_start(of_idgen *gen, of_traceparent *out)
{
    out->version = 0;
    random_id(gen, out->trace_id, sizeof(out->trace_id));
    random_id(gen, out->parent_id, sizeof(out->parent_id));
    out->flags = OF_TRACE_FLAG_SAMPLED;
}

void of_trace_continue(of_idgen *gen, const of_traceparent *parent, of_traceparent *out)
{
    uint8_t parent_span[8];
    memcpy(parent_span, parent->parent_id, sizeof(parent_span));
    if (out != parent) {
        memcpy(out->trace_id, parent->trace_id, sizeof(out->trace_id));
        out->flags = parent->flags;
    }
    out->version = 0;
    /* A span id equal to the parent's would make the two spans one. */
    do
        random_id(gen, out->parent_id, sizeof(out->parent_id));
    while (memcmp(out->parent_id, parent_span, sizeof(parent_span)) == 0);
}

int of_tracestate_valid(of_str s)
{
    if (!s.ptr || s.len == 0 || s.len > OF_TRACESTATE_MAX) return 0;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (c < 0x20 || c > 0x7e) return 0;
    }
    return 1;
}
