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

typedef struct loaded_handler {
    const of_handler *handler; /* the descriptor: name, version, functions */
    void *state;               /* what its open gave */
    void *library;             /* dlopen handle; NULL for the built-in */
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

/* Closes the handler (once) and unloads its shared object. */
void handler_unload(loaded_handler *h);

#endif
