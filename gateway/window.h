/* The offsets of a topic's records since a time (docs/gateway.md,
 * "Restart"), for the reads that rebuild the gateway's memory at start. */
#ifndef OF_GATEWAY_WINDOW_H
#define OF_GATEWAY_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "kafka/kafka.h"

/* Fills parts[p] for partition p (0..count-1) of topic: from the first
 * offset at or after since_ms to the high watermark (done when that is
 * empty), for ofc_range_open. librdkafka's mock cluster answers every
 * timestamp lookup with -1 (what a broker says when no record is that new),
 * so a lookup for timestamp 0 tells a broker that does not look timestamps
 * up from an empty window: there the read starts at the low watermark, and
 * the reader filters records by their timestamps. Errors a cluster gives
 * while it starts or moves a leader (not leader, leader not available,
 * timeouts) are asked again for up to 30 s. Returns 0 or -1 with err. */
int retention_window_parts(rd_kafka_t *rk, const char *topic, int count, int64_t since_ms,
                           int timeout_ms, ofc_range_part *parts, char *err, size_t errlen);

#endif
