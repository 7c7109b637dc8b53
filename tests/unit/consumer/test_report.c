/* The processor's per-event lines and counter line (consumer/report.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/log.h"

#include "report.h"

#include "../../check_run.h"

typedef struct capture {
    char *text;
    size_t len;
    FILE *f;
} capture;

static void capture_open(capture *c)
{
    c->text = NULL;
    c->len = 0;
    c->f = open_memstream(&c->text, &c->len);
    ck_assert_ptr_nonnull(c->f);
}

/* Closes the stream; the caller frees c->text. */
static const char *capture_close(capture *c)
{
    fclose(c->f);
    return c->text;
}

static of_processed accepted(int64_t items)
{
    return (of_processed){
        .order_id = of_str_c("A-1"),
        .currency = of_str_c("EUR"),
        .item_count = items,
        .total_cents = 1250,
        .status = OF_STATUS_ACCEPTED,
    };
}

START_TEST(human_lines)
{
    capture c;
    capture_open(&c);
    reporter r;
    ck_assert_int_eq(reporter_init(&r, PROCESSOR_OUTPUT_HUMAN, c.f), 0);
    of_processed one = accepted(1), two = accepted(2);
    of_processed rejected = {.status = OF_STATUS_REJECTED};
    report_event(&r, "accepted", 3, 42, of_str_c("A-1"), &one, NULL);
    report_event(&r, "accepted", 3, 43, of_str_c("A-2"), &two, NULL);
    report_event(&r, "rejected", 0, 7, of_str_c("R-1"), &rejected, "no items");
    report_event(&r, "dead-lettered", 1, 9, (of_str){NULL, 0}, NULL, "not JSON");
    reporter_close(&r);
    const char *text = capture_close(&c);
    ck_assert_str_eq(text, "accepted      p3@42  A-1  12.50 EUR, 1 item\n"
                           "accepted      p3@43  A-2  12.50 EUR, 2 items\n"
                           "rejected      p0@7  R-1  (no items)\n"
                           "dead-lettered p1@9    (not JSON)\n");
    free(c.text);
}
END_TEST

START_TEST(json_lines)
{
    capture c;
    capture_open(&c);
    reporter r;
    ck_assert_int_eq(reporter_init(&r, PROCESSOR_OUTPUT_JSON, c.f), 0);
    of_processed one = accepted(1);
    report_event(&r, "accepted", 3, 42, of_str_c("A-1"), &one, NULL);
    report_event(&r, "duplicate", 1, 9, (of_str){NULL, 0}, NULL, "already dead-lettered");
    reporter_close(&r);
    const char *text = capture_close(&c);
    ck_assert_str_eq(text, "{\"outcome\":\"accepted\",\"partition\":3,\"offset\":42,"
                           "\"order_id\":\"A-1\",\"total_cents\":1250}\n"
                           "{\"outcome\":\"duplicate\",\"partition\":1,\"offset\":9,"
                           "\"reason\":\"already dead-lettered\"}\n");
    free(c.text);
}
END_TEST

START_TEST(quiet_writes_nothing)
{
    capture c;
    capture_open(&c);
    reporter r;
    ck_assert_int_eq(reporter_init(&r, PROCESSOR_OUTPUT_NONE, c.f), 0);
    of_processed one = accepted(1);
    report_event(&r, "accepted", 3, 42, of_str_c("A-1"), &one, NULL);
    reporter_close(&r);
    ck_assert_str_eq(capture_close(&c), "");
    free(c.text);
}
END_TEST

START_TEST(counter_line)
{
    capture c;
    capture_open(&c);
    of_log_set_program("orderflow-consumer process");
    processor_counters counters = {.consumed = 10,
                                   .accepted = 6,
                                   .rejected = 2,
                                   .duplicates = 1,
                                   .dead_lettered = 1,
                                   .delivered = 8};
    report_counters(c.f, &counters, 3);
    ck_assert_str_eq(capture_close(&c),
                     "orderflow-consumer process: consumed 10, accepted 6, rejected 2, "
                     "duplicates 1, dead-lettered 1, delivered 8, in flight 3\n");
    free(c.text);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {human_lines, json_lines, quiet_writes_nothing, counter_line,
                                  NULL};
    return check_run_tests("report", tests, 30);
}
