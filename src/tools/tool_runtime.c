/*
 * tool_runtime: what core/main.c provides to the rest of the server
 * (the server struct, logging, cached time), for the offline programs
 * that link the server's modules without its main: keel-check-rdb and
 * the RDB fuzzer. They never run the event loop; logging goes to stderr
 * and is quiet unless asked for.
 */
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/server.h"
#include "lib/zmalloc.h"

struct server server;
int tool_log_quiet = 1;

void server_log(int level, const char *fmt, ...) {
    if (tool_log_quiet || level < server.verbosity) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void server_update_cached_time(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    server.mstime_cached = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    server.lru_clock = (uint32_t)((server.mstime_cached / 1000) & 0xFFFFFF);
}

size_t server_used_memory(void) { return zmalloc_used_memory(); }
void server_update_peak_memory(void) {}
void server_startup_exit(int code) { _exit(code); }
void server_prepare_shutdown(int exit_code) {
    server.shutdown_asap = 1;
    server.exit_code = exit_code;
}
/* A tool has no listeners and no cron. */
int server_rebind_tcp(const char **err) {
    *err = "not a server";
    return 0;
}
int server_rebind_tls(const char **err) {
    *err = "not a server";
    return 0;
}
void server_pause_cron(int pause) { (void)pause; }
