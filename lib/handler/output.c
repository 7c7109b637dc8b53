/* A handler's output (docs/handlers.md): the data object it writes, checked
 * as it is written so that what reaches the encoder is always one valid
 * JSON object of docs/envelope.md's data_processed shape, or a fault that
 * dead-letters the input. One output is reused for every event: its buffers
 * keep the size of the largest output, so a warm output allocates nothing. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/handler.h>

#include "envelope/decoder.h"
#include "envelope/json_out.h"
#include "envelope/text.h"

#define FAULT_MAX 300

struct of_handler_output {
    of_json_out data;
    size_t max_bytes;
    of_limits limits;
    of_str order_id; /* the event's: what data's order_id must equal */

    int processed_written; /* of_handler_write_processed succeeded */
    int json_given;        /* of_handler_set_data_json was called */
    of_processed processed;
    /* Nesting inside data: depth 1 is the data object itself. */
    unsigned depth;
    unsigned char is_array[OF_HANDLER_MAX_DEPTH + 2];
    unsigned char has_members[OF_HANDLER_MAX_DEPTH + 2];

    int faulted;
    char fault[FAULT_MAX];
    char reason[OF_HANDLER_REASON_MAX];
    size_t reason_len;
    uint32_t retry_delay_ms;

    of_decoder *validator; /* for data given as text; made on first use */
};

__attribute__((format(printf, 2, 3))) static int fault(of_handler_output *out, const char *fmt, ...)
{
    if (out->faulted) return -1;
    out->faulted = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->fault, sizeof(out->fault), fmt, ap);
    va_end(ap);
    return -1;
}

of_handler_output *of_handler_output_new(size_t max_output_bytes, const of_limits *limits)
{
    of_handler_output *out = calloc(1, sizeof(*out));
    if (!out) return NULL;
    out->max_bytes = max_output_bytes ? max_output_bytes : OF_HANDLER_DEFAULT_MAX_OUTPUT_BYTES;
    if (limits)
        out->limits = *limits;
    else
        of_limits_init(&out->limits);
    if (of_json_out_grow(&out->data, 1024) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

void of_handler_output_free(of_handler_output *out)
{
    if (!out) return;
    free(out->data.buf);
    of_decoder_free(out->validator);
    free(out);
}

void of_handler_output_reset(of_handler_output *out, const of_event *event)
{
    out->data.len = 0;
    out->data.failed = 0;
    out->order_id = event ? event->subject : (of_str){NULL, 0};
    out->processed_written = 0;
    out->json_given = 0;
    out->depth = 0;
    out->faulted = 0;
    out->fault[0] = '\0';
    out->reason[0] = '\0';
    out->reason_len = 0;
    out->retry_delay_ms = 0;
}

/* What is wrong with s as a JSON string orderflow writes, or NULL. */
static const char *text_fault(const char *s, size_t n)
{
    if (!s && n) return "is NULL";
    if (!s) return NULL;
    if (memchr(s, '\0', n)) return "contains a NUL byte";
    if (!of_utf8_valid((const unsigned char *)s, n)) return "is not valid UTF-8";
    return NULL;
}

/* The top-level names of docs/envelope.md's order data: written by
 * of_handler_write_processed only, so a reader never sees one twice. */
static int documented_field(const char *key, size_t n)
{
    static const char *const names[] = {"order_id",    "customer_id", "currency",
                                        "items",       "item_count",  "quantity_total",
                                        "total_cents", "status",      "reason"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && memcmp(names[i], key, n) == 0) return 1;
    return 0;
}

static int over_limit(of_handler_output *out)
{
    if (out->data.failed) return fault(out, "out of memory writing data");
    /* The closing braces still to come count too. */
    if (out->data.len + out->depth > out->max_bytes)
        return fault(out, "data is over the limit of %zu bytes (handler.max_output_bytes)",
                     out->max_bytes);
    return 0;
}

/* The part every member write shares: checks, the comma, the key. */
static int member(of_handler_output *out, const char *key)
{
    if (out->faulted) return -1;
    if (out->json_given) return fault(out, "data written after of_handler_set_data_json");
    if (!out->processed_written)
        return fault(out, "member written before of_handler_write_processed");
    if (out->depth == 0) return fault(out, "member written after data was closed");
    int in_array = out->is_array[out->depth];
    char where[64];
    if (in_array && key) {
        of_quote(where, 40, key, strlen(key));
        return fault(out, "key '%s' given inside an array", where);
    }
    if (!in_array && !key) return fault(out, "member without a key inside an object");
    if (key) {
        size_t n = strlen(key);
        const char *what = text_fault(key, n);
        of_quote(where, 40, key, n);
        if (what) return fault(out, "key '%s' %s", where, what);
        if (n > out->limits.max_string_bytes)
            return fault(out, "key '%s' is over %zu bytes", where, out->limits.max_string_bytes);
        if (out->depth == 1 && documented_field(key, n))
            return fault(out,
                         "key '%s' is a documented field: write it with "
                         "of_handler_write_processed",
                         where);
    }
    if (out->has_members[out->depth]) OF_JSON_OUT_LIT(&out->data, ",");
    out->has_members[out->depth] = 1;
    if (key) {
        of_json_out_string(&out->data, key, strlen(key));
        OF_JSON_OUT_LIT(&out->data, ":");
    }
    return 0;
}

int of_handler_write_processed(of_handler_output *out, const of_processed *p)
{
    if (out->faulted) return -1;
    if (out->json_given) return fault(out, "data written after of_handler_set_data_json");
    if (out->processed_written) return fault(out, "of_handler_write_processed called twice");
    if (!p) return fault(out, "of_handler_write_processed given NULL");
    static const char *const names[] = {"order_id", "customer_id", "currency"};
    const of_str strings[] = {p->order_id, p->customer_id, p->currency};
    for (int i = 0; i < 3; i++) {
        const char *what =
            !strings[i].ptr ? "is absent" : text_fault(strings[i].ptr, strings[i].len);
        if (what) return fault(out, "data.%s %s", names[i], what);
    }
    if (!of_str_eq(p->order_id, out->order_id))
        return fault(out, "data.order_id differs from the event's order id");
    if (p->status == OF_STATUS_REJECTED) {
        const char *what = !p->reason.ptr ? "is absent although status is rejected"
                                          : text_fault(p->reason.ptr, p->reason.len);
        if (what) return fault(out, "data.reason %s", what);
    } else if (p->status != OF_STATUS_ACCEPTED) {
        return fault(out, "data.status %d is neither accepted nor rejected", (int)p->status);
    }
    /* The bytes of_encode_event writes for the same of_processed, left open. */
    of_json_out_processed_members(&out->data, p);
    out->processed = *p;
    if (p->status == OF_STATUS_ACCEPTED) out->processed.reason = (of_str){NULL, 0};
    out->processed_written = 1;
    out->depth = 1;
    out->is_array[1] = 0;
    out->has_members[1] = 1;
    return over_limit(out);
}

int of_handler_write_string(of_handler_output *out, const char *key, const char *value, size_t len)
{
    if (member(out, key) != 0) return -1;
    const char *what = text_fault(value, len);
    if (what) return fault(out, "string value %s", what);
    if (len > out->limits.max_string_bytes)
        return fault(out, "string value of %zu bytes is over %zu bytes", len,
                     out->limits.max_string_bytes);
    of_json_out_string(&out->data, value ? value : "", len);
    return over_limit(out);
}

int of_handler_write_int(of_handler_output *out, const char *key, int64_t value)
{
    if (member(out, key) != 0) return -1;
    of_json_out_int(&out->data, value);
    return over_limit(out);
}

int of_handler_write_bool(of_handler_output *out, const char *key, int value)
{
    if (member(out, key) != 0) return -1;
    if (value)
        OF_JSON_OUT_LIT(&out->data, "true");
    else
        OF_JSON_OUT_LIT(&out->data, "false");
    return over_limit(out);
}

int of_handler_write_null(of_handler_output *out, const char *key)
{
    if (member(out, key) != 0) return -1;
    OF_JSON_OUT_LIT(&out->data, "null");
    return over_limit(out);
}

int of_handler_write_double(of_handler_output *out, const char *key, double value)
{
    if (out->faulted) return -1;
    if (!isfinite(value)) return fault(out, "number %g is not finite", value);
    if (member(out, key) != 0) return -1;
    /* The shortest of 15, 16 or 17 significant digits that reads back as
     * the same double: 0.1, not 0.10000000000000001. */
    char text[40];
    int n = 0;
    for (int digits = 15; digits <= 17; digits++) {
        n = snprintf(text, sizeof(text), "%.*g", digits, value);
        if (strtod(text, NULL) == value) break;
    }
    of_json_out_raw(&out->data, text, (size_t)n);
    return over_limit(out);
}

static int begin(of_handler_output *out, const char *key, int array)
{
    if (member(out, key) != 0) return -1;
    /* data sits at depth 2 of the envelope. */
    if (out->depth >= OF_HANDLER_MAX_DEPTH || out->depth + 2 >= out->limits.max_depth)
        return fault(out, "data nested deeper than %u levels",
                     OF_HANDLER_MAX_DEPTH < out->limits.max_depth - 2 ? OF_HANDLER_MAX_DEPTH
                                                                      : out->limits.max_depth - 2);
    out->depth++;
    out->is_array[out->depth] = (unsigned char)array;
    out->has_members[out->depth] = 0;
    if (array)
        OF_JSON_OUT_LIT(&out->data, "[");
    else
        OF_JSON_OUT_LIT(&out->data, "{");
    return over_limit(out);
}

int of_handler_begin_object(of_handler_output *out, const char *key)
{
    return begin(out, key, 0);
}

int of_handler_begin_array(of_handler_output *out, const char *key)
{
    return begin(out, key, 1);
}

int of_handler_end(of_handler_output *out)
{
    if (out->faulted) return -1;
    if (out->depth <= 1) return fault(out, "of_handler_end without an object or array open");
    if (out->is_array[out->depth])
        OF_JSON_OUT_LIT(&out->data, "]");
    else
        OF_JSON_OUT_LIT(&out->data, "}");
    out->depth--;
    return over_limit(out);
}

int of_handler_set_data_json(of_handler_output *out, const char *json, size_t len)
{
    if (out->faulted) return -1;
    if (out->processed_written || out->json_given)
        return fault(out, "of_handler_set_data_json after data was written");
    if (!json) return fault(out, "of_handler_set_data_json given NULL");
    if (len > out->max_bytes)
        return fault(out,
                     "data of %zu bytes is over the limit of %zu bytes "
                     "(handler.max_output_bytes)",
                     len, out->max_bytes);
    if (!of_utf8_valid((const unsigned char *)json, len))
        return fault(out, "data is not valid UTF-8");
    out->data.len = 0;
    of_json_out_raw(&out->data, json, len);
    if (out->data.failed) return fault(out, "out of memory copying data");
    out->json_given = 1;
    return 0;
}

int of_handler_set_reason(of_handler_output *out, const char *reason)
{
    if (!reason) reason = "";
    out->reason_len = of_quote(out->reason, sizeof(out->reason) - 1, reason, strlen(reason));
    return 0;
}

int of_handler_set_retry_delay(of_handler_output *out, uint32_t delay_ms)
{
    out->retry_delay_ms = delay_ms;
    return 0;
}

of_str of_handler_output_reason(const of_handler_output *out)
{
    return (of_str){out->reason, out->reason_len};
}

uint32_t of_handler_output_retry_delay(const of_handler_output *out)
{
    return out->retry_delay_ms;
}

/* Data given as text: a data_processed data object, by the decoder's rules. */
static int check_given(of_handler_output *out, of_handler_verdict verdict)
{
    if (!out->validator) {
        of_limits limits = out->limits;
        /* The data object is depth 1 here and depth 2 in the envelope. */
        limits.max_depth = limits.max_depth > 1 ? limits.max_depth - 1 : 1;
        limits.max_record_bytes = out->max_bytes;
        out->validator = of_decoder_new(&limits);
        if (!out->validator) return fault(out, "out of memory for the data validator");
    }
    char why[OF_DECODER_REASON_MAX + 1];
    /* Trailing white space would end up inside the envelope: not taken. */
    const char *text = out->data.buf;
    size_t len = out->data.len;
    while (len && (text[0] == ' ' || text[0] == '\n' || text[0] == '\r' || text[0] == '\t')) {
        text++;
        len--;
    }
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r' ||
                   text[len - 1] == '\t'))
        len--;
    if (of_decode_processed_data(out->validator, text, len, &out->processed, why, sizeof(why)) !=
        OF_OK)
        return fault(out, "data is not a data_processed object: %s", why);
    if (!of_str_eq(out->processed.order_id, out->order_id))
        return fault(out, "data.order_id differs from the event's order id");
    (void)verdict;
    memmove(out->data.buf, text, len);
    out->data.len = len;
    return 0;
}

int of_handler_output_finish(of_handler_output *out, of_handler_verdict verdict, const char **data,
                             size_t *data_len, const of_processed **processed, char *err,
                             size_t errlen)
{
    if (verdict == OF_HANDLER_DEAD_LETTER || verdict == OF_HANDLER_RETRY) return 0;
    if (verdict != OF_HANDLER_EMIT && verdict != OF_HANDLER_REJECT) {
        snprintf(err, errlen, "verdict %d is none of emit, reject, dead_letter, retry",
                 (int)verdict);
        return -1;
    }
    if (!out->faulted && !out->processed_written && !out->json_given)
        fault(out, "%s without data (of_handler_write_processed or of_handler_set_data_json)",
              of_handler_verdict_name(verdict));
    if (!out->faulted && out->json_given) check_given(out, verdict);
    if (!out->faulted && out->depth > 1)
        fault(out, "%u object(s) or array(s) left open in data", out->depth - 1);
    if (!out->faulted && !out->json_given) {
        OF_JSON_OUT_LIT(&out->data, "}");
        out->depth = 0;
        over_limit(out);
    }
    if (!out->faulted) {
        of_status want = verdict == OF_HANDLER_EMIT ? OF_STATUS_ACCEPTED : OF_STATUS_REJECTED;
        if (out->processed.status != want)
            fault(out, "verdict %s with data.status %s", of_handler_verdict_name(verdict),
                  out->processed.status == OF_STATUS_ACCEPTED ? "accepted" : "rejected");
    }
    if (out->faulted) {
        snprintf(err, errlen, "%s", out->fault);
        return -1;
    }
    *data = out->data.buf;
    *data_len = out->data.len;
    *processed = &out->processed;
    return 0;
}

const char *of_handler_verdict_name(of_handler_verdict verdict)
{
    switch (verdict) {
    case OF_HANDLER_EMIT:
        return "emit";
    case OF_HANDLER_REJECT:
        return "reject";
    case OF_HANDLER_DEAD_LETTER:
        return "dead_letter";
    case OF_HANDLER_RETRY:
        return "retry";
    }
    return "unknown";
}

const char *of_handler_config_get(const of_handler_config *config, const char *key)
{
    if (!config || !key) return NULL;
    for (size_t i = 0; i < config->count; i++)
        if (config->keys[i] && strcmp(config->keys[i], key) == 0) return config->values[i];
    return NULL;
}
