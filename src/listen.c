/* Listening addresses: parsing "HOST:PORT" forms and opening the sockets. */
#include "listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"

static int parse_port(const char *s, int *port)
{
    char *end;
    if (!*s)
        return -1;
    long v = strtol(s, &end, 10);
    if (*end || v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

static int parse_unix(const char *path, struct listen_addr *out, char *err, size_t errlen)
{
    struct sockaddr_un *sun = (struct sockaddr_un *)&out->addr;
    if (path[0] != '/' || strlen(path) >= sizeof(sun->sun_path)) {
        snprintf(err, errlen, "unix socket path must be absolute and under %zu bytes",
                 sizeof(sun->sun_path));
        return -1;
    }
    sun->sun_family = AF_UNIX;
    strcpy(sun->sun_path, path);
    out->addrlen = sizeof(*sun);
    return 0;
}

/* Splits "HOST:PORT" / "[V6]:PORT" / ":PORT"; host is empty for ":PORT". */
static int split_host_port(const char *text, char *host, size_t hostlen, int *port)
{
    const char *colon;
    const char *h = text;
    size_t hn;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        h = text + 1;
        hn = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon)
            return -1;
        hn = (size_t)(colon - text);
        if (memchr(text, ':', hn))
            return -1; /* bare IPv6 needs brackets */
    }
    if (hn >= hostlen)
        return -1;
    memcpy(host, h, hn);
    host[hn] = 0;
    return parse_port(colon + 1, port);
}

int listen_parse(const char *text, struct listen_addr *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (strncmp(text, "unix:", 5) == 0) {
        if (parse_unix(text + 5, out, err, errlen) < 0)
            return -1;
    } else {
        char host[256];
        int port;
        if (split_host_port(text, host, sizeof(host), &port) < 0) {
            snprintf(err, errlen,
                     "bad listen address `%s`: expected HOST:PORT, [V6]:PORT, :PORT or unix:/path",
                     text);
            return -1;
        }
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
        struct addrinfo *res;
        char portstr[8];
        snprintf(portstr, sizeof(portstr), "%d", port);
        hints.ai_family = host[0] ? AF_UNSPEC : AF_INET;
        int rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
        if (rc != 0) {
            snprintf(err, errlen, "cannot resolve `%s`: %s", host, gai_strerror(rc));
            return -1;
        }
        memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
        out->addrlen = res->ai_addrlen;
        freeaddrinfo(res);
    }
    out->text = strdup(text);
    if (!out->text)
        abort();
    return 0;
}

static void unlink_stale_unix(const struct sockaddr_un *sun)
{
    struct stat st;
    if (stat(sun->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(sun->sun_path);
}

static int set_listen_options(int fd, const struct listen_addr *a, int reuseport)
{
    int one = 1;
    int family = a->addr.ss_family;
    if (family == AF_UNIX)
        return 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        return -1;
    if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        return -1;
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        return -1;
    return 0;
}

int listen_open(const struct listen_addr *a, int reuseport, char *err, size_t errlen)
{
    int family = a->addr.ss_family;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    if (set_listen_options(fd, a, reuseport) < 0)
        goto fail;
    if (family == AF_UNIX)
        unlink_stale_unix((const struct sockaddr_un *)&a->addr);
    if (bind(fd, (const struct sockaddr *)&a->addr, a->addrlen) < 0)
        goto fail;
    if (listen(fd, 511) < 0)
        goto fail;
    return fd;
fail:
    snprintf(err, errlen, "cannot listen on %s: %s", a->text, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

void listen_url(const struct listen_addr *a, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];
    if (a->addr.ss_family == AF_UNIX) {
        snprintf(out, outlen, "unix:%s", ((const struct sockaddr_un *)&a->addr)->sun_path);
    } else if (a->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->addr;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "http://[%s]:%d", host, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->addr;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "http://%s:%d", host, ntohs(s4->sin_port));
    }
}
