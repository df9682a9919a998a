/* Dropping root in worker processes. */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int resolve_group(const char *group, gid_t *gid, char *err, size_t errlen)
{
    struct group *gr = getgrnam(group);
    if (!gr) {
        snprintf(err, errlen, "group `%s` does not exist", group);
        return -1;
    }
    *gid = gr->gr_gid;
    return 0;
}

int privdrop_resolve(const char *user, const char *group, struct run_as *out, char *err,
                     size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (geteuid() != 0)
        return 0; /* not root: run as we are */
    const char *name = user ? user : "nobody";
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        snprintf(err, errlen, "user `%s` does not exist", name);
        return -1;
    }
    out->drop = 1;
    out->uid = pw->pw_uid;
    out->gid = pw->pw_gid;
    snprintf(out->name, sizeof(out->name), "%s", name);
    if (group)
        return resolve_group(group, &out->gid, err, errlen);
    if (!user && getgrnam("nogroup"))
        out->gid = getgrnam("nogroup")->gr_gid;
    return 0;
}

int privdrop_apply(const struct run_as *ra, char *err, size_t errlen)
{
    if (ra->drop) {
        if (setgroups(1, &ra->gid) < 0 || setgid(ra->gid) < 0 || setuid(ra->uid) < 0) {
            snprintf(err, errlen, "cannot switch to user `%s`: %s", ra->name, strerror(errno));
            return -1;
        }
        /* setuid() to a non-root uid must be irreversible. */
        if (ra->uid != 0 && setuid(0) == 0) {
            snprintf(err, errlen, "privileges could be regained after dropping them");
            return -1;
        }
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return -1;
    }
    return 0;
}
