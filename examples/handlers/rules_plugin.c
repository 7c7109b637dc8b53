/* "rules-plugin": exactly what the built-in handler "rules" does, as a
 * plugin. Its outputs are byte for byte the built-in's; it exists to
 * measure what the plugin path costs (bench/run's handler section) and to
 * check that nothing but the handler changes when one is loaded.
 *
 *   orderflow-consumer process --handler ./rules_plugin.so */
#include <stdio.h>
#include <stdlib.h>

#include <orderflow/handler.h>
#include <orderflow/processing.h>

typedef struct state {
    char reason[OF_REASON_MAX]; /* the rejection reason lives until the next event */
} state;

static int rules_open(const of_handler_config *config, void **st, char *err, size_t errlen)
{
    (void)config;
    *st = calloc(1, sizeof(state));
    if (!*st) snprintf(err, errlen, "out of memory");
    return *st ? 0 : -1;
}

static of_handler_verdict rules_handle(void *st, const of_handler_event *event,
                                       of_handler_output *out)
{
    state *s = st;
    of_processed result;
    of_process_order(&event->event->data.order, &result, s->reason);
    of_handler_write_processed(out, &result);
    return result.status == OF_STATUS_ACCEPTED ? OF_HANDLER_EMIT : OF_HANDLER_REJECT;
}

static void rules_close(void *st)
{
    free(st);
}

static const of_handler descriptor = {
    .abi_version = OF_HANDLER_ABI_VERSION,
    .name = "rules-plugin",
    .version = "1.0.0",
    .open = rules_open,
    .handle = rules_handle,
    .close = rules_close,
};

OF_HANDLER_DEFINE_ENTRY(descriptor)
