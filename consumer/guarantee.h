/* The delivery guarantee of the processing stage, behind one interface: the
 * loop (processor.c) calls these named steps at fixed points of
 * consume -> process -> produce -> commit and never asks which guarantee it
 * runs. at_least_once lives in offsets.c, exactly_once in transaction.c; a
 * change to one guarantee touches its file only. The shape follows
 * librdkafka's examples/transactions.c: begin, commit when due, and on an
 * error a switch between carrying on, abort_and_rewind, and stopping
 * (docs/architecture.md, "The processing stage"). */
#ifndef OF_CONSUMER_GUARANTEE_H
#define OF_CONSUMER_GUARANTEE_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "kafka/kafka.h"

#include "partition_state.h"

/* What a guarantee may use of the processor; all of it stays the
 * processor's and outlives the guarantee. */
typedef struct guarantee_env {
    ofc_kafka *producer;
    ofc_kafka *consumer;
    const ofc_config *cfg;
    partition_state *const *states; /* by partition number; NULL when not assigned */
    int32_t partition_count;
    int commit_interval_ms; /* the consumer's auto.commit.interval.ms */
    int static_member;      /* group.instance.id set */
    int verbose;
    /* Outputs were aborted: the processor rebuilds the emitted keys of what
     * it keeps assigned (they were restored counting those outputs). */
    void (*rebuild_assigned)(void *opaque);
    void *opaque;
} guarantee_env;

typedef struct guarantee_stats {
    uint64_t commit_failures; /* commits the broker refused */
    uint64_t transactions_committed;
    uint64_t transactions_aborted;
} guarantee_stats;

typedef struct guarantee_ops {
    const char *name; /* "at_least_once", as in the configuration */
    /* Consumer properties the guarantee depends on ({NULL, NULL} ends it). */
    const ofc_kafka_setting *consumer_forced;
    /* Appends its producer defaults (at most 2 entries) at table[*used];
     * scratch (scratch_len bytes) holds any value built, and must outlive
     * the table. */
    void (*producer_defaults)(const ofc_config *cfg, ofc_kafka_setting *table, size_t *used,
                              char *scratch, size_t scratch_len);
    /* After the clients exist, before the group is joined. Returns the
     * guarantee's state, or NULL with err and *status (a sysexits status:
     * EX_NOPERM when Kafka refuses what it needs). */
    void *(*open)(const guarantee_env *env, int *status, char *err, size_t errlen);
    /* Before an input is processed (and before each consume). */
    void (*begin)(void *self);
    /* An output (data_processed or dead letter) was produced for the input. */
    void (*produced)(void *self);
    /* The input at offset of ps is processed (its outputs produced or none needed). */
    void (*processed)(void *self, partition_state *ps, int64_t offset);
    /* An output failed: delivery reported err (refused = 0), or the
     * producer refused it (refused = 1). Returns 1 when the guarantee
     * recovers by reading the input again, 0 when the processor must stop. */
    int (*output_failed)(void *self, rd_kafka_resp_err_t err, int refused);
    /* Housekeeping: commits what is due. */
    void (*tick)(void *self, int64_t now_ms);
    /* After a batch and after a revoke: abort_and_rewind when an error asked
     * for it, then env->rebuild_assigned. */
    void (*settle)(void *self);
    /* Partitions are being assigned: sets parts' offsets where reading must start
     * (unchanged when the committed offsets do). */
    void (*assigned)(void *self, rd_kafka_topic_partition_list_t *parts);
    /* Partitions are being revoked (lost: the group moved on without us):
     * finishes what was taken from them, before they are released. */
    void (*revoking)(void *self, int lost);
    /* The consumer's commit of stored offsets was answered. */
    void (*commit_answered)(void *self, rd_kafka_resp_err_t err);
    /* Shutdown, before leaving: commits what is finished. clean: no fatal
     * error so far. Returns 0 or a sysexits status (said on stderr). */
    int (*finish)(void *self, int clean);
    /* Leaves the assignment before the consumer is closed (at most timeout_ms). */
    void (*leave)(void *self, int timeout_ms);
    /* NULL, or why the guarantee cannot go on (the processor stops). */
    const char *(*fatal)(void *self);
    void (*stats)(void *self, guarantee_stats *out);
    /* After the consumer is destroyed, before the producer is. */
    void (*close)(void *self);
} guarantee_ops;

extern const guarantee_ops guarantee_at_least_once; /* offsets.c */
extern const guarantee_ops guarantee_exactly_once;  /* transaction.c */

#endif
