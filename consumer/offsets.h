/* at_least_once: which input offsets the processor commits, and when. An
 * input's offset is stored only once every output before it is delivered
 * (partition_state.committable), stored offsets are committed every
 * auto.commit.interval.ms, and leaving the assignment commits them a last
 * time. exactly_once commits offsets inside the transaction instead
 * (transaction.h). */
#ifndef OF_CONSUMER_OFFSETS_H
#define OF_CONSUMER_OFFSETS_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "kafka/kafka.h"

#include "partition_state.h"

/* How often the committable offsets are handed to librdkafka. */
#define OFFSETS_STORE_INTERVAL_MS 100
/* The longest a rebalance holds the periodic commit back: a group that
 * does not settle must not stop committing altogether, though a commit
 * then may lose the assignment. Rebalances on Kafka settled in 1-2 s, on
 * librdkafka's mock cluster with both cores busy in up to 20 s (a 10 s cap
 * lost an assignment there). */
#define OFFSETS_REBALANCE_HOLD_MAX_MS 60000

typedef struct offset_committer {
    rd_kafka_t *consumer;
    const char *topic;              /* the input topic (caller's string) */
    partition_state *const *states; /* by partition number; NULL when not assigned */
    int32_t partition_count;
    int commit_interval_ms;
    int64_t last_store_ms;
    int64_t last_commit_ms;
    int uncommitted; /* offsets stored since the last commit */
    /* The consumer's ofc_kafka when made by ofc_kafka_new_member (else NULL):
     * no periodic commit while its group rebalances (kafka/kafka.h says why). */
    ofc_kafka *member;
    int64_t held_since_ms; /* when a rebalance began holding the commit back, -1: none */
    /* group.instance.id is set: leaving the assignment must not leave the
     * group, so that a restart within session.timeout.ms rebalances nothing. */
    int static_member;
} offset_committer;

/* Starts with nothing stored. states (partition_count entries) stays the
 * caller's and is read on every call. */
void offsets_init(offset_committer *oc, rd_kafka_t *consumer, const char *topic,
                  partition_state *const *states, int32_t partition_count, int commit_interval_ms);

/* Stores each assigned partition's committable offset that moved since its
 * last store. Returns how many partitions it stored. A partition librdkafka
 * no longer counts as assigned (revoked meanwhile) is skipped quietly. */
int offsets_store(offset_committer *oc);

/* Call from the loop with of_monotonic_ms(): stores every
 * OFFSETS_STORE_INTERVAL_MS and, when something was stored, starts an
 * asynchronous commit every commit_interval_ms, except while the member's
 * group rebalances (the commit then waits until the rebalance is over, at
 * most OFFSETS_REBALANCE_HOLD_MAX_MS). */
void offsets_tick(offset_committer *oc, int64_t now_ms);

/* Waits until the producer has nothing in flight (at most timeout_ms, less
 * when it fails fatally), then stores. Returns 0 when everything was
 * delivered, -1 when outputs remain (their inputs stay uncommitted). */
int offsets_drain(offset_committer *oc, ofc_kafka *producer, int timeout_ms);

/* The partitions are being revoked: commits the stored offsets and waits for
 * the answer, so the next owner starts right behind the delivered outputs.
 * When the assignment is lost instead (the group moved on without us), a
 * commit can only fail, so none is attempted. Returns the commit's error,
 * RD_KAFKA_RESP_ERR_NO_ERROR also when there was nothing to commit. */
rd_kafka_resp_err_t offsets_commit_on_revoke(offset_committer *oc, int lost);

/* Leaves the assignment the way a rebalance does before the close: commit
 * and wait (at most timeout_ms) for the coordinator's answer, unsubscribe,
 * and serve the revoke until nothing is assigned (at most timeout_ms more).
 * A static member only commits: librdkafka 2.0.2 sends LeaveGroup on an
 * unsubscribe even for a static member (rdkafka_cgrp.c,
 * rd_kafka_cgrp_leave_maybe spares only a terminating one), and the close
 * that follows revokes without leaving.
 * The close then has no commit or partition stop to wait for; a close that
 * waits for one can abort in librdkafka 2.0.2 (rdkafka_cgrp.c:2583). */
void offsets_leave_assignment(offset_committer *oc, int timeout_ms);

#endif
