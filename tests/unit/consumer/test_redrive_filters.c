/* redrive's filters (consumer/redrive_filters.c): --since/--until times,
 * the --offset range and the per-reason summary, with the exact sentences a
 * user sees for a bad value. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "redrive_filters.h"

#include "../../check_run.h"

/* 2026-11-30T02:00:00Z */
#define T0_MS INT64_C(1796004000000)
#define NOW_MS INT64_C(1800000000000)

static int64_t time_ok(const char *text)
{
    char err[256] = "";
    int64_t ms = -42;
    ck_assert_msg(redrive_parse_time("--since", text, NOW_MS, &ms, err, sizeof(err)) == 0,
                  "'%s' refused: %s", text, err);
    ck_assert_str_eq(err, "");
    return ms;
}

static void time_refused(const char *option, const char *text)
{
    char err[256] = "", want[256];
    int64_t ms = -42;
    ck_assert_msg(redrive_parse_time(option, text, NOW_MS, &ms, err, sizeof(err)) == -1,
                  "'%s' taken as %lld", text, (long long)ms);
    ck_assert_int_eq(ms, -42);
    snprintf(want, sizeof(want),
             "%s: expected RFC 3339 (2026-11-30T02:00:00Z) or a relative time (-90s, -30m, -2h, "
             "-7d), got '%s'",
             option, text);
    ck_assert_str_eq(err, want);
}

START_TEST(rfc3339_times)
{
    ck_assert_int_eq(time_ok("2026-11-30T02:00:00Z"), T0_MS);
    ck_assert_int_eq(time_ok("2026-11-30t02:00:00z"), T0_MS);
    ck_assert_int_eq(time_ok("2026-11-30 02:00:00Z"), T0_MS);
    ck_assert_int_eq(time_ok("2026-11-30T02:00:00.250+01:00"), T0_MS - 3600000 + 250);
    ck_assert_int_eq(time_ok("2026-11-30T02:00:00.123-05:30"), T0_MS + 19800000 + 123);
    ck_assert_int_eq(time_ok("2026-11-30T02:00:00.5Z"), T0_MS + 500);
    /* Digits beyond milliseconds are dropped, not rounded. */
    ck_assert_int_eq(time_ok("2026-11-30T02:00:00.123999Z"), T0_MS + 123);
    ck_assert_int_eq(time_ok("1970-01-01T00:00:00Z"), 0);
}
END_TEST

START_TEST(relative_times)
{
    ck_assert_int_eq(time_ok("-90s"), NOW_MS - 90000);
    ck_assert_int_eq(time_ok("-30m"), NOW_MS - 30 * 60000);
    ck_assert_int_eq(time_ok("-2h"), NOW_MS - 2 * 3600000);
    ck_assert_int_eq(time_ok("-7d"), NOW_MS - INT64_C(7) * 86400000);
    ck_assert_int_eq(time_ok("-0s"), NOW_MS);
}
END_TEST

START_TEST(bad_times)
{
    time_refused("--since", "");
    time_refused("--since", "yesterday");
    time_refused("--since", "-");
    time_refused("--since", "-5");
    time_refused("--since", "-5w");
    time_refused("--since", "-5ss");
    time_refused("--since", "--5s");
    time_refused("--since", "-s");
    time_refused("--until", "-99999999999999999999d");
    time_refused("--until", "-9223372036854775807d");
    time_refused("--until", "2026-11-30T02:00:00");
    time_refused("--until", "2026-11-30T02:00:00Zjunk");
    time_refused("--until", "2026-11-30T02:00:00.Z");
    time_refused("--until", "2026-11-30T02:00:00+1:00");
    time_refused("--until", "2026-11-30T02:00:00+24:00");
    time_refused("--until", "2026-11-30T02:00:00+01:60");
    time_refused("--until", "2026-13-01T00:00:00Z");
    time_refused("--until", "2026-00-01T00:00:00Z");
    time_refused("--until", "2026-11-32T00:00:00Z");
    time_refused("--until", "2026-11-30T24:00:00Z");
    time_refused("--until", "2026-11-30X02:00:00Z");
    time_refused("--until", "26-11-30T02:00:00Z");
}
END_TEST

static void range_ok(const char *text, long long from, long long to)
{
    char err[256] = "";
    long long got_from = -42, got_to = -42;
    ck_assert_msg(redrive_parse_offset_range(text, &got_from, &got_to, err, sizeof(err)) == 0,
                  "'%s' refused: %s", text, err);
    ck_assert_int_eq(got_from, from);
    ck_assert_int_eq(got_to, to);
}

static void range_refused(const char *text)
{
    char err[256] = "", want[256];
    long long from = -42, to = -42;
    ck_assert_msg(redrive_parse_offset_range(text, &from, &to, err, sizeof(err)) == -1,
                  "'%s' taken as %lld..%lld", text, from, to);
    ck_assert_int_eq(from, -42);
    ck_assert_int_eq(to, -42);
    snprintf(want, sizeof(want), "--offset: expected FROM or FROM..TO (0 <= FROM <= TO), got '%s'",
             text);
    ck_assert_str_eq(err, want);
}

START_TEST(offset_ranges)
{
    range_ok("0", 0, -1);
    range_ok("17", 17, -1);
    range_ok("5..9", 5, 9);
    range_ok("7..7", 7, 7);
    range_ok("0..9223372036854775807", 0, INT64_MAX);
}
END_TEST

START_TEST(bad_offset_ranges)
{
    range_refused("");
    range_refused("x");
    range_refused("-1");
    range_refused("9..5");
    range_refused("5..");
    range_refused("5..x");
    range_refused("5..9x");
    range_refused("5-9");
    range_refused("5...9");
    range_refused("..9");
    range_refused("99999999999999999999");
    range_refused("5..99999999999999999999");
}
END_TEST

static void add(redrive_reasons *reasons, const char *reason)
{
    redrive_reasons_add(reasons, reason, strlen(reason));
}

START_TEST(reasons_fold_digits_and_newlines)
{
    redrive_reasons reasons = {0};
    add(&reasons, "more than 2 items");
    add(&reasons, "more than 1000 items");
    add(&reasons, "invalid JSON at byte 17\nnear '}'");
    add(&reasons, "invalid JSON at byte 4\nnear '}'");
    add(&reasons, "a1b22c333");
    add(&reasons, "");
    /* Only len bytes count: the rest of the buffer is not part of the reason. */
    redrive_reasons_add(&reasons, "more than 7 items, and more", 17);
    ck_assert_uint_eq(reasons.kind_count, 4);
    ck_assert_str_eq(reasons.kinds[0].text, "more than N items");
    ck_assert_uint_eq(reasons.kinds[0].count, 3);
    ck_assert_str_eq(reasons.kinds[1].text, "invalid JSON at byte N near '}'");
    ck_assert_uint_eq(reasons.kinds[1].count, 2);
    ck_assert_str_eq(reasons.kinds[2].text, "aNbNcN");
    ck_assert_uint_eq(reasons.kinds[2].count, 1);
    ck_assert_str_eq(reasons.kinds[3].text, "");
    ck_assert_uint_eq(reasons.kinds[3].count, 1);
    ck_assert_uint_eq(reasons.others, 0);
}
END_TEST

START_TEST(reasons_beyond_the_kinds_are_others)
{
    redrive_reasons reasons = {0};
    char reason[32];
    for (int i = 0; i < REDRIVE_REASON_KINDS + 3; i++) {
        snprintf(reason, sizeof(reason), "reason %c%c", 'a' + i / 26, 'a' + i % 26);
        add(&reasons, reason);
    }
    add(&reasons, "reason aa");
    ck_assert_uint_eq(reasons.kind_count, REDRIVE_REASON_KINDS);
    ck_assert_str_eq(reasons.kinds[0].text, "reason aa");
    ck_assert_uint_eq(reasons.kinds[0].count, 2);
    ck_assert_str_eq(reasons.kinds[REDRIVE_REASON_KINDS - 1].text, "reason bf");
    ck_assert_uint_eq(reasons.others, 3);
}
END_TEST

START_TEST(long_reasons_are_cut)
{
    redrive_reasons reasons = {0};
    char reason[300];
    memset(reason, 'x', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    add(&reasons, reason);
    reason[200] = 'y'; /* past the cut: the same kind */
    add(&reasons, reason);
    ck_assert_uint_eq(reasons.kind_count, 1);
    ck_assert_uint_eq(strlen(reasons.kinds[0].text), REDRIVE_REASON_TEXT - 1);
    ck_assert_uint_eq(reasons.kinds[0].count, 2);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {rfc3339_times,
                                  relative_times,
                                  bad_times,
                                  offset_ranges,
                                  bad_offset_ranges,
                                  reasons_fold_digits_and_newlines,
                                  reasons_beyond_the_kinds_are_others,
                                  long_reasons_are_cut,
                                  NULL};
    return check_run_tests("redrive_filters", tests, 30);
}
