/* The processor's handler (docs/handlers.md): the built-in "rules" or a
 * plugin loaded from a shared object, opened with the handler group's
 * settings. Loading happens before the processor joins its group, so a
 * handler that cannot run stops the start-up (exit 78) instead of taking
 * partitions it cannot process. */
#ifndef OF_CONSUMER_HANDLER_LOAD_H
#define OF_CONSUMER_HANDLER_LOAD_H

#include <stddef.h>

#include <orderflow/handler.h>

#include "config/config.h"

#include "async_handler.h"

typedef struct loaded_handler {
    /* The descriptor (name, version, functions) of a synchronous handler;
     * NULL when async is set. */
    const of_handler *handler;
    /* An asynchronous handler (http://, https://: async_handler.h) and what
     * its open gave; NULL for a synchronous one. */
    const async_handler_ops *async;
    void *async_state;
    const char *target; /* the async handler's --handler, e.g. "http://127.0.0.1:8081/orders" */
    void *state;        /* what its open gave */
    void *library;      /* dlopen handle; NULL for the built-in */
    int opened;
    /* The settings handed to open, alive until handler_unload. */
    const char **keys;
    const char **values;
    of_handler_config config;
} loaded_handler;

/* Loads the handler spec names ("rules", or a path to a shared object:
 * anything with a '/'), checks its ABI version and descriptor, and opens it
 * with cfg's handler settings. Returns 0, or EX_CONFIG with one line in err
 * naming the file and the reason:
 *   handler ./x.so: cannot load: <dlerror>
 *   handler ./x.so: no entry symbol of_handler_entry: <dlerror>
 *   handler ./x.so: built for handler ABI version 2; this orderflow-consumer takes version 1 ...
 *   handler ./x.so (name 1.0): open failed: <the handler's reason>
 * or EX_OSERR when out of memory. */
int handler_load(loaded_handler *h, const char *spec, const ofc_config *cfg, char *err,
                 size_t errlen);

/* An asynchronous handler (h->async, chosen by handler_load) is opened
 * here, once the metrics registry exists (metrics: NULL when off), still
 * before the group is joined. Returns 0 (also for a synchronous handler:
 * nothing to do), or EX_CONFIG with "handler TARGET (NAME VERSION): open
 * failed: REASON" in err. */
int handler_open_async(loaded_handler *h, const ofc_config *cfg, ofc_metrics *metrics, int verbose,
                       char *err, size_t errlen);

/* The handler's name and version, whichever kind it is. */
const char *handler_name(const loaded_handler *h);
const char *handler_version(const loaded_handler *h);

/* Closes the handler (once) and unloads its shared object. */
void handler_unload(loaded_handler *h);

#endif
