/* Reading the HTTP handler's settings: every key known, typed and in range,
 * or one sentence naming it and what it takes. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/edit_distance.h"

#include "settings.h"

typedef enum key_kind {
    KIND_MS,
    KIND_COUNT,
    KIND_MODE,
    KIND_BOOL,
    KIND_PATH,
    KIND_SECRET
} key_kind;

typedef struct key_spec {
    const char *name;
    key_kind kind;
    long min, max; /* KIND_MS, KIND_COUNT */
} key_spec;

static const key_spec keys[] = {
    {"timeout_ms", KIND_MS, 1, 3600000},
    {"max_in_flight", KIND_COUNT, 1, 10000},
    {"backoff_ms", KIND_MS, 0, 3600000},
    {"backoff_max_ms", KIND_MS, 0, 3600000},
    {"breaker_failures", KIND_COUNT, 1, 1000000},
    {"breaker_open_ms", KIND_MS, 1, 3600000},
    {"content_mode", KIND_MODE, 0, 0},
    {"tls_verify", KIND_BOOL, 0, 0},
    {"ca_location", KIND_PATH, 0, 0},
    {"cert_location", KIND_PATH, 0, 0},
    {"key_location", KIND_PATH, 0, 0},
    {"key_password_file", KIND_SECRET, 0, 0},
    {"key_password", KIND_SECRET, 0, 0},
};
#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, errlen, fmt, args);
    va_end(args);
    return -1;
}

static const key_spec *find_key(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].name, name) == 0) return &keys[i];
    return NULL;
}

static int unknown_key(const char *name, char *err, size_t errlen)
{
    const char *closest = NULL;
    size_t best = 4; /* within three typos (or a missing "_ms") */
    for (size_t i = 0; i < KEY_COUNT; i++) {
        size_t d = ofc_edit_distance(name, keys[i].name);
        if (d < best) {
            best = d;
            closest = keys[i].name;
        }
    }
    char known[400];
    size_t used = 0;
    for (size_t i = 0; i < KEY_COUNT && used < sizeof(known); i++) {
        int n = snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "", keys[i].name);
        if (n < 0) break;
        used += (size_t)n;
    }
    if (closest)
        return fail(err, errlen,
                    "'handler.%s' is not a setting of the http handler; did you mean "
                    "'handler.%s'? (it takes: %s)",
                    name, closest, known);
    return fail(err, errlen, "'handler.%s' is not a setting of the http handler (it takes: %s)",
                name, known);
}

static int read_long(const key_spec *k, const char *value, long *out, char *err, size_t errlen)
{
    errno = 0;
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (!*value || *end || errno || v < k->min || v > k->max)
        return fail(err, errlen, "'handler.%s' = '%s': expected an integer from %ld to %ld%s",
                    k->name, value, k->min, k->max, k->kind == KIND_MS ? " (milliseconds)" : "");
    *out = v;
    return 0;
}

/* The first line of path, without its line end: a password file as
 * kafka.sasl_password_file reads it. */
static int read_first_line(const char *path, char **out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, errlen, "'handler.key_password_file' %s: cannot open: %s", path,
                    strerror(errno));
    char line[1024];
    char *got = fgets(line, sizeof(line), f);
    int read_error = ferror(f);
    fclose(f);
    if (read_error) return fail(err, errlen, "'handler.key_password_file' %s: cannot read", path);
    size_t len = got ? strcspn(line, "\r\n") : 0;
    if (len == 0)
        return fail(err, errlen, "'handler.key_password_file' %s: no password on its first line",
                    path);
    line[len] = '\0';
    *out = strdup(line);
    memset(line, 0, sizeof(line));
    if (!*out) return fail(err, errlen, "out of memory");
    return 0;
}

static int set_string(char **slot, const char *value, char *err, size_t errlen)
{
    free(*slot);
    *slot = strdup(value);
    if (!*slot) return fail(err, errlen, "out of memory");
    return 0;
}

static int read_one(http_settings *s, const key_spec *k, const char *value, const char **password,
                    const char **password_file, char *err, size_t errlen)
{
    long v = 0;
    switch (k->kind) {
    case KIND_MS:
    case KIND_COUNT:
        if (read_long(k, value, &v, err, errlen) != 0) return -1;
        if (strcmp(k->name, "timeout_ms") == 0) s->timeout_ms = v;
        if (strcmp(k->name, "max_in_flight") == 0) s->max_in_flight = (unsigned)v;
        if (strcmp(k->name, "backoff_ms") == 0) s->backoff_ms = v;
        if (strcmp(k->name, "backoff_max_ms") == 0) s->backoff_max_ms = v;
        if (strcmp(k->name, "breaker_failures") == 0) s->breaker_failures = (unsigned)v;
        if (strcmp(k->name, "breaker_open_ms") == 0) s->breaker_open_ms = v;
        return 0;
    case KIND_MODE:
        if (strcmp(value, "binary") == 0)
            s->content_mode = HTTP_CONTENT_BINARY;
        else if (strcmp(value, "structured") == 0)
            s->content_mode = HTTP_CONTENT_STRUCTURED;
        else
            return fail(err, errlen, "'handler.content_mode' = '%s': expected binary or structured",
                        value);
        return 0;
    case KIND_BOOL:
        if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
            s->tls_verify = 1;
        else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
            s->tls_verify = 0;
        else
            return fail(err, errlen, "'handler.%s' = '%s': expected true or false", k->name, value);
        return 0;
    case KIND_PATH:
        if (!*value) return fail(err, errlen, "'handler.%s' must not be empty", k->name);
        if (strcmp(k->name, "ca_location") == 0)
            return set_string(&s->ca_location, value, err, errlen);
        if (strcmp(k->name, "cert_location") == 0)
            return set_string(&s->cert_location, value, err, errlen);
        return set_string(&s->key_location, value, err, errlen);
    case KIND_SECRET:
        /* Never echoed: a message names the key, not the value. */
        if (!*value) return fail(err, errlen, "'handler.%s' must not be empty", k->name);
        if (strcmp(k->name, "key_password") == 0)
            *password = value;
        else
            *password_file = value;
        return 0;
    }
    return 0;
}

int http_settings_read(http_settings *s, const char *target, const of_handler_config *config,
                       char *err, size_t errlen)
{
    *s = (http_settings){
        .timeout_ms = 5000,
        .max_in_flight = 64,
        .backoff_ms = 100,
        .backoff_max_ms = 30000,
        .breaker_failures = 5,
        .breaker_open_ms = 5000,
        .content_mode = HTTP_CONTENT_BINARY,
        .tls_verify = 1,
    };
    int https = target && strncasecmp(target, "https://", 8) == 0;
    if (!target || (!https && strncasecmp(target, "http://", 7) != 0) || !target[https ? 8 : 7])
        return fail(err, errlen, "handler target '%s' is not an http:// or https:// URL",
                    target ? target : "");
    if (strpbrk(target, " \t\r\n"))
        return fail(err, errlen, "handler target '%s' holds white space or a line break", target);
    const char *password = NULL, *password_file = NULL;
    for (size_t i = 0; config && i < config->count; i++) {
        const key_spec *k = find_key(config->keys[i]);
        if (!k) {
            http_settings_free(s);
            return unknown_key(config->keys[i], err, errlen);
        }
        if (read_one(s, k, config->values[i] ? config->values[i] : "", &password, &password_file,
                     err, errlen) != 0) {
            http_settings_free(s);
            return -1;
        }
    }
    if (s->backoff_max_ms < s->backoff_ms) {
        http_settings_free(s);
        return fail(err, errlen,
                    "'handler.backoff_max_ms' (%ld) is below 'handler.backoff_ms' (%ld)",
                    s->backoff_max_ms, s->backoff_ms);
    }
    const char *env_password = getenv(HTTP_KEY_PASSWORD_ENV);
    int rc = 0;
    if (env_password && *env_password)
        rc = set_string(&s->key_password, env_password, err, errlen);
    else if (password_file)
        rc = read_first_line(password_file, &s->key_password, err, errlen);
    else if (password)
        rc = set_string(&s->key_password, password, err, errlen);
    if (rc != 0) {
        http_settings_free(s);
        return -1;
    }
    const char *tls_key = s->ca_location     ? "ca_location"
                          : s->cert_location ? "cert_location"
                          : s->key_location  ? "key_location"
                          : s->key_password  ? "key_password"
                          : !s->tls_verify   ? "tls_verify"
                                             : NULL;
    if (tls_key && !https) {
        http_settings_free(s);
        return fail(err, errlen, "'handler.%s' is set but the target '%s' is not https://", tls_key,
                    target);
    }
    if ((s->cert_location != NULL) != (s->key_location != NULL)) {
        int has_cert = s->cert_location != NULL;
        http_settings_free(s);
        return fail(err, errlen,
                    "'handler.%s' is set without 'handler.%s': a client certificate needs both",
                    has_cert ? "cert_location" : "key_location",
                    has_cert ? "key_location" : "cert_location");
    }
    return 0;
}

void http_settings_free(http_settings *s)
{
    if (s->key_password) {
        /* volatile: the clearing must not be optimised away as a dead store. */
        for (volatile char *p = s->key_password; *p; p++)
            *p = 0;
    }
    free(s->key_password);
    free(s->ca_location);
    free(s->cert_location);
    free(s->key_location);
    s->key_password = s->ca_location = s->cert_location = s->key_location = NULL;
}
