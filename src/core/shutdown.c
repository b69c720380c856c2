/*
 * shutdown: SHUTDOWN, SIGTERM/SIGINT, and the wait for lagging replicas
 * (see shutdown.h for the behaviour).
 *
 * Why a state machine in the cron rather than a loop in the command:
 * waiting for replicas needs the event loop to keep running (the stream
 * must still be written to them and their ACKs read), so SHUTDOWN only
 * starts the shutdown and blocks its client like a WAIT; the cron ends it.
 * The final steps (save, exit) are persist_prepare_shutdown's and main's.
 */
#include "core/shutdown.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/config.h"
#include "core/pause.h"
#include "core/server.h"
#include "net/reply.h"
#include "persist/persist.h"
#include "repl/repl.h"
#include "script/script.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

static struct {
    int flags;          /* SHUTDOWN_* of the shutdown in progress */
    long long deadline; /* ms; 0 when not waiting for replicas */
    int done;           /* complete: the main loop exits */
} S;

static int cfg_timeout, cfg_on_sigint, cfg_on_sigterm;

/* ---- parameters ---- */

static const struct {
    const char *name;
    int flag;
} sig_flags[] = {
    {"default", 0}, {"save", SHUTDOWN_SAVE}, {"nosave", SHUTDOWN_NOSAVE}, {"now", SHUTDOWN_NOW},
    {"force", SHUTDOWN_FORCE},
};
#define N_SIG_FLAGS (int)(sizeof(sig_flags) / sizeof(sig_flags[0]))

#define SIG_FLAGS_ERR "argument(s) must be one of the following: default, save, nosave, now, force"

/* The flag named by word[0..len), -1 if none. */
static int sig_flag(const char *word, size_t len) {
    for (int j = 0; j < N_SIG_FLAGS; j++)
        if (strlen(sig_flags[j].name) == len && !strncasecmp(word, sig_flags[j].name, len)) return sig_flags[j].flag;
    return -1;
}

/* shutdown-on-sigterm / -sigint: words among default, save, nosave, now,
 * force (SAVE and NOSAVE not together), as Redis 7.0's flags parameter.
 * The words may come as arguments or in one argument ("now force" from
 * the command line). */
static int set_sig_flags(const config_entry *ce, char **argv, int argc, const char **err) {
    int value = 0, words = 0;
    for (int i = 0; i < argc; i++) {
        for (const char *p = argv[i]; *p;) {
            size_t len = strcspn(p, " ");
            if (len) {
                int flag = sig_flag(p, len);
                if (flag < 0) {
                    *err = SIG_FLAGS_ERR;
                    return 0;
                }
                value |= flag;
                words++;
            }
            p += len;
            while (*p == ' ') p++;
        }
    }
    if (!words) {
        *err = SIG_FLAGS_ERR;
        return 0;
    }
    if ((value & SHUTDOWN_SAVE) && (value & SHUTDOWN_NOSAVE)) {
        *err = "shutdown options SAVE and NOSAVE can't be used simultaneously";
        return 0;
    }
    *(int *)ce->ptr = value;
    return 1;
}

static kstr get_sig_flags(const config_entry *ce) {
    int value = *(int *)ce->ptr;
    if (!value) return kstr_new("default");
    kstr s = kstr_empty();
    for (int j = 1; j < N_SIG_FLAGS; j++)
        if (value & sig_flags[j].flag) s = kstr_cat(kstr_len(s) ? kstr_cat(s, " ") : s, sig_flags[j].name);
    return s;
}

config_entry shutdown_configs[] = {
    CONFIG_INT("shutdown-timeout", &cfg_timeout, "10", 0, INT_MAX, 0, NULL),
    CONFIG_SPECIAL("shutdown-on-sigint", &cfg_on_sigint, "default", set_sig_flags, get_sig_flags, 0),
    CONFIG_SPECIAL("shutdown-on-sigterm", &cfg_on_sigterm, "default", set_sig_flags, get_sig_flags, 0),
    CONFIG_END,
};

/* ---- the shutdown ---- */

#define SHUTDOWN_FAILED_REPLY "ERR Errors trying to SHUTDOWN. Check logs."

static void blocked_reply(client *c, long long d0, long long d1) {
    (void)d0; (void)d1;
    reply_error(c, SHUTDOWN_FAILED_REPLY);
}

static void release_blocked(client *c, long long d0, long long d1) {
    (void)d0; (void)d1;
    blocking_release(c);
}

/* Back to serving: the clients waiting in SHUTDOWN get an error. */
static void cancel(void) {
    S.flags = 0;
    S.deadline = 0;
    server.shutdown_asap = 0;
    blocking_foreach_event_of(blocked_reply, release_blocked);
    pause_during_shutdown(0);
}

static int finish(void) {
    S.deadline = 0;
    repl_log_shutdown_sync();
    if (persist_prepare_shutdown(S.flags) != 0) {
        cancel();
        return -1;
    }
    S.done = 1;
    server_prepare_shutdown(0);
    return 0;
}

int shutdown_start(int flags) {
    if (S.deadline) return 1; /* one is waiting already: this one joins it */
    S.flags = flags;
    server_log(LOG_WARNING, "User requested shutdown...");
    if (!(flags & SHUTDOWN_NOW) && cfg_timeout && !repl_replicas_in_sync()) {
        S.deadline = server_mstime() + (long long)cfg_timeout * 1000;
        if (!pause_active()) repl_request_acks();
        pause_during_shutdown(1);
        server_log(LOG_NOTICE, "Waiting for replicas before shutting down.");
        return 1;
    }
    return finish();
}

static int signal_flags(int sig) { return sig == SIGINT ? cfg_on_sigint : cfg_on_sigterm; }

static void log_signal(int sig) {
    server_log(LOG_WARNING, "Received %s scheduling shutdown...", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void log_signal_failed(void) {
    server_log(LOG_WARNING, "SIGTERM received but errors trying to shut down the server, check the logs for more "
               "information");
}

void shutdown_cron(volatile sig_atomic_t *pending) {
    if (*pending && !server.shutdown_asap) *pending = 0; /* SHUTDOWN ABORT cancelled it */
    if (*pending && !S.deadline && !S.done) {
        int sig = *pending;
        log_signal(sig);
        if (shutdown_start(signal_flags(sig)) < 0) {
            log_signal_failed();
            *pending = 0;
        }
        return;
    }
    if (S.deadline && (server_mstime() >= S.deadline || repl_replicas_in_sync()) && finish() < 0) *pending = 0;
}

int shutdown_after_signal(int sig) {
    int rc;
    if (S.deadline) {
        server_log(LOG_WARNING, "Received %s again: shutting down without waiting for replicas.",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
        rc = finish();
    } else {
        log_signal(sig);
        rc = shutdown_start(signal_flags(sig) | SHUTDOWN_NOW);
    }
    if (rc < 0) log_signal_failed();
    return rc;
}

int shutdown_finished(void) { return S.done; }

kstr shutdown_info_fields(kstr s) {
    if (!S.deadline) return s;
    return kstr_cat_printf(s, "shutdown_in_milliseconds:%lld\r\n", S.deadline - server_mstime());
}

/* ABORT: a shutdown waiting for replicas, or a signal the cron has not
 * acted on yet. -1: none. */
static int shutdown_abort(void) {
    if (S.deadline) cancel();
    else if (server.shutdown_asap && !S.done) server.shutdown_asap = 0;
    else return -1;
    server_log(LOG_NOTICE, "Shutdown manually aborted.");
    return 0;
}

/* Redis 7.0's SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. */
void shutdown_command(client *c) {
    int flags = 0, abort = 0;
    for (int j = 1; j < c->argc; j++) {
        kstr a = c->argv[j];
        if (arg_is(a, "nosave")) flags |= SHUTDOWN_NOSAVE;
        else if (arg_is(a, "save")) flags |= SHUTDOWN_SAVE;
        else if (arg_is(a, "now")) flags |= SHUTDOWN_NOW;
        else if (arg_is(a, "force")) flags |= SHUTDOWN_FORCE;
        else if (arg_is(a, "abort")) abort = 1;
        else {
            reply_error_syntax(c);
            return;
        }
    }
    if ((abort && flags) || ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE))) {
        reply_error_syntax(c);
        return;
    }
    if (abort) {
        if (shutdown_abort() == 0) reply_ok(c);
        else reply_error(c, "ERR No shutdown in progress.");
        return;
    }
    /* While a slow script runs, only SHUTDOWN NOSAVE may stop the server
     * (the script is then stopped where it is), as in Redis. */
    if (!(flags & SHUTDOWN_NOSAVE) && script_is_busy()) {
        reply_error(c, script_busy_error());
        return;
    }
    int rc = shutdown_start(flags);
    if (rc == 0) c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    else if (rc < 0) reply_error(c, SHUTDOWN_FAILED_REPLY);
    else block_for_event(c, 0, blocked_reply, 0, 0);
}
