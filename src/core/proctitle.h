/*
 * proctitle: the process title `ps` and /proc/<pid>/cmdline show, as
 * Redis sets it: `proc-title-template` ("{title} {listen-addr}
 * {server-mode}" by default) expanded, so that an operator with several
 * servers on a host sees which one listens where.
 *
 * Linux keeps the command line in the memory that held argv and environ
 * at start-up; the title is written there, so proctitle_init() first
 * copies argv and environ elsewhere (the server uses the copies) and the
 * original block becomes the title's space.
 */
#ifndef KEEL_PROCTITLE_H
#define KEEL_PROCTITLE_H

/* First thing in main: returns the argv copy the rest of main uses. */
char **proctitle_init(int argc, char **argv);
/* Expand the template and write the title (after the listeners exist). */
void proctitle_update(void);

#endif
