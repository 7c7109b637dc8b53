#include <stdio.h>
#include <string.h>

#include "cli/log.h"

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
        snprintf(err, errlen, "cannot initialise transactions: %s", rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return -1;
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
