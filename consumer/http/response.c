/* The status table (docs/handlers.md, "The HTTP handler"). Where the table
 * says nothing: a 2xx body that is not a JSON object dead-letters here (the
 * reason then names HTTP); 401, 403, 407, every 1xx and 3xx (redirects are
 * not followed) and statuses outside 100..599 retry, as the fault is the
 * deployment's (a credential, an address), not the event's, and nothing is
 * lost while it is fixed; every other 4xx dead-letters, as the table's
 * 400 does. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "response.h"

const char *http_outcome_name(http_outcome outcome)
{
    static const char *const names[HTTP_OUTCOMES] = {"success", "dead_letter", "retry", "timeout",
                                                     "refused", "reset",       "error"};
    return outcome < HTTP_OUTCOMES ? names[outcome] : "error";
}

void http_excerpt(const char *body, size_t len, char *out, size_t outlen)
{
    if (outlen == 0) return;
    size_t o = 0;
    if (len > HTTP_BODY_EXCERPT) len = HTTP_BODY_EXCERPT;
    for (size_t i = 0; body && i < len; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c >= 0x20 && c <= 0x7e) {
            if (o + 2 > outlen) break;
            out[o++] = (char)c;
        } else {
            if (o + 5 > outlen) break;
            snprintf(out + o, 5, "\\x%02x", c);
            o += 4;
        }
    }
    out[o] = '\0';
}

long http_retry_after_ms(const char *value, int64_t now_unix_s)
{
    if (!value) return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        long seconds = 0;
        const char *p = value;
        for (; isdigit((unsigned char)*p); p++)
            if (seconds < 100000000) seconds = seconds * 10 + (*p - '0');
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p) return -1;
        return seconds * 1000;
    }
    time_t when = curl_getdate(value, NULL);
    if (when == (time_t)-1) return -1;
    int64_t delta = (int64_t)when - now_unix_s;
    if (delta <= 0) return 0;
    if (delta > 100000000) delta = 100000000;
    return (long)delta * 1000;
}

static void with_excerpt(http_classified *out, long status, const char *prefix, const char *body,
                         size_t len)
{
    char excerpt[4 * HTTP_BODY_EXCERPT + 1];
    http_excerpt(body, len, excerpt, sizeof(excerpt));
    if (*excerpt)
        snprintf(out->reason, sizeof(out->reason), "HTTP %ld: %s%s", status, prefix, excerpt);
    else if (*prefix)
        snprintf(out->reason, sizeof(out->reason), "HTTP %ld: %.*s", status,
                 (int)strcspn(prefix, ":"), prefix);
    else
        snprintf(out->reason, sizeof(out->reason), "HTTP %ld", status);
}

static int dead_letters_now(long status)
{
    return status >= 400 && status <= 499 && status != 401 && status != 403 && status != 407 &&
           status != 408 && status != 409 && status != 425 && status != 429;
}

static void classify_transport(const http_result *r, http_classified *out)
{
    const char *detail = r->curl_error && *r->curl_error
                             ? r->curl_error
                             : curl_easy_strerror((CURLcode)r->curl_code);
    out->action = HTTP_ACTION_RETRY;
    switch ((CURLcode)r->curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
        out->outcome = HTTP_OUTCOME_TIMEOUT;
        snprintf(out->reason, sizeof(out->reason),
                 "timeout: no complete answer within handler.timeout_ms = %ld ms", r->timeout_ms);
        return;
    case CURLE_COULDNT_CONNECT:
        out->outcome = HTTP_OUTCOME_REFUSED;
        if (r->os_errno)
            snprintf(out->reason, sizeof(out->reason), "connection refused: %s (%s)", detail,
                     strerror(r->os_errno));
        else
            snprintf(out->reason, sizeof(out->reason), "connection refused: %s", detail);
        return;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        out->outcome = HTTP_OUTCOME_RESET;
        if (r->os_errno)
            snprintf(out->reason, sizeof(out->reason), "connection reset: %s (%s)", detail,
                     strerror(r->os_errno));
        else
            snprintf(out->reason, sizeof(out->reason), "connection reset: %s", detail);
        return;
    case CURLE_WRITE_ERROR:
        if (r->body_over_limit) {
            out->action = HTTP_ACTION_DEAD_LETTER;
            out->outcome = HTTP_OUTCOME_DEAD_LETTER;
            snprintf(out->reason, sizeof(out->reason),
                     "HTTP %ld: the body is longer than handler.max_output_bytes = %zu bytes",
                     r->status, r->max_output_bytes);
            return;
        }
        break;
    default:
        break;
    }
    out->outcome = HTTP_OUTCOME_ERROR;
    snprintf(out->reason, sizeof(out->reason), "%s: %s", curl_easy_strerror((CURLcode)r->curl_code),
             detail);
}

void http_classify(const http_result *r, http_classified *out)
{
    out->data = NULL;
    out->data_len = 0;
    out->retry_after_ms = -1;
    out->reason[0] = '\0';
    if (r->curl_code != CURLE_OK) {
        classify_transport(r, out);
        return;
    }
    long status = r->status;
    if (status >= 200 && status <= 299) {
        if (r->body_over_limit) {
            out->action = HTTP_ACTION_DEAD_LETTER;
            out->outcome = HTTP_OUTCOME_DEAD_LETTER;
            snprintf(out->reason, sizeof(out->reason),
                     "HTTP %ld: the body is longer than handler.max_output_bytes = %zu bytes",
                     status, r->max_output_bytes);
            return;
        }
        size_t i = 0;
        while (i < r->body_len && (r->body[i] == ' ' || r->body[i] == '\t' || r->body[i] == '\r' ||
                                   r->body[i] == '\n'))
            i++;
        if (status == 204 || i == r->body_len) {
            out->action = HTTP_ACTION_EMIT;
            out->outcome = HTTP_OUTCOME_SUCCESS;
            out->data = "{}";
            out->data_len = 2;
            return;
        }
        if (r->body[i] != '{') {
            out->action = HTTP_ACTION_DEAD_LETTER;
            out->outcome = HTTP_OUTCOME_DEAD_LETTER;
            with_excerpt(out, status, "the body is not a JSON object: ", r->body, r->body_len);
            return;
        }
        /* The rest (well-formed JSON, a data_processed data object) is the
         * processor's validation, as for a plugin's output. */
        out->action = HTTP_ACTION_EMIT;
        out->outcome = HTTP_OUTCOME_SUCCESS;
        out->data = r->body;
        out->data_len = r->body_len;
        return;
    }
    with_excerpt(out, status, "", r->body, r->body_len);
    if (dead_letters_now(status)) {
        out->action = HTTP_ACTION_DEAD_LETTER;
        out->outcome = HTTP_OUTCOME_DEAD_LETTER;
        return;
    }
    out->action = HTTP_ACTION_RETRY;
    out->outcome = HTTP_OUTCOME_RETRY;
    out->retry_after_ms = http_retry_after_ms(r->retry_after, r->now_unix_s);
}
