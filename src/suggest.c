/* "Did you mean" suggestions for misspelt names. */
#include "suggest.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STACK_ROW 64

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* Classic two-row-in-one DP; the row lives on the stack for short names. */
size_t edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    size_t stack_row[STACK_ROW + 1];
    size_t *row = stack_row;

    if (nb > STACK_ROW) {
        row = malloc((nb + 1) * sizeof(*row));
        if (!row)
            abort();
    }
    for (size_t j = 0; j <= nb; j++)
        row[j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t diag = row[0]; /* distance(a[..i-1], b[..j-1]) */
        row[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = min3(up + 1, row[j - 1] + 1, diag + cost);
            diag = up;
        }
    }
    size_t d = row[nb];
    if (row != stack_row)
        free(row);
    return d;
}

const char *suggest_closest(const char *word, const char *const *candidates)
{
    size_t len = strlen(word);
    size_t limit = len / 3 > 1 ? len / 3 : 1;
    const char *best = NULL;
    size_t best_score = (size_t)-1;

    /*
     * Scores are doubled distances so that a case-only difference ("get" for
     * "GET") can rank between an exact match and any real typo.
     */
    for (const char *const *c = candidates; c && *c; c++) {
        size_t score;
        if (strcmp(word, *c) == 0)
            score = 0;
        else if (strcasecmp(word, *c) == 0)
            score = 1;
        else {
            size_t d = edit_distance(word, *c);
            if (d > limit)
                continue;
            score = 2 * d;
        }
        if (score < best_score) {
            best = *c;
            best_score = score;
        }
    }
    return best;
}
