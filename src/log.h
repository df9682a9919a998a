/* The error log and the access log. Both are buffered and written once per
 * loop iteration (log_flush), never a write per request; error-level lines
 * are written at once. */
#ifndef YH_LOG_H
#define YH_LOG_H

#include <sys/types.h>

#include "config.h"

struct request;

/* Opens (or reopens) the logs a config names. Returns 0, or -1 with errno set
 * and the failing path in *failed. On failure the previous logs stay in use. */
int log_open(const struct config *cfg, const char **failed);
/* Gives the open log files to the workers' user (after a reopen as root). */
void log_chown(uid_t uid, gid_t gid);
/* Closes log files (stdout/stderr stay). */
void log_close(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Formats the access log line for a finished answer into the buffer. */
void log_access(const struct request *r, double now);
/* Writes out buffered access log lines. */
void log_flush(void);

#endif
