/* libFuzzer target: the producer's input path — JSON lines read with the
 * bounded line reader, each decoded as an order and processed, as
 * orderflow-producer FILE does before publishing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <orderflow/envelope.h>
#include <orderflow/processing.h>

#include "line_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that the fuzzer reaches the too-long path often. */
#define FUZZ_MAX_LINE 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static of_decoder *dec;
    if (!dec && !(dec = of_decoder_new(NULL))) abort();
    if (size == 0) return 0; /* fmemopen refuses an empty buffer */
    FILE *file = fmemopen((void *)data, size, "r");
    if (!file) abort();
    line_reader reader;
    if (line_reader_open(&reader, file, FUZZ_MAX_LINE) != 0) abort();
    const char *line;
    size_t len;
    line_status status;
    while ((status = line_reader_next(&reader, &line, &len)) != LINE_EOF) {
        if (status != LINE_OK) continue;
        if (len > FUZZ_MAX_LINE) abort();
        of_order order;
        char why[512];
        if (of_decode_order(dec, line, len, &order, why, sizeof(why)) != OF_OK) continue;
        of_processed result;
        char reason[OF_REASON_MAX];
        of_process_order(&order, &result, reason);
    }
    line_reader_close(&reader);
    fclose(file);
    return 0;
}
