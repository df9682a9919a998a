/* Opening a path strictly beneath a root directory. */
#include "files_open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)

static int kernel_lacks_openat2;

static int open_with_openat2(int root_fd, const char *rel)
{
#ifdef SYS_openat2
    struct open_how how = {
        .flags = OPEN_FLAGS,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
    if (fd >= 0)
        return (int)fd;
    if (errno == ENOSYS || errno == EPERM) /* EPERM: a seccomp filter without openat2 */
        kernel_lacks_openat2 = 1;
    return -errno;
#else
    kernel_lacks_openat2 = 1;
    return -ENOSYS;
#endif
}

/* One component at a time, refusing symlinks and "..": equivalent safety. */
static int open_by_walk(int root_fd, const char *rel)
{
    int dir = dup(root_fd);
    if (dir < 0)
        return -errno;
    const char *p = rel;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char comp[256];
        if (n >= sizeof(comp) || (n == 2 && p[0] == '.' && p[1] == '.')) {
            close(dir);
            return n >= sizeof(comp) ? -ENAMETOOLONG : -EXDEV;
        }
        memcpy(comp, p, n);
        comp[n] = 0;
        int last = !slash || slash[1] == 0;
        int fd = n == 0 ? dup(dir)
                        : openat(dir, comp,
                                 last ? OPEN_FLAGS | O_NOFOLLOW
                                      : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        close(dir);
        if (fd < 0)
            return -err;
        if (last)
            return fd;
        dir = fd;
        p = slash + 1;
    }
}

int files_open_beneath(int root_fd, const char *rel)
{
    if (!*rel)
        rel = ".";
    if (!kernel_lacks_openat2) {
        int fd = open_with_openat2(root_fd, rel);
        if (!kernel_lacks_openat2)
            return fd;
    }
    return open_by_walk(root_fd, rel);
}

int files_has_dot_component(const char *rel)
{
    for (const char *p = rel; *p;) {
        if (*p == '.')
            return 1;
        const char *slash = strchr(p, '/');
        if (!slash)
            break;
        p = slash + 1;
    }
    return 0;
}
