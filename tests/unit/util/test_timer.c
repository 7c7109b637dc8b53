/* The periodic-work timer (common/util/timer.h), on a clock the test moves. */
#include <stdint.h>

#include "../../check_run.h"
#include "util/timer.h"

START_TEST(a_started_timer_is_due_at_once_then_every_period)
{
    ofc_timer t;
    ofc_timer_start(&t, 5000);
    ck_assert_int_eq(ofc_timer_due(&t, 1000), 1);
    ck_assert_int_eq(ofc_timer_due(&t, 1000), 0); /* ran at 1000 */
    ck_assert_int_eq(ofc_timer_due(&t, 5999), 0);
    ck_assert_int_eq(ofc_timer_due(&t, 6000), 1);
    ck_assert_int_eq(t.next_ms, 11000);
}
END_TEST

START_TEST(a_timer_started_after_waits_one_period)
{
    ofc_timer t;
    ofc_timer_start_after(&t, 10000, 500);
    ck_assert_int_eq(ofc_timer_due(&t, 500), 0);
    ck_assert_int_eq(ofc_timer_due(&t, 10499), 0);
    ck_assert_int_eq(ofc_timer_due(&t, 10500), 1);
    ck_assert_int_eq(ofc_timer_due(&t, 10501), 0);
}
END_TEST

/* A loop that was away for several periods runs the work once, and the next
 * period counts from when it ran (as `now - last >= period; last = now`). */
START_TEST(missed_periods_run_once)
{
    ofc_timer t;
    ofc_timer_start(&t, 100);
    ck_assert_int_eq(ofc_timer_due(&t, 0), 1);
    ck_assert_int_eq(ofc_timer_due(&t, 1050), 1);
    ck_assert_int_eq(ofc_timer_due(&t, 1100), 0);
    ck_assert_int_eq(ofc_timer_due(&t, 1149), 0);
    ck_assert_int_eq(ofc_timer_due(&t, 1150), 1);
}
END_TEST

/* Asked last in a condition, a timer only runs when its work does: the
 * report of an outage that began between two periods is not held back. */
START_TEST(a_timer_not_asked_stays_due)
{
    ofc_timer t;
    ofc_timer_start(&t, 5000);
    int reports = 0;
    for (int64_t now = 0; now <= 20000; now += 1000) {
        int away = now >= 7000 && now <= 13000;
        if (away && ofc_timer_due(&t, now)) reports++;
        if (now == 7000) ck_assert_int_eq(reports, 1);
    }
    ck_assert_int_eq(reports, 2); /* at 7000 and 12000 */
    ck_assert_int_eq(t.next_ms, 17000);
}
END_TEST

/* A period of 0 (the processor's stats_interval_ms in tests) runs every time. */
START_TEST(a_zero_period_is_always_due)
{
    ofc_timer t;
    ofc_timer_start(&t, 0);
    for (int64_t now = 10; now < 15; now++)
        ck_assert_int_eq(ofc_timer_due(&t, now), 1);
    ck_assert_int_eq(ofc_timer_due(&t, 14), 1);
}
END_TEST

/* Negative clocks (a test's origin) and the extremes do not overflow. */
START_TEST(a_started_timer_is_due_at_any_time)
{
    ofc_timer t;
    ofc_timer_start(&t, 1000);
    ck_assert_int_eq(ofc_timer_due(&t, INT64_MIN + 1), 1);
    ck_assert_int_eq(ofc_timer_due(&t, INT64_MIN + 2), 0);
    ofc_timer_start(&t, 1000);
    ck_assert_int_eq(ofc_timer_due(&t, -5), 1);
    ck_assert_int_eq(ofc_timer_due(&t, 994), 0);
    ck_assert_int_eq(ofc_timer_due(&t, 995), 1);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        a_started_timer_is_due_at_once_then_every_period,
        a_timer_started_after_waits_one_period,
        missed_periods_run_once,
        a_timer_not_asked_stays_due,
        a_zero_period_is_always_due,
        a_started_timer_is_due_at_any_time,
        NULL,
    };
    return check_run_tests("util", tests, 10);
}
