/*
 * sentinel_internal: the state shared by the files of src/sentinel/
 * (private to the folder).
 *
 * Redis Sentinel's model, kept as is because other sentinels and clients
 * depend on its observable behaviour: each monitored master is an
 * instance with its replicas and the other sentinels watching it; every
 * instance has a command link, masters and replicas also a Pub/Sub link
 * (for hello messages). Collections are small arrays: a sentinel watches
 * a handful of masters, each with a handful of replicas and sentinels.
 */
#ifndef KEEL_SENTINEL_INTERNAL_H
#define KEEL_SENTINEL_INTERNAL_H

#include "lib/kstr.h"
#include "lib/resp_reader.h"

#include <stdint.h>

/* ---- Outbound connections (conn.c) ------------------------------------- */

typedef struct sconn sconn;
/* Reply callback: r is NULL when the link closed before the reply. */
typedef void sconn_reply_fn(sconn *c, rr_reply *r, void *priv);
/* A message that answers no command (Pub/Sub pushes). */
typedef void sconn_push_fn(sconn *c, rr_reply *r, void *owner);

sconn *sconn_open(const char *ip, int port, void *owner, sconn_push_fn *on_push);
void sconn_close(sconn *c);
int sconn_broken(const sconn *c);     /* connect failed, I/O error, or EOF */
int sconn_pending(const sconn *c);   /* commands sent without reply yet */
/* Local address of the socket (the ip other sentinels should use). */
int sconn_local_ip(const sconn *c, char *buf, size_t len);
/* Queue a command; fn may be NULL (reply ignored). argv are C strings. */
void sconn_command(sconn *c, sconn_reply_fn *fn, void *priv, int argc, const char **argv);
void sconn_commandf(sconn *c, sconn_reply_fn *fn, void *priv, const char *fmt_words, ...);
/* Subscribed mode: all further replies are pushes. */
void sconn_set_subscribed(sconn *c);

/* Reply accessors, the one place that knows the reader's shape. */
int rr_is_error(const rr_reply *r);
int rr_is_text(const rr_reply *r);   /* status, bulk or verbatim string */
size_t rr_count(const rr_reply *r);  /* elements of an array/push, else 0 */
rr_reply *rr_at(const rr_reply *r, size_t i);
const char *rr_text(const rr_reply *r, size_t *len);
long long rr_int(const rr_reply *r);

/* ---- Instances (instance.c) --------------------------------------------- */

#define SRI_MASTER (1 << 0)
#define SRI_SLAVE (1 << 1)
#define SRI_SENTINEL (1 << 2)
#define SRI_S_DOWN (1 << 3)
#define SRI_O_DOWN (1 << 4)
#define SRI_MASTER_DOWN (1 << 5)     /* a sentinel said the master is down */
#define SRI_FAILOVER_IN_PROGRESS (1 << 6)
#define SRI_PROMOTED (1 << 7)
#define SRI_RECONF_SENT (1 << 8)
#define SRI_RECONF_INPROG (1 << 9)
#define SRI_RECONF_DONE (1 << 10)
#define SRI_FORCE_FAILOVER (1 << 11)
#define SRI_SCRIPT_KILL_SENT (1 << 12)
#define SRI_MASTER_REBOOT (1 << 13)

enum { FO_NONE = 0, FO_WAIT_START, FO_SELECT_SLAVE, FO_SEND_SLAVEOF_NOONE, FO_WAIT_PROMOTION,
       FO_RECONF_SLAVES, FO_UPDATE_CONFIG };

typedef struct sinstance sinstance;
typedef struct iarray { sinstance **v; int n, cap; } iarray;

struct sinstance {
    int flags;
    kstr name;                 /* master name, or "ip:port" */
    kstr runid;                /* NULL until learned */
    uint64_t config_epoch;
    kstr ip;                   /* resolved address, what links connect to */
    kstr hostname;             /* as configured, when that was a name */
    int port;
    sinstance *master;         /* replicas and sentinels: their master */

    /* Links. */
    sconn *cc, *pc;
    long long cc_conn_time, pc_conn_time, pc_last_activity;
    long long last_avail_time;  /* last valid PING reply */
    long long act_ping_time;    /* oldest PING without reply; 0 = none */
    long long last_ping_time, last_pong_time;
    long long last_pub_time, last_hello_time;
    long long last_master_down_reply_time;
    long long s_down_since_time, o_down_since_time;
    long long down_after_period;
    long long info_refresh;     /* last INFO reply */
    long long role_reported_time, slave_conf_change_time;
    int role_reported;          /* SRI_MASTER or SRI_SLAVE */
    kstr info;                  /* last INFO text (SENTINEL INFO-CACHE) */

    /* Masters. */
    iarray sentinels, slaves;
    unsigned int quorum;
    int parallel_syncs;
    kstr auth_pass, auth_user;
    long long master_reboot_down_after_period, master_reboot_since_time;
    kstr leader;                /* runid voted for in leader_epoch */
    uint64_t leader_epoch;
    uint64_t failover_epoch;
    int failover_state;
    long long failover_state_change_time, failover_start_time;
    long long failover_timeout, failover_delay_logged;
    sinstance *promoted_slave;
    kstr notification_script, client_reconfig_script;
    kstr *renamed;              /* rename-command pairs: from, to, from, to... */
    int nrenamed;

    /* Replicas, from their INFO. */
    long long master_link_down_time; /* ms */
    int slave_priority;
    int replica_announced;
    int slave_master_link_up;
    kstr slave_master_host;
    int slave_master_port;
    unsigned long long slave_repl_offset;
    long long slave_reconf_sent_time;
};

typedef struct sentinel_state {
    char myid[41];
    uint64_t current_epoch;
    iarray masters;
    int tilt;
    long long tilt_start_time, previous_time;
    kstr announce_ip;
    int announce_port;
    int deny_scripts_reconfig, resolve_hostnames, announce_hostnames;
    kstr sentinel_user, sentinel_pass;
    int simfailure_flags;
    int myid_set;
} sentinel_state;

#define SIMFAILURE_CRASH_AFTER_ELECTION (1 << 0)
#define SIMFAILURE_CRASH_AFTER_PROMOTION (1 << 1)

extern sentinel_state sentinel;

/* Sentinel's timing parameters (Redis 7.0's defaults; SENTINEL DEBUG
 * changes them, as Redis's own tests do). */
typedef struct sentinel_timing {
    long long info_period, ping_period, ask_period, publish_period, default_down_after;
    long long tilt_trigger, tilt_period, slave_reconf_timeout, min_link_reconnect_period;
    long long default_failover_timeout, election_timeout, script_max_runtime, script_retry_delay;
} sentinel_timing;
extern sentinel_timing st;
#define SENTINEL_MAX_PENDING_COMMANDS 100
#define SENTINEL_MAX_DESYNC 1000
#define SENTINEL_HELLO_CHANNEL "__sentinel__:hello"

void iarray_push(iarray *a, sinstance *ri);
void iarray_remove(iarray *a, sinstance *ri);

sinstance *instance_new(const char *name, int flags, const char *ip, int port, unsigned int quorum,
                        sinstance *master, const char **err);
void instance_free(sinstance *ri);
void instance_set_runid(sinstance *ri, const char *runid);
void instance_release_links(sinstance *ri);
/* The address shown to clients, written to the config file and sent to
 * other instances: the hostname with announce-hostnames, else the ip. */
const char *shown_addr(const sinstance *ri);
/* Whether host (an ip or a hostname) and port name this instance. */
int addr_is(const sinstance *ri, const char *host, int port);
/* An ip as is; a hostname resolved when resolve-hostnames is on. */
int resolve_addr(const char *addr, char *ip, size_t len);
sinstance *master_lookup(const char *name);
sinstance *master_lookup_addr(const char *ip, int port);
sinstance *slave_lookup(sinstance *m, const char *ip, int port);
sinstance *sentinel_lookup_runid(sinstance *m, const char *runid);
sinstance *sentinel_lookup_addr(sinstance *m, const char *ip, int port);
/* Forget replicas, sentinels, failover state (SENTINEL RESET, and the
 * address switch after a failover keeps the replicas it is given). */
void master_reset(sinstance *m, int keep_sentinels, int announce);
int master_switch_address(sinstance *m, const char *ip, int port);
const char *failover_state_name(int state);
/* The name a command has on this instance (a master's rename-command
 * applies to it and its replicas); conn.c asks for every request. */
const char *instance_map_command(void *owner, const char *name);
/* Set (or, with to == from, drop) a master's command renaming. */
void master_rename_command(sinstance *m, const char *from, const char *to);

/* Events: "<type> <instance details> [extra]" published on the channel
 * of the same name and logged. The details are "<role> <name> <ip>
 * <port> @ <master name> <master ip> <master port>" as Redis writes. */
void sentinel_event(int level, const char *type, sinstance *ri, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An event about master m whose text is only fmt's (+new-epoch,
 * +vote-for-leader, +switch-master): no instance details, but m's
 * notification script runs for it, as in Redis. */
void sentinel_event_of(int level, const char *type, sinstance *m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- User scripts (scripts.c) ------------------------------------------- */
struct client;
/* Queue a run of path with args (copied); started by scripts_tick. */
void script_schedule(const char *path, int argc, const char *const *args);
/* m's client-reconfig-script, if any, for a failover from -> to. */
void script_client_reconfig(sinstance *m, int leader, const char *state, const char *from_ip, int from_port,
                            const char *to_ip, int to_port);
/* From the timer: start due jobs, reap ended ones, kill overdue ones. */
void scripts_tick(void);
int scripts_running(void);
int scripts_queue_length(void);
void scripts_reply_pending(struct client *c); /* SENTINEL PENDING-SCRIPTS */

/* ---- Monitoring (monitor.c) --------------------------------------------- */
void monitor_instance(sinstance *ri);
void send_hello(sinstance *ri);
void refresh_info_now(sinstance *ri);
int master_looks_sane(sinstance *m);
int is_slave_usable(sinstance *s);
void process_hello(const char *hello, size_t len);

/* ---- Failover (failover.c) ---------------------------------------------- */
void check_objectively_down(sinstance *m);
int start_failover_if_needed(sinstance *m);
void ask_master_state(sinstance *m, int force);
void failover_step(sinstance *m);
void failover_abort(sinstance *m);
void failover_start(sinstance *m);
const char *vote_leader(sinstance *m, uint64_t req_epoch, const char *req_runid, uint64_t *leader_epoch);
sinstance *select_slave(sinstance *m);
void failover_after_info(sinstance *m, sinstance *ri);
void send_slaveof(sinstance *ri, const char *host, int port, sconn_reply_fn *fn);

/* ---- Config (config.c) -------------------------------------------------- */
/* Rewrite the config file with the current state; 0 on failure. */
int sentinel_flush_config(void);
void sentinel_apply_queued_config(void);

/* ---- Misc ---------------------------------------------------------------- */
/* The address that this sentinel announces, for hello messages. */
const char *announce_ip_for(sinstance *ri, char *buf, size_t len);
int announce_port(void);

#endif
