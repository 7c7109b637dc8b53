/* librdkafka glue shared by the executables: configuration from ofc_config,
 * client lifetime with error tracking, metadata checks, error classification.
 * Knows nothing about orders or envelopes. */
#ifndef OFC_KAFKA_H
#define OFC_KAFKA_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "config/config.h"
#include "kafka/versions.h"
#include "util/timer.h"

typedef struct ofc_kafka_setting {
    const char *key;
    const char *value;
} ofc_kafka_setting;

/* Builds a librdkafka configuration: `defaults` (the program's choices, may be
 * NULL; ends with a {NULL, NULL} entry), then bootstrap.servers = cfg->brokers,
 * then cfg's properties in order (the user's choices win over defaults), then
 * `forced` (settings the program's guarantees depend on; a user property that
 * contradicts one is an error naming its origin). Returns a new conf the
 * caller owns, or NULL with err naming the property, its origin and what
 * librdkafka said. */
rd_kafka_conf_t *ofc_kafka_conf_new(const ofc_config *cfg, const ofc_kafka_setting *defaults,
                                    const ofc_kafka_setting *forced, char *err, size_t errlen);

/* ofc_kafka_conf_new for a member of a consumer group (the processor):
 * consumer.group_protocol too, as the property group.protocol with the
 * file's line as its origin, so that its refusals read like -X's; a
 * group.protocol from -X wins over it, and one from kafka.properties that
 * disagrees with it is an error naming both lines. */
rd_kafka_conf_t *ofc_kafka_member_conf_new(const ofc_config *cfg, const ofc_kafka_setting *defaults,
                                           const ofc_kafka_setting *forced, char *err,
                                           size_t errlen);

/* The idempotent producer's forced settings (presets.c says why each):
 * every orderflow producer uses them, through ofc_kafka_producer_conf_new. */
extern const ofc_kafka_setting ofc_kafka_idempotent_producer[];

/* ofc_kafka_conf_new for a producer: the program's defaults, the user's
 * properties, then ofc_kafka_idempotent_producer forced. */
rd_kafka_conf_t *ofc_kafka_producer_conf_new(const ofc_config *cfg,
                                             const ofc_kafka_setting *defaults, char *err,
                                             size_t errlen);

/* message.max.bytes for a producer that dead-letters records of up to
 * max_record_bytes (limits.max_record_bytes) with their headers: twice that
 * plus 64 KiB, and never below librdkafka's default of 1,000,000. */
size_t ofc_kafka_dead_letter_message_max(size_t max_record_bytes);

/* The first certificate check that failed on a connection to a broker. */
typedef struct ofc_kafka_tls_failure {
    int x509_error; /* OpenSSL's X509_V_ERR_*, 0: none */
    int depth;      /* 0: the broker's own certificate */
    char broker[256];
} ofc_kafka_tls_failure;

/* A client handle plus what its error callback saw. The callbacks run on the
 * thread that polls the handle, so the fields need no locking, except the
 * certificate check's (librdkafka's broker threads), under tls_lock. */
typedef struct ofc_kafka {
    rd_kafka_t *rk;
    int all_brokers_down; /* __ALL_BROKERS_DOWN seen since ofc_kafka_unreachable_due said so */
    ofc_timer unreachable_report;   /* ofc_kafka_unreachable_due's interval */
    rd_kafka_resp_err_t last_error; /* last error event, RD_KAFKA_RESP_ERR_NO_ERROR if none */
    char last_error_text[512];
    uint64_t error_count;
    uint64_t connection_errors; /* refused, unresolvable or all brokers down */
    int fatal;                  /* librdkafka raised a fatal error: the handle is unusable */
    void *app_opaque;           /* for the program's own callbacks */
    /* ofc_kafka_new_member only. The log callback runs on librdkafka's own
     * threads, hence the atomic. */
    int track_group;                   /* follow the group's join state */
    int hide_debug;                    /* debug lines: asked for by this glue, not the user */
    atomic_int group_rebalancing;      /* the join state is not steady */
    atomic_int group_protocol_refused; /* the broker has no KIP-848 groups */
    /* Authentication or TLS failure (common/kafka/security.c). */
    rd_kafka_resp_err_t security_error; /* the first seen, NO_ERROR if none */
    char security_text[512];
    pthread_mutex_t tls_lock;
    ofc_kafka_tls_failure tls_failure;
} ofc_kafka;

/* Creates the client (producer or consumer per type) from conf, which it takes
 * ownership of (also on failure). Installs an error callback that fills the
 * fields above; callbacks set on conf before this call keep working and can
 * reach app_opaque through ofc_kafka_app_opaque(rk_opaque). Returns 0, or -1
 * with err. */
int ofc_kafka_new(ofc_kafka *kafka, rd_kafka_type_t type, rd_kafka_conf_t *conf, void *app_opaque,
                  char *err, size_t errlen);
/* ofc_kafka_new for a consumer that joins a group, following the group's
 * join state for ofc_kafka_group_rebalancing. librdkafka tells that state
 * only in its cgrp debug lines: "cgrp" is added to the debug property, and
 * unless the user asked for debug output those lines are not printed. */
int ofc_kafka_new_member(ofc_kafka *kafka, rd_kafka_conf_t *conf, void *app_opaque, char *err,
                         size_t errlen);
/* 1 while the group of an ofc_kafka_new_member consumer is rebalancing (its
 * join state is not steady), else 0. librdkafka 1.6.0 to 2.9.x takes an
 * offset commit refused with ILLEGAL_GENERATION during a rebalance for a lost
 * assignment and revokes every partition (OFC_KAFKA_BUG_COMMIT_IN_REBALANCE,
 * librdkafka issue #4059, fixed by #4908 in 2.10.0): a commit sent while the
 * member waits for its JoinGroup reaches the coordinator after the
 * generation changed. Commit only when this is 0. Always 0 where the loaded
 * librdkafka has no such bug (the group is not followed there). */
int ofc_kafka_group_rebalancing(ofc_kafka *kafka);
/* 1 once the broker has refused a group.protocol=consumer (KIP-848) member's
 * heartbeat as unsupported (a broker before Kafka 4.0, or one whose
 * group.coordinator.rebalance.protocols leaves out consumer): librdkafka
 * would retry for ever without joining. Else 0. */
int ofc_kafka_group_protocol_refused(ofc_kafka *kafka);
/* Destroys the handle (no flush: callers flush/close first). */
void ofc_kafka_destroy(ofc_kafka *kafka);
/* For a handle that must not be destroyed (a librdkafka bug would abort the
 * process): forgets it without destroying it, and the process, about to
 * exit, keeps it, its threads and its memory until then. Under
 * AddressSanitizer the handle is marked as kept on purpose: LeakSanitizer
 * would otherwise report its memory as leaked (and exit 1) whenever no
 * running thread of the handle happens to hold a pointer to it at exit. */
void ofc_kafka_leave_to_exit(ofc_kafka *kafka);
/* 1 when every broker has been down since the last time this returned 1 and
 * at least interval_ms have passed since then (now_ms: of_monotonic_ms()):
 * the caller then says so once, instead of once per event or connection
 * attempt (librdkafka's own connection-failure log lines are not printed).
 * Clears the condition it reports. */
int ofc_kafka_unreachable_due(ofc_kafka *kafka, int64_t now_ms, int64_t interval_ms);

/* librdkafka before 2.2.0 (OFC_KAFKA_BUG_FETCH_BACKOFF_1S; later ones are
 * given fetch.queue.backoff.ms=10 by ofc_kafka_conf_new and this does
 * nothing) stops fetching while a consumer's prefetch queue is over
 * queued.max.messages.kbytes and looks again only when the broker thread
 * wakes up: at its next response or request, else after 1 s (2.2.0 added
 * fetch.queue.backoff.ms for this). A consumer that has just emptied its
 * queue calls this: a watermark query (one round trip, at most 100 ms) to
 * the leader of one assigned partition wakes the thread fetching it; cursor
 * (caller's, start at 0) moves on to the next partition each call, so with
 * several brokers successive calls reach each in turn. */
void ofc_kafka_wake_fetcher(rd_kafka_t *rk, unsigned *cursor);

/* The app_opaque given to ofc_kafka_new, from a callback's rk opaque argument. */
void *ofc_kafka_app_opaque(void *rk_opaque);

typedef struct ofc_topic_info {
    const char *name;    /* in: topic name (caller's string) */
    int partition_count; /* out: 0 when the topic does not exist */
} ofc_topic_info;

/* Asks the cluster for the given topics' partition counts, waiting at most
 * timeout_ms. Fails fast (well before the timeout) when every broker refuses
 * connections. Returns 0; or, with err, EX_UNAVAILABLE (no broker reachable:
 * names the brokers) or what ofc_kafka_exit_code says of librdkafka's error.
 * A topic that does not exist is not an error here: its partition_count is
 * 0. */
int ofc_kafka_describe_topics(ofc_kafka *kafka, const char *brokers, ofc_topic_info *topics,
                              size_t topic_count, int timeout_ms, char *err, size_t errlen);

/* sysexits status for a librdkafka error: broker/transport/timeout -> 69
 * (EX_UNAVAILABLE), authentication/authorization/config -> 78 (EX_CONFIG),
 * anything else -> 70 (EX_SOFTWARE). */
int ofc_kafka_exit_code(rd_kafka_resp_err_t err);

/* Security (docs/operations.md, "Security"; common/kafka/security.c). */

/* Called on a conf before the handle is created: with security.protocol SSL
 * or SASL_SSL, follows the brokers' certificate checks so that a failure can
 * say which check failed. Returns 0, or -1 with err. */
int ofc_kafka_security_install(rd_kafka_conf_t *conf, char *err, size_t errlen);
/* 1 when an error event is an authentication or TLS failure: retrying
 * cannot help, the configuration must change. */
int ofc_kafka_is_security_error(rd_kafka_resp_err_t code, const char *reason);
/* Remembers the first such failure (the error callback calls it). */
void ofc_kafka_security_note(ofc_kafka *kafka, rd_kafka_resp_err_t code, const char *reason);
/* 1 once an authentication or TLS failure was seen on this handle. */
int ofc_kafka_security_failed(ofc_kafka *kafka);
/* The failure as one line naming the broker, the setting at fault and the
 * fix: the SASL mechanism and user; ssl.ca.location or the host name that
 * does not match the certificate; the client certificate the broker refused.
 * Returns EX_CONFIG. */
int ofc_kafka_security_explain(ofc_kafka *kafka, char *err, size_t errlen);
/* An authorization failure as one line: the principal (User:SASL-USER, or the
 * client certificate's subject as Kafka's default principal builder names
 * it), what it may not do to which resource, and the kafka-acls.sh line that
 * grants it (with Describe, which every Read and Write needs too). operation:
 * "Read", "Write", "Describe"; resource_type: "topic", "group",
 * "transactional-id"; prefixed: the grant is for every name starting with
 * resource. Returns EX_NOPERM. */
int ofc_kafka_denied(ofc_kafka *kafka, const char *operation, const char *resource_type,
                     const char *resource, int prefixed, char *err, size_t errlen);
/* ofc_kafka_denied for an authorization error seen on a handle, for what the
 * handle was doing: Read on its group (group.id); Write on transactional ids
 * starting with transactional_prefix (NULL: its transactional.id); Read
 * (consumer) or Write (producer) on topic, also for a producer refused its
 * idempotent producer id (cluster authorization). Returns EX_NOPERM, or 0
 * when code is no authorization error. */
int ofc_kafka_refusal(ofc_kafka *kafka, rd_kafka_resp_err_t code, const char *topic,
                      const char *transactional_prefix, char *err, size_t errlen);
/* 1 for Kafka's authorization errors (topic, group, cluster, transactional
 * id). */
int ofc_kafka_is_authorization_error(rd_kafka_resp_err_t code);

/* Adds a header, returning 0 or -1 (librdkafka only fails on a read-only set). */
int ofc_kafka_header_add(rd_kafka_headers_t *headers, const char *name, const void *value,
                         size_t len);
/* Finds the last header `name` of a message. Returns 0 and sets *value and *len
 * (views into the message), or -1 when absent. */
int ofc_kafka_header_get(rd_kafka_message_t *msg, const char *name, const void **value,
                         size_t *len);

/* One record to produce (always copied: RD_KAFKA_MSG_F_COPY). */
typedef struct ofc_kafka_record {
    rd_kafka_topic_t *topic; /* the topic; when NULL, topic_name */
    const char *topic_name;
    int32_t partition; /* RD_KAFKA_PARTITION_UA: the partitioner chooses */
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    /* librdkafka's once produced; still the caller's when producing fails. */
    rd_kafka_headers_t *headers;
    void *opaque; /* the delivery report's msg->_private */
} ofc_kafka_record;

/* How long to retry while librdkafka's queue is full. */
typedef struct ofc_kafka_retry {
    int wait_ms; /* each wait between tries */
    /* The bound: 0 tries once; -1 retries until the queue has room or stop
     * says so; otherwise at most this long after the first full queue. */
    int max_wait_ms;
    /* Each wait; NULL: rd_kafka_poll(rk, timeout_ms), which serves the
     * delivery reports that empty the queue. A program that must also do
     * its own work meanwhile (re-sends, health beats) waits through its own
     * poll. */
    void (*wait)(void *opaque, int timeout_ms);
    /* Checked before each wait, may be NULL: nonzero gives up (a fatal
     * error seen by a delivery report, a stop request). */
    int (*stop)(void *opaque);
    void *opaque;
} ofc_kafka_retry;

/* Produces rec through rk, retrying as retry says while the queue is full
 * (kcat's produce()). Returns RD_KAFKA_RESP_ERR_NO_ERROR, or
 * RD_KAFKA_RESP_ERR__QUEUE_FULL when the bound passed or stop said so, or
 * the error rd_kafka_producev returned (the headers are then still the
 * caller's). */
rd_kafka_resp_err_t ofc_kafka_produce(rd_kafka_t *rk, const ofc_kafka_record *rec,
                                      const ofc_kafka_retry *retry);

/* Reading partitions from an offset to their end (range.c): the
 * processor's restore, the gateway's restore and view, redrive. */

/* ofc_range_part.end of a part read until librdkafka says it reached the
 * end of the partition (its EOF event), not to a captured offset. */
#define OFC_RANGE_TO_EOF (-1)

typedef struct ofc_range_part {
    const char *topic; /* the caller's string, alive while the range is */
    int32_t partition;
    int64_t start; /* the first offset, or a logical one (RD_KAFKA_OFFSET_TAIL) */
    /* Exclusive: the high watermark captured before reading. The part is
     * done at the record before it, or at the partition's EOF. */
    int64_t end;
    int done; /* in: nothing to read (not assigned); out: read to its end */
} ofc_range_part;

typedef struct ofc_range {
    /* Set before ofc_range_open, else zero: */
    int follow;       /* a live view: all parts assigned, records past their end returned */
    int wake_fetcher; /* a backlog read as fast as it comes: wake the fetcher before the
                       * queue runs dry (ofc_kafka_wake_fetcher) */
    void (*on_done)(void *opaque, int part); /* a part just reached its end; may be NULL */
    void *opaque;
    /* Kept by the reader: */
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    ofc_range_part *parts;
    int count;
    int left;    /* parts not done */
    int bounded; /* some part has an end: records are checked against it */
    unsigned wake_cursor;
    int64_t woken_ms;
} ofc_range;

/* Assigns rk (a consumer with a group.id that never subscribes; every
 * handle read through ofc_range_read) the parts not done and not empty
 * (start >= end), or all of them to follow. Returns
 * RD_KAFKA_RESP_ERR_NO_ERROR or rd_kafka_assign's error (the caller names
 * the read in its message). */
rd_kafka_resp_err_t ofc_range_open(ofc_range *r, rd_kafka_t *rk, ofc_range_part *parts, int count);
/* Waits up to timeout_ms for one message, takes what else is there up to
 * max without waiting, and returns how many it put in batch (the caller
 * destroys each): records, errors, and each part's EOF event (once; its
 * offset is where the part ended). Marks a part done at its EOF or at the
 * record before its end and drops what comes after (unless following).
 * Records of a part read to EOF are returned until the read ends. */
size_t ofc_range_read(ofc_range *r, rd_kafka_message_t **batch, size_t max, int timeout_ms);
/* The index in parts of msg's partition, or -1. */
int ofc_range_find(const ofc_range *r, const rd_kafka_message_t *msg);
/* Unassigns and releases the queue; the parts stay the caller's. */
void ofc_range_close(ofc_range *r);

/* Sets each element of list to the first offset of its partition written at
 * or after time ms (Unix ms; RD_KAFKA_OFFSET_BEGINNING or _END: the low or
 * high watermark), or -1 when there is none (librdkafka 2.0.2's mock
 * cluster answers -1 to every time). One ListOffsets round trip, at most
 * timeout_ms. Returns RD_KAFKA_RESP_ERR_NO_ERROR, or the request's error or
 * the first partition's. */
rd_kafka_resp_err_t ofc_kafka_offsets_at(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list,
                                         int64_t ms, int timeout_ms);

/* Per-partition lag from a statistics JSON: consumer_lag_stored, else
 * consumer_lag; -1 when librdkafka does not know it (a partition this
 * member does not consume). */
typedef void (*ofc_kafka_lag_fn)(void *opaque, const char *topic, int32_t partition, int64_t lag);
/* Reads librdkafka's statistics JSON (the stats callback's json, len): calls
 * on_lag (may be NULL) for each topic partition and sets *brokers_up (may be
 * NULL) to the number of brokers whose connection is up. Returns 0, or -1
 * with err when the JSON does not parse. */
int ofc_kafka_stats_read(const char *json, size_t len, ofc_kafka_lag_fn on_lag, void *opaque,
                         int *brokers_up, char *err, size_t errlen);

#endif
