/* orderflow-broker: an in-memory Kafka-protocol broker for development and
 * tests (docs/architecture.md, "The development broker and its limits").
 *
 * librdkafka's mock cluster does the Kafka part; it only listens on an
 * ephemeral loopback port, so a relay on 127.0.0.1:PORT (9092 by default)
 * forwards bootstrap connections to it. Clients then learn the mock's own
 * address from the metadata and talk to it directly. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <librdkafka/rdkafka.h>
#include <orderflow/version.h> /* macros only: the broker links no liborderflow */

#include "cli/log.h"
#include "util/signals.h"

#include "forwarder.h"
#include "inject.h"
#include "mock.h"

#define PROGRAM "orderflow-broker"
#define DEFAULT_PORT 9092
#define DEFAULT_PARTITIONS 6
#define MAX_PARTITIONS 1000
#define MAX_TOPICS 64
/* What librdkafka's mock does for topics nobody created beforehand
 * (rdkafka_mock.c: mcluster->defaults.partition_cnt); not configurable. */
#define MOCK_AUTO_PARTITIONS 4

static const char *const default_topics[] = {"order-created", "data-processed",
                                             "order-created.dlq"};

typedef struct broker_options {
    uint16_t port;
    int partitions;
    const char *topics[MAX_TOPICS]; /* defaults or -t, then the --topic ones */
    size_t topic_count;
    const char *extra_topics[MAX_TOPICS];
    size_t extra_topic_count;
    char *topics_copy; /* -t's value, split in place; topics[] point into it */
    int quiet;
    int verbose;
    int inject;
    inject_plan inject_plan;
} broker_options;

enum { OPT_PARTITIONS = 256, OPT_TOPIC, OPT_INJECT };

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: " PROGRAM " [OPTION]...\n"
            "In-memory Kafka-protocol broker for development and tests (librdkafka's\n"
            "mock cluster), on 127.0.0.1 only. Its data lives in memory and is lost on\n"
            "exit; each partition keeps only about its last 5 MB.\n"
            "\n"
            "Options:\n"
            "  -p, --port N          listen on 127.0.0.1:N (default %d; 0 picks a free\n"
            "                        port, shown in the \"ready\" line)\n"
            "      --partitions N    partitions of each pre-created topic, 1..%d\n"
            "                        (default %d)\n"
            "  -t, --topics A,B,...  topics to pre-create instead of the defaults\n"
            "                        (default %s,%s,\n"
            "                        %s)\n"
            "      --topic NAME      pre-create one more topic (repeatable)\n"
            "      --inject SPEC     inject faults (default none), e.g.\n"
            "                        produce=0.2,fetch=0.2,commit=0.5,group=0.1,down=30/3:\n"
            "                        faults per second: connection dropped at a\n"
            "                        Produce request, retriable errors on Fetch,\n"
            "                        OffsetCommit and Heartbeat requests; and\n"
            "                        the broker down 3 s every 30 s\n"
            "  -q, --quiet           print only errors and the \"ready\" line\n"
            "  -v, --verbose         log relayed connections and the mock's debug\n"
            "                        messages (-vv: all librdkafka debug contexts)\n"
            "  -h, --help            show this help and exit\n"
            "  -V, --version         show the version and exit\n"
            "\n"
            "Other topics are created on first use with %d partitions (the mock's\n"
            "fixed default). Once serving, it prints \"ready 127.0.0.1:PORT\" on stdout.\n"
            "SIGINT or SIGTERM stops it (exit 0); a second signal stops it at once.\n"
            "Exit status: 0 stopped, 64 bad option, 69 cannot listen, 70 internal error.\n"
            "\n"
            "Example:\n"
            "  " PROGRAM " --port 9092 --partitions 6 &\n"
            "  kcat -b localhost:9092 -L\n",
            DEFAULT_PORT, MAX_PARTITIONS, DEFAULT_PARTITIONS, default_topics[0], default_topics[1],
            default_topics[2], MOCK_AUTO_PARTITIONS);
}

static int usage_error(void)
{
    fprintf(stderr, "Try '" PROGRAM " --help' for more information.\n");
    return EX_USAGE;
}

static int parse_int(const char *option, const char *arg, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < min || v > max) {
        ofc_warn("%s: expected an integer %ld..%ld, got '%s'", option, min, max, arg);
        return -1;
    }
    *out = v;
    return 0;
}

/* Kafka's own rule for topic names; the mock accepts anything, but a name a
 * real cluster would refuse would only fail later, against Apache Kafka. */
static int check_topic_name(const char *option, const char *name)
{
    size_t len = strlen(name);
    int ok = len >= 1 && len <= 249 && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
    for (size_t i = 0; ok && i < len; i++) {
        char ch = name[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '.' || ch == '_' || ch == '-';
    }
    if (!ok) {
        ofc_warn("%s: invalid topic name '%s' (1..249 of a-z A-Z 0-9 . _ -, "
                 "not '.' or '..')",
                 option, name);
        return -1;
    }
    return 0;
}

static int set_topics(broker_options *opt, const char *arg)
{
    /* A later -t replaces an earlier one, as later options usually do. */
    free(opt->topics_copy);
    opt->topic_count = 0;
    opt->topics_copy = strdup(arg);
    if (!opt->topics_copy) {
        ofc_warn("out of memory");
        return -1;
    }
    char *p = opt->topics_copy;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (check_topic_name("--topics", p) != 0) return -1;
        if (opt->topic_count == MAX_TOPICS) {
            ofc_warn("--topics: more than %d topics", MAX_TOPICS);
            return -1;
        }
        opt->topics[opt->topic_count++] = p;
        if (!comma) break;
        p = comma + 1;
    }
    return 0;
}

/* Returns -1 to go on, or the status to exit with. */
static int parse_options(int argc, char **argv, broker_options *opt)
{
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"topics", required_argument, NULL, 't'},
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"inject", required_argument, NULL, OPT_INJECT},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };

    memset(opt, 0, sizeof(*opt));
    opt->port = DEFAULT_PORT;
    opt->partitions = DEFAULT_PARTITIONS;
    for (size_t i = 0; i < sizeof(default_topics) / sizeof(default_topics[0]); i++)
        opt->topics[opt->topic_count++] = default_topics[i];

    /* Our own messages (opterr = 0, leading ':') so that they name the
     * program, not the path it was started by. */
    opterr = 0;
    int c;
    long v;
    while ((c = getopt_long(argc, argv, ":p:t:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (parse_int("--port", optarg, 0, 65535, &v) != 0) return usage_error();
            opt->port = (uint16_t)v;
            break;
        case OPT_PARTITIONS:
            if (parse_int("--partitions", optarg, 1, MAX_PARTITIONS, &v) != 0) return usage_error();
            opt->partitions = (int)v;
            break;
        case 't':
            if (set_topics(opt, optarg) != 0) return usage_error();
            break;
        case OPT_TOPIC:
            if (check_topic_name("--topic", optarg) != 0) return usage_error();
            if (opt->extra_topic_count == MAX_TOPICS) {
                ofc_warn("--topic: more than %d topics", MAX_TOPICS);
                return usage_error();
            }
            opt->extra_topics[opt->extra_topic_count++] = optarg;
            break;
        case OPT_INJECT: {
            char why[256];
            if (inject_plan_parse(optarg, &opt->inject_plan, why, sizeof(why)) != 0) {
                ofc_warn("%s", why);
                return usage_error();
            }
            opt->inject = 1;
            break;
        }
        case 'q':
            opt->quiet = 1;
            break;
        case 'v':
            opt->verbose++;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf(PROGRAM " " OF_VERSION_STR " (librdkafka %s)\n", rd_kafka_version_str());
            return 0;
        case ':':
            ofc_warn("option '%s' needs a value", argv[optind - 1]);
            return usage_error();
        default:
            if (optopt)
                ofc_warn("unknown option '-%c'", optopt);
            else
                ofc_warn("unknown option '%s'", argv[optind - 1]);
            return usage_error();
        }
    }
    if (optind < argc) {
        ofc_warn("unexpected argument '%s'", argv[optind]);
        return usage_error();
    }

    for (size_t i = 0; i < opt->extra_topic_count; i++) {
        if (opt->topic_count == MAX_TOPICS) {
            ofc_warn("more than %d topics", MAX_TOPICS);
            return usage_error();
        }
        opt->topics[opt->topic_count++] = opt->extra_topics[i];
    }
    for (size_t i = 0; i < opt->topic_count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (strcmp(opt->topics[i], opt->topics[j]) == 0) {
                ofc_warn("topic '%s' is given twice", opt->topics[i]);
                return usage_error();
            }
        }
    }
    return -1;
}

/* Blocks SIGINT/SIGTERM in this thread (and so in every thread created
 * later, the mock's and librdkafka's included) and installs the handler.
 * *wait_mask gets the mask for the relay to sleep with: the signals then
 * arrive only inside its ppoll(), where they wake it. */
static int setup_signals(sigset_t *stop_set, sigset_t *wait_mask)
{
    sigemptyset(stop_set);
    sigaddset(stop_set, SIGINT);
    sigaddset(stop_set, SIGTERM);
    int err = pthread_sigmask(SIG_BLOCK, stop_set, wait_mask);
    if (err) {
        ofc_warn("cannot block signals: %s", strerror(err));
        return -1;
    }
    /* Even if our parent left them blocked: they are how we are stopped. */
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGTERM);

    char why[256];
    if (ofc_stop_signals_install(OFC_SIGNALS_IGNORE_SIGPIPE, why, sizeof(why)) != 0) {
        ofc_warn("%s", why);
        return -1;
    }
    return 0;
}

static void print_banner(const broker_options *opt, uint16_t port, const char *mock_address)
{
    ofc_warn("in-memory Kafka-protocol broker (librdkafka %s mock cluster)",
             rd_kafka_version_str());
    ofc_warn("listening on 127.0.0.1:%u (loopback only), relaying to the mock broker, "
             "which advertises itself as %s",
             (unsigned)port, mock_address);
    fprintf(stderr, "%s: topics (%d partition%s each):", ofc_log_program(), opt->partitions,
            opt->partitions == 1 ? "" : "s");
    for (size_t i = 0; i < opt->topic_count; i++)
        fprintf(stderr, "%s %s", i ? "," : "", opt->topics[i]);
    fprintf(stderr, "; other topics are created on first use with %d partitions\n",
            MOCK_AUTO_PARTITIONS);
    ofc_warn("WARNING: all data lives in memory and is lost when the broker exits;");
    ofc_warn("WARNING: each partition keeps only about its last 5 MB (at most "
             "100000 batches), older records are dropped");
    if (opt->inject) {
        char plan[256];
        inject_plan_describe(&opt->inject_plan, plan, sizeof(plan));
        ofc_warn("injecting faults: %s", plan);
    }
    ofc_warn("stop with Ctrl-C or SIGTERM");
}

int main(int argc, char **argv)
{
    ofc_log_set_program(PROGRAM);
    broker_options opt;
    int status = parse_options(argc, argv, &opt);
    if (status >= 0) {
        free(opt.topics_copy);
        return status;
    }

    sigset_t stop_set, wait_mask;
    if (setup_signals(&stop_set, &wait_mask) != 0) {
        free(opt.topics_copy);
        return EX_SOFTWARE;
    }

    /* Listen before building the cluster, so that a taken port is reported
     * at once and nothing is left half started. */
    broker_forwarder *fwd = NULL;
    int err = broker_forwarder_listen(&fwd, opt.port, opt.verbose > 0);
    if (err) {
        const char *hint = "";
        if (err == EADDRINUSE)
            hint = " (is another broker running? try --port)";
        else if (err == EACCES)
            hint = " (ports below 1024 need privileges; try --port)";
        ofc_warn("cannot listen on 127.0.0.1:%u: %s%s", (unsigned)opt.port, strerror(err), hint);
        free(opt.topics_copy);
        return EX_UNAVAILABLE;
    }
    uint16_t port = broker_forwarder_port(fwd);

    char errbuf[512];
    broker_mock *mock = NULL;
    if (broker_mock_new(&mock, opt.verbose, errbuf, sizeof(errbuf)) != 0) {
        ofc_warn("%s", errbuf);
        broker_forwarder_finish(fwd);
        free(opt.topics_copy);
        return EX_SOFTWARE;
    }

    status = 0;
    /* Same partition count for all: the processor requires its input and
     * output topics to be co-partitioned (docs/architecture.md, "Guarantees and how they are
     * kept"). */
    for (size_t i = 0; i < opt.topic_count && status == 0; i++) {
        int rc =
            broker_mock_create_topic(mock, opt.topics[i], opt.partitions, errbuf, sizeof(errbuf));
        if (rc != 0) {
            ofc_warn("%s", errbuf);
            status = EX_SOFTWARE;
        }
    }
    const char *mock_address = broker_mock_bootstraps(mock);
    if (status == 0 &&
        broker_forwarder_set_upstream(fwd, mock_address, errbuf, sizeof(errbuf)) != 0) {
        ofc_warn("%s", errbuf);
        status = EX_SOFTWARE;
    }
    if (status == 0) {
        if (!opt.quiet) print_banner(&opt, port, mock_address);
        err = broker_forwarder_start(fwd, &ofc_stop_signal, &wait_mask);
        if (err) {
            ofc_warn("cannot start the relay thread: %s", strerror(err));
            status = EX_SOFTWARE;
        }
    }
    if (status != 0) {
        broker_forwarder_finish(fwd);
        broker_mock_destroy(mock);
        free(opt.topics_copy);
        return status;
    }

    injector *inj = NULL;
    if (opt.inject) {
        err = injector_start(&inj, broker_mock_cluster(mock), &opt.inject_plan,
                             opt.verbose ? stderr : NULL);
        if (err) {
            ofc_warn("cannot start fault injection: %s", strerror(err));
            broker_forwarder_finish(fwd);
            broker_mock_destroy(mock);
            free(opt.topics_copy);
            return EX_SOFTWARE;
        }
    }

    /* The one line on stdout: scripts and tests wait for it. */
    printf("ready 127.0.0.1:%u\n", (unsigned)port);
    if (fflush(stdout) != 0) ofc_warn("cannot write the ready line: %s", strerror(errno));

    /* Returns once a signal has stopped the relay (or it failed). */
    err = broker_forwarder_finish(fwd);

    /* From here on a second signal must find the handler unblocked, so that
     * a slow shutdown can be cut short. */
    pthread_sigmask(SIG_UNBLOCK, &stop_set, NULL);
    if (err)
        ofc_warn("the relay on 127.0.0.1:%u failed: %s; stopping", (unsigned)port, strerror(err));
    else if (!opt.quiet)
        ofc_warn("%s received, stopping; the in-memory data is discarded",
                 ofc_stop_signal == SIGINT ? "SIGINT" : "SIGTERM");

    /* The counts are the result of an --inject run: printed even with -q. */
    injector_stop(inj, stderr);
    broker_mock_destroy(mock);
    free(opt.topics_copy);
    return err ? EX_SOFTWARE : 0;
}
