/* The filters of orderflow-consumer redrive (docs/operations.md, "Redriving
 * dead letters"): its --since/--until times, its --offset range, and the
 * per-reason summary of what it sent. */
#ifndef OF_CONSUMER_REDRIVE_FILTERS_H
#define OF_CONSUMER_REDRIVE_FILTERS_H

#include <stddef.h>
#include <stdint.h>

/* Distinct reasons the summary lists; the rest count as "(other reasons)". */
#define REDRIVE_REASON_KINDS 32
/* Bytes of a folded reason kept, with its NUL. */
#define REDRIVE_REASON_TEXT 120

/* RFC 3339 (2026-11-30T02:00:00Z, fractions and +hh:mm offsets too) or a
 * relative time back from now_ms (-90s, -30m, -2h, -7d). Returns 0 and the
 * Unix time in ms in *out_ms, or -1 and a sentence naming option ("--since")
 * and the text in err. */
int redrive_parse_time(const char *option, const char *text, int64_t now_ms, int64_t *out_ms,
                       char *err, size_t errlen);

/* --offset FROM or FROM..TO (0 <= FROM <= TO). Returns 0 with *from and *to
 * (-1 when there is no TO), or -1 and a sentence in err. */
int redrive_parse_offset_range(const char *text, long long *from, long long *to, char *err,
                               size_t errlen);

typedef struct redrive_reason_count {
    char text[REDRIVE_REASON_TEXT];
    uint64_t count;
} redrive_reason_count;

/* Reasons counted for the summary, in the order first seen. Zero it to start. */
typedef struct redrive_reasons {
    redrive_reason_count kinds[REDRIVE_REASON_KINDS];
    size_t kind_count;
    uint64_t others; /* reasons beyond REDRIVE_REASON_KINDS kinds */
} redrive_reasons;

/* Counts the reason (len bytes, not NUL-terminated) with digit runs folded
 * into "N", so that "more than 2 items" and "byte offset 17" group with
 * their kin, and newlines made spaces; kept to REDRIVE_REASON_TEXT - 1
 * bytes. */
void redrive_reasons_add(redrive_reasons *reasons, const char *reason, size_t len);

#endif
