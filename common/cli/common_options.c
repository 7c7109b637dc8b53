/* Options shared by the executables, and the configuration they produce. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <libconfig.h>
#include <librdkafka/rdkafka.h>
#include <yajl/yajl_version.h>

#include <orderflow/version.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "kafka/versions.h"

int ofc_cli_common_option(ofc_cli_common *common, int opt, const char *arg, char *err,
                          size_t errlen)
{
    switch (opt) {
    case 'b':
        if (!*arg) {
            snprintf(err, errlen, "-b/--brokers: expected HOST:PORT[,HOST:PORT...], got ''");
            return -1;
        }
        common->brokers = arg;
        return 1;
    case 'c':
        common->config_path = arg;
        return 1;
    case 'X':
        if (common->property_count == OFC_CLI_MAX_PROPERTIES) {
            snprintf(err, errlen, "-X: more than %d properties; use a config file",
                     OFC_CLI_MAX_PROPERTIES);
            return -1;
        }
        common->properties[common->property_count++] = arg;
        return 1;
    case 't':
        if (!*arg) {
            snprintf(err, errlen, "-t/--topic: expected a topic name, got ''");
            return -1;
        }
        common->topic = arg;
        return 1;
    case 'q':
        common->quiet = 1;
        return 1;
    case 'v':
        common->verbose++;
        return 1;
    case 'h':
        common->help = 1;
        return 1;
    case 'V':
        common->version = 1;
        return 1;
    default:
        return 0;
    }
}

int ofc_cli_build_config(const ofc_cli_common *common, ofc_config *cfg, char *err, size_t errlen)
{
    /* Before any Kafka client exists: librdkafka's log follows -q and -v. */
    ofc_log_set_verbosity(common->quiet     ? OFC_LOG_QUIET
                          : common->verbose ? OFC_LOG_VERBOSE
                                            : OFC_LOG_NORMAL);
    if (ofc_config_init(cfg, err, errlen) != 0) return EX_OSERR;
    if (common->config_path) {
        FILE *file = ofc_config_open_file(common->config_path, err, errlen);
        if (!file) {
            /* A file we cannot open is an input problem, not a configuration one. */
            ofc_config_free(cfg);
            return EX_NOINPUT;
        }
        if (ofc_config_load_stream(cfg, file, common->config_path, err, errlen) != 0)
            goto config_error;
    }
    if (ofc_config_apply_env(cfg, err, errlen) != 0) goto config_error;
    if (common->brokers && ofc_config_set_brokers(cfg, common->brokers, err, errlen) != 0)
        goto config_error;
    for (size_t i = 0; i < common->property_count; i++)
        if (ofc_config_set_property_arg(cfg, common->properties[i], err, errlen) != 0)
            goto config_error;
    return 0;
config_error:
    ofc_config_free(cfg);
    return EX_CONFIG;
}

int ofc_cli_parse_long(const char *option, const char *arg, long long min, long long max,
                       long long *out, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long value = strtoll(arg, &end, 10);
    if (errno || end == arg || *end || value < min || value > max) {
        snprintf(err, errlen, "%s: expected an integer %lld..%lld, got '%s'", option, min, max,
                 arg);
        return -1;
    }
    *out = value;
    return 0;
}

void ofc_cli_print_version(const char *program)
{
    printf("%s %s (librdkafka %s, yajl %d.%d.%d, libconfig %d.%d)\n", program, of_version_str(),
           rd_kafka_version_str(), YAJL_MAJOR, YAJL_MINOR, YAJL_MICRO, LIBCONFIG_VER_MAJOR,
           LIBCONFIG_VER_MINOR);
}

void ofc_cli_warn_librdkafka(const ofc_cli_common *common)
{
    char line[512];
    if (!common->quiet && ofc_kafka_version_warning(rd_kafka_version(), line, sizeof(line)))
        ofc_warn("%s", line);
}
