/* Shared fixtures for the envelope unit tests. */
#ifndef ORDERFLOW_TEST_ENVELOPE_HELPERS_H
#define ORDERFLOW_TEST_ENVELOPE_HELPERS_H

#include <stddef.h>

#include <check.h>

#include <orderflow/envelope.h>

#include "../../check_run.h"

/* Each test file defines its suite; main.c runs it. */
Suite *of_test_suite(void);

/* A valid order_created envelope (one item, SKU-1 x2 at 1999) and a valid
 * data_processed one (accepted, correlation and causation ids set). */
extern const char of_sample_order_created[];
extern const char of_sample_data_processed[];
extern const char of_sample_order[]; /* a bare order: the producer's input line */

/* base with its one occurrence of from replaced by to (fails the test if
 * from does not occur exactly once). Free the result with free(). */
char *of_subst(const char *base, const char *from, const char *to);

/* Decodes s (strlen bytes) with a fresh default-limits decoder, freed before
 * returning: only the code, the reason in why (256 bytes) and ev's scalars
 * are usable afterwards, not its string views. */
of_reject of_decode_text(const char *s, of_event *ev, char *why);
/* The same with the given limits and length. */
of_reject of_decode_with(const of_limits *limits, const void *buf, size_t len, of_event *ev,
                         char *why);

/* Asserts that decoding s is rejected with code and a reason containing part. */
#define OF_ASSERT_REJECT(s, code, part)                                                            \
    do {                                                                                           \
        of_event ev_;                                                                              \
        char why_[256];                                                                            \
        of_reject rc_ = of_decode_text((s), &ev_, why_);                                           \
        ck_assert_msg(rc_ == (code), "expected %s, got %s (%s)", of_reject_name(code),             \
                      of_reject_name(rc_), why_);                                                  \
        ck_assert_msg(strstr(why_, (part)) != NULL, "reason '%s' lacks '%s'", why_, (part));       \
        ck_assert_ptr_null(strchr(why_, '\n'));                                                    \
    } while (0)

#endif
