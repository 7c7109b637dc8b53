/* The processor's per-partition completion ring: the committable offset never
 * passes an input whose output is not delivered, also when a delivery report
 * of a previous assignment of the partition arrives late. */
#include <check.h>
#include <stdlib.h>

#include "partition_state.h"
#include "stage_metrics.h"

#include "../../check_run.h"

START_TEST(commits_only_a_finished_prefix)
{
    partition_state *ps = partition_state_new(3, 100, 8, 1000);
    ck_assert_ptr_nonnull(ps);
    uint64_t a = partition_state_push(ps, 10, 0);
    uint64_t b = partition_state_push(ps, 11, 0);
    partition_state_push(ps, 12, 1); /* needed no output */
    ck_assert_uint_eq(a, 1000);
    ck_assert_int_eq(ps->committable, -1);
    partition_state_complete(ps, b);
    ck_assert_int_eq(ps->committable, -1); /* 10 still in flight */
    partition_state_complete(ps, a);
    ck_assert_int_eq(ps->committable, 13);
    ck_assert_uint_eq(partition_state_pending(ps), 0);
    partition_state_free(ps);
}
END_TEST

START_TEST(late_report_of_a_previous_assignment_is_ignored)
{
    /* First assignment: offset 50 produced, its report still in flight when
     * the partition is revoked. */
    partition_state *old = partition_state_new(0, 100, 8, 1ull << 40);
    uint64_t stale = partition_state_push(old, 50, 0);
    partition_state_free(old);
    /* Second assignment, from offset 50 again. */
    partition_state *ps = partition_state_new(0, 100, 8, 2ull << 40);
    partition_state_push(ps, 50, 0);
    partition_state_push(ps, 51, 0);
    partition_state_complete(ps, stale); /* the late report */
    ck_assert_int_eq(ps->committable, -1);
    ck_assert_uint_eq(partition_state_pending(ps), 2);
    partition_state_free(ps);
}
END_TEST

START_TEST(ring_fills_and_wraps)
{
    partition_state *ps = partition_state_new(1, 100, 4, 5ull << 40);
    uint64_t seq[4];
    for (int i = 0; i < 4; i++)
        seq[i] = partition_state_push(ps, 100 + i, 0);
    ck_assert_int_eq(partition_state_has_room(ps), 0);
    for (int i = 0; i < 4; i++)
        partition_state_complete(ps, seq[i]);
    ck_assert_int_eq(ps->committable, 104);
    ck_assert_int_eq(partition_state_has_room(ps), 1);
    uint64_t next = partition_state_push(ps, 104, 0);
    partition_state_complete(ps, next);
    ck_assert_int_eq(ps->committable, 105);
    partition_state_free(ps);
}
END_TEST

/* Metrics on: each entry keeps its input's event time until it is finished,
 * a pushed entry starts without one, and a stale sequence has none. */
START_TEST(event_times_follow_the_ring)
{
    partition_state *ps = partition_state_new(0, 10, 4, 100);
    ck_assert_int_eq(partition_state_time(ps, 100), -1); /* not kept yet */
    ck_assert_int_eq(partition_state_track_times(ps), 0);
    uint64_t a = partition_state_push(ps, 7, 0);
    ck_assert_int_eq(partition_state_time(ps, a), -1);
    partition_state_set_time(ps, a, 1700000000123);
    uint64_t b = partition_state_push(ps, 8, 0);
    ck_assert_int_eq(partition_state_time(ps, a), 1700000000123);
    ck_assert_int_eq(partition_state_time(ps, b), -1);
    partition_state_complete(ps, a);
    ck_assert_int_eq(partition_state_time(ps, a), -1); /* finished: left the ring */
    ck_assert_int_eq(partition_state_time(ps, 99), -1);
    partition_state_free(ps);
}
END_TEST

START_TEST(event_time_of_rfc3339)
{
    ck_assert_int_eq(stage_event_time_ms(of_str_c("2026-11-24T12:00:00.123Z")), 1795521600123);
    ck_assert_int_eq(stage_event_time_ms(of_str_c("2026-11-24T12:00:00Z")), 1795521600000);
    ck_assert_int_eq(stage_event_time_ms(of_str_c("2026-11-24T13:30:00.5+01:30")), 1795521600500);
    ck_assert_int_eq(stage_event_time_ms(of_str_c("2026-11-24T10:00:00.123456-02:00")),
                     1795521600123);
    ck_assert_int_eq(stage_event_time_ms(of_str_c("yesterday")), -1);
    ck_assert_int_eq(stage_event_time_ms(of_str_c("2026-11-24T12:00:00.123")), -1); /* no zone */
    ck_assert_int_eq(stage_event_time_ms(of_str_c("2026-13-24T12:00:00Z")), -1);
    ck_assert_int_eq(stage_event_time_ms(of_str_c("1969-12-31T23:59:59Z")), -1000);
    ck_assert_int_eq(stage_event_time_ms((of_str){NULL, 0}), -1);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        commits_only_a_finished_prefix, late_report_of_a_previous_assignment_is_ignored,
        ring_fills_and_wraps,           event_times_follow_the_ring,
        event_time_of_rfc3339,          NULL,
    };
    return check_run_tests("partition_state", tests, 30);
}
