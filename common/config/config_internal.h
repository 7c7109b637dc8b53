/* Shared by the config sources only; not installed. */
#ifndef OFC_CONFIG_INTERNAL_H
#define OFC_CONFIG_INTERNAL_H

#include <stddef.h>

#include "config/config.h"

/* snprintf into err when there is room for anything at all; callers may pass a
 * NULL or empty buffer when they only care about the return value. */
void ofc_config_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like ofc_config_set_brokers, with the origin to remember ("FILE:LINE",
 * "ORDERFLOW_BROKERS", "-b", ...). */
int ofc_config_set_brokers_from(ofc_config *cfg, const char *brokers, const char *origin, char *err,
                                size_t errlen);

/* The source text rewritten so that libconfig 1.5 can parse it (see
 * config_text.c). On failure returns NULL with *bad_line set (0 when the
 * problem is memory) and why describing it. */
char *ofc_config_text_prepare(const char *text, size_t len, unsigned *bad_line, char *why,
                              size_t whylen);

/* The setting name as the user wrote it (quoted names were encoded by
 * ofc_config_text_prepare), on the heap; NULL on ENOMEM. */
char *ofc_config_text_name(const char *name);

#endif
