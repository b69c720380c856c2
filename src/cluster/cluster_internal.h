/*
 * cluster_internal: the state shared by the files of src/cluster/ (not
 * an interface for the rest of the server: that is cluster.h).
 *
 * A node is what this node knows of a member: name (40 hex characters),
 * address, flags (Redis's, with the same bit values, since they travel
 * on the bus), its master, config epoch, the slots it claims, liveness
 * times and failure reports. The cluster state is the node list, the
 * slot table (owner, migrating to, importing from), the epochs and the
 * computed state (ok / fail).
 */
#ifndef KEEL_CLUSTER_INTERNAL_H
#define KEEL_CLUSTER_INTERNAL_H

#include <stdint.h>

#include "lib/crc16.h"
#include "lib/kstr.h"

#define NODE_NAMELEN 40
#define NODE_IPLEN 46

/* Node flags: the bit values of Redis's bus. */
#define NODE_MASTER 1
#define NODE_SLAVE 2
#define NODE_PFAIL 4
#define NODE_FAIL 8
#define NODE_MYSELF 16
#define NODE_HANDSHAKE 32
#define NODE_NOADDR 64
#define NODE_MEET 128
#define NODE_MIGRATE_TO 256
#define NODE_NOFAILOVER 512

/* Bus message types. */
enum {
    MSG_PING, MSG_PONG, MSG_MEET, MSG_FAIL, MSG_PUBLISH, MSG_FAILOVER_AUTH_REQUEST,
    MSG_FAILOVER_AUTH_ACK, MSG_UPDATE, MSG_MFSTART, MSG_MODULE, MSG_PUBLISHSHARD, MSG_TYPE_COUNT
};

struct bus_link;

typedef struct fail_report {
    struct cnode *reporter;
    long long time_ms;
} fail_report;

typedef struct cnode {
    char name[NODE_NAMELEN + 1];
    char ip[NODE_IPLEN];
    char hostname[256];
    int port, cport;
    int flags;
    uint64_t config_epoch;
    unsigned char slots[CLUSTER_SLOTS / 8];
    int numslots;
    struct cnode *master;
    struct cnode **replicas;
    int nreplicas;
    long long ctime_ms;       /* created (handshake timeout) */
    long long ping_sent_ms;   /* 0: no ping in flight */
    long long pong_received_ms;
    long long data_received_ms;
    long long fail_time_ms;
    long long repl_offset;
    long long voted_time_ms;  /* we voted for a replica of this master */
    long long orphaned_time_ms; /* a master with no working replica since (replica_migration.c) */
    fail_report *reports;
    int nreports;
    struct bus_link *link;    /* ours, outbound */
    struct bus_link *inbound; /* theirs */
} cnode;

typedef struct cluster_state {
    cnode *myself;
    cnode **nodes;
    int nnodes;
    uint64_t current_epoch, last_vote_epoch;
    int ok;                   /* cluster_state:ok */
    int size;                 /* masters serving at least one slot */
    cnode *slots[CLUSTER_SLOTS];
    cnode *migrating_to[CLUSTER_SLOTS];
    cnode *importing_from[CLUSTER_SLOTS];
    long long sent[MSG_TYPE_COUNT], received[MSG_TYPE_COUNT];
    int todo_save;            /* nodes.conf must be rewritten: 1, and fsynced: 2 */
    int todo_update_state;
    int todo_failover;        /* run the election step before sleeping (failover.c) */
    /* Replica election (failover.c). */
    long long failover_auth_time;  /* when to ask for votes; 0: no election */
    int failover_auth_count, failover_auth_sent, failover_auth_rank;
    uint64_t failover_auth_epoch;
    /* Manual failover (manual_failover.c): both sides. */
    long long mf_end;              /* when it is abandoned; 0: none in progress */
    int mf_can_start;              /* replica: caught up (or FORCE): elect now */
    struct cnode *mf_replica;      /* master: the replica that sent MFSTART */
    long long mf_master_offset;    /* replica: the paused master's offset, -1 */
    long long links_buffer_limit_exceeded; /* links freed for cluster-link-sendbuf-limit */
    /* Nodes CLUSTER FORGET removed: not re-added from gossip for a minute. */
    struct { char name[NODE_NAMELEN + 1]; long long until_ms; } forgotten[32];
} cluster_state;

extern cluster_state cl;

/* Parameters (cluster.c's table). */
extern int cluster_enabled_cfg;
extern char *cluster_config_file;
extern int cluster_port_cfg;
extern long long cluster_node_timeout;
extern int cluster_require_full_coverage;
extern int cluster_allow_reads_when_down;
extern int cluster_allow_pubsubshard_when_down;
extern char *cluster_announce_ip;
extern char *cluster_announce_hostname;
extern int cluster_announce_port, cluster_announce_bus_port;
extern int cluster_preferred_endpoint;
extern int cluster_allow_replica_migration;
/* High availability (failover.c, manual_failover.c, replica_migration.c,
 * bus.c's link limit). */
extern int cluster_replica_validity_factor, cluster_migration_barrier, cluster_replica_no_failover;
extern long long cluster_link_sendbuf_limit;

/* Slot bitmaps. */
static inline int bit_test(const unsigned char *b, int i) { return (b[i >> 3] >> (i & 7)) & 1; }
static inline void bit_set(unsigned char *b, int i) { b[i >> 3] |= (unsigned char)(1 << (i & 7)); }
static inline void bit_clear(unsigned char *b, int i) { b[i >> 3] &= (unsigned char)~(1 << (i & 7)); }

/* cluster.c: nodes and slots. */
cnode *node_create(const char *name, int flags);
void node_random_name(char *out);
cnode *node_lookup(const char *name, size_t len);
void node_delete(cnode *n);
void node_rename(cnode *n, const char *name);
int node_add_slot(cnode *n, int slot);
int node_del_slot(cnode *n, int slot);
void node_set_master(cnode *n, cnode *master);
int node_add_failure_report(cnode *n, cnode *reporter);
void node_del_failure_report(cnode *n, cnode *reporter);
int node_failure_reports(cnode *n);
int cluster_add_slot(cnode *n, int slot);
int cluster_del_slot(int slot);
void cluster_update_state(void);
int cluster_save_config(int fsync_it);
void cluster_note_change(int save);
int cluster_bus_port(const cnode *n);
int node_is_forgotten(const char *name);
kstr cluster_node_line(kstr s, const cnode *n, int for_file);
kstr cluster_nodes_text(kstr s, int for_file);
int cluster_start_handshake(const char *ip, int port, int cport);
int cluster_my_port(void);
int cluster_listen_port(void); /* the bus port this node listens on */
const char *cluster_endpoint(const cnode *n);

/* failover.c */
void cluster_set_my_master(cnode *m);
void failover_cron(void);
void failover_auth_requested(cnode *sender, const unsigned char *hdr, uint64_t req_current_epoch,
                             uint64_t req_config_epoch, int force_ack);
void failover_auth_acked(cnode *sender, uint64_t sender_current_epoch);
int failover_manual(int force, int takeover, const char **err);
void failover_promote_myself(void);
void failover_before_sleep(void);

/* manual_failover.c */
void mf_reset(void);
void mf_request(int force);
void mf_on_mfstart(struct cnode *sender, struct bus_link *l);
void mf_note_master_offset(struct cnode *sender, int paused);
int mf_header_flags(void);
void mf_cron(void);
int mf_check_caught_up(void);
/* replica_migration.c */
void replica_migration_cron(void);

/* redirect.c */
void cluster_redirect_blocked_clients(void);

/* bus.c */
int bus_listen(void);
void bus_cron(void);
void bus_free_link(struct bus_link *l);
void bus_send_ping(struct bus_link *l, int type);
void bus_send_bare(struct bus_link *l, int type, int mflags0);
void bus_broadcast_bare(int type, int mflags0);
void bus_broadcast_fail(cnode *n);
void bus_broadcast_pong(void);
void bus_broadcast_publish(const kstr channel, const kstr message, int sharded);
int bus_link_connected(const struct bus_link *l);
long long bus_link_bytes(void);
int bus_links_count(void);
void bus_links_foreach(void (*fn)(void *priv, const char *dir, const cnode *n, long long ctime, long long events,
                                  size_t sndlen, size_t sndcap),
                       void *priv);

#endif
