/* The start-up path every executable shares (common/cli/startup.h): what it
 * says and returns for each way a command line or a configuration can be
 * wrong, and what it builds when nothing is. Each test runs in its own
 * process (Check forks), its stdout and stderr captured into files. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <orderflow/version.h>

#include "../../check_run.h"
#include "cli/startup.h"
#include "util/signals.h"

static char out_text[16384], err_text[16384];

/* Sends fd 1 and 2 to fresh temporary files (read back by captured()). */
static void capture(void)
{
    unsetenv("ORDERFLOW_BROKERS");
    for (int fd = 1; fd <= 2; fd++) {
        char path[] = "/tmp/test-startup-XXXXXX";
        int tmp = mkstemp(path);
        ck_assert_int_ge(tmp, 0);
        unlink(path);
        ck_assert_int_eq(dup2(tmp, fd), fd);
        close(tmp);
    }
}

static void read_back(int fd, char *text, size_t size)
{
    off_t end = lseek(fd, 0, SEEK_CUR);
    ck_assert_int_lt(end, (off_t)size);
    ck_assert_int_eq(pread(fd, text, (size_t)end, 0), end);
    text[end] = '\0';
}

/* Fills out_text and err_text with what was written since capture(). */
static void captured(void)
{
    fflush(stdout);
    fflush(stderr);
    read_back(1, out_text, sizeof(out_text));
    read_back(2, err_text, sizeof(err_text));
}

/* A program with one option of each kind, as the executables have. */
typedef struct test_options {
    ofc_cli_common common;
    const char *listen;
    long long count;
    const char *args[4];
    int arg_count;
    int configured;
    int refuse_configuration; /* configure() fails with this status */
    int refuse_preparation;   /* prepare() fails with EX_UNAVAILABLE */
    int prepared;             /* prepare() ran and unprepare() did not */
} test_options;

enum { OPT_LISTEN = 1000 };

static void usage(FILE *out)
{
    fprintf(out, "Usage: test-program [OPTIONS]\n");
}

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    test_options *opts = ctx;
    if (opt == 'n') return ofc_cli_parse_long("-n/--count", arg, 0, 10, &opts->count, err, errlen);
    opts->listen = arg;
    return 0;
}

static int take_operands(void *ctx, int count, char **args, char *err, size_t errlen)
{
    test_options *opts = ctx;
    if (count > 4) {
        snprintf(err, errlen, "at most 4 arguments, got %d", count);
        return -1;
    }
    for (int i = 0; i < count; i++)
        opts->args[opts->arg_count++] = args[i];
    return 0;
}

static int configure(void *ctx, ofc_config *cfg, char *err, size_t errlen)
{
    test_options *opts = ctx;
    opts->configured++;
    if (opts->refuse_configuration) {
        snprintf(err, errlen, "the configuration was refused");
        return opts->refuse_configuration;
    }
    return ofc_cli_override(&cfg->topic_order_created, opts->common.topic, err, errlen);
}

static int prepare(void *ctx, const ofc_config *cfg, char *err, size_t errlen)
{
    test_options *opts = ctx;
    ck_assert_ptr_nonnull(cfg->brokers);
    if (opts->refuse_preparation) {
        snprintf(err, errlen, "nothing to prepare with");
        return EX_UNAVAILABLE;
    }
    opts->prepared = 1;
    return 0;
}

static void unprepare(void *ctx)
{
    test_options *opts = ctx;
    opts->prepared = 0;
}

static const struct option test_long_options[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"count", required_argument, NULL, 'n'},
    {NULL, 0, NULL, 0},
};

static ofc_startup program(unsigned flags)
{
    return (ofc_startup){
        .program = "test-program sub",
        .executable = "test-program",
        .usage = usage,
        .flags = flags,
        .short_options = "n:",
        .long_options = test_long_options,
        .option = take_option,
        .operands = take_operands,
        .configure = configure,
        .prepare = prepare,
        .unprepare = unprepare,
        .metrics_unready = "starting",
    };
}

/* Runs the start-up of s on the NULL-terminated arguments after argv[0]. */
static int run_args(const ofc_startup *s, test_options *opts, ofc_config *cfg,
                    ofc_cli_metrics *metrics, char **args)
{
    char *argv[32] = {"sub"};
    int argc = 1;
    while (args[argc - 1])
        argv[argc] = args[argc - 1], argc++;
    return ofc_startup_run(s, opts, argc, argv, &opts->common, cfg, metrics);
}

#define RUN(s, opts, cfg, ...) run_args(s, opts, cfg, NULL, (char *[]){__VA_ARGS__, NULL})

START_TEST(an_unknown_option_is_a_usage_error_pointing_at_help)
{
    capture();
    ofc_startup s = program(0);
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "--nope"), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-Z"), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-n"), EX_USAGE);
    captured();
    ck_assert_str_eq(err_text, "test-program sub: option '--nope' is unknown or needs a value\n"
                               "Try 'test-program sub --help'.\n"
                               "test-program sub: option '-Z' is unknown or needs a value\n"
                               "Try 'test-program sub --help'.\n"
                               "test-program sub: option '-n' is unknown or needs a value\n"
                               "Try 'test-program sub --help'.\n");
    ck_assert_str_eq(out_text, "");
    ck_assert_int_eq(opts.configured, 0);
}
END_TEST

START_TEST(named_short_options_say_which_fault)
{
    capture();
    ofc_startup s = program(OFC_STARTUP_NAME_SHORT_OPTION);
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-Z"), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-n"), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "--topic"), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "--listen"), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "--nope"), EX_USAGE);
    captured();
    ck_assert_str_eq(err_text, "test-program sub: option -Z is unknown\n"
                               "Try 'test-program sub --help'.\n"
                               "test-program sub: option -n needs a value\n"
                               "Try 'test-program sub --help'.\n"
                               "test-program sub: option -t needs a value\n"
                               "Try 'test-program sub --help'.\n"
                               "test-program sub: option '--listen' needs a value\n"
                               "Try 'test-program sub --help'.\n"
                               "test-program sub: option '--nope' is unknown or needs a value\n"
                               "Try 'test-program sub --help'.\n");
}
END_TEST

START_TEST(bad_values_name_their_option)
{
    capture();
    ofc_startup s = program(0);
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-b", ""), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "--count", "11"), EX_USAGE);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "--metrics", ":1"), EX_USAGE); /* not taken here */
    captured();
    ck_assert_str_eq(err_text,
                     "test-program sub: -b/--brokers: expected HOST:PORT[,HOST:PORT...], got ''\n"
                     "Try 'test-program sub --help'.\n"
                     "test-program sub: -n/--count: expected an integer 0..10, got '11'\n"
                     "Try 'test-program sub --help'.\n"
                     "test-program sub: option '--metrics' is unknown or needs a value\n"
                     "Try 'test-program sub --help'.\n");
}
END_TEST

START_TEST(arguments_are_refused_unless_taken)
{
    capture();
    ofc_startup s = program(0);
    s.operands = NULL;
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-q", "extra"), EX_USAGE);
    s = program(0);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "a", "b", "c", "d", "e"), EX_USAGE);
    captured();
    ck_assert_str_eq(err_text, "test-program sub: unexpected argument 'extra'\n"
                               "Try 'test-program sub --help'.\n"
                               "test-program sub: at most 4 arguments, got 5\n"
                               "Try 'test-program sub --help'.\n");
}
END_TEST

START_TEST(help_and_version_come_before_the_configuration)
{
    capture();
    ofc_startup s = program(0);
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-c", "/nonexistent/x.conf", "--help", "-V"), EX_OK);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-V", "-c", "/nonexistent/x.conf"), EX_OK);
    captured();
    ck_assert_str_eq(err_text, "");
    char version[64];
    snprintf(version, sizeof(version), "test-program %s (librdkafka ", of_version_str());
    ck_assert_msg(strncmp(out_text, "Usage: test-program [OPTIONS]\n", 30) == 0, "%s", out_text);
    ck_assert_msg(strncmp(out_text + 30, version, strlen(version)) == 0, "%s", out_text);
    ck_assert_int_eq(opts.configured, 0);
}
END_TEST

START_TEST(a_missing_or_bad_configuration_file_is_said_with_its_status)
{
    capture();
    char path[] = "/tmp/test-startup-conf-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "kafka = { bad\n", 14), 14);
    close(fd);
    ofc_startup s = program(0);
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-c", "/nonexistent/x.conf"), EX_NOINPUT);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-c", path), EX_CONFIG);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-X", "novalue"), EX_CONFIG);
    unlink(path);
    captured();
    char *second = strchr(err_text, '\n') + 1, *third = strchr(second, '\n') + 1;
    ck_assert_msg(strncmp(err_text, "test-program sub: /nonexistent/x.conf: ", 39) == 0, "%s",
                  err_text);
    ck_assert_msg(strncmp(second, "test-program sub: ", 18) == 0 &&
                      strncmp(second + 18, path, strlen(path)) == 0 &&
                      second[18 + strlen(path)] == ':',
                  "%s", second);
    ck_assert_str_eq(third, "test-program sub: -X novalue: expected KEY=VALUE (a librdkafka "
                            "property)\n");
    ck_assert_int_eq(opts.configured, 0);
}
END_TEST

START_TEST(a_refused_configuration_returns_configures_status)
{
    capture();
    ofc_startup s = program(0);
    test_options opts = {.refuse_configuration = EX_DATAERR};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-v"), EX_DATAERR);
    /* A bad option value found only against the configuration: usage. */
    opts.refuse_configuration = EX_USAGE;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-v"), EX_USAGE);
    captured();
    /* Said, and not printed with -v: the configuration is not the one run. */
    ck_assert_str_eq(err_text, "test-program sub: the configuration was refused\n"
                               "test-program sub: the configuration was refused\n"
                               "Try 'test-program sub --help'.\n");
    ck_assert_int_eq(opts.configured, 2);
    ck_assert_int_eq(opts.prepared, 0);
}
END_TEST

START_TEST(the_configuration_gets_the_command_line_over_the_file)
{
    capture();
    ofc_startup s = program(0);
    test_options opts = {0};
    ofc_config cfg;
    setenv("ORDERFLOW_BROKERS", "env:9092", 1);
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "in", "-b", "cli:9092", "-t", "orders", "--listen", "x",
                         "-n", "7", "-v", "out"),
                     OFC_STARTUP_CONTINUE);
    captured();
    ck_assert_str_eq(cfg.brokers, "cli:9092");
    ck_assert_str_eq(cfg.topic_order_created, "orders");
    ck_assert_str_eq(opts.listen, "x");
    ck_assert_int_eq(opts.count, 7);
    ck_assert_int_eq(opts.arg_count, 2);
    ck_assert_str_eq(opts.args[0], "in");
    ck_assert_str_eq(opts.args[1], "out");
    ck_assert_int_eq(opts.configured, 1);
    ck_assert_int_eq(opts.prepared, 1);
    ck_assert_int_eq(opts.common.verbose, 1);
    /* -v: the effective configuration on stderr, with the override. */
    ck_assert_msg(strstr(err_text, "cli:9092") && strstr(err_text, "orders"), "%s", err_text);
    ck_assert_str_eq(out_text, "");
    ofc_config_free(&cfg);
}
END_TEST

/* A failed preparation is said with its status; one undone when the metrics
 * endpoint then cannot start. */
START_TEST(what_is_prepared_is_undone_on_a_later_failure)
{
    capture();
    ofc_startup s = program(OFC_STARTUP_METRICS);
    test_options opts = {.refuse_preparation = 1};
    ofc_config cfg;
    ofc_cli_metrics metrics;
    ck_assert_int_eq(run_args(&s, &opts, &cfg, &metrics, (char *[]){"-q", NULL}), EX_UNAVAILABLE);
    ck_assert_int_eq(opts.prepared, 0);
    opts.refuse_preparation = 0;
    ck_assert_int_eq(
        run_args(&s, &opts, &cfg, &metrics, (char *[]){"--metrics", "127.0.0.1:0", NULL}),
        OFC_STARTUP_CONTINUE);
    ck_assert_int_eq(opts.prepared, 1);
    char taken[64];
    snprintf(taken, sizeof(taken), "%s", ofc_metrics_server_address(metrics.server));
    test_options again = {0};
    ofc_config cfg2;
    ofc_cli_metrics metrics2;
    ck_assert_int_eq(run_args(&s, &again, &cfg2, &metrics2, (char *[]){"--metrics", taken, NULL}),
                     EX_CONFIG);
    ck_assert_int_eq(again.prepared, 0); /* prepared, then undone */
    ofc_cli_metrics_stop(&metrics);
    ofc_config_free(&cfg);
    captured();
    ck_assert_msg(strncmp(err_text, "test-program sub: nothing to prepare with\n", 42) == 0, "%s",
                  err_text);
}
END_TEST

START_TEST(metrics_start_where_asked)
{
    capture();
    ofc_startup s = program(OFC_STARTUP_METRICS);
    test_options opts = {0};
    ofc_config cfg;
    ofc_cli_metrics metrics;
    ck_assert_int_eq(run_args(&s, &opts, &cfg, &metrics, (char *[]){"--metrics", "nope", NULL}),
                     EX_USAGE);
    ck_assert_int_eq(run_args(&s, &opts, &cfg, &metrics, (char *[]){"-q", NULL}),
                     OFC_STARTUP_CONTINUE);
    ck_assert_ptr_null(metrics.registry); /* off unless asked */
    ofc_cli_metrics_stop(&metrics);
    ofc_config_free(&cfg);
    ck_assert_int_eq(
        run_args(&s, &opts, &cfg, &metrics, (char *[]){"--metrics", "127.0.0.1:0", NULL}),
        OFC_STARTUP_CONTINUE);
    ck_assert_ptr_nonnull(metrics.registry);
    ck_assert_str_eq(cfg.metrics_listen, "127.0.0.1:0");
    ck_assert_str_eq(opts.common.metrics, "127.0.0.1:0");
    /* The same port again: in use, a configuration error naming --metrics. */
    char taken[64];
    snprintf(taken, sizeof(taken), "%s", ofc_metrics_server_address(metrics.server));
    test_options again = {0};
    ofc_config cfg2;
    ofc_cli_metrics metrics2;
    ck_assert_int_eq(run_args(&s, &again, &cfg2, &metrics2, (char *[]){"--metrics", taken, NULL}),
                     EX_CONFIG);
    ofc_cli_metrics_stop(&metrics);
    ofc_config_free(&cfg);
    captured();
    char said[128];
    snprintf(said, sizeof(said), "test-program sub: metrics on http://%s/metrics", taken);
    ck_assert_msg(strstr(err_text, said), "%s", err_text);
    ck_assert_msg(strstr(err_text, "test-program sub: --metrics"), "%s", err_text);
    ck_assert_msg(strncmp(err_text, "test-program sub: --metrics: ", 29) == 0, "%s", err_text);
}
END_TEST

START_TEST(more_options_than_the_limit_are_a_program_error)
{
    capture();
    struct option many[OFC_STARTUP_MAX_OPTIONS + 2];
    for (int i = 0; i < OFC_STARTUP_MAX_OPTIONS + 1; i++)
        many[i] = (struct option){"x", no_argument, NULL, 2000 + i};
    many[OFC_STARTUP_MAX_OPTIONS + 1] = (struct option){NULL, 0, NULL, 0};
    ofc_startup s = program(0);
    s.long_options = many;
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-q"), EX_SOFTWARE);
    captured();
    ck_assert_str_eq(err_text, "test-program sub: test-program sub has more than 32 options of "
                               "its own\n");
}
END_TEST

/* The first SIGTERM only sets the flag the loops read... */
START_TEST(stop_signals_set_the_flag_first)
{
    capture();
    ofc_startup s = program(OFC_STARTUP_STOP_SIGNALS | OFC_STARTUP_IGNORE_SIGPIPE);
    test_options opts = {0};
    ofc_config cfg;
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "--help"), EX_OK);
    ck_assert_int_eq(ofc_stop_signal, 0);
    raise(SIGPIPE); /* ignored */
    raise(SIGTERM);
    ck_assert_int_eq(ofc_stop_signal, SIGTERM);
}
END_TEST

/* ...and a second one ends the process by that signal. */
START_TEST(a_second_signal_ends_the_process)
{
    ofc_startup s = program(OFC_STARTUP_STOP_SIGNALS);
    test_options opts = {0};
    ofc_config cfg;
    capture();
    ck_assert_int_eq(RUN(&s, &opts, &cfg, "-V"), EX_OK);
    raise(SIGINT);
    ck_assert_int_eq(ofc_stop_signal, SIGINT);
    raise(SIGINT);
    ck_abort_msg("still alive after a second SIGINT");
}
END_TEST

int main(void)
{
    const TTest *const tests[] = {
        an_unknown_option_is_a_usage_error_pointing_at_help,
        named_short_options_say_which_fault,
        bad_values_name_their_option,
        arguments_are_refused_unless_taken,
        help_and_version_come_before_the_configuration,
        a_missing_or_bad_configuration_file_is_said_with_its_status,
        a_refused_configuration_returns_configures_status,
        the_configuration_gets_the_command_line_over_the_file,
        what_is_prepared_is_undone_on_a_later_failure,
        metrics_start_where_asked,
        more_options_than_the_limit_are_a_program_error,
        stop_signals_set_the_flag_first,
        NULL,
    };
    Suite *suite = suite_create("startup");
    TCase *tc = tcase_create("startup");
    tcase_set_timeout(tc, 30);
    for (size_t i = 0; tests[i]; i++)
        check_tcase_add_test(tc, tests[i]);
    if (check_selected(a_second_signal_ends_the_process))
        tcase_add_test_raise_signal(tc, a_second_signal_ends_the_process, SIGINT);
    suite_add_tcase(suite, tc);
    return check_run_suite(suite);
}
