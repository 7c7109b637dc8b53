/* A plugin built for a handler ABI this orderflow does not take: the
 * processor must refuse it, naming both versions, and never call it. */
#include <stdlib.h>

#include <orderflow/handler.h>

static of_handler_verdict never_called(void *state, const of_handler_event *event,
                                       of_handler_output *out)
{
    (void)state;
    (void)event;
    (void)out;
    abort();
}

static const of_handler descriptor = {
    .abi_version = OF_HANDLER_ABI_VERSION + 1,
    .name = "from-the-future",
    .version = "9.0.0",
    .handle = never_called,
};

OF_HANDLER_DEFINE_ENTRY(descriptor)
