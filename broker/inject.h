/* Fault injection for orderflow-broker --inject: retriable errors on chosen
 * request types at a chosen rate, and a periodic broker down/up cycle, for
 * anyone testing Kafka clients against the embedded broker.
 *
 * Built on the mock cluster's error stacks. The mock fails "the next N
 * requests" of a type rather than a share of them, so a thread tops up one
 * pending error per request type at the given rate, and only when the
 * previous one has been used: errors never pile up for request types that
 * are rare (commits, joins). An error counts as injected once a request has
 * received it. */
#ifndef ORDERFLOW_BROKER_INJECT_H
#define ORDERFLOW_BROKER_INJECT_H

#include <stddef.h>
#include <stdio.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

typedef enum inject_kind {
    INJECT_PRODUCE, /* Produce: connection dropped at the request (retried) */
    INJECT_FETCH,   /* Fetch: NOT_LEADER_FOR_PARTITION (metadata refresh, refetch) */
    INJECT_COMMIT,  /* OffsetCommit: COORDINATOR_LOAD_IN_PROGRESS (retried) */
    INJECT_GROUP,   /* Heartbeat: REBALANCE_IN_PROGRESS, a rejoin */
    INJECT_KIND_COUNT,
} inject_kind;

typedef struct inject_plan {
    double rate[INJECT_KIND_COUNT]; /* errors per second; 0 = none */
    double down_every_s;            /* 0 = never take the broker down */
    double down_for_s;
} inject_plan;

/* Parses "produce=0.2,fetch=2,commit=1,group=0.5,down=30/3" (rates in faults
 * per second; down=EVERY/FOR in seconds) into *plan. Returns 0, or -1 with
 * err naming the part at fault. */
int inject_plan_parse(const char *spec, inject_plan *plan, char *err, size_t errlen);

/* One line describing the plan, e.g. for the start-up banner. */
void inject_plan_describe(const inject_plan *plan, char *out, size_t outlen);

typedef struct injector injector;

/* Starts the injecting thread on broker 1 of mcluster. report: where -v
 * prints counters every 10 s (NULL: never). Returns 0, or an errno. */
int injector_start(injector **out, rd_kafka_mock_cluster_t *mcluster, const inject_plan *plan,
                   FILE *report);

/* Stops the thread, brings the broker back up if it is down, and writes the final counts to out
 * ("faults injected: ..."). NULL is fine. */
void injector_stop(injector *inj, FILE *out);

#endif
