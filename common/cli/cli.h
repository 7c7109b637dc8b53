/* Options the producer and the consumer commands share (docs/operations.md,
 * "Command line"; kcat's letters):
 * -b/--brokers, -c/--config, -X/--property, -t/--topic, -q, -v, -h, -V,
 * and building the effective configuration in precedence order:
 * defaults < config file < ORDERFLOW_BROKERS < command line. */
#ifndef OFC_CLI_H
#define OFC_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "config/config.h"

#define OFC_CLI_COMMON_SHORT "b:c:X:t:qvhV"
#define OFC_CLI_COMMON_LONG                                                                        \
    {"brokers", required_argument, NULL, 'b'}, {"config", required_argument, NULL, 'c'},           \
        {"property", required_argument, NULL, 'X'}, {"topic", required_argument, NULL, 't'},       \
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},                    \
        {"help", no_argument, NULL, 'h'},                                                          \
    {                                                                                              \
        "version", no_argument, NULL, 'V'                                                          \
    }

#define OFC_CLI_MAX_PROPERTIES 256

/* The common options as given; strings point into argv. */
typedef struct ofc_cli_common {
    const char *config_path;
    const char *brokers;
    const char *topic;
    const char *properties[OFC_CLI_MAX_PROPERTIES]; /* "KEY=VALUE", in order */
    size_t property_count;
    int quiet;
    int verbose;
    int help;
    int version;
    const char *metrics; /* --metrics, where the program takes it (cli/startup.h) */
} ofc_cli_common;

/* Handles one getopt result if it is a common option: returns 1 when taken,
 * 0 when opt is not a common option, -1 on a bad argument (err says which). */
int ofc_cli_common_option(ofc_cli_common *common, int opt, const char *arg, char *err,
                          size_t errlen);

/* Initializes cfg and applies, in order, the config file, the environment and
 * the command line. Returns 0, or a sysexits status (EX_CONFIG, EX_NOINPUT,
 * EX_OSERR) with err naming the file and line or option at fault; cfg is then
 * freed. */
int ofc_cli_build_config(const ofc_cli_common *common, ofc_config *cfg, char *err, size_t errlen);

/* Parses a non-negative integer option value in [min, max]. Returns 0 or -1
 * with err naming the option ("--rate: expected an integer 1..1000000, got 'x'"). */
int ofc_cli_parse_long(const char *option, const char *arg, long long min, long long max,
                       long long *out, char *err, size_t errlen);

/* Prints "PROGRAM VERSION (librdkafka X, yajl Y, libconfig Z)", VERSION being
 * of_version_str() (<orderflow/version.h>). */
void ofc_cli_print_version(const char *program);

/* At the start of a long-running command (the producer, the processor, the
 * gateway): one warning line when the loaded librdkafka has a known bug that
 * can crash a client or fail its work (kafka/versions.h), naming each and
 * the version that fixes it; nothing with -q. */
void ofc_cli_warn_librdkafka(const ofc_cli_common *common);

#endif
