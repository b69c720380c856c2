/*
 * options: keel-cli's command line (redis-cli 7.0's options), the
 * redis:// URI, the password prompt, and the quoted-argument splitter the
 * prompt and --quoted-input share.
 */
#ifndef KEEL_CLI_OPTIONS_H
#define KEEL_CLI_OPTIONS_H

#include <stdio.h>

#include "cli.h"

/* Defaults: 127.0.0.1:6379, raw output unless stdout is a terminal. */
void cli_opts_init(cli_opts *o, int stdout_is_tty);
/* Index of the first argument that is not an option (the command), or -1
 * after printing why the line is refused. */
int cli_parse_options(cli_opts *o, int argc, char **argv);
/* REDISCLI_AUTH, when no password was given. */
void cli_parse_env(cli_opts *o);
void cli_usage(FILE *f);
/* redis://[[user]:pass@]host[:port][/db] and rediss://. 0 or -1. */
int cli_parse_uri(cli_opts *o, const char *uri);
/* A line read from the terminal without echo (malloc'ed). */
char *cli_ask_password(const char *prompt);

/* Split a line into arguments the way redis-cli's prompt does: blanks
 * separate, "double quotes" take \n \r \t \b \a \xhh escapes, 'single
 * quotes' only \'. NULL on unbalanced quotes. Each argument is malloc'ed
 * and NUL-terminated; lens gives the lengths (arguments may hold NULs). */
char **cli_split_args(const char *line, int *argc, size_t **lens);
void cli_free_args(char **argv, int argc, size_t *lens);
/* One quoted string's value (NULL when s is not exactly one argument). */
char *cli_unquote(const char *s, size_t *len);

#endif
