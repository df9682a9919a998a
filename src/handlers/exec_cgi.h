/* The CGI header block at the start of a script's output (RFC 3875 6.2), parsed
 * incrementally: a pure function of the bytes fed, no I/O. */
#ifndef YH_HANDLERS_EXEC_CGI_H
#define YH_HANDLERS_EXEC_CGI_H

#include <stddef.h>
#include <stdint.h>

#include "../buf.h"

#define CGI_HEAD_MAX   8192 /* a header block (its blank line included) must fit */
#define CGI_MAX_FIELDS 64

enum cgi_state {
    CGI_ERROR = -1, /* not a valid header block: answer 502 (cgi_error says why) */
    CGI_MORE = 0,   /* more output is needed to know */
    CGI_DONE = 1,   /* the head is known; the body starts at cgi_body() */
};

struct cgi_field {
    size_t name, name_len, value, value_len; /* offsets into held */
};

struct cgi_parser {
    struct buf held; /* every byte seen until the head is known */
    size_t line;     /* offset of the line being scanned */
    int state;       /* enum cgi_state */
    int has_block;   /* the output starts with a header block */
    int status;      /* Status:, else 302 with Location:, else 200 */
    int has_type;    /* the block has a Content-Type */
    int64_t length;  /* Content-Length, or -1 */
    size_t body;     /* offset in held where the body begins (CGI_DONE) */
    const char *why; /* CGI_ERROR's reason */
    size_t nfields;  /* every field but Status and Content-Length, in order */
    struct cgi_field fields[CGI_MAX_FIELDS];
};

/* Starts a parse. */
void cgi_init(struct cgi_parser *p);
/* Frees the held bytes (the fields and body are gone with them). */
void cgi_free(struct cgi_parser *p);

/*
 * Feeds n more output bytes. Lines are "Name: value" ending in LF or CRLF, up
 * to an empty line. When the first line is not a header line (no colon, a
 * name that is not a token, control bytes), there is no block: all output is
 * the body. Returns the new state; once CGI_DONE or CGI_ERROR, more input is
 * not looked at.
 */
int cgi_feed(struct cgi_parser *p, const char *data, size_t n);
/* The output ended: an undecided first line is body; a block without its end is CGI_ERROR. */
int cgi_eof(struct cgi_parser *p);

/* After CGI_DONE: the body bytes already fed (they follow the head). */
const char *cgi_body(const struct cgi_parser *p, size_t *n);
/* After CGI_DONE: field i's name and value (not NUL-terminated). */
void cgi_field(const struct cgi_parser *p, size_t i, yh_span *name, yh_span *value);
/* The reason of a CGI_ERROR, for the log. */
const char *cgi_error(const struct cgi_parser *p);

#endif
