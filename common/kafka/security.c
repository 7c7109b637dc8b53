/* Security failures in one line each (docs/operations.md, "Security"): what
 * librdkafka reports when authentication, TLS verification or authorization
 * fails, turned into the cause, the setting at fault and the fix. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "kafka/kafka.h"

/* A connection's broker as librdkafka names it, "sasl_ssl://HOST:PORT/ID"
 * (or ".../bootstrap"): HOST:PORT into out. */
static void broker_address(const char *name, char *out, size_t outlen)
{
    const char *start = strstr(name ? name : "", "://");
    start = start ? start + 3 : (name ? name : "");
    size_t len = strcspn(start, "/: ");
    /* HOST:PORT: the first ':' after the scheme separates the port. */
    if (start[len] == ':') len += 1 + strcspn(start + len + 1, "/ ");
    if (len >= outlen) len = outlen - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

static void conf_value(const rd_kafka_conf_t *conf, const char *key, char *out, size_t outlen)
{
    size_t len = outlen;
    if (!conf || rd_kafka_conf_get(conf, key, out, &len) != RD_KAFKA_CONF_OK) out[0] = '\0';
}

/* Runs on librdkafka's broker threads, once per certificate of the chain a
 * broker presents: keeps OpenSSL's verdict, and remembers the first failure
 * so that the message can say which check failed (librdkafka's own text is
 * the same for an unknown CA and a host name mismatch). */
static int on_cert_verify(rd_kafka_t *rk, const char *broker_name, int32_t broker_id,
                          int *x509_error, int depth, const char *buf, size_t size, char *errstr,
                          size_t errstr_size, void *opaque)
{
    (void)rk;
    (void)broker_id;
    (void)buf;
    (void)size;
    ofc_kafka *kafka = opaque;
    if (*x509_error == X509_V_OK) return 1;
    pthread_mutex_lock(&kafka->tls_lock);
    if (!kafka->tls_failure.x509_error) {
        kafka->tls_failure.x509_error = *x509_error;
        kafka->tls_failure.depth = depth;
        snprintf(kafka->tls_failure.broker, sizeof(kafka->tls_failure.broker), "%s",
                 broker_name ? broker_name : "");
    }
    pthread_mutex_unlock(&kafka->tls_lock);
    snprintf(errstr, errstr_size, "%s", X509_verify_cert_error_string(*x509_error));
    return 0;
}

int ofc_kafka_security_install(rd_kafka_conf_t *conf, char *err, size_t errlen)
{
    /* No OpenSSL clean-up at exit: a handle left to the exit
     * (ofc_kafka_leave_to_exit) or one whose threads are still stopping
     * goes on using TLS while exit() runs, and OpenSSL's atexit handler
     * would free the state under it (a crash at exit, seen under
     * AddressSanitizer, whose leak check makes the exit slower). The first
     * initialisation decides, and librdkafka's comes with the handle, after
     * this. */
    OPENSSL_init_ssl(OPENSSL_INIT_NO_ATEXIT, NULL);
    char protocol[32];
    conf_value(conf, "security.protocol", protocol, sizeof(protocol));
    if (strcasecmp(protocol, "ssl") != 0 && strcasecmp(protocol, "sasl_ssl") != 0) return 0;
    if (rd_kafka_conf_set_ssl_cert_verify_cb(conf, on_cert_verify) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "security.protocol=%s: this librdkafka was built without TLS support",
                 protocol);
        return -1;
    }
    return 0;
}

int ofc_kafka_is_security_error(rd_kafka_resp_err_t code, const char *reason)
{
    if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION || code == RD_KAFKA_RESP_ERR__SSL ||
        code == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED)
        return 1;
    /* A broker that refuses the client's certificate ends the handshake with
     * a TLS alert, which librdkafka reports as a transport error. */
    return code == RD_KAFKA_RESP_ERR__TRANSPORT && reason && strstr(reason, "SSL alert number");
}

/* "User:NAME" as Kafka's default principal builders name this client: the
 * SASL user, or the subject of the client certificate (RFC 2253, as Java's
 * X500Principal.getName), or ANONYMOUS. */
static void principal_of(const rd_kafka_conf_t *conf, char *out, size_t outlen)
{
    char protocol[32], value[512];
    conf_value(conf, "security.protocol", protocol, sizeof(protocol));
    if (strncasecmp(protocol, "sasl", 4) == 0) {
        conf_value(conf, "sasl.username", value, sizeof(value));
        snprintf(out, outlen, "User:%s", value);
        return;
    }
    conf_value(conf, "ssl.certificate.location", value, sizeof(value));
    FILE *pem = value[0] ? fopen(value, "r") : NULL;
    X509 *cert = pem ? PEM_read_X509(pem, NULL, NULL, NULL) : NULL;
    if (pem) fclose(pem);
    BIO *bio = cert ? BIO_new(BIO_s_mem()) : NULL;
    char *subject = NULL;
    long len = 0;
    if (bio && X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0)
        len = BIO_get_mem_data(bio, &subject);
    if (subject && len > 0)
        snprintf(out, outlen, "User:%.*s", (int)len, subject);
    else
        snprintf(out, outlen, "User:ANONYMOUS");
    BIO_free(bio);
    X509_free(cert);
}

static void remember(ofc_kafka *kafka, rd_kafka_resp_err_t code, const char *reason)
{
    if (kafka->security_error) return;
    kafka->security_error = code;
    snprintf(kafka->security_text, sizeof(kafka->security_text), "%s", reason ? reason : "");
}

void ofc_kafka_security_note(ofc_kafka *kafka, rd_kafka_resp_err_t code, const char *reason)
{
    if (ofc_kafka_is_security_error(code, reason)) remember(kafka, code, reason);
}

int ofc_kafka_security_failed(ofc_kafka *kafka)
{
    if (kafka->security_error != RD_KAFKA_RESP_ERR_NO_ERROR) return 1;
    /* A failed certificate check reaches the error callback as __SSL or,
     * depending on when the connection breaks, as __TRANSPORT with
     * OpenSSL's text only: the check itself is the evidence. */
    pthread_mutex_lock(&kafka->tls_lock);
    int tls_failed = kafka->tls_failure.x509_error != 0;
    pthread_mutex_unlock(&kafka->tls_lock);
    return tls_failed;
}

int ofc_kafka_security_explain(ofc_kafka *kafka, char *err, size_t errlen)
{
    const rd_kafka_conf_t *conf = rd_kafka_conf(kafka->rk);
    char broker[256], value[512];
    pthread_mutex_lock(&kafka->tls_lock);
    ofc_kafka_tls_failure tls = kafka->tls_failure;
    pthread_mutex_unlock(&kafka->tls_lock);

    if (tls.x509_error) {
        broker_address(tls.broker, broker, sizeof(broker));
        if (tls.x509_error == X509_V_ERR_HOSTNAME_MISMATCH) {
            char host[256];
            snprintf(host, sizeof(host), "%s", broker);
            char *colon = strrchr(host, ':');
            if (colon) *colon = '\0';
            snprintf(err, errlen,
                     "TLS: the certificate of broker %s does not name the host '%s' it was "
                     "reached by (host name mismatch); use a broker address the certificate "
                     "lists (its subjectAltName) in -b/kafka.brokers, as the brokers advertise",
                     broker, host);
            return EX_CONFIG;
        }
        conf_value(conf, "ssl.ca.location", value, sizeof(value));
        snprintf(err, errlen,
                 "TLS: the certificate of broker %s is not trusted: %s (ssl.ca.location=%s); "
                 "set ssl.ca.location to the CA certificate that signed the brokers' "
                 "certificates",
                 broker, X509_verify_cert_error_string(tls.x509_error),
                 value[0] ? value : "not set: the system's CAs were used");
        return EX_CONFIG;
    }

    broker_address(kafka->security_text, broker, sizeof(broker));
    const char *reason = kafka->security_text;
    if (strstr(reason, "SSL alert number")) {
        conf_value(conf, "ssl.certificate.location", value, sizeof(value));
        const char *alert = strstr(reason, "alert ");
        int alert_len = alert ? (int)strcspn(alert, ":(") : 0;
        if (!value[0])
            snprintf(err, errlen,
                     "TLS: broker %s requires a client certificate and none is configured (%.*s); "
                     "set ssl.certificate.location and ssl.key.location",
                     broker, alert_len, alert ? alert : "");
        else
            snprintf(err, errlen,
                     "TLS: broker %s refused the client certificate in "
                     "ssl.certificate.location=%s (%.*s); it must be signed by a CA the brokers "
                     "trust (their ssl.truststore)",
                     broker, value, alert_len, alert ? alert : "");
        return EX_CONFIG;
    }
    if (kafka->security_error == RD_KAFKA_RESP_ERR__SSL) {
        conf_value(conf, "ssl.ca.location", value, sizeof(value));
        snprintf(err, errlen, "TLS with broker %s failed (ssl.ca.location=%s): %s", broker,
                 value[0] ? value : "not set", reason);
        return EX_CONFIG;
    }
    char mechanism[64], user[256];
    conf_value(conf, "sasl.mechanisms", mechanism, sizeof(mechanism));
    conf_value(conf, "sasl.username", user, sizeof(user));
    /* Kafka 4 refuses every SCRAM login of a librdkafka with #4895 as bad
     * credentials: the right password fails too (versions.h). */
    char old_scram[256] = "";
    if (strncasecmp(mechanism, "SCRAM", 5) == 0 && ofc_kafka_has_bug(OFC_KAFKA_BUG_SCRAM_KAFKA4)) {
        char fixed[16];
        ofc_kafka_version_format(ofc_kafka_bug_describe(OFC_KAFKA_BUG_SCRAM_KAFKA4)->first_fixed,
                                 fixed, sizeof(fixed));
        snprintf(old_scram, sizeof(old_scram),
                 "; if the broker is Kafka 4, librdkafka %s cannot log in to it with SCRAM "
                 "(#4895): %s or later can",
                 rd_kafka_version_str(), fixed);
    }
    snprintf(err, errlen,
             "authentication failed: broker %s rejected user '%s' with SASL %s (wrong password "
             "or unknown user); check sasl.username and the password (kafka.sasl_password_file, "
             "ORDERFLOW_SASL_PASSWORD or sasl.password)%s",
             broker, user, mechanism, old_scram);
    return EX_CONFIG;
}

int ofc_kafka_refusal(ofc_kafka *kafka, rd_kafka_resp_err_t code, const char *topic,
                      const char *transactional_prefix, char *err, size_t errlen)
{
    const rd_kafka_conf_t *conf = rd_kafka_conf(kafka->rk);
    int consumer = rd_kafka_type(kafka->rk) == RD_KAFKA_CONSUMER;
    char name[512];
    switch (code) {
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED: {
        /* A member needs Read on its group; a consumer that only assigns
         * partitions still looks up its group's coordinator (Describe). */
        rd_kafka_topic_partition_list_t *subscription = NULL;
        int member = consumer && rd_kafka_subscription(kafka->rk, &subscription) == 0 &&
                     subscription && subscription->cnt > 0;
        if (subscription) rd_kafka_topic_partition_list_destroy(subscription);
        conf_value(conf, "group.id", name, sizeof(name));
        return ofc_kafka_denied(kafka, member ? "Read" : "Describe", "group", name, 0, err, errlen);
    }
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        if (transactional_prefix)
            return ofc_kafka_denied(kafka, "Write", "transactional-id", transactional_prefix, 1,
                                    err, errlen);
        conf_value(conf, "transactional.id", name, sizeof(name));
        return ofc_kafka_denied(kafka, "Write", "transactional-id", name, 0, err, errlen);
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
        /* A producer refused its idempotent producer id (cluster) has Write
         * on no topic at all (Kafka 3.x grants idempotence with Write). */
        return ofc_kafka_denied(kafka, consumer ? "Read" : "Write", "topic",
                                topic ? topic : "(unknown)", 0, err, errlen);
    default:
        return 0;
    }
}

int ofc_kafka_is_authorization_error(rd_kafka_resp_err_t code)
{
    return code == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           code == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
           code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED ||
           code == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

int ofc_kafka_denied(ofc_kafka *kafka, const char *operation, const char *resource_type,
                     const char *resource, int prefixed, char *err, size_t errlen)
{
    const rd_kafka_conf_t *conf = rd_kafka_conf(kafka->rk);
    char principal[600], brokers[512];
    principal_of(conf, principal, sizeof(principal));
    conf_value(conf, "bootstrap.servers", brokers, sizeof(brokers));
    /* Describe goes with every Read and Write: the clients look the
     * resource up before using it. */
    const char *describe = strcmp(operation, "Describe") == 0 ? "" : " --operation Describe";
    snprintf(err, errlen,
             "not authorized: %s may not %s %s '%s%s'; an administrator grants it with: "
             "kafka-acls.sh --bootstrap-server %s --add --allow-principal %s --operation %s%s "
             "--%s %s%s",
             principal, operation, resource_type, resource, prefixed ? "*" : "", brokers, principal,
             operation, describe, resource_type, resource,
             prefixed ? " --resource-pattern-type prefixed" : "");
    return EX_NOPERM;
}
