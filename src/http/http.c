/* See http.h: libmicrohttpd inside Keel's event loop, and the routes. */
#include "http/http.h"
#include "core/config.h"
#include "core/server.h"
#include "net/eventloop.h"

#include <arpa/inet.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#define HTTP_MAX_CONNECTIONS 32
#define HTTP_TIMEOUT_S 10
#define HTTP_TIMER_MS 1000

static int metrics_port;   /* 0: off */
static char *metrics_bind; /* IPv4 or IPv6 literal */

static struct {
    struct MHD_Daemon *daemon;
    int epoll_fd;
    long long timer;
    http_callbacks cb;
} h = {.epoll_fd = -1, .timer = -1};

kstr http_info(const char *section) {
    char *argv[1] = {(char *)section};
    return h.cb.info(1, argv);
}

void http_slowlog(long *length, long long *last_id, long long *last_us) {
    h.cb.slowlog(length, last_id, last_us);
}

static void run_daemon(void) {
    if (h.daemon) MHD_run(h.daemon);
}

static void on_epoll_readable(eventloop *el, int fd, void *data, int mask) {
    (void)el; (void)fd; (void)data; (void)mask;
    run_daemon();
}

static long long on_timer(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    run_daemon();
    return HTTP_TIMER_MS;
}

static int wants_openmetrics(const char *accept) {
    return accept && strstr(accept, "application/openmetrics-text") != NULL;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, kstr body, const char *type) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(kstr_len(body), body, MHD_RESPMEM_MUST_COPY);
    kstr_free(body);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result route(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                             const char *version, const char *upload_data, size_t *upload_size, void **state) {
    (void)cls; (void)version; (void)upload_data;
    if (*upload_size) { /* no route takes a body */
        *upload_size = 0;
        return MHD_YES;
    }
    (void)state;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, kstr_new("only GET\n"), "text/plain; charset=utf-8");
    if (!strcmp(url, "/metrics")) {
        const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
        int om = wants_openmetrics(accept);
        return reply(conn, MHD_HTTP_OK, metrics_render(om),
                     om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                        : "text/plain; version=0.0.4; charset=utf-8");
    }
    if (!strcmp(url, "/") || !strcmp(url, "/dashboard"))
        return reply(conn, MHD_HTTP_OK, dashboard_page(), "text/html; charset=utf-8");
    if (!strcmp(url, "/dashboard.json")) {
        const char *since = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "since");
        return reply(conn, MHD_HTTP_OK, dashboard_json(since ? strtoll(since, NULL, 10) : 0), "application/json");
    }
    return reply(conn, MHD_HTTP_NOT_FOUND, kstr_new("not found: try /metrics or /\n"), "text/plain; charset=utf-8");
}

static void log_mhd(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char buf[256];
    vsnprintf(buf, sizeof(buf), fmt, ap);
    server_log(LOG_VERBOSE, "HTTP: %s", buf);
}

static void close_listener(void) {
    if (h.epoll_fd >= 0) ev_del_file(server.el, h.epoll_fd, EV_READABLE);
    if (h.timer >= 0) ev_del_timer(server.el, h.timer);
    if (h.daemon) MHD_stop_daemon(h.daemon);
    h.daemon = NULL;
    h.epoll_fd = -1;
    h.timer = -1;
}

static struct MHD_Daemon *start_daemon(const struct sockaddr *addr, unsigned flags) {
    return MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG | flags, (uint16_t)metrics_port, NULL, NULL, route,
                            NULL, MHD_OPTION_SOCK_ADDR, addr, MHD_OPTION_CONNECTION_LIMIT,
                            (unsigned)HTTP_MAX_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
                            MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
                            MHD_OPTION_END);
}

/* Opens (or reopens) the listener for the current settings. */
static int open_listener(const char **err) {
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)metrics_port)};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)metrics_port)};
    const char *bind = metrics_bind && *metrics_bind ? metrics_bind : "127.0.0.1";
    int is_v4 = inet_pton(AF_INET, bind, &v4.sin_addr) == 1;
    if (!is_v4 && inet_pton(AF_INET6, bind, &v6.sin6_addr) != 1) {
        *err = "metrics-bind is not an IPv4 or IPv6 address";
        return 0;
    }
    close_listener();
    if (!metrics_port || !server.el) return 1;
    h.daemon = is_v4 ? start_daemon((struct sockaddr *)&v4, 0) : start_daemon((struct sockaddr *)&v6, MHD_USE_IPv6);
    const union MHD_DaemonInfo *info = h.daemon ? MHD_get_daemon_info(h.daemon, MHD_DAEMON_INFO_EPOLL_FD) : NULL;
    if (!info) {
        close_listener();
        *err = "cannot listen on metrics-port (address in use, or not available)";
        return 0;
    }
    h.epoll_fd = info->epoll_fd;
    if (ev_add_file(server.el, h.epoll_fd, EV_READABLE, on_epoll_readable, NULL) != 0) {
        h.epoll_fd = -1;
        close_listener();
        *err = "cannot watch the metrics listener";
        return 0;
    }
    h.timer = ev_add_timer(server.el, HTTP_TIMER_MS, on_timer, NULL);
    server_log(LOG_NOTICE, "Metrics and dashboard on http://%s:%d/", bind, metrics_port);
    return 1;
}

static int apply_listener(const char **err) { return open_listener(err); }

config_entry http_configs[] = {
    CONFIG_INT("metrics-port", &metrics_port, "0", 0, 65535, 0, apply_listener),
    CONFIG_STRING("metrics-bind", &metrics_bind, "127.0.0.1", 0, apply_listener),
    CONFIG_END,
};

int http_init(const http_callbacks *cb) {
    h.cb = *cb;
    const char *err = NULL;
    if (open_listener(&err)) return 1;
    server_log(LOG_WARNING, "Metrics port %d: %s", metrics_port, err);
    return 0;
}

void http_shutdown(void) { close_listener(); }
