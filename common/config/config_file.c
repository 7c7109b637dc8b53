/* The libconfig file (docs/operations.md, "Configuration"). Every setting is checked against one
 * table, so an unknown name, a wrong type or a bad value always fails with the
 * file and line instead of being ignored. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "config/edit_distance.h"
#include "config_internal.h"
#include "metrics/server.h"

/* Far beyond any real configuration (inline PEM keys included), small enough
 * that a wrong -c (a log, a device) cannot eat the memory. */
#define OF_CONFIG_MAX_FILE_BYTES ((size_t)16 * 1024 * 1024)

/* Longer names are never within a typo of a known one. */
#define OF_SUGGEST_MAX_NAME 64

typedef enum value_kind {
    KIND_BROKERS,
    KIND_PROPERTIES,
    KIND_TOKENS,
    KIND_STRING,
    KIND_SECRET_FILE,
    KIND_TOPIC,
    KIND_GUARANTEE,
    KIND_GROUP_PROTOCOL,
    KIND_INT,
    KIND_LISTEN,
    KIND_BOOL,
} value_kind;

typedef enum int_target {
    TARGET_INT,
    TARGET_SIZE,
    TARGET_UNSIGNED,
} int_target;

typedef struct setting_def {
    const char *group;
    const char *name;
    value_kind kind;
    size_t offset; /* into ofc_config */
    int_target target;
    long long min;
    long long max;
} setting_def;

static const char *const groups[] = {"kafka",  "topics",  "producer", "consumer",
                                     "limits", "metrics", "gateway",  "handler"};
#define GROUP_COUNT (sizeof(groups) / sizeof(groups[0]))

static const setting_def settings[] = {
    {"kafka", "brokers", KIND_BROKERS, 0, TARGET_INT, 0, 0},
    {"kafka", "properties", KIND_PROPERTIES, 0, TARGET_INT, 0, 0},
    {"kafka", "sasl_password_file", KIND_SECRET_FILE, 0, TARGET_INT, 0, 0},
    {"topics", "order_created", KIND_TOPIC, offsetof(ofc_config, topic_order_created), TARGET_INT,
     0, 0},
    {"topics", "data_processed", KIND_TOPIC, offsetof(ofc_config, topic_data_processed), TARGET_INT,
     0, 0},
    {"topics", "dead_letter", KIND_TOPIC, offsetof(ofc_config, topic_dead_letter), TARGET_INT, 0,
     0},
    {"producer", "source", KIND_STRING, offsetof(ofc_config, producer_source), TARGET_INT, 0, 0},
    {"producer", "timeout_ms", KIND_INT, offsetof(ofc_config, producer_timeout_ms), TARGET_INT, 1,
     INT_MAX},
    {"producer", "tracing", KIND_BOOL, offsetof(ofc_config, producer_tracing), TARGET_INT, 0, 0},
    {"consumer", "group", KIND_STRING, offsetof(ofc_config, consumer_group), TARGET_INT, 0, 0},
    {"consumer", "instance_id", KIND_STRING, offsetof(ofc_config, consumer_instance_id), TARGET_INT,
     0, 0},
    {"consumer", "handler", KIND_STRING, offsetof(ofc_config, consumer_handler), TARGET_INT, 0, 0},
    {"consumer", "guarantee", KIND_GUARANTEE, offsetof(ofc_config, guarantee), TARGET_INT, 0, 0},
    {"consumer", "group_protocol", KIND_GROUP_PROTOCOL,
     offsetof(ofc_config, consumer_group_protocol), TARGET_INT, 0, 0},
    {"consumer", "dedup_window", KIND_INT, offsetof(ofc_config, dedup_window), TARGET_SIZE, 1,
     10000000},
    {"consumer", "commit_interval_ms", KIND_INT, offsetof(ofc_config, commit_interval_ms),
     TARGET_INT, 10, 600000},
    {"limits", "max_record_bytes", KIND_INT, offsetof(ofc_config, limits.max_record_bytes),
     TARGET_SIZE, 64, 67108864},
    {"limits", "max_depth", KIND_INT, offsetof(ofc_config, limits.max_depth), TARGET_UNSIGNED, 2,
     1000},
    {"limits", "max_string_bytes", KIND_INT, offsetof(ofc_config, limits.max_string_bytes),
     TARGET_SIZE, 1, 16777216},
    {"limits", "max_items", KIND_INT, offsetof(ofc_config, limits.max_items), TARGET_SIZE, 1,
     10000000},
    {"metrics", "listen", KIND_LISTEN, offsetof(ofc_config, metrics_listen), TARGET_INT, 0, 0},
    {"gateway", "listen", KIND_LISTEN, offsetof(ofc_config, gateway_listen), TARGET_INT, 0, 0},
    {"gateway", "source", KIND_STRING, offsetof(ofc_config, gateway_source), TARGET_INT, 0, 0},
    {"gateway", "require_idempotency_key", KIND_BOOL, offsetof(ofc_config, gateway_require_key),
     TARGET_INT, 0, 0},
    {"gateway", "idempotency_retention_s", KIND_INT, offsetof(ofc_config, gateway_retention_s),
     TARGET_INT, 1, 31536000},
    {"gateway", "max_idempotency_keys", KIND_INT, offsetof(ofc_config, gateway_max_keys),
     TARGET_SIZE, 1, 100000000},
    {"gateway", "max_in_flight", KIND_INT, offsetof(ofc_config, gateway_max_in_flight), TARGET_INT,
     1, 1000000},
    {"gateway", "client_timeout_s", KIND_INT, offsetof(ofc_config, gateway_client_timeout_s),
     TARGET_INT, 1, 3600},
    {"gateway", "tokens", KIND_TOKENS, 0, TARGET_INT, 0, 0},
    {"gateway", "tls_cert", KIND_STRING, offsetof(ofc_config, gateway_tls_cert), TARGET_INT, 0, 0},
    {"gateway", "tls_key", KIND_STRING, offsetof(ofc_config, gateway_tls_key), TARGET_INT, 0, 0},
    {"gateway", "request_timeout_ms", KIND_INT, offsetof(ofc_config, gateway_request_timeout_ms),
     TARGET_INT, 100, 300000},
};
#define SETTING_COUNT (sizeof(settings) / sizeof(settings[0]))

/* order_created, data_processed, dead_letter: see topic_index. */
#define TOPIC_COUNT 3

typedef struct load_ctx {
    ofc_config *cfg;
    const char *path;
    char *err;
    size_t errlen;
    unsigned topic_line[TOPIC_COUNT]; /* 0: not set by this file */
} load_ctx;

static unsigned line_of(const config_setting_t *s)
{
    return (unsigned)config_setting_source_line(s);
}

static int fail_at(load_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(load_ctx *ctx, const config_setting_t *s, const char *fmt, ...)
{
    if (!ctx->err || ctx->errlen == 0) return -1;
    int n = snprintf(ctx->err, ctx->errlen, "%s:%u: ", ctx->path, line_of(s));
    if (n >= 0 && (size_t)n < ctx->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err + n, ctx->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a float";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    default:
        return "an unknown kind of value";
    }
}

/* The known name closest to what the user wrote: a typo of the whole dotted
 * name, or the right name in the wrong group (consumer.timeout_ms, a
 * top-level brokers). group is NULL at the top level. */
static int suggest(const char *group, const char *name, char *out, size_t outlen)
{
    char full[2 * OF_SUGGEST_MAX_NAME + 2];
    char candidate[2 * OF_SUGGEST_MAX_NAME + 2];
    if (group)
        snprintf(full, sizeof(full), "%s.%s", group, name);
    else
        snprintf(full, sizeof(full), "%s", name);
    size_t best = 3;
    for (size_t g = 0; g < GROUP_COUNT && !group; g++) {
        size_t d = ofc_edit_distance(name, groups[g]);
        if (d < best) {
            best = d;
            snprintf(out, outlen, "%s", groups[g]);
        }
    }
    for (size_t i = 0; i < SETTING_COUNT; i++) {
        snprintf(candidate, sizeof(candidate), "%s.%s", settings[i].group, settings[i].name);
        size_t d = ofc_edit_distance(full, candidate);
        size_t leaf = ofc_edit_distance(name, settings[i].name);
        if (leaf != SIZE_MAX && leaf + 1 < d) d = leaf + 1;
        /* commit_interval for commit_interval_ms: the unit left off */
        size_t n = strlen(name);
        if (n >= 4 && strncmp(settings[i].name, name, n) == 0 &&
            (!group || strcmp(settings[i].group, group) == 0) && d > 2)
            d = 2;
        if (d < best) {
            best = d;
            snprintf(out, outlen, "%s", candidate);
        }
    }
    return best <= 2;
}

static int unknown(load_ctx *ctx, const config_setting_t *s, const char *group, const char *name)
{
    const char *what = !group && config_setting_is_group(s) ? "group" : "setting";
    char hint[2 * OF_SUGGEST_MAX_NAME + 2];
    if (suggest(group, name, hint, sizeof(hint))) {
        if (group)
            return fail_at(ctx, s, "unknown setting '%s.%s'; did you mean '%s'?", group, name,
                           hint);
        return fail_at(ctx, s, "unknown %s '%s'; did you mean '%s'?", what, name, hint);
    }
    char known[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < (group ? SETTING_COUNT : GROUP_COUNT); i++) {
        const char *k = group ? settings[i].name : groups[i];
        if (group && strcmp(settings[i].group, group) != 0) continue;
        int n = snprintf(known + used, sizeof(known) - used, "%s%s", used ? ", " : "", k);
        if (n < 0 || (size_t)n >= sizeof(known) - used) break;
        used += (size_t)n;
    }
    if (group)
        return fail_at(ctx, s, "unknown setting '%s.%s' (known in %s: %s)", group, name, group,
                       known);
    return fail_at(ctx, s, "unknown %s '%s' (known groups: %s)", what, name, known);
}

/* Kafka's own rule (kafka.common.internals.Topic): a name the broker would
 * refuse is better refused here, with the line. */
static const char *topic_problem(const char *name)
{
    size_t n = strlen(name);
    if (n == 0) return "must not be empty";
    if (n > 249) return "is longer than Kafka's 249 characters";
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return "cannot be \".\" or \"..\"";
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return "is not a valid Kafka topic name (letters, digits, '.', '_' and '-' only)";
    }
    return NULL;
}

static size_t topic_index(const setting_def *def)
{
    if (def->offset == offsetof(ofc_config, topic_order_created)) return 0;
    if (def->offset == offsetof(ofc_config, topic_data_processed)) return 1;
    return 2;
}

/* kafka.sasl_password_file: sasl.password from the first line of a file,
 * so that the configuration file itself holds no secret (docs/operations.md,
 * "Security"). Messages name the file, never what it holds. */
static int load_password_file(load_ctx *ctx, const config_setting_t *s, const char *path)
{
    if (!*path) return fail_at(ctx, s, "'kafka.sasl_password_file' must not be empty");
    FILE *f = fopen(path, "r");
    if (!f)
        return fail_at(ctx, s, "'kafka.sasl_password_file' %s: cannot open: %s", path,
                       strerror(errno));
    char password[1024];
    size_t len = fread(password, 1, sizeof(password) - 1, f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) return fail_at(ctx, s, "'kafka.sasl_password_file' %s: cannot read", path);
    password[len] = '\0';
    password[strcspn(password, "\r\n")] = '\0';
    if (!password[0]) {
        explicit_bzero(password, sizeof(password));
        return fail_at(ctx, s, "'kafka.sasl_password_file' %s: no password on its first line",
                       path);
    }
    char origin[PATH_MAX + 64];
    snprintf(origin, sizeof(origin), "%s:%u (kafka.sasl_password_file)", ctx->path, line_of(s));
    int rc =
        ofc_config_set_property(ctx->cfg, "sasl.password", password, origin, ctx->err, ctx->errlen);
    explicit_bzero(password, sizeof(password));
    return rc;
}

static int load_string(load_ctx *ctx, const setting_def *def, const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return fail_at(ctx, s, "'%s.%s' must be a string, got %s", def->group, def->name,
                       type_name(s));
    const char *value = config_setting_get_string(s);
    char origin[PATH_MAX + 32];

    switch (def->kind) {
    case KIND_SECRET_FILE:
        return load_password_file(ctx, s, value);
    case KIND_BROKERS:
        if (!*value) return fail_at(ctx, s, "'kafka.brokers' must not be empty");
        snprintf(origin, sizeof(origin), "%s:%u", ctx->path, line_of(s));
        if (ofc_config_set_brokers_from(ctx->cfg, value, origin, ctx->err, ctx->errlen) != 0)
            return -1;
        return 0;
    case KIND_GUARANTEE:
        if (strcmp(value, "at_least_once") == 0)
            ctx->cfg->guarantee = OFC_AT_LEAST_ONCE;
        else if (strcmp(value, "exactly_once") == 0)
            ctx->cfg->guarantee = OFC_EXACTLY_ONCE;
        else
            return fail_at(ctx, s,
                           "'consumer.guarantee' must be \"at_least_once\" or \"exactly_once\", "
                           "got \"%s\"",
                           value);
        return 0;
    case KIND_GROUP_PROTOCOL: {
        ofc_group_protocol protocol;
        if (strcmp(value, "classic") == 0)
            protocol = OFC_GROUP_PROTOCOL_CLASSIC;
        else if (strcmp(value, "consumer") == 0)
            protocol = OFC_GROUP_PROTOCOL_CONSUMER;
        else
            return fail_at(ctx, s,
                           "'consumer.group_protocol' must be \"classic\" or \"consumer\" "
                           "(KIP-848), got \"%s\"",
                           value);
        snprintf(origin, sizeof(origin), "%s:%u", ctx->path, line_of(s));
        char *copy = strdup(origin);
        if (!copy) return fail_at(ctx, s, "out of memory");
        free(ctx->cfg->consumer_group_protocol_origin);
        ctx->cfg->consumer_group_protocol_origin = copy;
        ctx->cfg->consumer_group_protocol = protocol;
        return 0;
    }
    case KIND_TOPIC: {
        const char *problem = topic_problem(value);
        if (problem)
            return fail_at(ctx, s, "'%s.%s' %s, got \"%s\"", def->group, def->name, problem, value);
        ctx->topic_line[topic_index(def)] = line_of(s);
        break;
    }
    case KIND_LISTEN: {
        char why[300], option[64];
        snprintf(option, sizeof(option), "'%s.%s'", def->group, def->name);
        if (ofc_listen_parse(option, value, NULL, NULL, why, sizeof(why)) != 0)
            return fail_at(ctx, s, "%s", why);
        break;
    }
    default:
        if (!*value) return fail_at(ctx, s, "'%s.%s' must not be empty", def->group, def->name);
        break;
    }
    char **slot = (char **)(void *)((char *)ctx->cfg + def->offset);
    char *copy = strdup(value);
    if (!copy) return fail_at(ctx, s, "out of memory");
    free(*slot);
    *slot = copy;
    return 0;
}

static int load_bool(load_ctx *ctx, const setting_def *def, const config_setting_t *s)
{
    /* libconfig reads 1 and "true" as other types: refuse them rather than
     * guess what was meant. */
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail_at(ctx, s, "'%s.%s' must be true or false, got %s", def->group, def->name,
                       type_name(s));
    *(int *)(void *)((char *)ctx->cfg + def->offset) = config_setting_get_bool(s) != 0;
    return 0;
}

static int load_int(load_ctx *ctx, const setting_def *def, const config_setting_t *s)
{
    long long value;
    if (config_setting_type(s) == CONFIG_TYPE_INT)
        value = config_setting_get_int(s);
    else if (config_setting_type(s) == CONFIG_TYPE_INT64)
        value = config_setting_get_int64(s);
    else
        return fail_at(ctx, s, "'%s.%s' must be an integer, got %s", def->group, def->name,
                       type_name(s));
    if (value < def->min || value > def->max)
        return fail_at(ctx, s, "'%s.%s' must be between %lld and %lld, got %lld", def->group,
                       def->name, def->min, def->max, value);
    void *slot = (char *)ctx->cfg + def->offset;
    switch (def->target) {
    case TARGET_INT:
        *(int *)slot = (int)value;
        break;
    case TARGET_SIZE:
        *(size_t *)slot = (size_t)value;
        break;
    case TARGET_UNSIGNED:
        *(unsigned *)slot = (unsigned)value;
        break;
    }
    return 0;
}

/* A scalar setting as text, for the settings kept as text (librdkafka
 * properties, handler settings): a string as it is, an integer (and, with
 * floats, a float) in decimal, a boolean as "true" or "false". Returns the
 * text (the setting's own string or buf), or NULL when s is of another type. */
static const char *scalar_text(const config_setting_t *s, int floats, char *buf, size_t size)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_STRING:
        return config_setting_get_string(s);
    case CONFIG_TYPE_INT:
        snprintf(buf, size, "%d", config_setting_get_int(s));
        return buf;
    case CONFIG_TYPE_INT64:
        snprintf(buf, size, "%lld", config_setting_get_int64(s));
        return buf;
    case CONFIG_TYPE_FLOAT:
        if (!floats) return NULL;
        snprintf(buf, size, "%.17g", config_setting_get_float(s));
        return buf;
    case CONFIG_TYPE_BOOL:
        return config_setting_get_bool(s) ? "true" : "false";
    default:
        return NULL;
    }
}

/* Any librdkafka property passes through as text: librdkafka parses and
 * checks it later, and reports the origin kept here. */
static int load_properties(load_ctx *ctx, const config_setting_t *group)
{
    if (!config_setting_is_group(group))
        return fail_at(ctx, group,
                       "'kafka.properties' must be a group ({ \"linger.ms\" = 5; }), got %s",
                       type_name(group));
    int count = config_setting_length(group);
    for (int i = 0; i < count; i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        char *key = ofc_config_text_name(config_setting_name(s));
        if (!key) return fail_at(ctx, s, "out of memory");
        char value[32];
        const char *text = scalar_text(s, 0, value, sizeof(value));
        if (!text) {
            fail_at(ctx, s, "property '%s' must be a string, an integer or a boolean, got %s", key,
                    type_name(s));
            free(key);
            return -1;
        }
        char origin[PATH_MAX + 32];
        snprintf(origin, sizeof(origin), "%s:%u", ctx->path, line_of(s));
        int rc = ofc_config_set_property(ctx->cfg, key, text, origin, ctx->err, ctx->errlen);
        free(key);
        if (rc != 0) return -1;
    }
    return 0;
}

/* gateway.tokens: an array of non-empty strings, each a bearer token. Their
 * values are secrets: messages name the position, never the token. */
static int load_tokens(load_ctx *ctx, const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST)
        return fail_at(ctx, s, "'gateway.tokens' must be an array of strings ([\"...\"]), got %s",
                       type_name(s));
    ofc_config *cfg = ctx->cfg;
    int count = config_setting_length(s);
    char **tokens = calloc((size_t)count + 1, sizeof(*tokens));
    if (!tokens) return fail_at(ctx, s, "out of memory");
    for (int i = 0; i < count; i++) {
        const config_setting_t *t = config_setting_get_elem(s, (unsigned)i);
        const char *value =
            config_setting_type(t) == CONFIG_TYPE_STRING ? config_setting_get_string(t) : NULL;
        int bad = !value || !*value;
        for (const char *c = value; !bad && *c; c++)
            bad = *c <= 0x20 || *c >= 0x7f;
        if (bad || !(tokens[i] = strdup(value))) {
            for (int j = 0; j < i; j++)
                free(tokens[j]);
            free(tokens);
            return bad ? fail_at(ctx, t,
                                 "'gateway.tokens' entry %d must be a non-empty string of "
                                 "printable ASCII without spaces",
                                 i + 1)
                       : fail_at(ctx, t, "out of memory");
        }
    }
    for (size_t i = 0; i < cfg->gateway_token_count; i++)
        free(cfg->gateway_tokens[i]);
    free(cfg->gateway_tokens);
    cfg->gateway_tokens = tokens;
    cfg->gateway_token_count = (size_t)count;
    return 0;
}

/* The handler group: every member is a handler setting, orderflow's own
 * (checked by ofc_config_set_handler_setting) or the handler's (any scalar,
 * as text for its open). */
static int load_handler_setting(load_ctx *ctx, const config_setting_t *s)
{
    char *key = ofc_config_text_name(config_setting_name(s));
    if (!key) return fail_at(ctx, s, "out of memory");
    char value[64];
    const char *text = scalar_text(s, 1, value, sizeof(value));
    if (!text) {
        fail_at(ctx, s, "'handler.%s' must be a string, a number or a boolean, got %s", key,
                type_name(s));
        free(key);
        return -1;
    }
    char origin[PATH_MAX + 32];
    snprintf(origin, sizeof(origin), "%s:%u", ctx->path, line_of(s));
    int rc = ofc_config_set_handler_setting(ctx->cfg, key, text, origin, ctx->err, ctx->errlen);
    free(key);
    return rc;
}

static int load_member(load_ctx *ctx, const char *group, const config_setting_t *s)
{
    if (strcmp(group, "handler") == 0) return load_handler_setting(ctx, s);
    char *name = ofc_config_text_name(config_setting_name(s));
    if (!name) return fail_at(ctx, s, "out of memory");
    const setting_def *def = NULL;
    for (size_t i = 0; i < SETTING_COUNT && !def; i++)
        if (strcmp(settings[i].group, group) == 0 && strcmp(settings[i].name, name) == 0)
            def = &settings[i];
    if (!def) {
        unknown(ctx, s, group, name);
        free(name);
        return -1;
    }
    free(name);
    if (def->kind == KIND_PROPERTIES) return load_properties(ctx, s);
    if (def->kind == KIND_TOKENS) return load_tokens(ctx, s);
    if (def->kind == KIND_INT) return load_int(ctx, def, s);
    if (def->kind == KIND_BOOL) return load_bool(ctx, def, s);
    return load_string(ctx, def, s);
}

static int load_root(load_ctx *ctx, const config_setting_t *root)
{
    int count = config_setting_length(root);
    for (int i = 0; i < count; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        char *name = ofc_config_text_name(config_setting_name(s));
        if (!name) return fail_at(ctx, s, "out of memory");
        const char *group = NULL;
        for (size_t g = 0; g < GROUP_COUNT && !group; g++)
            if (strcmp(groups[g], name) == 0) group = groups[g];
        if (!group) {
            unknown(ctx, s, NULL, name);
            free(name);
            return -1;
        }
        free(name);
        if (!config_setting_is_group(s))
            return fail_at(ctx, s, "'%s' must be a group (%s = { ... };), got %s", group, group,
                           type_name(s));
        int members = config_setting_length(s);
        for (int m = 0; m < members; m++)
            if (load_member(ctx, group, config_setting_get_elem(s, (unsigned)m)) != 0) return -1;
    }
    return 0;
}

/* The processor reads one topic and writes the others: two roles on one topic
 * would make it consume its own output or its dead letters. */
static int check_topics(load_ctx *ctx)
{
    static const char *const names[TOPIC_COUNT] = {"order_created", "data_processed",
                                                   "dead_letter"};
    const char *values[TOPIC_COUNT] = {ctx->cfg->topic_order_created,
                                       ctx->cfg->topic_data_processed, ctx->cfg->topic_dead_letter};
    for (size_t a = 0; a < TOPIC_COUNT; a++)
        for (size_t b = a + 1; b < TOPIC_COUNT; b++) {
            if (strcmp(values[a], values[b]) != 0) continue;
            unsigned line =
                ctx->topic_line[a] > ctx->topic_line[b] ? ctx->topic_line[a] : ctx->topic_line[b];
            ofc_config_errf(ctx->err, ctx->errlen,
                            "%s:%u: 'topics.%s' and 'topics.%s' are both \"%s\"; each role needs "
                            "its own topic",
                            ctx->path, line, names[a], names[b], values[a]);
            return -1;
        }
    return 0;
}

/* GNU strerror_r: unlike strerror, no shared buffer for unknown codes. */
static const char *errno_text(int e, char *buf, size_t buflen)
{
    return strerror_r(e, buf, buflen);
}

FILE *ofc_config_open_file(const char *path, char *err, size_t errlen)
{
    char why[128];
    FILE *f = fopen(path, "r");
    if (!f) {
        ofc_config_errf(err, errlen, "%s: cannot open: %s", path,
                        errno_text(errno, why, sizeof(why)));
        return NULL;
    }
    /* fopen accepts a directory; only the first read would fail, vaguely. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        ofc_config_errf(err, errlen, "%s: cannot open: %s", path,
                        errno_text(EISDIR, why, sizeof(why)));
        fclose(f);
        return NULL;
    }
    return f;
}

/* Reads all of f (and closes it). */
static char *read_all(FILE *f, const char *path, size_t *len, char *err, size_t errlen)
{
    char why[128];
    /* Not st_size: -c <(...) and /dev/stdin are pipes. */
    size_t cap = 4096, used = 0;
    char *buf = malloc(cap);
    if (!buf) goto oom;
    for (;;) {
        if (used == cap) {
            if (cap >= OF_CONFIG_MAX_FILE_BYTES) {
                ofc_config_errf(err, errlen, "%s: larger than %zu bytes; not a configuration file",
                                path, OF_CONFIG_MAX_FILE_BYTES);
                goto fail;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) goto oom;
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0) break;
    }
    if (ferror(f)) {
        ofc_config_errf(err, errlen, "%s: cannot read: %s", path,
                        errno_text(errno, why, sizeof(why)));
        goto fail;
    }
    fclose(f);
    *len = used;
    return buf;
oom:
    ofc_config_errf(err, errlen, "%s: out of memory reading the file", path);
fail:
    free(buf);
    fclose(f);
    return NULL;
}

int ofc_config_load_file(ofc_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = ofc_config_open_file(path, err, errlen);
    return f ? ofc_config_load_stream(cfg, f, path, err, errlen) : -1;
}

int ofc_config_load_stream(ofc_config *cfg, FILE *f, const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *raw = read_all(f, path, &len, err, errlen);
    if (!raw) return -1;

    unsigned bad_line = 0;
    char why[512];
    char *text = ofc_config_text_prepare(raw, len, &bad_line, why, sizeof(why));
    free(raw);
    if (!text) {
        if (bad_line)
            ofc_config_errf(err, errlen, "%s:%u: %s", path, bad_line, why);
        else
            ofc_config_errf(err, errlen, "%s: %s", path, why);
        return -1;
    }

    config_t lc;
    config_init(&lc);
    int rc = -1;
    if (!config_read_string(&lc, text)) {
        /* Reading from memory leaves error_file unset: the file is ours. */
        const char *file = config_error_file(&lc) ? config_error_file(&lc) : path;
        const char *what = config_error_text(&lc) ? config_error_text(&lc) : "syntax error";
        ofc_config_errf(err, errlen, "%s:%d: %s", file, config_error_line(&lc), what);
        goto done;
    }
    load_ctx ctx = {.cfg = cfg, .path = path, .err = err, .errlen = errlen};
    if (load_root(&ctx, config_root_setting(&lc)) != 0 || check_topics(&ctx) != 0) goto done;
    rc = 0;
done:
    config_destroy(&lc);
    free(text);
    return rc;
}
