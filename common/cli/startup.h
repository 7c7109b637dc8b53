/* What every orderflow executable does first, in one place (as libinput's
 * tools/shared.c does for its tools): name the program for ofc_log, take
 * SIGINT/SIGTERM, parse the common options (cli.h) and hand the program's own
 * to it, answer --help and --version, build the effective configuration
 * (printed with -v), and start the metrics endpoint. Each executable keeps
 * only its own options and what they mean. */
#ifndef OFC_CLI_STARTUP_H
#define OFC_CLI_STARTUP_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/metrics.h"
#include "config/config.h"

/* ofc_startup_run's answer when the program goes on. */
#define OFC_STARTUP_CONTINUE (-1)

/* At most this many options of the program's own. */
#define OFC_STARTUP_MAX_OPTIONS 32

enum {
    /* SIGINT/SIGTERM set ofc_stop_signal (util/signals.h), installed before
     * anything else: a supervisor's SIGTERM that comes while the program is
     * still starting ends in the same clean stop as one that comes later. */
    OFC_STARTUP_STOP_SIGNALS = 1 << 0,
    /* With OFC_STARTUP_STOP_SIGNALS: SIGPIPE ignored too. */
    OFC_STARTUP_IGNORE_SIGPIPE = 1 << 1,
    /* --metrics ADDR:PORT (into common->metrics, then metrics.listen), and
     * the endpoint started once the configuration is built (cli/metrics.h). */
    OFC_STARTUP_METRICS = 1 << 2,
    /* A bad short option is named alone ("option -g needs a value", "option
     * -Z is unknown") instead of "option '-g' is unknown or needs a value". */
    OFC_STARTUP_NAME_SHORT_OPTION = 1 << 3,
    /* A long-running command: once the configuration is built, the warning
     * line of ofc_cli_warn_librdkafka (cli.h) when the loaded librdkafka has
     * a known crashing bug. */
    OFC_STARTUP_WARN_LIBRDKAFKA = 1 << 4,
};

typedef struct ofc_startup {
    /* The messages' prefix and what "Try 'PROGRAM --help'." names:
     * "orderflow-consumer tail". Must live as long as the program. */
    const char *program;
    /* What --version names: "orderflow-consumer". */
    const char *executable;
    void (*usage)(FILE *out);
    unsigned flags;
    /* The program's own options, besides the common ones: getopt letters
     * ("G:", may be NULL) and long options ({NULL, 0, NULL, 0}-terminated,
     * may be NULL; their values must not be common letters). */
    const char *short_options;
    const struct option *long_options;
    /* Takes one of those options (getopt's opt and optarg) into ctx: 0, or
     * -1 with err naming the option and what was expected. */
    int (*option)(void *ctx, int opt, const char *arg, char *err, size_t errlen);
    /* The arguments left after the options (count may be 0), and any check
     * across options: 0, or -1 with err. NULL: arguments are refused. */
    int (*operands)(void *ctx, int count, char **args, char *err, size_t errlen);
    /* Once the configuration is built and before -v prints it: what the
     * program's options override in it. 0, or a sysexits status with err
     * (EX_USAGE: a bad option value, said with "Try 'PROGRAM --help'.").
     * NULL: nothing. */
    int (*configure)(void *ctx, ofc_config *cfg, char *err, size_t errlen);
    /* Once the configuration is final (and printed with -v), before the
     * metrics endpoint: what must work before the program serves anything
     * (the processor loads its handler). 0, or a sysexits status with err.
     * NULL: nothing. */
    int (*prepare)(void *ctx, const ofc_config *cfg, char *err, size_t errlen);
    /* Undoes prepare when the start-up fails after it. NULL: nothing. */
    void (*unprepare)(void *ctx);
    /* With OFC_STARTUP_METRICS: what /readyz answers until the program says
     * it is ready ("starting: checking topics"). */
    const char *metrics_unready;
} ofc_startup;

/* The fields every program's start-up names, at the head of its ofc_startup
 * initialiser: the messages' prefix, what --version names, the usage, the
 * option table and the function that takes those options. The program's
 * flags, short options and steps follow:
 *   static const ofc_startup startup = {
 *       OFC_STARTUP_PROGRAM("orderflow-consumer tail", "orderflow-consumer", usage, longopts,
 *                           take_option),
 *       .flags = OFC_STARTUP_STOP_SIGNALS,
 *   }; */
#define OFC_STARTUP_PROGRAM(program_name, executable_name, usage_function, options, take)          \
    .program = (program_name), .executable = (executable_name), .usage = (usage_function),         \
    .long_options = (options), .option = (take)

/* Runs the start-up of s on argv (argv[0] is the program or the command
 * name), the common options going into *common and the program's own into
 * ctx through s->option. Returns OFC_STARTUP_CONTINUE with *cfg built (and,
 * with OFC_STARTUP_METRICS, *metrics started: its registry is NULL when
 * metrics are off), which the caller frees (ofc_config_free,
 * ofc_cli_metrics_stop). Otherwise returns the exit status, everything said
 * on stdout or stderr and nothing left to free: EX_OK after --help or
 * --version; EX_USAGE for a bad command line, with "Try 'PROGRAM --help'.";
 * what ofc_cli_build_config, s->configure, s->prepare or ofc_cli_metrics_start
 * returned;
 * EX_OSERR when the signal handlers cannot be installed, EX_SOFTWARE when s
 * has more than OFC_STARTUP_MAX_OPTIONS options. metrics may be NULL
 * without OFC_STARTUP_METRICS. */
int ofc_startup_run(const ofc_startup *s, void *ctx, int argc, char **argv, ofc_cli_common *common,
                    ofc_config *cfg, ofc_cli_metrics *metrics);

/* Replaces the string *slot (NULL or malloc'd) of a configuration with a
 * copy of value, for an option that overrides the configuration (-t,
 * --group). Returns 0 (nothing done when value is NULL), or EX_OSERR with
 * err "out of memory", *slot unchanged. */
int ofc_cli_override(char **slot, const char *value, char *err, size_t errlen);

#endif
