/* An HTTP answer as the gateway builds it before libmicrohttpd queues it:
 * status, body and the few headers the API uses (docs/gateway.md). Problem
 * bodies are RFC 9457 application/problem+json. */
#ifndef OF_GATEWAY_RESPONSE_H
#define OF_GATEWAY_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include <orderflow/envelope.h>

#define CONTENT_TYPE_JSON "application/json"
#define CONTENT_TYPE_PROBLEM "application/problem+json"

typedef struct gw_response {
    unsigned status;
    const char *content_type;
    char *body; /* malloc'd, owned */
    size_t len;
    char *location;       /* Location, malloc'd; NULL: none */
    int replayed;         /* Idempotent-Replayed: true */
    int retention_s;      /* > 0: Idempotency-Key-Retention */
    int retry_after_s;    /* > 0: Retry-After */
    const char *allow;    /* Allow (405) */
    int www_authenticate; /* WWW-Authenticate: Bearer (401) */
} gw_response;

/* Frees the body and location and clears resp. */
void gw_response_clear(gw_response *resp);

/* A problem body: type "urn:orderflow:problem:<slug>", title, status,
 * detail; with pointer (NULL: none) also errors: [{pointer, detail}]. Out of
 * memory leaves a minimal body that needs no allocation. */
void gw_problem(gw_response *resp, unsigned status, const char *slug, const char *title,
                const char *detail, const char *pointer);

/* The JSON Pointer (RFC 6901) of the field an order's rejection reason names:
 * the decoder says "items[0].quantity: ..." or "missing required field
 * 'items[0].sku'"; "" (the whole body) when it names none. Writes at most
 * len bytes with the NUL. */
void gw_reason_pointer(const char *reason, char *out, size_t len);

/* The 202 body: {"order_id","id","idempotencykey","topic","partition",
 * "offset"} in that order, with no spaces, the same bytes for the same
 * values (a replay is byte-identical). Returns 0, or -1 out of memory. */
int gw_accepted_body(gw_response *resp, const char *order_id, size_t order_id_len, const char *id,
                     const char *key, size_t key_len, const char *topic, int32_t partition,
                     int64_t offset);

/* The GET /orders/<order_id> body: {"order_id","status"} and, with a
 * result, "result": the data_processed data (docs/envelope.md). Returns 0,
 * or -1 out of memory. */
int gw_status_body(gw_response *resp, const char *order_id, size_t order_id_len, const char *status,
                   const of_processed *result);

/* "/orders/" + order_id, percent-encoded (RFC 3986 unreserved kept).
 * malloc'd; NULL out of memory. */
char *gw_order_location(const char *order_id, size_t len);

/* Queues resp on connection; frees nothing of resp. libmicrohttpd sends
 * resp->body in place: it must stay as it is until the request completes. */
enum MHD_Result gw_response_queue(struct MHD_Connection *connection, const gw_response *resp);

#endif
