/* libFuzzer target: a connection's byte stream through the real code path
 * (read -> llhttp -> route -> handler -> answer -> write), delivered in pieces
 * whose sizes the fuzzer chooses (the first input byte). */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "worker.h"

/* libFuzzer entry points */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct worker the_fuzz_worker;

static const char config_text[] =
    "listen: 127.0.0.1:1\n"
    "access_log: off\n"
    "error_log: {path: /dev/null, level: error}\n"
    "limits: {header_size: 2KiB, body_size: 4KiB, keepalive_requests: 50}\n"
    "routes:\n"
    "  - GET /: {text: \"Hello\\n\"}\n"
    "  - GET /hello/{name}: {text: \"Hello, {name} {query.x} {header.host}\\n\", "
    "headers: {X-N: \"{name}\"}}\n"
    "  - GET /users/{id:\\d+}: {json: {id: \"{id}\", ok: true}}\n"
    "  - GET /old/{name}: {redirect: {to: \"/hello/{name}\", status: 301}}\n"
    "  - \"* /echo/{tail:.*}\": {echo: json}\n"
    "  - POST,PUT /upload: {echo: body, limit: 2}\n"
    "  - GET /healthz: {health: {}}\n"
    "  - GET /static/{path:.*}: {files: {root: \"@ROOT@\", list: true}}\n";

/* A small document root for the files route. */
static void make_root(char *dir)
{
    strcpy(dir, "/tmp/yhttpd-fuzz-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    char path[256];
    snprintf(path, sizeof(path), "%s/a.txt", dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fputs("0123456789abcdef\n", f);
        fclose(f);
    }
    snprintf(path, sizeof(path), "%s/sub", dir);
    mkdir(path, 0755);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char root[64];
    make_root(root);
    struct buf text = {0}, errors = {0};
    const char *at = strstr(config_text, "@ROOT@");
    buf_append(&text, config_text, (size_t)(at - config_text));
    buf_puts(&text, root);
    buf_puts(&text, at + 6);
    struct config *cfg = config_load_bytes("fuzz.yaml", text.data, text.len, &errors);
    if (!cfg) {
        fprintf(stderr, "fuzz config: %.*s\n", (int)errors.len, errors.data);
        abort();
    }
    buf_free(&text);
    buf_free(&errors);
    const char *failed;
    if (log_open(cfg, &failed) < 0)
        abort();
    if (worker_init(&the_fuzz_worker, cfg, NULL, 0, -1) < 0)
        abort();
    config_unref(cfg);
    return 0;
}

/* Reads and drops whatever the server wrote. */
static void drain(int fd)
{
    char sink[16384];
    while (read(fd, sink, sizeof(sink)) > 0)
        ;
}

static void spin(struct worker *w, int peer)
{
    for (int i = 0; i < 4; i++) {
        ev_run(w->loop, EVRUN_NOWAIT);
        drain(peer);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct worker *w = &the_fuzz_worker;
    if (size < 1)
        return 0;
    size_t piece = 1 + data[0] % 64; /* the split points: every `piece` bytes */
    data++;
    size--;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
    conn_start(w, sv[0], (struct sockaddr *)&peer, sizeof(peer));
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        if (write(sv[1], data + off, n) < 0)
            break; /* the server closed: the rest is not read */
        spin(w, sv[1]);
    }
    shutdown(sv[1], SHUT_WR); /* a half-close: answer what is complete */
    spin(w, sv[1]);
    while (w->conns)
        conn_abort(w->conns);
    close(sv[1]);
    return 0;
}
