/* Streaming decode with yajl's callback parser: every limit is checked as the
 * bytes go by, so a hostile record is dropped before it costs memory, and
 * nothing is allocated per JSON node. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoder.h"

#define OF_POOL_INITIAL ((size_t)8192)
#define OF_ITEMS_INITIAL ((size_t)16)
#define OF_WHERE_MAX 128

const of_str of_attr_names[OF_ATTR_COUNT] = {
    OF_STR("specversion"),    OF_STR("id"),
    OF_STR("source"),         OF_STR("type"),
    OF_STR("time"),           OF_STR("datacontenttype"),
    OF_STR("idempotencykey"), OF_STR("subject"),
    OF_STR("correlationid"),  OF_STR("causationid"),
    OF_STR("schemaversion"),  OF_STR("data"),
    OF_STR("traceparent"),    OF_STR("tracestate"),
};

const of_str of_field_names[OF_FIELD_COUNT] = {
    OF_STR("order_id"),    OF_STR("customer_id"), OF_STR("currency"),
    OF_STR("items"),       OF_STR("item_count"),  OF_STR("quantity_total"),
    OF_STR("total_cents"), OF_STR("status"),      OF_STR("reason"),
};

const of_str of_item_field_names[OF_ITEM_FIELD_COUNT] = {
    OF_STR("sku"),
    OF_STR("quantity"),
    OF_STR("unit_price_cents"),
};

of_reject of_decoder_fail(of_decoder *dec, of_reject code, const char *fmt, ...)
{
    if (dec->code == OF_OK) {
        dec->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(dec->reason, sizeof(dec->reason), fmt, ap);
        va_end(ap);
    }
    return dec->code;
}

const char *of_kind_name(of_kind kind)
{
    switch (kind) {
    case OF_KIND_NULL:
        return "null";
    case OF_KIND_BOOL:
        return "boolean";
    case OF_KIND_NUMBER:
        return "number";
    case OF_KIND_STRING:
        return "string";
    case OF_KIND_OBJECT:
        return "object";
    case OF_KIND_ARRAY:
        return "array";
    case OF_KIND_ABSENT:
        break;
    }
    return "nothing";
}

/* Item faults wait: they only matter if the record turns out to be an order. */
__attribute__((format(printf, 3, 4))) static void defer(of_decoder *dec, of_reject code,
                                                        const char *fmt, ...)
{
    if (dec->item_code != OF_OK) return;
    dec->item_code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dec->item_reason, sizeof(dec->item_reason), fmt, ap);
    va_end(ap);
}

static size_t offset(const of_decoder *dec)
{
    return dec->parser ? yajl_get_bytes_consumed(dec->parser) : 0;
}

static const char *key_name(const of_decoder *dec, unsigned depth)
{
    int key = dec->keys[depth];
    if (key == OF_KEY_NONE) return NULL;
    if (key == OF_KEY_UNKNOWN) return dec->unknown_key[depth];
    switch (dec->frames[depth]) {
    case OF_FRAME_ENVELOPE:
        return of_attr_names[key].ptr;
    case OF_FRAME_DATA:
        return of_field_names[key].ptr;
    case OF_FRAME_ITEM:
        return of_item_field_names[key].ptr;
    default:
        return NULL;
    }
}

/* Where the parse is, for a reason: "attribute 'time'", "data.items[3].sku"
 * ("items[3].sku" in a bare order), "the envelope". */
static const char *where(const of_decoder *dec, char *out, size_t len)
{
    unsigned top = dec->skip_depth ? dec->skip_depth - 1 : dec->depth;
    size_t w = 0;
    out[0] = '\0';
    for (unsigned d = 1; d <= top && d < OF_FRAME_MAX && w < len; d++) {
        const char *key = key_name(dec, d);
        switch (dec->frames[d]) {
        case OF_FRAME_ENVELOPE:
            if (d == top) {
                if (key)
                    snprintf(out, len, "attribute '%s'", key);
                else
                    snprintf(out, len, "the envelope");
                return out;
            }
            w += (size_t)snprintf(out + w, len - w, "%s", key ? key : "");
            break;
        case OF_FRAME_DATA:
        case OF_FRAME_ITEM:
            if (key) w += (size_t)snprintf(out + w, len - w, "%s%s", w ? "." : "", key);
            break;
        case OF_FRAME_ITEMS:
            /* At the array itself the fault is in the entry being read. */
            w += (size_t)snprintf(out + w, len - w, "[%zu]",
                                  d == top ? dec->entries : dec->entries - 1);
            break;
        case OF_FRAME_NONE:
            break;
        }
    }
    if (!out[0]) snprintf(out, len, "%s", dec->root == OF_FRAME_DATA ? "the order" : "the record");
    return out;
}

/* 1 when s[0..n) is strict UTF-8 (as of_utf8_valid); *nul says whether it
 * holds a NUL byte. One pass for both: the validation's NUL checks on kept
 * strings then need no second scan. */
static int scan_text(const unsigned char *s, size_t n, int *nul)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t zero = 0;
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, sizeof(w));
        if (w & highs) break;
        /* Exact for bytes below 0x80: a high bit set only where a byte is 0. */
        zero |= (w - ones) & ~w & highs;
        i += 8;
    }
    int found = zero != 0;
    size_t rest = i;
    for (; i < n && s[i] < 0x80; i++)
        found |= s[i] == 0;
    if (i < n) {
        if (!of_utf8_valid(s + rest, n - rest)) return 0;
        found = found || memchr(s + rest, '\0', n - rest) != NULL;
    }
    *nul = found;
    return 1;
}

/* The limits and UTF-8 rules every string and key obeys, kept or not. */
static int check_text(of_decoder *dec, const unsigned char *s, size_t n, int is_key)
{
    char at[OF_WHERE_MAX];
    if (n > dec->limits.max_string_bytes) {
        of_decoder_fail(dec, OF_REJECT_STRING_TOO_LONG,
                        "%s: %s of %zu bytes is over the limit of %zu bytes",
                        where(dec, at, sizeof(at)), is_key ? "object key" : "string", n,
                        dec->limits.max_string_bytes);
        return 0;
    }
    if (!scan_text(s, n, &dec->text_nul)) {
        of_decoder_fail(
            dec, OF_REJECT_INVALID_UTF8, "%s: invalid UTF-8 in %s (near byte offset %zu)",
            where(dec, at, sizeof(at)), is_key ? "an object key" : "a string", offset(dec));
        return 0;
    }
    return 1;
}

static int stash(of_decoder *dec, const char *s, size_t n, of_str *out)
{
    /* Never fails in practice: the arena holds the record size plus one, and
     * each kept string or number is shorter than the JSON text it came from.
     * The check keeps a mistake in that reasoning from writing out of bounds. */
    if (n >= dec->arena_cap - dec->arena_used) {
        of_decoder_fail(dec, OF_REJECT_NO_MEMORY, "decoder arena exhausted");
        return 0;
    }
    char *p = dec->arena + dec->arena_used;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    dec->arena_used += n + 1;
    *out = (of_str){p, n};
    return 1;
}

/* Records a value seen at a known attribute or data field. */
static int set_value(of_decoder *dec, of_jval *v, of_kind kind, const char *s, size_t n)
{
    v->kind = kind;
    v->nul = kind == OF_KIND_STRING && dec->text_nul;
    if (kind == OF_KIND_NUMBER) v->num = of_parse_int64(s, n, &v->i);
    if (kind == OF_KIND_NUMBER || kind == OF_KIND_STRING) return stash(dec, s, n, &v->s);
    return 1;
}

static int set_attr(of_decoder *dec, int key, of_kind kind, const char *s, size_t n)
{
    if (dec->attrs[key].kind != OF_KIND_ABSENT &&
        (key == OF_ATTR_TRACEPARENT || key == OF_ATTR_TRACESTATE)) {
        /* Trace context is never a reason to refuse a record
         * (docs/envelope.md, "Trace context"): which copy is meant is
         * unknown, so neither is kept. */
        dec->trace_twice |=
            key == OF_ATTR_TRACEPARENT ? OF_TRACE_IGNORED_TRACEPARENT : OF_TRACE_IGNORED_TRACESTATE;
        return 1;
    }
    if (dec->attrs[key].kind != OF_KIND_ABSENT) {
        of_decoder_fail(dec, OF_REJECT_DUPLICATE_ATTR, "duplicate attribute '%s'",
                        of_attr_names[key].ptr);
        return 0;
    }
    return set_value(dec, &dec->attrs[key], kind, s, n);
}

static int set_field(of_decoder *dec, int key, of_kind kind, const char *s, size_t n)
{
    if (dec->fields[key].kind != OF_KIND_ABSENT) {
        of_decoder_fail(dec, OF_REJECT_DUPLICATE_ATTR, "duplicate field '%s%s'", dec->prefix,
                        of_field_names[key].ptr);
        return 0;
    }
    return set_value(dec, &dec->fields[key], kind, s, n);
}

/* A new entry of data.items: counted against the limit whatever it is. */
static int item_entry(of_decoder *dec, of_kind kind)
{
    size_t index = dec->entries++;
    if (dec->entries > dec->limits.max_items) {
        of_decoder_fail(dec, OF_REJECT_TOO_MANY_ITEMS, "%sitems: more than %zu items", dec->prefix,
                        dec->limits.max_items);
        return 0;
    }
    if (kind != OF_KIND_OBJECT) {
        defer(dec, OF_REJECT_WRONG_TYPE, "%sitems[%zu]: expected an object, got %s", dec->prefix,
              index, of_kind_name(kind));
        return 1;
    }
    if (dec->item_count == dec->item_cap) {
        size_t cap = dec->item_cap ? dec->item_cap * 2 : OF_ITEMS_INITIAL;
        if (cap > dec->limits.max_items) cap = dec->limits.max_items;
        of_item *items = realloc(dec->items, cap * sizeof(*items));
        if (!items) {
            of_decoder_fail(dec, OF_REJECT_NO_MEMORY, "out of memory for %zu items", cap);
            return 0;
        }
        dec->items = items;
        dec->item_cap = cap;
    }
    dec->items[dec->item_count++] = (of_item){.quantity = 0};
    dec->item_seen = 0;
    return 1;
}

static void item_int(of_decoder *dec, const char *name, of_kind kind, const char *s, size_t n,
                     int64_t *out)
{
    size_t index = dec->entries - 1;
    char q[40];
    if (kind != OF_KIND_NUMBER) {
        defer(dec, OF_REJECT_WRONG_TYPE, "%sitems[%zu].%s: expected an integer, got %s",
              dec->prefix, index, name, of_kind_name(kind));
        return;
    }
    switch (of_parse_int64(s, n, out)) {
    case OF_INT_OK:
        break;
    case OF_INT_NOT_INTEGER:
        of_quote(q, sizeof(q) - 1, s, n);
        defer(dec, OF_REJECT_WRONG_TYPE, "%sitems[%zu].%s: expected an integer, got %s",
              dec->prefix, index, name, q);
        break;
    case OF_INT_RANGE:
        of_quote(q, sizeof(q) - 1, s, n);
        defer(dec, OF_REJECT_BAD_VALUE, "%sitems[%zu].%s: %s is outside the int64 range",
              dec->prefix, index, name, q);
        break;
    }
}

static int set_item_field(of_decoder *dec, int key, of_kind kind, const char *s, size_t n)
{
    size_t index = dec->entries - 1;
    const char *name = of_item_field_names[key].ptr;
    if (dec->item_seen & (1u << key)) {
        of_decoder_fail(dec, OF_REJECT_DUPLICATE_ATTR, "duplicate field '%sitems[%zu].%s'",
                        dec->prefix, index, name);
        return 0;
    }
    dec->item_seen |= 1u << key;
    of_item *item = &dec->items[dec->item_count - 1];
    switch ((of_item_field)key) {
    case OF_ITEM_SKU:
        if (kind != OF_KIND_STRING)
            defer(dec, OF_REJECT_WRONG_TYPE, "%sitems[%zu].sku: expected a string, got %s",
                  dec->prefix, index, of_kind_name(kind));
        else if (dec->text_nul)
            defer(dec, OF_REJECT_BAD_VALUE, "%sitems[%zu].sku: contains a NUL byte", dec->prefix,
                  index);
        else if (!stash(dec, s, n, &item->sku))
            return 0;
        break;
    case OF_ITEM_QUANTITY:
        item_int(dec, name, kind, s, n, &item->quantity);
        break;
    case OF_ITEM_UNIT_PRICE_CENTS:
        item_int(dec, name, kind, s, n, &item->unit_price_cents);
        break;
    case OF_ITEM_FIELD_COUNT:
        break;
    }
    return 1;
}

static void finish_item(of_decoder *dec)
{
    for (int key = 0; key < OF_ITEM_FIELD_COUNT; key++)
        if (!(dec->item_seen & (1u << key)))
            defer(dec, OF_REJECT_MISSING_ATTR, "missing required field '%sitems[%zu].%s'",
                  dec->prefix, dec->entries - 1, of_item_field_names[key].ptr);
}

/* A scalar, or the opening of a container, at the current position. */
static int on_value(of_decoder *dec, of_kind kind, const char *s, size_t n)
{
    unsigned d = dec->depth;
    int key = dec->keys[d];
    switch (dec->frames[d]) {
    case OF_FRAME_NONE:
        of_decoder_fail(dec, OF_REJECT_NOT_OBJECT, "expected a JSON object, got %s",
                        of_kind_name(kind));
        return 0;
    case OF_FRAME_ENVELOPE:
        return key < 0 || set_attr(dec, key, kind, s, n);
    case OF_FRAME_DATA:
        return key < 0 || set_field(dec, key, kind, s, n);
    case OF_FRAME_ITEMS:
        return item_entry(dec, kind);
    case OF_FRAME_ITEM:
        return key < 0 || set_item_field(dec, key, kind, s, n);
    }
    return 1;
}

static int on_open(of_decoder *dec, of_kind kind)
{
    char at[OF_WHERE_MAX];
    if (dec->depth >= dec->limits.max_depth) {
        of_decoder_fail(dec, OF_REJECT_TOO_DEEP,
                        "%s: nesting deeper than %u levels (near byte offset %zu)",
                        where(dec, at, sizeof(at)), dec->limits.max_depth, offset(dec));
        return 0;
    }
    if (dec->skip_depth) {
        dec->depth++;
        return 1;
    }
    unsigned d = dec->depth;
    int key = dec->keys[d];
    of_frame push = OF_FRAME_NONE;
    switch (dec->frames[d]) {
    case OF_FRAME_NONE:
        if (kind == OF_KIND_OBJECT) push = dec->root;
        break;
    case OF_FRAME_ENVELOPE:
        if (key == OF_ATTR_DATA && kind == OF_KIND_OBJECT) push = OF_FRAME_DATA;
        break;
    case OF_FRAME_DATA:
        if (key == OF_FIELD_ITEMS && kind == OF_KIND_ARRAY) push = OF_FRAME_ITEMS;
        break;
    case OF_FRAME_ITEMS:
        if (kind == OF_KIND_OBJECT) push = OF_FRAME_ITEM;
        break;
    case OF_FRAME_ITEM:
        break;
    }
    /* The root object is the one value that is not some key's value. */
    if (d > 0 || kind != OF_KIND_OBJECT) {
        if (!on_value(dec, kind, NULL, 0)) return 0;
    }
    dec->depth++;
    if (push != OF_FRAME_NONE) {
        dec->frames[dec->depth] = push;
        dec->keys[dec->depth] = OF_KEY_NONE;
    } else {
        dec->skip_depth = dec->depth;
    }
    return 1;
}

static int on_close(of_decoder *dec)
{
    if (dec->depth == 1) dec->root_end = offset(dec);
    if (dec->skip_depth) {
        if (dec->depth == dec->skip_depth) dec->skip_depth = 0;
    } else if (dec->frames[dec->depth] == OF_FRAME_ITEM) {
        finish_item(dec);
    }
    dec->depth--;
    return 1;
}

static int cb_null(void *ctx)
{
    of_decoder *dec = ctx;
    return dec->skip_depth || on_value(dec, OF_KIND_NULL, NULL, 0);
}

static int cb_boolean(void *ctx, int value)
{
    of_decoder *dec = ctx;
    (void)value;
    return dec->skip_depth || on_value(dec, OF_KIND_BOOL, NULL, 0);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    of_decoder *dec = ctx;
    return dec->skip_depth || on_value(dec, OF_KIND_NUMBER, s, n);
}

/* yajl hands over a string without escapes in place, and one with escapes
 * decoded into its own buffer: a string from outside the record had some. */
static void note_escapes(of_decoder *dec, const unsigned char *s)
{
    uintptr_t at = (uintptr_t)s, start = (uintptr_t)dec->text;
    if (at < start || at >= start + dec->text_len) dec->escapes = 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    of_decoder *dec = ctx;
    note_escapes(dec, s);
    if (!check_text(dec, s, n, 0)) return 0;
    return dec->skip_depth || on_value(dec, OF_KIND_STRING, (const char *)s, n);
}

/* The key lookups by length first: memcmp with a constant length compiles
 * to a few loads, where a loop over the tables called memcmp for each
 * candidate. They must name exactly what of_attr_names and the others
 * name. */
#define IS(lit) (memcmp(s, lit, sizeof(lit) - 1) == 0)

static int attr_key(const unsigned char *s, size_t n)
{
    switch (n) {
    case 2:
        if (IS("id")) return OF_ATTR_ID;
        break;
    case 4:
        if (IS("type")) return OF_ATTR_TYPE;
        if (IS("time")) return OF_ATTR_TIME;
        if (IS("data")) return OF_ATTR_DATA;
        break;
    case 6:
        if (IS("source")) return OF_ATTR_SOURCE;
        break;
    case 7:
        if (IS("subject")) return OF_ATTR_SUBJECT;
        break;
    case 10:
        if (IS("tracestate")) return OF_ATTR_TRACESTATE;
        break;
    case 11:
        if (IS("specversion")) return OF_ATTR_SPECVERSION;
        if (IS("causationid")) return OF_ATTR_CAUSATIONID;
        if (IS("traceparent")) return OF_ATTR_TRACEPARENT;
        break;
    case 13:
        if (IS("correlationid")) return OF_ATTR_CORRELATIONID;
        if (IS("schemaversion")) return OF_ATTR_SCHEMAVERSION;
        break;
    case 14:
        if (IS("idempotencykey")) return OF_ATTR_IDEMPOTENCYKEY;
        break;
    case 15:
        if (IS("datacontenttype")) return OF_ATTR_DATACONTENTTYPE;
        break;
    }
    return OF_KEY_UNKNOWN;
}

static int field_key(const unsigned char *s, size_t n)
{
    switch (n) {
    case 5:
        if (IS("items")) return OF_FIELD_ITEMS;
        break;
    case 6:
        if (IS("status")) return OF_FIELD_STATUS;
        if (IS("reason")) return OF_FIELD_REASON;
        break;
    case 8:
        if (IS("order_id")) return OF_FIELD_ORDER_ID;
        if (IS("currency")) return OF_FIELD_CURRENCY;
        break;
    case 10:
        if (IS("item_count")) return OF_FIELD_ITEM_COUNT;
        break;
    case 11:
        if (IS("customer_id")) return OF_FIELD_CUSTOMER_ID;
        if (IS("total_cents")) return OF_FIELD_TOTAL_CENTS;
        break;
    case 14:
        if (IS("quantity_total")) return OF_FIELD_QUANTITY_TOTAL;
        break;
    }
    return OF_KEY_UNKNOWN;
}

static int item_field_key(const unsigned char *s, size_t n)
{
    switch (n) {
    case 3:
        if (IS("sku")) return OF_ITEM_SKU;
        break;
    case 8:
        if (IS("quantity")) return OF_ITEM_QUANTITY;
        break;
    case 16:
        if (IS("unit_price_cents")) return OF_ITEM_UNIT_PRICE_CENTS;
        break;
    }
    return OF_KEY_UNKNOWN;
}

#undef IS

static int cb_map_key(void *ctx, const unsigned char *s, size_t n)
{
    of_decoder *dec = ctx;
    unsigned d = dec->depth;
    note_escapes(dec, s);
    int key = OF_KEY_UNKNOWN;
    if (!dec->skip_depth) {
        switch (dec->frames[d]) {
        case OF_FRAME_ENVELOPE:
            key = attr_key(s, n);
            break;
        case OF_FRAME_DATA:
            key = field_key(s, n);
            break;
        case OF_FRAME_ITEM:
            key = item_field_key(s, n);
            break;
        default:
            break;
        }
    }
    /* A known name is ASCII, so only its length can break a rule. Until the
     * key passes the checks, a reason names the object, not the key. */
    if (key == OF_KEY_UNKNOWN || n > dec->limits.max_string_bytes) {
        if (!dec->skip_depth) dec->keys[d] = OF_KEY_NONE;
        if (!check_text(dec, s, n, 1)) return 0;
    }
    if (dec->skip_depth) return 1;
    if (key == OF_KEY_UNKNOWN)
        of_quote(dec->unknown_key[d], sizeof(dec->unknown_key[d]) - 1, (const char *)s, n);
    dec->keys[d] = key;
    return 1;
}

static int cb_start_map(void *ctx)
{
    return on_open(ctx, OF_KIND_OBJECT);
}

static int cb_start_array(void *ctx)
{
    return on_open(ctx, OF_KIND_ARRAY);
}

static int cb_end(void *ctx)
{
    return on_close(ctx);
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end,
};

of_decoder *of_decoder_new(const of_limits *limits)
{
    of_decoder *dec = calloc(1, sizeof(*dec));
    if (!dec) return NULL;
    if (limits)
        dec->limits = *limits;
    else
        of_limits_init(&dec->limits);
    of_pool_init(&dec->pool, OF_POOL_INITIAL);
    return dec;
}

void of_decoder_free(of_decoder *dec)
{
    if (!dec) return;
    of_pool_destroy(&dec->pool);
    free(dec->arena);
    free(dec->items);
    free(dec);
}

static void syntax_error(of_decoder *dec, yajl_handle parser, const void *buf, size_t len,
                         int at_end)
{
    if (len == 0) {
        of_decoder_fail(dec, OF_REJECT_NOT_JSON, "not JSON: the record is empty");
        return;
    }
    /* yajl_complete_parse counts from the start of its own final chunk. */
    size_t off = at_end ? len : yajl_get_bytes_consumed(parser);
    unsigned char *msg = yajl_get_error(parser, 0, buf, len);
    char text[128];
    snprintf(text, sizeof(text), "%s", msg ? (const char *)msg : "syntax error");
    if (msg) yajl_free_error(parser, msg);
    text[strcspn(text, "\n")] = '\0';
    /* yajl reports a bad UTF-8 sequence in a string as this lexical error. */
    if (strstr(text, "invalid bytes in UTF8 string"))
        of_decoder_fail(dec, OF_REJECT_INVALID_UTF8,
                        "invalid UTF-8 in a string or key (byte offset %zu)", off);
    else
        of_decoder_fail(dec, OF_REJECT_NOT_JSON, "not JSON: %s, byte offset %zu", text, off);
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/* yajl turns a \u escape of a lone UTF-16 surrogate into '?' without a word;
 * that would change the data silently, so such a record is refused. Only
 * called on a document yajl accepted, where every backslash starts an escape,
 * from a point no escape spans. Returns the byte offset of the first lone
 * surrogate, or -1. */
static long lone_surrogate_at(const unsigned char *buf, size_t len, size_t from)
{
    const unsigned char *p = buf + from, *end = buf + len;
    while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
        unsigned code, low;
        if (end - p < 6 || p[1] != 'u' || hex4(p + 2, &code) != 0) {
            p += 2; /* a one-character escape such as \\ or \n */
            continue;
        }
        if (code >= 0xDC00 && code <= 0xDFFF) return (long)(p - buf);
        if (code >= 0xD800 && code <= 0xDBFF) {
            if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &low) != 0 ||
                low < 0xDC00 || low > 0xDFFF)
                return (long)(p - buf);
            p += 12;
            continue;
        }
        p += 6;
    }
    return -1;
}

static of_reject parse(of_decoder *dec, const void *buf, size_t len, of_frame root)
{
    dec->code = OF_OK;
    dec->reason[0] = '\0';
    dec->item_code = OF_OK;
    dec->item_reason[0] = '\0';
    dec->root = root;
    dec->prefix = root == OF_FRAME_ENVELOPE ? "data." : "";
    dec->depth = 0;
    dec->skip_depth = 0;
    dec->entries = 0;
    dec->item_count = 0;
    dec->item_seen = 0;
    dec->arena_used = 0;
    for (int d = 0; d < OF_FRAME_MAX; d++) {
        dec->frames[d] = OF_FRAME_NONE;
        dec->keys[d] = OF_KEY_NONE;
    }
    memset(dec->attrs, 0, sizeof(dec->attrs));
    dec->trace_twice = 0;
    memset(dec->fields, 0, sizeof(dec->fields));
    dec->escapes = 0;
    dec->root_end = SIZE_MAX;

    if (len > dec->limits.max_record_bytes)
        return of_decoder_fail(dec, OF_REJECT_TOO_LARGE,
                               "record is %zu bytes, over the limit of %zu bytes", len,
                               dec->limits.max_record_bytes);
    if (!buf) buf = "";
    dec->text = buf;
    dec->text_len = len;
    if (dec->arena_cap < len + 1) {
        /* Nothing in the old arena is live between decodes: no need to copy. */
        char *arena = malloc(len + 1);
        if (!arena)
            return of_decoder_fail(dec, OF_REJECT_NO_MEMORY, "out of memory for a %zu-byte record",
                                   len);
        free(dec->arena);
        dec->arena = arena;
        dec->arena_cap = len + 1;
    }

    of_pool_reset(&dec->pool);
    yajl_alloc_funcs funcs = of_pool_funcs(&dec->pool);
    yajl_handle parser = yajl_alloc(&callbacks, &funcs, dec);
    if (!parser) return of_decoder_fail(dec, OF_REJECT_NO_MEMORY, "out of memory for the parser");
    dec->parser = parser;
    int at_end = 0;
    yajl_status st = yajl_parse(parser, buf, len);
    if (st == yajl_status_ok) {
        at_end = 1;
        st = yajl_complete_parse(parser);
    }
    if (st == yajl_status_error) syntax_error(dec, parser, buf, len, at_end);
    yajl_free(parser);
    dec->parser = NULL;
    /* A backslash is only legal in a string, and every string of the object
     * went through the callbacks: without escapes there, only what yajl let
     * through after the object (an unfinished string) may hold one. */
    size_t from = !dec->escapes && dec->root_end <= len ? dec->root_end : 0;
    long surrogate = dec->code == OF_OK ? lone_surrogate_at(buf, len, from) : -1;
    if (surrogate >= 0)
        of_decoder_fail(dec, OF_REJECT_INVALID_UTF8,
                        "invalid UTF-8: a \\u escape at byte offset %ld is a lone UTF-16 "
                        "surrogate",
                        surrogate);
    return dec->code;
}

static void give_reason(const of_decoder *dec, of_reject rc, char *err, size_t errlen)
{
    if (!err || !errlen) return;
    if (rc == OF_OK)
        err[0] = '\0'; /* the common case, without snprintf's cost per record */
    else
        snprintf(err, errlen, "%s", dec->reason);
}

of_reject of_decode_event(of_decoder *dec, const void *buf, size_t len, of_event *ev, char *err,
                          size_t errlen)
{
    of_reject rc = parse(dec, buf, len, OF_FRAME_ENVELOPE);
    if (rc == OF_OK) rc = of_validate_event(dec, ev);
    give_reason(dec, rc, err, errlen);
    return rc;
}

of_reject of_decode_order(of_decoder *dec, const void *buf, size_t len, of_order *order, char *err,
                          size_t errlen)
{
    of_reject rc = parse(dec, buf, len, OF_FRAME_DATA);
    if (rc == OF_OK) rc = of_validate_order(dec, order);
    give_reason(dec, rc, err, errlen);
    return rc;
}

of_reject of_decode_processed_data(of_decoder *dec, const void *buf, size_t len, of_processed *out,
                                   char *err, size_t errlen)
{
    of_reject rc = parse(dec, buf, len, OF_FRAME_DATA);
    if (rc == OF_OK) rc = of_validate_processed(dec, out);
    give_reason(dec, rc, err, errlen);
    return rc;
}
