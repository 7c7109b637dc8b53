/* Checks a fully parsed record against docs/envelope.md. Runs after the parse
 * because "type" may come after "data"; faults are reported in a fixed order
 * (specversion, type and schemaversion first: they say how to read the rest). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <orderflow/ids.h>
#include <orderflow/trace.h>

#include "decoder.h"

#define OF_QUOTE_MAX 64

enum {
    REQUIRED = 1u, /* absent is a MISSING_ATTR fault */
    NONEMPTY = 2u, /* "" is a BAD_VALUE fault */
    NULLABLE = 4u, /* null means absent (optional attributes) */
};

/* A value's name in reasons: attribute 'time', data.order_id, items[2].sku. */
typedef struct of_name {
    const char *text;
    int attribute;
} of_name;

static of_name attr(of_attr a)
{
    return (of_name){of_attr_names[a].ptr, 1};
}

static of_reject missing(of_decoder *dec, of_name name)
{
    if (name.attribute)
        return of_decoder_fail(dec, OF_REJECT_MISSING_ATTR, "missing required attribute '%s'",
                               name.text);
    return of_decoder_fail(dec, OF_REJECT_MISSING_ATTR, "missing required field '%s%s'",
                           dec->prefix, name.text);
}

/* Fails with "<name>: <what>", e.g. "attribute 'id': must not be empty". */
__attribute__((format(printf, 4, 5))) static of_reject bad(of_decoder *dec, of_reject code,
                                                           of_name name, const char *fmt, ...)
{
    char what[OF_DECODER_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (name.attribute) return of_decoder_fail(dec, code, "attribute '%s': %s", name.text, what);
    return of_decoder_fail(dec, code, "%s%s: %s", dec->prefix, name.text, what);
}

static const char *quoted(of_str s, char *buf)
{
    of_quote(buf, OF_QUOTE_MAX, s.ptr, s.len);
    return buf;
}

static of_reject want_string(of_decoder *dec, const of_jval *v, of_name name, unsigned flags,
                             of_str *out)
{
    *out = (of_str){NULL, 0};
    if (v->kind == OF_KIND_ABSENT || (v->kind == OF_KIND_NULL && (flags & NULLABLE)))
        return (flags & REQUIRED) ? missing(dec, name) : OF_OK;
    if (v->kind != OF_KIND_STRING)
        return bad(dec, OF_REJECT_WRONG_TYPE, name, "expected a string, got %s",
                   of_kind_name(v->kind));
    if ((flags & NONEMPTY) && v->s.len == 0)
        return bad(dec, OF_REJECT_BAD_VALUE, name, "must not be empty");
    /* Identifiers end up in C strings, Kafka keys and headers, where a NUL
     * would silently cut them. */
    if (v->nul) return bad(dec, OF_REJECT_BAD_VALUE, name, "contains a NUL byte");
    *out = v->s;
    return OF_OK;
}

static of_reject want_int(of_decoder *dec, const of_jval *v, of_name name, int64_t *out)
{
    char q[OF_QUOTE_MAX + 1];
    if (v->kind == OF_KIND_ABSENT) return missing(dec, name);
    if (v->kind != OF_KIND_NUMBER)
        return bad(dec, OF_REJECT_WRONG_TYPE, name, "expected an integer, got %s",
                   of_kind_name(v->kind));
    if (v->num == OF_INT_NOT_INTEGER)
        return bad(dec, OF_REJECT_WRONG_TYPE, name, "expected an integer, got %s", quoted(v->s, q));
    if (v->num == OF_INT_RANGE)
        return bad(dec, OF_REJECT_BAD_VALUE, name, "%s is outside the int64 range",
                   quoted(v->s, q));
    *out = v->i;
    return OF_OK;
}

static of_name field(of_field f)
{
    return (of_name){of_field_names[f].ptr, 0};
}

/* The fields order_created and data_processed share. */
static of_reject common_fields(of_decoder *dec, of_str *order_id, of_str *customer_id,
                               of_str *currency)
{
    const of_jval *f = dec->fields;
    if (want_string(dec, &f[OF_FIELD_ORDER_ID], field(OF_FIELD_ORDER_ID), REQUIRED | NONEMPTY,
                    order_id) ||
        want_string(dec, &f[OF_FIELD_CUSTOMER_ID], field(OF_FIELD_CUSTOMER_ID), REQUIRED,
                    customer_id) ||
        want_string(dec, &f[OF_FIELD_CURRENCY], field(OF_FIELD_CURRENCY), REQUIRED, currency))
        return dec->code;
    return OF_OK;
}

of_reject of_validate_order(of_decoder *dec, of_order *order)
{
    memset(order, 0, sizeof(*order));
    if (common_fields(dec, &order->order_id, &order->customer_id, &order->currency))
        return dec->code;
    const of_jval *items = &dec->fields[OF_FIELD_ITEMS];
    if (items->kind == OF_KIND_ABSENT) return missing(dec, field(OF_FIELD_ITEMS));
    if (items->kind != OF_KIND_ARRAY)
        return bad(dec, OF_REJECT_WRONG_TYPE, field(OF_FIELD_ITEMS), "expected an array, got %s",
                   of_kind_name(items->kind));
    if (dec->item_code != OF_OK)
        return of_decoder_fail(dec, dec->item_code, "%s", dec->item_reason);
    order->items = dec->item_count ? dec->items : NULL;
    order->item_count = dec->item_count;
    return OF_OK;
}

of_reject of_validate_processed(of_decoder *dec, of_processed *p)
{
    const of_jval *f = dec->fields;
    char q[OF_QUOTE_MAX + 1];
    of_str status, reason;
    memset(p, 0, sizeof(*p));
    if (common_fields(dec, &p->order_id, &p->customer_id, &p->currency) ||
        want_int(dec, &f[OF_FIELD_ITEM_COUNT], field(OF_FIELD_ITEM_COUNT), &p->item_count) ||
        want_int(dec, &f[OF_FIELD_QUANTITY_TOTAL], field(OF_FIELD_QUANTITY_TOTAL),
                 &p->quantity_total) ||
        want_int(dec, &f[OF_FIELD_TOTAL_CENTS], field(OF_FIELD_TOTAL_CENTS), &p->total_cents) ||
        want_string(dec, &f[OF_FIELD_STATUS], field(OF_FIELD_STATUS), REQUIRED, &status) ||
        want_string(dec, &f[OF_FIELD_REASON], field(OF_FIELD_REASON), NULLABLE, &reason))
        return dec->code;
    if (of_str_eq(status, OF_STR("accepted"))) {
        p->status = OF_STATUS_ACCEPTED;
        if (reason.ptr)
            return bad(dec, OF_REJECT_BAD_VALUE, field(OF_FIELD_REASON),
                       "present although status is 'accepted'");
    } else if (of_str_eq(status, OF_STR("rejected"))) {
        p->status = OF_STATUS_REJECTED;
        if (!reason.ptr)
            return of_decoder_fail(dec, OF_REJECT_MISSING_ATTR,
                                   "missing required field '%sreason' (status is 'rejected')",
                                   dec->prefix);
        p->reason = reason;
    } else {
        return bad(dec, OF_REJECT_BAD_VALUE, field(OF_FIELD_STATUS),
                   "'%s' is neither 'accepted' nor 'rejected'", quoted(status, q));
    }
    return OF_OK;
}

static of_reject envelope_attributes(of_decoder *dec, of_event *ev)
{
    const of_jval *a = dec->attrs;
    char q[OF_QUOTE_MAX + 1], why[OF_DECODER_REASON_MAX];
    of_str s;

    if (want_string(dec, &a[OF_ATTR_SPECVERSION], attr(OF_ATTR_SPECVERSION), REQUIRED, &s))
        return dec->code;
    if (!of_str_eq(s, OF_STR(OF_SPECVERSION)))
        return bad(dec, OF_REJECT_BAD_VALUE, attr(OF_ATTR_SPECVERSION),
                   "unsupported version '%s' (this build knows " OF_SPECVERSION ")", quoted(s, q));

    if (want_string(dec, &a[OF_ATTR_TYPE], attr(OF_ATTR_TYPE), REQUIRED, &s)) return dec->code;
    if (of_str_eq(s, OF_STR("order_created")))
        ev->type = OF_EVENT_ORDER_CREATED;
    else if (of_str_eq(s, OF_STR("data_processed")))
        ev->type = OF_EVENT_DATA_PROCESSED;
    else
        return bad(dec, OF_REJECT_UNKNOWN_TYPE, attr(OF_ATTR_TYPE), "unknown event type '%s'",
                   quoted(s, q));

    if (want_int(dec, &a[OF_ATTR_SCHEMAVERSION], attr(OF_ATTR_SCHEMAVERSION), &ev->schemaversion))
        return dec->code;
    if (ev->schemaversion != OF_SCHEMAVERSION)
        return bad(dec, OF_REJECT_UNKNOWN_SCHEMA, attr(OF_ATTR_SCHEMAVERSION),
                   "unknown schema version %lld (this build knows %d)",
                   (long long)ev->schemaversion, OF_SCHEMAVERSION);

    if (want_string(dec, &a[OF_ATTR_ID], attr(OF_ATTR_ID), REQUIRED | NONEMPTY, &ev->id) ||
        want_string(dec, &a[OF_ATTR_SOURCE], attr(OF_ATTR_SOURCE), REQUIRED | NONEMPTY,
                    &ev->source) ||
        want_string(dec, &a[OF_ATTR_TIME], attr(OF_ATTR_TIME), REQUIRED, &ev->time))
        return dec->code;
    if (!of_time_valid(ev->time))
        return bad(dec, OF_REJECT_BAD_VALUE, attr(OF_ATTR_TIME),
                   "'%s' is not an RFC 3339 timestamp", quoted(ev->time, q));

    if (want_string(dec, &a[OF_ATTR_DATACONTENTTYPE], attr(OF_ATTR_DATACONTENTTYPE), REQUIRED, &s))
        return dec->code;
    if (!of_str_eq(s, OF_STR(OF_DATACONTENTTYPE)))
        return bad(dec, OF_REJECT_BAD_VALUE, attr(OF_ATTR_DATACONTENTTYPE),
                   "'%s' is not " OF_DATACONTENTTYPE, quoted(s, q));

    if (want_string(dec, &a[OF_ATTR_IDEMPOTENCYKEY], attr(OF_ATTR_IDEMPOTENCYKEY), REQUIRED,
                    &ev->idempotencykey))
        return dec->code;
    if (of_idempotency_key_check(ev->idempotencykey, why, sizeof(why)) != 0)
        return bad(dec, OF_REJECT_BAD_VALUE, attr(OF_ATTR_IDEMPOTENCYKEY), "%s", why);

    if (want_string(dec, &a[OF_ATTR_SUBJECT], attr(OF_ATTR_SUBJECT), REQUIRED | NONEMPTY,
                    &ev->subject) ||
        want_string(dec, &a[OF_ATTR_CORRELATIONID], attr(OF_ATTR_CORRELATIONID),
                    NULLABLE | NONEMPTY, &ev->correlationid) ||
        want_string(dec, &a[OF_ATTR_CAUSATIONID], attr(OF_ATTR_CAUSATIONID), NULLABLE | NONEMPTY,
                    &ev->causationid))
        return dec->code;
    return OF_OK;
}

/* A trace attribute's string, or an absent view with its bit set in
 * ev->trace_ignored when it was present but cannot be used. */
static of_str trace_attribute(const of_decoder *dec, of_attr a, unsigned bit, of_event *ev)
{
    const of_jval *v = &dec->attrs[a];
    if (dec->trace_twice & bit) {
        ev->trace_ignored |= bit;
        return (of_str){NULL, 0};
    }
    if (v->kind == OF_KIND_ABSENT || v->kind == OF_KIND_NULL) return (of_str){NULL, 0};
    if (v->kind != OF_KIND_STRING) {
        ev->trace_ignored |= bit;
        return (of_str){NULL, 0};
    }
    return v->s;
}

/* Invalid trace context is dropped and flagged, never a reject: a broken
 * tracer upstream must not send orders to the dead-letter topic
 * (docs/envelope.md, "Trace context"). W3C: a tracestate means nothing
 * without a valid traceparent, so it goes with it. */
static void trace_context(const of_decoder *dec, of_event *ev)
{
    of_str tp = trace_attribute(dec, OF_ATTR_TRACEPARENT, OF_TRACE_IGNORED_TRACEPARENT, ev);
    of_str ts = trace_attribute(dec, OF_ATTR_TRACESTATE, OF_TRACE_IGNORED_TRACESTATE, ev);
    if (tp.ptr && of_traceparent_parse(tp, NULL) != 0) {
        ev->trace_ignored |= OF_TRACE_IGNORED_TRACEPARENT;
        tp = (of_str){NULL, 0};
    }
    if (ts.ptr && ts.len == 0) ts = (of_str){NULL, 0}; /* W3C: empty is the same as none */
    if (ts.ptr && (!tp.ptr || !of_tracestate_valid(ts))) {
        ev->trace_ignored |= OF_TRACE_IGNORED_TRACESTATE;
        ts = (of_str){NULL, 0};
    }
    ev->traceparent = tp;
    ev->tracestate = ts;
}

of_reject of_validate_event(of_decoder *dec, of_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (envelope_attributes(dec, ev)) return dec->code;
    trace_context(dec, ev);

    const of_jval *data = &dec->attrs[OF_ATTR_DATA];
    if (data->kind == OF_KIND_ABSENT) return missing(dec, attr(OF_ATTR_DATA));
    if (data->kind != OF_KIND_OBJECT)
        return bad(dec, OF_REJECT_NOT_OBJECT, attr(OF_ATTR_DATA), "expected an object, got %s",
                   of_kind_name(data->kind));
    of_str order_id;
    if (ev->type == OF_EVENT_ORDER_CREATED) {
        if (of_validate_order(dec, &ev->data.order)) return dec->code;
        order_id = ev->data.order.order_id;
    } else {
        if (of_validate_processed(dec, &ev->data.processed)) return dec->code;
        order_id = ev->data.processed.order_id;
    }
    /* The subject is the Kafka key: an order's events must share a partition. */
    if (!of_str_eq(ev->subject, order_id)) {
        char q1[OF_QUOTE_MAX + 1], q2[OF_QUOTE_MAX + 1];
        return bad(dec, OF_REJECT_BAD_VALUE, attr(OF_ATTR_SUBJECT),
                   "'%s' differs from data.order_id '%s'", quoted(ev->subject, q1),
                   quoted(order_id, q2));
    }
    return OF_OK;
}
