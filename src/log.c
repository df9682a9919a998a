/* The error log and the access log. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "http.h"
#include "request.h"

#define ACCESS_FLUSH_AT (32 * 1024)

static struct {
    int error_fd;
    enum log_level level;
    int access_fd; /* -1: off */
    enum log_format format;
    struct buf pending;     /* access log lines of this loop iteration */
    struct buf error_lines; /* debug/info/warn lines of this loop iteration */
} logs = {.error_fd = 2, .level = LOG_INFO, .access_fd = 1, .format = LOG_COMBINED};

static int open_log_file(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

static void replace_fd(int *slot, int fd)
{
    if (*slot > 2)
        close(*slot);
    *slot = fd;
}

int log_open(const struct config *cfg, const char **failed)
{
    int efd = 2, afd = -1;
    if (strcmp(cfg->error_log.path, "-") != 0 && (efd = open_log_file(cfg->error_log.path)) < 0) {
        *failed = cfg->error_log.path;
        return -1;
    }
    if (cfg->access_log.path && strcmp(cfg->access_log.path, "-") == 0) {
        afd = 1;
    } else if (cfg->access_log.path && (afd = open_log_file(cfg->access_log.path)) < 0) {
        int saved = errno;
        if (efd > 2)
            close(efd);
        errno = saved;
        *failed = cfg->access_log.path;
        return -1;
    }
    log_flush();
    replace_fd(&logs.error_fd, efd);
    replace_fd(&logs.access_fd, afd);
    logs.level = cfg->error_log.level;
    logs.format = cfg->access_log.format;
    return 0;
}

void log_close(void)
{
    log_flush();
    replace_fd(&logs.error_fd, 2);
    replace_fd(&logs.access_fd, -1);
    buf_free(&logs.pending);
    buf_free(&logs.error_lines);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a full disk must not stop the server */
        p += w;
        n -= (size_t)w;
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < logs.level)
        return;
    char line[2048];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, " [%s] [%d] ", names[level], (int)getpid());
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    n = m < 0 ? n : (n + (size_t)m < sizeof(line) - 1 ? n + (size_t)m : sizeof(line) - 2);
    line[n++] = '\n';
    /* Errors go out at once so the last words before a crash are never lost. */
    if (level == LOG_ERROR) {
        log_flush();
        write_all(logs.error_fd, line, n);
        return;
    }
    buf_append(&logs.error_lines, line, n);
    if (logs.error_lines.len >= ACCESS_FLUSH_AT)
        log_flush();
}

/* Appends a header value for a quoted log field, escaping quotes and controls. */
static void put_quoted(struct buf *b, const struct http_header *h)
{
    if (!h || h->value.n == 0) {
        buf_putc(b, '-');
        return;
    }
    for (size_t i = 0; i < h->value.n; i++) {
        unsigned char c = (unsigned char)h->value.p[i];
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
            buf_printf(b, "\\x%02X", c);
        else
            buf_putc(b, (char)c);
    }
}

static void put_clf_time(struct buf *b, double now)
{
    char t[40];
    time_t sec = (time_t)now;
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(t, sizeof(t), "[%d/%b/%Y:%H:%M:%S +0000]", &tm);
    buf_puts(b, t);
}

static void put_request_line(struct buf *b, const struct request *r)
{
    if (r->method_name.n == 0) {
        buf_putc(b, '-');
        return;
    }
    struct http_header line = {.value = r->method_name};
    put_quoted(b, &line);
    buf_putc(b, ' ');
    line.value = r->target;
    put_quoted(b, &line);
    buf_puts(b, r->http_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
}

static void log_access_clf(struct buf *b, const struct request *r, double now, int combined)
{
    buf_puts(b, conn_peer(r->conn));
    buf_puts(b, " - - ");
    put_clf_time(b, now);
    buf_puts(b, " \"");
    put_request_line(b, r);
    buf_printf(b, "\" %d %zu", r->status, r->head_only ? 0 : r->body_len);
    if (combined) {
        buf_puts(b, " \"");
        put_quoted(b, request_header(r, "referer"));
        buf_puts(b, "\" \"");
        put_quoted(b, request_header(r, "user-agent"));
        buf_putc(b, '"');
    }
    buf_putc(b, '\n');
}

static void json_field(struct buf *b, const char *name, yh_span v, int last)
{
    buf_printf(b, "\"%s\":\"", name);
    json_escape_append(b, v.p ? v.p : "", v.n);
    buf_puts(b, last ? "\"" : "\",");
}

static yh_span header_span(const struct request *r, const char *name)
{
    const struct http_header *h = request_header(r, name);
    return h ? h->value : (yh_span){"", 0};
}

static void log_access_json(struct buf *b, const struct request *r, double now)
{
    char t[32];
    time_t sec = (time_t)now;
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_printf(b, "{\"time\":\"%s\",", t);
    json_field(b, "remote_addr", (yh_span){conn_peer(r->conn), strlen(conn_peer(r->conn))}, 0);
    json_field(b, "method", r->method_name, 0);
    json_field(b, "target", r->target, 0);
    buf_printf(b, "\"status\":%d,\"bytes\":%zu,\"duration_ms\":%.3f,", r->status,
               r->head_only ? 0 : r->body_len, (now - r->start) * 1000.0);
    json_field(b, "route",
               (yh_span){r->route ? r->route->label : "", r->route ? strlen(r->route->label) : 0},
               0);
    json_field(b, "referer", header_span(r, "referer"), 0);
    json_field(b, "user_agent", header_span(r, "user-agent"), 1);
    buf_puts(b, "}\n");
}

void log_access(const struct request *r, double now)
{
    if (logs.access_fd < 0)
        return;
    if (logs.format == LOG_JSON)
        log_access_json(&logs.pending, r, now);
    else
        log_access_clf(&logs.pending, r, now, logs.format == LOG_COMBINED);
    if (logs.pending.len >= ACCESS_FLUSH_AT)
        log_flush();
}

void log_flush(void)
{
    if (logs.error_lines.len) {
        write_all(logs.error_fd, logs.error_lines.data, logs.error_lines.len);
        logs.error_lines.len = 0;
    }
    if (logs.pending.len && logs.access_fd >= 0)
        write_all(logs.access_fd, logs.pending.data, logs.pending.len);
    logs.pending.len = 0;
}

void log_chown(uid_t uid, gid_t gid)
{
    /* Workers reopen by path after rotation: the files must be theirs to open. */
    if (logs.error_fd > 2 && fchown(logs.error_fd, uid, gid) < 0)
        log_warn("chown of the error log: %s", strerror(errno));
    if (logs.access_fd > 2 && fchown(logs.access_fd, uid, gid) < 0)
        log_warn("chown of the access log: %s", strerror(errno));
}
