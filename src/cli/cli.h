/*
 * keel-cli: what a mode sees, and how a mode is plugged in.
 *
 * keel-cli is redis-cli's command line: options, then an optional command.
 * Without a command it runs the interactive prompt; with one it runs the
 * command; with a mode option (--latency, --pipe, --bigkeys, ...) it runs
 * that mode instead. Each mode is one function `int mode_xxx(cli_ctx *)`
 * returning the process's exit code, and each is selected by a row of an
 * option table: the rows whose apply() calls cli_select_mode().
 *
 * Plugging a mode in without touching the files that define the others:
 * a file of src/cli/ defines its options in a table named
 * cli_analysis_options (terminated by a row with a NULL name); options.c
 * looks names up there after its own table, and --help lists them. The
 * memory analysis modes (analysis_*.c) do so. The declaration is weak so
 * that keel-cli builds and runs whether that table exists or not.
 *
 * A mode's own settings (--memkeys-samples, --warn, ...) are static
 * variables of the mode's file, written by its rows' apply(). What several
 * modes share (-i, --pattern, --count, --type, output mode, connection) is
 * in cli_opts.
 */
#ifndef KEEL_CLI_H
#define KEEL_CLI_H

#include "buf.h"
#include "conn.h"
#include "format.h"

typedef struct cli_ctx cli_ctx;
typedef int (*cli_mode_fn)(cli_ctx *ctx);

typedef struct cli_opts {
    /* where and who */
    char *host;          /* -h (default 127.0.0.1) */
    int port;            /* -p (default 6379) */
    char *socket;        /* -s */
    char *user;          /* --user */
    char *pass;          /* -a / --pass / REDISCLI_AUTH */
    int askpass;         /* --askpass */
    int dbnum;           /* -n */
    int resp2;           /* -2 */
    int resp3;           /* -3: 1; --json asks for 3 softly: 2 */
    int tls;             /* --tls / rediss:// (not built: refused) */
    int no_auth_warning; /* --no-auth-warning */
    /* how replies are printed */
    enum cli_output output;
    char *mb_delim;      /* -d (default "\n") */
    char *cmd_delim;     /* -D (default "\n") */
    int push_output;     /* --show-pushes (default: stdout is a tty) */
    /* how the command runs */
    long long repeat;    /* -r (default 1; negative: forever) */
    long long interval_us; /* -i, in microseconds */
    int stdin_lastarg;   /* -x */
    char *stdin_tag;     /* -X tag */
    int quoted_input;    /* --quoted-input */
    int set_errcode;     /* -e */
    int cluster_mode;    /* -c */
    int verbose;         /* --verbose */
    /* shared by the scanning modes */
    char *pattern;       /* --pattern / --quoted-pattern */
    long long count;     /* --count (SCAN COUNT; 0: server default) */
    char *type;          /* --type */
    /* the selected mode (NULL: command or interactive) */
    cli_mode_fn mode;
    const char *mode_name;
    int mode_connects;   /* connect before calling the mode */
} cli_opts;

struct cli_ctx {
    cli_opts *opts;
    cli_conn *conn; /* connected, authenticated, db selected (mode_connects) */
    int argc;       /* arguments left after the options */
    char **argv;
};

typedef struct cli_option {
    const char *name;   /* "--bigkeys", "-h" */
    int takes_arg;      /* 1: the next argument is its value */
    /* 0, or -1 after printing why the value is refused */
    int (*apply)(cli_opts *o, const char *arg);
    const char *help;   /* --help line (after the name); NULL: not listed */
} cli_option;

/* The analysis modes' options (weak: may be absent). */
extern const cli_option cli_analysis_options[] __attribute__((weak));

/* Called by an option's apply(): run `fn` instead of a command. connects:
 * keel-cli connects (AUTH, SELECT, HELLO) before calling it. A second mode
 * option on the same line is refused, as redis-cli runs only one. */
int cli_select_mode(cli_opts *o, cli_mode_fn fn, const char *name, int connects);

/* Connect with the options' address and credentials: AUTH, SELECT -n,
 * HELLO 3 when asked. Prints redis-cli's message on failure unless quiet;
 * NULL then. */
cli_conn *cli_connect(const cli_opts *o, int quiet);

/* Print one reply as the options say (output mode, delimiters). */
void cli_print_reply(const cli_opts *o, const rr_reply *r, int verbatim);

/* Microseconds / milliseconds of the wall clock. */
long long cli_ustime(void);
long long cli_mstime(void);

/* Modes built in keel-cli's own files. */
int mode_latency(cli_ctx *ctx);
int mode_latency_dist(cli_ctx *ctx);
int mode_intrinsic_latency(cli_ctx *ctx);
int mode_pipe(cli_ctx *ctx);
int mode_rdb(cli_ctx *ctx);
int mode_repl(cli_ctx *ctx);

#endif
