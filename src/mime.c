/* Content types by file extension: /etc/mime.types, then a built-in table. */
#include "mime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIME_SYSTEM_FILE "/etc/mime.types"

struct mime_entry {
    char *ext;  /* lower case */
    char *type; /* with "; charset=utf-8" already added for text types */
    int rank;   /* 0: /etc/mime.types, 1: built-in (the system file wins) */
};

/* The common web types, for systems without /etc/mime.types. */
static const char *const builtin[][2] = {
    {"html", "text/html"},       {"htm", "text/html"},
    {"css", "text/css"},         {"js", "text/javascript"},
    {"mjs", "text/javascript"},  {"json", "application/json"},
    {"txt", "text/plain"},       {"xml", "application/xml"},
    {"svg", "image/svg+xml"},    {"png", "image/png"},
    {"jpg", "image/jpeg"},       {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},        {"webp", "image/webp"},
    {"avif", "image/avif"},      {"ico", "image/vnd.microsoft.icon"},
    {"woff", "font/woff"},       {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},         {"otf", "font/otf"},
    {"pdf", "application/pdf"},  {"wasm", "application/wasm"},
    {"zip", "application/zip"},  {"gz", "application/gzip"},
    {"mp4", "video/mp4"},        {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},       {"ogg", "audio/ogg"},
    {"md", "text/markdown"},     {"csv", "text/csv"},
    {"map", "application/json"}, {"webmanifest", "application/manifest+json"},
};

static struct {
    struct mime_entry *items;
    size_t n, cap;
    int loaded;
} table;

/* Text types get an explicit charset (JavaScript's legacy type is text too);
 * JSON and XML define their own encoding rules and get none. */
static int is_text(const char *type)
{
    return strncmp(type, "text/", 5) == 0 || strcmp(type, "application/javascript") == 0;
}

static void add_entry(const char *ext, const char *type, int rank)
{
    if (table.n == table.cap) {
        table.cap = table.cap ? table.cap * 2 : 256;
        table.items = realloc(table.items, table.cap * sizeof(*table.items));
        if (!table.items)
            abort();
    }
    size_t len = strlen(type) + sizeof("; charset=utf-8");
    char *full = malloc(len);
    char *e = strdup(ext);
    if (!full || !e)
        abort();
    snprintf(full, len, "%s%s", type, is_text(type) ? "; charset=utf-8" : "");
    for (char *p = e; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    table.items[table.n++] = (struct mime_entry){e, full, rank};
}

/* One "type ext ext ..." line of mime.types. */
static void parse_line(char *line)
{
    char *save = NULL;
    char *type = strtok_r(line, " \t\r\n", &save);
    if (!type || type[0] == '#')
        return;
    for (char *ext; (ext = strtok_r(NULL, " \t\r\n", &save));)
        add_entry(ext, type, 0);
}

static int entry_cmp(const void *a, const void *b)
{
    const struct mime_entry *x = a, *y = b;
    int c = strcmp(x->ext, y->ext);
    return c ? c : x->rank - y->rank;
}

/* Sorted by extension, so a lookup is a binary search. */
static void load_table(void)
{
    table.loaded = 1;
    for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
        add_entry(builtin[i][0], builtin[i][1], 1);
    FILE *f = fopen(MIME_SYSTEM_FILE, "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof(line), f))
            parse_line(line);
        fclose(f);
    }
    qsort(table.items, table.n, sizeof(*table.items), entry_cmp);
}

/* The first entry (best rank) for a lower-case extension, or NULL. */
static const struct mime_entry *find_ext(const char *ext)
{
    size_t lo = 0, hi = table.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(table.items[mid].ext, ext) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < table.n && strcmp(table.items[lo].ext, ext) == 0 ? &table.items[lo] : NULL;
}

const char *mime_type_for(const char *name)
{
    if (!table.loaded)
        load_table();
    const char *dot = strrchr(name, '.');
    const char *slash = strrchr(name, '/');
    char ext[32];
    size_t n = 0;
    if (!dot || (slash && dot < slash))
        return "application/octet-stream";
    for (const char *p = dot + 1; *p && n < sizeof(ext) - 1; p++)
        ext[n++] = (char)tolower((unsigned char)*p);
    ext[n] = 0;
    const struct mime_entry *e = n ? find_ext(ext) : NULL;
    return e ? e->type : "application/octet-stream";
}
