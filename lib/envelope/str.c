#include <string.h>

#include <orderflow/envelope.h>

of_str of_str_c(const char *cstr)
{
    return (of_str){cstr, cstr ? strlen(cstr) : 0};
}

int of_str_eq(of_str a, of_str b)
{
    /* An absent view differs from a present empty one: "no subject" and
     * "subject is empty" are different faults. */
    if (!a.ptr || !b.ptr) return !a.ptr && !b.ptr;
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

const char *of_event_type_name(of_event_type type)
{
    switch (type) {
    case OF_EVENT_ORDER_CREATED:
        return "order_created";
    case OF_EVENT_DATA_PROCESSED:
        return "data_processed";
    }
    return "unknown";
}

const char *of_reject_name(of_reject code)
{
    switch (code) {
    case OF_OK:
        return "ok";
    case OF_REJECT_TOO_LARGE:
        return "too_large";
    case OF_REJECT_NOT_JSON:
        return "not_json";
    case OF_REJECT_INVALID_UTF8:
        return "invalid_utf8";
    case OF_REJECT_NOT_OBJECT:
        return "not_object";
    case OF_REJECT_TOO_DEEP:
        return "too_deep";
    case OF_REJECT_STRING_TOO_LONG:
        return "string_too_long";
    case OF_REJECT_TOO_MANY_ITEMS:
        return "too_many_items";
    case OF_REJECT_DUPLICATE_ATTR:
        return "duplicate_attr";
    case OF_REJECT_MISSING_ATTR:
        return "missing_attr";
    case OF_REJECT_WRONG_TYPE:
        return "wrong_type";
    case OF_REJECT_BAD_VALUE:
        return "bad_value";
    case OF_REJECT_UNKNOWN_TYPE:
        return "unknown_type";
    case OF_REJECT_UNKNOWN_SCHEMA:
        return "unknown_schema";
    case OF_REJECT_NO_MEMORY:
        return "no_memory";
    }
    return "unknown";
}
