/* "verdicts": a handler for tests/e2e/handler_verdicts_e2e.sh whose verdict
 * is chosen by the order id's prefix, so one stream exercises every verdict:
 *   D-...   dead-letter ("test: suspicious")
 *   J-...   reject ("test: refused"), with the rules' figures
 *   R<n>-...  retry attempts 1..n (delay 50 ms), then emit
 *   X-...   retry every attempt (handler.max_attempts then applies)
 *   B-...   output that is not a data object (a fault: dead-lettered)
 *   else    emit, with the rules' figures (the rules' reject stays a reject) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/handler.h>
#include <orderflow/processing.h>

typedef struct state {
    char reason[OF_REASON_MAX];
} state;

static int verdicts_open(const of_handler_config *config, void **st, char *err, size_t errlen)
{
    (void)config;
    *st = calloc(1, sizeof(state));
    if (!*st) snprintf(err, errlen, "out of memory");
    return *st ? 0 : -1;
}

static of_handler_verdict verdicts_handle(void *st, const of_handler_event *event,
                                          of_handler_output *out)
{
    state *s = st;
    of_str id = event->event->data.order.order_id;
    char first = id.len ? id.ptr[0] : '\0';
    if (first == 'D') {
        of_handler_set_reason(out, "test: suspicious");
        return OF_HANDLER_DEAD_LETTER;
    }
    if (first == 'B') {
        of_handler_set_data_json(out, "[1,2]", 5);
        return OF_HANDLER_EMIT;
    }
    if (first == 'X' || (first == 'R' && event->attempt <= (unsigned)(id.ptr[1] - '0'))) {
        char reason[64];
        snprintf(reason, sizeof(reason), "test: unavailable at attempt %u", event->attempt);
        of_handler_set_reason(out, reason);
        of_handler_set_retry_delay(out, 50);
        return OF_HANDLER_RETRY;
    }
    of_processed result;
    of_process_order(&event->event->data.order, &result, s->reason);
    if (first == 'J' && result.status == OF_STATUS_ACCEPTED) {
        result.status = OF_STATUS_REJECTED;
        result.reason = of_str_c("test: refused");
    }
    of_handler_write_processed(out, &result);
    return result.status == OF_STATUS_ACCEPTED ? OF_HANDLER_EMIT : OF_HANDLER_REJECT;
}

static void verdicts_close(void *st)
{
    free(st);
}

static const of_handler descriptor = {
    .abi_version = OF_HANDLER_ABI_VERSION,
    .name = "verdicts",
    .version = "1.0.0",
    .open = verdicts_open,
    .handle = verdicts_handle,
    .close = verdicts_close,
};

OF_HANDLER_DEFINE_ENTRY(descriptor)
