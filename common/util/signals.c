#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/signals.h"

volatile sig_atomic_t ofc_stop_signal;

static void on_stop_signal(int sig)
{
    if (ofc_stop_signal) {
        /* The second signal: the user does not want to wait for a clean
         * stop, so die of the signal. */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    ofc_stop_signal = sig;
}

int ofc_stop_signals_install(unsigned flags, char *err, size_t errlen)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigfillset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
        snprintf(err, errlen, "cannot install signal handlers: %s", strerror(errno));
        return -1;
    }
    if (flags & OFC_SIGNALS_IGNORE_SIGPIPE) {
        sa.sa_handler = SIG_IGN;
        if (sigaction(SIGPIPE, &sa, NULL) != 0) {
            snprintf(err, errlen, "cannot ignore SIGPIPE: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}
