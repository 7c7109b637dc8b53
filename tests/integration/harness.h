/* Test harness: an in-process mock Kafka cluster (librdkafka's), the real
 * executables run as children against it, and readers that fetch what landed
 * in a topic so tests can assert on the records themselves. */
#ifndef OF_TEST_HARNESS_H
#define OF_TEST_HARNESS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* Kafka protocol ApiKeys for fault injection (not in librdkafka's public headers). */
enum {
    API_PRODUCE = 0,
    API_FETCH = 1,
    API_LIST_OFFSETS = 2,
    API_METADATA = 3,
    API_OFFSET_COMMIT = 8,
    API_OFFSET_FETCH = 9,
    API_FIND_COORDINATOR = 10,
    API_JOIN_GROUP = 11,
    API_HEARTBEAT = 12,
    API_SYNC_GROUP = 14,
    API_INIT_PRODUCER_ID = 22,
    API_END_TXN = 26,
    API_TXN_OFFSET_COMMIT = 28,
};

typedef struct mock_cluster {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *cluster;
    char bootstraps[256];
} mock_cluster;

/* Starts a cluster with `brokers` brokers and the three default topics with
 * `partitions` partitions each. Aborts the test on failure. */
void mock_start(mock_cluster *mock, int brokers, int partitions);
void mock_stop(mock_cluster *mock);

typedef struct child {
    pid_t pid;
    char out_path[64];
    char err_path[64];
    int status; /* exit status once waited, 128+signal if killed */
} child;

/* Runs argv (argv[0] is a path) with stdout and stderr going to temp files.
 * stdin is /dev/null unless stdin_path is given. */
void child_start(child *c, const char *stdin_path, char *const argv[]);
/* Waits up to timeout_ms; returns the exit status, or -1 after killing it
 * on timeout. */
int child_wait(child *c, int timeout_ms);
void child_signal(const child *c, int sig);
/* The child's captured stdout / stderr (malloc'd, NUL-terminated). */
char *child_stdout(const child *c);
char *child_stderr(const child *c);
/* The last part of text (at most 3,000 bytes), for assertion messages: Check
 * refuses a message over 8 KiB and reports only "Message string too long". */
const char *text_tail(const char *text);
void child_cleanup(child *c);

/* Binary paths from the environment set by meson (ORDERFLOW_PRODUCER, ...). */
const char *producer_path(void);
const char *consumer_path(void);

typedef struct record {
    int32_t partition;
    int64_t offset;
    char *key;
    char *value; /* NUL-terminated copy */
    size_t value_len;
    char *idempotency_key; /* header, NULL if absent */
    char *error_header;    /* orderflow-error, NULL if absent */
    char *source_offset;   /* orderflow-source-offset, NULL if absent */
} record;

typedef struct records {
    record *items;
    size_t count;
} records;

/* Reads every record of topic from the beginning to the end of each partition. */
void read_topic(const char *bootstraps, const char *topic, records *out);
void records_free(records *r);
/* Distinct idempotency-key header values among r. */
size_t distinct_idempotency_keys(const records *r);
/* Reads topic until it holds at least n records or timeout_ms passes;
 * returns the last count seen. */
size_t wait_for_records(const char *bootstraps, const char *topic, size_t n, int timeout_ms);

/* Writes text to a new temp file; returns its path (static storage per call slot). */
void write_temp_file(char *path_out, size_t path_len, const char *text);

void sleep_ms(int ms);

#endif
