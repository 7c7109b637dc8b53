/* SIGINT and SIGTERM, as every executable takes them (docs/architecture.md,
 * "What happens when"): the first asks for a clean stop by setting
 * ofc_stop_signal, which the program's loops read; a second one ends the
 * process at once, by that signal (the shell sees 128+N), for a user who
 * will not wait. */
#ifndef OFC_UTIL_SIGNALS_H
#define OFC_UTIL_SIGNALS_H

#include <signal.h>
#include <stddef.h>

/* 0 until the first SIGINT or SIGTERM, then that signal's number. The only
 * process-wide mutable state of the executables (docs/HACKING.md). */
extern volatile sig_atomic_t ofc_stop_signal;

enum {
    /* Also ignore SIGPIPE: a client that goes away while we write to it costs
     * that connection, not the process (the gateway, the broker). */
    OFC_SIGNALS_IGNORE_SIGPIPE = 1 << 0,
};

/* Installs the handler for SIGINT and SIGTERM (every other signal blocked
 * while it runs) and what flags ask. Returns 0, or -1 with err naming what
 * could not be installed. */
int ofc_stop_signals_install(unsigned flags, char *err, size_t errlen);

#endif
