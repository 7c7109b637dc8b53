#include "log.h"

static const char *program = "orderflow";
/* Set once at start-up, before any librdkafka thread that reads it exists. */
static ofc_log_verbosity verbosity = OFC_LOG_NORMAL;

void ofc_log_set_program(const char *name)
{
    program = name;
}

const char *ofc_log_program(void)
{
    return program;
}

void ofc_log_set_verbosity(ofc_log_verbosity level)
{
    verbosity = level;
}

ofc_log_verbosity ofc_log_get_verbosity(void)
{
    return verbosity;
}

void ofc_vlog(FILE *out, const char *fmt, va_list args)
{
    /* One buffer, one write: lines of processes sharing stderr stay whole.
     * A longer message is written in pieces rather than cut. */
    char line[4096];
    va_list again;
    va_copy(again, args);
    int prefix = snprintf(line, sizeof(line), "%s: ", program);
    int body = prefix < 0 || (size_t)prefix >= sizeof(line)
                   ? -1
                   : vsnprintf(line + prefix, sizeof(line) - (size_t)prefix, fmt, args);
    if (body >= 0 && (size_t)prefix + (size_t)body < sizeof(line)) {
        fprintf(out, "%s\n", line);
    } else {
        fprintf(out, "%s: ", program);
        vfprintf(out, fmt, again);
        fputc('\n', out);
    }
    va_end(again);
}

void ofc_log(FILE *out, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    ofc_vlog(out, fmt, args);
    va_end(args);
}

void ofc_warn(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    ofc_vlog(stderr, fmt, args);
    va_end(args);
}
