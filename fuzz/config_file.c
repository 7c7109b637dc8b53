/* libFuzzer target: a configuration file (libconfig syntax plus the loader's
 * own pass over quoted property names) loaded as orderflow's executables load
 * -c FILE, then printed with secrets redacted. The file is a memfd, so the
 * loader reads it by path exactly as it reads a user's file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.conf", 0);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

    ofc_config cfg;
    char err[512];
    if (ofc_config_init(&cfg, err, sizeof(err)) != 0) abort();
    if (ofc_config_load_file(&cfg, path, err, sizeof(err)) == 0) {
        FILE *sink = fopen("/dev/null", "w");
        if (!sink) abort();
        ofc_config_print(&cfg, sink);
        fclose(sink);
    } else if (err[0] == '\0') {
        fprintf(stderr, "fuzz invariant broken: a refused file has no reason\n");
        abort();
    }
    ofc_config_free(&cfg);
    close(fd);
    return 0;
}
