/* Defaults, the environment and the command-line setters. Precedence is the
 * call order (docs/operations.md, "Configuration"): every setter replaces what an earlier layer
 * set, so callers apply defaults, file, environment, command line in turn. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

void ofc_config_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int replace_string(char **slot, const char *value, char *err, size_t errlen)
{
    char *copy = strdup(value);
    if (!copy) {
        ofc_config_errf(err, errlen, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

int ofc_config_init(ofc_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->producer_timeout_ms = 30000;
    cfg->guarantee = OFC_AT_LEAST_ONCE;
    cfg->dedup_window = 100000;
    cfg->commit_interval_ms = 1000;
    cfg->handler_max_attempts = 5;
    cfg->handler_retry_delay_ms = 1000;
    cfg->handler_retry_delay_max_ms = 60000;
    cfg->handler_after_max_attempts = OFC_AFTER_MAX_ATTEMPTS_PAUSE;
    cfg->handler_max_output_bytes = 65536;
    cfg->gateway_require_key = 1;
    cfg->gateway_retention_s = 86400;
    cfg->gateway_max_keys = 1000000;
    cfg->gateway_max_in_flight = 10000;
    cfg->gateway_request_timeout_ms = 5000;
    cfg->gateway_client_timeout_s = 10;
    of_limits_init(&cfg->limits);
    if (replace_string(&cfg->brokers, "localhost:9092", err, errlen) != 0 ||
        replace_string(&cfg->brokers_origin, "default", err, errlen) != 0 ||
        replace_string(&cfg->topic_order_created, "order-created", err, errlen) != 0 ||
        replace_string(&cfg->topic_data_processed, "data-processed", err, errlen) != 0 ||
        replace_string(&cfg->topic_dead_letter, "order-created.dlq", err, errlen) != 0 ||
        replace_string(&cfg->producer_source, "orderflow-producer", err, errlen) != 0 ||
        replace_string(&cfg->consumer_group, "orderflow-processor", err, errlen) != 0 ||
        replace_string(&cfg->gateway_listen, "127.0.0.1:8080", err, errlen) != 0 ||
        replace_string(&cfg->gateway_source, "orderflow-gateway", err, errlen) != 0) {
        ofc_config_free(cfg);
        return -1;
    }
    return 0;
}

void ofc_config_free(ofc_config *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < cfg->property_count; i++) {
        free(cfg->properties[i].key);
        free(cfg->properties[i].value);
        free(cfg->properties[i].origin);
    }
    free(cfg->properties);
    for (size_t i = 0; i < cfg->handler_setting_count; i++) {
        free(cfg->handler_settings[i].key);
        free(cfg->handler_settings[i].value);
        free(cfg->handler_settings[i].origin);
    }
    free(cfg->handler_settings);
    free(cfg->handler_on_exhausted_origin);
    free(cfg->consumer_handler);
    free(cfg->brokers);
    free(cfg->brokers_origin);
    free(cfg->topic_order_created);
    free(cfg->topic_data_processed);
    free(cfg->topic_dead_letter);
    free(cfg->producer_source);
    free(cfg->consumer_group);
    free(cfg->consumer_instance_id);
    free(cfg->consumer_group_protocol_origin);
    free(cfg->metrics_listen);
    free(cfg->gateway_listen);
    free(cfg->gateway_source);
    for (size_t i = 0; i < cfg->gateway_token_count; i++)
        free(cfg->gateway_tokens[i]);
    free(cfg->gateway_tokens);
    free(cfg->gateway_tls_cert);
    free(cfg->gateway_tls_key);
    /* A second free (or a free after a failed init) must be harmless. */
    memset(cfg, 0, sizeof(*cfg));
}

int ofc_config_set_brokers_from(ofc_config *cfg, const char *brokers, const char *origin, char *err,
                                size_t errlen)
{
    if (!brokers || !*brokers) {
        ofc_config_errf(err, errlen,
                        "%s: the broker list is empty; expected HOST:PORT[,HOST:PORT...]", origin);
        return -1;
    }
    /* Both copies first, so that a failure leaves the old pair intact. */
    char *value = strdup(brokers);
    char *where = strdup(origin);
    if (!value || !where) {
        free(value);
        free(where);
        ofc_config_errf(err, errlen, "out of memory");
        return -1;
    }
    free(cfg->brokers);
    free(cfg->brokers_origin);
    cfg->brokers = value;
    cfg->brokers_origin = where;
    return 0;
}

int ofc_config_set_brokers(ofc_config *cfg, const char *brokers, char *err, size_t errlen)
{
    return ofc_config_set_brokers_from(cfg, brokers, "-b", err, errlen);
}

int ofc_config_apply_env(ofc_config *cfg, char *err, size_t errlen)
{
    /* A password in the environment, not on a command line (which other
     * users see in the process list); docs/operations.md, "Security". */
    const char *password = getenv("ORDERFLOW_SASL_PASSWORD");
    if (password && *password &&
        ofc_config_set_property(cfg, "sasl.password", password, "ORDERFLOW_SASL_PASSWORD", err,
                                errlen) != 0)
        return -1;
    const char *brokers = getenv("ORDERFLOW_BROKERS");
    /* Set-but-empty is how shells unset a variable for one command. */
    if (!brokers || !*brokers) return 0;
    return ofc_config_set_brokers_from(cfg, brokers, "ORDERFLOW_BROKERS", err, errlen);
}

static int is_broker_list_key(const char *key)
{
    return strcmp(key, "bootstrap.servers") == 0 || strcmp(key, "metadata.broker.list") == 0;
}

/* Sets key in a list of properties, replacing an earlier value. */
static int set_in(ofc_property **list, size_t *count, size_t *capacity_, const char *key,
                  const char *value, const char *origin, char *err, size_t errlen)
{
    size_t at = 0;
    while (at < *count && strcmp((*list)[at].key, key) != 0)
        at++;
    if (at == *count && *count == *capacity_) {
        size_t capacity = *capacity_ ? *capacity_ * 2 : 8;
        ofc_property *grown = NULL;
        if (capacity <= SIZE_MAX / sizeof(*grown))
            grown = realloc(*list, capacity * sizeof(*grown));
        if (!grown) {
            ofc_config_errf(err, errlen, "out of memory");
            return -1;
        }
        *list = grown;
        *capacity_ = capacity;
    }

    char *k = strdup(key);
    char *v = strdup(value);
    char *o = strdup(origin);
    if (!k || !v || !o) {
        free(k);
        free(v);
        free(o);
        ofc_config_errf(err, errlen, "out of memory");
        return -1;
    }
    ofc_property *p = &(*list)[at];
    if (at == *count) {
        (*count)++;
    } else {
        free(p->key);
        free(p->value);
        free(p->origin);
    }
    p->key = k;
    p->value = v;
    p->origin = o;
    return 0;
}

int ofc_config_set_property(ofc_config *cfg, const char *key, const char *value, const char *origin,
                            char *err, size_t errlen)
{
    if (!origin) origin = "(unknown origin)";
    if (!key || !*key) {
        ofc_config_errf(err, errlen, "%s: empty librdkafka property name", origin);
        return -1;
    }
    if (!value) value = "";
    /* librdkafka treats these as one setting; keeping them in brokers means
     * the last layer wins however the list was spelt. */
    if (is_broker_list_key(key))
        return ofc_config_set_brokers_from(cfg, value, origin, err, errlen);

    return set_in(&cfg->properties, &cfg->property_count, &cfg->property_capacity, key, value,
                  origin, err, errlen);
}

int ofc_config_set_property_arg(ofc_config *cfg, const char *arg, char *err, size_t errlen)
{
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq) {
        ofc_config_errf(err, errlen, "-X %s: expected KEY=VALUE (a librdkafka property)",
                        arg ? arg : "");
        return -1;
    }
    if (eq == arg) {
        ofc_config_errf(err, errlen, "-X %s: expected KEY=VALUE, the KEY is empty", arg);
        return -1;
    }
    size_t keylen = (size_t)(eq - arg);
    char *key = strndup(arg, keylen);
    if (!key) {
        ofc_config_errf(err, errlen, "out of memory");
        return -1;
    }
    /* Only the first '=' separates: values such as sasl.oauthbearer.config
     * ("principal=admin scope=x") contain '=' themselves. */
    int rc = ofc_config_set_property(cfg, key, eq + 1, "-X", err, errlen);
    free(key);
    return rc;
}

/* An integer setting of the handler group: all digits, within [min, max]. */
static int handler_int(const char *origin, const char *key, const char *value, long long min,
                       long long max, long long *out, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (!*value || *end || errno || v < min || v > max) {
        ofc_config_errf(err, errlen,
                        "%s: 'handler.%s' must be an integer between %lld and %lld, got \"%s\"",
                        origin, key, min, max, value);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *on_exhausted_text(ofc_after_max_attempts action, const char *key)
{
    if (action == OFC_AFTER_MAX_ATTEMPTS_PAUSE) return "pause";
    return strcmp(key, "on_exhausted") == 0 ? "dead-letter" : "dead_letter";
}

/* handler.on_exhausted and its older name handler.after_max_attempts: one
 * setting. The same spelling set again replaces (--handler-arg over the
 * file); the other spelling with another value is a contradiction. */
static int set_on_exhausted(ofc_config *cfg, const char *key, const char *value, const char *origin,
                            char *err, size_t errlen)
{
    ofc_after_max_attempts action;
    if (strcmp(value, "pause") == 0) {
        action = OFC_AFTER_MAX_ATTEMPTS_PAUSE;
    } else if (strcmp(value, "dead_letter") == 0 || strcmp(value, "dead-letter") == 0) {
        action = OFC_AFTER_MAX_ATTEMPTS_DEAD_LETTER;
    } else if (strcmp(key, "on_exhausted") == 0) {
        ofc_config_errf(err, errlen,
                        "%s: 'handler.on_exhausted' must be \"pause\" or \"dead-letter\", got "
                        "\"%s\"",
                        origin, value);
        return -1;
    } else {
        ofc_config_errf(err, errlen,
                        "%s: 'handler.after_max_attempts' must be \"pause\" or "
                        "\"dead_letter\", got \"%s\"",
                        origin, value);
        return -1;
    }
    const char *other = cfg->handler_on_exhausted_key;
    if (other && strcmp(other, key) != 0 && action != cfg->handler_after_max_attempts) {
        ofc_config_errf(err, errlen,
                        "%s: 'handler.%s' = \"%s\" contradicts 'handler.%s' = \"%s\" (%s): they "
                        "are one setting (after_max_attempts is on_exhausted's older name); set "
                        "one",
                        origin, key, value, other,
                        on_exhausted_text(cfg->handler_after_max_attempts, other),
                        cfg->handler_on_exhausted_origin ? cfg->handler_on_exhausted_origin : "?");
        return -1;
    }
    char *copy = strdup(origin);
    if (!copy) {
        ofc_config_errf(err, errlen, "out of memory");
        return -1;
    }
    free(cfg->handler_on_exhausted_origin);
    cfg->handler_on_exhausted_origin = copy;
    cfg->handler_on_exhausted_key =
        strcmp(key, "on_exhausted") == 0 ? "on_exhausted" : "after_max_attempts";
    cfg->handler_after_max_attempts = action;
    return 0;
}

int ofc_config_set_handler_setting(ofc_config *cfg, const char *key, const char *value,
                                   const char *origin, char *err, size_t errlen)
{
    if (!origin) origin = "(unknown origin)";
    if (!key || !*key) {
        ofc_config_errf(err, errlen, "%s: empty handler setting name", origin);
        return -1;
    }
    if (!value) value = "";
    long long v;
    if (strcmp(key, "max_attempts") == 0) {
        if (handler_int(origin, key, value, 1, 1000000, &v, err, errlen) != 0) return -1;
        cfg->handler_max_attempts = (int)v;
        return 0;
    }
    if (strcmp(key, "retry_delay_ms") == 0) {
        if (handler_int(origin, key, value, 0, 3600000, &v, err, errlen) != 0) return -1;
        cfg->handler_retry_delay_ms = (int)v;
        return 0;
    }
    if (strcmp(key, "retry_delay_max_ms") == 0) {
        if (handler_int(origin, key, value, 0, 3600000, &v, err, errlen) != 0) return -1;
        cfg->handler_retry_delay_max_ms = (int)v;
        return 0;
    }
    if (strcmp(key, "max_output_bytes") == 0) {
        if (handler_int(origin, key, value, 64, 16777216, &v, err, errlen) != 0) return -1;
        cfg->handler_max_output_bytes = (size_t)v;
        return 0;
    }
    if (strcmp(key, "after_max_attempts") == 0 || strcmp(key, "on_exhausted") == 0)
        return set_on_exhausted(cfg, key, value, origin, err, errlen);
    return set_in(&cfg->handler_settings, &cfg->handler_setting_count,
                  &cfg->handler_setting_capacity, key, value, origin, err, errlen);
}

int ofc_config_set_handler_arg(ofc_config *cfg, const char *arg, char *err, size_t errlen)
{
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq || eq == arg) {
        ofc_config_errf(err, errlen, "--handler-arg %s: expected KEY=VALUE (a handler setting)",
                        arg ? arg : "");
        return -1;
    }
    char *key = strndup(arg, (size_t)(eq - arg));
    if (!key) {
        ofc_config_errf(err, errlen, "out of memory");
        return -1;
    }
    int rc = ofc_config_set_handler_setting(cfg, key, eq + 1, "--handler-arg", err, errlen);
    free(key);
    return rc;
}
