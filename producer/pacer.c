#include <time.h>

#include "pacer.h"

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void pacer_init(pacer *pace, long long rate)
{
    pace->rate = rate;
    pace->start_ns = monotonic_ns();
    pace->count = 0;
}

void pacer_wait(pacer *pace, publisher *pub)
{
    if (pace->rate <= 0) return;
    /* Due times come from the start, not the previous event, so sleep
     * overshoot does not accumulate into a lower rate. */
    int64_t due = pace->start_ns + (int64_t)(pace->count * 1000000000ULL / (uint64_t)pace->rate);
    pace->count++;
    for (;;) {
        int64_t wait_ns = due - monotonic_ns();
        if (wait_ns <= 0) return;
        if (wait_ns >= 1000000) {
            publisher_poll(pub, (int)(wait_ns / 1000000));
        } else {
            struct timespec ts = {0, (long)wait_ns};
            nanosleep(&ts, NULL);
        }
    }
}
