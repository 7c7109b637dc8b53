/* Defaults, the environment and the command-line setters. Precedence is the
 * call order (docs/operations.md, "Configuration"): every setter replaces what an earlier layer
 * set, so callers apply defaults, file, environment, command line in turn. */
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
    free(cfg->brokers);
    free(cfg->brokers_origin);
    free(cfg->topic_order_created);
    free(cfg->topic_data_processed);
    free(cfg->topic_dead_letter);
    free(cfg->producer_source);
    free(cfg->consumer_group);
    free(cfg->consumer_instance_id);
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
    const char *brokers = getenv("ORDERFLOW_BROKERS");
    /* Set-but-empty is how shells unset a variable for one command. */
    if (!brokers || !*brokers) return 0;
    return ofc_config_set_brokers_from(cfg, brokers, "ORDERFLOW_BROKERS", err, errlen);
}

static int is_broker_list_key(const char *key)
{
    return strcmp(key, "bootstrap.servers") == 0 || strcmp(key, "metadata.broker.list") == 0;
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

    size_t at = 0;
    while (at < cfg->property_count && strcmp(cfg->properties[at].key, key) != 0)
        at++;
    if (at == cfg->property_count && cfg->property_count == cfg->property_capacity) {
        size_t capacity = cfg->property_capacity ? cfg->property_capacity * 2 : 8;
        ofc_property *grown = NULL;
        if (capacity <= SIZE_MAX / sizeof(*grown))
            grown = realloc(cfg->properties, capacity * sizeof(*grown));
        if (!grown) {
            ofc_config_errf(err, errlen, "out of memory");
            return -1;
        }
        cfg->properties = grown;
        cfg->property_capacity = capacity;
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
    ofc_property *p = &cfg->properties[at];
    if (at == cfg->property_count) {
        cfg->property_count++;
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
