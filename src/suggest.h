/* "Did you mean" suggestions for misspelt names. */
#ifndef YH_SUGGEST_H
#define YH_SUGGEST_H

#include <stddef.h>

/* Edit distance (Levenshtein, case-sensitive) between two strings. */
size_t edit_distance(const char *a, const char *b);

/* Returns the candidate closest to word (NULL-terminated list) when it is close
 * enough to be a plausible typo (distance <= max(1, len/3), or equal ignoring case),
 * else NULL. The result points into candidates. */
const char *suggest_closest(const char *word, const char *const *candidates);

#endif
