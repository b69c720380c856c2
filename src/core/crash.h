/*
 * crash: what the server leaves behind when it dies or hangs.
 *
 * A crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, or DEBUG SEGFAULT)
 * writes a bug report to the log: the signal, the faulting address and the
 * stack trace, between Redis's START/END markers so that operators' log
 * scrapers recognise it; then the signal's default action runs (core dump
 * where enabled). The watchdog (`watchdog-period`, milliseconds, 0 = off)
 * logs the main thread's stack whenever the event loop has not come back
 * for that long: a slow command caught in the act.
 */
#ifndef KEEL_CRASH_H
#define KEEL_CRASH_H

/* Install the crash handlers (start-up, after the configuration). */
void crash_install(void);
/* Called by the cron: postpones the watchdog by one period. */
void crash_feed_watchdog(void);

#endif
