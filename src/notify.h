/* Service manager notifications (sd_notify); no-ops without libsystemd or NOTIFY_SOCKET. */
#ifndef YH_NOTIFY_H
#define YH_NOTIFY_H

/* READY=1 with a STATUS= line. */
void notify_ready(const char *status);
/* RELOADING=1 with MONOTONIC_USEC=, before a reload is attempted. */
void notify_reloading(void);
/* STOPPING=1 when a stop begins. */
void notify_stopping(void);
/* A STATUS= line alone (printf-style). */
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Listening sockets passed by socket activation (LISTEN_FDS), made non-blocking.
 * Returns how many (0 when none); the fds start at 3. */
int notify_listen_fds(void);

/* How many sockets socket activation passes to this process, without taking them. */
int notify_activation_pending(void);

#endif
