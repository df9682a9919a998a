/* libFuzzer target: path normalization and percent-decoding, with the
 * properties routing relies on checked on every accepted path. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pathnorm.h"

/* libFuzzer entry points */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normalized(const char *p, size_t n)
{
    if (n == 0 || p[0] != '/')
        abort(); /* always absolute */
    if (memchr(p, '\0', n))
        abort(); /* %00 is refused */
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '/')
            continue;
        /* no "." or ".." segment survives */
        size_t rest = n - i - 1;
        if (rest >= 1 && p[i + 1] == '.' && (rest == 1 || p[i + 2] == '/'))
            abort();
        if (rest >= 2 && p[i + 1] == '.' && p[i + 2] == '.' && (rest == 2 || p[i + 3] == '/'))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *out = malloc(size + 1);
    if (!out)
        return 0;
    ssize_t n = path_normalize((const char *)data, size, out);
    if (n > (ssize_t)size)
        abort();
    if (n >= 0) {
        check_normalized(out, (size_t)n);
        /* normalizing is idempotent once nothing is left to decode */
        if (!memchr(out, '%', (size_t)n)) {
            char *again = malloc((size_t)n + 1);
            ssize_t m = path_normalize(out, (size_t)n, again);
            if (m != n || memcmp(again, out, (size_t)n) != 0)
                abort();
            free(again);
        }
    }
    for (int plus = 0; plus <= 1; plus++) {
        ssize_t d = percent_decode((const char *)data, size, out, plus);
        if (d > (ssize_t)size)
            abort();
    }
    free(out);
    return 0;
}
