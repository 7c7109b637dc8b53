#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "response.h"

void gw_response_clear(gw_response *resp)
{
    free(resp->body);
    free(resp->location);
    memset(resp, 0, sizeof(*resp));
}

static void gen_string(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Takes g's buffer into resp->body. */
static int take_body(gw_response *resp, yajl_gen g)
{
    const unsigned char *buf;
    size_t len;
    if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok) return -1;
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, buf, len);
    copy[len] = '\0';
    free(resp->body);
    resp->body = copy;
    resp->len = len;
    return 0;
}

void gw_problem(gw_response *resp, unsigned status, const char *slug, const char *title,
                const char *detail, const char *pointer)
{
    resp->status = status;
    resp->content_type = CONTENT_TYPE_PROBLEM;
    char type[96];
    snprintf(type, sizeof(type), "urn:orderflow:problem:%s", slug);
    yajl_gen g = yajl_gen_alloc(NULL);
    int ok = g != NULL;
    if (ok) {
        /* Detail texts come from the decoder, which quotes what it cites: any
         * byte may appear, and yajl must not refuse the body for it. */
        yajl_gen_config(g, yajl_gen_validate_utf8, 0);
        yajl_gen_map_open(g);
        gen_string(g, "type");
        gen_string(g, type);
        gen_string(g, "title");
        gen_string(g, title);
        gen_string(g, "status");
        yajl_gen_integer(g, status);
        gen_string(g, "detail");
        gen_string(g, detail);
        if (pointer) {
            gen_string(g, "errors");
            yajl_gen_array_open(g);
            yajl_gen_map_open(g);
            gen_string(g, "pointer");
            gen_string(g, pointer);
            gen_string(g, "detail");
            gen_string(g, detail);
            yajl_gen_map_close(g);
            yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
        ok = take_body(resp, g) == 0;
        yajl_gen_free(g);
    }
    if (!ok) {
        static const char fallback[] = "{\"title\":\"out of memory\"}";
        free(resp->body);
        resp->body = NULL;
        resp->len = 0;
        char *copy = strdup(fallback);
        if (copy) {
            resp->body = copy;
            resp->len = sizeof(fallback) - 1;
        }
    }
}

static int is_path_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '[' || c == ']' || c == '-';
}

/* "items[0].quantity" -> "/items/0/quantity". ~ and / cannot occur: the
 * decoder names only known fields. */
static void path_to_pointer(const char *path, size_t n, char *out, size_t len)
{
    size_t w = 0;
    int start = 1;
    for (size_t i = 0; i < n && w + 2 < len; i++) {
        char c = path[i];
        if (c == '.' || c == '[') {
            out[w++] = '/';
            start = 0;
        } else if (c == ']') {
            continue;
        } else {
            if (start) {
                out[w++] = '/';
                start = 0;
            }
            out[w++] = c;
        }
    }
    out[w] = '\0';
}

void gw_reason_pointer(const char *reason, char *out, size_t len)
{
    static const char *const quoted[] = {"missing required field '", "duplicate field '"};
    out[0] = '\0';
    for (size_t q = 0; q < 2; q++) {
        size_t plen = strlen(quoted[q]);
        if (strncmp(reason, quoted[q], plen) == 0) {
            const char *name = reason + plen;
            const char *close = strchr(name, '\'');
            if (close) path_to_pointer(name, (size_t)(close - name), out, len);
            return;
        }
    }
    size_t n = 0;
    while (reason[n] && is_path_char(reason[n]))
        n++;
    if (n > 0 && reason[n] == ':' && reason[n + 1] == ' ') path_to_pointer(reason, n, out, len);
}

/* s[0..n) as a JSON string at p, escaped as yajl_gen escapes (see
 * gw_problem): '"', '\\', \b \f \n \r \t, other control bytes as \u00XX
 * with capital hex; everything else as it is. Returns the end. */
static char *put_string(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char letter = 0;
        switch (c) {
        case '"':
            letter = '"';
            break;
        case '\\':
            letter = '\\';
            break;
        case '\b':
            letter = 'b';
            break;
        case '\f':
            letter = 'f';
            break;
        case '\n':
            letter = 'n';
            break;
        case '\r':
            letter = 'r';
            break;
        case '\t':
            letter = 't';
            break;
        default:
            if (c < 0x20) letter = 'u';
        }
        if (!letter) {
            *p++ = (char)c;
            continue;
        }
        *p++ = '\\';
        *p++ = letter;
        if (letter == 'u') {
            *p++ = '0';
            *p++ = '0';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p++ = '"';
    return p;
}

/* v in decimal at p, as yajl_gen_integer's %lld. Returns the end. */
static char *put_int(char *p, int64_t v)
{
    char digits[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *p++ = '-';
    while (n)
        *p++ = digits[--n];
    return p;
}

#define PUT_LIT(p, literal) (memcpy((p), (literal), sizeof(literal) - 1), (p) + sizeof(literal) - 1)

int gw_accepted_body(gw_response *resp, const char *order_id, size_t order_id_len, const char *id,
                     const char *key, size_t key_len, const char *topic, int32_t partition,
                     int64_t offset)
{
    /* Written straight into one buffer of the worst-case size, the same
     * bytes yajl_gen wrote: this is every 202, and a generator handle, its
     * growing buffer and the copy out of it cost more than the answer. */
    size_t id_len = strlen(id), topic_len = strlen(topic);
    if (order_id_len > SIZE_MAX / 8 || key_len > SIZE_MAX / 8 || topic_len > SIZE_MAX / 8)
        return -1;
    size_t cap = 6 * (order_id_len + id_len + key_len + topic_len) + 160;
    char *body = malloc(cap);
    if (!body) return -1;
    char *p = body;
    p = PUT_LIT(p, "{\"order_id\":");
    p = put_string(p, order_id, order_id_len);
    p = PUT_LIT(p, ",\"id\":");
    p = put_string(p, id, id_len);
    p = PUT_LIT(p, ",\"idempotencykey\":");
    p = put_string(p, key, key_len);
    p = PUT_LIT(p, ",\"topic\":");
    p = put_string(p, topic, topic_len);
    p = PUT_LIT(p, ",\"partition\":");
    p = put_int(p, partition);
    p = PUT_LIT(p, ",\"offset\":");
    p = put_int(p, offset);
    *p++ = '}';
    *p = '\0';
    free(resp->body);
    resp->body = body;
    resp->len = (size_t)(p - body);
    resp->status = MHD_HTTP_ACCEPTED;
    resp->content_type = CONTENT_TYPE_JSON;
    return 0;
}

static void gen_view(yajl_gen g, of_str s)
{
    yajl_gen_string(g, (const unsigned char *)s.ptr, s.len);
}

int gw_status_body(gw_response *resp, const char *order_id, size_t order_id_len, const char *status,
                   const of_processed *result)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return -1;
    yajl_gen_map_open(g);
    gen_string(g, "order_id");
    yajl_gen_string(g, (const unsigned char *)order_id, order_id_len);
    gen_string(g, "status");
    gen_string(g, status);
    if (result) {
        gen_string(g, "result");
        yajl_gen_map_open(g);
        gen_string(g, "order_id");
        gen_view(g, result->order_id);
        gen_string(g, "customer_id");
        gen_view(g, result->customer_id);
        gen_string(g, "currency");
        gen_view(g, result->currency);
        gen_string(g, "item_count");
        yajl_gen_integer(g, result->item_count);
        gen_string(g, "quantity_total");
        yajl_gen_integer(g, result->quantity_total);
        gen_string(g, "total_cents");
        yajl_gen_integer(g, result->total_cents);
        gen_string(g, "status");
        gen_string(g, status);
        if (result->status == OF_STATUS_REJECTED && result->reason.ptr) {
            gen_string(g, "reason");
            gen_view(g, result->reason);
        }
        yajl_gen_map_close(g);
    }
    yajl_gen_map_close(g);
    int rc = take_body(resp, g);
    yajl_gen_free(g);
    return rc;
}

char *gw_order_location(const char *order_id, size_t len)
{
    static const char prefix[] = "/orders/";
    char *out = malloc(sizeof(prefix) + 3 * len);
    if (!out) return NULL;
    memcpy(out, prefix, sizeof(prefix) - 1);
    size_t w = sizeof(prefix) - 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)order_id[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[w++] = (char)c;
        } else {
            static const char hex[] = "0123456789ABCDEF";
            out[w++] = '%';
            out[w++] = hex[c >> 4];
            out[w++] = hex[c & 15];
        }
    }
    out[w] = '\0';
    return out;
}

enum MHD_Result gw_response_queue(struct MHD_Connection *connection, const gw_response *resp)
{
    /* Sent from resp's own body, which lives until the request completes
     * (gw_request_release), past the last byte written: no copy. */
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->len, resp->body ? resp->body : (char *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    if (resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (resp->location) MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
    if (resp->replayed) MHD_add_response_header(r, "Idempotent-Replayed", "true");
    char number[24];
    if (resp->retention_s > 0) {
        snprintf(number, sizeof(number), "%d", resp->retention_s);
        MHD_add_response_header(r, "Idempotency-Key-Retention", number);
    }
    if (resp->retry_after_s > 0) {
        snprintf(number, sizeof(number), "%d", resp->retry_after_s);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, number);
    }
    if (resp->allow) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
    if (resp->www_authenticate)
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    enum MHD_Result rc = MHD_queue_response(connection, resp->status, r);
    MHD_destroy_response(r);
    return rc;
}
