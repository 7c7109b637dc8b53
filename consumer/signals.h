/* SIGINT/SIGTERM: the first asks for a graceful stop, the second exits at once. */
#ifndef OF_CONSUMER_SIGNALS_H
#define OF_CONSUMER_SIGNALS_H

#include <signal.h>

extern volatile sig_atomic_t stop_requested;

void install_stop_handlers(void);

#endif
