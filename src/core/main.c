/*
 * main: process start-up, listeners, the periodic cron, shutdown.
 *
 * Everything here is orchestration; the work itself lives in the modules
 * (config, db, client, command). The cron runs server.hz times a second
 * and does the time-based housekeeping: the LRU clock, active expiry,
 * incremental rehashing, idle-client timeouts, memory peak tracking.
 */
#include "acl/acl.h"
#include "core/inststats.h"
#include "core/slowlog.h"
#include "core/info.h"
#include "http/http.h"
#include "core/blocking.h"
#include "core/command.h"
#include "core/config.h"
#include "core/crash.h"
#include "core/proctitle.h"
#include "core/db.h"
#include "core/latency.h"
#include "core/pause.h"
#include "core/server.h"
#include "core/shutdown.h"
#include "persist/rdb.h"
#include "script/script.h"
#include "lib/hashtable.h"
#include "lib/random.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "persist/aof.h"
#include "persist/rdb.h"
#include "pubsub/hooks.h"
#include "repl/repl.h"
#include "tls/tls.h"
#include "lib/zmalloc.h"
#include "persist/persist.h"
#include "cluster/cluster.h"
#include "sentinel/sentinel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct server server;

void server_log(int level, const char *fmt, ...) {
    if (level < server.verbosity) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char when[64];
    size_t off = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + off, sizeof(when) - off, "%03d", (int)(tv.tv_usec / 1000));
    const char *marks = ".-*#";
    FILE *out = stdout;
    int close_it = 0;
    if (server.logfile && server.logfile[0]) {
        FILE *f = fopen(server.logfile, "a");
        if (f) { out = f; close_it = 1; }
    }
    fprintf(out, "%d:%c %s %c %s\n", (int)getpid(), repl_is_replica() ? 'S' : 'M', when, marks[level], msg);
    fflush(out);
    if (close_it) fclose(out);
}

void server_update_cached_time(void) {
    server.mstime_cached = mstime();
    server.lru_clock = (uint32_t)((server.mstime_cached / 1000) & 0xFFFFFF);
}

size_t server_used_memory(void) { return zmalloc_used_memory(); }

void server_update_peak_memory(void) {
    size_t used = zmalloc_used_memory();
    if (used > server.stat.peak_memory) {
        server.stat.peak_memory = used;
        server.stat.peak_memory_time = server.mstime_cached;
    }
}

void server_startup_exit(int code) {
    fflush(stdout);
    fflush(stderr);
    _exit(code);
}

void server_prepare_shutdown(int exit_code) {
    server.shutdown_asap = 1;
    server.exit_code = exit_code;
    ev_stop(server.el);
}

/* ---- Listeners --------------------------------------------------------- */

static int listen_tcp(const char *addr, int port) {
    int optional = addr[0] == '-';
    if (optional) addr++;
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = strchr(addr, ':') ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (!strcmp(addr, "*")) addr = NULL;
    int rv = getaddrinfo(addr, portstr, &hints, &res);
    if (rv != 0) {
        if (optional) return -2;
        server_log(LOG_WARNING, "Could not resolve bind address %s: %s", addr ? addr : "*", gai_strerror(rv));
        return -1;
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) goto fail;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, server.tcp_backlog) < 0) {
        close(fd);
        fd = -1;
        goto fail;
    }
    freeaddrinfo(res);
    return fd;
fail:
    freeaddrinfo(res);
    if (optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) return -2;
    server_log(LOG_WARNING, "Warning: Could not create server TCP listening socket %s:%d: %s",
               addr ? addr : "*", port, strerror(errno));
    return -1;
}

static void close_listeners_of(int *fds, int *count);

static int listen_unix(const char *path, unsigned int perm) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        close(fd);
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, server.tcp_backlog) < 0) {
        close(fd);
        return -1;
    }
    if (perm) chmod(path, perm);
    return fd;
}

/* Listen on every bind address at port (none for port 0) and register
 * the sockets with accept_proc; on failure close what was opened and
 * return 0. */
static int open_listeners_on(int port, int *fds, int *count, ev_file_proc *accept_proc) {
    *count = 0;
    if (port == 0) return 1;
    for (int i = 0; i < server.bindaddr_count; i++) {
        int fd = listen_tcp(server.bindaddr[i], port);
        if (fd == -2) continue;
        if (fd < 0) {
            close_listeners_of(fds, count);
            return 0;
        }
        fds[(*count)++] = fd;
        ev_add_file(server.el, fd, EV_READABLE, accept_proc, NULL);
    }
    return 1;
}

static void close_listeners_of(int *fds, int *count) {
    for (int i = 0; i < *count; i++) {
        ev_del_file(server.el, fds[i], EV_READABLE);
        close(fds[i]);
    }
    *count = 0;
}

static int open_tcp_listeners(void) {
    return open_listeners_on(server.port, server.ipfd, &server.ipfd_count, (ev_file_proc *)client_accept_tcp);
}

static int open_tls_listeners(void) {
    return open_listeners_on(server.tls_port, server.tlsfd, &server.tlsfd_count, (ev_file_proc *)client_accept_tls);
}

void close_tcp_listeners(void) { close_listeners_of(server.ipfd, &server.ipfd_count); }

/* CONFIG SET port / bind at run time, as Redis does: the old sockets are
 * closed first (a new listener cannot share their port), then the new
 * ones opened. If that fails config puts the old value back and calls
 * this again, which reopens the old sockets. Connected clients stay. */
int server_rebind_tcp(const char **err) {
    if (!server.el) return 1; /* start-up: open_listeners() comes later */
    close_tcp_listeners();
    if (open_tcp_listeners()) {
        server_log(LOG_NOTICE, "Listening on port %d (%d address%s)", server.port, server.ipfd_count,
                   server.ipfd_count == 1 ? "" : "es");
        return 1;
    }
    *err = "Unable to listen on this port. Check server logs.";
    return 0;
}

int server_rebind_tls(const char **err) {
    if (!server.el) return 1;
    close_listeners_of(server.tlsfd, &server.tlsfd_count);
    if (open_tls_listeners()) {
        if (server.tls_port) server_log(LOG_NOTICE, "Listening on TLS port %d", server.tls_port);
        return 1;
    }
    *err = "Unable to listen on this port. Check server logs.";
    return 0;
}

static void open_listeners(void) {
    if (!open_tcp_listeners()) {
        server_log(LOG_WARNING, "Failed listening on port %d (tcp), aborting.", server.port);
        server_startup_exit(1);
    }
    if (!open_tls_listeners()) {
        server_log(LOG_WARNING, "Failed listening on port %d (tls), aborting.", server.tls_port);
        server_startup_exit(1);
    }
    server.sofd = -1;
    if (server.unixsocket && server.unixsocket[0]) {
        server.sofd = listen_unix(server.unixsocket, server.unixsocketperm);
        if (server.sofd < 0) {
            server_log(LOG_WARNING, "Failed opening Unix socket: %s", strerror(errno));
            server_startup_exit(1);
        }
        ev_add_file(server.el, server.sofd, EV_READABLE, (ev_file_proc *)client_accept_unix, NULL);
    }
    if (server.ipfd_count == 0 && server.tlsfd_count == 0 && server.sofd < 0) {
        server_log(LOG_WARNING, "Configured to not listen anywhere, exiting.");
        server_startup_exit(1);
    }
}

/* ---- Cron -------------------------------------------------------------- */

static void close_idle_clients(void) {
    if (server.maxidletime <= 0) return;
    long long now = server_mstime();
    for (client *c = server.clients; c; c = c->next) {
        if (now - c->last_interaction_ms > (long long)server.maxidletime * 1000) {
            server_log(LOG_VERBOSE, "Closing idle client");
            client_close_async(c);
        }
    }
}

/* No eviction while CLIENT PAUSE freezes the dataset, nor on a replica
 * that ignores its maxmemory (the master's stream owns its dataset). */
static int dataset_frozen_for_memory(void) { return pause_active() || repl_ignores_maxmemory(); }

static int cron_paused; /* DEBUG PAUSE-CRON */

/* Set by SIGTERM/SIGINT; acted on by the cron (core/shutdown.c), as Redis
 * does, so that SHUTDOWN ABORT can still cancel it. */
static volatile sig_atomic_t shutdown_signal;

void server_pause_cron(int pause) { cron_paused = pause; }

static long long server_cron(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    crash_feed_watchdog();
    if (cron_paused) return 1000 / server.hz;
    server_update_cached_time();
    shutdown_cron(&shutdown_signal);
    if (shutdown_finished()) return 1000 / server.hz;
    server.cronloops++;
    if (server.active_expire_enabled) db_active_expire_cycle(0);
    db_rehash_step(1000);
    blocking_cron();
    memory_cron();
    inststats_cron();
    persist_cron();
    aof_cron();
    repl_cron();
    cluster_cron();
    close_idle_clients();
    server_update_peak_memory();
    clients_free_closed();
    return 1000 / server.hz;
}

/* What the HTTP port's pages read from core (http/http.h). */
static kstr http_info_text(int argc, char **argv) { return info_generate(NULL, argc, argv); }

static void http_slowlog_figures(long *length, long long *last_id, long long *last_us) {
    *length = slowlog_length();
    slowlog_newest(last_id, last_us);
}

static void before_sleep(eventloop *el) {
    (void)el;
    server_update_cached_time();
    /* TLS: requests no socket event announces; first, so that what they
     * write reaches the AOF and unblocks clients like any other. */
    clients_read_buffered_input();
    if (server.active_expire_enabled) db_active_expire_cycle(1);
    repl_before_sleep(); /* replicas' streams; WAIT's acknowledgements */
    blocking_handle_ready();
    aof_before_sleep(); /* the file holds a write before its reply leaves */
    messaging_before_sleep();
    cluster_before_sleep();
    clients_flush_pending_writes();
    clients_free_closed();
}

/* Logged after the loop ends: logging is not async-signal-safe. A second
 * SIGTERM while the first waits (cron paused) is acted on at once; a
 * second SIGINT exits on the spot, as Redis's does. */
static void on_signal(int sig) {
    int again = shutdown_signal && server.shutdown_asap;
    if (again && sig == SIGINT) {
        /* A second SIGINT insists: exit at once, even in the middle of
         * the shutdown save, leaving no temp file behind (as Redis). */
        if (rdb_save_temp_path[0]) unlink(rdb_save_temp_path);
        _exit(1);
    }
    shutdown_signal = sig;
    server.shutdown_asap = 1;
    if (again && server.el) ev_stop(server.el);
}

static void setup_signals(void) {
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit fails the write (EFBIG) */
    signal(SIGHUP, SIG_IGN);
    crash_install();
}

static void write_pidfile(void) {
    if (!server.pidfile || !server.pidfile[0]) return;
    FILE *f = fopen(server.pidfile, "w");
    if (!f) return;
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
}

static void make_runid(void) {
    unsigned char raw[20];
    get_random_bytes(raw, sizeof(raw));
    for (int i = 0; i < 20; i++) snprintf(server.runid + i * 2, 3, "%02x", raw[i]);
}

/* The SipHash key of every table and the seed of the generator behind
 * every random choice (lib/random.h) come from /dev/urandom: clients must
 * not be able to aim keys at one bucket or predict samples and skiplist
 * levels. KEEL_RANDOM_SEED=<decimal> fixes both instead (the hash key
 * too, since table layouts decide what a sample sees), so that a test
 * run, or a reported problem, can be repeated exactly. */
static void seed_randomness(void) {
    unsigned char hash_seed[16];
    uint64_t seed;
    const char *fixed = getenv("KEEL_RANDOM_SEED");
    if (fixed && fixed[0]) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(fixed, &end, 10);
        if (errno || *end || fixed[0] < '0' || fixed[0] > '9') {
            fprintf(stderr, "KEEL_RANDOM_SEED must be an unsigned decimal integer, got '%s'\n",
                    fixed);
            server_startup_exit(1);
        }
        uint64_t derive = v;
        for (int i = 0; i < 16; i += 8) {
            uint64_t word = random_splitmix64(&derive);
            memcpy(hash_seed + i, &word, 8);
        }
        seed = random_splitmix64(&derive);
        server_log(LOG_NOTICE, "Random seed fixed by KEEL_RANDOM_SEED=%llu (hash seed too)", v);
    } else {
        get_random_bytes(hash_seed, sizeof(hash_seed));
        get_random_bytes((unsigned char *)&seed, sizeof(seed));
    }
    hashtable_set_seed(hash_seed);
    random_seed(seed);
}

/* Each client is a file descriptor: raise the process limit to fit
 * maxclients plus a margin for listeners and files, or lower maxclients to
 * what the system allows, saying so (as Redis does). */
#define RESERVED_FDS 32
static void adjust_open_files_limit(void) {
    rlim_t want = (rlim_t)server.maxclients + RESERVED_FDS;
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= want) return;
    rlim_t target = want;
    while (target > lim.rlim_cur) {
        struct rlimit n = {target, target > lim.rlim_max ? target : lim.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &n) == 0) break;
        n.rlim_max = lim.rlim_max;
        if (target <= lim.rlim_max && setrlimit(RLIMIT_NOFILE, &n) == 0) break;
        target = target > 16 ? target - 16 : lim.rlim_cur;
    }
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < want) {
        unsigned int old = server.maxclients;
        unsigned long long fit = lim.rlim_cur > RESERVED_FDS ? (unsigned long long)(lim.rlim_cur - RESERVED_FDS) : 1;
        char value[32];
        const char *err;
        snprintf(value, sizeof(value), "%llu", fit);
        if (!config_set_internal("maxclients", value, &err)) server_log(LOG_WARNING, "maxclients: %s", err);
        server_log(LOG_WARNING, "You requested maxclients of %u requiring at least %llu max file descriptors. "
                   "Server can't set maximum open files to %llu; maxclients has been reduced to %u.",
                   old, (unsigned long long)want, (unsigned long long)want, server.maxclients);
    }
}

static void usage(void) {
    fprintf(stderr,
            "Usage: ./keel-server [/path/to/keel.conf] [options] [-]\n"
            "       ./keel-server - (read config from stdin)\n"
            "       ./keel-server -v or --version\n"
            "       ./keel-server -h or --help\n\n"
            "Examples:\n"
            "       ./keel-server (run the server with default config)\n"
            "       ./keel-server /etc/keel/6379.conf\n"
            "       ./keel-server --port 7777\n"
            "       ./keel-server /etc/mykeel.conf --loglevel verbose\n");
    server_startup_exit(1);
}

int main(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))) {
        printf("Keel server v=%s (Redis %s compatible) malloc=%s\n", KEEL_OWN_VERSION, KEEL_VERSION,
               zmalloc_allocator_name());
        return 0;
    }
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) usage();

    int sentinel_mode = sentinel_mode_requested(&argc, argv);
    if (sentinel_mode) {
        config_set_mode_defaults(sentinel_startup_defaults());
        config_set_line_handler("sentinel", sentinel_config_line);
        command_table_restrict(sentinel_commands, sentinel_kept_commands);
    }
    server.pid = getpid();
    server.active_expire_enabled = 1;
    argv = proctitle_init(argc, argv); /* the original block becomes the title's */
    server.executable = argv[0];
    server_update_cached_time();
    server.start_time_ms = server.mstime_cached;
    config_load(argc, argv);
    if (sentinel_mode) sentinel_config_loaded();
    if (server.dir && server.dir[0] && chdir(server.dir) != 0) {
        fprintf(stderr, "Can't chdir to '%s': %s\n", server.dir, strerror(errno));
        return 1;
    }
    if (server.daemonize) {
        if (fork() != 0) return 0;
        setsid();
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
    }
    seed_randomness();
    make_runid();
    setup_signals();
    adjust_open_files_limit();
    if (!tls_init()) server_startup_exit(1);
    command_table_init();
    acl_init();
    cluster_init(); /* before the keyspace: cluster mode counts keys per slot */
    db_init_all(server.dbnum);
    blocking_init();
    persist_init();
    server.el = ev_create((int)server.maxclients + 128);
    if (!server.el) {
        fprintf(stderr, "Failed creating the event loop: %s\n", strerror(errno));
        return 1;
    }
    open_listeners();
    /* A metrics port that cannot be opened stops start-up, as the RESP
     * listeners do: a scraper must not find someone else on it. */
    if (!http_init(&(http_callbacks){.info = http_info_text, .slowlog = http_slowlog_figures})) server_startup_exit(1);
    proctitle_update();
    cluster_start();
    write_pidfile();
    ev_add_timer(server.el, 1, server_cron, NULL);
    ev_set_before_sleep(server.el, before_sleep);
    memory_set_callbacks(&(memory_callbacks){.dataset_frozen = dataset_frozen_for_memory, .latency_event = latency_add_sample_since});
    memory_init();
    script_init();
    server.initial_memory_usage = zmalloc_used_memory();
    /* " PID: <pid>" is what Redis's test suite waits for (in Redis's logo)
     * before it talks to a server it started: keep those words. Logged
     * before the dataset is read, as Redis's logo is, so that a server
     * that refuses its AOF or RDB is seen to have started and failed
     * (the suite waits two minutes for a PID that never comes otherwise). */
    server_log(LOG_NOTICE, "Keel %s (Redis %s compatible) started, PID: %d, port: %d", KEEL_OWN_VERSION,
               KEEL_VERSION, (int)getpid(), server.port);
    /* With appendonly yes the AOF is the dataset and the RDB is not read,
     * as in Redis. Read once scripting and memory are set up: the AOF
     * replays EVAL and FCALL, and its RDB preamble may hold functions. */
    repl_early_init();
    if (sentinel_mode) {
        sentinel_start(); /* no dataset: Sentinel keeps its state in its config file */
    } else {
        if (aof_load_at_startup() < 0) server_startup_exit(1);
        aof_open_at_startup();
        if (!server.appendonly && rdb_load_at_startup() < 0) server_startup_exit(1);
    }
    repl_init();
    server_log(LOG_NOTICE, "Ready to accept connections");
    /* SHUTDOWN and signals are ended by the cron (core/shutdown.c); the
     * loop also stops when a second signal insists while the first waits
     * for replicas or the cron is paused: then the shutdown happens now,
     * and if it fails (the final save) the server keeps serving. */
    for (;;) {
        ev_run(server.el);
        if (shutdown_finished() || !shutdown_signal) break;
        if (shutdown_after_signal(shutdown_signal) == 0) break;
        shutdown_signal = 0;
        server.shutdown_asap = 0;
    }
    aof_shutdown();
    http_shutdown();
    clients_flush_pending_writes();
    if (server.unixsocket && server.unixsocket[0]) unlink(server.unixsocket);
    if (server.pidfile && server.pidfile[0]) unlink(server.pidfile);
#if defined(__SANITIZE_ADDRESS__)
    memory_shutdown();
    /* Sanitizer builds free the dataset so that LeakSanitizer reports only
     * real leaks (values are referenced from unaligned entry slots, which
     * it cannot see). Normal builds exit without the walk, like Redis. */
    db_free_all();
#endif
    server_log(LOG_WARNING, "Keel is now ready to exit, bye bye...");
    return server.exit_code;
}
