/* The decoder's state, shared by the streaming parse (decode.c) and the
 * validation that runs once the whole record is read (validate.c). */
#ifndef ORDERFLOW_ENVELOPE_DECODER_H
#define ORDERFLOW_ENVELOPE_DECODER_H

#include <stdint.h>

#include <yajl/yajl_parse.h>

#include <orderflow/envelope.h>

#include "pool.h"
#include "text.h"

#define OF_DECODER_REASON_MAX 256

/* The JSON kind of a value that was seen; ABSENT when it was not. */
typedef enum of_kind {
    OF_KIND_ABSENT = 0,
    OF_KIND_NULL,
    OF_KIND_BOOL,
    OF_KIND_NUMBER,
    OF_KIND_STRING,
    OF_KIND_OBJECT,
    OF_KIND_ARRAY,
} of_kind;

/* One attribute or data field, kept as seen: type checks wait for the end of
 * the record because "type" may come after "data". */
typedef struct of_jval {
    of_kind kind;
    of_int_parse num; /* NUMBER: how the text parsed as an integer */
    int64_t i;        /* NUMBER with OF_INT_OK */
    of_str s;         /* STRING: the value; NUMBER: its text */
    int nul;          /* STRING: s holds a NUL byte */
} of_jval;

typedef enum of_attr {
    OF_ATTR_SPECVERSION,
    OF_ATTR_ID,
    OF_ATTR_SOURCE,
    OF_ATTR_TYPE,
    OF_ATTR_TIME,
    OF_ATTR_DATACONTENTTYPE,
    OF_ATTR_IDEMPOTENCYKEY,
    OF_ATTR_SUBJECT,
    OF_ATTR_CORRELATIONID,
    OF_ATTR_CAUSATIONID,
    OF_ATTR_SCHEMAVERSION,
    OF_ATTR_DATA,
    /* Optional extensions, last so the lookup of the others costs the same. */
    OF_ATTR_TRACEPARENT,
    OF_ATTR_TRACESTATE,
    OF_ATTR_COUNT,
} of_attr;

/* The union of order_created and data_processed data fields. */
typedef enum of_field {
    OF_FIELD_ORDER_ID,
    OF_FIELD_CUSTOMER_ID,
    OF_FIELD_CURRENCY,
    OF_FIELD_ITEMS,
    OF_FIELD_ITEM_COUNT,
    OF_FIELD_QUANTITY_TOTAL,
    OF_FIELD_TOTAL_CENTS,
    OF_FIELD_STATUS,
    OF_FIELD_REASON,
    OF_FIELD_COUNT,
} of_field;

typedef enum of_item_field {
    OF_ITEM_SKU,
    OF_ITEM_QUANTITY,
    OF_ITEM_UNIT_PRICE_CENTS,
    OF_ITEM_FIELD_COUNT,
} of_item_field;

/* What the container open at a given depth is to us. Containers below the
 * item objects, and values of unknown keys, are skipped (but still bounded). */
typedef enum of_frame {
    OF_FRAME_NONE = 0,
    OF_FRAME_ENVELOPE,
    OF_FRAME_DATA,
    OF_FRAME_ITEMS,
    OF_FRAME_ITEM,
} of_frame;

#define OF_FRAME_MAX 5      /* depth 0 (outside) .. 4 (an item in an envelope) */
#define OF_KEY_UNKNOWN (-1) /* a key we ignore */
#define OF_KEY_NONE (-2)    /* no key read yet in this object */

struct of_decoder {
    of_limits limits;

    /* Copies of the strings we keep, NUL-terminated. Reserved to the record
     * size before each parse (a string never unescapes to more bytes than
     * its JSON text, quotes included), so views into it never move. */
    char *arena;
    size_t arena_used, arena_cap;

    of_item *items; /* the order's items, grown up to limits.max_items */
    size_t item_count, item_cap;

    of_pool pool;
    yajl_handle parser; /* only while parsing: for byte offsets */

    /* Per-record parse state. */
    of_frame root;       /* ENVELOPE, or DATA for a bare order */
    const char *prefix;  /* "data." for envelopes, "" for bare orders */
    unsigned depth;      /* containers open; the root object is depth 1 */
    unsigned skip_depth; /* depth of the container being skipped, 0 if none */
    of_frame frames[OF_FRAME_MAX];
    int keys[OF_FRAME_MAX];             /* the pending key in each object frame */
    char unknown_key[OF_FRAME_MAX][40]; /* for limit reasons under unknown keys */
    size_t entries;                     /* entries of data.items seen so far */
    unsigned item_seen;                 /* bit per of_item_field for the current item */
    of_jval attrs[OF_ATTR_COUNT];
    unsigned trace_twice; /* OF_TRACE_IGNORED_* bits: the attribute came twice */
    of_jval fields[OF_FIELD_COUNT];
    const void *text; /* the record being parsed */
    size_t text_len;
    int escapes;     /* some string or key had escapes (yajl decoded it) */
    size_t root_end; /* bytes up to the root's end; SIZE_MAX until it ends */
    int text_nul;    /* the string check_text passed last holds a NUL byte */

    /* The first fault inside data.items; it only counts if this turns out
     * to be an order (items mean nothing in data_processed). */
    of_reject item_code;
    char item_reason[OF_DECODER_REASON_MAX];

    of_reject code;
    char reason[OF_DECODER_REASON_MAX];
};

/* Key names, indexed by the enums above (NUL-terminated views). */
OF_HIDDEN extern const of_str of_attr_names[OF_ATTR_COUNT];
OF_HIDDEN extern const of_str of_field_names[OF_FIELD_COUNT];
OF_HIDDEN extern const of_str of_item_field_names[OF_ITEM_FIELD_COUNT];

/* Records a rejection (the first one wins) and returns its code. */
OF_HIDDEN of_reject of_decoder_fail(of_decoder *dec, of_reject code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "string", "number", ... for reasons. */
OF_HIDDEN const char *of_kind_name(of_kind kind);

/* After a complete parse: checks the envelope and fills *ev. */
OF_HIDDEN of_reject of_validate_event(of_decoder *dec, of_event *ev);
/* After a complete parse: checks the order fields and fills *order. */
OF_HIDDEN of_reject of_validate_order(of_decoder *dec, of_order *order);
/* After a complete parse: checks the data_processed fields and fills *p. */
OF_HIDDEN of_reject of_validate_processed(of_decoder *dec, of_processed *p);

/* Decodes a bare data_processed data object (a handler's output given as
 * text, lib/handler/) with the rules of the data attribute; reasons name
 * fields without the "data." prefix. */
OF_HIDDEN of_reject of_decode_processed_data(of_decoder *dec, const void *buf, size_t len,
                                             of_processed *out, char *err, size_t errlen);

#endif
