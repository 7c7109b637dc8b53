#include "inject.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/timer.h"

#define MOCK_BROKER_ID 1
#define TICK_MS 20
#define REPORT_EVERY_MS 10000
/* librdkafka doubles a broker's reconnect backoff unless its last attempt
 * was more than reconnect.backoff.max.ms (10 s) ago. A connection dropped
 * again sooner than that backs off to 10 s; worse, a lone producer whose
 * first Produce after each reconnect meets the next pending drop never
 * gets a request through. So drops come at least this far apart. */
#define CONNECTION_DROP_GAP_MS 12000

/* Kafka protocol API keys (the mock's error stacks are per API key). */
enum { API_PRODUCE = 0, API_FETCH = 1, API_OFFSET_COMMIT = 8, API_HEARTBEAT = 12 };

typedef struct fault_target {
    int16_t api_key;
    rd_kafka_resp_err_t error;
} fault_target;

/* Errors that librdkafka treats as retriable for each request type: a
 * client must survive them without losing or duplicating anything.
 *
 * Produce: the connection is dropped when a Produce request arrives (the
 * mock's own __TRANSPORT injection), not an error response. librdkafka
 * 2.0.2's mock checks idempotent sequence numbers for transactional
 * producers only (rd_kafka_mock_validate_records), so after an error
 * response to request R1 it would still append a pipelined R2 of the same
 * partition; the client then takes R2's success as proof that R1 was
 * written too (rd_kafka_dr_implicit_ack) and R1's events are reported
 * delivered yet missing. A real broker answers R2 with
 * OUT_OF_ORDER_SEQUENCE_NUMBER. A dropped connection fails everything in
 * flight, so nothing is acknowledged past a gap; retries the mock had
 * already appended become raw duplicates, which consumers must absorb. */
static const fault_target produce_targets[] = {{API_PRODUCE, RD_KAFKA_RESP_ERR__TRANSPORT}};
static const fault_target fetch_targets[] = {
    {API_FETCH, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION}};
static const fault_target commit_targets[] = {
    {API_OFFSET_COMMIT, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS}};
/* Heartbeats only: errors injected into JoinGroup or SyncGroup make a client
 * send a second JoinGroup while the mock still holds its first, and
 * librdkafka 2.0.2's mock then aborts (rdkafka_mock_cgrp.c:567, assertion
 * `!member->resp`). A failed heartbeat still forces a full rejoin. */
static const fault_target group_targets[] = {
    {API_HEARTBEAT, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS}};

typedef struct kind_def {
    const char *name;
    const fault_target *targets;
    size_t target_count;
    /* After a fault of this kind is used, the next waits at least this
     * long, whatever the rate (0: only the rate counts). */
    int64_t min_gap_ms;
} kind_def;

static const kind_def kinds[INJECT_KIND_COUNT] = {
    [INJECT_PRODUCE] = {"produce", produce_targets, 1, CONNECTION_DROP_GAP_MS},
    [INJECT_FETCH] = {"fetch", fetch_targets, 1, 0},
    [INJECT_COMMIT] = {"commit", commit_targets, 1, 0},
    [INJECT_GROUP] = {"group", group_targets, 1, 0},
};

static int parse_seconds(const char *text, const char *end, double *out)
{
    char buf[32];
    size_t n = (size_t)(end - text);
    if (n == 0 || n >= sizeof(buf)) return -1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    if (n > 1 && buf[n - 1] == 's') buf[n - 1] = '\0';
    char *stop;
    errno = 0;
    double v = strtod(buf, &stop);
    if (errno || *stop || !isfinite(v) || v < 0) return -1;
    *out = v;
    return 0;
}

int inject_plan_parse(const char *spec, inject_plan *plan, char *err, size_t errlen)
{
    memset(plan, 0, sizeof(*plan));
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) {
            snprintf(err, errlen, "--inject: '%.*s' is not KIND=VALUE (e.g. fetch=0.5)",
                     (int)(end - p), p);
            return -1;
        }
        size_t name_len = (size_t)(eq - p);
        const char *value = eq + 1;
        if (name_len == 4 && strncmp(p, "down", 4) == 0) {
            const char *slash = memchr(value, '/', (size_t)(end - value));
            if (!slash || parse_seconds(value, slash, &plan->down_every_s) != 0 ||
                parse_seconds(slash + 1, end, &plan->down_for_s) != 0 || plan->down_every_s < 1 ||
                plan->down_for_s <= 0) {
                snprintf(err, errlen,
                         "--inject: down=%.*s: expected EVERY/FOR in seconds, EVERY >= 1, "
                         "e.g. down=30/3",
                         (int)(end - value), value);
                return -1;
            }
        } else {
            int found = -1;
            for (int k = 0; k < INJECT_KIND_COUNT; k++)
                if (strlen(kinds[k].name) == name_len && strncmp(p, kinds[k].name, name_len) == 0)
                    found = k;
            double rate;
            if (found < 0) {
                snprintf(err, errlen,
                         "--inject: unknown kind '%.*s' (known: produce, fetch, commit, group, "
                         "down)",
                         (int)name_len, p);
                return -1;
            }
            if (parse_seconds(value, end, &rate) != 0 || rate > 1000) {
                snprintf(err, errlen,
                         "--inject: %s=%.*s: expected errors per second, 0..1000 (e.g. %s=5)",
                         kinds[found].name, (int)(end - value), value, kinds[found].name);
                return -1;
            }
            plan->rate[found] = rate;
        }
        p = comma ? comma + 1 : end;
    }
    return 0;
}

void inject_plan_describe(const inject_plan *plan, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < INJECT_KIND_COUNT && used < outlen; k++)
        if (plan->rate[k] > 0)
            used += (size_t)snprintf(out + used, outlen - used, "%s%s errors %g/s",
                                     used ? ", " : "", kinds[k].name, plan->rate[k]);
    if (plan->down_every_s > 0 && used < outlen)
        snprintf(out + used, outlen - used, "%sbroker down for %gs every %gs", used ? ", " : "",
                 plan->down_for_s, plan->down_every_s);
    if (!out[0]) snprintf(out, outlen, "nothing");
}

struct injector {
    rd_kafka_mock_cluster_t *mcluster;
    inject_plan plan;
    FILE *report;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stopping;
    /* Per kind and target: errors pushed, and whether one is pending. */
    unsigned long pushed[INJECT_KIND_COUNT][3];
    size_t next_target[INJECT_KIND_COUNT];
    double credit[INJECT_KIND_COUNT];
    unsigned long down_cycles;
    int is_down;
    /* When the last fault pushed of each kind was seen used (0: not yet). */
    int64_t used_at_ms[INJECT_KIND_COUNT];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t pending(injector *inj, const fault_target *t)
{
    size_t cnt = 0;
    if (rd_kafka_mock_broker_error_stack_cnt(inj->mcluster, MOCK_BROKER_ID, t->api_key, &cnt))
        return 0;
    return cnt;
}

/* Errors that requests have received so far: pushed minus still pending. */
static unsigned long used(injector *inj, int kind)
{
    unsigned long total = 0;
    for (size_t i = 0; i < kinds[kind].target_count; i++) {
        size_t waiting = pending(inj, &kinds[kind].targets[i]);
        total += inj->pushed[kind][i] - (waiting < inj->pushed[kind][i] ? waiting : 0);
    }
    return total;
}

static void write_counts(injector *inj, FILE *out, const char *what)
{
    fprintf(out,
            "orderflow-broker: %s: produce %lu, fetch %lu, commit %lu, group %lu, "
            "down/up cycles %lu\n",
            what, used(inj, INJECT_PRODUCE), used(inj, INJECT_FETCH), used(inj, INJECT_COMMIT),
            used(inj, INJECT_GROUP), inj->down_cycles);
    fflush(out);
}

static void top_up(injector *inj, int kind, double seconds, int64_t now)
{
    if (inj->plan.rate[kind] <= 0) return;
    const kind_def *def = &kinds[kind];
    if (def->min_gap_ms > 0 && inj->pushed[kind][0] > 0) {
        if (!inj->used_at_ms[kind]) {
            size_t last = (inj->next_target[kind] + def->target_count - 1) % def->target_count;
            if (pending(inj, &def->targets[last]) > 0) return; /* not used yet */
            inj->used_at_ms[kind] = now;
        }
        if (now - inj->used_at_ms[kind] < def->min_gap_ms) return;
    }
    /* At most one error's worth of credit: a quiet spell is not paid back
     * as a burst. */
    inj->credit[kind] += inj->plan.rate[kind] * seconds;
    if (inj->credit[kind] > 1) inj->credit[kind] = 1;
    if (inj->credit[kind] < 1) return;
    size_t i = inj->next_target[kind];
    const fault_target *t = &def->targets[i];
    if (pending(inj, t) > 0) return; /* the last one is still unused */
    if (rd_kafka_mock_broker_push_request_error_rtts(inj->mcluster, MOCK_BROKER_ID, t->api_key, 1,
                                                     t->error, 0))
        return;
    inj->pushed[kind][i]++;
    inj->credit[kind] -= 1;
    inj->used_at_ms[kind] = 0;
    inj->next_target[kind] = (i + 1) % def->target_count;
}

static void *inject_loop(void *arg)
{
    injector *inj = arg;
    int64_t last = now_ms();
    ofc_timer counts_report;
    ofc_timer_start_after(&counts_report, REPORT_EVERY_MS, last);
    int64_t next_down =
        inj->plan.down_every_s > 0 ? last + (int64_t)(inj->plan.down_every_s * 1000) : INT64_MAX;
    int64_t up_at = 0;
    pthread_mutex_lock(&inj->lock);
    while (!inj->stopping) {
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_nsec += TICK_MS * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&inj->wake, &inj->lock, &deadline);
        if (inj->stopping) break;
        int64_t now = now_ms();
        for (int k = 0; k < INJECT_KIND_COUNT; k++)
            top_up(inj, k, (double)(now - last) / 1000.0, now);
        last = now;
        if (!inj->is_down && now >= next_down) {
            rd_kafka_mock_broker_set_down(inj->mcluster, MOCK_BROKER_ID);
            inj->is_down = 1;
            up_at = now + (int64_t)(inj->plan.down_for_s * 1000);
            if (inj->report) fprintf(inj->report, "orderflow-broker: inject: broker down\n");
        } else if (inj->is_down && now >= up_at) {
            rd_kafka_mock_broker_set_up(inj->mcluster, MOCK_BROKER_ID);
            inj->is_down = 0;
            inj->down_cycles++;
            next_down = now + (int64_t)(inj->plan.down_every_s * 1000);
            if (inj->report) fprintf(inj->report, "orderflow-broker: inject: broker up\n");
        }
        if (inj->report && ofc_timer_due(&counts_report, now))
            write_counts(inj, inj->report, "faults injected so far");
    }
    pthread_mutex_unlock(&inj->lock);
    return NULL;
}

int injector_start(injector **out, rd_kafka_mock_cluster_t *mcluster, const inject_plan *plan,
                   FILE *report)
{
    *out = NULL;
    injector *inj = calloc(1, sizeof(*inj));
    if (!inj) return ENOMEM;
    inj->mcluster = mcluster;
    inj->plan = *plan;
    inj->report = report;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&inj->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&inj->lock, NULL);
    int err = pthread_create(&inj->thread, NULL, inject_loop, inj);
    if (err) {
        pthread_cond_destroy(&inj->wake);
        pthread_mutex_destroy(&inj->lock);
        free(inj);
        return err;
    }
    *out = inj;
    return 0;
}

void injector_stop(injector *inj, FILE *out)
{
    if (!inj) return;
    pthread_mutex_lock(&inj->lock);
    inj->stopping = 1;
    pthread_cond_signal(&inj->wake);
    pthread_mutex_unlock(&inj->lock);
    pthread_join(inj->thread, NULL);
    if (inj->is_down) {
        rd_kafka_mock_broker_set_up(inj->mcluster, MOCK_BROKER_ID);
        inj->down_cycles++;
    }
    if (out) write_counts(inj, out, "faults injected");
    pthread_cond_destroy(&inj->wake);
    pthread_mutex_destroy(&inj->lock);
    free(inj);
}
