/* `echo:` — answers with what the client sent (json: a description; body: the body). */
#ifndef YH_HANDLERS_ECHO_H
#define YH_HANDLERS_ECHO_H

enum echo_mode { ECHO_JSON, ECHO_BODY };

struct request;

void echo_handle(struct request *r, const void *state);
void echo_destroy(void *state);

#endif
