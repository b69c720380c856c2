/*
 * sentinel: Keel's own Sentinel, a process that speaks Redis Sentinel
 * 7.0's protocol (commands, hello messages, votes, events, config file),
 * so that it replaces redis-sentinel and can sit in one quorum with it.
 *
 * Sentinel mode is a mode of the whole process, chosen once at start-up
 * (`keel-server --sentinel`, or the program name keel-sentinel): the
 * server then serves only Sentinel's command set and no keyspace. This
 * header is all the core sees of it: how to detect the mode, the
 * start-up steps, and the command table.
 */
#ifndef KEEL_SENTINEL_H
#define KEEL_SENTINEL_H

#include "core/command.h"

/* Whether argv asks for sentinel mode (argv[0] named keel-sentinel or
 * redis-sentinel, or a "--sentinel" argument anywhere); removes the
 * "--sentinel" argument from argv, updating *argc. */
int sentinel_mode_requested(int *argc, char **argv);
/* Config text applied after the defaults and before the file in
 * sentinel mode (port 26379, no save points). */
const char *sentinel_startup_defaults(void);
/* Handles a "sentinel ..." line of the config file (argv without the
 * word "sentinel"); 0 with *err set when the line is wrong. */
int sentinel_config_line(char **argv, int argc, const char **err);
/* Right after the configuration is read: checks that the config file
 * exists and is writable, applies its sentinel lines. Exits on a
 * configuration that cannot work, as Redis does. */
void sentinel_config_loaded(void);
/* Once the event loop exists: makes an id if the file had none, rewrites
 * the file, starts the timer. */
void sentinel_start(void);
int sentinel_active(void);

/* The command set served in sentinel mode: sentinel's own commands, and
 * the names of the general commands it keeps. */
extern command sentinel_commands[];
extern const char *const sentinel_kept_commands[];

#endif
