/* GET /orders/<order_id>[?wait=S] (docs/gateway.md): the order's status
 * from the order view; a pending order with ?wait parks the suspended
 * connection in the view until its result arrives or S seconds pass. */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* The longest ?wait, seconds. */
#define WAIT_MAX_S 30

static enum MHD_Result answer(gw_request *req)
{
    req->answered = 1;
    return gw_response_queue(req->connection, &req->resp);
}

/* The order view's answer to a parked request (order_view.h: under the
 * view's lock): the order's current body, and the connection resumes. */
static void answer_parked(view_waiter *waiter, const char *body, size_t body_len)
{
    gw_request *req = OFC_CONTAINER_OF(waiter, gw_request, waiter);
    gw_response_clear(&req->resp);
    req->resp.status = MHD_HTTP_OK;
    req->resp.content_type = CONTENT_TYPE_JSON;
    req->resp.body = malloc(body_len + 1);
    if (req->resp.body) {
        memcpy(req->resp.body, body, body_len);
        req->resp.len = body_len;
    } else {
        gw_problem(&req->resp, 500, "internal", "Internal Server Error", "out of memory", NULL);
    }
    req->answered = 1;
    MHD_resume_connection(req->connection);
}

enum MHD_Result gw_orders_get(gw_request *req, const char *url)
{
    gateway *gw = req->gw;
    const char *order_id = url + strlen("/orders/");
    size_t len = strlen(order_id);
    long wait_s = 0;
    const char *wait = MHD_lookup_connection_value(req->connection, MHD_GET_ARGUMENT_KIND, "wait");
    if (wait) {
        char *end = NULL;
        wait_s = strtol(wait, &end, 10);
        if (!*wait || *end || wait_s < 0 || wait_s > WAIT_MAX_S) {
            gw_problem(&req->resp, MHD_HTTP_BAD_REQUEST, "bad-wait", "Bad Request",
                       "wait must be a whole number of seconds, 0..30", NULL);
            return answer(req);
        }
    }
    /* Suspended before it can be parked: the view thread may resume it as
     * soon as it is. */
    MHD_suspend_connection(req->connection);
    char *body = NULL;
    size_t body_len = 0;
    int64_t deadline = wait_s ? of_monotonic_ms() + wait_s * 1000 : 0;
    req->waiter.answer = answer_parked;
    view_lookup found = order_view_get(&gw->view, order_id, len, &req->waiter, deadline,
                                       (size_t)gw->cfg->gateway_max_in_flight, &body, &body_len);
    if (found == VIEW_PARKED) return MHD_YES;
    if (found == VIEW_UNKNOWN) {
        gw_problem(&req->resp, MHD_HTTP_NOT_FOUND, "unknown-order", "Not Found",
                   "no order with this id is known here (published through this gateway, or "
                   "processed, within the idempotency retention window)",
                   NULL);
    } else if (!body) {
        gw_problem(&req->resp, 500, "internal", "Internal Server Error", "out of memory", NULL);
    } else {
        req->resp.status = MHD_HTTP_OK;
        req->resp.content_type = CONTENT_TYPE_JSON;
        req->resp.body = body;
        req->resp.len = body_len;
    }
    req->answered = 1;
    MHD_resume_connection(req->connection);
    return MHD_YES;
}
