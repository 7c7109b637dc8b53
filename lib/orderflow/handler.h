/* Handlers: the one step of the processing stage a user replaces
 * (docs/handlers.md). The stage is consume -> decode -> dedup -> handler ->
 * encode -> produce -> commit; orderflow keeps everything but the handler:
 * the envelope (id, type, source, time, subject, correlationid,
 * causationid, idempotencykey, traceparent), deduplication, dead letters,
 * the delivery guarantee and the metrics. A handler sees one decoded
 * order_created at a time and answers with one verdict.
 *
 * A plugin is a shared object exporting one function, named by
 * OF_HANDLER_ENTRY_SYMBOL and defined by OF_HANDLER_DEFINE_ENTRY:
 *
 *     const of_handler *of_handler_entry(void);
 *
 * It returns a descriptor with static storage whose abi_version is
 * OF_HANDLER_ABI_VERSION as the plugin was built. orderflow reads
 * abi_version first and refuses (never calls) a plugin built for another
 * version (docs/handlers.md, "ABI versioning").
 *
 * Threading: orderflow calls open, every handle and close from one thread,
 * never two calls at once on one state; a process loads a handler once.
 * A handler may keep per-state buffers without locks.
 *
 * Ownership: everything orderflow passes in (event, config, output) stays
 * orderflow's and is valid only during the call; copy what must outlive it.
 * Strings given to the output functions are copied by them, except the
 * strings of the of_processed given to of_handler_write_processed, which
 * must stay valid until handle returns (views of the event's strings are).
 *
 * Failure: open reports its failure (the processor exits 78 before joining
 * its group, naming the plugin and the reason); handle never fails as such,
 * it answers DEAD_LETTER or RETRY. Output that breaks the rules below (a
 * write after a fault, data that is not a JSON object, not UTF-8, over
 * the size limit, a verdict without its data) is a fault: orderflow
 * dead-letters the input with a reason naming the handler and the fault,
 * and never writes a malformed data_processed. */
#ifndef ORDERFLOW_HANDLER_H
#define ORDERFLOW_HANDLER_H

#include <orderflow/export.h>

#include <stddef.h>
#include <stdint.h>

#include <orderflow/envelope.h>

OF_BEGIN_DECLS

/* Changes with any incompatible change to this header: the descriptor, the
 * event, the config, a verdict's meaning or a function's signature.
 * Additions that an older plugin cannot notice (a new output function) keep
 * it. */
#define OF_HANDLER_ABI_VERSION 1u

/* The function a plugin exports (dlsym name) and its type. */
#define OF_HANDLER_ENTRY_SYMBOL "of_handler_entry"
typedef struct of_handler of_handler;
typedef const of_handler *of_handler_entry_fn(void);

/* Defines the entry of a plugin whose descriptor is the static of_handler
 * `descriptor`: write OF_HANDLER_DEFINE_ENTRY(descriptor) once, at file scope,
 * after it. (C linkage and default visibility, also in a C++ plugin built
 * with -fvisibility=hidden.) */
#ifdef __cplusplus
#define OF_HANDLER_ENTRY_LINKAGE extern "C"
#else
#define OF_HANDLER_ENTRY_LINKAGE
#endif
#define OF_HANDLER_DEFINE_ENTRY(descriptor)                                                        \
    OF_HANDLER_ENTRY_LINKAGE OF_EXPORT const of_handler *of_handler_entry(void);                   \
    OF_HANDLER_ENTRY_LINKAGE OF_EXPORT const of_handler *of_handler_entry(void)                    \
    {                                                                                              \
        return &(descriptor);                                                                      \
    }

/* The data a handler writes may be at most this many bytes unless the
 * configuration says otherwise (handler.max_output_bytes). */
#define OF_HANDLER_DEFAULT_MAX_OUTPUT_BYTES ((size_t)65536)
/* Longest reason kept for DEAD_LETTER and RETRY (longer ones are cut). */
#define OF_HANDLER_REASON_MAX 400
/* Deepest nesting of objects and arrays written inside data. */
#define OF_HANDLER_MAX_DEPTH 16

typedef enum of_handler_verdict {
    /* Publish a data_processed whose data the handler wrote, with status
     * "accepted" (of_handler_write_processed, then any members of its own,
     * or of_handler_set_data_json). */
    OF_HANDLER_EMIT = 1,
    /* Publish a data_processed with status "rejected" and its reason (written
     * the same way as for EMIT): the order is refused by the business. */
    OF_HANDLER_REJECT = 2,
    /* Send the input to the dead-letter topic now, with of_handler_set_reason's
     * reason (docs/envelope.md, "Dead letters"): no data_processed. */
    OF_HANDLER_DEAD_LETTER = 3,
    /* A transient failure (a service is down): orderflow calls handle again
     * for the same event later, with attempt + 1, after about
     * of_handler_set_retry_delay's hint; after handler.max_attempts the
     * configured action applies (docs/handlers.md, "Retries"). */
    OF_HANDLER_RETRY = 4,
} of_handler_verdict;

/* "emit", "reject", "dead_letter", "retry"; "unknown" for anything else. */
OF_EXPORT const char *of_handler_verdict_name(of_handler_verdict verdict);

/* The handler's settings: the configuration file's handler group and the
 * --handler-arg KEY=VALUE options (which override the file), as text.
 * Keys are unique; the arrays live until close returns. */
typedef struct of_handler_config {
    const char *const *keys;
    const char *const *values;
    size_t count;
} of_handler_config;

/* The value of key, or NULL when it is not set (config may be NULL). */
OF_EXPORT const char *of_handler_config_get(const of_handler_config *config, const char *key);

/* One input, decoded and validated (docs/envelope.md). */
typedef struct of_handler_event {
    /* The order_created event: its attributes (id, source, time, subject,
     * idempotencykey, correlationid, traceparent...) and the order in
     * event->data.order. */
    const of_event *event;
    of_str value;     /* the whole record value (the envelope's JSON text) */
    unsigned attempt; /* 1, then 2, 3... when the previous call answered RETRY */
    int32_t partition;
    int64_t offset;
} of_handler_event;

/* The data object's JSON text as the record carries it (unknown fields
 * included), a view into event->value; computed when asked, so a handler
 * that does not need it pays nothing. */
OF_EXPORT of_str of_handler_event_data_json(const of_handler_event *event);

typedef struct of_handler_output of_handler_output;

struct of_handler {
    /* OF_HANDLER_ABI_VERSION as the plugin was built: always the first field. */
    uint32_t abi_version;
    const char *name;    /* short, [A-Za-z0-9_.-]: names the handler in logs, metrics, reasons */
    const char *version; /* the plugin's own version, e.g. "1.2.0" */
    /* Called once before the processor joins its group. Sets *state (handed
     * to handle and close; may stay NULL). Returns 0, or -1 with one sentence
     * in err (a missing or bad setting, a resource that cannot be had): the
     * processor exits 78 naming the plugin and that sentence. May be NULL. */
    int (*open)(const of_handler_config *config, void **state, char *err, size_t errlen);
    /* One event: fill out and return the verdict. Called on the processing
     * thread; keep it fast and do not block for long (a slow handler slows
     * its partitions: the stage is as fast as its handler). Required. */
    of_handler_verdict (*handle)(void *state, const of_handler_event *event,
                                 of_handler_output *out);
    /* Called once at shutdown after the last handle (also when open failed:
     * never). May be NULL. */
    void (*close)(void *state);
};

/* ---- writing the output (called from handle) ------------------------------
 *
 * The data of a data_processed is one JSON object. Write it with
 * of_handler_write_processed first (the documented fields of docs/envelope.md,
 * "data_processed data", which orderflow's readers rely on), then any members
 * of the handler's own; or give the whole object as text with
 * of_handler_set_data_json. Each function returns 0, or -1 once the output
 * has a fault (the first one is kept and every later write does nothing):
 * a handler may write on and check only at the end, or not at all. Keys and
 * string values must be UTF-8 without NUL; key is NULL for an element of an
 * array and a NUL-terminated name otherwise. Nothing is allocated once the
 * buffers have grown to the largest output. */

/* Writes order_id, customer_id, currency, item_count, quantity_total,
 * total_cents, status and (when rejected) reason, exactly as the built-in
 * rules' output has them. order_id must equal the event's order id; status
 * must be ACCEPTED for EMIT and REJECTED (with a reason) for REJECT. The
 * strings must stay valid until handle returns. Once per output, first. */
OF_EXPORT int of_handler_write_processed(of_handler_output *out, const of_processed *processed);

/* Members of the handler's own, after of_handler_write_processed. At the top
 * level a key must not be one of the documented fields (order_id, customer_id,
 * currency, items, item_count, quantity_total, total_cents, status, reason). */
OF_EXPORT int of_handler_write_string(of_handler_output *out, const char *key, const char *value,
                                      size_t len);
OF_EXPORT int of_handler_write_int(of_handler_output *out, const char *key, int64_t value);
OF_EXPORT int of_handler_write_bool(of_handler_output *out, const char *key, int value);
OF_EXPORT int of_handler_write_null(of_handler_output *out, const char *key);
/* A finite number, in the fewest significant digits (15 to 17) that read back
 * as the same double (NaN and infinities are faults). */
OF_EXPORT int of_handler_write_double(of_handler_output *out, const char *key, double value);
/* Opens an object or an array member (or element); of_handler_end closes the
 * innermost one. Every one opened must be closed before handle returns. */
OF_EXPORT int of_handler_begin_object(of_handler_output *out, const char *key);
OF_EXPORT int of_handler_begin_array(of_handler_output *out, const char *key);
OF_EXPORT int of_handler_end(of_handler_output *out);

/* The whole data object as JSON text (copied), instead of the writes above:
 * orderflow checks it is valid UTF-8 within the size limit and a data_processed
 * data object of docs/envelope.md (the documented fields, order_id equal to
 * the event's, status matching the verdict) and writes it as given. */
OF_EXPORT int of_handler_set_data_json(of_handler_output *out, const char *json, size_t len);

/* Why: for DEAD_LETTER (the dead letter's orderflow-error header, after
 * "handler NAME: ") and RETRY (logs). Copied; cut to OF_HANDLER_REASON_MAX - 1
 * bytes; bytes other than printable ASCII are written as \xNN. */
OF_EXPORT int of_handler_set_reason(of_handler_output *out, const char *reason);

/* RETRY: how long to wait before the next attempt, in milliseconds (a hint:
 * orderflow bounds it by its configuration; 0 or unset: its default). */
OF_EXPORT int of_handler_set_retry_delay(of_handler_output *out, uint32_t delay_ms);

/* ---- the host's side: driving a handler ----------------------------------
 *
 * What orderflow's processor does around each call, public so that a
 * handler's own tests can drive it the same way. One output is reused for
 * every event (one thread). */

/* An output whose data may be up to max_output_bytes (0: the default), with
 * the limits of data_processed validation (copied; NULL: the defaults).
 * NULL when out of memory. */
OF_EXPORT of_handler_output *of_handler_output_new(size_t max_output_bytes,
                                                   const of_limits *limits);
OF_EXPORT void of_handler_output_free(of_handler_output *out);

/* Empties out for a call of handle on event (its order id is what the data's
 * order_id must equal). event must stay valid until the output is read. */
OF_EXPORT void of_handler_output_reset(of_handler_output *out, const of_event *event);

/* After handle returned verdict: checks the output against the verdict.
 * EMIT and REJECT: returns 0 and sets *data / *data_len to the data object's
 * text (valid until the next reset) and *processed to its documented fields
 * (views valid as long). DEAD_LETTER and RETRY: returns 0 (data untouched).
 * Returns -1 with one sentence in err on a fault, or a verdict that is none
 * of the four: the input is then to be dead-lettered with that sentence. */
OF_EXPORT int of_handler_output_finish(of_handler_output *out, of_handler_verdict verdict,
                                       const char **data, size_t *data_len,
                                       const of_processed **processed, char *err, size_t errlen);

/* The reason set with of_handler_set_reason ({"", 0} when none), and the
 * retry delay hint (0 when none). Valid until the next reset. */
OF_EXPORT of_str of_handler_output_reason(const of_handler_output *out);
OF_EXPORT uint32_t of_handler_output_retry_delay(const of_handler_output *out);

/* ---- the built-in handler ------------------------------------------------ */

/* "rules": today's business rules (of_process_order, docs/envelope.md,
 * "data_processed data") as a handler: EMIT when accepted, REJECT with the
 * first broken rule otherwise. It takes no settings and never dead-letters
 * or retries. Its output is byte for byte what the processor wrote before
 * handlers existed. */
OF_EXPORT const of_handler *of_handler_rules(void);

OF_END_DECLS

#endif
