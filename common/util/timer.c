#include "util/timer.h"

void ofc_timer_start(ofc_timer *t, int64_t period_ms)
{
    t->period_ms = period_ms;
    t->next_ms = INT64_MIN;
}

void ofc_timer_start_after(ofc_timer *t, int64_t period_ms, int64_t now_ms)
{
    t->period_ms = period_ms;
    t->next_ms = now_ms + period_ms;
}

int ofc_timer_due(ofc_timer *t, int64_t now_ms)
{
    if (now_ms < t->next_ms) return 0;
    t->next_ms = now_ms + t->period_ms;
    return 1;
}
