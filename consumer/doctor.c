/* orderflow-consumer doctor: checks, for a configuration and the command it
 * is for, what that command needs from the cluster, one row per check, each
 * failure with its fix (docs/operations.md, "Security"). Nothing it does
 * changes the cluster's data or any group: topics are described, reads start
 * at the log end, groups are only asked for their committed offsets. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include <orderflow/ids.h>
#include <yajl/yajl_gen.h>

#include "cli/log.h"
#include "doctor.h"
#include "kafka/kafka.h"
#include "cli/startup.h"

#define DOCTOR_MAX_ROWS 64
#define CONNECT_TIMEOUT_MS 3000
#define PROBE_MS 3000

typedef enum { ROW_OK, ROW_FAIL, ROW_SKIP } row_status;

typedef struct doctor_row {
    char check[160];
    row_status status;
    char detail[1200];
} doctor_row;

typedef struct doctor {
    const ofc_config *cfg;
    doctor_row rows[DOCTOR_MAX_ROWS];
    int count;
    int reachable; /* the cluster answered metadata: the other checks can run */
} doctor;

typedef struct doctor_options {
    ofc_cli_common common;
    const char *command;
    const char *guarantee;
    int json;
} doctor_options;

/* What a command uses: topics it reads, topics it writes, groups it names. */
typedef struct needs {
    const char *reads[3];
    const char *writes[2];
    const char *groups[2];
    int copartitioned; /* its three topics must have the same partition count */
    int idempotent;    /* produces with enable.idempotence */
    int transactional; /* process --guarantee exactly_once */
} needs;

__attribute__((format(printf, 4, 5))) static void row(doctor *d, row_status status,
                                                      const char *check, const char *fmt, ...)
{
    if (d->count == DOCTOR_MAX_ROWS) return;
    doctor_row *r = &d->rows[d->count++];
    snprintf(r->check, sizeof(r->check), "%s", check);
    r->status = status;
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->detail, sizeof(r->detail), fmt, args);
    va_end(args);
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: orderflow-consumer doctor [OPTIONS]\n"
            "Checks what COMMAND needs from the cluster with this configuration: each\n"
            "bootstrap broker reachable, TLS and authentication, the topics (and for\n"
            "process their co-partitioning), Read on the topics it reads, Describe on its\n"
            "groups, an idempotent producer id, transactions (exactly_once), the\n"
            "librdkafka version. One row per check, with the fix for each failure.\n"
            "\n"
            "      --for COMMAND          producer, process (default), tail, lag, redrive,\n"
            "                             gateway\n"
            "      --guarantee G          at_least_once or exactly_once (default: the config)\n"
            "      --json                 one JSON array of {check, status, detail}\n"
            "  -b, --brokers LIST   -c, --config FILE   -X KEY=VALUE   -t, --topic NAME\n"
            "  -h, --help           -V, --version\n"
            "\n"
            "Nothing is written and no group is joined: Write on a topic and Read on a\n"
            "group are only tested by doing them, so they are listed as not tested.\n"
            "Exit: 0 every check passed, 1 some failed, 64 usage, 78 config.\n"
            "\n"
            "Example: orderflow-consumer doctor -c processor.conf --guarantee exactly_once\n");
}

enum { OPT_FOR = 1000, OPT_GUARANTEE, OPT_JSON };

static int take_option(void *ctx, int opt, const char *arg, char *err, size_t errlen)
{
    doctor_options *opts = ctx;
    switch (opt) {
    case OPT_FOR: {
        static const char *const commands[] = {"producer", "process", "tail",
                                               "lag",      "redrive", "gateway"};
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
            if (strcmp(arg, commands[i]) == 0) {
                opts->command = commands[i];
                return 0;
            }
        snprintf(err, errlen, "--for: producer, process, tail, lag, redrive or gateway, not '%s'",
                 arg);
        return -1;
    }
    case OPT_GUARANTEE:
        if (strcmp(arg, "at_least_once") != 0 && strcmp(arg, "exactly_once") != 0) {
            snprintf(err, errlen, "--guarantee: at_least_once or exactly_once, not '%s'", arg);
            return -1;
        }
        opts->guarantee = arg;
        return 0;
    case OPT_JSON:
        opts->json = 1;
        return 0;
    }
    return 0;
}

static needs needs_of(const doctor_options *opts, const ofc_config *cfg)
{
    needs n;
    memset(&n, 0, sizeof(n));
    const char *command = opts->command;
    if (strcmp(command, "producer") == 0) {
        n.writes[0] = cfg->topic_order_created;
        n.idempotent = 1;
    } else if (strcmp(command, "process") == 0) {
        n.reads[0] = cfg->topic_order_created;
        n.reads[1] = cfg->topic_data_processed;
        n.reads[2] = cfg->topic_dead_letter;
        n.writes[0] = cfg->topic_data_processed;
        n.writes[1] = cfg->topic_dead_letter;
        n.groups[0] = cfg->consumer_group;
        n.groups[1] = "orderflow-restore";
        n.copartitioned = n.idempotent = 1;
        n.transactional = opts->guarantee ? strcmp(opts->guarantee, "exactly_once") == 0
                                          : cfg->guarantee == OFC_EXACTLY_ONCE;
    } else if (strcmp(command, "tail") == 0) {
        n.reads[0] = opts->common.topic ? opts->common.topic : cfg->topic_data_processed;
        n.groups[0] = "orderflow-tail";
    } else if (strcmp(command, "lag") == 0) {
        n.groups[0] = cfg->consumer_group;
    } else if (strcmp(command, "redrive") == 0) {
        n.reads[0] = cfg->topic_dead_letter;
        n.writes[0] = cfg->topic_order_created;
        n.groups[0] = "orderflow-redrive";
        n.idempotent = 1;
    } else { /* gateway */
        n.reads[0] = cfg->topic_order_created;
        n.reads[1] = cfg->topic_data_processed;
        n.writes[0] = cfg->topic_order_created;
        n.groups[0] = "orderflow-gateway-view";
        n.groups[1] = "orderflow-gateway-restore";
        n.idempotent = 1;
    }
    return n;
}

/* TCP to one "[scheme://]host:port" of the bootstrap list. */
static void check_reachable(doctor *d, const char *address)
{
    char check[200], host[256], why[256] = "";
    snprintf(check, sizeof(check), "reach %s", address);
    const char *start = strstr(address, "://");
    snprintf(host, sizeof(host), "%s", start ? start + 3 : address);
    char *colon = strrchr(host, ':');
    if (!colon) {
        row(d, ROW_FAIL, check, "no port in '%s'; write HOST:PORT in -b/kafka.brokers", address);
        return;
    }
    *colon = '\0';
    const char *port = colon + 1;
    if (host[0] == '[') { /* [IPv6]:port */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = '\0';
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *found = NULL;
    int rc = getaddrinfo(host, port, &hints, &found);
    if (rc != 0) {
        row(d, ROW_FAIL, check, "cannot resolve '%s': %s; fix the name in -b/kafka.brokers", host,
            gai_strerror(rc));
        return;
    }
    int connected = 0;
    for (struct addrinfo *a = found; a && !connected; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
            connected = 1;
        } else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int error = 0;
            socklen_t len = sizeof(error);
            if (poll(&p, 1, CONNECT_TIMEOUT_MS) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0)
                connected = 1;
            else
                snprintf(why, sizeof(why), "%s", error ? strerror(error) : "timed out");
        } else {
            snprintf(why, sizeof(why), "%s", strerror(errno));
        }
        close(fd);
    }
    freeaddrinfo(found);
    if (connected)
        row(d, ROW_OK, check, "TCP connection accepted");
    else
        row(d, ROW_FAIL, check,
            "cannot connect: %s; start the broker or fix the address in -b/kafka.brokers", why);
}

static int new_client(const ofc_config *cfg, rd_kafka_type_t type, const ofc_kafka_setting *forced,
                      ofc_kafka *kafka, char *err, size_t errlen)
{
    memset(kafka, 0, sizeof(*kafka));
    rd_kafka_conf_t *conf = ofc_kafka_conf_new(cfg, NULL, forced, err, errlen);
    if (!conf) return EX_CONFIG;
    if (ofc_kafka_new(kafka, type, conf, NULL, err, errlen) != 0) return EX_SOFTWARE;
    return 0;
}

/* TLS, authentication and the metadata of each topic the command uses. */
static void check_cluster(doctor *d, const needs *n, ofc_kafka *kafka, int *partitions)
{
    const ofc_config *cfg = d->cfg;
    char err[1200];
    int status = ofc_kafka_describe_topics(kafka, cfg->brokers, NULL, 0, cfg->producer_timeout_ms,
                                           err, sizeof(err));
    if (status) {
        row(d, ROW_FAIL, "connect, TLS and authentication", "%s", err);
        return;
    }
    d->reachable = 1;
    char protocol[32] = "";
    size_t len = sizeof(protocol);
    rd_kafka_conf_get(rd_kafka_conf(kafka->rk), "security.protocol", protocol, &len);
    row(d, ROW_OK, "connect, TLS and authentication", "metadata answered over %s", protocol);
    const char *topics[5];
    int count = 0;
    for (int i = 0; i < 3; i++)
        if (n->reads[i]) topics[count++] = n->reads[i];
    for (int i = 0; i < 2; i++) {
        int seen = 0;
        for (int j = 0; j < count; j++)
            seen |= n->writes[i] && strcmp(topics[j], n->writes[i]) == 0;
        if (n->writes[i] && !seen) topics[count++] = n->writes[i];
    }
    for (int i = 0; i < count; i++) {
        char check[300];
        snprintf(check, sizeof(check), "topic %s", topics[i]);
        ofc_topic_info info = {topics[i], 0};
        status = ofc_kafka_describe_topics(kafka, cfg->brokers, &info, 1, cfg->producer_timeout_ms,
                                           err, sizeof(err));
        partitions[i] = info.partition_count;
        if (status)
            row(d, ROW_FAIL, check, "%s", err);
        else if (info.partition_count == 0)
            row(d, ROW_FAIL, check,
                "does not exist; create it: kafka-topics.sh --bootstrap-server %s --create "
                "--topic %s --partitions 6",
                cfg->brokers, topics[i]);
        else
            row(d, ROW_OK, check, "%d partitions, Describe allowed", info.partition_count);
    }
    if (n->copartitioned && count == 3 && partitions[0] > 0 && partitions[1] > 0 &&
        partitions[2] > 0) {
        if (partitions[0] == partitions[1] && partitions[0] == partitions[2])
            row(d, ROW_OK, "co-partitioning", "%s, %s and %s: %d partitions each", topics[0],
                topics[1], topics[2], partitions[0]);
        else
            row(d, ROW_FAIL, "co-partitioning",
                "%s has %d partitions, %s %d, %s %d; give all three the largest count "
                "(kafka-topics.sh --bootstrap-server %s --alter --topic NAME --partitions N)",
                topics[0], partitions[0], topics[1], partitions[1], topics[2], partitions[2],
                cfg->brokers);
    }
}

/* Read: a fetch at each topic's log end (nothing is read, nothing
 * committed); a refusal comes back as TOPIC_AUTHORIZATION_FAILED. */
static void check_read(doctor *d, const needs *n, const char *group)
{
    const ofc_config *cfg = d->cfg;
    char err[1200];
    const ofc_kafka_setting forced[] = {
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {NULL, NULL},
    };
    ofc_kafka kafka;
    int status = new_client(cfg, RD_KAFKA_CONSUMER, forced, &kafka, err, sizeof(err));
    if (status) {
        row(d, ROW_FAIL, "read probe", "%s", err);
        return;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(3);
    for (int i = 0; i < 3; i++)
        if (n->reads[i])
            rd_kafka_topic_partition_list_add(list, n->reads[i], 0)->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_assign(kafka.rk, list);
    rd_kafka_resp_err_t refused[3] = {0};
    int64_t deadline = of_monotonic_ms() + PROBE_MS;
    while (of_monotonic_ms() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(kafka.rk, 100);
        if (!msg) continue;
        if (ofc_kafka_is_authorization_error(msg->err) && msg->rkt)
            for (int i = 0; i < 3; i++)
                if (n->reads[i] && strcmp(n->reads[i], rd_kafka_topic_name(msg->rkt)) == 0)
                    refused[i] = msg->err;
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_assign(kafka.rk, NULL);
    for (int i = 0; i < 3; i++) {
        if (!n->reads[i]) continue;
        char check[300];
        snprintf(check, sizeof(check), "Read topic %s", n->reads[i]);
        if (refused[i] &&
            ofc_kafka_refusal(&kafka, refused[i], n->reads[i], NULL, err, sizeof(err)))
            row(d, ROW_FAIL, check, "%s", err);
        else
            row(d, ROW_OK, check, "fetch at the log end allowed");
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_consumer_close(kafka.rk);
    ofc_kafka_destroy(&kafka);
}

/* Describe on a group: its committed offsets (OffsetFetch), read, not
 * changed. Read on it is only tested by joining, which rebalances it. */
static void check_group(doctor *d, const char *group, const char *topic, int member)
{
    const ofc_config *cfg = d->cfg;
    char err[1200], check[300];
    snprintf(check, sizeof(check), "group %s", group);
    const ofc_kafka_setting forced[] = {
        {"group.id", group},
        {"enable.auto.commit", "false"},
        {NULL, NULL},
    };
    ofc_kafka kafka;
    int status = new_client(cfg, RD_KAFKA_CONSUMER, forced, &kafka, err, sizeof(err));
    if (status) {
        row(d, ROW_FAIL, check, "%s", err);
        return;
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, 0);
    rd_kafka_resp_err_t rc = rd_kafka_committed(kafka.rk, list, PROBE_MS);
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) rc = list->elems[0].err;
    /* Refused its coordinator lookup (FindCoordinator needs Describe), the
     * call only times out: the refusal comes as a consumer error. */
    for (int i = 0; i < 5 && rc == RD_KAFKA_RESP_ERR__TIMED_OUT; i++) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(kafka.rk, 100);
        if (msg && ofc_kafka_is_authorization_error(msg->err)) rc = msg->err;
        if (msg) rd_kafka_message_destroy(msg);
        if (ofc_kafka_is_authorization_error(kafka.last_error)) rc = kafka.last_error;
    }
    if (ofc_kafka_refusal(&kafka, rc, NULL, NULL, err, sizeof(err)))
        row(d, ROW_FAIL, check, "%s", err);
    else if (rc)
        row(d, ROW_FAIL, check, "cannot read its committed offsets: %s", rd_kafka_err2str(rc));
    else
        row(d, ROW_OK, check, "Describe allowed (committed offsets read)%s",
            member ? "; Read, which a member needs, is not tested: only joining tests it" : "");
    rd_kafka_topic_partition_list_destroy(list);
    ofc_kafka_destroy(&kafka);
}

/* An idempotent producer's id: refused (CLUSTER_AUTHORIZATION_FAILED) to a
 * principal with Write on no topic. Nothing is produced. */
static void check_idempotent(doctor *d, const char *topic)
{
    char err[1200];
    const ofc_kafka_setting forced[] = {
        {"enable.idempotence", "true"},
        {NULL, NULL},
    };
    ofc_kafka kafka;
    if (new_client(d->cfg, RD_KAFKA_PRODUCER, forced, &kafka, err, sizeof(err)) != 0) {
        row(d, ROW_FAIL, "idempotent producer id", "%s", err);
        return;
    }
    int64_t deadline = of_monotonic_ms() + PROBE_MS;
    while (of_monotonic_ms() < deadline && !kafka.fatal)
        rd_kafka_poll(kafka.rk, 100);
    if (kafka.fatal && ofc_kafka_refusal(&kafka, kafka.last_error, topic, NULL, err, sizeof(err)))
        row(d, ROW_FAIL, "idempotent producer id", "%s", err);
    else if (kafka.fatal)
        row(d, ROW_FAIL, "idempotent producer id", "%s", kafka.last_error_text);
    else
        row(d, ROW_OK, "idempotent producer id",
            "not refused (Write on some topic); Write on %s is only tested by writing", topic);
    ofc_kafka_destroy(&kafka);
}

/* exactly_once: init_transactions with an id of the processor's prefix. */
static void check_transactions(doctor *d)
{
    const ofc_config *cfg = d->cfg;
    char err[1200], id[400], host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    snprintf(id, sizeof(id), "%s-doctor-%s-%d", cfg->consumer_group, host, (int)getpid());
    const ofc_kafka_setting forced[] = {
        {"transactional.id", id},
        {NULL, NULL},
    };
    ofc_kafka kafka;
    if (new_client(cfg, RD_KAFKA_PRODUCER, forced, &kafka, err, sizeof(err)) != 0) {
        row(d, ROW_FAIL, "transactions", "%s", err);
        return;
    }
    rd_kafka_error_t *error = rd_kafka_init_transactions(kafka.rk, cfg->producer_timeout_ms);
    char prefix[300];
    snprintf(prefix, sizeof(prefix), "%s-", cfg->consumer_group);
    if (!error)
        row(d, ROW_OK, "transactions", "transactional id %s initialised", id);
    else if (ofc_kafka_refusal(&kafka, rd_kafka_error_code(error), NULL, prefix, err, sizeof(err)))
        row(d, ROW_FAIL, "transactions", "%s", err);
    else
        row(d, ROW_FAIL, "transactions", "cannot initialise transactions: %s",
            rd_kafka_error_string(error));
    if (error) rd_kafka_error_destroy(error);
    ofc_kafka_destroy(&kafka);
}

/* The loaded librdkafka against the table of bugs orderflow knows
 * (common/kafka/versions.c): each present one is worked around; those that
 * crash or lose work are named as the programs' start-up warning names them. */
static void check_librdkafka(doctor *d)
{
    int version = rd_kafka_version();
    char name[32], bugs[400] = "", warning[600] = "";
    ofc_kafka_version_format(version, name, sizeof(name));
    size_t used = 0;
    for (int b = 0; b < OFC_KAFKA_BUG_COUNT; b++) {
        if (!ofc_kafka_bug_in((ofc_kafka_bug)b, version)) continue;
        int n = snprintf(bugs + used, sizeof(bugs) - used, "%s%s", used ? ", " : "",
                         ofc_kafka_bug_describe((ofc_kafka_bug)b)->issue);
        if (n > 0 && (size_t)n < sizeof(bugs) - used) used += (size_t)n;
    }
    if (version < 0x020002ff) {
        row(d, ROW_FAIL, "librdkafka version",
            "%s is older than 2.0.2, the oldest orderflow is tested with; upgrade librdkafka",
            name);
        return;
    }
    int warned = ofc_kafka_version_warning(version, warning, sizeof(warning));
    if (used)
        row(d, ROW_OK, "librdkafka version",
            "%s: known bugs %s, each worked around (docs/operations.md, \"librdkafka "
            "versions\")%s%s",
            name, bugs, warned ? "; " : "", warned ? warning : "");
    else
        row(d, ROW_OK, "librdkafka version", "%s: no known bug", name);
}

static const char *status_name(row_status s)
{
    return s == ROW_OK ? "ok" : s == ROW_FAIL ? "FAIL" : "skip";
}

static void gen_string(yajl_gen g, const char *s)
{
    yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static int print_json(const doctor *d)
{
    yajl_gen g = yajl_gen_alloc(NULL);
    if (!g) return -1;
    yajl_gen_array_open(g);
    for (int i = 0; i < d->count; i++) {
        yajl_gen_map_open(g);
        gen_string(g, "check");
        gen_string(g, d->rows[i].check);
        gen_string(g, "status");
        gen_string(g, d->rows[i].status == ROW_OK     ? "ok"
                      : d->rows[i].status == ROW_FAIL ? "fail"
                                                      : "skip");
        gen_string(g, "detail");
        gen_string(g, d->rows[i].detail);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    const unsigned char *buf;
    size_t len;
    int rc = yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok ? 0 : -1;
    if (rc == 0) {
        fwrite(buf, 1, len, stdout);
        fputc('\n', stdout);
    }
    yajl_gen_free(g);
    return rc;
}

int doctor_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"for", required_argument, NULL, OPT_FOR},
        {"guarantee", required_argument, NULL, OPT_GUARANTEE},
        {"json", no_argument, NULL, OPT_JSON},
        {NULL, 0, NULL, 0},
    };
    static const ofc_startup startup = {
        OFC_STARTUP_PROGRAM("orderflow-consumer doctor", "orderflow-consumer", usage, longopts,
                            take_option),
    };
    doctor_options opts = {.command = "process"};
    ofc_config cfg;
    int status = ofc_startup_run(&startup, &opts, argc, argv, &opts.common, &cfg, NULL);
    if (status != OFC_STARTUP_CONTINUE) return status;
    char err[1024];
    doctor *d = calloc(1, sizeof(*d));
    if (!d) {
        ofc_warn("out of memory");
        ofc_config_free(&cfg);
        return EX_OSERR;
    }
    d->cfg = &cfg;
    needs n = needs_of(&opts, &cfg);

    char *list = strdup(cfg.brokers);
    for (char *save = NULL, *b = list ? strtok_r(list, ",", &save) : NULL; b;
         b = strtok_r(NULL, ",", &save)) {
        while (*b == ' ')
            b++;
        check_reachable(d, b);
    }
    free(list);

    ofc_kafka kafka;
    int partitions[5] = {0};
    if (new_client(&cfg, RD_KAFKA_PRODUCER, NULL, &kafka, err, sizeof(err)) != 0) {
        row(d, ROW_FAIL, "connect, TLS and authentication", "%s", err);
    } else {
        check_cluster(d, &n, &kafka, partitions);
        ofc_kafka_destroy(&kafka);
    }
    if (d->reachable) {
        if (n.reads[0]) check_read(d, &n, n.groups[0] ? n.groups[0] : "orderflow-doctor");
        for (int i = 0; i < 2; i++)
            if (n.groups[i])
                check_group(d, n.groups[i], n.reads[0] ? n.reads[0] : cfg.topic_order_created,
                            i == 0 && strcmp(opts.command, "lag") != 0 &&
                                strcmp(opts.command, "tail") != 0);
        if (n.idempotent) check_idempotent(d, n.writes[0]);
        if (n.transactional) check_transactions(d);
    }
    check_librdkafka(d);

    int failed = 0;
    for (int i = 0; i < d->count; i++)
        failed |= d->rows[i].status == ROW_FAIL;
    if (opts.json) {
        if (print_json(d) != 0) ofc_warn("out of memory writing JSON");
    } else {
        printf("%-40s %-5s %s\n", "CHECK", "STATUS", "DETAIL (for a failure: the fix)");
        for (int i = 0; i < d->count; i++)
            printf("%-40s %-5s %s\n", d->rows[i].check, status_name(d->rows[i].status),
                   d->rows[i].detail);
    }
    if (fflush(stdout) != 0) failed = 1;
    free(d);
    ofc_config_free(&cfg);
    return failed ? 1 : EX_OK;
}
