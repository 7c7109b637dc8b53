/* orderflow-consumer: the processing stage and a tail for any topic. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "cli/cli.h"

#include "cli/log.h"

#include "doctor.h"
#include "lag.h"
#include "process.h"
#include "redrive.h"
#include "tail.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: orderflow-consumer COMMAND [OPTIONS]\n"
                 "\n"
                 "Commands:\n"
                 "  process       turn order_created events into data_processed events\n"
                 "  tail [TOPIC]  follow data-processed (or TOPIC), once per idempotency key\n"
                 "  redrive       re-publish dead letters to their source topic\n"
                 "  lag           a consumer group's committed offsets, log end and lag\n"
                 "  doctor        check what a command needs from the cluster (access, topics)\n"
                 "\n"
                 "'orderflow-consumer COMMAND --help' shows a command's options.\n"
                 "Example: orderflow-consumer tail --from-beginning -e\n");
}

/* glibc's defaults cost the processor ~10 MB of peak RSS (1M events on 12
 * partitions: 75-78 MB -> 62-67 MB, same CPU per event) that no data of ours
 * needs. Each librdkafka thread would get an arena of its own (up to 8 a
 * core) whose freed fetch and produce buffers stay with that thread; and
 * glibc raises its mmap threshold to the largest block freed, so fetch
 * responses of a few MB came from those arenas and stayed resident after
 * use. Two arenas and a fixed 1 MB threshold return them instead. Set
 * before any thread starts. */
static void tune_malloc(void)
{
    mallopt(M_ARENA_MAX, 2);
    mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
}

int main(int argc, char **argv)
{
    tune_malloc();
    ofc_log_set_program("orderflow-consumer");
    if (argc < 2) {
        usage(stderr);
        return EX_USAGE;
    }
    const char *command = argv[1];
    if (strcmp(command, "process") == 0) return process_main(argc - 1, argv + 1);
    if (strcmp(command, "tail") == 0) return tail_main(argc - 1, argv + 1);
    if (strcmp(command, "redrive") == 0) return redrive_main(argc - 1, argv + 1);
    if (strcmp(command, "lag") == 0) return lag_main(argc - 1, argv + 1);
    if (strcmp(command, "doctor") == 0) return doctor_main(argc - 1, argv + 1);
    if (strcmp(command, "-h") == 0 || strcmp(command, "--help") == 0) {
        usage(stdout);
        return EX_OK;
    }
    if (strcmp(command, "-V") == 0 || strcmp(command, "--version") == 0) {
        ofc_cli_print_version("orderflow-consumer");
        return EX_OK;
    }
    ofc_warn("unknown command '%s'; expected process, tail, redrive, lag or doctor", command);
    usage(stderr);
    return EX_USAGE;
}
