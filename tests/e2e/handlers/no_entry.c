/* A shared object that is no handler plugin: it exports a function, but not
 * of_handler_entry. */
#include <orderflow/export.h>

OF_EXPORT int not_a_handler(void);
OF_EXPORT int not_a_handler(void)
{
    return 42;
}
