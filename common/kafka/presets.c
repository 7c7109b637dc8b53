/* The producer settings every orderflow producer shares, and why. */
#include "kafka/kafka.h"

/* docs/architecture.md, "Producer": every record lands once, and only once
 * all in-sync replicas have it. Forced, not defaults: a user property that
 * contradicts one is refused, naming its origin (ofc_kafka_conf_new). */
const ofc_kafka_setting ofc_kafka_idempotent_producer[] = {
    /* A producer id and per-partition sequence numbers: a batch retried
     * after a lost response is written once, not twice. */
    {"enable.idempotence", "true"},
    /* Delivered means on every in-sync replica: a leader that fails after
     * acknowledging loses nothing. librdkafka needs it for idempotence;
     * forcing it names the user's contradicting acks=1 and where it came
     * from instead of librdkafka's bare refusal. */
    {"acks", "all"},
    {NULL, NULL},
};

rd_kafka_conf_t *ofc_kafka_producer_conf_new(const ofc_config *cfg,
                                             const ofc_kafka_setting *defaults, char *err,
                                             size_t errlen)
{
    return ofc_kafka_conf_new(cfg, defaults, ofc_kafka_idempotent_producer, err, errlen);
}

/* librdkafka's own default message.max.bytes. */
#define LIBRDKAFKA_MESSAGE_MAX_BYTES 1000000
/* Headers of a dead letter: the input's own plus the four that say why and
 * where it came from (docs/envelope.md, "Dead letters"). */
#define DEAD_LETTER_HEADER_ROOM 65536

size_t ofc_kafka_dead_letter_message_max(size_t max_record_bytes)
{
    /* A dead letter carries its input's key, value and headers: twice the
     * record limit plus the headers' room, never below librdkafka's default
     * (docs/operations.md, "Record size limits"). */
    size_t room = max_record_bytes * 2 + DEAD_LETTER_HEADER_ROOM;
    return room > LIBRDKAFKA_MESSAGE_MAX_BYTES ? room : LIBRDKAFKA_MESSAGE_MAX_BYTES;
}
