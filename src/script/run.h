/*
 * run: the state of the script being executed, and what the server does
 * around it. One script runs at a time (the server is single-threaded);
 * its caller, flags and start time live here, so that redis.call, the
 * time hook, SCRIPT KILL / FUNCTION KILL and command dispatch (which
 * answers -BUSY to other clients while a slow script runs) all read the
 * same record.
 *
 * redis.call goes through run_command(): the same checks dispatch makes
 * (unknown command, arity, no-script commands, writes from read-only
 * scripts, OOM before the first write) in Redis's words for scripts, then
 * command_call() on a fake client, so statistics, keyspace effects and
 * write propagation are exactly those of a command sent by a client.
 */
#ifndef KEEL_SCRIPT_RUN_H
#define KEEL_SCRIPT_RUN_H

#include <stdint.h>
#include "lib/kstr.h"
#include "net/client.h"

/* Script flags (shebang "flags=" or register_function's flags). */
#define SCRIPT_FLAG_NO_WRITES (1 << 0)
#define SCRIPT_FLAG_ALLOW_OOM (1 << 1)
#define SCRIPT_FLAG_ALLOW_STALE (1 << 2)
#define SCRIPT_FLAG_NO_CLUSTER (1 << 3)
#define SCRIPT_FLAG_ALLOW_CROSS_SLOT (1 << 4)
#define SCRIPT_FLAG_EVAL_COMPAT (1 << 5) /* EVAL without a shebang */

/* Run state flags. */
#define RUN_EVAL (1 << 0)
#define RUN_READ_ONLY (1 << 1)
#define RUN_ALLOW_OOM (1 << 2)
#define RUN_WRITE_DIRTY (1 << 3)
#define RUN_KILLED (1 << 4)
#define RUN_TIMEDOUT (1 << 5)
#define RUN_ALLOW_CROSS_SLOT (1 << 6) /* cluster mode: keys of any slot */

typedef struct script_run {
    client *caller;
    client *fake;          /* runs the redis.call commands */
    int flags;
    int oom_at_start;      /* over maxmemory when the script started */
    long long start_us;    /* monotonic */
    const char *funcname;  /* "f_<sha>" or the function's name */
    int cluster_slot;      /* cluster mode: the slot its keys use so far, -1 */
} script_run;

/* Parse "name1,name2" (a shebang's flags=) into SCRIPT_FLAG_*; -1 and
 * *err set on an unknown flag. */
int script_flags_parse(const char *s, size_t len, kstr *err);
/* The flag names of flags, as FUNCTION LIST shows them; returns count. */
int script_flags_names(int flags, const char **names, int max);

/* Checks before the run (Redis's scriptPrepareForRun) and the start of
 * it: replies the error to caller and returns -1 when refused. */
int run_begin(script_run *run, client *caller, const char *funcname, int script_flags, int ro, int eval);
void run_end(script_run *run);

/* The running script, or NULL. */
script_run *run_current(void);

/* A redis.call: argv (taken) is run; the reply is left in the fake
 * client. Returns 0, or -1 with *err set (Redis's text for scripts,
 * without code: "ERR" is added by the caller) when refused before
 * running. */
int run_command(script_run *run, int argc, kstr *argv, kstr *err);

/* Called by the Lua count hook: past busy-reply-threshold, serve other
 * clients (they get -BUSY). Returns 1 when the script must stop (SCRIPT
 * KILL, FUNCTION KILL, SHUTDOWN NOSAVE). */
int run_interrupt(void);

/* busy-reply-threshold, milliseconds (lua-time-limit is its alias). */
extern long long run_busy_threshold_ms;

/* SCRIPT KILL (is_eval) and FUNCTION KILL. */
void run_kill(client *c, int is_eval);

#endif
