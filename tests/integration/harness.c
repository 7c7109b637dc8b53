#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

extern char **environ;

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mock_start(mock_cluster *mock, int brokers, int partitions)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
    mock->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(mock->rk != NULL, "rd_kafka_new: %s", err);
    mock->cluster = rd_kafka_mock_cluster_new(mock->rk, brokers);
    ck_assert_msg(mock->cluster != NULL, "rd_kafka_mock_cluster_new failed");
    const char *topics[] = {"order-created", "data-processed", "order-created.dlq"};
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(rd_kafka_mock_topic_create(mock->cluster, topics[i], partitions, 1), 0);
    snprintf(mock->bootstraps, sizeof(mock->bootstraps), "%s",
             rd_kafka_mock_cluster_bootstraps(mock->cluster));
}

void mock_stop(mock_cluster *mock)
{
    if (mock->cluster) rd_kafka_mock_cluster_destroy(mock->cluster);
    if (mock->rk) rd_kafka_destroy(mock->rk);
    mock->cluster = NULL;
    mock->rk = NULL;
}

void child_start(child *c, const char *stdin_path, char *const argv[])
{
    memset(c, 0, sizeof(*c));
    snprintf(c->out_path, sizeof(c->out_path), "/tmp/of-test-out-XXXXXX");
    snprintf(c->err_path, sizeof(c->err_path), "/tmp/of-test-err-XXXXXX");
    int out = mkstemp(c->out_path), errfd = mkstemp(c->err_path);
    ck_assert(out >= 0 && errfd >= 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, stdin_path ? stdin_path : "/dev/null", O_RDONLY,
                                     0);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    posix_spawn_file_actions_adddup2(&actions, errfd, 2);
    int rc = posix_spawn(&c->pid, argv[0], &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out);
    close(errfd);
    ck_assert_msg(rc == 0, "cannot start %s: %s", argv[0], strerror(rc));
}

int child_wait(child *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int wstatus;
        pid_t done = waitpid(c->pid, &wstatus, WNOHANG);
        if (done == c->pid) {
            c->status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
            c->pid = 0;
            return c->status;
        }
        if (now_ms() > deadline) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &wstatus, 0);
            c->pid = 0;
            c->status = -1;
            return -1;
        }
        sleep_ms(20);
    }
}

void child_signal(const child *c, int sig)
{
    if (c->pid > 0) kill(c->pid, sig);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    fclose(f);
    return buf;
}

char *child_stdout(const child *c)
{
    return slurp(c->out_path);
}

const char *text_tail(const char *text)
{
    size_t len = strlen(text);
    return len > 3000 ? text + len - 3000 : text;
}

char *child_stderr(const child *c)
{
    return slurp(c->err_path);
}

void child_cleanup(child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    unlink(c->out_path);
    unlink(c->err_path);
}

static const char *env_path(const char *name)
{
    const char *path = getenv(name);
    ck_assert_msg(path && *path, "%s is not set (run through meson test)", name);
    return path;
}

const char *producer_path(void)
{
    return env_path("ORDERFLOW_PRODUCER");
}

const char *consumer_path(void)
{
    return env_path("ORDERFLOW_CONSUMER");
}

static char *header_copy(rd_kafka_message_t *msg, const char *name)
{
    rd_kafka_headers_t *headers;
    const void *value;
    size_t len;
    if (rd_kafka_message_headers(msg, &headers) != 0) return NULL;
    if (rd_kafka_header_get_last(headers, name, &value, &len) != 0) return NULL;
    return strndup(value, len);
}

static int topic_partitions(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int count = 0;
    for (int attempt = 0; attempt < 20 && count == 0; attempt++) {
        if (rd_kafka_metadata(rk, 0, rkt, &md, 2000) == 0) {
            if (md->topic_cnt == 1 && md->topics[0].err == 0) count = md->topics[0].partition_cnt;
            rd_kafka_metadata_destroy(md);
        }
    }
    rd_kafka_topic_destroy(rkt);
    return count;
}

void read_topic(const char *bootstraps, const char *topic, records *out)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "orderflow-test-reader", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "20", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ck_assert_msg(rk != NULL, "reader: %s", err);
    rd_kafka_poll_set_consumer(rk);
    int partitions = topic_partitions(rk, topic);
    ck_assert_msg(partitions > 0, "topic %s has no partitions", topic);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int i = 0; i < partitions; i++)
        rd_kafka_topic_partition_list_add(list, topic, i)->offset = RD_KAFKA_OFFSET_BEGINNING;
    ck_assert_int_eq(rd_kafka_assign(rk, list), 0);
    rd_kafka_topic_partition_list_destroy(list);

    size_t cap = 1024;
    out->items = calloc(cap, sizeof(record));
    out->count = 0;
    int at_end = 0;
    int64_t deadline = now_ms() + 60000;
    while (at_end < partitions && now_ms() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 200);
        if (!msg) continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            at_end++;
        } else if (!msg->err) {
            if (out->count == cap) {
                out->items = realloc(out->items, (cap *= 2) * sizeof(record));
            }
            record *r = &out->items[out->count++];
            r->partition = msg->partition;
            r->offset = msg->offset;
            r->key = msg->key ? strndup(msg->key, msg->key_len) : NULL;
            r->value = malloc(msg->len + 1);
            memcpy(r->value, msg->payload, msg->len);
            r->value[msg->len] = '\0';
            r->value_len = msg->len;
            r->idempotency_key = header_copy(msg, "idempotency-key");
            r->error_header = header_copy(msg, "orderflow-error");
            r->source_offset = header_copy(msg, "orderflow-source-offset");
        }
        rd_kafka_message_destroy(msg);
    }
    ck_assert_msg(at_end >= partitions, "reading %s did not reach the end in time", topic);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

void records_free(records *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].key);
        free(r->items[i].value);
        free(r->items[i].idempotency_key);
        free(r->items[i].error_header);
        free(r->items[i].source_offset);
    }
    free(r->items);
    r->items = NULL;
    r->count = 0;
}

static int compare_strings(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    if (!x || !y) return (x != NULL) - (y != NULL);
    return strcmp(x, y);
}

size_t distinct_idempotency_keys(const records *r)
{
    if (r->count == 0) return 0;
    const char **keys = malloc(r->count * sizeof(*keys));
    for (size_t i = 0; i < r->count; i++)
        keys[i] = r->items[i].idempotency_key;
    qsort(keys, r->count, sizeof(*keys), compare_strings);
    size_t distinct = 0;
    for (size_t i = 0; i < r->count; i++)
        if (keys[i] && (i == 0 || !keys[i - 1] || strcmp(keys[i], keys[i - 1]) != 0)) distinct++;
    free(keys);
    return distinct;
}

/* Sums the partitions' high watermarks: cheap, and exact for topics that are
 * neither compacted nor transactional. */
size_t wait_for_records(const char *bootstraps, const char *topic, size_t n, int timeout_ms)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ck_assert_msg(rk != NULL, "watermark reader: %s", err);
    int partitions = topic_partitions(rk, topic);
    int64_t deadline = now_ms() + timeout_ms;
    size_t count = 0;
    do {
        count = 0;
        for (int i = 0; i < partitions; i++) {
            int64_t low = 0, high = 0;
            if (rd_kafka_query_watermark_offsets(rk, topic, i, &low, &high, 2000) == 0)
                count += (size_t)high;
        }
        if (count >= n) break;
        sleep_ms(200);
    } while (now_ms() < deadline);
    rd_kafka_destroy(rk);
    return count;
}

void write_temp_file(char *path_out, size_t path_len, const char *text)
{
    snprintf(path_out, path_len, "/tmp/of-test-in-XXXXXX");
    int fd = mkstemp(path_out);
    ck_assert(fd >= 0);
    size_t len = strlen(text);
    ck_assert(write(fd, text, len) == (ssize_t)len);
    close(fd);
}
