/* Bounds on untrusted input (docs/envelope.md, "Limits"). Every decoder takes one. */
#ifndef ORDERFLOW_LIMITS_H
#define ORDERFLOW_LIMITS_H

#include <orderflow/export.h>

#include <stddef.h>

OF_BEGIN_DECLS

#define OF_DEFAULT_MAX_RECORD_BYTES ((size_t)1048576)
#define OF_DEFAULT_MAX_DEPTH 32u
#define OF_DEFAULT_MAX_STRING_BYTES ((size_t)65536)
#define OF_DEFAULT_MAX_ITEMS ((size_t)10000)

typedef struct of_limits {
    size_t max_record_bytes; /* whole record value, bytes */
    unsigned max_depth;      /* JSON nesting: the envelope object itself is depth 1 */
    size_t max_string_bytes; /* any one JSON string or object key, bytes after unescaping */
    size_t max_items;        /* entries in an order's items array */
} of_limits;

/* Fills *limits with the documented defaults. */
OF_EXPORT void of_limits_init(of_limits *limits);

OF_END_DECLS

#endif
