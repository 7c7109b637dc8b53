/* Private helpers shared by the envelope code and the processing rules: strict
 * UTF-8, one-line quoting of untrusted text for reasons, and JSON integers. */
#ifndef ORDERFLOW_ENVELOPE_TEXT_H
#define ORDERFLOW_ENVELOPE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* liborderflow is a shared library: keep private helpers out of its ABI. */
#define OF_HIDDEN __attribute__((visibility("hidden")))

/* 1 when s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), else 0. Stricter than yajl, which lets
 * overlong forms and encoded surrogates through. */
OF_HIDDEN int of_utf8_valid(const unsigned char *s, size_t n);

/* Writes s[0..n) to out for use inside a one-line reason: printable ASCII
 * as is, every other byte (and the quote and backslash) as \xNN, cut with
 * "..." so that at most max_out characters are written. Always NUL-terminates
 * (out has max_out + 1 bytes). Returns the length written. Untrusted text goes
 * through this so reasons stay one line of ASCII, fit their buffers, and stay
 * valid UTF-8 whatever is cut. */
OF_HIDDEN size_t of_quote(char *out, size_t max_out, const char *s, size_t n);

typedef enum of_int_parse {
    OF_INT_OK = 0,
    OF_INT_NOT_INTEGER, /* a fraction or an exponent */
    OF_INT_RANGE,       /* an integer outside int64 */
} of_int_parse;

/* Parses a JSON number token (as yajl validated it) that must be an integer. */
OF_HIDDEN of_int_parse of_parse_int64(const char *s, size_t n, int64_t *out);

#endif
