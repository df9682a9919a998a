/* Dropping root in worker processes. */
#ifndef YH_PRIVDROP_H
#define YH_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

/* Who the workers run as, resolved at load while /etc/passwd is readable. */
struct run_as {
    int drop; /* 0 when not started as root: nothing to do */
    uid_t uid;
    gid_t gid;
    char name[64];
};

/* Resolves `user:`/`group:` (NULL: defaults) into *out. Started as root without
 * `user:`, workers run as "nobody" (never as root unless `user: root`).
 * Returns 0, or -1 with a message in err. */
int privdrop_resolve(const char *user, const char *group, struct run_as *out, char *err,
                     size_t errlen);

/* In a worker: setgroups, setgid, setuid, PR_SET_NO_NEW_PRIVS. Returns 0, or -1
 * with a message in err (the worker must then exit). */
int privdrop_apply(const struct run_as *ra, char *err, size_t errlen);

#endif
