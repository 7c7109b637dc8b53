/* A TCP relay from a fixed loopback port to the mock broker.
 *
 * librdkafka's mock cluster only listens on ephemeral loopback ports, but
 * the default configuration (and every third-party client) expects a broker
 * at 127.0.0.1:9092. The relay listens there and copies each accepted
 * connection byte for byte to the mock broker's bootstrap address. Kafka
 * clients only use the bootstrap connection to learn the cluster metadata;
 * they then connect to the broker address the mock advertises directly, so
 * the relay carries little traffic.
 *
 * One thread, poll()-based, bounded buffers per connection. */
#ifndef ORDERFLOW_BROKER_FORWARDER_H
#define ORDERFLOW_BROKER_FORWARDER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

typedef struct broker_forwarder broker_forwarder;

/* Binds 127.0.0.1:port (0: any free port) and listens. Returns 0, or an errno
 * value (EADDRINUSE when the port is taken) with *out left NULL. */
int broker_forwarder_listen(broker_forwarder **out, uint16_t port, int verbose);

/* The port actually listened on (useful when 0 was asked for). */
uint16_t broker_forwarder_port(const broker_forwarder *fwd);

/* Sets where connections are relayed to, as "IPv4:PORT" (the format of
 * rd_kafka_mock_cluster_bootstraps() for one broker). Returns 0, or -1 with
 * err saying what is wrong. */
int broker_forwarder_set_upstream(broker_forwarder *fwd, const char *host_port, char *err,
                                  size_t errlen);

/* Starts the relay thread. It runs until *stop becomes non-zero or a fatal
 * error occurs. The caller must have blocked the signals that set *stop in
 * every thread; the relay unblocks them (installs wait_mask) only while it
 * sleeps in ppoll(), so a signal always wakes it and can never be missed
 * between checking *stop and going to sleep. Returns 0 or an errno value. */
int broker_forwarder_start(broker_forwarder *fwd, volatile sig_atomic_t *stop,
                           const sigset_t *wait_mask);

/* Waits for the relay thread to end (if it was started: that is, until *stop
 * is set or a fatal error), then closes the listener and every connection and
 * frees fwd. Returns 0, or the errno value of the fatal error that ended the
 * relay early. */
int broker_forwarder_finish(broker_forwarder *fwd);

#endif
