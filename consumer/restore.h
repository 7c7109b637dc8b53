/* Rebuilds a partition's "already emitted" keys from Kafka when the partition
 * is assigned, the way Kafka Streams restores a store from its changelog: the
 * co-partitioned output partition holds the idempotency key of every event
 * processed from the same input partition, and the dead-letter partition the
 * source offsets of poison records. Any instance can so take over any
 * partition with nothing on local disk. */
#ifndef OF_CONSUMER_RESTORE_H
#define OF_CONSUMER_RESTORE_H

#include <signal.h>
#include <stddef.h>

#include "config/config.h"
#include "kafka/kafka.h"

#include "partition_state.h"

typedef struct restorer {
    ofc_kafka kafka;       /* assign-only consumer, no group; open only while restoring */
    rd_kafka_conf_t *conf; /* what each restore's consumer is made from */
    const ofc_config *cfg;
    size_t records_read;
} restorer;

/* Opens the consumer (so a bad configuration fails at start-up). Each
 * restore closes it when done and the next opens a new one: its threads,
 * connections and fetch buffers are not held while the processor runs. */
int restorer_open(restorer *r, const ofc_config *cfg, char *err, size_t errlen);
void restorer_close(restorer *r);

/* The dedup key of a dead-lettered input record: "dlq:<offset>" (the
 * partition is implied by the state it lives in). Returns its length. */
size_t dead_letter_key(int64_t offset, char *out, size_t outlen);

/* Reads the last cfg->dedup_window records of each state's output and
 * dead-letter partitions into its emitted set. Gives up (returns -1 with
 * err) only when *stop becomes non-zero or the cluster stays unreachable
 * for timeout_ms, or returns EX_NOPERM with err when Kafka refuses it
 * (err says how to grant it); retries otherwise. */
int restorer_restore(restorer *r, partition_state **states, size_t count,
                     volatile sig_atomic_t *stop, int timeout_ms, char *err, size_t errlen);

#endif
