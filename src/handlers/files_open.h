/* Opening a path strictly beneath a root directory. */
#ifndef YH_FILES_OPEN_H
#define YH_FILES_OPEN_H

/*
 * Opens rel (relative, no leading '/') beneath the directory root_fd, for
 * reading, non-blocking (a FIFO never blocks us). Never resolves outside the
 * root: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has
 * it; elsewhere a component walk with O_NOFOLLOW (symlinks refused).
 * Returns the fd, or -errno (-EXDEV: it would leave the root).
 */
int files_open_beneath(int root_fd, const char *rel);

/* 1 when a component of rel starts with '.' (dotfiles are hidden by default). */
int files_has_dot_component(const char *rel);

#endif
