/* The processing stage's series and what it takes from librdkafka's
 * statistics; the counting itself is in processor.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kafka/kafka.h"

#include "stage_metrics.h"

/* Seconds from an input's time to its output's delivery: a healthy stage
 * is in the milliseconds, a backlog in the seconds to minutes. */
static const double latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,      2.5,   5,    10,    30,   60,  300};
#define LATENCY_BUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

static of_metric *simple(stage_metrics *sm, const char *name, const char *help, of_metric_type type,
                         const char *const *labels, char *err, size_t errlen)
{
    return of_metrics_series(sm->registry, name, help, type, labels, NULL, 0, err, errlen);
}

int stage_metrics_init(stage_metrics *sm, of_metrics *registry, of_health *health,
                       const of_config *cfg, char *err, size_t errlen)
{
    memset(sm, 0, sizeof(*sm));
    sm->registry = registry;
    sm->health = health;
    sm->input_topic = cfg->topic_order_created;
    sm->brokers_up = 1;
    static const char *const outcome_names[STAGE_OUTCOMES] = {"accepted", "rejected", "duplicate",
                                                              "dead_lettered"};
    const char *input[] = {"topic", cfg->topic_order_created, NULL};
    const char *output[] = {"topic", cfg->topic_data_processed, NULL};
    const char *dead[] = {"topic", cfg->topic_dead_letter, NULL};
    sm->consumed =
        simple(sm, "orderflow_events_consumed_total", "Input records taken from the input topic.",
               OF_METRIC_COUNTER, input, err, errlen);
    if (!sm->consumed) return -1;
    for (int i = 0; i < STAGE_OUTCOMES; i++) {
        const char *labels[] = {"outcome", outcome_names[i], NULL};
        sm->outcomes[i] = simple(sm, "orderflow_processed_events_total",
                                 "Input records by outcome: accepted, rejected (an output "
                                 "either way), duplicate (skipped), dead_lettered.",
                                 OF_METRIC_COUNTER, labels, err, errlen);
        if (!sm->outcomes[i]) return -1;
    }
    static const char produced_help[] = "Outputs the broker acknowledged, by topic.";
    if (!(sm->produced_output = simple(sm, "orderflow_outputs_produced_total", produced_help,
                                       OF_METRIC_COUNTER, output, err, errlen)) ||
        !(sm->produced_dead_letter = simple(sm, "orderflow_outputs_produced_total", produced_help,
                                            OF_METRIC_COUNTER, dead, err, errlen)) ||
        !(sm->rebalances = simple(sm, "orderflow_rebalances_total",
                                  "Rebalance callbacks (assignments and revocations).",
                                  OF_METRIC_COUNTER, NULL, err, errlen)) ||
        !(sm->commit_failures = simple(sm, "orderflow_commit_failures_total",
                                       "Offset commits refused (at_least_once) or transactions "
                                       "aborted (exactly_once).",
                                       OF_METRIC_COUNTER, NULL, err, errlen)) ||
        !(sm->assigned = simple(sm, "orderflow_assigned_partitions",
                                "Input partitions assigned to this member.", OF_METRIC_GAUGE, NULL,
                                err, errlen)) ||
        !(sm->restore_seconds = simple(sm, "orderflow_restore_duration_seconds",
                                       "Duration of the last restore of emitted keys.",
                                       OF_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->restore_keys = simple(sm, "orderflow_restore_keys",
                                    "Idempotency keys read back by the last restore.",
                                    OF_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->in_flight = simple(sm, "orderflow_outputs_in_flight",
                                 "Outputs produced and not yet acknowledged by the broker.",
                                 OF_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->broker_up =
              simple(sm, "orderflow_broker_up", "1 while a broker connection is up, else 0.",
                     OF_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->latency = of_metrics_series(
              registry, "orderflow_processing_latency_seconds",
              "From an input event's time attribute to its output's delivery report.",
              OF_METRIC_HISTOGRAM, NULL, latency_buckets, LATENCY_BUCKETS, err, errlen)))
        return -1;
    of_metric_set(sm->assigned, 0);
    of_metric_set(sm->restore_seconds, 0);
    of_metric_set(sm->restore_keys, 0);
    of_metric_set(sm->in_flight, 0);
    of_metric_set(sm->broker_up, 1);
    return 0;
}

void stage_metrics_delivery_error(stage_metrics *sm, rd_kafka_resp_err_t err)
{
    const char *labels[] = {"error", rd_kafka_err2name(err), NULL};
    char why[256];
    of_metric *s = of_metrics_series(sm->registry, "orderflow_delivery_errors_total",
                                     "Outputs the broker did not take, by librdkafka error name.",
                                     OF_METRIC_COUNTER, labels, NULL, 0, why, sizeof(why));
    if (s) of_metric_add(s, 1);
}

static void on_lag(void *opaque, const char *topic, int32_t partition, int64_t lag)
{
    stage_metrics *sm = opaque;
    if (strcmp(topic, sm->input_topic) != 0) return;
    char number[16];
    snprintf(number, sizeof(number), "%" PRId32, partition);
    const char *labels[] = {"topic", topic, "partition", number, NULL};
    char why[256];
    of_metric *s = of_metrics_series(sm->registry, "orderflow_consumer_lag_records",
                                     "Records behind the partition's end: its high watermark "
                                     "less the offset to commit.",
                                     OF_METRIC_GAUGE, labels, NULL, 0, why, sizeof(why));
    if (!s) return;
    /* A partition no longer consumed here keeps its series, hidden. */
    if (lag >= 0) of_metric_set(s, (double)lag);
    of_metric_hide(s, lag < 0);
}

void stage_metrics_statistics(stage_metrics *sm, const char *json, size_t len)
{
    char why[256];
    int up = 0;
    if (of_kafka_stats_read(json, len, on_lag, sm, &up, why, sizeof(why)) != 0) return;
    sm->brokers_up = up > 0;
    of_metric_set(sm->broker_up, up > 0 ? 1 : 0);
}

int64_t stage_event_time_ms(of_str time)
{
    /* Valid inputs passed of_time_valid: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    char text[64];
    if (!time.ptr || time.len < 20 || time.len >= sizeof(text)) return -1;
    memcpy(text, time.ptr, time.len);
    text[time.len] = '\0';
    struct tm tm = {0};
    int used = 0;
    if (sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t ms = 0;
    const char *c = text + used;
    if (*c == '.') {
        int digits = 0;
        for (c++; *c >= '0' && *c <= '9'; c++)
            if (digits++ < 3) ms = ms * 10 + (*c - '0');
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int64_t offset_s = 0;
    if (*c == '+' || *c == '-') {
        int hh = 0, mm = 0;
        if (sscanf(c + 1, "%2d:%2d", &hh, &mm) != 2) return -1;
        offset_s = (*c == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    }
    time_t seconds = timegm(&tm);
    if (seconds == (time_t)-1) return -1;
    return ((int64_t)seconds - offset_s) * 1000 + ms;
}
