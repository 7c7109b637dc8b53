/* Metrics for the executables (docs/operations.md, "Monitoring"): a registry
 * of counters, gauges and histograms that an event loop updates with relaxed
 * atomics, and the Prometheus text exposition (format 0.0.4) another thread
 * writes from it. Knows nothing about orders, Kafka or HTTP.
 *
 * Threads: one thread (the owner, normally the event loop) creates families
 * and series; any thread updates values and writes the exposition. Families
 * and series are append-only lists published with release stores, so a
 * reader never takes a lock and the owner never waits for a reader; nothing
 * is freed before ofc_metrics_free, which runs after every reader stopped. */
#ifndef OFC_METRICS_H
#define OFC_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ofc_metric_type {
    OFC_METRIC_COUNTER,
    OFC_METRIC_GAUGE,
    OFC_METRIC_HISTOGRAM,
} ofc_metric_type;

#define OFC_METRIC_MAX_BUCKETS 16
#define OFC_METRIC_LABELS_MAX 256 /* rendered label text of one series */

/* One time series: a counter or gauge value, or a histogram's buckets. */
typedef struct ofc_metric {
    _Atomic uint64_t value;   /* counter: the count; gauge: a double's bits */
    _Atomic int hidden;       /* 1: left out of the exposition (a gauge with no value now) */
    _Atomic uint64_t *counts; /* histogram: per bucket (not cumulative), +Inf last */
    _Atomic uint64_t sum_ns;  /* histogram: sum of observations in nanoseconds */
    const double *bounds;     /* histogram: upper bounds, ascending (the family's) */
    size_t bound_count;
    char labels[OFC_METRIC_LABELS_MAX]; /* name="value",... escaped; "" for none */
    _Atomic(struct ofc_metric *) next;
} ofc_metric;

typedef struct ofc_metrics ofc_metrics;

/* NULL when out of memory. */
ofc_metrics *ofc_metrics_new(void);
void ofc_metrics_free(ofc_metrics *m);

/* The series of family `name` (created with help and type on first use; a
 * later call with the same name must give the same type) with the labels
 * given as NULL-terminated name, value pairs (NULL: none). Returns the same
 * series for the same labels. Label values are escaped here (\\, \", \n).
 * Histograms take their bucket bounds (seconds, ascending, at most
 * OFC_METRIC_MAX_BUCKETS; +Inf is implicit). Returns NULL with err when out
 * of memory, the type or bounds differ, or the labels do not fit. Owner thread
 * only. */
ofc_metric *ofc_metrics_series(ofc_metrics *m, const char *name, const char *help,
                               ofc_metric_type type, const char *const *labels,
                               const double *bounds, size_t bound_count, char *err, size_t errlen);

/* Writes every family with its # HELP and # TYPE lines, in creation order;
 * a family whose series are all hidden is left out. Returns 0, or -1 when the
 * stream fails. Any thread. */
int ofc_metrics_write(const ofc_metrics *m, FILE *out);

/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_open_fds, process_start_time_seconds (from /proc/self), each with
 * its # HELP and # TYPE. Returns 0, or -1 when the stream fails; a value
 * /proc does not give is left out. */
int ofc_metrics_write_process(FILE *out);

/* ---- updates: any thread, relaxed (the values are independent) ---- */

static inline void ofc_metric_add(ofc_metric *s, uint64_t n)
{
    atomic_fetch_add_explicit(&s->value, n, memory_order_relaxed);
}

void ofc_metric_set(ofc_metric *s, double value);
double ofc_metric_get(const ofc_metric *s);
/* Shows or hides the series (a per-partition gauge of a partition no longer
 * assigned). */
static inline void ofc_metric_hide(ofc_metric *s, int hidden)
{
    atomic_store_explicit(&s->hidden, hidden, memory_order_relaxed);
}
/* Records one observation (seconds; negative counts as 0). */
void ofc_metric_observe(ofc_metric *s, double seconds);

#endif
