/*
 * slowlog: the SLOWLOG command and the log of slow commands behind it.
 *
 * Dispatch hands every finished command to slowlog_command_done(); the
 * entry is kept when the command ran for at least slowlog-log-slower-than
 * microseconds (negative: never, 0: always). See slowlog.c for the design.
 */
#ifndef KEEL_SLOWLOG_H
#define KEEL_SLOWLOG_H

#include "core/command.h"

struct client;

/* Its settings (slowlog-log-slower-than, slowlog-max-len) are in its own
 * parameter table, slowlog_configs (core/config.h). */

/* A command ran for duration_us on c (c->argv still holds its arguments).
 * Blocked clients are skipped: the command is logged when it is served. */
void slowlog_command_done(struct client *c, const struct command *cmd, long long duration_us);

/* SLOWLOG LEN, for INFO-style readers and tests. */
long slowlog_length(void);
/* The newest entry's id and duration (0, 0 when the log is empty). */
void slowlog_newest(long long *id, long long *duration_us);

extern command slowlog_commands[];

#endif
