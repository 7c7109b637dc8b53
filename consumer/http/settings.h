/* The HTTP handler's own settings (docs/handlers.md, "The HTTP handler"):
 * the handler group's keys as text, checked and read once at open. The keys
 * the processor owns (max_attempts, max_output_bytes, on_exhausted...) never
 * reach here. */
#ifndef OF_CONSUMER_HTTP_SETTINGS_H
#define OF_CONSUMER_HTTP_SETTINGS_H

#include <stddef.h>

#include <orderflow/handler.h>

typedef enum http_content_mode {
    HTTP_CONTENT_BINARY,     /* ce-* headers, the order as the body */
    HTTP_CONTENT_STRUCTURED, /* the whole envelope as the body */
} http_content_mode;

typedef struct http_settings {
    long timeout_ms;           /* timeout_ms: one call, connect to last byte (5000) */
    unsigned max_in_flight;    /* max_in_flight: inputs held at once (64) */
    long backoff_ms;           /* backoff_ms: the first retry's bound (100) */
    long backoff_max_ms;       /* backoff_max_ms: every retry's bound, Retry-After too (30000) */
    unsigned breaker_failures; /* breaker_failures: consecutive failures that open it (5) */
    long breaker_open_ms;      /* breaker_open_ms: open this long before one probe (5000) */
    http_content_mode content_mode; /* content_mode: binary | structured (binary) */
    int tls_verify;                 /* tls_verify: check the server's certificate and name (1) */
    char *ca_location;              /* ca_location: PEM file of trusted CAs (NULL: the system's) */
    char *cert_location;            /* cert_location: client certificate, PEM */
    char *key_location;             /* key_location: its private key, PEM */
    char *key_password; /* ORDERFLOW_HTTP_KEY_PASSWORD, key_password_file or key_password */
} http_settings;

/* The environment variable that holds the client key's password (wins over
 * the settings, as ORDERFLOW_SASL_PASSWORD does for Kafka). */
#define HTTP_KEY_PASSWORD_ENV "ORDERFLOW_HTTP_KEY_PASSWORD"

/* Fills s from config (NULL: every default) for target (http:// or
 * https://). Returns 0, or -1 with one sentence in err naming the key at
 * fault and what it takes (s then holds nothing to free). */
int http_settings_read(http_settings *s, const char *target, const of_handler_config *config,
                       char *err, size_t errlen);
/* Frees the strings (the password's bytes are cleared first). */
void http_settings_free(http_settings *s);

#endif
