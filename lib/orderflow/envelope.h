/* The CloudEvents envelope of docs/envelope.md: typed events, JSON encoding and
 * validating decoding. Knows nothing about Kafka.
 *
 * Strings are (pointer, length) views. A view filled by a decoder points into
 * that decoder's arena and stays valid until the next decode call on it or
 * of_decoder_free(); it is always followed by a NUL byte and never contains
 * one (the decoder rejects a NUL in any string it keeps, as BAD_VALUE). */
#ifndef ORDERFLOW_ENVELOPE_H
#define ORDERFLOW_ENVELOPE_H

#include <orderflow/export.h>

#include <stddef.h>
#include <stdint.h>

#include <orderflow/limits.h>

OF_BEGIN_DECLS

#define OF_SPECVERSION "1.0"
#define OF_SCHEMAVERSION 1
#define OF_DATACONTENTTYPE "application/json"
/* Kafka record header values (the Kafka glue does not know these). */
#define OF_CONTENT_TYPE_HEADER "content-type"
#define OF_CONTENT_TYPE_VALUE "application/cloudevents+json; charset=utf-8"
#define OF_IDEMPOTENCY_KEY_HEADER "idempotency-key"
/* The envelope's traceparent and tracestate, when it has them (W3C Trace
 * Context's names; docs/envelope.md, "Trace context"). */
#define OF_TRACEPARENT_HEADER "traceparent"
#define OF_TRACESTATE_HEADER "tracestate"
/* Headers of a dead letter (docs/envelope.md, "Dead letters"): why its input
 * was refused, and where the input is. */
#define OF_DEAD_LETTER_ERROR_HEADER "orderflow-error"
#define OF_SOURCE_TOPIC_HEADER "orderflow-source-topic"
#define OF_SOURCE_PARTITION_HEADER "orderflow-source-partition"
#define OF_SOURCE_OFFSET_HEADER "orderflow-source-offset"
/* Set by orderflow-consumer redrive: how often the record was re-published
 * (docs/operations.md, "Redriving dead letters"). */
#define OF_REDRIVE_COUNT_HEADER "orderflow-redrive-count"

typedef struct of_str {
    const char *ptr; /* NULL when absent */
    size_t len;
} of_str;

#define OF_STR(literal) ((of_str){(literal), sizeof(literal) - 1})
/* A view of a NUL-terminated C string (NULL gives an absent view). */
OF_EXPORT of_str of_str_c(const char *cstr);
OF_EXPORT int of_str_eq(of_str a, of_str b);

typedef enum of_event_type {
    OF_EVENT_ORDER_CREATED = 1,
    OF_EVENT_DATA_PROCESSED = 2,
} of_event_type;

/* "order_created" / "data_processed" */
OF_EXPORT const char *of_event_type_name(of_event_type type);

typedef struct of_item {
    of_str sku;
    int64_t quantity;
    int64_t unit_price_cents;
} of_item;

/* order_created data. */
typedef struct of_order {
    of_str order_id;
    of_str customer_id;
    of_str currency;
    const of_item *items; /* item_count entries; owned by whoever filled the order */
    size_t item_count;
} of_order;

typedef enum of_status {
    OF_STATUS_ACCEPTED = 1,
    OF_STATUS_REJECTED = 2,
} of_status;

/* data_processed data. reason is absent when status is ACCEPTED. */
typedef struct of_processed {
    of_str order_id;
    of_str customer_id;
    of_str currency;
    int64_t item_count;
    int64_t quantity_total;
    int64_t total_cents;
    of_status status;
    of_str reason;
} of_processed;

/* of_event.trace_ignored bits. */
#define OF_TRACE_IGNORED_TRACEPARENT 1u
#define OF_TRACE_IGNORED_TRACESTATE 2u

typedef struct of_event {
    of_event_type type;
    of_str id;
    of_str source;
    of_str time;
    of_str idempotencykey;
    of_str subject;
    of_str correlationid; /* optional: absent when ptr == NULL */
    of_str causationid;   /* optional: absent when ptr == NULL */
    /* Trace context (docs/envelope.md, "Trace context"), both optional. The
     * encoder writes them when present and refuses a traceparent that
     * of_traceparent_parse refuses, or a tracestate that is not
     * of_tracestate_valid or comes without a traceparent. The decoder keeps
     * them only when valid (a tracestate only beside a valid traceparent). */
    of_str traceparent;
    of_str tracestate;
    /* Set by the decoder, ignored by the encoder: OF_TRACE_IGNORED_* bits
     * for trace attributes that were present but dropped (wrong JSON type,
     * invalid value, given twice). They never make a record a reject. */
    unsigned trace_ignored;
    int64_t schemaversion;
    union {
        of_order order;         /* type == OF_EVENT_ORDER_CREATED */
        of_processed processed; /* type == OF_EVENT_DATA_PROCESSED */
    } data;
} of_event;

/* Why a record value was refused. Every value has its own reason text. */
typedef enum of_reject {
    OF_OK = 0,
    OF_REJECT_TOO_LARGE,       /* value over limits.max_record_bytes */
    OF_REJECT_NOT_JSON,        /* syntax error, trailing garbage, empty input */
    OF_REJECT_INVALID_UTF8,    /* a string is not valid UTF-8 */
    OF_REJECT_NOT_OBJECT,      /* top-level value (or data) is not an object */
    OF_REJECT_TOO_DEEP,        /* nesting over limits.max_depth */
    OF_REJECT_STRING_TOO_LONG, /* a string or key over limits.max_string_bytes */
    OF_REJECT_TOO_MANY_ITEMS,  /* items over limits.max_items */
    OF_REJECT_DUPLICATE_ATTR,  /* the same attribute or field twice */
    OF_REJECT_MISSING_ATTR,    /* a required attribute or data field is absent */
    OF_REJECT_WRONG_TYPE,      /* an attribute or field has the wrong JSON type */
    OF_REJECT_BAD_VALUE,       /* right type, invalid value (specversion, key rules, NUL...) */
    OF_REJECT_UNKNOWN_TYPE,    /* type is not order_created/data_processed */
    OF_REJECT_UNKNOWN_SCHEMA,  /* schemaversion is not one this build knows */
    OF_REJECT_NO_MEMORY,       /* allocation failed (the input was within limits) */
} of_reject;

/* Short stable name of a reject code, e.g. "not_json" (for counters and tests). */
OF_EXPORT const char *of_reject_name(of_reject code);

/* ---- encoding ---------------------------------------------------------- */

typedef struct of_encoder of_encoder;

/* A reusable encoder; its buffer grows to the largest event and is kept, so
 * encoding allocates nothing once warm. NULL when out of memory. */
OF_EXPORT of_encoder *of_encoder_new(void);
OF_EXPORT void of_encoder_free(of_encoder *enc);

/* Encodes ev as one JSON object (no trailing newline). On success returns 0 and
 * sets *out and *out_len to the encoder's buffer, valid until the next call on enc
 * and NUL-terminated (the NUL not counted in *out_len).
 * On failure returns -1 and writes the reason to err. It refuses what
 * of_decode_event would reject, so a bad event fails where it is made: an
 * absent (or empty) required attribute, a NUL byte or ill-formed UTF-8 in a
 * string (overlong forms and surrogates included), an idempotency key that
 * breaks the of_idempotency_key_check rules, a time that is not RFC 3339,
 * schemaversion < 1 (set OF_SCHEMAVERSION), subject != data.order_id, an
 * unknown type or status, a REJECTED status without a reason. A reason given
 * with status ACCEPTED is not written. */
OF_EXPORT int of_encode_event(of_encoder *enc, const of_event *ev, const char **out,
                              size_t *out_len, char *err, size_t errlen);

/* As of_encode_event, without its checks of the attributes' values: for a
 * caller that made every string of ev itself or has checked it already (a
 * producer's own ids, times and generated orders after one checked event),
 * where the checks would be most of the encoding's cost. An event that breaks
 * the rules above is written anyway and may be one of_decode_event rejects.
 * Fails (-1, err) only when out of memory, or on an unknown type or a missing
 * items array, which it cannot write. */
OF_EXPORT int of_encode_event_unchecked(of_encoder *enc, const of_event *ev, const char **out,
                                        size_t *out_len, char *err, size_t errlen);

/* As of_encode_event, with data written as the given JSON object text, byte
 * for byte, instead of from ev->data: for data the caller has validated
 * (a handler's output, checked by of_handler_output_finish), whose order_id
 * equals ev->subject. Checks the attributes as of_encode_event does and that
 * data starts with '{' and ends with '}'; the rest of data is not read. */
OF_EXPORT int of_encode_event_data(of_encoder *enc, const of_event *ev, const char *data,
                                   size_t data_len, const char **out, size_t *out_len, char *err,
                                   size_t errlen);

/* ---- decoding ---------------------------------------------------------- */

typedef struct of_decoder of_decoder;

/* A reusable decoder with the given limits (copied). Its arena grows to the
 * largest accepted input (bounded by the limits) and is kept. NULL on ENOMEM. */
OF_EXPORT of_decoder *of_decoder_new(const of_limits *limits);
OF_EXPORT void of_decoder_free(of_decoder *dec);

/* Decodes and validates one envelope. On success returns OF_OK, fills *ev
 * (views into dec) and sets err to "". Otherwise returns the reject code,
 * writes a one-line human-readable reason naming the attribute at fault to
 * err (NULL/0 allowed), and *ev is unspecified. Unknown extension attributes
 * and unknown data fields are accepted and ignored (but still held to the
 * limits, UTF-8 and syntax rules). A traceparent or tracestate that is not
 * valid is no reject either: it is left absent and flagged in
 * ev->trace_ignored, for the caller to count. Limits, syntax, UTF-8 and duplicates stop
 * the parse where they occur; the other faults are reported after it, in a
 * fixed order: specversion, type, schemaversion, then the other attributes in
 * documented order (docs/envelope.md, "Attributes"), then data. Does not
 * allocate per record once warm. */
OF_EXPORT of_reject of_decode_event(of_decoder *dec, const void *buf, size_t len, of_event *ev,
                                    char *err, size_t errlen);

/* Decodes a bare order object (the order_created data payload, the producer's
 * input line format) with the same rules as the data attribute; the object is
 * depth 1 and reasons name fields without the "data." prefix. */
OF_EXPORT of_reject of_decode_order(of_decoder *dec, const void *buf, size_t len, of_order *order,
                                    char *err, size_t errlen);

OF_END_DECLS

#endif
