/* The built-in handler "rules": of_process_order behind the handler
 * interface. Its output goes through of_handler_write_processed, which
 * writes the bytes of_encode_event wrote for the same result, so the
 * processor's outputs are the same as before handlers existed. */
#include <stdio.h>
#include <stdlib.h>

#include <orderflow/handler.h>
#include <orderflow/processing.h>
#include <orderflow/version.h>

/* The reason buffer outlives handle (the output keeps a view of it until
 * the next event), so it lives in the state. */
typedef struct rules_state {
    char reason[OF_REASON_MAX];
} rules_state;

static int rules_open(const of_handler_config *config, void **state, char *err, size_t errlen)
{
    (void)config;
    *state = calloc(1, sizeof(rules_state));
    if (!*state) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void rules_close(void *state)
{
    free(state);
}

static of_handler_verdict rules_handle(void *state, const of_handler_event *event,
                                       of_handler_output *out)
{
    rules_state *st = state;
    of_processed result;
    of_process_order(&event->event->data.order, &result, st->reason);
    of_handler_write_processed(out, &result);
    return result.status == OF_STATUS_ACCEPTED ? OF_HANDLER_EMIT : OF_HANDLER_REJECT;
}

static const of_handler rules = {
    .abi_version = OF_HANDLER_ABI_VERSION,
    .name = "rules",
    .version = OF_VERSION_STR,
    .open = rules_open,
    .handle = rules_handle,
    .close = rules_close,
};

const of_handler *of_handler_rules(void)
{
    return &rules;
}
