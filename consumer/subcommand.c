#include <sysexits.h>

#include "cli/log.h"

#include "subcommand.h"

int subcommand_start(const char *command, int parse_status, const char *parse_err,
                     const ofc_cli_common *common, void (*usage)(FILE *out), ofc_config *cfg)
{
    if (parse_status != 0) {
        ofc_warn("%s\nTry 'orderflow-consumer %s --help'.", parse_err, command);
        return EX_USAGE;
    }
    if (common->help) {
        usage(stdout);
        return EX_OK;
    }
    if (common->version) {
        ofc_cli_print_version("orderflow-consumer");
        return EX_OK;
    }
    char err[1024];
    int status = ofc_cli_build_config(common, cfg, err, sizeof(err));
    if (status) {
        ofc_warn("%s", err);
        return status;
    }
    if (common->verbose) ofc_config_print(cfg, stderr);
    return -1;
}
