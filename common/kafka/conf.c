/* librdkafka configuration from an ofc_config. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "kafka/kafka.h"

static int set_one(rd_kafka_conf_t *conf, const char *key, const char *value, const char *origin,
                   char *err, size_t errlen)
{
    char why[256];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) == RD_KAFKA_CONF_OK) return 0;
    snprintf(err, errlen, "%s: librdkafka property '%s': %s", origin, key, why);
    return -1;
}

static const ofc_property *find_user_property(const ofc_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->property_count; i++)
        if (strcmp(cfg->properties[i].key, key) == 0) return &cfg->properties[i];
    return NULL;
}

/* librdkafka accepts several spellings of one value: "acks=-1" is "all". */
static const char *canonical(const char *key, const char *value)
{
    if (strcmp(key, "acks") == 0) return strcmp(value, "-1") == 0 ? "all" : value;
    if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0) return "true";
    if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0) return "false";
    return value;
}

/* Consumer properties of the classic group protocol that a KIP-848
 * (group.protocol=consumer) member must not set: the broker decides them. */
static int classic_only(const char *key)
{
    static const char *const keys[] = {"session.timeout.ms", "heartbeat.interval.ms",
                                       "partition.assignment.strategy", "group.protocol.type"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0) return 1;
    return 0;
}

/* group.protocol=consumer (KIP-848): production-ready from librdkafka
 * 2.12.0; the classic group's own settings contradict it. */
static int check_next_generation(const ofc_config *cfg, const ofc_property *protocol, char *err,
                                 size_t errlen)
{
    if (rd_kafka_version() < OFC_KAFKA_NEXT_GENERATION_GROUPS) {
        char needed[16];
        ofc_kafka_version_format(OFC_KAFKA_NEXT_GENERATION_GROUPS, needed, sizeof(needed));
        snprintf(err, errlen,
                 "%s: group.protocol=consumer (KIP-848) needs librdkafka %s or later; this "
                 "process loaded librdkafka %s (scripts/librdkafka-current.sh runs a newer one)",
                 protocol->origin, needed, rd_kafka_version_str());
        return -1;
    }
    for (size_t i = 0; i < cfg->property_count; i++) {
        const ofc_property *p = &cfg->properties[i];
        if (!classic_only(p->key)) continue;
        snprintf(err, errlen,
                 "%s: librdkafka property '%s' cannot be used with group.protocol=consumer "
                 "(KIP-848: the broker decides it); remove it",
                 p->origin, p->key);
        return -1;
    }
    return 0;
}

/* protocol: consumer.group_protocol as the property group.protocol when it
 * is the one that counts (ofc_kafka_member_conf_new), else NULL. */
static rd_kafka_conf_t *conf_new(const ofc_config *cfg, const ofc_kafka_setting *defaults,
                                 const ofc_kafka_setting *forced, const ofc_property *file_protocol,
                                 char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        snprintf(err, errlen, "out of memory creating the librdkafka configuration");
        return NULL;
    }
    const ofc_property *protocol =
        file_protocol ? file_protocol : find_user_property(cfg, "group.protocol");
    int next_generation = protocol && strcmp(protocol->value, "consumer") == 0;
    if (next_generation && check_next_generation(cfg, protocol, err, errlen) != 0) goto fail;
    for (const ofc_kafka_setting *s = defaults; s && s->key; s++) {
        /* The broker decides these for a KIP-848 group; librdkafka refuses
         * them with group.protocol=consumer. */
        if (next_generation && classic_only(s->key)) continue;
        if (set_one(conf, s->key, s->value, "built-in default", err, errlen) != 0) goto fail;
    }
    /* librdkafka before 2.2.0 waits a fixed 1 s before fetching again once
     * the prefetch queue is full (OFC_KAFKA_BUG_FETCH_BACKOFF_1S, versions.h;
     * the processor wakes the fetcher there); from 2.2.0 the wait is
     * fetch.queue.backoff.ms. Ignored by producers. */
    if (!ofc_kafka_has_bug(OFC_KAFKA_BUG_FETCH_BACKOFF_1S) &&
        set_one(conf, "fetch.queue.backoff.ms", "10", "built-in default", err, errlen) != 0)
        goto fail;
    if (set_one(conf, "bootstrap.servers", cfg->brokers,
                cfg->brokers_origin ? cfg->brokers_origin : "brokers", err, errlen) != 0)
        goto fail;
    for (size_t i = 0; i < cfg->property_count; i++) {
        const ofc_property *p = &cfg->properties[i];
        if (set_one(conf, p->key, p->value, p->origin, err, errlen) != 0) goto fail;
    }
    if (file_protocol && next_generation &&
        set_one(conf, "group.protocol", "consumer", file_protocol->origin, err, errlen) != 0)
        goto fail;
    /* classic: librdkafka before 2.4.0 has no group.protocol property and
     * no other protocol; a later one is told, should its default change. */
    char why[256];
    if (file_protocol && !next_generation)
        (void)rd_kafka_conf_set(conf, "group.protocol", "classic", why, sizeof(why));
    for (const ofc_kafka_setting *s = forced; s && s->key; s++) {
        /* A silent override would break the promise the user relies on
         * (idempotence, commit discipline), so a contradiction is an error. */
        const ofc_property *user = find_user_property(cfg, s->key);
        if (user && strcmp(canonical(user->key, user->value), canonical(s->key, s->value)) != 0) {
            snprintf(err, errlen,
                     "%s: librdkafka property '%s=%s' cannot be changed: this program needs "
                     "'%s=%s' for its delivery guarantees; remove the setting",
                     user->origin, user->key, user->value, s->key, s->value);
            goto fail;
        }
        if (set_one(conf, s->key, s->value, "built-in setting", err, errlen) != 0) goto fail;
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

rd_kafka_conf_t *ofc_kafka_conf_new(const ofc_config *cfg, const ofc_kafka_setting *defaults,
                                    const ofc_kafka_setting *forced, char *err, size_t errlen)
{
    return conf_new(cfg, defaults, forced, NULL, err, errlen);
}

rd_kafka_conf_t *ofc_kafka_member_conf_new(const ofc_config *cfg, const ofc_kafka_setting *defaults,
                                           const ofc_kafka_setting *forced, char *err,
                                           size_t errlen)
{
    const ofc_property *user = find_user_property(cfg, "group.protocol");
    /* The command line's -X wins over the file, as everywhere. */
    if (cfg->consumer_group_protocol == OFC_GROUP_PROTOCOL_UNSET ||
        (user && strcmp(user->origin, "-X") == 0))
        return conf_new(cfg, defaults, forced, NULL, err, errlen);
    const char *value =
        cfg->consumer_group_protocol == OFC_GROUP_PROTOCOL_CONSUMER ? "consumer" : "classic";
    char origin[512];
    snprintf(origin, sizeof(origin), "%s (consumer.group_protocol)",
             cfg->consumer_group_protocol_origin ? cfg->consumer_group_protocol_origin
                                                 : "configuration");
    if (user && strcmp(user->value, value) != 0) {
        snprintf(err, errlen,
                 "%s: group_protocol = \"%s\" contradicts the librdkafka property "
                 "group.protocol=%s set at %s; keep one",
                 origin, value, user->value, user->origin);
        return NULL;
    }
    ofc_property file_protocol = {
        .key = "group.protocol", .value = (char *)value, .origin = origin};
    return conf_new(cfg, defaults, forced, &file_protocol, err, errlen);
}
