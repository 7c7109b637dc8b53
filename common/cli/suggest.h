/* "did you mean" for the command line, as the config file has for its keys
 * (common/config/config_file.c): a mistyped long option is answered with the
 * closest one the command takes. */
#ifndef OFC_CLI_SUGGEST_H
#define OFC_CLI_SUGGEST_H

#include <getopt.h>
#include <stddef.h>

/* The name of the long option in longopts (ended by a NULL name) closest to
 * what the user typed ("--brokrs" or "--brokrs=X" -> "brokers"), or NULL when
 * none is within two typos (fewer for short words). */
const char *ofc_cli_suggest_option(const struct option *longopts, const char *typed);

/* The usage error for an option getopt_long refused ('?'), typed as
 * argv[optind - 1]: "option '--brokers' needs a value", "option '--brokrs' is
 * unknown; did you mean '--brokers'?", or "option '-x' is unknown or needs a
 * value". */
void ofc_cli_bad_option(const struct option *longopts, const char *typed, char *err, size_t errlen);

#endif
