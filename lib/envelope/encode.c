/* Encoding into one buffer per encoder, reused per event: it keeps the size
 * of the largest event, so a warm encoder does not allocate. The text is
 * written directly (json_out.h), as yajl_gen would write it, at a fraction of
 * yajl_gen's cost (its per-call state checks were a fifth of the processing
 * stage's own CPU). The encoder refuses what of_decode_event would reject, so
 * a bad event fails where it is made rather than in a dead-letter topic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>

#include "json_out.h"
#include "text.h"

struct of_encoder {
    of_json_out out;
    char *err;
    size_t errlen;
};

of_encoder *of_encoder_new(void)
{
    of_encoder *enc = calloc(1, sizeof(*enc));
    if (!enc) return NULL;
    if (of_json_out_grow(&enc->out, 1024) != 0) {
        free(enc);
        return NULL;
    }
    return enc;
}

void of_encoder_free(of_encoder *enc)
{
    if (!enc) return;
    free(enc->out.buf);
    free(enc);
}

__attribute__((format(printf, 2, 3))) static int fail(of_encoder *enc, const char *fmt, ...)
{
    if (enc->err && enc->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(enc->err, enc->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

enum { REQUIRED = 1u, NONEMPTY = 2u };

/* The checks of_decode_event makes on a kept string: NULL when s passes, else
 * what is wrong with it (strict UTF-8: no overlong forms, no surrogates). */
static const char *fault(of_str s, unsigned flags)
{
    if (!s.ptr) return (flags & REQUIRED) ? "is required" : NULL;
    if ((flags & NONEMPTY) && s.len == 0) return "must not be empty";
    if (memchr(s.ptr, '\0', s.len)) return "contains a NUL byte";
    if (!of_utf8_valid((const unsigned char *)s.ptr, s.len)) return "is not valid UTF-8";
    return NULL;
}

static int check(of_encoder *enc, const char *name, of_str s, unsigned flags)
{
    const char *what = fault(s, flags);
    return what ? fail(enc, "%s %s", name, what) : 0;
}

/* The envelope's attributes; order_id is what subject must equal. */
static int check_attributes(of_encoder *enc, const of_event *ev, of_str order_id);

static int check_event(of_encoder *enc, const of_event *ev)
{
    of_str order_id;
    if (ev->type == OF_EVENT_ORDER_CREATED) {
        const of_order *o = &ev->data.order;
        order_id = o->order_id;
        if (check(enc, "data.order_id", o->order_id, REQUIRED | NONEMPTY) ||
            check(enc, "data.customer_id", o->customer_id, REQUIRED) ||
            check(enc, "data.currency", o->currency, REQUIRED))
            return -1;
        if (o->item_count && !o->items) return fail(enc, "data.items is missing");
        for (size_t i = 0; i < o->item_count; i++) {
            const char *what = fault(o->items[i].sku, REQUIRED);
            if (what) return fail(enc, "data.items[%zu].sku %s", i, what);
        }
    } else if (ev->type == OF_EVENT_DATA_PROCESSED) {
        const of_processed *p = &ev->data.processed;
        order_id = p->order_id;
        if (check(enc, "data.order_id", p->order_id, REQUIRED | NONEMPTY) ||
            check(enc, "data.customer_id", p->customer_id, REQUIRED) ||
            check(enc, "data.currency", p->currency, REQUIRED))
            return -1;
        if (p->status == OF_STATUS_REJECTED) {
            if (check(enc, "data.reason", p->reason, REQUIRED)) return -1;
        } else if (p->status != OF_STATUS_ACCEPTED) {
            return fail(enc, "data.status %d is neither accepted nor rejected", (int)p->status);
        }
    } else {
        return fail(enc, "type %d is not an event type", (int)ev->type);
    }
    return check_attributes(enc, ev, order_id);
}

static int check_attributes(of_encoder *enc, const of_event *ev, of_str order_id)
{
    char why[160];
    if (check(enc, "id", ev->id, REQUIRED | NONEMPTY) ||
        check(enc, "source", ev->source, REQUIRED | NONEMPTY) ||
        check(enc, "time", ev->time, REQUIRED) ||
        check(enc, "subject", ev->subject, REQUIRED | NONEMPTY) ||
        check(enc, "correlationid", ev->correlationid, NONEMPTY) ||
        check(enc, "causationid", ev->causationid, NONEMPTY))
        return -1;
    if (!of_time_valid(ev->time)) return fail(enc, "time is not an RFC 3339 timestamp");
    /* The decoder would drop these silently: refuse them here instead. */
    if (ev->traceparent.ptr && of_traceparent_parse(ev->traceparent, NULL) != 0)
        return fail(enc, "traceparent is not a W3C traceparent");
    if (ev->tracestate.ptr && !ev->traceparent.ptr)
        return fail(enc, "tracestate without a traceparent");
    if (ev->tracestate.ptr && !of_tracestate_valid(ev->tracestate))
        return fail(enc, "tracestate is not 1..%d bytes of printable ASCII", OF_TRACESTATE_MAX);
    if (of_idempotency_key_check(ev->idempotencykey, why, sizeof(why)) != 0)
        return fail(enc, "idempotencykey: %s", why);
    if (ev->schemaversion < 1)
        return fail(enc, "schemaversion %lld is not set (use OF_SCHEMAVERSION)",
                    (long long)ev->schemaversion);
    if (!of_str_eq(ev->subject, order_id)) return fail(enc, "subject differs from data.order_id");
    return 0;
}

/* A "key": prefix, with the comma before every member but the first. */
#define KEY(o, name) OF_JSON_OUT_LIT((o), ",\"" name "\":")

/* A macro, not a function: the key's length stays a constant, so its copy
 * is a few moves rather than a call. */
#define MEMBER(o, name, value)                                                                     \
    do {                                                                                           \
        of_str member_ = (value);                                                                  \
        KEY((o), name);                                                                            \
        of_json_out_string((o), member_.ptr ? member_.ptr : "", member_.len);                      \
    } while (0)

/* The attributes both payloads open with, in the same order. */
static void order_identity(of_json_out *o, of_str order_id, of_str customer_id, of_str currency)
{
    OF_JSON_OUT_LIT(o, "{\"order_id\":");
    of_json_out_string(o, order_id.ptr ? order_id.ptr : "", order_id.len);
    MEMBER(o, "customer_id", customer_id);
    MEMBER(o, "currency", currency);
}

static void order_data(of_json_out *o, const of_order *d)
{
    order_identity(o, d->order_id, d->customer_id, d->currency);
    OF_JSON_OUT_LIT(o, ",\"items\":[");
    for (size_t i = 0; i < d->item_count; i++) {
        if (i) OF_JSON_OUT_LIT(o, ",");
        OF_JSON_OUT_LIT(o, "{\"sku\":");
        of_json_out_string(o, d->items[i].sku.ptr ? d->items[i].sku.ptr : "", d->items[i].sku.len);
        KEY(o, "quantity");
        of_json_out_int(o, d->items[i].quantity);
        KEY(o, "unit_price_cents");
        of_json_out_int(o, d->items[i].unit_price_cents);
        OF_JSON_OUT_LIT(o, "}");
    }
    OF_JSON_OUT_LIT(o, "]}");
}

void of_json_out_processed_members(of_json_out *o, const of_processed *d)
{
    order_identity(o, d->order_id, d->customer_id, d->currency);
    KEY(o, "item_count");
    of_json_out_int(o, d->item_count);
    KEY(o, "quantity_total");
    of_json_out_int(o, d->quantity_total);
    KEY(o, "total_cents");
    of_json_out_int(o, d->total_cents);
    if (d->status == OF_STATUS_REJECTED) {
        OF_JSON_OUT_LIT(o, ",\"status\":\"rejected\"");
        MEMBER(o, "reason", d->reason);
    } else {
        OF_JSON_OUT_LIT(o, ",\"status\":\"accepted\"");
    }
}

static void processed_data(of_json_out *o, const of_processed *d)
{
    of_json_out_processed_members(o, d);
    OF_JSON_OUT_LIT(o, "}");
}

/* data: the data object's text, written as it is; NULL: from ev->data. */
static int encode(of_encoder *enc, const of_event *ev, const char *data, size_t data_len,
                  const char **out, size_t *out_len)
{
    of_json_out *o = &enc->out;
    o->len = 0;
    OF_JSON_OUT_LIT(o, "{\"specversion\":\"" OF_SPECVERSION "\"");
    MEMBER(o, "id", ev->id);
    MEMBER(o, "source", ev->source);
    MEMBER(o, "type", of_str_c(of_event_type_name(ev->type)));
    MEMBER(o, "time", ev->time);
    OF_JSON_OUT_LIT(o, ",\"datacontenttype\":\"" OF_DATACONTENTTYPE "\"");
    MEMBER(o, "idempotencykey", ev->idempotencykey);
    MEMBER(o, "subject", ev->subject);
    if (ev->correlationid.ptr) MEMBER(o, "correlationid", ev->correlationid);
    if (ev->causationid.ptr) MEMBER(o, "causationid", ev->causationid);
    if (ev->traceparent.ptr) MEMBER(o, "traceparent", ev->traceparent);
    if (ev->tracestate.ptr) MEMBER(o, "tracestate", ev->tracestate);
    KEY(o, "schemaversion");
    of_json_out_int(o, ev->schemaversion);
    KEY(o, "data");
    if (data)
        of_json_out_raw(o, data, data_len);
    else if (ev->type == OF_EVENT_ORDER_CREATED)
        order_data(o, &ev->data.order);
    else
        processed_data(o, &ev->data.processed);
    /* The NUL is there for callers that treat the text as a C string; it is
     * not part of the event, nor of *out_len. */
    OF_JSON_OUT_LIT(o, "}\0");
    if (o->failed) {
        o->failed = 0;
        return fail(enc, "out of memory encoding the event");
    }
    o->len--;
    *out = o->buf;
    *out_len = o->len;
    return 0;
}

static void begin(of_encoder *enc, char *err, size_t errlen)
{
    enc->err = err;
    enc->errlen = errlen;
    if (err && errlen) err[0] = '\0';
}

int of_encode_event(of_encoder *enc, const of_event *ev, const char **out, size_t *out_len,
                    char *err, size_t errlen)
{
    begin(enc, err, errlen);
    if (check_event(enc, ev) != 0) return -1;
    return encode(enc, ev, NULL, 0, out, out_len);
}

int of_encode_event_unchecked(of_encoder *enc, const of_event *ev, const char **out,
                              size_t *out_len, char *err, size_t errlen)
{
    begin(enc, err, errlen);
    /* The writer dereferences items only when there are some; everything
     * else it reads copes with absent strings. */
    if (ev->type == OF_EVENT_ORDER_CREATED && ev->data.order.item_count && !ev->data.order.items)
        return fail(enc, "data.items is missing");
    if (ev->type != OF_EVENT_ORDER_CREATED && ev->type != OF_EVENT_DATA_PROCESSED)
        return fail(enc, "type %d is not an event type", (int)ev->type);
    return encode(enc, ev, NULL, 0, out, out_len);
}

int of_encode_event_data(of_encoder *enc, const of_event *ev, const char *data, size_t data_len,
                         const char **out, size_t *out_len, char *err, size_t errlen)
{
    begin(enc, err, errlen);
    if (ev->type != OF_EVENT_ORDER_CREATED && ev->type != OF_EVENT_DATA_PROCESSED)
        return fail(enc, "type %d is not an event type", (int)ev->type);
    if (!data || data_len < 2 || data[0] != '{' || data[data_len - 1] != '}')
        return fail(enc, "data is not a JSON object");
    if (check_attributes(enc, ev, ev->subject) != 0) return -1;
    return encode(enc, ev, data, data_len, out, out_len);
}
