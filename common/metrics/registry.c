/* The registry: append-only lists of families and series (metrics.h says
 * why no lock), and the updates of gauges and histograms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "metrics_internal.h"

ofc_metrics *ofc_metrics_new(void)
{
    ofc_metrics *m = calloc(1, sizeof(*m));
    if (m) atomic_init(&m->families, NULL);
    return m;
}

void ofc_metrics_free(ofc_metrics *m)
{
    if (!m) return;
    ofc_metric_family *f = atomic_load(&m->families);
    while (f) {
        ofc_metric *s = atomic_load(&f->series);
        while (s) {
            ofc_metric *next = atomic_load(&s->next);
            free(s->counts);
            free(s);
            s = next;
        }
        ofc_metric_family *next = atomic_load(&f->next);
        free(f->name);
        free(f->help);
        free(f);
        f = next;
    }
    free(m);
}

/* Appends "name=\"value\"" with the exposition format's escapes. */
static int render_labels(const char *const *labels, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; labels && labels[i] && labels[i + 1]; i += 2) {
        int n = snprintf(out + used, outlen - used, "%s%s=\"", used ? "," : "", labels[i]);
        if (n < 0 || (size_t)n >= outlen - used) return -1;
        used += (size_t)n;
        for (const char *c = labels[i + 1]; *c; c++) {
            const char *esc = *c == '\\' ? "\\\\" : *c == '"' ? "\\\"" : *c == '\n' ? "\\n" : NULL;
            size_t len = esc ? 2 : 1;
            if (used + len + 2 >= outlen) return -1;
            memcpy(out + used, esc ? esc : c, len);
            used += len;
        }
        out[used++] = '"';
        out[used] = '\0';
    }
    return 0;
}

static ofc_metric_family *family(ofc_metrics *m, const char *name, const char *help,
                                 ofc_metric_type type, const double *bounds, size_t bound_count,
                                 char *err, size_t errlen)
{
    ofc_metric_family *f = atomic_load_explicit(&m->families, memory_order_acquire), *last = NULL;
    for (; f; last = f, f = atomic_load_explicit(&f->next, memory_order_acquire)) {
        if (strcmp(f->name, name) != 0) continue;
        if (f->type != type || f->bound_count != bound_count ||
            (bound_count && memcmp(f->bounds, bounds, bound_count * sizeof(*bounds)) != 0)) {
            snprintf(err, errlen, "metric %s registered twice with different types or buckets",
                     name);
            return NULL;
        }
        return f;
    }
    if (bound_count > OFC_METRIC_MAX_BUCKETS) {
        snprintf(err, errlen, "metric %s: more than %d buckets", name, OFC_METRIC_MAX_BUCKETS);
        return NULL;
    }
    f = calloc(1, sizeof(*f));
    if (!f || !(f->name = strdup(name)) || !(f->help = strdup(help))) {
        if (f) free(f->name);
        free(f);
        snprintf(err, errlen, "out of memory for metric %s", name);
        return NULL;
    }
    f->type = type;
    f->bound_count = bound_count;
    if (bound_count) memcpy(f->bounds, bounds, bound_count * sizeof(*bounds));
    atomic_init(&f->series, NULL);
    atomic_init(&f->next, NULL);
    /* Published only now, complete: a reader sees all of it or nothing. */
    atomic_store_explicit(last ? &last->next : &m->families, f, memory_order_release);
    return f;
}

ofc_metric *ofc_metrics_series(ofc_metrics *m, const char *name, const char *help,
                               ofc_metric_type type, const char *const *labels,
                               const double *bounds, size_t bound_count, char *err, size_t errlen)
{
    if (type != OFC_METRIC_HISTOGRAM) bound_count = 0;
    ofc_metric_family *f = family(m, name, help, type, bounds, bound_count, err, errlen);
    if (!f) return NULL;
    char rendered[OFC_METRIC_LABELS_MAX];
    if (render_labels(labels, rendered, sizeof(rendered)) != 0) {
        snprintf(err, errlen, "metric %s: labels longer than %d bytes", name,
                 OFC_METRIC_LABELS_MAX);
        return NULL;
    }
    ofc_metric *s = atomic_load_explicit(&f->series, memory_order_acquire), *last = NULL;
    for (; s; last = s, s = atomic_load_explicit(&s->next, memory_order_acquire))
        if (strcmp(s->labels, rendered) == 0) return s;
    s = calloc(1, sizeof(*s));
    if (s && type == OFC_METRIC_HISTOGRAM) {
        s->counts = calloc(bound_count + 1, sizeof(*s->counts));
        if (!s->counts) {
            free(s);
            s = NULL;
        }
    }
    if (!s) {
        snprintf(err, errlen, "out of memory for metric %s", name);
        return NULL;
    }
    memcpy(s->labels, rendered, sizeof(rendered));
    s->bounds = f->bounds;
    s->bound_count = f->bound_count;
    atomic_init(&s->next, NULL);
    atomic_store_explicit(last ? &last->next : &f->series, s, memory_order_release);
    return s;
}

void ofc_metric_set(ofc_metric *s, double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    atomic_store_explicit(&s->value, bits, memory_order_relaxed);
}

double ofc_metric_get(const ofc_metric *s)
{
    uint64_t bits = atomic_load_explicit(&((ofc_metric *)s)->value, memory_order_relaxed);
    double value;
    memcpy(&value, &bits, sizeof(value));
    return value;
}

void ofc_metric_observe(ofc_metric *s, double seconds)
{
    if (!(seconds > 0)) seconds = 0; /* also NaN */
    size_t bucket = 0;
    while (bucket < s->bound_count && seconds > s->bounds[bucket])
        bucket++;
    atomic_fetch_add_explicit(&s->counts[bucket], 1, memory_order_relaxed);
    double ns = seconds * 1e9;
    atomic_fetch_add_explicit(&s->sum_ns, ns < 1.8e19 ? (uint64_t)ns : UINT64_MAX / 2,
                              memory_order_relaxed);
}
