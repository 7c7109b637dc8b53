/* Periodic work run from an event loop: "every period_ms, when the loop
 * comes by", as redis's run_with_period() in serverCron. A timer does not
 * fire by itself; the loop asks ofc_timer_due() with the time it read
 * (of_monotonic_ms(), or the broker's own monotonic clock), and a due timer
 * counts as run at that time, so a loop that was away for several periods
 * runs the work once, not once per missed period. */
#ifndef OFC_UTIL_TIMER_H
#define OFC_UTIL_TIMER_H

#include <stdint.h>

typedef struct ofc_timer {
    int64_t period_ms;
    int64_t next_ms; /* due at and after this time */
} ofc_timer;

/* Due at the first ofc_timer_due(), then period_ms after each run. */
void ofc_timer_start(ofc_timer *t, int64_t period_ms);

/* Due first at now_ms + period_ms, then period_ms after each run. */
void ofc_timer_start_after(ofc_timer *t, int64_t period_ms, int64_t now_ms);

/* 1 when the timer is due at now_ms, after which it counts as run at now_ms
 * (due again at now_ms + period_ms); 0 when not, which changes nothing. Ask
 * last in a condition (`away && ofc_timer_due(...)`) so that a timer only
 * runs when its work does. */
int ofc_timer_due(ofc_timer *t, int64_t now_ms);

#endif
