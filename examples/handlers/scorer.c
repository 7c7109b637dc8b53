/* "scorer": a fraud check. Each order gets a risk score from a few signals;
 * an order scoring at or over the threshold is dead-lettered for a person
 * to look at (orderflow-consumer redrive puts it back once cleared), the
 * others get the built-in rules' data plus their score:
 *
 *   "risk_score":40,"risk_signals":["quantity"]
 *
 * Settings (the configuration's handler group or --handler-arg KEY=VALUE):
 *   threshold          score that dead-letters (default 80)
 *   max_quantity       an item quantity over this scores 40 (default 100)
 *   high_value_cents   an order total over this scores 50 (default 1000000)
 *   blocked_customers  comma-separated customer ids that score 100
 *   unavailable_attempts  answer retry to the first N attempts of each
 *                      event, as a scoring service that is down would
 *                      (default 0; to rehearse retries, docs/handlers.md) */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/handler.h>
#include <orderflow/processing.h>

typedef struct scorer {
    long long threshold;
    long long max_quantity;
    long long high_value_cents;
    long long unavailable_attempts;
    char *blocked; /* ",C-1,C-2," so that a lookup is one strstr of ",ID," */
    char reason[OF_REASON_MAX];
    char probe[300];
} scorer;

static int number(const of_handler_config *config, const char *key, long long fallback,
                  long long *out, char *err, size_t errlen)
{
    const char *text = of_handler_config_get(config, key);
    if (!text) {
        *out = fallback;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno || v < 0) {
        snprintf(err, errlen, "%s must be a non-negative integer, got \"%s\"", key, text);
        return -1;
    }
    *out = v;
    return 0;
}

static int scorer_open(const of_handler_config *config, void **state, char *err, size_t errlen)
{
    scorer *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; config && i < config->count; i++) {
        static const char *const known[] = {"threshold", "max_quantity", "high_value_cents",
                                            "blocked_customers", "unavailable_attempts"};
        int found = 0;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            found |= strcmp(config->keys[i], known[k]) == 0;
        if (!found) {
            snprintf(err, errlen, "unknown setting '%s'", config->keys[i]);
            free(s);
            return -1;
        }
    }
    if (number(config, "threshold", 80, &s->threshold, err, errlen) ||
        number(config, "max_quantity", 100, &s->max_quantity, err, errlen) ||
        number(config, "high_value_cents", 1000000, &s->high_value_cents, err, errlen) ||
        number(config, "unavailable_attempts", 0, &s->unavailable_attempts, err, errlen)) {
        free(s);
        return -1;
    }
    const char *blocked = of_handler_config_get(config, "blocked_customers");
    size_t n = blocked ? strlen(blocked) : 0;
    s->blocked = malloc(n + 3);
    if (!s->blocked) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return -1;
    }
    snprintf(s->blocked, n + 3, ",%s,", blocked ? blocked : "");
    *state = s;
    return 0;
}

static int blocked(scorer *s, of_str customer)
{
    if (customer.len + 3 > sizeof(s->probe) || customer.len == 0) return 0;
    snprintf(s->probe, sizeof(s->probe), ",%.*s,", (int)customer.len, customer.ptr);
    return strstr(s->blocked, s->probe) != NULL;
}

static of_handler_verdict scorer_handle(void *state, const of_handler_event *event,
                                        of_handler_output *out)
{
    scorer *s = state;
    if (event->attempt <= (unsigned long long)s->unavailable_attempts) {
        of_handler_set_reason(out, "scoring service unavailable");
        of_handler_set_retry_delay(out, 100);
        return OF_HANDLER_RETRY;
    }
    const of_order *order = &event->event->data.order;
    of_processed result;
    of_process_order(order, &result, s->reason);
    if (result.status == OF_STATUS_REJECTED) {
        of_handler_write_processed(out, &result);
        return OF_HANDLER_REJECT;
    }
    long long score = 0;
    const char *signals[3];
    size_t signal_count = 0;
    if (blocked(s, order->customer_id)) {
        score += 100;
        signals[signal_count++] = "blocked_customer";
    }
    for (size_t i = 0; i < order->item_count; i++)
        if (order->items[i].quantity > s->max_quantity) {
            score += 40;
            signals[signal_count++] = "quantity";
            break;
        }
    if (result.total_cents > s->high_value_cents) {
        score += 50;
        signals[signal_count++] = "high_value";
    }
    if (score >= s->threshold) {
        int used =
            snprintf(s->reason, sizeof(s->reason), "risk score %lld >= %lld:", score, s->threshold);
        for (size_t i = 0; i < signal_count && used > 0 && (size_t)used < sizeof(s->reason); i++)
            used += snprintf(s->reason + used, sizeof(s->reason) - (size_t)used, " %s", signals[i]);
        of_handler_set_reason(out, s->reason);
        return OF_HANDLER_DEAD_LETTER;
    }
    of_handler_write_processed(out, &result);
    of_handler_write_int(out, "risk_score", score);
    of_handler_begin_array(out, "risk_signals");
    for (size_t i = 0; i < signal_count; i++)
        of_handler_write_string(out, NULL, signals[i], strlen(signals[i]));
    of_handler_end(out);
    return OF_HANDLER_EMIT;
}

static void scorer_close(void *state)
{
    scorer *s = state;
    free(s->blocked);
    free(s);
}

static const of_handler descriptor = {
    .abi_version = OF_HANDLER_ABI_VERSION,
    .name = "scorer",
    .version = "1.0.0",
    .open = scorer_open,
    .handle = scorer_handle,
    .close = scorer_close,
};

OF_HANDLER_DEFINE_ENTRY(descriptor)
