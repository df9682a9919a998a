/* Listening addresses: parsing "HOST:PORT" forms and opening the sockets. */
#ifndef YH_LISTEN_H
#define YH_LISTEN_H

#include <stddef.h>

struct listen_addr;

/* Parses "HOST:PORT", "[V6]:PORT", ":PORT" (all IPv4 addresses) or "unix:/path"
 * into out (out->text is set to a copy of text). Returns 0, or -1 with a message in err. */
int listen_parse(const char *text, struct listen_addr *out, char *err, size_t errlen);

/* Opens a non-blocking listening socket bound to a. Returns the fd, or -1 with a
 * message in err. A stale unix socket file is replaced. */
int listen_open(const struct listen_addr *a, int reuseport, char *err, size_t errlen);

/* Formats a's address as a URL base ("http://127.0.0.1:8080", "http://[::1]:80",
 * "unix:/path") into out. */
void listen_url(const struct listen_addr *a, char *out, size_t outlen);

#endif
