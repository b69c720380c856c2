/* See run.h for the design. */
#include "acl/acl.h"
#include "script/run.h"
#include "script/script.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "memory/memory.h"
#include "net/reply.h"
#include "repl/repl.h"

#include <stdio.h>
#include <string.h>

long long run_busy_threshold_ms = 5000;

static script_run *current;
static int disable_deny;

void script_set_disable_deny(int on) { disable_deny = on; }
int script_is_running(void) { return current != NULL; }
static client *fake_client;

script_run *run_current(void) { return current; }

static const struct {
    const char *name;
    int flag;
} flag_names[] = {
    {"no-writes", SCRIPT_FLAG_NO_WRITES},   {"allow-oom", SCRIPT_FLAG_ALLOW_OOM},
    {"allow-stale", SCRIPT_FLAG_ALLOW_STALE}, {"no-cluster", SCRIPT_FLAG_NO_CLUSTER},
    {"allow-cross-slot-keys", SCRIPT_FLAG_ALLOW_CROSS_SLOT},
};
#define NFLAGS (int)(sizeof(flag_names) / sizeof(flag_names[0]))

int script_flags_parse(const char *s, size_t len, kstr *err) {
    int flags = 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && s[j] != ',') j++;
        if (j > i) {
            int k;
            for (k = 0; k < NFLAGS; k++)
                if (strlen(flag_names[k].name) == j - i && !memcmp(flag_names[k].name, s + i, j - i)) break;
            if (k == NFLAGS) {
                *err = kstr_cat_printf(kstr_empty(), "Unexpected flag in script shebang: %.*s", (int)(j - i), s + i);
                return -1;
            }
            flags |= flag_names[k].flag;
        }
        i = j + 1;
    }
    return flags;
}

int script_flags_names(int flags, const char **names, int max) {
    int n = 0;
    for (int k = 0; k < NFLAGS && n < max; k++)
        if (flags & flag_names[k].flag) names[n++] = flag_names[k].name;
    return n;
}

/* ---- the run ---- */

static int over_maxmemory(void) { return server.maxmemory && !memory_make_room(); }

int run_begin(script_run *run, client *caller, const char *funcname, int script_flags, int ro, int eval) {
    int oom = over_maxmemory();
    if (!(script_flags & SCRIPT_FLAG_EVAL_COMPAT)) {
        if (!(script_flags & SCRIPT_FLAG_NO_WRITES) && ro) {
            reply_error(caller, "ERR Can not execute a script with write flag using *_ro command.");
            return -1;
        }
        if (oom && !(script_flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES))) {
            reply_error(caller, "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'");
            return -1;
        }
    }
    if (!fake_client) fake_client = client_create_fake();
    memset(run, 0, sizeof(*run));
    run->caller = caller;
    run->fake = fake_client;
    run->fake->db = caller->db;
    run->fake->resp = 2;
    run->funcname = funcname;
    run->oom_at_start = oom;
    run->start_us = monotonic_us();
    if (eval) run->flags |= RUN_EVAL;
    if (ro || (!(script_flags & SCRIPT_FLAG_EVAL_COMPAT) && (script_flags & SCRIPT_FLAG_NO_WRITES)))
        run->flags |= RUN_READ_ONLY;
    if (!(script_flags & SCRIPT_FLAG_EVAL_COMPAT) && (script_flags & SCRIPT_FLAG_ALLOW_OOM)) run->flags |= RUN_ALLOW_OOM;
    current = run;
    return 0;
}

void run_end(script_run *run) {
    if (run->flags & RUN_TIMEDOUT) {
        server_log(LOG_WARNING, "Slow script finished: %lld milliseconds",
                   (monotonic_us() - run->start_us) / 1000);
        client_unprotect(run->caller);
    }
    client_discard_replies(run->fake);
    current = NULL;
}

/* ---- redis.call ---- */

static int refuse(kstr *err, const char *msg) {
    *err = kstr_new(msg);
    return -1;
}

static int check_command(script_run *run, command *cmd, int argc, kstr *err) {
    if (!cmd) return refuse(err, "Unknown Redis command called from script");
    if (cmd->arity > 0 ? argc != cmd->arity : argc < -cmd->arity)
        return refuse(err, "Wrong number of args calling Redis command from script");
    if ((cmd->flags & CMD_NOSCRIPT) && !disable_deny) return refuse(err, "This Redis command is not allowed from script");
    if ((run->flags & RUN_READ_ONLY) && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)))
        return refuse(err, "Write commands are not allowed from read-only scripts.");
    /* Under maxmemory, a command that may grow memory is refused unless
     * the script already wrote (stopping half-way would break its
     * atomicity) or declared allow-oom. */
    if (!(run->flags & (RUN_ALLOW_OOM | RUN_WRITE_DIRTY)) && server.maxmemory && run->oom_at_start &&
        (cmd->flags & CMD_DENYOOM))
        return refuse(err, "-OOM command not allowed when used memory > 'maxmemory'.");
    /* A read-only replica, or a master short of good replicas
     * (min-replicas-to-write), refuses the script's writes. */
    if (cmd->flags & CMD_WRITE) {
        const char *why = repl_deny_command(run->fake, cmd, 1);
        if (why) {
            *err = kstr_cat(kstr_new("-"), why);
            return -1;
        }
    }
    return 0;
}

int run_command(script_run *run, int argc, kstr *argv, kstr *err) {
    command *cmd = command_lookup_argv(argc, argv);
    if (check_command(run, cmd, argc, err) < 0 || !acl_check_script_call(run->caller, cmd, argc, argv, err)) {
        /* Counted as a rejected call and an error reply, as Redis does
         * (the script's own error reply then does not count it again). */
        if (cmd) cmd->rejected_calls++;
        const char *e = (*err)[0] == '-' ? *err + 1 : *err;
        kstr full = (*err)[0] == '-' ? kstr_new(e) : kstr_cat(kstr_new("ERR "), e);
        reply_note_error(full, kstr_len(full));
        kstr_free(full);
        for (int i = 0; i < argc; i++) kstr_free(argv[i]);
        zfree(argv);
        return -1;
    }
    client *f = run->fake;
    f->argc = argc;
    f->argv = argv;
    f->cmd = cmd;
    if (cmd->flags & CMD_WRITE) run->flags |= RUN_WRITE_DIRTY;
    command_call(f, cmd);
    client_free_argv(f);
    return 0;
}

/* ---- slow scripts ---- */

int run_interrupt(void) {
    script_run *run = current;
    if (!run) return 0;
    long long elapsed_ms = (monotonic_us() - run->start_us) / 1000;
    if (run_busy_threshold_ms <= 0 || elapsed_ms < run_busy_threshold_ms) return 0;
    if (!(run->flags & RUN_TIMEDOUT)) {
        server_log(LOG_WARNING,
                   "Slow script detected: still in execution after %lld milliseconds. "
                   "You can try killing the script using the %s command. Script name is: %s.",
                   elapsed_ms, (run->flags & RUN_EVAL) ? "SCRIPT KILL" : "FUNCTION KILL", run->funcname);
        run->flags |= RUN_TIMEDOUT;
        /* The caller waits for its reply: nothing is read from or written
         * to it until the script is over. */
        client_protect(run->caller);
    }
    server_update_cached_time();
    clients_process_while_busy();
    if (server.shutdown_asap) run->flags |= RUN_KILLED;
    return (run->flags & RUN_KILLED) != 0;
}

int script_is_busy(void) { return current && (current->flags & RUN_TIMEDOUT); }

const char *script_busy_error(void) {
    if (current && !(current->flags & RUN_EVAL))
        return "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
    return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
}

int script_busy_reject(client *c, const command *cmd) {
    if (!script_is_busy() || (cmd->flags & CMD_ALLOW_BUSY)) return 0;
    reply_error(c, script_busy_error());
    return 1;
}

void run_kill(client *c, int is_eval) {
    script_run *run = current;
    if (!run) {
        reply_error(c, "NOTBUSY No scripts in execution right now.");
        return;
    }
    if (run->flags & RUN_WRITE_DIRTY) {
        reply_error(c, "UNKILLABLE Sorry the script already executed write commands against the dataset. "
                       "You can either wait the script termination or kill the server in a hard way using "
                       "the SHUTDOWN NOSAVE command.");
        return;
    }
    if (is_eval != ((run->flags & RUN_EVAL) != 0)) {
        reply_error(c, script_busy_error());
        return;
    }
    run->flags |= RUN_KILLED;
    reply_ok(c);
}
