#include <inttypes.h>
#include <string.h>

#include "cli/log.h"

#include "report.h"

int reporter_init(reporter *r, processor_output output, FILE *out)
{
    *r = (reporter){.output = output, .out = out};
    if (output != PROCESSOR_OUTPUT_JSON) return 0;
    r->json = yajl_gen_alloc(NULL);
    return r->json ? 0 : -1;
}

void reporter_close(reporter *r)
{
    if (r->json) yajl_gen_free(r->json);
    r->json = NULL;
}

static void human_line(FILE *f, const char *outcome, int32_t partition, int64_t offset,
                       of_str order_id, const of_processed *result, const char *reason)
{
    fprintf(f, "%-13s p%" PRId32 "@%" PRId64 "  %.*s", outcome, partition, offset,
            (int)(order_id.len > 64 ? 64 : order_id.len), order_id.ptr ? order_id.ptr : "");
    if (result && result->status == OF_STATUS_ACCEPTED)
        fprintf(f, "  %" PRId64 ".%02" PRId64 " %.*s, %" PRId64 " item%s",
                result->total_cents / 100, result->total_cents % 100, (int)result->currency.len,
                result->currency.ptr, result->item_count, result->item_count == 1 ? "" : "s");
    if (reason) fprintf(f, "  (%s)", reason);
    fputc('\n', f);
}

static void json_string(yajl_gen g, const char *s, size_t len)
{
    yajl_gen_string(g, (const unsigned char *)s, len);
}

static void json_line(yajl_gen g, FILE *f, const char *outcome, int32_t partition, int64_t offset,
                      of_str order_id, const of_processed *result, const char *reason)
{
    yajl_gen_clear(g);
    yajl_gen_reset(g, NULL);
    yajl_gen_map_open(g);
    json_string(g, "outcome", 7);
    json_string(g, outcome, strlen(outcome));
    json_string(g, "partition", 9);
    yajl_gen_integer(g, partition);
    json_string(g, "offset", 6);
    yajl_gen_integer(g, offset);
    if (order_id.ptr) {
        json_string(g, "order_id", 8);
        json_string(g, order_id.ptr, order_id.len);
    }
    if (result && result->status == OF_STATUS_ACCEPTED) {
        json_string(g, "total_cents", 11);
        yajl_gen_integer(g, result->total_cents);
    }
    if (reason) {
        json_string(g, "reason", 6);
        json_string(g, reason, strlen(reason));
    }
    yajl_gen_map_close(g);
    const unsigned char *buf;
    size_t len;
    if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
        fwrite(buf, 1, len, f);
        fputc('\n', f);
    }
}

void report_event(reporter *r, const char *outcome, int32_t partition, int64_t offset,
                  of_str order_id, const of_processed *result, const char *reason)
{
    if (!r->out) return;
    switch (r->output) {
    case PROCESSOR_OUTPUT_NONE:
        return;
    case PROCESSOR_OUTPUT_HUMAN:
        human_line(r->out, outcome, partition, offset, order_id, result, reason);
        return;
    case PROCESSOR_OUTPUT_JSON:
        json_line(r->json, r->out, outcome, partition, offset, order_id, result, reason);
        return;
    }
}

void report_counters(FILE *out, const processor_counters *c, int in_flight)
{
    ofc_log(out,
            "consumed %" PRIu64 ", accepted %" PRIu64 ", rejected %" PRIu64 ", duplicates %" PRIu64
            ", dead-lettered %" PRIu64 ", trace invalid %" PRIu64 ", delivered %" PRIu64
            ", in flight %d",
            c->consumed, c->accepted, c->rejected, c->duplicates, c->dead_lettered,
            c->trace_invalid, c->delivered, in_flight);
    /* Only with an asynchronous handler, whose data is neither accepted nor
     * rejected, and with a handler that retries: the line stays as it was
     * otherwise. */
    if (c->emitted) ofc_log(out, "handler data emitted %" PRIu64, c->emitted);
    if (c->retried) ofc_log(out, "handler answered retry %" PRIu64 " times", c->retried);
}
