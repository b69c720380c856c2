/*
 * cmddocs: the prompt's knowledge of commands, taken from the server's
 * COMMAND DOCS when the prompt starts, so a command the server gains needs
 * no keel-cli update: help texts (help SET, help @string), completion of
 * command names and help topics, and the argument hint shown while typing.
 */
#ifndef KEEL_CLI_CMDDOCS_H
#define KEEL_CLI_CMDDOCS_H

#include "conn.h"

/* Ask the server (0), or -1 when it has no COMMAND DOCS (the prompt then
 * works without help, hints or completion). */
int docs_load(cli_conn *c);
int docs_loaded(void);
void docs_free(void);

/* help, help @group, help COMMAND [SUBCOMMAND]: printed on stdout. */
void docs_print_help(int argc, char **argv);

/* The argument hint for a partly typed line (NULL: none). The result is
 * malloc'ed; it starts with a space when the line does not end in one. */
char *docs_hint(const char *line);

/* Completions of the line's last word: command names, or after "help "
 * topics too. Calls add(priv, full_line_completed) for each match. */
void docs_complete(const char *line, void (*add)(void *priv, const char *completion), void *priv);

#endif
