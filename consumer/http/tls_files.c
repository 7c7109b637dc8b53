/* Reading the PEM files the way curl's OpenSSL backend will, once, so that
 * a mistake is one clear line at start. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls_files.h"

/* OpenSSL asks for a password through this; NULL userdata: no password
 * (never a prompt on the terminal). */
static int give_password(char *buf, int size, int rwflag, void *userdata)
{
    (void)rwflag;
    const char *password = userdata;
    if (!password) return -1;
    size_t len = strlen(password);
    if (len > (size_t)size) return -1;
    memcpy(buf, password, len);
    return (int)len;
}

static FILE *open_file(const char *key, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) snprintf(err, errlen, "'handler.%s' %s: cannot read: %s", key, path, strerror(errno));
    return f;
}

static X509 *read_cert(const char *key, const char *path, char *err, size_t errlen)
{
    FILE *f = open_file(key, path, err, errlen);
    if (!f) return NULL;
    X509 *cert = PEM_read_X509(f, NULL, give_password, NULL);
    fclose(f);
    ERR_clear_error();
    if (!cert) snprintf(err, errlen, "'handler.%s' %s: no PEM certificate in it", key, path);
    return cert;
}

int http_tls_files_check(const http_settings *s, char *err, size_t errlen)
{
    int rc = -1;
    X509 *ca = NULL, *cert = NULL;
    EVP_PKEY *pkey = NULL;
    if (s->ca_location && !(ca = read_cert("ca_location", s->ca_location, err, errlen))) goto out;
    if (s->cert_location && !(cert = read_cert("cert_location", s->cert_location, err, errlen)))
        goto out;
    if (s->key_location) {
        FILE *f = open_file("key_location", s->key_location, err, errlen);
        if (!f) goto out;
        pkey = PEM_read_PrivateKey(f, NULL, give_password, s->key_password);
        fclose(f);
        ERR_clear_error();
        if (!pkey) {
            snprintf(err, errlen,
                     "'handler.key_location' %s: cannot read the private key (not PEM, or "
                     "encrypted and the password from handler.key_password_file or "
                     "ORDERFLOW_HTTP_KEY_PASSWORD is %s)",
                     s->key_location, s->key_password ? "wrong" : "missing");
            goto out;
        }
        if (cert && X509_check_private_key(cert, pkey) != 1) {
            ERR_clear_error();
            snprintf(err, errlen,
                     "'handler.key_location' %s is not the key of 'handler.cert_location' %s",
                     s->key_location, s->cert_location);
            goto out;
        }
    }
    rc = 0;
out:
    X509_free(ca);
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return rc;
}
