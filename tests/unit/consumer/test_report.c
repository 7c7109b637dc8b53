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

/* One report_event call. */
typedef struct event {
    const char *outcome;
    int32_t partition;
    int64_t offset;
    const char *order_id; /* NULL: not known */
    const of_processed *result;
    const char *reason;
} event;

/* What a reporter for output writes for events, as one string to free(). */
static char *report_text(processor_output output, const event *events, size_t count)
{
    capture c;
    capture_open(&c);
    reporter r;
    ck_assert_int_eq(reporter_init(&r, output, c.f), 0);
    for (size_t i = 0; i < count; i++) {
        const event *e = &events[i];
        report_event(&r, e->outcome, e->partition, e->offset,
                     e->order_id ? of_str_c(e->order_id) : (of_str){NULL, 0}, e->result, e->reason);
    }
    reporter_close(&r);
    capture_close(&c);
    return c.text;
}

START_TEST(human_lines)
{
    of_processed one = accepted(1), two = accepted(2);
    of_processed rejected = {.status = OF_STATUS_REJECTED};
    const event events[] = {
        {"accepted", 3, 42, "A-1", &one, NULL},
        {"accepted", 3, 43, "A-2", &two, NULL},
        {"rejected", 0, 7, "R-1", &rejected, "no items"},
        {"dead-lettered", 1, 9, NULL, NULL, "not JSON"},
    };
    char *text = report_text(PROCESSOR_OUTPUT_HUMAN, events, 4);
    ck_assert_str_eq(text, "accepted      p3@42  A-1  12.50 EUR, 1 item\n"
                           "accepted      p3@43  A-2  12.50 EUR, 2 items\n"
                           "rejected      p0@7  R-1  (no items)\n"
                           "dead-lettered p1@9    (not JSON)\n");
    free(text);
}
END_TEST

START_TEST(json_lines)
{
    of_processed one = accepted(1);
    const event events[] = {
        {"accepted", 3, 42, "A-1", &one, NULL},
        {"duplicate", 1, 9, NULL, NULL, "already dead-lettered"},
    };
    char *text = report_text(PROCESSOR_OUTPUT_JSON, events, 2);
    ck_assert_str_eq(text, "{\"outcome\":\"accepted\",\"partition\":3,\"offset\":42,"
                           "\"order_id\":\"A-1\",\"total_cents\":1250}\n"
                           "{\"outcome\":\"duplicate\",\"partition\":1,\"offset\":9,"
                           "\"reason\":\"already dead-lettered\"}\n");
    free(text);
}
END_TEST

START_TEST(quiet_writes_nothing)
{
    of_processed one = accepted(1);
    const event events[] = {{"accepted", 3, 42, "A-1", &one, NULL}};
    char *text = report_text(PROCESSOR_OUTPUT_NONE, events, 1);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

START_TEST(counter_line)
{
    capture c;
    capture_open(&c);
    ofc_log_set_program("orderflow-consumer process");
    processor_counters counters = {.consumed = 10,
                                   .accepted = 6,
                                   .rejected = 2,
                                   .duplicates = 1,
                                   .dead_lettered = 1,
                                   .trace_invalid = 4,
                                   .delivered = 8};
    report_counters(c.f, &counters, 3);
    ck_assert_str_eq(capture_close(&c),
                     "orderflow-consumer process: consumed 10, accepted 6, rejected 2, "
                     "duplicates 1, dead-lettered 1, trace invalid 4, delivered 8, in flight 3\n");
    free(c.text);

    capture_open(&c);
    counters.retried = 2;
    report_counters(c.f, &counters, 0);
    ck_assert_str_eq(capture_close(&c),
                     "orderflow-consumer process: consumed 10, accepted 6, rejected 2, "
                     "duplicates 1, dead-lettered 1, trace invalid 4, delivered 8, in flight 0\n"
                     "orderflow-consumer process: handler answered retry 2 times\n");
    free(c.text);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {human_lines, json_lines, quiet_writes_nothing, counter_line,
                                  NULL};
    return check_run_tests("report", tests, 30);
}
