/* `files:` with `list: true` — an HTML index of a directory, names escaped. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../request.h"
#include "files.h"

struct listed {
    char *name;
    int is_dir;
};

static void html_escape(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<':
            buf_puts(b, "&lt;");
            break;
        case '>':
            buf_puts(b, "&gt;");
            break;
        case '&':
            buf_puts(b, "&amp;");
            break;
        case '"':
            buf_puts(b, "&quot;");
            break;
        case '\'':
            buf_puts(b, "&#39;");
            break;
        default:
            buf_putc(b, s[i]);
        }
    }
}

/* A name as a relative URL: everything but unreserved characters encoded. */
static void url_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c))
            buf_putc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct listed *)a)->name, ((const struct listed *)b)->name);
}

static int entry_is_dir(int dirfd, const struct dirent *d)
{
    if (d->d_type != DT_UNKNOWN && d->d_type != DT_LNK)
        return d->d_type == DT_DIR;
    struct stat st;
    return fstatat(dirfd, d->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* Reads the visible entries of dir, sorted. */
static struct listed *read_entries(DIR *dir, int dotfiles, size_t *count)
{
    struct listed *items = NULL;
    size_t n = 0, cap = 0;
    struct dirent *d;
    while ((d = readdir(dir))) {
        if (d->d_name[0] == '.' &&
            (!dotfiles || !strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            items = realloc(items, cap * sizeof(*items));
            if (!items)
                abort();
        }
        items[n].name = strdup(d->d_name);
        if (!items[n].name)
            abort();
        items[n++].is_dir = entry_is_dir(dirfd(dir), d);
    }
    if (n > 1) /* an empty directory has no array to sort (qsort wants one) */
        qsort(items, n, sizeof(*items), by_name);
    *count = n;
    return items;
}

void files_send_listing(struct request *r, const struct files_conf *fc, int fd)
{
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        resp_error(r, 403);
        return;
    }
    size_t n;
    struct listed *items = read_entries(dir, fc->dotfiles, &n);
    closedir(dir);
    resp_begin(r, 200);
    resp_header(r, "Content-Type", "text/html; charset=utf-8", 24);
    struct buf *b = resp_body_buf(r);
    buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
    html_escape(b, r->path.p, r->path.n);
    buf_puts(b, "</title></head>\n<body><h1>Index of ");
    html_escape(b, r->path.p, r->path.n);
    buf_puts(b, "</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n");
    for (size_t i = 0; i < n; i++) {
        buf_puts(b, "<li><a href=\"");
        url_escape(b, items[i].name);
        buf_puts(b, items[i].is_dir ? "/\">" : "\">");
        html_escape(b, items[i].name, strlen(items[i].name));
        buf_puts(b, items[i].is_dir ? "/</a></li>\n" : "</a></li>\n");
        free(items[i].name);
    }
    free(items);
    buf_puts(b, "</ul>\n</body></html>\n");
    resp_finish(r);
}
