/* The https:// settings' files, checked at open (docs/handlers.md, "The
 * HTTP handler", settings): a file that cannot be read, a key whose password
 * is wrong or a certificate that does not match its key stop the processor
 * before it joins its group, instead of failing every call later. */
#ifndef OF_CONSUMER_HTTP_TLS_FILES_H
#define OF_CONSUMER_HTTP_TLS_FILES_H

#include <stddef.h>

#include "settings.h"

/* Returns 0, or -1 with one sentence in err naming the setting and the
 * file (never the password). */
int http_tls_files_check(const http_settings *s, char *err, size_t errlen);

#endif
