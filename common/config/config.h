/* Configuration (docs/operations.md, "Configuration"): defaults < libconfig file < environment
 * (ORDERFLOW_BROKERS) < command line. Any librdkafka property passes through
 * kafka.properties or ofc_config_set_property(). */
#ifndef OFC_CONFIG_H
#define OFC_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include <orderflow/limits.h>

typedef enum ofc_guarantee {
    OFC_AT_LEAST_ONCE = 0,
    OFC_EXACTLY_ONCE = 1,
} ofc_guarantee;

/* What the processor does with an event whose handler still answers retry
 * after handler.max_attempts, or whose asynchronous handler's calls all
 * failed (docs/handlers.md, "Retries" and "The HTTP handler"). */
typedef enum ofc_after_max_attempts {
    OFC_AFTER_MAX_ATTEMPTS_PAUSE = 0, /* pause the partition: nothing skipped */
    OFC_AFTER_MAX_ATTEMPTS_DEAD_LETTER = 1,
} ofc_after_max_attempts;

/* consumer.group_protocol: how the processor's consumer group assigns
 * partitions (docs/operations.md, "Rebalances"). */
typedef enum ofc_group_protocol {
    OFC_GROUP_PROTOCOL_UNSET = 0, /* librdkafka's default: classic */
    OFC_GROUP_PROTOCOL_CLASSIC = 1,
    OFC_GROUP_PROTOCOL_CONSUMER = 2, /* KIP-848: the broker assigns */
} ofc_group_protocol;

typedef struct ofc_property {
    char *key;
    char *value;
    char *origin; /* "FILE:LINE", "-X", "default": where it was set, for messages */
} ofc_property;

/* Every string is owned by the config (heap) and freed by ofc_config_free. */
typedef struct ofc_config {
    char *brokers;            /* bootstrap.servers; default "localhost:9092" */
    ofc_property *properties; /* librdkafka properties, each key once (a later set replaces) */
    size_t property_count;
    size_t property_capacity;

    char *topic_order_created;  /* "order-created" */
    char *topic_data_processed; /* "data-processed" */
    char *topic_dead_letter;    /* "order-created.dlq" */

    char *producer_source;   /* "orderflow-producer" */
    int producer_timeout_ms; /* 30000: delivery (message.timeout.ms) and flush bound */
    int producer_tracing;    /* 0: a new W3C trace per event when set (docs/operations.md) */

    char *consumer_group;       /* "orderflow-processor" */
    char *consumer_instance_id; /* group.instance.id (static membership), NULL: none */
    ofc_guarantee guarantee;    /* at_least_once */
    size_t dedup_window;        /* 100000 idempotency keys remembered per partition */
    int commit_interval_ms;     /* 1000: offset commit / transaction interval */
    char *consumer_handler;     /* consumer.handler / --handler: NULL is "rules" */
    /* consumer.group_protocol, applied by ofc_kafka_member_conf_new as the
     * librdkafka property group.protocol (-X group.protocol wins over it);
     * origin "FILE:LINE", NULL while unset. */
    ofc_group_protocol consumer_group_protocol;
    char *consumer_group_protocol_origin;

    /* The handler group (docs/handlers.md, "Configuration"): orderflow's
     * settings for any handler, and the handler's own, as text for its open
     * (each key once; --handler-arg replaces the file's). */
    int handler_max_attempts;       /* 5: calls of handle per event before the action below */
    int handler_retry_delay_ms;     /* 1000: wait before a retry without the handler's hint */
    int handler_retry_delay_max_ms; /* 60000: bound on the handler's hint */
    /* handler.on_exhausted, older name handler.after_max_attempts: one
     * setting, two spellings (both set differently is an error). */
    ofc_after_max_attempts handler_after_max_attempts; /* pause */
    const char *handler_on_exhausted_key;              /* the spelling that set it; NULL: default */
    char *handler_on_exhausted_origin;                 /* where ("FILE:LINE", "--handler-arg") */
    size_t handler_max_output_bytes; /* 65536: a data object written by the handler */
    ofc_property *handler_settings;
    size_t handler_setting_count;
    size_t handler_setting_capacity;

    of_limits limits; /* defaults: docs/envelope.md, "Limits" */

    char *metrics_listen; /* metrics.listen / --metrics ADDR:PORT; NULL: no endpoint (default) */

    /* orderflow-gateway (docs/gateway.md) */
    char *gateway_listen;           /* "127.0.0.1:8080" */
    char *gateway_source;           /* "orderflow-gateway": the events' CloudEvents source */
    int gateway_require_key;        /* 1: POST /orders without Idempotency-Key is a 400 */
    int gateway_retention_s;        /* 86400: how long a key's response is replayed */
    size_t gateway_max_keys;        /* 1000000 keys remembered; the oldest go first */
    int gateway_max_in_flight;      /* 10000 requests waiting for Kafka; beyond: 503 */
    int gateway_request_timeout_ms; /* 5000: delivery bound (message.timeout.ms) */
    int gateway_client_timeout_s;   /* 10: a request must arrive whole within this */
    char **gateway_tokens;          /* bearer tokens; none: no authentication (secret) */
    size_t gateway_token_count;
    char *gateway_tls_cert; /* PEM file; with tls_key: HTTPS */
    char *gateway_tls_key;

    char *brokers_origin; /* where brokers was set, like ofc_property.origin */
} ofc_config;

/* Fills cfg with the defaults. Returns 0, or -1 with err on ENOMEM. */
int ofc_config_init(ofc_config *cfg, char *err, size_t errlen);
void ofc_config_free(ofc_config *cfg);

/* Reads a libconfig file over cfg. Unknown settings, wrong types and bad values
 * fail with "FILE:LINE: ..." in err and return -1; cfg may then be partly
 * updated (callers exit). Groups: kafka, topics, producer, consumer, limits,
 * metrics, gateway, handler.
 * metrics.listen and gateway.listen are checked as ofc_listen_parse does (metrics/server.h).
 * An unreadable file fails with "FILE: cannot open: REASON".
 * libconfig itself cannot parse quoted setting names, so property names may be
 * quoted as docs/operations.md shows ("compression.type" = "lz4"); @include is
 * rejected. */
int ofc_config_load_file(ofc_config *cfg, const char *path, char *err, size_t errlen);

/* ofc_config_load_file in two steps, for a caller that treats a file it
 * cannot open (a missing input, EX_NOINPUT) apart from a file it cannot
 * use (EX_CONFIG) without reading the message: ofc_config_open_file returns
 * the open file, or NULL with "FILE: cannot open: REASON" (also for a
 * directory); ofc_config_load_stream reads f, closes it, and loads it over
 * cfg like ofc_config_load_file, naming it path in messages. */
FILE *ofc_config_open_file(const char *path, char *err, size_t errlen);
int ofc_config_load_stream(ofc_config *cfg, FILE *f, const char *path, char *err, size_t errlen);

/* Applies ORDERFLOW_SASL_PASSWORD (as sasl.password) and ORDERFLOW_BROKERS,
 * each if set and non-empty. Returns 0 or -1 with err. */
int ofc_config_apply_env(ofc_config *cfg, char *err, size_t errlen);

/* Sets brokers from the command line (origin "-b"). Returns 0, or -1 with err
 * for an empty list or ENOMEM. */
int ofc_config_set_brokers(ofc_config *cfg, const char *brokers, char *err, size_t errlen);

/* Sets a librdkafka property (replacing an earlier one with the same key).
 * "bootstrap.servers" / "metadata.broker.list" set brokers instead. Returns 0,
 * or -1 with err for an empty key or ENOMEM. librdkafka itself validates the
 * name and value later (ofc_kafka_conf_new reports the origin on failure). */
int ofc_config_set_property(ofc_config *cfg, const char *key, const char *value, const char *origin,
                            char *err, size_t errlen);

/* Parses "KEY=VALUE" (the -X argument) and sets it, origin "-X". */
int ofc_config_set_property_arg(ofc_config *cfg, const char *arg, char *err, size_t errlen);

/* Sets one member of the handler group from origin ("FILE:LINE",
 * "--handler-arg"): max_attempts, retry_delay_ms, retry_delay_max_ms,
 * after_max_attempts and max_output_bytes are orderflow's and checked here
 * ("ORIGIN: 'handler.max_attempts' must be ..."); any other key is the
 * handler's, kept as text (a later set replaces). Returns 0 or -1 with err. */
int ofc_config_set_handler_setting(ofc_config *cfg, const char *key, const char *value,
                                   const char *origin, char *err, size_t errlen);

/* Parses "KEY=VALUE" (the --handler-arg argument) and sets it, origin
 * "--handler-arg". */
int ofc_config_set_handler_arg(ofc_config *cfg, const char *arg, char *err, size_t errlen);

/* 1 when key names a secret (sasl.password, ssl.key.password, *.password,
 * *secret*, sasl.oauthbearer.config, ssl.keystore.password, ...), else 0. */
int ofc_config_is_secret(const char *key);

/* Writes the effective configuration as libconfig text; secret values print
 * as "[redacted]". */
void ofc_config_print(const ofc_config *cfg, FILE *out);

#endif
