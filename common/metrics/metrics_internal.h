/* The registry's lists, shared by registry.c and exposition.c. */
#ifndef OFC_METRICS_INTERNAL_H
#define OFC_METRICS_INTERNAL_H

#include "metrics/metrics.h"

typedef struct ofc_metric_family {
    char *name;
    char *help;
    ofc_metric_type type;
    double bounds[OFC_METRIC_MAX_BUCKETS];
    size_t bound_count;
    _Atomic(ofc_metric *) series;
    _Atomic(struct ofc_metric_family *) next;
} ofc_metric_family;

struct ofc_metrics {
    _Atomic(ofc_metric_family *) families;
};

#endif
