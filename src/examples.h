/* Running route examples in process: -t, startup and every reload check them. */
#ifndef YH_EXAMPLES_H
#define YH_EXAMPLES_H

#include "buf.h"

struct config;

struct example_counts {
    unsigned passed, failed, skipped;
};

/* Bound on one example's exchange (synchronous handlers answer at once). */
#define EXAMPLE_TIMEOUT 5.0

/*
 * Sends every route example of cfg through the real connection code (parser,
 * router, handler, answer serialization) over an AF_UNIX socketpair, served
 * by a private worker on its own loop: no listener is opened. Appends one
 * "FILE:LINE:COL: example N of \"ROUTE\": ..." line per failure to errors and
 * per skipped example (asynchronous handlers) to notes (may be NULL).
 * Returns 0 when none failed, -1 otherwise.
 */
int examples_run(struct config *cfg, struct buf *errors, struct buf *notes,
                 struct example_counts *counts);

#endif
