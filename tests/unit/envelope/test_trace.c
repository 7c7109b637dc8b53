/* W3C Trace Context: traceparent parsing (the W3C test vectors), formatting,
 * new and continued spans, tracestate bounds, and the envelope's traceparent
 * and tracestate attributes (written when present, dropped and flagged when
 * invalid, never a reject). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <orderflow/envelope.h>
#include <orderflow/ids.h>
#include <orderflow/trace.h>

#include "helpers.h"

#define TP_VALID "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

START_TEST(traceparent_valid_vectors)
{
    static const char *const valid[] = {
        TP_VALID,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff", /* unknown flags kept */
        /* A later version: at least 55 characters, more after a '-'. */
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-the-future-holds",
    };
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        of_traceparent tp;
        ck_assert_msg(of_traceparent_parse(of_str_c(valid[i]), &tp) == 0, "refused %s", valid[i]);
    }
    of_traceparent tp;
    ck_assert_int_eq(of_traceparent_parse(OF_STR(TP_VALID), &tp), 0);
    ck_assert_uint_eq(tp.version, 0);
    ck_assert_uint_eq(tp.trace_id[0], 0x0a);
    ck_assert_uint_eq(tp.trace_id[15], 0x9c);
    ck_assert_uint_eq(tp.parent_id[0], 0xb7);
    ck_assert_uint_eq(tp.parent_id[7], 0x31);
    ck_assert_uint_eq(tp.flags, 0x01);
    char out[OF_TRACEPARENT_LEN + 1];
    of_traceparent_format(&tp, out);
    ck_assert_str_eq(out, TP_VALID);
}
END_TEST

START_TEST(traceparent_invalid_vectors)
{
    static const char *const invalid[] = {
        "",
        "00",
        /* version ff is forbidden; version 00 is exactly 55 characters */
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        /* all-zero ids */
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        /* uppercase hex, non-hex, wrong separators, field lengths */
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01",
        "0A-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0X",
        "00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01",
        "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c_b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331_01",
        "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01ab",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b71692033-0101",
        " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        /* a later version still needs a '-' before anything appended */
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        ck_assert_msg(of_traceparent_parse(of_str_c(invalid[i]), NULL) == -1, "accepted '%s'",
                      invalid[i]);
    ck_assert_int_eq(of_traceparent_parse((of_str){NULL, 0}, NULL), -1);
    /* A NUL inside is not a hex digit. */
    of_str with_nul = {"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0\0", 55};
    ck_assert_int_eq(of_traceparent_parse(with_nul, NULL), -1);
}
END_TEST

START_TEST(trace_start_and_continue)
{
    of_idgen gen;
    of_idgen_seed(&gen, 42);
    of_traceparent a, b, child;
    of_trace_start(&gen, &a);
    of_trace_start(&gen, &b);
    ck_assert_uint_eq(a.version, 0);
    ck_assert_uint_eq(a.flags, OF_TRACE_FLAG_SAMPLED);
    ck_assert_mem_ne(a.trace_id, b.trace_id, sizeof(a.trace_id));
    char text[OF_TRACEPARENT_LEN + 1];
    of_traceparent_format(&a, text);
    ck_assert_uint_eq(strlen(text), OF_TRACEPARENT_LEN);
    ck_assert_int_eq(of_traceparent_parse(of_str_c(text), NULL), 0);

    /* Same trace, same flags, a new span. */
    ck_assert_int_eq(of_traceparent_parse(OF_STR(TP_VALID), &b), 0);
    of_trace_continue(&gen, &b, &child);
    ck_assert_mem_eq(child.trace_id, b.trace_id, sizeof(b.trace_id));
    ck_assert_mem_ne(child.parent_id, b.parent_id, sizeof(b.parent_id));
    ck_assert_uint_eq(child.flags, 0x01);
    of_traceparent_format(&child, text);
    ck_assert_int_eq(strncmp(text, "00-0af7651916cd43dd8448eb211c80319c-", 36), 0);
    ck_assert_int_eq(strcmp(text + 52, "-01"), 0);

    /* Flags are kept (unsampled stays unsampled); a later version is
     * continued as 00; in place works. */
    ck_assert_int_eq(
        of_traceparent_parse(
            OF_STR("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00-future"), &b),
        0);
    of_traceparent before = b;
    of_trace_continue(&gen, &b, &b);
    ck_assert_uint_eq(b.version, 0);
    ck_assert_uint_eq(b.flags, 0);
    ck_assert_mem_eq(b.trace_id, before.trace_id, sizeof(b.trace_id));
    ck_assert_mem_ne(b.parent_id, before.parent_id, sizeof(b.parent_id));

    /* Seeded generators repeat: the ids come from gen and nothing else. */
    of_idgen g1, g2;
    of_idgen_seed(&g1, 7);
    of_idgen_seed(&g2, 7);
    of_trace_start(&g1, &a);
    of_trace_start(&g2, &b);
    ck_assert_mem_eq(&a, &b, sizeof(a));
}
END_TEST

START_TEST(tracestate_bounds)
{
    ck_assert_int_eq(of_tracestate_valid(OF_STR("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")), 1);
    ck_assert_int_eq(of_tracestate_valid(OF_STR("")), 0);
    ck_assert_int_eq(of_tracestate_valid((of_str){NULL, 0}), 0);
    ck_assert_int_eq(of_tracestate_valid(OF_STR("a=\x01")), 0);
    ck_assert_int_eq(of_tracestate_valid(OF_STR("a=\xc3\xa9")), 0);
    char big[OF_TRACESTATE_MAX + 2];
    memset(big, 'a', sizeof(big));
    ck_assert_int_eq(of_tracestate_valid((of_str){big, OF_TRACESTATE_MAX}), 1);
    ck_assert_int_eq(of_tracestate_valid((of_str){big, OF_TRACESTATE_MAX + 1}), 0);
}
END_TEST

/* of_sample_order_created with trace attributes inserted before schemaversion. */
static char *with_trace(const char *attrs)
{
    char to[2048];
    snprintf(to, sizeof(to), "\"subject\":\"A-1001\",%s\"schemaversion\":1", attrs);
    return of_subst(of_sample_order_created, "\"subject\":\"A-1001\",\"schemaversion\":1", to);
}

START_TEST(envelope_round_trip_with_trace)
{
    of_decoder *dec = of_decoder_new(NULL);
    of_encoder *enc = of_encoder_new();
    char *text = with_trace("\"traceparent\":\"" TP_VALID "\",\"tracestate\":\"rojo=1,congo=2\",");
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_event(dec, text, strlen(text), &ev, why, sizeof(why)), OF_OK);
    ck_assert_uint_eq(ev.trace_ignored, 0);
    ck_assert_str_eq(ev.traceparent.ptr, TP_VALID);
    ck_assert_str_eq(ev.tracestate.ptr, "rojo=1,congo=2");
    /* The encoder writes them after causationid, in the order above. */
    const char *out;
    size_t len;
    ck_assert_int_eq(of_encode_event(enc, &ev, &out, &len, why, sizeof(why)), 0);
    ck_assert_str_eq(out, text);
    free(text);

    /* Without them nothing changes: the bytes are the old ones. */
    ck_assert_int_eq(of_decode_event(dec, of_sample_order_created, strlen(of_sample_order_created),
                                     &ev, why, sizeof(why)),
                     OF_OK);
    ck_assert_ptr_null(ev.traceparent.ptr);
    ck_assert_ptr_null(ev.tracestate.ptr);
    ck_assert_int_eq(of_encode_event(enc, &ev, &out, &len, why, sizeof(why)), 0);
    ck_assert_str_eq(out, of_sample_order_created);
    of_encoder_free(enc);
    of_decoder_free(dec);
}
END_TEST

START_TEST(invalid_trace_context_is_ignored_and_flagged)
{
    static const struct {
        const char *attrs;
        unsigned ignored;
        int traceparent_kept;
    } cases[] = {
        {"\"traceparent\":\"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01\",",
         OF_TRACE_IGNORED_TRACEPARENT, 0},
        {"\"traceparent\":\"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\","
         "\"tracestate\":\"a=1\",",
         OF_TRACE_IGNORED_TRACEPARENT | OF_TRACE_IGNORED_TRACESTATE, 0},
        {"\"traceparent\":42,", OF_TRACE_IGNORED_TRACEPARENT, 0},
        {"\"traceparent\":{\"a\":1},", OF_TRACE_IGNORED_TRACEPARENT, 0},
        {"\"traceparent\":\"x\\u0000\",", OF_TRACE_IGNORED_TRACEPARENT, 0},
        {"\"traceparent\":\"" TP_VALID "\",\"traceparent\":\"" TP_VALID "\",",
         OF_TRACE_IGNORED_TRACEPARENT, 0},
        {"\"tracestate\":\"a=1\",", OF_TRACE_IGNORED_TRACESTATE, 0},
        {"\"traceparent\":\"" TP_VALID "\",\"tracestate\":[\"a=1\"],", OF_TRACE_IGNORED_TRACESTATE,
         1},
        {"\"traceparent\":\"" TP_VALID "\",\"tracestate\":\"a=\\u00e9\",",
         OF_TRACE_IGNORED_TRACESTATE, 1},
        /* null and "" mean none: nothing to count */
        {"\"traceparent\":null,\"tracestate\":null,", 0, 0},
        {"\"traceparent\":\"" TP_VALID "\",\"tracestate\":\"\",", 0, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = with_trace(cases[i].attrs);
        of_event ev;
        char why[256];
        of_reject rc = of_decode_text(text, &ev, why);
        ck_assert_msg(rc == OF_OK, "case %zu refused: %s", i, why);
        ck_assert_msg(ev.trace_ignored == cases[i].ignored, "case %zu: ignored %u, want %u", i,
                      ev.trace_ignored, cases[i].ignored);
        ck_assert_int_eq(ev.traceparent.ptr != NULL, cases[i].traceparent_kept);
        ck_assert_ptr_null(ev.tracestate.ptr);
        free(text);
    }
    /* A tracestate over the bound is dropped with its traceparent kept. */
    char attrs[1024];
    int n = snprintf(attrs, sizeof(attrs), "\"traceparent\":\"" TP_VALID "\",\"tracestate\":\"");
    memset(attrs + n, 'a', OF_TRACESTATE_MAX + 1);
    strcpy(attrs + n + OF_TRACESTATE_MAX + 1, "\",");
    char *text = with_trace(attrs);
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_text(text, &ev, why), OF_OK);
    ck_assert_uint_eq(ev.trace_ignored, OF_TRACE_IGNORED_TRACESTATE);
    free(text);
}
END_TEST

START_TEST(encoder_refuses_bad_trace_context)
{
    of_decoder *dec = of_decoder_new(NULL);
    of_encoder *enc = of_encoder_new();
    of_event ev;
    char why[256];
    ck_assert_int_eq(of_decode_event(dec, of_sample_order_created, strlen(of_sample_order_created),
                                     &ev, why, sizeof(why)),
                     OF_OK);
    const char *out;
    size_t len;
    ev.traceparent = OF_STR("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01");
    ck_assert_int_eq(of_encode_event(enc, &ev, &out, &len, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "traceparent is not a W3C traceparent");
    ev.traceparent = (of_str){NULL, 0};
    ev.tracestate = OF_STR("a=1");
    ck_assert_int_eq(of_encode_event(enc, &ev, &out, &len, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "tracestate without a traceparent");
    ev.traceparent = OF_STR(TP_VALID);
    ev.tracestate = OF_STR("a=\n");
    ck_assert_int_eq(of_encode_event(enc, &ev, &out, &len, why, sizeof(why)), -1);
    ck_assert_str_eq(why, "tracestate is not 1..512 bytes of printable ASCII");
    of_encoder_free(enc);
    of_decoder_free(dec);
}
END_TEST

Suite *of_test_suite(void)
{
    Suite *s = suite_create("envelope-trace");
    TCase *tc = tcase_create("trace");
    tcase_set_timeout(tc, 60);
    check_tcase_add_test(tc, traceparent_valid_vectors);
    check_tcase_add_test(tc, traceparent_invalid_vectors);
    check_tcase_add_test(tc, trace_start_and_continue);
    check_tcase_add_test(tc, tracestate_bounds);
    check_tcase_add_test(tc, envelope_round_trip_with_trace);
    check_tcase_add_test(tc, invalid_trace_context_is_ignored_and_flagged);
    check_tcase_add_test(tc, encoder_refuses_bad_trace_context);
    suite_add_tcase(s, tc);
    return s;
}
