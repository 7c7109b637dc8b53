/* Messages of the executables on stderr, each line "PROGRAM: message", with
 * the program name set once at start (kcat's KC_ERROR/KC_INFO do the same)
 * instead of typed in every call. Process-wide state, which is why this
 * lives in common/cli/ and not in lib/. */
#ifndef OFC_CLI_LOG_H
#define OFC_CLI_LOG_H

#include <stdarg.h>
#include <stdio.h>

/* Sets the prefix of every later message, e.g. "orderflow-consumer process".
 * name is not copied: pass a string that lives as long as the program. */
void ofc_log_set_program(const char *name);

/* The name ofc_log_set_program set; "orderflow" before the first call. */
const char *ofc_log_program(void);

/* Writes "PROGRAM: " fmt "\n" to out in one call. */
__attribute__((format(printf, 2, 3))) void ofc_log(FILE *out, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void ofc_vlog(FILE *out, const char *fmt, va_list args);

/* How much a program says besides its results and errors: -q, default, -v.
 * Process-wide, like the program name; librdkafka's own log lines follow it
 * (common/kafka/client.c). */
typedef enum ofc_log_verbosity {
    OFC_LOG_QUIET = -1, /* -q: errors only */
    OFC_LOG_NORMAL = 0,
    OFC_LOG_VERBOSE = 1, /* -v */
} ofc_log_verbosity;
void ofc_log_set_verbosity(ofc_log_verbosity verbosity);
ofc_log_verbosity ofc_log_get_verbosity(void);

/* ofc_log to stderr: errors and warnings. */
__attribute__((format(printf, 1, 2))) void ofc_warn(const char *fmt, ...);

#endif
