/* A fixed answer (text, json, redirect): status, type, templated body and Location. */
#ifndef YH_HANDLERS_ANSWER_H
#define YH_HANDLERS_ANSWER_H

#include <stddef.h>

struct tpl;
struct request;

struct answer {
    int status;
    char *content_type;
    char *content_type_line; /* "Content-Type: ...\r\n", built by answer_prepare() */
    size_t content_type_line_len;
    struct tpl *body;     /* constant bodies are sent without copying */
    struct tpl *location; /* redirect only, else NULL */
};

/* Returns a zeroed answer; aborts on out-of-memory. */
struct answer *answer_new(int status, const char *content_type);
/* Pre-serializes the fixed header lines once the configurator is done. */
void answer_prepare(struct answer *a);
/* The handle() of text, json and redirect. */
void answer_handle(struct request *r, const void *state);
/* The destroy() of text, json and redirect. */
void answer_destroy(void *state);

#endif
