/* The librdkafka glue: a user property that contradicts a setting the
 * delivery guarantees depend on is refused with its origin, and the
 * executables exit 78 (EX_CONFIG) for it before contacting any broker;
 * librdkafka errors map to exit statuses as documented. */
#include <check.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "kafka/kafka.h"

#include "../../check_run.h"

extern char **environ;

static const ofc_kafka_setting producer_forced[] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {NULL, NULL},
};

/* cfg with the defaults and one user property key=value from origin. */
static void config_with(ofc_config *cfg, const char *key, const char *value, const char *origin)
{
    char err[256];
    ck_assert_int_eq(ofc_config_init(cfg, err, sizeof(err)), 0);
    ck_assert_int_eq(ofc_config_set_property(cfg, key, value, origin, err, sizeof(err)), 0);
}

static void assert_conf_value(rd_kafka_conf_t *conf, const char *key, const char *expected)
{
    char value[64];
    size_t len = sizeof(value);
    ck_assert_int_eq(rd_kafka_conf_get(conf, key, value, &len), RD_KAFKA_CONF_OK);
    ck_assert_str_eq(value, expected);
}

START_TEST(contradicting_a_forced_setting_is_refused)
{
    ofc_config cfg;
    char err[512];
    config_with(&cfg, "enable.idempotence", "false", "-X");
    ck_assert_ptr_null(ofc_kafka_conf_new(&cfg, NULL, producer_forced, err, sizeof(err)));
    ck_assert_str_eq(err, "-X: librdkafka property 'enable.idempotence=false' cannot be changed: "
                          "this program needs 'enable.idempotence=true' for its delivery "
                          "guarantees; remove the setting");
    ofc_config_free(&cfg);

    config_with(&cfg, "acks", "1", "/etc/orderflow/orderflow.conf:7");
    ck_assert_ptr_null(ofc_kafka_conf_new(&cfg, NULL, producer_forced, err, sizeof(err)));
    ck_assert_str_eq(err, "/etc/orderflow/orderflow.conf:7: librdkafka property 'acks=1' cannot "
                          "be changed: this program needs 'acks=all' for its delivery "
                          "guarantees; remove the setting");
    ofc_config_free(&cfg);
}
END_TEST

/* The conf ofc_kafka_conf_new builds for cfg; fails the test if refused. */
static rd_kafka_conf_t *accepted_conf(const ofc_config *cfg, const ofc_kafka_setting *defaults)
{
    char err[512] = "";
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(cfg, defaults, producer_forced, err, sizeof(err));
    ck_assert_msg(conf != NULL, "refused: %s", err);
    return conf;
}

START_TEST(agreeing_spellings_of_a_forced_setting_are_accepted)
{
    ofc_config cfg;
    char err[512] = "";
    config_with(&cfg, "acks", "-1", "-X");
    ck_assert_int_eq(
        ofc_config_set_property(&cfg, "enable.idempotence", "1", "-X", err, sizeof(err)), 0);
    rd_kafka_conf_t *conf = accepted_conf(&cfg, NULL);
    assert_conf_value(conf, "enable.idempotence", "true");
    rd_kafka_conf_destroy(conf);
    ofc_config_free(&cfg);
}
END_TEST

START_TEST(user_properties_win_over_defaults)
{
    ofc_config cfg;
    config_with(&cfg, "linger.ms", "20", "-X");
    const ofc_kafka_setting defaults[] = {
        {"linger.ms", "5"}, {"batch.num.messages", "777"}, {NULL, NULL}};
    rd_kafka_conf_t *conf = accepted_conf(&cfg, defaults);
    assert_conf_value(conf, "linger.ms", "20");
    assert_conf_value(conf, "batch.num.messages", "777");
    assert_conf_value(conf, "bootstrap.servers", "localhost:9092");
    rd_kafka_conf_destroy(conf);
    ofc_config_free(&cfg);
}
END_TEST

START_TEST(exit_codes_of_librdkafka_errors)
{
    static const struct {
        rd_kafka_resp_err_t err;
        int status;
    } cases[] = {
        {RD_KAFKA_RESP_ERR__TRANSPORT, EX_UNAVAILABLE},
        {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, EX_UNAVAILABLE},
        {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, EX_UNAVAILABLE},
        {RD_KAFKA_RESP_ERR__RESOLVE, EX_UNAVAILABLE},
        {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, EX_UNAVAILABLE},
        {RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, EX_UNAVAILABLE},
        {RD_KAFKA_RESP_ERR__AUTHENTICATION, EX_CONFIG},
        {RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, EX_CONFIG},
        {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, EX_CONFIG},
        {RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, EX_CONFIG},
        {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, EX_CONFIG},
        {RD_KAFKA_RESP_ERR__FATAL, EX_SOFTWARE},
        {RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, EX_SOFTWARE},
        {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, EX_SOFTWARE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(ofc_kafka_exit_code(cases[i].err) == cases[i].status, "%s: %d, expected %d",
                      rd_kafka_err2name(cases[i].err), ofc_kafka_exit_code(cases[i].err),
                      cases[i].status);
}
END_TEST

/* Runs the executable named by environment variable program_env with args,
 * its stderr into a buffer; returns its exit status. */
static int run(const char *program_env, const char *const args[], char *err_text, size_t size)
{
    const char *program = getenv(program_env);
    ck_assert_msg(program != NULL, "%s is not set", program_env);
    char path[] = "/tmp/orderflow-test-kafka.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fd, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[16];
    size_t n = 0;
    argv[n++] = (char *)program;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    pid_t pid;
    ck_assert_int_eq(posix_spawn(&pid, program, &actions, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    int wstatus;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    ssize_t got = pread(fd, err_text, size - 1, 0);
    err_text[got > 0 ? got : 0] = '\0';
    close(fd);
    ck_assert(WIFEXITED(wstatus));
    return WEXITSTATUS(wstatus);
}

START_TEST(executables_exit_78_for_a_contradicting_property)
{
    char err[4096];
    /* No broker listens on port 9: the refusal must come first. */
    const char *producer_args[] = {"-b", "127.0.0.1:9", "-X", "enable.idempotence=false",
                                   "-g", "1",           "-q", NULL};
    ck_assert_int_eq(run("ORDERFLOW_PRODUCER", producer_args, err, sizeof(err)), EX_CONFIG);
    ck_assert_msg(strstr(err, "orderflow-producer: -X: librdkafka property "
                              "'enable.idempotence=false' cannot be changed") != NULL,
                  "stderr: %s", err);

    const char *processor_args[] = {"process", "-b", "127.0.0.1:9", "-X", "enable.auto.commit=true",
                                    "-q",      NULL};
    ck_assert_int_eq(run("ORDERFLOW_CONSUMER", processor_args, err, sizeof(err)), EX_CONFIG);
    ck_assert_msg(strstr(err, "orderflow-consumer process: -X: librdkafka property "
                              "'enable.auto.commit=true' cannot be changed") != NULL,
                  "stderr: %s", err);
}
END_TEST

#define VERSION(major, minor, revision)                                                            \
    (((major) << 24) | ((minor) << 16) | ((revision) << 8) | 0xff)

START_TEST(each_bug_applies_only_to_the_versions_it_affects)
{
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_STICKY_TWO_OWNERS, VERSION(2, 0, 2)), 1);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_STICKY_TWO_OWNERS, VERSION(2, 1, 1)), 1);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_STICKY_TWO_OWNERS, VERSION(2, 2, 0)), 0);
    /* A release candidate counts as its release. */
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_STICKY_TWO_OWNERS, 0x02020001), 0);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_STICKY_TWO_OWNERS, VERSION(1, 5, 3)), 0);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_COMMIT_IN_REBALANCE, VERSION(2, 9, 0)), 1);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_COMMIT_IN_REBALANCE, VERSION(2, 10, 0)), 0);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_FETCH_BACKOFF_1S, VERSION(2, 1, 1)), 1);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_FETCH_BACKOFF_1S, VERSION(2, 2, 0)), 0);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_LEAVEGROUP_CRASH, VERSION(2, 14, 1)), 1);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_LEAVEGROUP_CRASH, VERSION(2, 16, 0)), 0);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_SCRAM_KAFKA4, VERSION(2, 6, 0)), 1);
    ck_assert_int_eq(ofc_kafka_bug_in(OFC_KAFKA_BUG_SCRAM_KAFKA4, VERSION(2, 6, 1)), 0);
    for (int bug = 0; bug < OFC_KAFKA_BUG_COUNT; bug++) {
        const ofc_kafka_bug_info *info = ofc_kafka_bug_describe(bug);
        ck_assert_msg(info->issue && info->issue[0] == '#', "bug %d has no issue number", bug);
        ck_assert_int_lt(info->first_affected, info->first_fixed);
        ck_assert_int_eq(ofc_kafka_has_bug(bug), ofc_kafka_bug_in(bug, rd_kafka_version()));
    }
}
END_TEST

START_TEST(the_start_up_warning_names_each_crashing_bug_and_its_fix)
{
    char line[512];
    ck_assert_int_eq(ofc_kafka_version_warning(VERSION(2, 0, 2), line, sizeof(line)), 1);
    ck_assert_str_eq(line, "librdkafka 2.0.2 has known bugs that can crash a client or fail its "
                           "work: #4252 (fixed in 2.2.0), #4381 (2.3.0), #4438 (2.3.0), #4800 "
                           "(2.6.1), #5327 (2.14.2); 2.14.2 or later has none of them "
                           "(docs/operations.md, \"librdkafka versions\")");
    ck_assert_int_eq(ofc_kafka_version_warning(VERSION(2, 8, 0), line, sizeof(line)), 1);
    ck_assert_str_eq(line, "librdkafka 2.8.0 has known bugs that can crash a client or fail its "
                           "work: #5327 (fixed in 2.14.2); 2.14.2 or later has none of them "
                           "(docs/operations.md, \"librdkafka versions\")");
    ck_assert_int_eq(ofc_kafka_version_warning(VERSION(2, 16, 0), line, sizeof(line)), 0);
    ck_assert_str_eq(line, "");
    char small[40];
    ck_assert_int_eq(ofc_kafka_version_warning(VERSION(2, 0, 2), small, sizeof(small)), 1);
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1); /* cut, terminated */
}
END_TEST

/* KIP-848: accepted where the loaded librdkafka has it (the classic group's
 * own defaults left out), refused with what to do where it does not. */
START_TEST(group_protocol_consumer_needs_a_librdkafka_that_has_it)
{
    ofc_config cfg;
    char err[512];
    const ofc_kafka_setting defaults[] = {
        {"group.id", "g"},
        {"session.timeout.ms", "10000"},
        {"partition.assignment.strategy", "cooperative-sticky"},
        {NULL, NULL},
    };
    config_with(&cfg, "group.protocol", "consumer", "-X");
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(&cfg, defaults, NULL, err, sizeof(err));
    if (rd_kafka_version() < OFC_KAFKA_NEXT_GENERATION_GROUPS) {
        ck_assert_ptr_null(conf);
        char expected[512];
        snprintf(expected, sizeof(expected),
                 "-X: group.protocol=consumer (KIP-848) needs librdkafka 2.12.0 or later; this "
                 "process loaded librdkafka %s (scripts/librdkafka-current.sh runs a newer one)",
                 rd_kafka_version_str());
        ck_assert_str_eq(err, expected);
    } else {
        ck_assert_ptr_nonnull(conf);
        assert_conf_value(conf, "group.protocol", "consumer");
        assert_conf_value(conf, "group.id", "g");
        char why[256];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
        ck_assert_msg(rk != NULL, "librdkafka refused the configuration: %s", why);
        rd_kafka_destroy(rk);
    }
    ofc_config_free(&cfg);
    config_with(&cfg, "group.protocol", "consumer", "-X");
    ck_assert_int_eq(
        ofc_config_set_property(&cfg, "session.timeout.ms", "6000", "f.conf:3", err, sizeof(err)),
        0);
    ck_assert_ptr_null(ofc_kafka_conf_new(&cfg, defaults, NULL, err, sizeof(err)));
    if (rd_kafka_version() >= OFC_KAFKA_NEXT_GENERATION_GROUPS)
        ck_assert_str_eq(err, "f.conf:3: librdkafka property 'session.timeout.ms' cannot be used "
                              "with group.protocol=consumer (KIP-848: the broker decides it); "
                              "remove it");
    ofc_config_free(&cfg);
}
END_TEST

/* consumer.group_protocol from the file: the same effect and refusals as
 * -X group.protocol, named by the file's line; -X wins over it; a
 * kafka.properties group.protocol that disagrees names both lines. */
START_TEST(group_protocol_from_the_file_acts_as_the_property)
{
    ofc_config cfg;
    char err[512];
    const ofc_kafka_setting defaults[] = {
        {"group.id", "g"},
        {"session.timeout.ms", "10000"},
        {NULL, NULL},
    };
    ck_assert_int_eq(ofc_config_init(&cfg, err, sizeof(err)), 0);
    cfg.consumer_group_protocol = OFC_GROUP_PROTOCOL_CONSUMER;
    cfg.consumer_group_protocol_origin = strdup("orderflow.conf:12");
    rd_kafka_conf_t *conf = ofc_kafka_member_conf_new(&cfg, defaults, NULL, err, sizeof(err));
    if (rd_kafka_version() < OFC_KAFKA_NEXT_GENERATION_GROUPS) {
        ck_assert_ptr_null(conf);
        char expected[512];
        snprintf(expected, sizeof(expected),
                 "orderflow.conf:12 (consumer.group_protocol): group.protocol=consumer (KIP-848) "
                 "needs librdkafka 2.12.0 or later; this process loaded librdkafka %s "
                 "(scripts/librdkafka-current.sh runs a newer one)",
                 rd_kafka_version_str());
        ck_assert_str_eq(err, expected);
    } else {
        ck_assert_ptr_nonnull(conf);
        assert_conf_value(conf, "group.protocol", "consumer");
        char value[64];
        size_t len = sizeof(value);
        /* The classic group's default is left to the broker. */
        ck_assert_int_eq(rd_kafka_conf_get(conf, "session.timeout.ms", value, &len),
                         RD_KAFKA_CONF_OK);
        ck_assert_str_eq(value, "45000");
        rd_kafka_conf_destroy(conf);
    }
    /* Only the group's member is told: a producer's configuration is not. */
    conf = ofc_kafka_conf_new(&cfg, defaults, NULL, err, sizeof(err));
    ck_assert_ptr_nonnull(conf);
    assert_conf_value(conf, "session.timeout.ms", "10000");
    rd_kafka_conf_destroy(conf);

    /* -X wins over the file. */
    ck_assert_int_eq(
        ofc_config_set_property(&cfg, "group.protocol", "consumer", "-X", err, sizeof(err)), 0);
    cfg.consumer_group_protocol = OFC_GROUP_PROTOCOL_CLASSIC;
    conf = ofc_kafka_member_conf_new(&cfg, defaults, NULL, err, sizeof(err));
    if (rd_kafka_version() >= OFC_KAFKA_NEXT_GENERATION_GROUPS) {
        ck_assert_ptr_nonnull(conf);
        assert_conf_value(conf, "group.protocol", "consumer");
        rd_kafka_conf_destroy(conf);
    } else {
        ck_assert_ptr_null(conf);
        ck_assert_msg(strncmp(err, "-X: group.protocol=consumer", 27) == 0, "%s", err);
    }
    ofc_config_free(&cfg);

    /* classic: librdkafka's default, accepted by every version. */
    config_with(&cfg, "linger.ms", "5", "-X");
    cfg.consumer_group_protocol = OFC_GROUP_PROTOCOL_CLASSIC;
    cfg.consumer_group_protocol_origin = strdup("orderflow.conf:12");
    conf = ofc_kafka_member_conf_new(&cfg, defaults, NULL, err, sizeof(err));
    ck_assert_msg(conf != NULL, "%s", err);
    assert_conf_value(conf, "session.timeout.ms", "10000");
    char why[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    ck_assert_msg(rk != NULL, "librdkafka refused the configuration: %s", why);
    rd_kafka_destroy(rk);

    /* Two lines of the file that disagree. */
    ck_assert_int_eq(ofc_config_set_property(&cfg, "group.protocol", "consumer", "orderflow.conf:3",
                                             err, sizeof(err)),
                     0);
    ck_assert_ptr_null(ofc_kafka_member_conf_new(&cfg, defaults, NULL, err, sizeof(err)));
    ck_assert_str_eq(err, "orderflow.conf:12 (consumer.group_protocol): group_protocol = "
                          "\"classic\" contradicts the librdkafka property "
                          "group.protocol=consumer set at orderflow.conf:3; keep one");
    ofc_config_free(&cfg);
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        contradicting_a_forced_setting_is_refused,
        agreeing_spellings_of_a_forced_setting_are_accepted,
        user_properties_win_over_defaults,
        exit_codes_of_librdkafka_errors,
        executables_exit_78_for_a_contradicting_property,
        each_bug_applies_only_to_the_versions_it_affects,
        the_start_up_warning_names_each_crashing_bug_and_its_fix,
        group_protocol_consumer_needs_a_librdkafka_that_has_it,
        group_protocol_from_the_file_acts_as_the_property,
        NULL,
    };
    return check_run_tests("kafka", tests, 60);
}
