#include "offsets.h"

#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include <orderflow/ids.h>

#include "cli/log.h"

#include "guarantee.h"

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

/* ---- at_least_once behind guarantee.h ----------------------------------- */

typedef struct at_least_once {
    guarantee_env env;
    offset_committer oc;
    uint64_t commit_failures;
} at_least_once;

static const ofc_kafka_setting alo_consumer_forced[] = {
    {"enable.auto.offset.store", "false"},
    {"enable.auto.commit", "false"},
    {NULL, NULL},
};

static void alo_producer_defaults(const ofc_config *cfg, ofc_kafka_setting *table, size_t *used,
                                  char *scratch, size_t scratch_len)
{
    (void)cfg;
    (void)scratch;
    (void)scratch_len;
    /* Outputs are retried until delivered: a broker outage pauses the
     * stage instead of failing events. */
    table[(*used)++] = (ofc_kafka_setting){"message.timeout.ms", "0"};
}

static void *alo_open(const guarantee_env *env, int *status, char *err, size_t errlen)
{
    at_least_once *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory setting up at_least_once");
        *status = EX_OSERR;
        return NULL;
    }
    g->env = *env;
    offsets_init(&g->oc, env->consumer->rk, env->cfg->topic_order_created, env->states,
                 env->partition_count, env->commit_interval_ms);
    g->oc.member = env->consumer;
    g->oc.static_member = env->static_member;
    return g;
}

/* Offsets follow the completion rings (partition_state.c): nothing to do per input. */
static void alo_begin(void *self)
{
    (void)self;
}

static void alo_produced(void *self)
{
    (void)self;
}

static void alo_processed(void *self, partition_state *ps, int64_t offset)
{
    (void)self;
    (void)ps;
    (void)offset;
}

/* Its input offset is never committed, so a restart re-processes it; the
 * processor stops. */
static int alo_output_failed(void *self, rd_kafka_resp_err_t err, int refused)
{
    (void)self;
    (void)err;
    (void)refused;
    return 0;
}

static void alo_tick(void *self, int64_t now_ms)
{
    at_least_once *g = self;
    offsets_tick(&g->oc, now_ms);
}

static void alo_settle(void *self)
{
    (void)self;
}

/* Reading starts at the committed offsets. */
static void alo_assigned(void *self, rd_kafka_topic_partition_list_t *parts)
{
    (void)self;
    (void)parts;
}

/* Revoked: deliver what was taken and commit, so the next owner starts
 * exactly behind it. Lost: skip the commit, which the coordinator could
 * only refuse. */
static void alo_revoking(void *self, int lost)
{
    at_least_once *g = self;
    offsets_drain(&g->oc, g->env.producer, g->env.cfg->producer_timeout_ms);
    rd_kafka_resp_err_t rc = offsets_commit_on_revoke(&g->oc, lost);
    if (rc && g->env.verbose) ofc_warn("commit on revoke: %s", rd_kafka_err2str(rc));
}

static void alo_commit_answered(void *self, rd_kafka_resp_err_t err)
{
    at_least_once *g = self;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) g->commit_failures++;
}

static int alo_finish(void *self, int clean)
{
    (void)clean;
    at_least_once *g = self;
    if (offsets_drain(&g->oc, g->env.producer, g->env.cfg->producer_timeout_ms) == 0) return 0;
    ofc_warn("%d outputs undelivered at shutdown; their inputs stay uncommitted and will be "
             "re-processed",
             rd_kafka_outq_len(g->env.producer->rk));
    return EX_UNAVAILABLE;
}

static void alo_leave(void *self, int timeout_ms)
{
    at_least_once *g = self;
    offsets_leave_assignment(&g->oc, timeout_ms);
}

static const char *alo_fatal(void *self)
{
    (void)self;
    return NULL;
}

static void alo_stats(void *self, guarantee_stats *out)
{
    at_least_once *g = self;
    *out = (guarantee_stats){.commit_failures = g->commit_failures};
}

static void alo_close(void *self)
{
    free(self);
}

const guarantee_ops guarantee_at_least_once = {
    .name = "at_least_once",
    .consumer_forced = alo_consumer_forced,
    .producer_defaults = alo_producer_defaults,
    .open = alo_open,
    .begin = alo_begin,
    .produced = alo_produced,
    .processed = alo_processed,
    .output_failed = alo_output_failed,
    .tick = alo_tick,
    .settle = alo_settle,
    .assigned = alo_assigned,
    .revoking = alo_revoking,
    .commit_answered = alo_commit_answered,
    .finish = alo_finish,
    .leave = alo_leave,
    .fatal = alo_fatal,
    .stats = alo_stats,
    .close = alo_close,
};
