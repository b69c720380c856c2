/*
 * scripts: the user scripts Sentinel runs, notification-script (every
 * warning-level event about a master, its replicas or its sentinels) and
 * client-reconfig-script (every failover, with the old and the new
 * address), with Redis Sentinel 7.0's observable rules, because
 * deployments already have scripts written for them:
 *
 * - a notification script gets two arguments, the event type and its
 *   text; a reconfig script gets <master-name> <leader|observer> <state>
 *   <from-ip> <from-port> <to-ip> <to-port>;
 * - jobs wait in a queue of at most 256 (the oldest waiting job is
 *   dropped when it overflows); at most 16 run at once, oldest first;
 * - exit code 1, or death by a signal, means "retry": up to 10 runs in
 *   all, waiting script-retry-delay (30 s) doubled at every further
 *   retry; exit code 0 is done, 2 or more is an error not retried
 *   (-script-error <path> <signal> <exit code>);
 * - a script running longer than script-max-runtime (60 s) is killed
 *   (-script-timeout) and then counts as killed by a signal.
 *
 * Scripts are started with fork+execve from the sentinel timer, so
 * nothing blocks the event loop. No descriptor of the sentinel reaches a
 * script (Redis's suite checks this): the child closes every one above 2
 * before exec, so a long script cannot keep the port or the clients'
 * connections open. Finished scripts are reaped by their own pid, never
 * with waitpid(-1), so no other child of the process is collected here.
 */
#include "sentinel/sentinel_internal.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SCRIPT_MAX_QUEUE 256
#define SCRIPT_MAX_RUNNING 16
#define SCRIPT_MAX_RETRY 10
#define SCRIPT_MAX_ARGS 16

typedef struct script_job {
    char *argv[SCRIPT_MAX_ARGS + 1]; /* path first, NULL-terminated */
    int running;
    int retry_num;        /* runs started so far */
    long long start_time; /* running: when it started; else not before */
    pid_t pid;
} script_job;

static script_job *queue[SCRIPT_MAX_QUEUE + 1];
static int queue_len, running;

int scripts_running(void) { return running; }
int scripts_queue_length(void) { return queue_len; }

static void job_free(script_job *j) {
    for (int i = 0; j->argv[i]; i++) zfree(j->argv[i]);
    zfree(j);
}

static void queue_remove(int i) {
    job_free(queue[i]);
    memmove(queue + i, queue + i + 1, sizeof(*queue) * (size_t)(queue_len - i - 1));
    queue_len--;
}

static char *dup_cstr(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = zmalloc(n);
    memcpy(p, s, n);
    return p;
}

void script_schedule(const char *path, int argc, const char *const *args) {
    script_job *j = zcalloc(sizeof(*j));
    int n = 0;
    j->argv[n++] = dup_cstr(path);
    for (int i = 0; i < argc && n < SCRIPT_MAX_ARGS; i++) j->argv[n++] = dup_cstr(args[i]);
    j->argv[n] = NULL;
    queue[queue_len++] = j;
    if (queue_len <= SCRIPT_MAX_QUEUE) return;
    for (int i = 0; i < queue_len; i++) { /* drop the oldest waiting job */
        if (queue[i]->running) continue;
        queue_remove(i);
        break;
    }
}

void script_client_reconfig(sinstance *m, int leader, const char *state, const char *from_ip, int from_port,
                            const char *to_ip, int to_port) {
    if (!m->client_reconfig_script) return;
    char fp[24], tp[24];
    snprintf(fp, sizeof(fp), "%d", from_port);
    snprintf(tp, sizeof(tp), "%d", to_port);
    const char *args[] = {m->name, leader ? "leader" : "observer", state, from_ip, fp, to_ip, tp};
    script_schedule(m->client_reconfig_script, 7, args);
}

/* In the child: the sentinel's descriptors are not the script's. */
static void exec_script(script_job *j) {
    signal(SIGPIPE, SIG_DFL);
    close_range(3, ~0U, 0);
    execve(j->argv[0], j->argv, environ);
    _exit(2); /* could not run it: an error, not retried */
}

static void start_job(script_job *j, long long now) {
    j->running = 1;
    j->start_time = now;
    j->retry_num++;
    pid_t pid = fork();
    if (pid == 0) exec_script(j);
    if (pid == -1) { /* reported as signal 99, as Redis does */
        sentinel_event(LOG_WARNING, "-script-error", NULL, "%s %d %d", j->argv[0], 99, 0);
        j->running = 0;
        j->pid = 0;
        return;
    }
    running++;
    j->pid = pid;
    sentinel_event(LOG_DEBUG, "+script-child", NULL, "%ld", (long)pid);
}

static void run_pending(long long now) {
    for (int i = 0; i < queue_len && running < SCRIPT_MAX_RUNNING; i++) {
        script_job *j = queue[i];
        if (j->running || (j->start_time && j->start_time > now)) continue;
        start_job(j, now);
    }
}

static long long retry_delay(int retry_num) {
    long long d = st.script_retry_delay;
    while (retry_num-- > 1) d *= 2;
    return d;
}

/* A job whose process ended: retry it, or drop it (reporting errors). */
static int job_ended(int i, int status) {
    script_job *j = queue[i];
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    sentinel_event(LOG_DEBUG, "-script-child", NULL, "%ld %d %d", (long)j->pid, code, sig);
    running--;
    if ((sig || code == 1) && j->retry_num != SCRIPT_MAX_RETRY) {
        j->running = 0;
        j->pid = 0;
        j->start_time = server_mstime() + retry_delay(j->retry_num);
        return 0;
    }
    if (sig || code) sentinel_event(LOG_WARNING, "-script-error", NULL, "%s %d %d", j->argv[0], sig, code);
    queue_remove(i);
    return 1;
}

static void collect_ended(void) {
    for (int i = 0; i < queue_len; i++) {
        int status = 0;
        if (!queue[i]->running) continue;
        pid_t r = waitpid(queue[i]->pid, &status, WNOHANG);
        /* ECHILD: reaped elsewhere, status unknown; count it as done
         * rather than keep (and later kill) a pid that may be reused. */
        if (r == -1 && errno != ECHILD) continue;
        if (r == 0) continue;
        if (job_ended(i, status)) i--;
    }
}

static void kill_timed_out(long long now) {
    for (int i = 0; i < queue_len; i++) {
        script_job *j = queue[i];
        if (!j->running || now - j->start_time <= st.script_max_runtime) continue;
        sentinel_event(LOG_WARNING, "-script-timeout", NULL, "%s %ld", j->argv[0], (long)j->pid);
        kill(j->pid, SIGKILL);
    }
}

void scripts_tick(void) {
    run_pending(server_mstime());
    collect_ended();
    kill_timed_out(server_mstime());
}

void scripts_reply_pending(client *c) {
    long long now = server_mstime();
    reply_array_len(c, queue_len);
    for (int i = 0; i < queue_len; i++) {
        script_job *j = queue[i];
        int n = 0;
        while (j->argv[n]) n++;
        reply_map_len(c, 5);
        reply_bulk_cstr(c, "argv");
        reply_array_len(c, n);
        for (int k = 0; k < n; k++) reply_bulk_cstr(c, j->argv[k]);
        reply_bulk_cstr(c, "flags");
        reply_bulk_cstr(c, j->running ? "running" : "scheduled");
        reply_bulk_cstr(c, "pid");
        reply_bulk_ll(c, j->pid);
        if (j->running) {
            reply_bulk_cstr(c, "run-time");
            reply_bulk_ll(c, now - j->start_time);
        } else {
            long long delay = j->start_time ? j->start_time - now : 0;
            reply_bulk_cstr(c, "run-delay");
            reply_bulk_ll(c, delay < 0 ? 0 : delay);
        }
        reply_bulk_cstr(c, "retry-num");
        reply_bulk_ll(c, j->retry_num);
    }
}
