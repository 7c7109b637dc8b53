/* RFC 3339 timestamps: formatting ours, recognising anyone's. */
#include <time.h>

#include <orderflow/ids.h>

/* 9999-12-31T23:59:59.999Z: the last instant with a four-digit year. */
#define OF_MAX_FORMATTABLE_MS UINT64_C(253402300799999)

uint64_t of_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *put2(char *w, unsigned v)
{
    w[0] = (char)('0' + v / 10);
    w[1] = (char)('0' + v % 10);
    return w + 2;
}

void of_format_time(uint64_t unix_ms, char *out)
{
    if (unix_ms > OF_MAX_FORMATTABLE_MS) unix_ms = OF_MAX_FORMATTABLE_MS;
    uint64_t days = unix_ms / 86400000u;
    unsigned ms_of_day = (unsigned)(unix_ms % 86400000u);

    /* Howard Hinnant's civil_from_days: pure arithmetic, so no gmtime, no
     * time zone state and no locale are involved. */
    uint64_t z = days + 719468u;
    uint64_t era = z / 146097u;
    unsigned doe = (unsigned)(z - era * 146097u);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned day = doy - (153 * mp + 2) / 5 + 1;
    unsigned month = mp < 10 ? mp + 3 : mp - 9;
    unsigned year = (unsigned)(yoe + era * 400) + (month <= 2);

    char *w = out;
    w = put2(w, year / 100);
    w = put2(w, year % 100);
    *w++ = '-';
    w = put2(w, month);
    *w++ = '-';
    w = put2(w, day);
    *w++ = 'T';
    w = put2(w, ms_of_day / 3600000u);
    *w++ = ':';
    w = put2(w, ms_of_day / 60000u % 60u);
    *w++ = ':';
    w = put2(w, ms_of_day / 1000u % 60u);
    *w++ = '.';
    unsigned ms = ms_of_day % 1000u;
    *w++ = (char)('0' + ms / 100);
    w = put2(w, ms % 100);
    *w++ = 'Z';
    *w = '\0';
}

static int digits(const char *s, size_t n, size_t at, size_t count, unsigned *out)
{
    if (at + count > n) return 0;
    unsigned v = 0;
    for (size_t i = at; i < at + count; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 1;
}

static unsigned days_in_month(unsigned year, unsigned month)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[month - 1] + (month == 2 && leap);
}

int of_time_valid(of_str str)
{
    const char *s = str.ptr;
    size_t n = str.len;
    unsigned year, month, day, hour, minute, second;
    if (!s) return 0;
    /* RFC 3339 section 5.6: full-date "T" full-time; T and Z may be lowercase. */
    if (!digits(s, n, 0, 4, &year) || n < 5 || s[4] != '-' || !digits(s, n, 5, 2, &month) ||
        n < 8 || s[7] != '-' || !digits(s, n, 8, 2, &day) || n < 11 ||
        (s[10] != 'T' && s[10] != 't') || !digits(s, n, 11, 2, &hour) || n < 14 || s[13] != ':' ||
        !digits(s, n, 14, 2, &minute) || n < 17 || s[16] != ':' || !digits(s, n, 17, 2, &second))
        return 0;
    if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return 0;
    /* Second 60 is a leap second, which RFC 3339 allows. */
    if (hour > 23 || minute > 59 || second > 60) return 0;

    size_t i = 19;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start) return 0;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) return i + 1 == n;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        if (!digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
            !digits(s, n, i + 4, 2, &om))
            return 0;
        return oh <= 23 && om <= 59 && i + 6 == n;
    }
    return 0;
}

int64_t of_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
