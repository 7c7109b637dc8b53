#include <orderflow/limits.h>

void of_limits_init(of_limits *limits)
{
    *limits = (of_limits){
        .max_record_bytes = OF_DEFAULT_MAX_RECORD_BYTES,
        .max_depth = OF_DEFAULT_MAX_DEPTH,
        .max_string_bytes = OF_DEFAULT_MAX_STRING_BYTES,
        .max_items = OF_DEFAULT_MAX_ITEMS,
    };
}
