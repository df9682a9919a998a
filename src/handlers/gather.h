/* `gather:` — many upstream GETs at once, one JSON object as the answer. */
#ifndef YH_HANDLERS_GATHER_H
#define YH_HANDLERS_GATHER_H

#include <stddef.h>

#include "proxy.h"

/* Bodies of parts larger than this are reported as errors, not embedded. */
#define GATHER_PART_MAX (1024 * 1024)

struct gather_part {
    char *name;
    struct proxy_target target;
};

struct gather {
    struct gather_part *parts; /* in config order: the answer's key order */
    size_t nparts;
    double timeout; /* seconds, for the whole fan-out */
};

void gather_handle(struct request *r, const void *state);
void gather_destroy(void *state);

#endif
