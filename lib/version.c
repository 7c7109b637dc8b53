/* The library's own version, for programs to compare with the headers'. */
#include <orderflow/version.h>

int of_version(void)
{
    return OF_VERSION;
}

const char *of_version_str(void)
{
    return OF_VERSION_STR;
}
