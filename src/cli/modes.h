/*
 * modes: the option rows of keel-cli's own modes (latency, pipe, rdb),
 * whose settings live in the modes' files. Private to keel-cli's core
 * files; the analysis modes plug in through cli.h instead.
 */
#ifndef KEEL_CLI_MODES_H
#define KEEL_CLI_MODES_H

#include "cli.h"

extern const cli_option latency_options[];
extern const cli_option pipe_options[];
extern const cli_option rdb_options[];
extern const cli_option eval_options[];
int mode_eval(cli_ctx *ctx);

/* The interactive prompt's history file and hints settings. */
int repl_run(cli_opts *o);

/* Run one command line (argv of the command) as redis-cli does: repeat,
 * interval, redirections, MONITOR / SUBSCRIBE streams. ctx->conn may be
 * NULL or replaced (reconnection, cluster redirection). Returns 0, or -1
 * when the command could not be sent or its reply not read. */
int cli_issue_command(cli_ctx *ctx, int argc, char **argv, size_t *lens, long long repeat);

/* The interactive session's view of the connection (prompt state). */
typedef struct cli_session {
    int dbnum;        /* the database currently selected */
    int in_multi;     /* inside MULTI: "(TX)" */
    int pre_multi_db; /* dbnum to restore when a transaction is dropped */
    int pubsub_mode;  /* RESP3 subscribed mode on an interactive prompt */
    int interactive;
} cli_session;
extern cli_session cli_state;

/* A reply seen on the prompt: (un)subscribe confirmations enter or leave
 * subscribed mode. */
void cli_note_pubsub_reply(const rr_reply *r);

#endif
