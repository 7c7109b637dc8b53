/* What the processor says about each event on its output (a line for people,
 * a JSON object per line with --json, or nothing with -q) and the counter
 * line it writes with -v. Kept apart from processor.c so the formats can be
 * tested without Kafka. */
#ifndef OF_CONSUMER_REPORT_H
#define OF_CONSUMER_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <yajl/yajl_gen.h>

#include <orderflow/envelope.h>

#include "processor.h"

typedef struct reporter {
    processor_output output;
    FILE *out;     /* caller's stream; NULL writes nothing */
    yajl_gen json; /* for PROCESSOR_OUTPUT_JSON */
} reporter;

/* Returns 0, or -1 when out of memory. out stays the caller's. */
int reporter_init(reporter *r, processor_output output, FILE *out);
void reporter_close(reporter *r);

/* One line for the input at partition/offset: outcome ("accepted",
 * "rejected", "duplicate", "dead-lettered"), the order id when known
 * ({NULL, 0} otherwise), the result when the rules ran (may be NULL) and a
 * reason (may be NULL). */
void report_event(reporter *r, const char *outcome, int32_t partition, int64_t offset,
                  of_str order_id, const of_processed *result, const char *reason);

/* "PROGRAM: consumed N, accepted N, ..., in flight N" on out. */
void report_counters(FILE *out, const processor_counters *c, int in_flight);

#endif
