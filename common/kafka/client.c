/* Client handle lifetime and error tracking. */
#include <stdio.h>
#include <string.h>

#include "cli/log.h"
#include "kafka/kafka.h"

#if defined(__SANITIZE_ADDRESS__)
#define OFC_LEAK_CHECKER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OFC_LEAK_CHECKER 1
#endif
#endif
#ifdef OFC_LEAK_CHECKER
#include <sanitizer/lsan_interface.h>
#endif

/* What ofc_kafka_new_member follows in librdkafka's cgrp debug lines. */
#define FOLLOW_JOIN_STATE 1 /* ofc_kafka_group_rebalancing */
#define FOLLOW_PROTOCOL 2   /* ofc_kafka_group_protocol_refused */

static void on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
    ofc_kafka *kafka = opaque;
    kafka->error_count++;
    kafka->last_error = (rd_kafka_resp_err_t)code;
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) kafka->all_brokers_down = 1;
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || code == RD_KAFKA_RESP_ERR__TRANSPORT ||
        code == RD_KAFKA_RESP_ERR__RESOLVE)
        kafka->connection_errors++;
    snprintf(kafka->last_error_text, sizeof(kafka->last_error_text), "%s", reason);
    ofc_kafka_security_note(kafka, (rd_kafka_resp_err_t)code, reason);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        kafka->fatal = 1;
        kafka->last_error = orig;
        snprintf(kafka->last_error_text, sizeof(kafka->last_error_text), "fatal: %s: %s",
                 rd_kafka_err2name(orig), why);
    }
}

/* librdkafka's log, as the program's other messages ("PROGRAM: librdkafka
 * warning GETPID (rdkafka#producer-1): ...") and as loud as -q, the default
 * or -v ask (ofc_log_get_verbosity): -q keeps errors (syslog levels 0-3), the
 * default adds warnings and notices (4-5), -v info (6); debug lines (7) show
 * when the user asked for them with the debug property. Two kinds of line
 * are left out: the executables apply the same user properties to their
 * producer and consumer handles on purpose, so "a consumer property ignored
 * by this producer" is expected, not news; and a failed connection attempt
 * (FAIL) also reaches the error callback, from which the executables say
 * once per interval that the brokers are unreachable, rather than once per
 * attempt and handle. */
static void on_log(const rd_kafka_t *rk, int level, const char *facility, const char *message)
{
    static const char *const level_names[] = {"emergency", "alert",  "critical", "error",
                                              "warning",   "notice", "info",     "debug"};
    ofc_kafka *kafka = rd_kafka_opaque(rk);
    if (kafka && (kafka->track_group & FOLLOW_PROTOCOL) &&
        strstr(message, "ConsumerGroupHeartbeatRequest not supported by broker"))
        atomic_store(&kafka->group_protocol_refused, 1);
    if (kafka && (kafka->track_group & FOLLOW_JOIN_STATE) &&
        strcmp(facility, "CGRPJOINSTATE") == 0) {
        /* Group "NAME" changed join state FROM -> TO (state S) */
        const char *to = strstr(message, " changed join state ");
        to = to ? strstr(to, " -> ") : NULL;
        if (to) {
            to += 4;
            int steady = strncmp(to, "steady ", 7) == 0 || strncmp(to, "init ", 5) == 0;
            atomic_store(&kafka->group_rebalancing, !steady);
        }
    }
    ofc_log_verbosity verbosity = ofc_log_get_verbosity();
    if (level > 3 && verbosity == OFC_LOG_QUIET) return;
    if (level == 6 && verbosity != OFC_LOG_VERBOSE) return;
    if (level >= 7 && kafka && kafka->hide_debug) return;
    if (strcmp(facility, "CONFWARN") == 0 && strstr(message, "will be ignored by this")) return;
    if (strcmp(facility, "FAIL") == 0) return;
    ofc_warn("librdkafka %s %s (%s): %s", level >= 0 && level <= 7 ? level_names[level] : "log",
             facility, rd_kafka_name(rk), message);
}

static int create(ofc_kafka *kafka, rd_kafka_type_t type, rd_kafka_conf_t *conf, void *app_opaque,
                  int track_group, int hide_debug, char *err, size_t errlen)
{
    memset(kafka, 0, sizeof(*kafka));
    ofc_timer_start(&kafka->unreachable_report, 0); /* the period comes with each call */
    kafka->app_opaque = app_opaque;
    kafka->track_group = track_group;
    kafka->hide_debug = hide_debug;
    atomic_init(&kafka->group_rebalancing, 0);
    atomic_init(&kafka->group_protocol_refused, 0);
    pthread_mutex_init(&kafka->tls_lock, NULL);
    if (ofc_kafka_security_install(conf, err, errlen) != 0) {
        rd_kafka_conf_destroy(conf);
        pthread_mutex_destroy(&kafka->tls_lock);
        return -1;
    }
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_opaque(conf, kafka);
    char why[512];
    kafka->rk = rd_kafka_new(type, conf, why, sizeof(why));
    if (!kafka->rk) {
        /* rd_kafka_new only takes ownership of conf on success. */
        rd_kafka_conf_destroy(conf);
        pthread_mutex_destroy(&kafka->tls_lock);
        snprintf(err, errlen, "cannot create the Kafka %s: %s",
                 type == RD_KAFKA_PRODUCER ? "producer" : "consumer", why);
        return -1;
    }
    return 0;
}

int ofc_kafka_new(ofc_kafka *kafka, rd_kafka_type_t type, rd_kafka_conf_t *conf, void *app_opaque,
                  char *err, size_t errlen)
{
    return create(kafka, type, conf, app_opaque, 0, 0, err, errlen);
}

int ofc_kafka_new_member(ofc_kafka *kafka, rd_kafka_conf_t *conf, void *app_opaque, char *err,
                         size_t errlen)
{
    char debug[512];
    size_t len = sizeof(debug);
    if (rd_kafka_conf_get(conf, "debug", debug, &len) != RD_KAFKA_CONF_OK) debug[0] = '\0';
    int hide = debug[0] == '\0';
    /* Following the join state serves one workaround only
     * (ofc_kafka_group_rebalancing): where the bug is fixed the group is
     * not followed and its debug lines are not asked for. */
    int track = ofc_kafka_has_bug(OFC_KAFKA_BUG_COMMIT_IN_REBALANCE) ? FOLLOW_JOIN_STATE : 0;
    /* A broker without KIP-848 groups answers a consumer-protocol member's
     * heartbeats with UNSUPPORTED_VERSION, which librdkafka retries forever
     * and tells only in a cgrp debug line
     * (ofc_kafka_group_protocol_refused). */
    char protocol[32];
    size_t protocol_len = sizeof(protocol);
    if (rd_kafka_conf_get(conf, "group.protocol", protocol, &protocol_len) == RD_KAFKA_CONF_OK &&
        strcmp(protocol, "consumer") == 0)
        track |= FOLLOW_PROTOCOL;
    if (track && !strstr(debug, "cgrp") && !strstr(debug, "all")) {
        char value[600], why[256];
        snprintf(value, sizeof(value), "%s%scgrp", debug, debug[0] ? "," : "");
        if (rd_kafka_conf_set(conf, "debug", value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            snprintf(err, errlen, "cannot follow the consumer group's state (debug=%s): %s", value,
                     why);
            return -1;
        }
    }
    return create(kafka, RD_KAFKA_CONSUMER, conf, app_opaque, track, hide, err, errlen);
}

int ofc_kafka_group_protocol_refused(ofc_kafka *kafka)
{
    return atomic_load(&kafka->group_protocol_refused);
}

int ofc_kafka_group_rebalancing(ofc_kafka *kafka)
{
    return atomic_load(&kafka->group_rebalancing);
}

void ofc_kafka_destroy(ofc_kafka *kafka)
{
    if (kafka->rk) {
        rd_kafka_destroy(kafka->rk);
        pthread_mutex_destroy(&kafka->tls_lock);
    }
    kafka->rk = NULL;
}

void ofc_kafka_leave_to_exit(ofc_kafka *kafka)
{
#ifdef OFC_LEAK_CHECKER
    /* rd_kafka_new's allocation: what the handle's memory hangs from. */
    if (kafka->rk) __lsan_ignore_object(kafka->rk);
#endif
    kafka->rk = NULL;
}

int ofc_kafka_unreachable_due(ofc_kafka *kafka, int64_t now_ms, int64_t interval_ms)
{
    if (!kafka->all_brokers_down) return 0;
    kafka->unreachable_report.period_ms = interval_ms;
    if (!ofc_timer_due(&kafka->unreachable_report, now_ms)) return 0;
    kafka->all_brokers_down = 0;
    return 1;
}

void *ofc_kafka_app_opaque(void *rk_opaque)
{
    return rk_opaque ? ((ofc_kafka *)rk_opaque)->app_opaque : NULL;
}

void ofc_kafka_wake_fetcher(rd_kafka_t *rk, unsigned *cursor)
{
    if (!ofc_kafka_has_bug(OFC_KAFKA_BUG_FETCH_BACKOFF_1S)) return; /* fetch.queue.backoff.ms */
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || !assigned) return;
    if (assigned->cnt > 0) {
        const rd_kafka_topic_partition_t *tp = &assigned->elems[*cursor % (unsigned)assigned->cnt];
        int64_t low, high;
        rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &low, &high, 100);
        (*cursor)++;
    }
    rd_kafka_topic_partition_list_destroy(assigned);
}
