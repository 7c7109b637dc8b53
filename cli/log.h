/* Messages of the executables on stderr, each line "PROGRAM: message", with
 * the program name set once at start (kcat's KC_ERROR/KC_INFO do the same)
 * instead of typed in every call. Process-wide state, which is why this
 * lives in cli/ and not in lib/. */
#ifndef OF_CLI_LOG_H
#define OF_CLI_LOG_H

#include <stdarg.h>
#include <stdio.h>

/* Sets the prefix of every later message, e.g. "orderflow-consumer process".
 * name is not copied: pass a string that lives as long as the program. */
void of_log_set_program(const char *name);

/* The name of_log_set_program set; "orderflow" before the first call. */
const char *of_log_program(void);

/* Writes "PROGRAM: " fmt "\n" to out in one call. */
__attribute__((format(printf, 2, 3))) void of_log(FILE *out, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void of_vlog(FILE *out, const char *fmt, va_list args);

/* of_log to stderr: errors and warnings. */
__attribute__((format(printf, 1, 2))) void of_warn(const char *fmt, ...);

#endif
