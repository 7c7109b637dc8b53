/* "tax": the built-in rules, plus the sales tax of the order's currency,
 * from the handler group of the configuration (docs/handlers.md):
 *
 *   consumer: { handler = "/usr/lib/orderflow/handlers/tax.so"; };
 *   handler: { EUR = 19.0; GBP = 20.0; USD = 0; unknown_currency = "dead_letter"; };
 *
 * Each three-letter setting is a currency's rate in percent (0 to 100, up
 * to two decimals); unknown_currency says what happens to an order in a
 * currency without one: "dead_letter" (default) or "reject". An accepted
 * order's data gets three members after the documented ones:
 *
 *   "tax_rate_bp":1900,"tax_cents":760,"total_with_tax_cents":4758
 *
 * tax_cents is total_cents * rate, rounded half up to a cent. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/handler.h>
#include <orderflow/processing.h>

#define MAX_RATES 64

typedef struct rate {
    char currency[4];
    int64_t basis_points; /* 19.00 % = 1900 */
} rate;

typedef struct tax_state {
    rate rates[MAX_RATES];
    size_t count;
    int reject_unknown; /* unknown_currency = "reject" */
    char reason[OF_REASON_MAX];
} tax_state;

/* "19", "19.5", "7.25" -> basis points; -1 when not a percentage 0..100
 * with at most two decimals. */
static int64_t parse_percent(const char *text)
{
    int64_t whole = 0, fraction = 0;
    int digits = 0, decimals = 0;
    const char *c = text;
    for (; isdigit((unsigned char)*c) && digits < 4; c++, digits++)
        whole = whole * 10 + (*c - '0');
    if (!digits) return -1;
    if (*c == '.') {
        for (c++; isdigit((unsigned char)*c); c++) {
            if (decimals == 2) {
                if (*c != '0') return -1; /* "19.000000000000000" from a libconfig float */
                continue;
            }
            fraction = fraction * 10 + (*c - '0');
            decimals++;
        }
    }
    if (*c) return -1;
    for (; decimals < 2; decimals++)
        fraction *= 10;
    int64_t bp = whole * 100 + fraction;
    return bp <= 10000 ? bp : -1;
}

static int is_currency(const char *key)
{
    return strlen(key) == 3 && isupper((unsigned char)key[0]) && isupper((unsigned char)key[1]) &&
           isupper((unsigned char)key[2]);
}

static int tax_open(const of_handler_config *config, void **state, char *err, size_t errlen)
{
    tax_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; config && i < config->count; i++) {
        const char *key = config->keys[i], *value = config->values[i];
        if (strcmp(key, "unknown_currency") == 0) {
            if (strcmp(value, "reject") == 0) {
                st->reject_unknown = 1;
            } else if (strcmp(value, "dead_letter") != 0) {
                snprintf(err, errlen,
                         "unknown_currency must be \"dead_letter\" or \"reject\", got \"%s\"",
                         value);
                free(st);
                return -1;
            }
            continue;
        }
        if (!is_currency(key)) {
            snprintf(err, errlen,
                     "unknown setting '%s' (expected a currency such as EUR, or "
                     "unknown_currency)",
                     key);
            free(st);
            return -1;
        }
        int64_t bp = parse_percent(value);
        if (bp < 0 || st->count == MAX_RATES) {
            snprintf(err, errlen,
                     bp < 0 ? "rate of %s must be a percentage from 0 to 100 with at most two "
                              "decimals, got \"%s\""
                            : "more than 64 currencies (%s = %s)",
                     key, value);
            free(st);
            return -1;
        }
        memcpy(st->rates[st->count].currency, key, 4);
        st->rates[st->count].basis_points = bp;
        st->count++;
    }
    if (st->count == 0) {
        snprintf(err, errlen, "no currency rates configured (handler group, e.g. EUR = 19.0)");
        free(st);
        return -1;
    }
    *state = st;
    return 0;
}

static const rate *find_rate(const tax_state *st, of_str currency)
{
    if (currency.len != 3) return NULL;
    for (size_t i = 0; i < st->count; i++)
        if (memcmp(st->rates[i].currency, currency.ptr, 3) == 0) return &st->rates[i];
    return NULL;
}

static of_handler_verdict tax_handle(void *state, const of_handler_event *event,
                                     of_handler_output *out)
{
    tax_state *st = state;
    of_processed result;
    of_process_order(&event->event->data.order, &result, st->reason);
    if (result.status == OF_STATUS_REJECTED) {
        of_handler_write_processed(out, &result);
        return OF_HANDLER_REJECT;
    }
    const rate *r = find_rate(st, result.currency);
    if (!r) {
        snprintf(st->reason, sizeof(st->reason), "no tax rate for currency %.3s",
                 result.currency.ptr);
        if (!st->reject_unknown) {
            of_handler_set_reason(out, st->reason);
            return OF_HANDLER_DEAD_LETTER;
        }
        result.status = OF_STATUS_REJECTED;
        result.reason = of_str_c(st->reason);
        of_handler_write_processed(out, &result);
        return OF_HANDLER_REJECT;
    }
    int64_t scaled, tax, total;
    if (__builtin_mul_overflow(result.total_cents, r->basis_points, &scaled) ||
        __builtin_add_overflow(scaled / 10000, (scaled % 10000) >= 5000, &tax) ||
        __builtin_add_overflow(result.total_cents, tax, &total)) {
        snprintf(st->reason, sizeof(st->reason), "tax on %lld cents overflows int64",
                 (long long)result.total_cents);
        result.status = OF_STATUS_REJECTED;
        result.reason = of_str_c(st->reason);
        of_handler_write_processed(out, &result);
        return OF_HANDLER_REJECT;
    }
    of_handler_write_processed(out, &result);
    of_handler_write_int(out, "tax_rate_bp", r->basis_points);
    of_handler_write_int(out, "tax_cents", tax);
    of_handler_write_int(out, "total_with_tax_cents", total);
    return OF_HANDLER_EMIT;
}

static void tax_close(void *state)
{
    free(state);
}

static const of_handler descriptor = {
    .abi_version = OF_HANDLER_ABI_VERSION,
    .name = "tax",
    .version = "1.0.0",
    .open = tax_open,
    .handle = tax_handle,
    .close = tax_close,
};

OF_HANDLER_DEFINE_ENTRY(descriptor)
