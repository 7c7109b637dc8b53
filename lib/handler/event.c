/* The data object's text inside an input record, found when a handler asks
 * for it (of_handler_event_data_json) rather than kept by the decoder for
 * every record. The record was validated by of_decode_event, so the scan
 * only has to skip well-formed JSON. */
#include <string.h>

#include <orderflow/handler.h>

static size_t skip_space(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is '"': returns the index after the closing quote. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return n;
}

static size_t skip_value(const char *s, size_t n, size_t i)
{
    if (i < n && s[i] == '"') return skip_string(s, n, i);
    if (i < n && (s[i] == '{' || s[i] == '[')) {
        unsigned depth = 0;
        while (i < n) {
            char c = s[i];
            if (c == '"') {
                i = skip_string(s, n, i);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
            i++;
        }
        return n;
    }
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' &&
           s[i] != '\n' && s[i] != '\r')
        i++;
    return i;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Whether the key between the quotes, s[from..to), unescaped, is "data". */
static int is_data_key(const char *s, size_t from, size_t to)
{
    if (to - from == 4) return memcmp(s + from, "data", 4) == 0;
    char plain[5];
    size_t used = 0;
    for (size_t i = from; i < to; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < to) {
            if (s[i + 1] == 'u' && i + 5 < to) {
                int a = hex(s[i + 2]), b = hex(s[i + 3]), d = hex(s[i + 4]), e = hex(s[i + 5]);
                if (a != 0 || b != 0 || d < 0 || e < 0) return 0;
                c = (char)(d * 16 + e);
                i += 5;
            } else {
                return 0; /* \n, \t...: not a letter of "data" */
            }
        }
        if (used == 4) return 0;
        plain[used++] = c;
    }
    return used == 4 && memcmp(plain, "data", 4) == 0;
}

of_str of_handler_event_data_json(const of_handler_event *event)
{
    if (!event || !event->value.ptr) return (of_str){NULL, 0};
    const char *s = event->value.ptr;
    size_t n = event->value.len;
    size_t i = skip_space(s, n, 0);
    if (i >= n || s[i] != '{') return (of_str){NULL, 0};
    i++;
    for (;;) {
        i = skip_space(s, n, i);
        if (i >= n || s[i] != '"') return (of_str){NULL, 0};
        size_t key_end = skip_string(s, n, i);
        int data = key_end >= 2 && is_data_key(s, i + 1, key_end - 1);
        i = skip_space(s, n, key_end);
        if (i >= n || s[i] != ':') return (of_str){NULL, 0};
        i = skip_space(s, n, i + 1);
        size_t end = skip_value(s, n, i);
        /* The decoder refuses a second "data", so the first is the one. */
        if (data) return (of_str){s + i, end - i};
        i = skip_space(s, n, end);
        if (i >= n || s[i] != ',') return (of_str){NULL, 0};
        i++;
    }
}
