/*
 * server: the process-wide state that genuinely is process-wide: the
 * configuration values, the statistics counters, the event loop and the
 * list of clients. It is one struct rather than scattered globals so that
 * what is shared is visible in one place; modules own everything else
 * (the keyspace lives in db.c, the command table in command.c).
 *
 * Configuration fields are written only by config.c (start-up and CONFIG
 * SET); everyone else reads them.
 */
#ifndef KEEL_SERVER_H
#define KEEL_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "net/client.h"
#include "net/eventloop.h"

#define KEEL_VERSION "7.0.15"   /* the Redis version whose behaviour we follow */
#define KEEL_OWN_VERSION "0.1.0"
#define CONFIG_BINDADDR_MAX 16

enum { MAXMEMORY_NO_EVICTION = 0, MAXMEMORY_ALLKEYS_LRU, MAXMEMORY_ALLKEYS_LFU,
       MAXMEMORY_ALLKEYS_RANDOM, MAXMEMORY_VOLATILE_LRU, MAXMEMORY_VOLATILE_LFU,
       MAXMEMORY_VOLATILE_RANDOM, MAXMEMORY_VOLATILE_TTL };

enum { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

typedef struct server_stats {
    long long numcommands;
    long long numconnections;
    long long rejected_conn;
    long long expiredkeys;
    long long expired_stale_perc_x100; /* running estimate, in 1/100 % */
    long long expired_time_cap_reached_count;
    long long expire_cycle_time_used_us;
    long long evictedkeys;
    long long evictedclients;
    long long keyspace_hits;
    long long keyspace_misses;
    long long net_input_bytes;
    long long net_output_bytes;
    long long unexpected_error_replies;
    long long total_eviction_exceeded_time_ms;
    long long client_qbuf_limit_disconnections;
    long long client_outbuf_limit_disconnections;
    size_t peak_memory;
    long long peak_memory_time;
} server_stats;

struct server {
    /* Runtime. */
    eventloop *el;
    pid_t pid;
    long long start_time_ms;
    char runid[41];
    char *executable;
    char *config_file;           /* absolute path, or NULL */
    int shutdown_asap;
    int exit_code;
    long long cronloops;
    uint32_t lru_clock;          /* seconds, 24 bits, updated by cron */
    long long mstime_cached;

    /* Networking. */
    int ipfd[CONFIG_BINDADDR_MAX];
    int ipfd_count;
    int tlsfd[CONFIG_BINDADDR_MAX]; /* TLS listeners (tls-port) */
    int tlsfd_count;
    int sofd;
    client *clients;             /* doubly-linked list of all clients */
    unsigned long nclients;
    uint64_t next_client_id;
    client *pending_writes;      /* clients with output to flush */
    client *current_client;
    unsigned long clients_pending_close; /* flagged CLOSE_ASAP, not yet freed */

    /* Configuration (see config.c for names, defaults and limits). */
    int port;
    int tls_port;                /* 0: no TLS listener (tls/tls.c's parameter) */
    char *bindaddr[CONFIG_BINDADDR_MAX];
    int bindaddr_count;
    char *unixsocket;
    unsigned int unixsocketperm;
    int tcp_backlog;
    int tcpkeepalive;
    int maxidletime;             /* timeout, seconds */
    unsigned int maxclients;
    int dbnum;
    long long proto_max_bulk_len;
    long long client_max_querybuf_len;
    int enable_debug_cmd;        /* 0 no, 1 yes, 2 local */
    int hz;
    int dynamic_hz;
    int jemalloc_bg_thread;
    int active_expire_effort;
    int active_expire_enabled;   /* DEBUG SET-ACTIVE-EXPIRE */
    int daemonize;
    char *pidfile;
    char *logfile;
    int verbosity;
    int protected_mode;
    char *requirepass;
    char *dir;
    char *dbfilename;
    char *save_params;
    int appendonly;
    char *appendfilename;

    /* Memory (the full memory work reads and extends these). */
    long long maxmemory;
    int maxmemory_policy;
    int maxmemory_samples;
    int maxmemory_eviction_tenacity;
    int lfu_log_factor;
    int lfu_decay_time;
    long long maxmemory_clients;
    int lazyfree_lazy_eviction;
    int lazyfree_lazy_expire;
    int lazyfree_lazy_server_del;
    int lazyfree_lazy_user_del;
    int lazyfree_lazy_user_flush;
    int active_defrag_enabled;
    long long active_defrag_ignore_bytes;
    int active_defrag_threshold_lower;
    int active_defrag_threshold_upper;
    int active_defrag_cycle_min;
    int active_defrag_cycle_max;
    long long active_defrag_max_scan_fields;
    size_t initial_memory_usage; /* used_memory_startup */

    /* Data type encodings. */
    long long hash_max_listpack_entries;
    long long hash_max_listpack_value;
    long long set_max_intset_entries;
    long long set_max_listpack_entries;
    long long set_max_listpack_value;
    long long zset_max_listpack_entries;
    long long zset_max_listpack_value;
    int list_max_listpack_size;
    int list_compress_depth;
    long long hll_sparse_max_bytes;
    long long stream_node_max_bytes;
    long long stream_node_max_entries;

    server_stats stat;
};

extern struct server server;

/* Logging, Redis-style: "pid:role dd Mon yyyy hh:mm:ss.mmm * message". */
void server_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Time cached at the start of each event-loop iteration and command. */
static inline long long server_mstime(void) { return server.mstime_cached; }
void server_update_cached_time(void);

/* Memory: used_memory and the recorded peak. */
size_t server_used_memory(void);
void server_update_peak_memory(void);

/* Exit during start-up (bad configuration, no listener): there is nothing
 * to save or release, so leave at once with the code, without atexit
 * handlers (which would report the configuration still held as leaks). */
void server_startup_exit(int code) __attribute__((noreturn));
/* Reopen the TCP listeners for the current port and bind addresses
 * (config's apply hook for both); 0 with *err set when that fails. */
int server_rebind_tcp(const char **err);
/* The same for the TLS listeners (tls-port); bind reopens both. */
int server_rebind_tls(const char **err);
/* DEBUG PAUSE-CRON: stop (1) or resume (0) the periodic tasks. */
void server_pause_cron(int pause);
void close_tcp_listeners(void);

/* Ask the event loop to stop after the current iteration. */
void server_prepare_shutdown(int exit_code);

#endif
