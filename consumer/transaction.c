#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/log.h"

#include "guarantee.h"
#include "transaction.h"

/* commit, abort and send_offsets get -1, "the remaining transaction time",
 * as rdkafka.h asks: any other value risks desynchronising librdkafka's
 * transaction state when a protocol request fails, and 30 s outlived
 * the 10 s transaction.timeout.ms of the time. */
#define TXN_REMAINING_TIME -1
/* init_transactions and the consumer calls beside the transaction API. */
#define INIT_TIMEOUT_MS 30000
#define OFFSETS_TIMEOUT_MS 30000
#define TXN_MAX_OUTPUTS 10000

static void note_error(transaction *txn, const char *what, rd_kafka_error_t *error)
{
    snprintf(txn->error_text, sizeof(txn->error_text), "%s: %s", what,
             rd_kafka_error_string(error));
    if (rd_kafka_error_is_fatal(error))
        txn->fatal = 1;
    else if (rd_kafka_error_txn_requires_abort(error))
        txn->needs_abort = 1;
    ofc_warn("%s%s", txn->error_text,
             txn->fatal         ? " (fatal)"
             : txn->needs_abort ? " (aborting the transaction)"
                                : "");
    rd_kafka_error_destroy(error);
}

int transaction_init(transaction *txn, ofc_kafka *producer, const ofc_config *cfg, char *err,
                     size_t errlen)
{
    memset(txn, 0, sizeof(*txn));
    txn->producer = producer;
    txn->cfg = cfg;
    rd_kafka_error_t *error = rd_kafka_init_transactions(producer->rk, INIT_TIMEOUT_MS);
    if (error) {
        /* The transactional id is GROUP-HOST-PID: the grant is by prefix. */
        char prefix[512];
        snprintf(prefix, sizeof(prefix), "%s-", cfg->consumer_group);
        int status =
            ofc_kafka_refusal(producer, rd_kafka_error_code(error), NULL, prefix, err, errlen);
        if (!status) {
            snprintf(err, errlen, "cannot initialise transactions: %s",
                     rd_kafka_error_string(error));
            status = EX_UNAVAILABLE;
        }
        rd_kafka_error_destroy(error);
        return status;
    }
    return 0;
}

void transaction_close(transaction *txn)
{
    if (txn->open && txn->producer->rk) {
        rd_kafka_error_t *error = rd_kafka_abort_transaction(txn->producer->rk, TXN_REMAINING_TIME);
        if (error) rd_kafka_error_destroy(error);
    }
    txn->open = 0;
}

void transaction_begin_if_needed(transaction *txn)
{
    if (txn->open || txn->fatal || txn->needs_abort) return;
    rd_kafka_error_t *error = rd_kafka_begin_transaction(txn->producer->rk);
    if (error) {
        note_error(txn, "begin_transaction", error);
        return;
    }
    txn->open = 1;
    txn->outputs = 0;
    txn->started_ms = -1;
}

void transaction_count(transaction *txn)
{
    txn->outputs++;
}

void transaction_mark_failed(transaction *txn, rd_kafka_resp_err_t err)
{
    if (!txn->needs_abort)
        snprintf(txn->error_text, sizeof(txn->error_text), "output not delivered: %s",
                 rd_kafka_err2str(err));
    txn->needs_abort = 1;
}

void transaction_commit(transaction *txn, rd_kafka_t *consumer)
{
    if (!txn->open || txn->fatal || txn->needs_abort) return;
    rd_kafka_topic_partition_list_t *positions = NULL;
    rd_kafka_resp_err_t rc = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (txn->processed) {
        positions = txn->processed(txn->processed_opaque);
    } else {
        rc = rd_kafka_assignment(consumer, &positions);
        if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_position(consumer, positions);
    }
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR && positions && positions->cnt > 0) {
        rd_kafka_consumer_group_metadata_t *group = rd_kafka_consumer_group_metadata(consumer);
        rd_kafka_error_t *error = rd_kafka_send_offsets_to_transaction(txn->producer->rk, positions,
                                                                       group, TXN_REMAINING_TIME);
        rd_kafka_consumer_group_metadata_destroy(group);
        if (error) {
            note_error(txn, "send_offsets_to_transaction", error);
            rd_kafka_topic_partition_list_destroy(positions);
            return;
        }
    }
    if (positions) rd_kafka_topic_partition_list_destroy(positions);
    for (int attempt = 0; attempt < 5; attempt++) {
        rd_kafka_error_t *error =
            rd_kafka_commit_transaction(txn->producer->rk, TXN_REMAINING_TIME);
        if (!error) {
            txn->open = 0;
            txn->commits++;
            return;
        }
        int retriable = rd_kafka_error_is_retriable(error);
        note_error(txn, "commit_transaction", error);
        if (!retriable) break;
    }
    if (!txn->needs_abort && !txn->fatal) {
        txn->fatal = 1;
        snprintf(txn->error_text, sizeof(txn->error_text), "commit_transaction kept failing");
    }
}

void transaction_maybe_commit(transaction *txn, rd_kafka_t *consumer, int64_t now_ms)
{
    if (!txn->open) return;
    if (txn->started_ms < 0) txn->started_ms = now_ms;
    if (txn->outputs == 0) return;
    if (txn->outputs >= TXN_MAX_OUTPUTS || now_ms - txn->started_ms >= txn->cfg->commit_interval_ms)
        transaction_commit(txn, consumer);
}

void transaction_rewind_to_committed(transaction *txn, rd_kafka_t *consumer,
                                     rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t rc = rd_kafka_committed(consumer, committed, OFFSETS_TIMEOUT_MS);
    if (rc) {
        snprintf(txn->error_text, sizeof(txn->error_text), "cannot read committed offsets: %s",
                 rd_kafka_err2str(rc));
        txn->fatal = 1;
    } else {
        /* Partitions with no committed offset start per auto.offset.reset. */
        for (int i = 0; i < committed->cnt; i++)
            parts->elems[i].offset = committed->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(committed);
}

int transaction_abort(transaction *txn)
{
    if (!txn->open) {
        txn->needs_abort = 0;
        return 0;
    }
    rd_kafka_error_t *error = rd_kafka_abort_transaction(txn->producer->rk, TXN_REMAINING_TIME);
    if (error) {
        note_error(txn, "abort_transaction", error);
        txn->fatal = 1;
        return -1;
    }
    txn->aborts++;
    txn->open = 0;
    txn->needs_abort = 0;
    return 0;
}

void transaction_abort_and_rewind(transaction *txn, rd_kafka_t *consumer)
{
    if (transaction_abort(txn) == 0) transaction_rewind_assigned(txn, consumer);
}

void transaction_rewind_assigned(transaction *txn, rd_kafka_t *consumer)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(consumer, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (assigned->cnt > 0) {
        transaction_rewind_to_committed(txn, consumer, assigned);
        for (int i = 0; i < assigned->cnt; i++)
            if (assigned->elems[i].offset < 0)
                assigned->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_error_t *seek_error =
            rd_kafka_seek_partitions(consumer, assigned, OFFSETS_TIMEOUT_MS);
        if (seek_error) note_error(txn, "seek after abort", seek_error);
    }
    rd_kafka_topic_partition_list_destroy(assigned);
}

/* ---- exactly_once behind guarantee.h ------------------------------------ */

/* The longest a rebalance holds the transaction's commit back (half of
 * transaction.timeout.ms, 30000; see OFFSETS_REBALANCE_HOLD_MAX_MS). */
#define TXN_HOLD_MAX_MS 15000

typedef struct exactly_once {
    guarantee_env env;
    transaction txn;
    int rewind_pending; /* a revoke aborted: rewind and rebuild what is kept */
    char fatal_text[600];
} exactly_once;

static const ofc_kafka_setting eos_consumer_forced[] = {
    {"enable.auto.offset.store", "false"},
    {"enable.auto.commit", "false"},
    {"isolation.level", "read_committed"},
    {NULL, NULL},
};

static void eos_producer_defaults(const ofc_config *cfg, ofc_kafka_setting *table, size_t *used,
                                  char *scratch, size_t scratch_len)
{
    /* The id ends in the pid, so no other instance shares it (transaction_init says why). */
    char hostname[128] = "host";
    gethostname(hostname, sizeof(hostname) - 1);
    snprintf(scratch, scratch_len, "%s-%s-%d", cfg->consumer_group, hostname, (int)getpid());
    /* Long enough to outlast a broker failover (the broker session
     * timeout, 9 s, then leader and coordinator elections): at 10 s, a
     * transaction open across a broker's kill -9 was aborted by its
     * coordinator and the processor fenced (chaos on a 3-node Apache
     * Kafka, docs/architecture.md). Short because a crashed instance's
     * open transaction holds read_committed readers back this long, and
     * librdkafka 2.0.2's epoch bump after an aborted sequence gap waits
     * for it too (60 s stalled the processor for 60 s). */
    table[(*used)++] = (ofc_kafka_setting){"transaction.timeout.ms", "30000"};
    table[(*used)++] = (ofc_kafka_setting){"transactional.id", scratch};
}

/* transaction.processed: the offset after the last input processed in each
 * assigned partition. */
static rd_kafka_topic_partition_list_t *processed_offsets(void *opaque)
{
    exactly_once *g = opaque;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(8);
    for (int32_t i = 0; i < g->env.partition_count; i++)
        if (g->env.states[i] && g->env.states[i]->processed >= 0)
            rd_kafka_topic_partition_list_add(list, g->env.cfg->topic_order_created, i)->offset =
                g->env.states[i]->processed;
    return list;
}

static void *eos_open(const guarantee_env *env, int *status, char *err, size_t errlen)
{
    exactly_once *g = calloc(1, sizeof(*g));
    if (!g) {
        snprintf(err, errlen, "out of memory setting up exactly_once");
        *status = EX_OSERR;
        return NULL;
    }
    g->env = *env;
    *status = transaction_init(&g->txn, env->producer, env->cfg, err, errlen);
    if (*status) {
        free(g);
        return NULL;
    }
    g->txn.processed = processed_offsets;
    g->txn.processed_opaque = g;
    return g;
}

static void eos_begin(void *self)
{
    exactly_once *g = self;
    transaction_begin_if_needed(&g->txn);
}

static void eos_produced(void *self)
{
    exactly_once *g = self;
    transaction_count(&g->txn);
}

/* The input is part of the open transaction (unless the transaction must
 * abort, when it is read again). */
static void eos_processed(void *self, partition_state *ps, int64_t offset)
{
    exactly_once *g = self;
    if (!g->txn.needs_abort) ps->processed = offset + 1;
}

/* The transaction aborts and the inputs are read again. A refusal other
 * than _STATE is not about the transaction: the processor stops. _STATE: a
 * failed delivery left the transaction needing an abort, and librdkafka
 * refuses new outputs until then (seen on Apache Kafka, a refused output). */
static int eos_output_failed(void *self, rd_kafka_resp_err_t err, int refused)
{
    exactly_once *g = self;
    if (refused && err != RD_KAFKA_RESP_ERR__STATE) return 0;
    transaction_mark_failed(&g->txn, err);
    return 1;
}

static void eos_tick(void *self, int64_t now_ms)
{
    exactly_once *g = self;
    /* Not while the group rebalances: the offsets would carry a stale
     * generation, and the refusal aborts the transaction (kafka/kafka.h);
     * a long rebalance still commits before transaction.timeout.ms. */
    if (!ofc_kafka_group_rebalancing(g->env.consumer) || g->txn.started_ms < 0 ||
        now_ms - g->txn.started_ms >= TXN_HOLD_MAX_MS)
        transaction_maybe_commit(&g->txn, g->env.consumer->rk, now_ms);
}

static void eos_settle(void *self)
{
    exactly_once *g = self;
    if (g->txn.needs_abort) {
        transaction_abort_and_rewind(&g->txn, g->env.consumer->rk);
    } else if (g->rewind_pending) {
        /* The aborted transaction also held outputs of partitions we keep
         * (cooperative protocol): read those inputs again. */
        transaction_rewind_assigned(&g->txn, g->env.consumer->rk);
    } else {
        return;
    }
    g->rewind_pending = 0;
    g->env.rebuild_assigned(g->env.opaque);
}

static void eos_assigned(void *self, rd_kafka_topic_partition_list_t *parts)
{
    exactly_once *g = self;
    transaction_rewind_to_committed(&g->txn, g->env.consumer->rk, parts);
}

/* Lost: the new owner may already be at work, so nothing of ours may commit
 * for these partitions: abort, as librdkafka's examples/transactions.c does.
 * Revoked: commit; refused, abort. */
static void eos_revoking(void *self, int lost)
{
    exactly_once *g = self;
    int aborted = 0;
    if (lost) {
        aborted = g->txn.open && transaction_abort(&g->txn) == 0;
    } else {
        transaction_commit(&g->txn, g->env.consumer->rk);
        if (g->txn.needs_abort) aborted = transaction_abort(&g->txn) == 0;
    }
    if (aborted) g->rewind_pending = 1;
}

/* Offsets commit inside the transaction, never through the consumer. */
static void eos_commit_answered(void *self, rd_kafka_resp_err_t err)
{
    (void)self;
    (void)err;
}

static int eos_finish(void *self, int clean)
{
    exactly_once *g = self;
    if (clean) transaction_commit(&g->txn, g->env.consumer->rk);
    /* Refused: the outputs must not become visible; the next owner reads
     * their inputs again from the committed offsets. */
    if (g->txn.needs_abort) transaction_abort(&g->txn);
    return 0;
}

/* The consumer's close revokes; the transaction was finished before. */
static void eos_leave(void *self, int timeout_ms)
{
    (void)self;
    (void)timeout_ms;
}

static const char *eos_fatal(void *self)
{
    exactly_once *g = self;
    if (!g->txn.fatal) return NULL;
    snprintf(g->fatal_text, sizeof(g->fatal_text), "transaction: %s", g->txn.error_text);
    return g->fatal_text;
}

static void eos_stats(void *self, guarantee_stats *out)
{
    exactly_once *g = self;
    /* A refused commit aborts the transaction. */
    *out = (guarantee_stats){
        .commit_failures = g->txn.aborts,
        .transactions_committed = g->txn.commits,
        .transactions_aborted = g->txn.aborts,
    };
}

static void eos_close(void *self)
{
    exactly_once *g = self;
    transaction_close(&g->txn);
    free(g);
}

const guarantee_ops guarantee_exactly_once = {
    .name = "exactly_once",
    .consumer_forced = eos_consumer_forced,
    .producer_defaults = eos_producer_defaults,
    .open = eos_open,
    .begin = eos_begin,
    .produced = eos_produced,
    .processed = eos_processed,
    .output_failed = eos_output_failed,
    .tick = eos_tick,
    .settle = eos_settle,
    .assigned = eos_assigned,
    .revoking = eos_revoking,
    .commit_answered = eos_commit_answered,
    .finish = eos_finish,
    .leave = eos_leave,
    .fatal = eos_fatal,
    .stats = eos_stats,
    .close = eos_close,
};
