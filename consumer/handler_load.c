/* Loading a handler (handler_load.h). The descriptor is read field by
 * field only after its abi_version matched: a plugin built for another
 * ABI is refused, never called (docs/handlers.md, "ABI versioning"). */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "handler_load.h"

static int refuse(loaded_handler *h, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(loaded_handler *h, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    handler_unload(h);
    return EX_CONFIG;
}

static int settings(loaded_handler *h, const ofc_config *cfg)
{
    size_t n = cfg->handler_setting_count;
    h->keys = calloc(n + 1, sizeof(*h->keys));
    h->values = calloc(n + 1, sizeof(*h->values));
    if (!h->keys || !h->values) return -1;
    for (size_t i = 0; i < n; i++) {
        h->keys[i] = cfg->handler_settings[i].key;
        h->values[i] = cfg->handler_settings[i].value;
    }
    h->config = (of_handler_config){h->keys, h->values, n};
    return 0;
}

int handler_load(loaded_handler *h, const char *spec, const ofc_config *cfg, char *err,
                 size_t errlen)
{
    memset(h, 0, sizeof(*h));
    if (!spec || !*spec) spec = "rules";
    if (strncmp(spec, "http://", 7) == 0 || strncmp(spec, "https://", 8) == 0) {
        /* Opened by handler_open_async once the metrics registry exists. */
        h->async = &async_handler_http;
        h->target = spec;
        if (settings(h, cfg) != 0) {
            snprintf(err, errlen, "handler %s: out of memory", spec);
            handler_unload(h);
            return EX_OSERR;
        }
        return 0;
    }
    if (strcmp(spec, "rules") == 0) {
        h->handler = of_handler_rules();
    } else if (!strchr(spec, '/')) {
        return refuse(h, err, errlen,
                      "handler '%s': not a built-in handler (rules) nor a path to a shared "
                      "object (write ./%s for a file in this directory)",
                      spec, spec);
    } else {
        /* RTLD_NOW: an undefined symbol fails here, not at the first event. */
        h->library = dlopen(spec, RTLD_NOW | RTLD_LOCAL);
        if (!h->library)
            return refuse(h, err, errlen, "handler %s: cannot load: %s", spec, dlerror());
        dlerror();
        void *entry = dlsym(h->library, OF_HANDLER_ENTRY_SYMBOL);
        const char *why = dlerror();
        if (!entry || why)
            return refuse(h, err, errlen, "handler %s: no entry symbol %s: %s", spec,
                          OF_HANDLER_ENTRY_SYMBOL, why ? why : "it is NULL");
        of_handler_entry_fn *fn;
        /* POSIX: a data pointer from dlsym converts to a function pointer. */
        memcpy(&fn, &entry, sizeof(fn));
        h->handler = fn();
        if (!h->handler)
            return refuse(h, err, errlen, "handler %s: %s returned NULL", spec,
                          OF_HANDLER_ENTRY_SYMBOL);
    }
    const of_handler *d = h->handler;
    if (d->abi_version != OF_HANDLER_ABI_VERSION)
        return refuse(
            h, err, errlen,
            "handler %s: built for handler ABI version %u; this orderflow-consumer "
            "takes version %u (rebuild it against this orderflow's <orderflow/handler.h>)",
            spec, (unsigned)d->abi_version, OF_HANDLER_ABI_VERSION);
    if (!d->name || !*d->name || !d->version || !d->handle)
        return refuse(h, err, errlen, "handler %s: its descriptor lacks %s", spec,
                      !d->name || !*d->name ? "a name"
                      : !d->version         ? "a version"
                                            : "a handle function");
    for (const char *c = d->name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.' || *c == '-'))
            return refuse(h, err, errlen,
                          "handler %s: name '%.40s' has characters other than A-Z a-z 0-9 _ . -",
                          spec, d->name);
    if (settings(h, cfg) != 0) {
        snprintf(err, errlen, "handler %s: out of memory", spec);
        handler_unload(h);
        return EX_OSERR;
    }
    if (d->open) {
        char why[512] = "";
        if (d->open(&h->config, &h->state, why, sizeof(why)) != 0)
            return refuse(h, err, errlen, "handler %s (%s %s): open failed: %s", spec, d->name,
                          d->version, why[0] ? why : "no reason given");
    }
    h->opened = 1;
    return 0;
}

int handler_open_async(loaded_handler *h, const ofc_config *cfg, ofc_metrics *metrics, int verbose,
                       char *err, size_t errlen)
{
    if (!h->async || h->async_state) return 0;
    const async_handler_env env = {
        .target = h->target,
        .config = &h->config,
        .max_attempts = (unsigned)cfg->handler_max_attempts,
        .max_output_bytes = cfg->handler_max_output_bytes,
        .metrics = metrics,
        .verbose = verbose,
    };
    char why[512] = "";
    h->async_state = h->async->open(&env, why, sizeof(why));
    if (!h->async_state) {
        snprintf(err, errlen, "handler %s (%s %s): open failed: %s", h->target, h->async->name,
                 h->async->version, why[0] ? why : "no reason given");
        return EX_CONFIG;
    }
    return 0;
}

const char *handler_name(const loaded_handler *h)
{
    return h->async ? h->async->name : h->handler ? h->handler->name : "rules";
}

const char *handler_version(const loaded_handler *h)
{
    return h->async ? h->async->version : h->handler ? h->handler->version : "";
}

void handler_unload(loaded_handler *h)
{
    if (h->async && h->async_state) h->async->close(h->async_state);
    h->async = NULL;
    h->async_state = NULL;
    if (h->opened && h->handler && h->handler->close) h->handler->close(h->state);
    h->opened = 0;
    h->state = NULL;
    h->handler = NULL;
    if (h->library) dlclose(h->library);
    h->library = NULL;
    free(h->keys);
    free(h->values);
    h->keys = NULL;
    h->values = NULL;
}
