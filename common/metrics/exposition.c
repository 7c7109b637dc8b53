/* The Prometheus text exposition format 0.0.4 of the registry and of the
 * standard process_* metrics (docs/operations.md, "Monitoring"). */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "metrics_internal.h"

static const char *type_name(ofc_metric_type type)
{
    switch (type) {
    case OFC_METRIC_COUNTER:
        return "counter";
    case OFC_METRIC_GAUGE:
        return "gauge";
    case OFC_METRIC_HISTOGRAM:
        return "histogram";
    }
    return "untyped";
}

/* Go's strconv formatting is what Prometheus prints; %.15g round-trips the
 * values we keep (seconds to the nanosecond, counts below 2^53). */
static void write_double(FILE *out, double v)
{
    if (isnan(v))
        fputs("NaN", out);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", out);
    else
        fprintf(out, "%.15g", v);
}

static void write_help(FILE *out, const ofc_metric_family *f)
{
    fprintf(out, "# HELP %s ", f->name);
    for (const char *c = f->help; *c; c++) {
        if (*c == '\\')
            fputs("\\\\", out);
        else if (*c == '\n')
            fputs("\\n", out);
        else
            fputc(*c, out);
    }
    fprintf(out, "\n# TYPE %s %s\n", f->name, type_name(f->type));
}

/* name{labels} or name{labels,extra} or name{extra} or name. */
static void write_name(FILE *out, const char *name, const char *suffix, const char *labels,
                       const char *extra)
{
    fprintf(out, "%s%s", name, suffix);
    if (!labels[0] && !extra) return;
    fprintf(out, "{%s%s%s}", labels, labels[0] && extra ? "," : "", extra ? extra : "");
}

static void write_histogram(FILE *out, const ofc_metric_family *f, const ofc_metric *s)
{
    /* Cumulative counts from one read of each bucket: _count equals the
     * +Inf bucket even while observations arrive. */
    uint64_t cumulative = 0;
    char le[64];
    for (size_t i = 0; i <= s->bound_count; i++) {
        cumulative += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
        if (i < s->bound_count)
            snprintf(le, sizeof(le), "le=\"%.15g\"", s->bounds[i]);
        else
            snprintf(le, sizeof(le), "le=\"+Inf\"");
        write_name(out, f->name, "_bucket", s->labels, le);
        fprintf(out, " %llu\n", (unsigned long long)cumulative);
    }
    write_name(out, f->name, "_sum", s->labels, NULL);
    fputc(' ', out);
    write_double(
        out, (double)atomic_load_explicit(&((ofc_metric *)s)->sum_ns, memory_order_relaxed) / 1e9);
    fputc('\n', out);
    write_name(out, f->name, "_count", s->labels, NULL);
    fprintf(out, " %llu\n", (unsigned long long)cumulative);
}

int ofc_metrics_write(const ofc_metrics *m, FILE *out)
{
    for (const ofc_metric_family *f =
             atomic_load_explicit(&((ofc_metrics *)m)->families, memory_order_acquire);
         f; f = atomic_load_explicit(&((ofc_metric_family *)f)->next, memory_order_acquire)) {
        int header = 0;
        for (const ofc_metric *s =
                 atomic_load_explicit(&((ofc_metric_family *)f)->series, memory_order_acquire);
             s; s = atomic_load_explicit(&((ofc_metric *)s)->next, memory_order_acquire)) {
            if (atomic_load_explicit(&((ofc_metric *)s)->hidden, memory_order_relaxed)) continue;
            if (!header) write_help(out, f);
            header = 1;
            switch (f->type) {
            case OFC_METRIC_COUNTER:
                write_name(out, f->name, "", s->labels, NULL);
                fprintf(out, " %llu\n",
                        (unsigned long long)atomic_load_explicit(&((ofc_metric *)s)->value,
                                                                 memory_order_relaxed));
                break;
            case OFC_METRIC_GAUGE:
                write_name(out, f->name, "", s->labels, NULL);
                fputc(' ', out);
                write_double(out, ofc_metric_get(s));
                fputc('\n', out);
                break;
            case OFC_METRIC_HISTOGRAM:
                write_histogram(out, f, s);
                break;
            }
        }
    }
    return ferror(out) ? -1 : 0;
}

static void write_process_metric(FILE *out, const char *name, const char *type, const char *help,
                                 double value)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n%s ", name, help, name, type, name);
    write_double(out, value);
    fputc('\n', out);
}

/* Seconds since the epoch at boot, from /proc/stat's btime; -1 unknown. */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return -1;
    char line[256];
    double btime = -1;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "btime ", 6) == 0) btime = strtod(line + 6, NULL);
    fclose(f);
    return btime;
}

int ofc_metrics_write_process(FILE *out)
{
    double ticks = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/stat", "r");
    char stat[1024] = "";
    if (f) {
        if (!fgets(stat, sizeof(stat), f)) stat[0] = '\0';
        fclose(f);
    }
    /* Fields after the command name, which may hold spaces and parentheses:
     * the last ')' ends it. Field 3 (state) is the first after it. */
    const char *rest = strrchr(stat, ')');
    unsigned long long utime = 0, stime = 0, start = 0;
    long long rss = 0;
    if (rest && ticks > 0 &&
        sscanf(rest + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %*u %lld",
               &utime, &stime, &start, &rss) == 4) {
        write_process_metric(out, "process_cpu_seconds_total", "counter",
                             "Total user and system CPU time spent in seconds.",
                             (double)(utime + stime) / ticks);
        write_process_metric(out, "process_resident_memory_bytes", "gauge",
                             "Resident memory size in bytes.", (double)rss * page);
        double btime = boot_time();
        if (btime >= 0)
            write_process_metric(out, "process_start_time_seconds", "gauge",
                                 "Start time of the process since unix epoch in seconds.",
                                 btime + (double)start / ticks);
    }
    DIR *dir = opendir("/proc/self/fd");
    if (dir) {
        long fds = 0;
        struct dirent *e;
        while ((e = readdir(dir)))
            if (e->d_name[0] != '.') fds++;
        closedir(dir);
        /* Less the one opendir itself holds. */
        write_process_metric(out, "process_open_fds", "gauge", "Number of open file descriptors.",
                             (double)(fds > 0 ? fds - 1 : 0));
    }
    return ferror(out) ? -1 : 0;
}
