/* W3C Trace Context (traceparent, tracestate) for the envelope's distributed
 * tracing attributes (docs/envelope.md, "Trace context"). Knows nothing about
 * Kafka; allocates nothing. */
#ifndef ORDERFLOW_TRACE_H
#define ORDERFLOW_TRACE_H

#include <orderflow/export.h>

#include <stddef.h>
#include <stdint.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>

OF_BEGIN_DECLS

/* "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>", without NUL. */
#define OF_TRACEPARENT_LEN 55
/* The longest tracestate kept (W3C: 32 list members fit in 512 bytes). */
#define OF_TRACESTATE_MAX 512
/* The sampled bit of trace-flags. */
#define OF_TRACE_FLAG_SAMPLED 0x01u

/* A parsed traceparent. parent_id is the id of the span that sent it. */
typedef struct of_traceparent {
    uint8_t version;
    uint8_t trace_id[16];
    uint8_t parent_id[8];
    uint8_t flags;
} of_traceparent;

/* Parses a traceparent by the W3C rules: lowercase hex only; version ff is
 * invalid; version 00 is exactly 55 characters; a later version is at least
 * 55, and any more must start with '-' (its first four fields are read as
 * version 00's); an all-zero trace-id or parent-id is invalid. Returns 0 and
 * fills *out (may be NULL to only check), or -1 when s is not a valid
 * traceparent (an absent view included); *out is then unspecified. */
OF_EXPORT int of_traceparent_parse(of_str s, of_traceparent *out);

/* Writes tp as a version 00 traceparent plus a NUL to out
 * (OF_TRACEPARENT_LEN + 1 bytes), whatever tp->version says: this code
 * writes the only version it knows. Cannot fail. */
OF_EXPORT void of_traceparent_format(const of_traceparent *tp, char *out);

/* Starts a new trace: a random trace-id and span id from gen (no system call;
 * gen is seeded once, see of_idgen_init), flags OF_TRACE_FLAG_SAMPLED,
 * version 00. Never produces an all-zero id. Cannot fail. */
OF_EXPORT void of_trace_start(of_idgen *gen, of_traceparent *out);

/* The traceparent of a span caused by parent's span: the same trace-id and
 * flags, a new random span id from gen (never zero, never parent's), version
 * 00. parent and out may be the same object. Cannot fail. */
OF_EXPORT void of_trace_continue(of_idgen *gen, const of_traceparent *parent, of_traceparent *out);

/* 1 when s may be carried as a tracestate: 1..OF_TRACESTATE_MAX bytes of
 * printable ASCII (0x20..0x7e, the characters W3C's grammar allows), else 0
 * (an absent view included). Its list syntax is not checked: it is passed on
 * unchanged, never interpreted. */
OF_EXPORT int of_tracestate_valid(of_str s);

OF_END_DECLS

#endif
