/* Printing the effective configuration (-v) without ever printing a secret
 * (docs/operations.md, "Configuration"). The output is libconfig text that ofc_config_load_file
 * reads back, so a user can start a file from it. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

#define OF_REDACTED "[redacted]"

int ofc_config_is_secret(const char *key)
{
    /* Names without "password" or "secret" that still hold one: a private
     * key, or an OAUTHBEARER config that carries the client credentials. */
    static const char *const secret_keys[] = {
        "sasl.password",    "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config",
        "ssl.key.password", "ssl.keystore.password",          "ssl.key.pem",
        "ssl_key",
    };
    if (!key) return 0;
    for (size_t i = 0; i < sizeof(secret_keys) / sizeof(secret_keys[0]); i++)
        if (strcasecmp(key, secret_keys[i]) == 0) return 1;
    /* Unknown plugins and future librdkafka versions name secrets this way;
     * redacting too much costs nothing, too little leaks a credential. */
    return strcasestr(key, "password") != NULL || strcasestr(key, "secret") != NULL;
}

static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        case '\f':
            fputs("\\f", out);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(out, "\\x%02x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* A comment ends at the line's end; an origin holding a newline (a file name
 * can) must not end it early and inject text into the output. */
static void print_comment(FILE *out, const char *indent, const char *prefix, const char *text)
{
    fprintf(out, "%s# %s", indent, prefix);
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
    fputc('\n', out);
}

static void print_setting(FILE *out, const char *name, const char *value)
{
    fprintf(out, "    %s = ", name);
    print_string(out, value);
    fputs(";\n", out);
}

void ofc_config_print(const ofc_config *cfg, FILE *out)
{
    fputs("# orderflow configuration in effect; secret values print as \"" OF_REDACTED "\"\n", out);
    fputs("kafka:\n{\n", out);
    print_comment(out, "    ", "from ", cfg->brokers_origin ? cfg->brokers_origin : "default");
    print_setting(out, "brokers", cfg->brokers);
    if (cfg->property_count == 0) {
        fputs("    properties: { };\n", out);
    } else {
        fputs("    properties:\n    {\n", out);
        for (size_t i = 0; i < cfg->property_count; i++) {
            const ofc_property *p = &cfg->properties[i];
            print_comment(out, "        ", "from ", p->origin);
            fputs("        ", out);
            print_string(out, p->key);
            fputs(" = ", out);
            print_string(out, ofc_config_is_secret(p->key) ? OF_REDACTED : p->value);
            fputs(";\n", out);
        }
        fputs("    };\n", out);
    }
    fputs("};\n\ntopics:\n{\n", out);
    print_setting(out, "order_created", cfg->topic_order_created);
    print_setting(out, "data_processed", cfg->topic_data_processed);
    print_setting(out, "dead_letter", cfg->topic_dead_letter);
    fputs("};\n\nproducer:\n{\n", out);
    print_setting(out, "source", cfg->producer_source);
    fprintf(out, "    timeout_ms = %d;\n", cfg->producer_timeout_ms);
    fprintf(out, "    tracing = %s;\n", cfg->producer_tracing ? "true" : "false");
    fputs("};\n\nconsumer:\n{\n", out);
    print_setting(out, "group", cfg->consumer_group);
    if (cfg->consumer_instance_id) print_setting(out, "instance_id", cfg->consumer_instance_id);
    print_setting(out, "guarantee",
                  cfg->guarantee == OFC_EXACTLY_ONCE ? "exactly_once" : "at_least_once");
    if (cfg->consumer_group_protocol != OFC_GROUP_PROTOCOL_UNSET)
        print_setting(out, "group_protocol",
                      cfg->consumer_group_protocol == OFC_GROUP_PROTOCOL_CONSUMER ? "consumer"
                                                                                  : "classic");
    fprintf(out, "    dedup_window = %zu;\n", cfg->dedup_window);
    fprintf(out, "    commit_interval_ms = %d;\n", cfg->commit_interval_ms);
    print_setting(out, "handler", cfg->consumer_handler ? cfg->consumer_handler : "rules");
    fputs("};\n\nhandler:\n{\n", out);
    fprintf(out, "    max_attempts = %d;\n", cfg->handler_max_attempts);
    fprintf(out, "    retry_delay_ms = %d;\n", cfg->handler_retry_delay_ms);
    fprintf(out, "    retry_delay_max_ms = %d;\n", cfg->handler_retry_delay_max_ms);
    print_setting(out, "on_exhausted",
                  cfg->handler_after_max_attempts == OFC_AFTER_MAX_ATTEMPTS_DEAD_LETTER
                      ? "dead-letter"
                      : "pause");
    fprintf(out, "    max_output_bytes = %zu;\n", cfg->handler_max_output_bytes);
    for (size_t i = 0; i < cfg->handler_setting_count; i++) {
        const ofc_property *p = &cfg->handler_settings[i];
        print_comment(out, "    ", "from ", p->origin);
        fputs("    ", out);
        print_string(out, p->key);
        fputs(" = ", out);
        print_string(out, ofc_config_is_secret(p->key) ? OF_REDACTED : p->value);
        fputs(";\n", out);
    }
    fputs("};\n\nlimits:\n{\n", out);
    fprintf(out, "    max_record_bytes = %zu;\n", cfg->limits.max_record_bytes);
    fprintf(out, "    max_depth = %u;\n", cfg->limits.max_depth);
    fprintf(out, "    max_string_bytes = %zu;\n", cfg->limits.max_string_bytes);
    fprintf(out, "    max_items = %zu;\n", cfg->limits.max_items);
    fputs("};\n", out);
    if (cfg->metrics_listen) {
        fputs("\nmetrics:\n{\n", out);
        print_setting(out, "listen", cfg->metrics_listen);
        fputs("};\n", out);
    }
    fputs("\ngateway:\n{\n", out);
    print_setting(out, "listen", cfg->gateway_listen);
    print_setting(out, "source", cfg->gateway_source);
    fprintf(out, "    require_idempotency_key = %s;\n",
            cfg->gateway_require_key ? "true" : "false");
    fprintf(out, "    idempotency_retention_s = %d;\n", cfg->gateway_retention_s);
    fprintf(out, "    max_idempotency_keys = %zu;\n", cfg->gateway_max_keys);
    fprintf(out, "    max_in_flight = %d;\n", cfg->gateway_max_in_flight);
    fprintf(out, "    request_timeout_ms = %d;\n", cfg->gateway_request_timeout_ms);
    fprintf(out, "    client_timeout_s = %d;\n", cfg->gateway_client_timeout_s);
    if (cfg->gateway_token_count) {
        fputs("    tokens = [", out);
        for (size_t i = 0; i < cfg->gateway_token_count; i++)
            fprintf(out, "%s\"" OF_REDACTED "\"", i ? ", " : " ");
        fputs(" ];\n", out);
    }
    if (cfg->gateway_tls_cert) print_setting(out, "tls_cert", cfg->gateway_tls_cert);
    if (cfg->gateway_tls_key) print_setting(out, "tls_key", cfg->gateway_tls_key);
    fputs("};\n", out);
}
