/* The processing stage's series and what it takes from librdkafka's
 * statistics; the counting itself is in processor.c and async_stage.c. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kafka/kafka.h"

#include "stage_metrics.h"

/* Seconds from an input's time to its output's delivery: a healthy stage
 * is in the milliseconds, a backlog in the seconds to minutes. */
static const double latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                         0.5,   1,      2.5,   5,    10,    30,   60,  300};
#define LATENCY_BUCKETS (sizeof(latency_buckets) / sizeof(latency_buckets[0]))

static ofc_metric *simple(stage_metrics *sm, const char *name, const char *help,
                          ofc_metric_type type, const char *const *labels, char *err, size_t errlen)
{
    return ofc_metrics_series(sm->registry, name, help, type, labels, NULL, 0, err, errlen);
}

int stage_metrics_init(stage_metrics *sm, ofc_metrics *registry, ofc_health *health,
                       const ofc_config *cfg, char *err, size_t errlen)
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
               OFC_METRIC_COUNTER, input, err, errlen);
    if (!sm->consumed) return -1;
    for (int i = 0; i < STAGE_OUTCOMES; i++) {
        const char *labels[] = {"outcome", outcome_names[i], NULL};
        sm->outcomes[i] = simple(sm, "orderflow_processed_events_total",
                                 "Input records by outcome: accepted, rejected (an output "
                                 "either way), duplicate (skipped), dead_lettered.",
                                 OFC_METRIC_COUNTER, labels, err, errlen);
        if (!sm->outcomes[i]) return -1;
    }
    static const char produced_help[] = "Outputs the broker acknowledged, by topic.";
    if (!(sm->produced_output = simple(sm, "orderflow_outputs_produced_total", produced_help,
                                       OFC_METRIC_COUNTER, output, err, errlen)) ||
        !(sm->produced_dead_letter = simple(sm, "orderflow_outputs_produced_total", produced_help,
                                            OFC_METRIC_COUNTER, dead, err, errlen)) ||
        !(sm->rebalances = simple(sm, "orderflow_rebalances_total",
                                  "Rebalance callbacks (assignments and revocations).",
                                  OFC_METRIC_COUNTER, NULL, err, errlen)) ||
        !(sm->trace_invalid = simple(sm, "orderflow_trace_context_invalid_total",
                                     "Inputs whose traceparent or tracestate was invalid and "
                                     "ignored (never dead-lettered).",
                                     OFC_METRIC_COUNTER, NULL, err, errlen)) ||
        !(sm->retries = simple(sm, "orderflow_handler_retries_total",
                               "Calls of the handler that answered retry (the event is handled "
                               "again later; its partition waits).",
                               OFC_METRIC_COUNTER, NULL, err, errlen)) ||
        !(sm->commit_failures = simple(sm, "orderflow_commit_failures_total",
                                       "Offset commits refused (at_least_once) or transactions "
                                       "aborted (exactly_once).",
                                       OFC_METRIC_COUNTER, NULL, err, errlen)) ||
        !(sm->assigned = simple(sm, "orderflow_assigned_partitions",
                                "Input partitions assigned to this member.", OFC_METRIC_GAUGE, NULL,
                                err, errlen)) ||
        !(sm->restore_seconds = simple(sm, "orderflow_restore_duration_seconds",
                                       "Duration of the last restore of emitted keys.",
                                       OFC_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->restore_keys = simple(sm, "orderflow_restore_keys",
                                    "Idempotency keys read back by the last restore.",
                                    OFC_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->in_flight = simple(sm, "orderflow_outputs_in_flight",
                                 "Outputs produced and not yet acknowledged by the broker.",
                                 OFC_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->broker_up =
              simple(sm, "orderflow_broker_up", "1 while a broker connection is up, else 0.",
                     OFC_METRIC_GAUGE, NULL, err, errlen)) ||
        !(sm->latency = ofc_metrics_series(
              registry, "orderflow_processing_latency_seconds",
              "From an input event's time attribute to its output's delivery report.",
              OFC_METRIC_HISTOGRAM, NULL, latency_buckets, LATENCY_BUCKETS, err, errlen)))
        return -1;
    ofc_metric_set(sm->assigned, 0);
    ofc_metric_set(sm->restore_seconds, 0);
    ofc_metric_set(sm->restore_keys, 0);
    ofc_metric_set(sm->in_flight, 0);
    ofc_metric_set(sm->broker_up, 1);
    return 0;
}

static void on_lag(void *opaque, const char *topic, int32_t partition, int64_t lag)
{
    stage_metrics *sm = opaque;
    if (strcmp(topic, sm->input_topic) != 0) return;
    char number[16];
    snprintf(number, sizeof(number), "%" PRId32, partition);
    const char *labels[] = {"topic", topic, "partition", number, NULL};
    char why[256];
    ofc_metric *s = ofc_metrics_series(sm->registry, "orderflow_consumer_lag_records",
                                       "Records behind the partition's end: its high watermark "
                                       "less the offset to commit.",
                                       OFC_METRIC_GAUGE, labels, NULL, 0, why, sizeof(why));
    if (!s) return;
    /* A partition no longer consumed here keeps its series, hidden. */
    if (lag >= 0) ofc_metric_set(s, (double)lag);
    ofc_metric_hide(s, lag < 0);
}

void stage_metrics_statistics(stage_metrics *sm, const char *json, size_t len)
{
    char why[256];
    int up = 0;
    if (ofc_kafka_stats_read(json, len, on_lag, sm, &up, why, sizeof(why)) != 0) return;
    sm->brokers_up = up > 0;
    ofc_metric_set(sm->broker_up, up > 0 ? 1 : 0);
}

void stage_metrics_broker_answered(stage_metrics *sm)
{
    sm->brokers_up = 1;
    ofc_metric_set(sm->broker_up, 1);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil): no timegm, whose time zone handling cost about 2 µs an
 * event in bench/run. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n digits at s, or -1. */
static int64_t digits(const char *s, int n)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int64_t stage_event_time_ms(of_str time)
{
    /* Inputs passed of_time_valid: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM) */
    const char *t = time.ptr;
    size_t len = time.len;
    if (!t || len < 20 || t[4] != '-' || t[7] != '-' || t[13] != ':' || t[16] != ':') return -1;
    int64_t year = digits(t, 4), month = digits(t + 5, 2), day = digits(t + 8, 2);
    int64_t hour = digits(t + 11, 2), minute = digits(t + 14, 2), second = digits(t + 17, 2);
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || minute < 0 ||
        second < 0)
        return -1;
    size_t i = 19;
    int64_t ms = 0;
    if (i < len && t[i] == '.') {
        int fraction = 0;
        for (i++; i < len && t[i] >= '0' && t[i] <= '9'; i++)
            if (fraction++ < 3) ms = ms * 10 + (t[i] - '0');
        for (; fraction < 3; fraction++)
            ms *= 10;
    }
    int64_t offset_s = 0;
    if (i < len && (t[i] == '+' || t[i] == '-')) {
        if (len - i < 6 || t[i + 3] != ':') return -1;
        int64_t oh = digits(t + i + 1, 2), om = digits(t + i + 4, 2);
        if (oh < 0 || om < 0) return -1;
        offset_s = (t[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else if (i >= len || (t[i] != 'Z' && t[i] != 'z')) {
        return -1;
    }
    int64_t seconds =
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset_s;
    return seconds * 1000 + ms;
}
