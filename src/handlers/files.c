/* `files:` — static files beneath a root: validators, conditionals, ranges,
 * precompressed siblings, sendfile, and never a byte from outside the root. */
#include "files.h"

#include <errno.h>
#include <ev.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config.h"
#include "../filecache.h"
#include "../http.h"
#include "../mime.h"
#include "../request.h"
#include "../worker.h"
#include "files_http.h"
#include "files_open.h"

#define SMALL_FILE (16 * 1024) /* read into the answer, so pipelined answers share a writev */

enum { FOUND_FILE, FOUND_DIR };

/* A precompressed sibling: suffix and Content-Encoding, best first. */
static const char *const encodings[][2] = {{".br", "br"}, {".gz", "gzip"}};

struct chosen {
    struct fc_entry *file; /* the bytes to send */
    const char *encoding;  /* Content-Encoding, or NULL */
    int has_variant;       /* a sibling exists: the answer varies by Accept-Encoding */
};

/* The path below the root: the route's last variable, or the root itself. Returns 0 or a status. */
static int relative_path(const struct request *r, const struct files_conf *fc, char *out,
                         size_t outlen)
{
    if (fc->only_file) {
        snprintf(out, outlen, "%s", fc->only_file);
        return 0;
    }
    yh_span v = r->route->vars.n ? r->match.vars[r->route->vars.n - 1] : (yh_span){"", 0};
    while (v.n && v.p[0] == '/')
        v = (yh_span){v.p + 1, v.n - 1};
    if (memchr(v.p, '\0', v.n) || memchr(v.p, '\\', v.n))
        return 400;
    if (v.n >= outlen)
        return 404;
    memcpy(out, v.p, v.n);
    out[v.n] = 0;
    if (!fc->dotfiles && files_has_dot_component(out))
        return 404;
    return 0;
}

static int status_for_errno(int err)
{
    return err == EACCES || err == EPERM ? 403 : 404;
}

/* Finds rel: a cached regular file, or an open directory. Returns FOUND_* or -status. */
static int find(const struct files_conf *fc, const char *rel, double now, struct fc_entry **file,
                int *dirfd)
{
    struct fc_entry *e = fc_get(fc, rel, now);
    if (e && e->fd < 0) {
        fc_release(e);
        return -404;
    }
    if (e) {
        *file = e;
        return FOUND_FILE;
    }
    int fd = files_open_beneath(fc->root_fd, rel);
    struct stat st;
    if (fd < 0) {
        if (fd == -ENOENT || fd == -ENOTDIR) /* absence is cached too */
            fc_release(fc_put(fc, rel, -1, NULL, now));
        return -status_for_errno(-fd);
    }
    if (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
        close(fd);
        return -404;
    }
    if (S_ISDIR(st.st_mode)) {
        *dirfd = fd;
        return FOUND_DIR;
    }
    *file = fc_put(fc, rel, fd, &st, now);
    return FOUND_FILE;
}

/* The q-value of one Accept-Encoding element's parameters (1 when absent). */
static double element_q(const char *p, const char *stop)
{
    const char *q = memmem(p, (size_t)(stop - p), "q=", 2);
    if (!q)
        return 1.0;
    char num[16];
    size_t n = (size_t)(stop - q - 2) < sizeof(num) - 1 ? (size_t)(stop - q - 2) : sizeof(num) - 1;
    memcpy(num, q + 2, n);
    num[n] = 0;
    return strtod(num, NULL);
}

/* 1 when Accept-Encoding allows coding (by name, or by "*"), q=0 refusing it. */
static int accepts_encoding(const struct request *r, const char *coding)
{
    const struct http_header *h = request_header(r, "accept-encoding");
    if (!h || !h->value.p)
        return 0;
    int star = 0;
    const char *p = h->value.p, *end = p + h->value.n;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p >= end)
            break;
        const char *stop = memchr(p, ',', (size_t)(end - p));
        stop = stop ? stop : end;
        const char *tok_end = p;
        while (tok_end < stop && *tok_end != ';' && *tok_end != ' ' && *tok_end != '\t')
            tok_end++;
        size_t n = (size_t)(tok_end - p);
        int ok = element_q(tok_end, stop) > 0;
        if (n == strlen(coding) && strncasecmp(p, coding, n) == 0)
            return ok;
        if (n == 1 && p[0] == '*')
            star = ok;
        p = stop;
    }
    return star;
}

/* Picks file or its best precompressed sibling the client accepts. */
static void choose_variant(const struct request *r, const struct files_conf *fc, const char *rel,
                           double now, struct chosen *ch)
{
    char name[PATH_MAX + 4];
    for (size_t i = 0; fc->precompressed && i < sizeof(encodings) / sizeof(encodings[0]); i++) {
        struct fc_entry *v = NULL;
        int dirfd = -1;
        if (snprintf(name, sizeof(name), "%s%s", rel, encodings[i][0]) >= (int)sizeof(name))
            continue;
        int found = find(fc, name, now, &v, &dirfd);
        if (found == FOUND_DIR)
            close(dirfd);
        if (found != FOUND_FILE)
            continue;
        ch->has_variant = 1;
        if (!ch->encoding && accepts_encoding(r, encodings[i][1])) {
            fc_release(ch->file);
            ch->file = v;
            ch->encoding = encodings[i][1];
        } else {
            fc_release(v);
        }
    }
}

static void add_validators(struct request *r, const struct files_conf *fc, const char *etag,
                           time_t mtime, const struct chosen *ch)
{
    char date[32];
    http_format_date(mtime, date);
    resp_header(r, "Last-Modified", date, strlen(date));
    resp_header(r, "ETag", etag, strlen(etag));
    if (fc->max_age) {
        char cc[40];
        int n = snprintf(cc, sizeof(cc), "max-age=%llu", (unsigned long long)fc->max_age);
        resp_header(r, "Cache-Control", cc, (size_t)n);
    }
    if (ch->has_variant)
        resp_header(r, "Vary", "Accept-Encoding", 15);
}

static void release_entry(void *arg)
{
    fc_release(arg);
}

/* The body: small files are read into the answer, big ones go out with sendfile. */
static void attach_body(struct request *r, struct fc_entry *e, off_t start, off_t len)
{
    if (len <= SMALL_FILE && !r->head_only) {
        struct buf *b = resp_body_buf(r);
        buf_reserve(b, (size_t)len);
        ssize_t got = pread(e->fd, b->data + b->len, (size_t)len, start);
        if (got == len) {
            b->len += (size_t)len;
            fc_release(e);
            return;
        }
        b->len = 0; /* short read: fall back to sendfile, which reports the truth */
    }
    resp_body_file(r, e->fd, start, (size_t)len, release_entry, e);
}

static void send_unsatisfiable(struct request *r, const struct stat *st)
{
    char cr[64];
    int n = snprintf(cr, sizeof(cr), "bytes */%lld", (long long)st->st_size);
    resp_begin(r, 416);
    resp_header(r, "Content-Range", cr, (size_t)n);
    resp_header(r, "Content-Type", "text/plain; charset=utf-8", 25);
    buf_puts(resp_body_buf(r), "416 Range Not Satisfiable\n");
    resp_finish(r);
}

static void send_file(struct request *r, const struct files_conf *fc, const char *rel,
                      struct chosen *ch)
{
    const struct stat *st = &ch->file->st;
    char etag[64];
    files_etag(st, etag, sizeof(etag));
    time_t mtime = st->st_mtim.tv_sec;
    enum files_precondition pre = files_preconditions(r, etag, mtime);
    if (pre == PRECONDITION_FAILED) {
        fc_release(ch->file);
        resp_error(r, 412);
        return;
    }
    off_t start = 0, len = st->st_size;
    enum files_range range = RANGE_WHOLE;
    const struct http_header *rh = request_header(r, "range");
    if (pre == PRECONDITION_OK && rh && rh->value.p && files_if_range_holds(r, etag, mtime))
        range = files_parse_range(rh->value, st->st_size, &start, &len);
    if (range == RANGE_UNSATISFIABLE) {
        send_unsatisfiable(r, st);
        fc_release(ch->file);
        return;
    }
    resp_begin(r, pre == PRECONDITION_NOT_MODIFIED ? 304 : range == RANGE_PARTIAL ? 206 : 200);
    add_validators(r, fc, etag, mtime, ch);
    if (pre == PRECONDITION_NOT_MODIFIED) {
        fc_release(ch->file);
        resp_finish(r);
        return;
    }
    const char *type = mime_type_for(rel);
    resp_header(r, "Content-Type", type, strlen(type));
    resp_header(r, "Accept-Ranges", "bytes", 5);
    if (ch->encoding)
        resp_header(r, "Content-Encoding", ch->encoding, strlen(ch->encoding));
    if (range == RANGE_PARTIAL) {
        char cr[96];
        int n = snprintf(cr, sizeof(cr), "bytes %lld-%lld/%lld", (long long)start,
                         (long long)(start + len - 1), (long long)st->st_size);
        resp_header(r, "Content-Range", cr, (size_t)n);
    }
    attach_body(r, ch->file, start, len);
    resp_finish(r);
}

/* A directory asked for without its slash: send the client to the slash. */
static void redirect_to_slash(struct request *r)
{
    static const char safe[] = "-._~/!$&'()*+,;=:@";
    static struct buf loc; /* one loop per process: a reused scratch buffer */
    loc.len = 0;
    for (size_t i = 0; i < r->path.n; i++) {
        unsigned char ch = (unsigned char)r->path.p[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            (ch && strchr(safe, ch)))
            buf_putc(&loc, (char)ch);
        else
            buf_printf(&loc, "%%%02X", ch);
    }
    buf_putc(&loc, '/');
    if (r->query.n) {
        buf_putc(&loc, '?');
        buf_append(&loc, r->query.p, r->query.n);
    }
    resp_begin(r, 301);
    resp_header(r, "Location", loc.data, loc.len);
    resp_finish(r);
}

static void serve_directory(struct request *r, const struct files_conf *fc, const char *rel,
                            int dirfd, double now)
{
    if (r->path.n == 0 || r->path.p[r->path.n - 1] != '/') {
        close(dirfd);
        redirect_to_slash(r);
        return;
    }
    char name[PATH_MAX];
    for (size_t i = 0; i < fc->nindex; i++) {
        struct chosen ch = {0};
        int sub = -1;
        if (snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", fc->index[i]) >=
            (int)sizeof(name))
            continue;
        int found = find(fc, name, now, &ch.file, &sub);
        if (found == FOUND_DIR)
            close(sub);
        if (found != FOUND_FILE)
            continue;
        close(dirfd);
        choose_variant(r, fc, name, now, &ch);
        send_file(r, fc, name, &ch);
        return;
    }
    if (fc->list) {
        files_send_listing(r, fc, dirfd);
        return;
    }
    close(dirfd);
    resp_error(r, 403);
}

void files_handle(struct request *r, const void *state)
{
    const struct files_conf *fc = state;
    char rel[PATH_MAX];
    int status = relative_path(r, fc, rel, sizeof(rel));
    if (status) {
        resp_error(r, status);
        return;
    }
    double now = ev_now(the_worker->loop); /* the loop serving r */
    struct chosen ch = {0};
    int dirfd = -1;
    int found = find(fc, rel, now, &ch.file, &dirfd);
    if (found < 0) {
        resp_error(r, -found);
    } else if (found == FOUND_DIR) {
        serve_directory(r, fc, rel, dirfd, now);
    } else {
        choose_variant(r, fc, rel, now, &ch);
        send_file(r, fc, rel, &ch);
    }
}

void files_destroy(void *state)
{
    struct files_conf *fc = state;
    if (!fc)
        return;
    fc_forget_owner(fc);
    if (fc->root_fd >= 0)
        close(fc->root_fd);
    for (size_t i = 0; i < fc->nindex; i++)
        free(fc->index[i]);
    free(fc->index);
    free(fc->only_file);
    free(fc->root);
    free(fc);
}
