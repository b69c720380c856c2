/*
 * http: keel-server's built-in HTTP port (issue 17). One port serves
 *   /metrics          Prometheus text exposition 0.0.4, or OpenMetrics 1.0
 *                     when the request's Accept asks for it, with
 *                     redis_exporter's metric names plus Keel's own;
 *   /                 the memory dashboard (an HTML page, no external asset);
 *   /dashboard.json   the figures the page draws, refreshed by it each second.
 *
 * Off by default: `metrics-port 0`. `metrics-bind` (127.0.0.1) says where
 * it listens. Both can be changed with CONFIG SET; the listener reopens.
 *
 * HTTP is parsed by libmicrohttpd, driven from Keel's own event loop: the
 * daemon runs with MHD_USE_EPOLL and no thread of its own, its epoll
 * descriptor is one readable file event of the loop, and MHD_run() is
 * called when it fires (and from a 1 s timer, for MHD's timeouts). So
 * every request is answered on the main thread, between two commands,
 * from the same state INFO reads: a scrape is as consistent as an INFO
 * call, with no locks and no copy of the figures for another thread.
 */
#ifndef KEEL_HTTP_H
#define KEEL_HTTP_H

#include "lib/kstr.h"

/* What the HTTP pages need from the core, handed over at start-up by
 * main.c (http/ does not include core's INFO module). */
typedef struct http_callbacks {
    /* INFO's text for the given section names (as INFO's arguments). */
    kstr (*info)(int argc, char **argv);
    /* SLOWLOG's length and its newest entry (id, microseconds; 0 when empty). */
    void (*slowlog)(long *length, long long *last_id, long long *last_us);
} http_callbacks;

/* Opens the listener when metrics-port is set. Returns 0 and logs when
 * it cannot (the server then runs without it, as Redis does with a bad
 * bind address of a secondary listener). */
int http_init(const http_callbacks *cb);
void http_shutdown(void);

/* ---- used by the pages (metrics.c, dashboard.c) ---- */
kstr http_info(const char *section);
void http_slowlog(long *length, long long *last_id, long long *last_us);
/* The body of /metrics; openmetrics selects that format. */
kstr metrics_render(int openmetrics);
/* The page and its data. */
kstr dashboard_page(void);
kstr dashboard_json(long long since_ms);

#endif
