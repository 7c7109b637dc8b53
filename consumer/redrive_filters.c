/* redrive's filters (redrive_filters.h), apart from its Kafka work so that
 * tests/unit/consumer/test_redrive_filters.c reaches them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "redrive_filters.h"

/* RFC 3339 (2026-11-30T02:00:00Z, fractions and +hh:mm offsets too) or a
 * relative time back from now (-90s, -30m, -2h, -7d). Returns 0 and the
 * Unix time in ms, or -1. */
static int parse_time(const char *text, int64_t now_ms, int64_t *out_ms)
{
    if (text[0] == '-') {
        char *end = NULL;
        errno = 0;
        long long n = strtoll(text + 1, &end, 10);
        if (errno || end == text + 1 || n < 0 || end[0] == '\0' || end[1] != '\0') return -1;
        int64_t unit = end[0] == 's'   ? 1000
                       : end[0] == 'm' ? 60000
                       : end[0] == 'h' ? 3600000
                       : end[0] == 'd' ? 86400000
                                       : 0;
        if (!unit || n > INT64_MAX / unit / 2) return -1;
        *out_ms = now_ms - n * unit;
        return 0;
    }
    int year, month, day, hour, minute, second, used = 0;
    if (sscanf(text, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
               &second, &used) != 6 ||
        used != 19)
        return -1;
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        return -1;
    const char *rest = text + used;
    int64_t fraction_ms = 0;
    if (*rest == '.') {
        int digits = 0, scale = 100;
        for (rest++; *rest >= '0' && *rest <= '9'; rest++, digits++) {
            fraction_ms += (*rest - '0') * scale;
            scale /= 10;
        }
        if (!digits) return -1;
    }
    int64_t offset_s = 0;
    if ((rest[0] == 'Z' || rest[0] == 'z') && rest[1] == '\0') {
        offset_s = 0;
    } else if ((rest[0] == '+' || rest[0] == '-') && strlen(rest) == 6 && rest[3] == ':') {
        int oh, om;
        if (sscanf(rest + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59) return -1;
        offset_s = (oh * 3600 + om * 60) * (rest[0] == '+' ? 1 : -1);
    } else {
        return -1;
    }
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute,
                    .tm_sec = second};
    time_t t = timegm(&tm);
    if (t == (time_t)-1) return -1;
    *out_ms = ((int64_t)t - offset_s) * 1000 + fraction_ms;
    return 0;
}

int redrive_parse_time(const char *option, const char *text, int64_t now_ms, int64_t *out_ms,
                       char *err, size_t errlen)
{
    if (parse_time(text, now_ms, out_ms) == 0) return 0;
    snprintf(err, errlen,
             "%s: expected RFC 3339 (2026-11-30T02:00:00Z) or a relative time (-90s, -30m, -2h, "
             "-7d), got '%s'",
             option, text);
    return -1;
}

int redrive_parse_offset_range(const char *text, long long *from_out, long long *to_out, char *err,
                               size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long long from = strtoll(text, &end, 10), to = -1;
    int ok = !errno && end != text && from >= 0;
    if (ok && strncmp(end, "..", 2) == 0) {
        const char *second = end + 2;
        to = strtoll(second, &end, 10);
        ok = !errno && end != second && to >= from;
    }
    if (!ok || *end) {
        snprintf(err, errlen, "--offset: expected FROM or FROM..TO (0 <= FROM <= TO), got '%s'",
                 text);
        return -1;
    }
    *from_out = from;
    *to_out = to;
    return 0;
}

void redrive_reasons_add(redrive_reasons *reasons, const char *reason, size_t len)
{
    char text[REDRIVE_REASON_TEXT];
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < sizeof(text); i++) {
        if (reason[i] >= '0' && reason[i] <= '9') {
            if (n == 0 || text[n - 1] != 'N') text[n++] = 'N';
            continue;
        }
        text[n++] = reason[i] == '\n' ? ' ' : reason[i];
    }
    text[n] = '\0';
    for (size_t i = 0; i < reasons->kind_count; i++) {
        if (strcmp(reasons->kinds[i].text, text) == 0) {
            reasons->kinds[i].count++;
            return;
        }
    }
    if (reasons->kind_count == REDRIVE_REASON_KINDS) {
        reasons->others++;
        return;
    }
    memcpy(reasons->kinds[reasons->kind_count].text, text, n + 1);
    reasons->kinds[reasons->kind_count++].count = 1;
}
