/* What every orderflow-consumer subcommand does first, once its options are
 * parsed: a usage error, --help, --version, or the effective configuration
 * (with -v printed on stderr). */
#ifndef OF_CONSUMER_SUBCOMMAND_H
#define OF_CONSUMER_SUBCOMMAND_H

#include <stdio.h>

#include "cli/cli.h"
#include "config/config.h"

/* parse_status and parse_err: what the subcommand's option parser returned
 * (0, or non-zero with the message). Returns -1 when the subcommand goes on
 * with cfg built (the caller frees it), else its exit status, with anything
 * to say said and cfg not built. */
int subcommand_start(const char *command, int parse_status, const char *parse_err,
                     const ofc_cli_common *common, void (*usage)(FILE *out), ofc_config *cfg);

#endif
