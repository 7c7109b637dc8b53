/* One start-up path for every executable (startup.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli/log.h"
#include "cli/startup.h"
#include "cli/suggest.h"
#include "util/signals.h"

/* getopt's value for --metrics: above any letter and any program's own. */
#define OPT_METRICS 0x10000

static const struct option common_long_options[] = {OFC_CLI_COMMON_LONG};
#define COMMON_LONG_COUNT (sizeof(common_long_options) / sizeof(common_long_options[0]))

/* What getopt could not take, in words. */
static void bad_option(const ofc_startup *s, const char *short_options,
                       const struct option *long_options, char **argv, char *err, size_t errlen)
{
    /* optopt: the letter of a bad short option (or of a long one missing its
     * value, as --topic's 't'), a long-only option's value, or 0 for an
     * unknown long option. */
    if ((s->flags & OFC_STARTUP_NAME_SHORT_OPTION) && optopt > 0 && optopt < 256)
        snprintf(err, errlen, "option -%c %s", optopt,
                 strchr(short_options, optopt) ? "needs a value" : "is unknown");
    else if ((s->flags & OFC_STARTUP_NAME_SHORT_OPTION) && optopt >= 256)
        snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
    else /* "did you mean '--X'?" for a mistyped long option (suggest.h) */
        ofc_cli_bad_option(long_options, argv[optind - 1], err, errlen);
}

/* Returns 0, or -1 with err (a usage error), or EX_SOFTWARE with err. */
static int parse(const ofc_startup *s, void *ctx, int argc, char **argv, ofc_cli_common *common,
                 char *err, size_t errlen)
{
    struct option long_options[COMMON_LONG_COUNT + 1 + OFC_STARTUP_MAX_OPTIONS + 1];
    size_t count = 0;
    for (size_t i = 0; i < COMMON_LONG_COUNT; i++)
        long_options[count++] = common_long_options[i];
    if (s->flags & OFC_STARTUP_METRICS)
        long_options[count++] = (struct option){"metrics", required_argument, NULL, OPT_METRICS};
    size_t own_count = 0;
    for (const struct option *own = s->long_options; own && own->name; own++) {
        if (own_count++ == OFC_STARTUP_MAX_OPTIONS) {
            snprintf(err, errlen, "%s has more than %d options of its own", s->program,
                     OFC_STARTUP_MAX_OPTIONS);
            return EX_SOFTWARE;
        }
        long_options[count++] = *own;
    }
    long_options[count] = (struct option){NULL, 0, NULL, 0};
    char short_options[2 * OFC_STARTUP_MAX_OPTIONS + sizeof(OFC_CLI_COMMON_SHORT)];
    if (snprintf(short_options, sizeof(short_options), "%s%s", OFC_CLI_COMMON_SHORT,
                 s->short_options ? s->short_options : "") >= (int)sizeof(short_options)) {
        snprintf(err, errlen, "%s has more than %d options of its own", s->program,
                 OFC_STARTUP_MAX_OPTIONS);
        return EX_SOFTWARE;
    }

    memset(common, 0, sizeof(*common));
    opterr = 0;
    optind = 0; /* glibc: start over, also for a second run in one process */
    int opt;
    while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        int taken = ofc_cli_common_option(common, opt, optarg, err, errlen);
        if (taken < 0) return -1;
        if (taken) continue;
        if (opt == OPT_METRICS) {
            if (ofc_listen_parse("--metrics", optarg, NULL, NULL, err, errlen) != 0) return -1;
            common->metrics = optarg;
        } else if (opt == '?' || !s->option) {
            bad_option(s, short_options, long_options, argv, err, errlen);
            return -1;
        } else if (s->option(ctx, opt, optarg, err, errlen) != 0) {
            return -1;
        }
    }
    if (s->operands) return s->operands(ctx, argc - optind, argv + optind, err, errlen) ? -1 : 0;
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

int ofc_startup_run(const ofc_startup *s, void *ctx, int argc, char **argv, ofc_cli_common *common,
                    ofc_config *cfg, ofc_cli_metrics *metrics)
{
    ofc_log_set_program(s->program);
    char err[1024];
    if ((s->flags & OFC_STARTUP_STOP_SIGNALS) &&
        ofc_stop_signals_install(s->flags & OFC_STARTUP_IGNORE_SIGPIPE ? OFC_SIGNALS_IGNORE_SIGPIPE
                                                                       : 0,
                                 err, sizeof(err)) != 0) {
        ofc_warn("%s", err);
        return EX_OSERR;
    }
    int status = parse(s, ctx, argc, argv, common, err, sizeof(err));
    if (status == EX_SOFTWARE) {
        ofc_warn("%s", err);
        return status;
    }
    if (status) {
        ofc_warn("%s\nTry '%s --help'.", err, s->program);
        return EX_USAGE;
    }
    if (common->help) {
        s->usage(stdout);
        return EX_OK;
    }
    if (common->version) {
        ofc_cli_print_version(s->executable);
        return EX_OK;
    }
    status = ofc_cli_build_config(common, cfg, err, sizeof(err));
    if (status) {
        ofc_warn("%s", err);
        return status;
    }
    if (s->flags & OFC_STARTUP_WARN_LIBRDKAFKA) ofc_cli_warn_librdkafka(common);
    if (s->flags & OFC_STARTUP_METRICS)
        status = ofc_cli_override(&cfg->metrics_listen, common->metrics, err, sizeof(err));
    if (!status && s->configure) status = s->configure(ctx, cfg, err, sizeof(err));
    if (status == EX_USAGE)
        ofc_warn("%s\nTry '%s --help'.", err, s->program);
    else if (status)
        ofc_warn("%s", err);
    if (status) {
        ofc_config_free(cfg);
        return status;
    }
    if (common->verbose) ofc_config_print(cfg, stderr);
    if (s->prepare && (status = s->prepare(ctx, cfg, err, sizeof(err))) != 0) {
        ofc_warn("%s", err);
        ofc_config_free(cfg);
        return status;
    }
    if (s->flags & OFC_STARTUP_METRICS) {
        status =
            ofc_cli_metrics_start(metrics, cfg, common->metrics ? "--metrics" : "metrics.listen",
                                  s->metrics_unready, err, sizeof(err));
        if (status) {
            ofc_warn("%s", err);
            if (s->unprepare) s->unprepare(ctx);
            ofc_config_free(cfg);
            return status;
        }
    }
    return OFC_STARTUP_CONTINUE;
}

int ofc_cli_override(char **slot, const char *value, char *err, size_t errlen)
{
    if (!value) return 0;
    char *copy = strdup(value);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return EX_OSERR;
    }
    free(*slot);
    *slot = copy;
    return 0;
}
