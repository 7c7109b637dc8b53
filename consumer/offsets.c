#include "offsets.h"

#include <orderflow/ids.h>

#include "cli/log.h"

void offsets_init(offset_committer *oc, rd_kafka_t *consumer, const char *topic,
                  partition_state *const *states, int32_t partition_count, int commit_interval_ms)
{
    *oc = (offset_committer){
        .consumer = consumer,
        .topic = topic,
        .states = states,
        .partition_count = partition_count,
        .commit_interval_ms = commit_interval_ms,
        .held_since_ms = -1,
    };
}

int offsets_store(offset_committer *oc)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int32_t i = 0; i < oc->partition_count; i++) {
        partition_state *ps = oc->states[i];
        if (!ps || ps->committable < 0 || ps->committable == ps->stored) continue;
        if (!list) list = rd_kafka_topic_partition_list_new(oc->partition_count);
        rd_kafka_topic_partition_list_add(list, oc->topic, i)->offset = ps->committable;
        ps->stored = ps->committable;
    }
    if (!list) return 0;
    int stored = list->cnt;
    oc->uncommitted = 1;
    rd_kafka_resp_err_t rc = rd_kafka_offsets_store(oc->consumer, list);
    if (rc && rc != RD_KAFKA_RESP_ERR__STATE)
        ofc_warn("cannot store offsets: %s", rd_kafka_err2str(rc));
    /* A fresh list each time: librdkafka attaches partition references to the
     * elements that only list_destroy releases (at most every 100 ms). */
    rd_kafka_topic_partition_list_destroy(list);
    return stored;
}

/* The processor commits rather than librdkafka's auto-commit timer: in 2.0.2
 * that timer can start a commit after the group has decided to terminate and
 * before it tears down, which aborts consumer_close (rdkafka_cgrp.c:2583)
 * when the close had waited for a commit that timed out for want of a
 * coordinator, as after a broker outage. Asynchronous; a failure is logged by
 * librdkafka (COMMITFAIL) and the next commit carries the same or later
 * offsets. */
static void commit_stored(offset_committer *oc, int64_t now_ms)
{
    oc->last_commit_ms = now_ms;
    oc->uncommitted = 0;
    rd_kafka_resp_err_t rc = rd_kafka_commit(oc->consumer, NULL, 1);
    if (rc && rc != RD_KAFKA_RESP_ERR__NO_OFFSET)
        ofc_warn("cannot commit offsets: %s", rd_kafka_err2str(rc));
}

void offsets_tick(offset_committer *oc, int64_t now_ms)
{
    if (now_ms - oc->last_store_ms >= OFFSETS_STORE_INTERVAL_MS) {
        offsets_store(oc);
        oc->last_store_ms = now_ms;
    }
    int hold = oc->member && ofc_kafka_group_rebalancing(oc->member);
    if (!hold)
        oc->held_since_ms = -1;
    else if (oc->held_since_ms < 0)
        oc->held_since_ms = now_ms;
    else if (now_ms - oc->held_since_ms >= OFFSETS_REBALANCE_HOLD_MAX_MS)
        hold = 0;
    if (oc->uncommitted && now_ms - oc->last_commit_ms >= oc->commit_interval_ms && !hold)
        commit_stored(oc, now_ms);
}

int offsets_drain(offset_committer *oc, ofc_kafka *producer, int timeout_ms)
{
    int64_t deadline = of_monotonic_ms() + timeout_ms;
    while (rd_kafka_outq_len(producer->rk) > 0 && of_monotonic_ms() < deadline && !producer->fatal)
        rd_kafka_poll(producer->rk, 50);
    offsets_store(oc);
    return rd_kafka_outq_len(producer->rk) == 0 ? 0 : -1;
}

rd_kafka_resp_err_t offsets_commit_on_revoke(offset_committer *oc, int lost)
{
    if (lost) return RD_KAFKA_RESP_ERR_NO_ERROR;
    oc->uncommitted = 0;
    rd_kafka_resp_err_t rc = rd_kafka_commit(oc->consumer, NULL, 0);
    return rc == RD_KAFKA_RESP_ERR__NO_OFFSET ? RD_KAFKA_RESP_ERR_NO_ERROR : rc;
}

void offsets_leave_assignment(offset_committer *oc, int timeout_ms)
{
    rd_kafka_t *rk = oc->consumer;
    rd_kafka_queue_t *results = rd_kafka_queue_new(rk);
    if (rd_kafka_commit_queue(rk, NULL, results, NULL, NULL) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_event_t *done = rd_kafka_queue_poll(results, timeout_ms);
        if (done) rd_kafka_event_destroy(done);
    }
    rd_kafka_queue_destroy(results);
    if (oc->static_member) return;
    if (rd_kafka_unsubscribe(rk) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    /* Monotonic: a wall-clock step must not cut the wait short or stretch it. */
    int64_t deadline = of_monotonic_ms() + timeout_ms;
    while (of_monotonic_ms() < deadline) {
        /* Serves the revoke callback; a message fetched meanwhile is left
         * uncommitted, for the next owner. */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m) rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *assigned = NULL;
        if (rd_kafka_assignment(rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) break;
        int empty = assigned->cnt == 0;
        rd_kafka_topic_partition_list_destroy(assigned);
        if (empty) break;
    }
}
