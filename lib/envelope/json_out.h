/* A JSON text writer into one growable buffer, for the encoder: no per-call
 * state machine and no sprintf, byte for byte what yajl_gen writes (no
 * spaces; strings escape '"', '\\', and control characters as \b \f \n \r \t
 * or \u00XX with capital hex digits; '/' and non-ASCII bytes as they are).
 * The caller checks UTF-8 and NUL bytes before writing. */
#ifndef ORDERFLOW_ENVELOPE_JSON_OUT_H
#define ORDERFLOW_ENVELOPE_JSON_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "text.h"

typedef struct of_json_out {
    char *buf;
    size_t len;
    size_t cap;
    int failed; /* an allocation failed: later writes do nothing */
} of_json_out;

/* Makes room for n more bytes; 0 when there is, -1 (and failed set) if not. */
OF_HIDDEN int of_json_out_grow(of_json_out *o, size_t n);

static inline int of_json_out_reserve(of_json_out *o, size_t n)
{
    if (o->failed) return -1;
    return o->cap - o->len >= n ? 0 : of_json_out_grow(o, n);
}

/* Text written as it is: punctuation and keys the caller knows need no escaping. */
static inline void of_json_out_raw(of_json_out *o, const char *s, size_t n)
{
    if (of_json_out_reserve(o, n) != 0) return;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

#define OF_JSON_OUT_LIT(o, literal) of_json_out_raw((o), (literal), sizeof(literal) - 1)

/* s[0..n) as a quoted, escaped JSON string. */
OF_HIDDEN void of_json_out_string(of_json_out *o, const char *s, size_t n);

/* v as a JSON integer. */
OF_HIDDEN void of_json_out_int(of_json_out *o, int64_t v);

struct of_processed;

/* A data_processed event's data object without its closing brace: the
 * members in the envelope's order (docs/envelope.md), "reason" only when
 * rejected. The encoder closes it; a handler's output (lib/handler/output.c)
 * keeps it open for the members the handler adds. In encode.c. */
OF_HIDDEN void of_json_out_processed_members(of_json_out *o, const struct of_processed *d);

#endif
