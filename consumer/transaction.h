/* exactly_once: consume-transform-produce inside Kafka transactions. The
 * outputs and the input offsets commit together or not at all. */
#ifndef OF_CONSUMER_TRANSACTION_H
#define OF_CONSUMER_TRANSACTION_H

#include <stdint.h>

#include "config/config.h"
#include "kafka/kafka.h"

typedef struct transaction {
    ofc_kafka *producer;
    const ofc_config *cfg;
    int open;
    int needs_abort;
    int fatal;
    int64_t started_ms;
    uint64_t outputs;
    uint64_t commits;
    uint64_t aborts;
    char error_text[512];
    /* The input offsets the open transaction stands for: a new list of the
     * offset after the last input processed in each partition (set by the
     * processor; NULL: the consumer's positions). Not the positions: a
     * batch of messages is returned (and the positions advanced) before
     * they are processed, and librdkafka can serve a rebalance callback,
     * which commits, in the middle of fetching that batch. */
    rd_kafka_topic_partition_list_t *(*processed)(void *opaque);
    void *processed_opaque;
} transaction;

/* init_transactions: registers the producer's transactional.id with the
 * coordinator, which aborts a transaction an earlier producer with the same
 * id left open. The processor's id ends in its pid, so no other instance
 * shares it and this fences nobody; a member that lost its partitions is
 * fenced by its group generation instead (KIP-447: send_offsets carries the
 * consumer group metadata, and the coordinator refuses a stale generation).
 * docs/architecture.md, "Zombies: why the transactional id is per process",
 * says why that is enough.
 * Returns 0, or with err EX_NOPERM (Write on the transactional ids refused:
 * err says how to grant it) or EX_UNAVAILABLE. */
int transaction_init(transaction *txn, ofc_kafka *producer, const ofc_config *cfg, char *err,
                     size_t errlen);
void transaction_close(transaction *txn);
void transaction_begin_if_needed(transaction *txn);
void transaction_count(transaction *txn);
/* A delivery failed inside the open transaction: it must abort. */
void transaction_mark_failed(transaction *txn, rd_kafka_resp_err_t err);
/* Commits when the interval has passed or enough outputs are pending. */
void transaction_maybe_commit(transaction *txn, rd_kafka_t *consumer, int64_t now_ms);
/* Sends the input offsets (txn->processed) and commits the open transaction.
 * When it cannot (an output failed, or the commit was refused), needs_abort
 * is set and the caller aborts: the processor must also rebuild the
 * emitted sets and input positions the aborted outputs stood for. */
void transaction_commit(transaction *txn, rd_kafka_t *consumer);
/* Aborts the open transaction: its outputs are never visible to
 * read_committed readers. With none open (an output was refused because a
 * rebalance callback had just committed the last one) there is nothing to
 * abort. Returns 0, or -1 (logged; the transaction state is then fatal). */
int transaction_abort(transaction *txn);
/* Seeks every assigned partition back to its committed offset, so inputs
 * whose outputs were aborted are read again. */
void transaction_rewind_assigned(transaction *txn, rd_kafka_t *consumer);
/* transaction_abort, then transaction_rewind_assigned when it succeeded. */
void transaction_abort_and_rewind(transaction *txn, rd_kafka_t *consumer);
/* Seeks the given partitions to their committed offsets (after assignment). */
void transaction_rewind_to_committed(transaction *txn, rd_kafka_t *consumer,
                                     rd_kafka_topic_partition_list_t *parts);

#endif
