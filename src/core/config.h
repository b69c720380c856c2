/*
 * config: every configuration parameter, once, in a table: its name (and
 * older alias), type, where its value lives, default, limits. The same
 * table serves the config file, the command line, CONFIG GET/SET/RESETSTAT
 * and defaults, so a parameter cannot be settable in one place and not in
 * another.
 */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include "net/client.h"

/* Load defaults, then the file (if any), then command-line options.
 * On error prints which line and why, and exits with status 1. */
void config_load(int argc, char **argv);

/* CONFIG GET/SET/RESETSTAT/REWRITE/HELP handlers. */
void config_command_get(client *c);
void config_command_set(client *c);
void config_command_resetstat(client *c);
void config_command_rewrite(client *c);
void config_command_help(client *c);

#endif
