/* The pre-fork master: binds, forks workers, supervises, reloads, stops. */
#ifndef YH_MASTER_H
#define YH_MASTER_H

struct config;

/* Runs the master for cfg (workers > 0) until stopped. Takes a reference to
 * cfg. Returns the process exit status. */
int master_run(struct config *cfg);

#endif
