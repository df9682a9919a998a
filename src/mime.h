/* Content types by file extension: /etc/mime.types, then a built-in table. */
#ifndef YH_MIME_H
#define YH_MIME_H

/* The Content-Type for a file name ("text/html; charset=utf-8"); text types
 * carry charset=utf-8; unknown: application/octet-stream. Never NULL. The
 * system table is read once per process, on first use. */
const char *mime_type_for(const char *name);

#endif
