/* See crash.h. Everything a handler does must be async-signal-safe or
 * close to it: the report is formatted into a stack buffer and written
 * with write(2) to a file descriptor opened up front or at the crash
 * (open(2) is safe); glibc's backtrace() is, once loaded, which
 * crash_install() makes sure of by calling it once. */
#include "core/crash.h"

#include <execinfo.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/server.h"

static int crash_log_enabled = 1;
static int crash_memcheck_enabled = 1; /* Redis's fast memory test: not run, see COMMANDS.md */
static int watchdog_period_ms;

static int apply_watchdog(const char **err);

config_entry crash_configs[] = {
    CONFIG_BOOL("crash-log-enabled", &crash_log_enabled, "yes", 0, NULL),
    CONFIG_BOOL("crash-memcheck-enabled", &crash_memcheck_enabled, "yes", 0, NULL),
    CONFIG_INT("watchdog-period", &watchdog_period_ms, "0", 0, INT_MAX, CF_HIDDEN, apply_watchdog),
    CONFIG_END,
};

#define MAX_FRAMES 64

static int open_log(void) {
    if (server.logfile && server.logfile[0]) {
        int fd = open(server.logfile, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) return fd;
    }
    return STDOUT_FILENO;
}

static void put(int fd, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

/* "<pid>:M <unix time> # text": the log's prefix without strftime, which
 * is not async-signal-safe. */
static void line(int fd, const char *text) {
    char buf[512];
    snprintf(buf, sizeof(buf), "%d:M %ld # %s\n", (int)getpid(), (long)time(NULL), text);
    put(fd, buf);
}

static void stack_trace(int fd) {
    void *frames[MAX_FRAMES];
    int n = backtrace(frames, MAX_FRAMES);
    line(fd, "");
    put(fd, "------ STACK TRACE ------\n");
    backtrace_symbols_fd(frames, n, fd);
    put(fd, "\n");
}

static const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "signal";
    }
}

static void on_crash(int sig, siginfo_t *info, void *uctx) {
    (void)uctx;
    if (crash_log_enabled) {
        int fd = open_log();
        char buf[256];
        put(fd, "\n\n=== KEEL BUG REPORT START: Cut & paste starting from here ===\n");
        snprintf(buf, sizeof(buf), "Keel %s crashed by signal: %d (%s), si_code: %d", KEEL_OWN_VERSION, sig,
                 signal_name(sig), info ? info->si_code : 0);
        line(fd, buf);
        if (info && (sig == SIGSEGV || sig == SIGBUS)) {
            snprintf(buf, sizeof(buf), "Accessing address: %p", info->si_addr);
            line(fd, buf);
        }
        stack_trace(fd);
        put(fd, "=== KEEL BUG REPORT END. Make sure to include from START to END. ===\n\n");
        if (fd != STDOUT_FILENO) close(fd);
    }
    /* SA_RESETHAND put the default action back: die the way the signal
     * says (and dump core where that is enabled). */
    raise(sig);
}

static void on_watchdog(int sig) {
    (void)sig;
    int fd = open_log();
    put(fd, "\n--- WATCHDOG TIMER EXPIRED ---\n");
    stack_trace(fd);
    put(fd, "--------\n");
    if (fd != STDOUT_FILENO) close(fd);
}

static void arm_watchdog(int period_ms) {
    struct itimerval it = {0};
    it.it_value.tv_sec = period_ms / 1000;
    it.it_value.tv_usec = (period_ms % 1000) * 1000;
    setitimer(ITIMER_REAL, &it, NULL);
}

static int installed; /* no timer before its handler is there */

static int apply_watchdog(const char **err) {
    (void)err;
    if (installed) arm_watchdog(watchdog_period_ms); /* 0 disarms it */
    return 1;
}

void crash_feed_watchdog(void) {
    if (watchdog_period_ms) arm_watchdog(watchdog_period_ms);
}

void crash_install(void) {
    void *frames[1];
    backtrace(frames, 1); /* loads libgcc now, not inside a handler */
    struct sigaction sa = {0};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
    sa.sa_sigaction = on_crash;
#if !defined(__SANITIZE_ADDRESS__)
    /* Sanitizer builds keep the sanitizer's own reports. */
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
#endif
    sigaction(SIGABRT, &sa, NULL);
    struct sigaction wd = {0};
    sigemptyset(&wd.sa_mask);
    wd.sa_flags = SA_RESTART;
    wd.sa_handler = on_watchdog;
    sigaction(SIGALRM, &wd, NULL);
    installed = 1;
    crash_feed_watchdog();
}
