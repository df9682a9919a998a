/* `files:` — static files beneath a root, as nginx users expect them. */
#ifndef YH_HANDLERS_FILES_H
#define YH_HANDLERS_FILES_H

#include <stddef.h>
#include <stdint.h>

struct request;

struct files_conf {
    char *root;      /* as configured, for messages */
    int root_fd;     /* O_PATH: the root directory, or the directory of a file root */
    char *only_file; /* a file root: the one name served beneath root_fd */
    char **index;
    size_t nindex;
    int list;
    int precompressed;
    int dotfiles;
    uint64_t max_age; /* seconds; 0: no Cache-Control */
};

void files_handle(struct request *r, const void *state);
void files_destroy(void *state);

/* The HTML listing of the directory fd (taken and closed) into r's answer. */
void files_send_listing(struct request *r, const struct files_conf *fc, int dirfd);

#endif
