/* libFuzzer target: a Kafka record value through the processor's path —
 * decode and validate the envelope, process an order_created — plus a round
 * trip: whatever the decoder accepts, the encoder must write back, and the
 * decoder must accept that again with the same attributes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <orderflow/envelope.h>
#include <orderflow/processing.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(int ok, const char *what, const char *why)
{
    if (ok) return;
    fprintf(stderr, "fuzz invariant broken: %s: %s\n", what, why);
    abort();
}

static void check_round_trip(of_decoder *dec, of_encoder *enc, const of_event *ev)
{
    char why[256];
    const char *out;
    size_t out_len;
    must(of_encode_event(enc, ev, &out, &out_len, why, sizeof(why)) == 0,
         "an accepted event encodes", why);
    of_event again;
    /* out lives in enc, again's views in dec: both stay valid below. */
    must(of_decode_event(dec, out, out_len, &again, why, sizeof(why)) == OF_OK,
         "an encoded event decodes", why);
    must(again.type == ev->type && of_str_eq(again.idempotencykey, ev->idempotencykey) &&
             of_str_eq(again.subject, ev->subject) && of_str_eq(again.id, ev->id),
         "a round trip keeps the attributes", "type, key, subject or id changed");
    /* Trace context the decoder kept is valid: written and read back as is. */
    must(of_str_eq(again.traceparent, ev->traceparent) &&
             of_str_eq(again.tracestate, ev->tracestate) && again.trace_ignored == 0,
         "a round trip keeps the trace context", "traceparent or tracestate changed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static of_decoder *dec, *dec2;
    static of_encoder *enc;
    if (!dec) {
        dec = of_decoder_new(NULL);
        dec2 = of_decoder_new(NULL);
        enc = of_encoder_new();
        if (!dec || !dec2 || !enc) abort();
    }
    of_event ev;
    char why[256];
    of_reject rc = of_decode_event(dec, data, size, &ev, why, sizeof(why));
    must(rc == OF_OK ? why[0] == '\0' : why[0] != '\0', "every verdict has its reason text",
         of_reject_name(rc));
    if (rc != OF_OK) return 0;
    if (ev.type == OF_EVENT_ORDER_CREATED) {
        of_processed result;
        char reason[OF_REASON_MAX];
        of_process_order(&ev.data.order, &result, reason);
        must(result.status == OF_STATUS_ACCEPTED || result.reason.len > 0,
             "a rejection has a reason", "empty reason");
    }
    check_round_trip(dec2, enc, &ev);
    return 0;
}
