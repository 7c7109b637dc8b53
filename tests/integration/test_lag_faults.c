/* orderflow-consumer lag against a mock cluster whose group coordinator is
 * busy: right after a broker starts it answers OffsetFetch with
 * COORDINATOR_LOAD_IN_PROGRESS (or NOT_COORDINATOR) while __consumer_offsets
 * loads. lag waits for it within producer.timeout_ms; a coordinator that never
 * gets ready is 69 and a refusal is reported as it is. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "../check_run.h"
#include "harness.h"

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs lag -G no-such-group (with config file config_path, or none); returns
 * its exit status, *out and *err its output (malloc'd), *took_ms its time. */
static int run_lag(const char *bootstraps, const char *config_path, char **out, char **err,
                   long long *took_ms)
{
    child c;
    char *argv[] = {(char *)consumer_path(),
                    "lag",
                    "-b",
                    (char *)bootstraps,
                    "-G",
                    "no-such-group",
                    config_path ? "-c" : NULL,
                    (char *)config_path,
                    NULL};
    long long start = now_ms();
    child_start(&c, NULL, argv);
    int status = child_wait(&c, 60000);
    *took_ms = now_ms() - start;
    *out = child_stdout(&c);
    *err = child_stderr(&c);
    child_cleanup(&c);
    return status;
}

/* More busy answers than librdkafka's own two retries of an OffsetFetch
 * absorb: before the fix lag exited 70 with "Coordinator load in progress". */
START_TEST(a_loading_coordinator_is_waited_for)
{
    mock_cluster mock;
    mock_start(&mock, 1, 3);
    rd_kafka_mock_push_request_errors(
        mock.cluster, API_OFFSET_FETCH, 8, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_NOT_COORDINATOR,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    char *out, *err;
    long long took;
    int status = run_lag(mock.bootstraps, NULL, &out, &err, &took);
    ck_assert_msg(status == EX_NOINPUT, "lag exit %d, expected 66: %s", status, text_tail(err));
    ck_assert_msg(strstr(err, "group 'no-such-group' has no committed offsets on 'order-created'"),
                  "%s", text_tail(err));
    /* Every partition listed, none committed, nothing to read. */
    for (int p = 0; p < 3; p++) {
        char row[64];
        snprintf(row, sizeof(row), "%9d %12s %12d %12d\n", p, "-", 0, 0);
        ck_assert_msg(strstr(out, row), "no row for partition %d: %s", p, out);
    }
    char total[64];
    snprintf(total, sizeof(total), "%9s %12s %12s %12d\n", "TOTAL", "", "", 0);
    ck_assert_msg(strstr(out, total), "no total 0: %s", out);
    free(out);
    free(err);
    mock_stop(&mock);
}
END_TEST

/* A coordinator that stays busy: 69 once producer.timeout_ms (2 s) is up,
 * naming the broker's answer, not before and not long after. (librdkafka
 * itself retries COORDINATOR_LOAD_IN_PROGRESS to its timeout; NOT_COORDINATOR
 * it returns, and lag asks again.) */
START_TEST(a_coordinator_never_ready_is_unavailable)
{
    mock_cluster mock;
    mock_start(&mock, 1, 3);
    rd_kafka_resp_err_t busy[400];
    for (size_t i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
        busy[i] = RD_KAFKA_RESP_ERR_NOT_COORDINATOR;
    rd_kafka_mock_push_request_errors_array(mock.cluster, API_OFFSET_FETCH,
                                            sizeof(busy) / sizeof(busy[0]), busy);
    char config[64];
    write_temp_file(config, sizeof(config), "producer:\n{\n    timeout_ms = 2000;\n};\n");
    char *out, *err;
    long long took;
    int status = run_lag(mock.bootstraps, config, &out, &err, &took);
    ck_assert_msg(status == EX_UNAVAILABLE, "lag exit %d, expected 69: %s", status, text_tail(err));
    ck_assert_msg(strstr(err, "cannot read the committed offsets of group 'no-such-group' on ") &&
                      strstr(err, ": the group coordinator was not ready within 2000 ms "
                                  "(producer.timeout_ms, ") &&
                      strstr(err, " tries): Broker: Not coordinator\n"),
                  "%s", text_tail(err));
    ck_assert_msg(took >= 2000 && took < 10000, "lag took %lld ms with a 2000 ms timeout", took);
    ck_assert_str_eq(out, "");
    free(out);
    free(err);
    remove(config);
    mock_stop(&mock);
}
END_TEST

/* A refusal is not waited for: 78 at once, with the broker's reason. */
START_TEST(a_refused_group_is_reported_at_once)
{
    mock_cluster mock;
    mock_start(&mock, 1, 3);
    rd_kafka_mock_push_request_errors(mock.cluster, API_OFFSET_FETCH, 1,
                                      RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED);
    char *out, *err;
    long long took;
    int status = run_lag(mock.bootstraps, NULL, &out, &err, &took);
    ck_assert_msg(status == EX_CONFIG, "lag exit %d, expected 78: %s", status, text_tail(err));
    ck_assert_msg(strstr(err, "cannot read the committed offsets of group 'no-such-group' on ") &&
                      strstr(err, ": Broker: Group authorization failed\n"),
                  "%s", text_tail(err));
    ck_assert_msg(took < 10000, "lag took %lld ms to report a refusal", took);
    free(out);
    free(err);
    mock_stop(&mock);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        a_loading_coordinator_is_waited_for,
        a_coordinator_never_ready_is_unavailable,
        a_refused_group_is_reported_at_once,
        NULL,
    };
    return check_run_tests("lag_faults", tests, 120);
}
