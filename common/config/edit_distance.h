/* How far apart two names are, for "did you mean" hints: config keys
 * (config_file.c) and command-line options (cli/suggest.c). */
#ifndef OFC_CONFIG_EDIT_DISTANCE_H
#define OFC_CONFIG_EDIT_DISTANCE_H

#include <stddef.h>

/* Longer names are not compared (ofc_edit_distance returns SIZE_MAX). */
#define OFC_EDIT_DISTANCE_MAX_NAME 64

/* Optimal string alignment distance: an inserted, deleted or replaced letter,
 * or a swapped pair of neighbours, is one typo. */
size_t ofc_edit_distance(const char *a, const char *b);

#endif
