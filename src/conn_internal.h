/* The connection object, shared by conn.c (I/O) and conn_parse.c (llhttp callbacks). */
#ifndef YH_CONN_INTERNAL_H
#define YH_CONN_INTERNAL_H

#include <ev.h>
#include <llhttp.h>

#include "buf.h"
#include "tlist.h"

#define PIPELINE_MAX   16           /* requests in flight per connection before we stop reading */
#define OUT_HIGH_WATER (256 * 1024) /* unsent answer bytes before we stop reading */
#define NO_HEAD        ((size_t)-1)

struct request;
struct worker;

struct conn {
    struct conn *prev, *next; /* the worker's list of open connections */
    struct worker *w;
    int fd;
    ev_io rio, wio;
    struct tnode tn;
    llhttp_t parser;
    struct buf in;
    size_t parsed;     /* bytes of `in` consumed by the parser */
    size_t head_start; /* offset in `in` of the head being parsed, NO_HEAD if none */
    struct request *fifo_head, *fifo_tail;
    unsigned nfifo;
    struct request *cur; /* being parsed */
    unsigned served;     /* requests begun on this connection */
    int error_status;    /* set by a parser callback before it fails */
    size_t chunk_meta;   /* bytes of chunk extensions and trailer fields in this request */
    size_t unsent;       /* bytes of finished answers not yet written */
    size_t body_moved;   /* body bytes received since the body wait last restarted */
    size_t out_moved;    /* answer bytes written since the write wait last restarted */
    unsigned read_slot;  /* 1 + its place in the worker's batch of reads, 0 if none */
    unsigned send_slot;  /* the same for the batch of writes */
    unsigned in_execute : 1;
    unsigned paused : 1;      /* parser paused: FIFO full or no more requests wanted */
    unsigned closing : 1;     /* no more requests: close once answers are out */
    unsigned read_eof : 1;    /* the client shut down its side */
    unsigned lingering : 1;   /* our side shut down, draining the client's bytes */
    unsigned in_field : 1;    /* the last header callback was a field name */
    unsigned got_bytes : 1;   /* this read brought bytes (restarts the keep-alive wait) */
    unsigned saw_version : 1; /* the request line being parsed named an HTTP version */
    char peer[48];
};

/* llhttp settings wired to the callbacks in conn_parse.c. */
extern const llhttp_settings_t conn_parser_settings;

/* Starts a request object at the tail of the FIFO; it becomes c->cur. */
struct request *conn_begin_request(struct conn *c);
/* Queues a final error answer (Connection: close) and stops parsing. */
void conn_fail(struct conn *c, int status);
/* Timeout-list callback: a connection's wait ran out. */
void conn_expired(struct tnode *n);
/* The batch's side (batch.c): where the next read goes (room bytes free),
 * or NULL when the connection no longer reads or is lingering. */
char *conn_read_target(struct conn *c, size_t *room);
/* A read's result n (bytes, 0 at end of stream, or -errno) landed in the
 * buffer: the bytes count as received (nothing else happens yet). */
void conn_read_landed(struct conn *c, int n);
/* Then the connection works on that result (parses, answers, closes). */
void conn_read_done(struct conn *c, int n);
/* Reads with a plain system call (the batch is full or failed). */
void conn_read_now(struct conn *c);
/* A queued write finished: n bytes written, or -errno (-EAGAIN: write it yourself). */
void conn_send_done(struct conn *c, int n);
/* Maps a parser error to the status to answer with. */
int conn_parse_error_status(struct conn *c, llhttp_errno_t err);

#endif
