/* The in-memory Kafka cluster: librdkafka's mock cluster with one broker.
 *
 * The mock needs an rd_kafka_t for its bookkeeping (logging, timers); a
 * producer handle that never produces serves. The mock cluster runs in its
 * own thread and listens on an ephemeral 127.0.0.1 port that it also
 * advertises in metadata. */
#ifndef ORDERFLOW_BROKER_MOCK_H
#define ORDERFLOW_BROKER_MOCK_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

typedef struct broker_mock broker_mock;

/* Creates the handle and the one-broker mock cluster. debug_level: 0 quiet,
 * 1 the mock's own debug messages, 2 every librdkafka debug context.
 * Returns 0, or -1 with err explaining. */
int broker_mock_new(broker_mock **out, int debug_level, char *err, size_t errlen);

/* The mock broker's own address, "127.0.0.1:PORT". */
const char *broker_mock_bootstraps(const broker_mock *mock);

/* The mock cluster itself, for fault injection (owned by mock). */
rd_kafka_mock_cluster_t *broker_mock_cluster(broker_mock *mock);

/* Creates topic with partitions partitions and replication factor 1.
 * Returns 0, or -1 with err naming the topic and the reason. */
int broker_mock_create_topic(broker_mock *mock, const char *topic, int partitions, char *err,
                             size_t errlen);

/* Destroys the cluster (closing the clients' direct connections to it and
 * discarding all data) and the handle. NULL is fine. */
void broker_mock_destroy(broker_mock *mock);

#endif
