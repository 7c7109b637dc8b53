#include <stdio.h>
#include <string.h>

#include "cli/suggest.h"
#include "config/edit_distance.h"

/* The NAME of "--NAME" or "--NAME=VALUE" into out; 0 when typed is not a
 * long option or the name does not fit. */
static int long_name(const char *typed, char *out, size_t outlen)
{
    if (strncmp(typed, "--", 2) != 0 || !typed[2]) return 0;
    size_t len = strcspn(typed + 2, "=");
    if (len >= outlen) return 0;
    memcpy(out, typed + 2, len);
    out[len] = '\0';
    return 1;
}

const char *ofc_cli_suggest_option(const struct option *longopts, const char *typed)
{
    char name[OFC_EDIT_DISTANCE_MAX_NAME + 1];
    if (!long_name(typed, name, sizeof(name))) return NULL;
    /* Two typos in a four-letter word make another word: fewer for short ones. */
    size_t len = strlen(name);
    size_t best = len >= 6 ? 3 : len >= 3 ? 2 : 1;
    const char *closest = NULL;
    for (const struct option *o = longopts; o->name; o++) {
        size_t d = ofc_edit_distance(name, o->name);
        if (d < best) {
            best = d;
            closest = o->name;
        }
    }
    return closest;
}

void ofc_cli_bad_option(const struct option *longopts, const char *typed, char *err, size_t errlen)
{
    char name[OFC_EDIT_DISTANCE_MAX_NAME + 1];
    if (long_name(typed, name, sizeof(name))) {
        for (const struct option *o = longopts; o->name; o++) {
            if (strcmp(o->name, name) == 0 && o->has_arg == required_argument &&
                !strchr(typed, '=')) {
                snprintf(err, errlen, "option '%s' needs a value", typed);
                return;
            }
        }
        const char *hint = ofc_cli_suggest_option(longopts, typed);
        if (hint) {
            snprintf(err, errlen, "option '%s' is unknown; did you mean '--%s'?", typed, hint);
            return;
        }
    }
    snprintf(err, errlen, "option '%s' is unknown or needs a value", typed);
}
