/* One client connection: read -> parse -> dispatch -> write, in request order. */
#ifndef YH_CONN_H
#define YH_CONN_H

#include <sys/socket.h>

struct conn;
struct worker;
struct request;

/* Takes ownership of an accepted, non-blocking socket. */
void conn_start(struct worker *w, int fd, const struct sockaddr *peer, socklen_t peerlen);
/* Called by resp_finish(): writes what is ready unless the parser is running
 * (then the answers of one read go out together in one writev). */
void conn_response_ready(struct request *r);
/* A streamed answer (resp_stream_*) queued n more bytes: they go out from the
 * loop, never from inside the call (the handler's state stays valid). */
void conn_stream_queued(struct request *r, size_t n);
/* A streamed answer ended (r->done is set). */
void conn_stream_ended(struct request *r);
/* A streamed request body shrank (request_body_take): reading may resume. */
void conn_body_taken(struct request *r);
/* Sends "100 Continue" now when nothing is queued ahead of r (else the client's
 * own expect timeout lets it go on). */
void conn_send_continue(struct request *r);
/* The client's address as text ("127.0.0.1", "::1", "unix"). */
const char *conn_peer(const struct conn *c);
/* The local address the connection came in on (getsockname). Returns 0 or -1. */
int conn_sockname(const struct conn *c, struct sockaddr_storage *ss, socklen_t *len);
/* Starts draining for a stop: idle connections close now, busy ones after
 * their current answer. */
void conn_drain(struct conn *c);
/* Closes at once (immediate stop). */
void conn_abort(struct conn *c);

#endif
