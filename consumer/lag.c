/* orderflow-consumer lag: how far a consumer group is behind, per partition
 * and in total, from the group's committed offsets and the log end offsets.
 * It reads the group's offsets without joining it, so it never triggers a
 * rebalance of the processors it watches. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "cli/cli.h"
#include "cli/log.h"
#include "kafka/kafka.h"

#include "lag.h"
#include "cli/startup.h"

typedef struct lag_options {
    ofc_cli_common common;
    const char *group;
    int json;
    long long max_lag; /* -1: no check */
} lag_options;

typedef struct lag_row {
    int32_t partition;
    int64_t committed; /* < 0: the group has no commit for it */
    int64_t log_start;
    int64_t log_end;
    int64_t lag;
} lag_row;

static void usage(FILE *out)
{
    fprintf(out, "Usage: orderflow-consumer lag [OPTIONS]\n"
                 "Per partition of the input topic, the group's committed offset, the log end\n"
                 "offset and the lag (records not yet processed), and the total.\n"
                 "\n"
                 "  -G, --group ID             consumer group (default orderflow-processor)\n"
                 "  -t, --topic NAME           topic (default order-created)\n"
                 "      --json                 one JSON object instead of the table\n"
                 "      --max-lag N            exit 1 when the total lag is above N\n"
                 "  -b, --brokers LIST   -c, --config FILE   -X KEY=VALUE\n"
                 "  -q, --quiet          no table, only the exit status (with --max-lag)\n"
                 "  -h, --help           -V, --version\n"
                 "\n"
                 "A partition without a commit counts from the log start, as the processor\n"
                 "(auto.offset.reset=earliest) would read it. The group is not joined.\n"
                 "Exit: 0 ok, 1 total lag above --max-lag, 64 usage, 66 the group has no\n"
                 "committed offsets on the topic, 69 broker or topic unavailable, 78 config.\n"
                 "\n"
                 "Example: orderflow-consumer lag --max-lag 10000 || alert 'processors behind'\n");
}

enum { OPT_JSON = 1000, OPT_MAX_LAG };

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    lag_options *opts = ctx;
    switch (opt) {
    case 'G':
        opts->group = arg;
        break;
    case OPT_JSON:
        opts->json = 1;
        break;
    case OPT_MAX_LAG:
        return ofc_cli_parse_long("--max-lag", arg, 0, INT64_MAX, &opts->max_lag, err, errlen);
    }
    return 0;
}

/* The group coordinator is not ready yet: right after a broker starts,
 * __consumer_offsets is created on the first FindCoordinator and its
 * partitions get a leader and are loaded, which takes seconds on a loaded
 * machine. librdkafka (2.0.2) retries COORDINATOR_LOAD_IN_PROGRESS itself,
 * but hands NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE back from
 * rd_kafka_committed at once (after asking for the coordinator again). */
static int coordinator_busy(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
           err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE ||
           err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR || err == RD_KAFKA_RESP_ERR__WAIT_COORD;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The group's committed offsets into list, asking again while the
 * coordinator is busy (as kafka-consumer-groups does) until timeout_ms has
 * passed. Returns rd_kafka_committed's error, or a partition's while the
 * coordinator is busy for it; other partition errors are left in list.
 * *tries is how many requests were made. */
static rd_kafka_resp_err_t committed_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *list,
                                             int timeout_ms, int *tries)
{
    const int64_t deadline = monotonic_ms() + timeout_ms;
    int backoff_ms = 100;
    rd_kafka_resp_err_t last_busy = RD_KAFKA_RESP_ERR_NO_ERROR;
    *tries = 0;
    for (;;) {
        int64_t left = deadline - monotonic_ms();
        if (left < 1) left = 1;
        rd_kafka_resp_err_t rc = rd_kafka_committed(rk, list, (int)left);
        (*tries)++;
        for (int i = 0; !rc && i < list->cnt; i++)
            if (coordinator_busy(list->elems[i].err)) rc = list->elems[i].err;
        /* Out of time while the coordinator was busy: the busy answer is the
         * reason, not librdkafka's timeout of the last try. */
        if (rc == RD_KAFKA_RESP_ERR__TIMED_OUT && last_busy) return last_busy;
        if (!coordinator_busy(rc)) return rc;
        last_busy = rc;
        left = deadline - monotonic_ms();
        if (left <= 0) return rc;
        usleep((useconds_t)(backoff_ms < left ? backoff_ms : left) * 1000);
        if (backoff_ms < 1000) backoff_ms *= 2;
        for (int i = 0; i < list->cnt; i++) {
            list->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
            list->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        }
    }
}

/* Fills rows[] for every partition of topic. Returns 0 or a sysexits status
 * with err. */
static int measure(ofc_kafka *kafka, const ofc_config *cfg, const char *group, const char *topic,
                   lag_row *rows, int32_t count, char *err, size_t errlen)
{
    int timeout = cfg->producer_timeout_ms;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(count);
    for (int32_t i = 0; i < count; i++)
        rd_kafka_topic_partition_list_add(list, topic, i);
    int tries;
    rd_kafka_resp_err_t rc = committed_offsets(kafka->rk, list, timeout, &tries);
    if (rc) {
        if (coordinator_busy(rc))
            snprintf(err, errlen,
                     "cannot read the committed offsets of group '%s' on %s: the group "
                     "coordinator was not ready within %d ms (producer.timeout_ms, %d tries): %s",
                     group, cfg->brokers, timeout, tries, rd_kafka_err2str(rc));
        else if (rc == RD_KAFKA_RESP_ERR__TIMED_OUT)
            snprintf(err, errlen,
                     "cannot read the committed offsets of group '%s' on %s within %d ms "
                     "(producer.timeout_ms): %s",
                     group, cfg->brokers, timeout, rd_kafka_err2str(rc));
        else
            snprintf(err, errlen, "cannot read the committed offsets of group '%s' on %s: %s",
                     group, cfg->brokers, rd_kafka_err2str(rc));
        rd_kafka_topic_partition_list_destroy(list);
        return coordinator_busy(rc) ? EX_UNAVAILABLE : ofc_kafka_exit_code(rc);
    }
    int status = 0;
    for (int32_t i = 0; i < count && !status; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        if (tp->err) {
            snprintf(err, errlen, "committed offset of group '%s' for %s [%" PRId32 "]: %s", group,
                     topic, tp->partition, rd_kafka_err2str(tp->err));
            status = ofc_kafka_exit_code(tp->err);
            break;
        }
        lag_row *row = &rows[i];
        row->partition = tp->partition;
        row->committed = tp->offset;
        rc = rd_kafka_query_watermark_offsets(kafka->rk, topic, tp->partition, &row->log_start,
                                              &row->log_end, timeout);
        if (rc) {
            snprintf(err, errlen, "cannot read the log end offset of %s [%" PRId32 "] on %s: %s",
                     topic, tp->partition, cfg->brokers, rd_kafka_err2str(rc));
            status = ofc_kafka_exit_code(rc);
            break;
        }
        int64_t from = row->committed >= 0 ? row->committed : row->log_start;
        row->lag = row->log_end > from ? row->log_end - from : 0;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return status;
}

static void print_table(FILE *out, const char *group, const char *topic, const lag_row *rows,
                        int32_t count, int64_t total)
{
    fprintf(out, "group %s, topic %s\n", group, topic);
    fprintf(out, "%9s %12s %12s %12s\n", "PARTITION", "COMMITTED", "LOG-END", "LAG");
    for (int32_t i = 0; i < count; i++) {
        char committed[24];
        if (rows[i].committed >= 0)
            snprintf(committed, sizeof(committed), "%" PRId64, rows[i].committed);
        else
            snprintf(committed, sizeof(committed), "-");
        fprintf(out, "%9" PRId32 " %12s %12" PRId64 " %12" PRId64 "\n", rows[i].partition,
                committed, rows[i].log_end, rows[i].lag);
    }
    fprintf(out, "%9s %12s %12s %12" PRId64 "\n", "TOTAL", "", "", total);
}

static void gen_key(yajl_gen g, const char *key)
{
    yajl_gen_string(g, (const unsigned char *)key, strlen(key));
}

static int print_json(FILE *out, const char *group, const char *topic, const lag_row *rows,
                      int32_t count, int64_t total)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return -1;
    yajl_gen_map_open(g);
    gen_key(g, "group");
    gen_key(g, group);
    gen_key(g, "topic");
    gen_key(g, topic);
    gen_key(g, "partitions");
    yajl_gen_array_open(g);
    for (int32_t i = 0; i < count; i++) {
        yajl_gen_map_open(g);
        gen_key(g, "partition");
        yajl_gen_integer(g, rows[i].partition);
        gen_key(g, "committed");
        if (rows[i].committed >= 0)
            yajl_gen_integer(g, rows[i].committed);
        else
            yajl_gen_null(g);
        gen_key(g, "log_start");
        yajl_gen_integer(g, rows[i].log_start);
        gen_key(g, "log_end");
        yajl_gen_integer(g, rows[i].log_end);
        gen_key(g, "lag");
        yajl_gen_integer(g, rows[i].lag);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    gen_key(g, "total_lag");
    yajl_gen_integer(g, total);
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    int rc = yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok ? 0 : -1;
    if (rc == 0) {
        fwrite(buf, 1, len, out);
        fputc('\n', out);
    }
    yajl_gen_free(g);
    return rc;
}

int lag_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"group", required_argument, NULL, 'G'},
        {"json", no_argument, NULL, OPT_JSON},
        {"max-lag", required_argument, NULL, OPT_MAX_LAG},
        {NULL, 0, NULL, 0},
    };
    /* No stop signals: SIGINT ends a lag query at once. */
    static const ofc_startup startup = {
        OFC_STARTUP_PROGRAM("orderflow-consumer lag", "orderflow-consumer", usage, longopts,
                            take_option),
        .short_options = "G:",
    };
    lag_options opts = {.max_lag = -1};
    ofc_config cfg;
    int status = ofc_startup_run(&startup, &opts, argc, argv, &opts.common, &cfg, NULL);
    if (status != OFC_STARTUP_CONTINUE) return status;
    char err[1024];
    const char *group = opts.group ? opts.group : cfg.consumer_group;
    const char *topic = opts.common.topic ? opts.common.topic : cfg.topic_order_created;

    /* group.id only names whose offsets to read: no subscribe, no commit. */
    const ofc_kafka_setting forced[] = {
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {NULL, NULL},
    };
    ofc_kafka kafka = {0};
    lag_row *rows = NULL;
    ofc_topic_info info = {topic, 0};
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(&cfg, NULL, forced, err, sizeof(err));
    status = conf ? 0 : EX_CONFIG;
    if (!status && ofc_kafka_new(&kafka, RD_KAFKA_CONSUMER, conf, NULL, err, sizeof(err)) != 0)
        status = EX_SOFTWARE;
    if (!status)
        status = ofc_kafka_describe_topics(&kafka, cfg.brokers, &info, 1, cfg.producer_timeout_ms,
                                           err, sizeof(err));
    if (!status && info.partition_count == 0) {
        snprintf(err, sizeof(err), "topic '%s' does not exist on %s", topic, cfg.brokers);
        status = EX_UNAVAILABLE;
    }
    if (!status && !(rows = calloc((size_t)info.partition_count, sizeof(*rows)))) {
        snprintf(err, sizeof(err), "out of memory for %d partitions", info.partition_count);
        status = EX_OSERR;
    }
    if (!status)
        status = measure(&kafka, &cfg, group, topic, rows, info.partition_count, err, sizeof(err));
    if (status) {
        ofc_warn("%s", err);
    } else {
        int64_t total = 0;
        int32_t committed = 0;
        for (int32_t i = 0; i < info.partition_count; i++) {
            total += rows[i].lag;
            if (rows[i].committed >= 0) committed++;
        }
        if (!opts.common.quiet) {
            if (opts.json) {
                if (print_json(stdout, group, topic, rows, info.partition_count, total) != 0) {
                    ofc_warn("out of memory writing JSON");
                    status = EX_OSERR;
                }
            } else {
                print_table(stdout, group, topic, rows, info.partition_count, total);
            }
            if (fflush(stdout) != 0 && !status) status = EX_IOERR;
        }
        if (!status && committed == 0) {
            ofc_warn("group '%s' has no committed offsets on '%s': no such group, or it has not "
                     "committed yet (lag counted from the log start)",
                     group, topic);
            status = EX_NOINPUT;
        } else if (!status && opts.max_lag >= 0 && total > opts.max_lag) {
            if (!opts.common.quiet)
                ofc_warn("total lag %" PRId64 " is above --max-lag %lld", total, opts.max_lag);
            status = 1;
        }
    }
    if (kafka.rk) rd_kafka_consumer_close(kafka.rk);
    ofc_kafka_destroy(&kafka);
    free(rows);
    ofc_config_free(&cfg);
    return status;
}
