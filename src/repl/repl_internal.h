/*
 * repl_internal: state shared by the files of src/repl only (backlog.c,
 * master.c, replica.c, repl_cmds.c, failover.c). Nothing outside src/repl
 * includes it.
 */
#ifndef KEEL_REPL_INTERNAL_H
#define KEEL_REPL_INTERNAL_H

#include <stddef.h>
#include <sys/types.h>
#include "lib/kstr.h"
#include "net/client.h"

/* ---- settings (repl_cmds.c's parameter table) ---- */
extern char *cfg_masterauth, *cfg_masteruser, *cfg_announce_ip;
extern int cfg_serve_stale, cfg_read_only, cfg_lazy_flush, cfg_ignore_maxmemory, cfg_priority;
extern int cfg_announce_port, cfg_announced, cfg_diskless_sync, cfg_diskless_delay;
extern int cfg_diskless_max, cfg_diskless_load, cfg_ping_period, cfg_timeout;
extern int cfg_min_replicas, cfg_min_replicas_lag, cfg_propagation_error;
/* propagation-error-behavior: what a replica does when a command from its
 * master fails (replica.c, report_master_error). */
enum { PROPAGATION_ERR_IGNORE = 0, PROPAGATION_ERR_PANIC, PROPAGATION_ERR_PANIC_ON_REPLICAS };
extern long long cfg_backlog_size, cfg_backlog_ttl;

/* ---- replication id and stream (backlog.c) ---- */
typedef struct bl_block {
    struct bl_block *next;
    long long off;       /* stream offset of data[0] (1-based, as Redis) */
    size_t used, size;
    char data[];
} bl_block;

typedef struct repl_stream {
    char replid[41], replid2[41];
    long long offset;            /* master_repl_offset: bytes in the stream */
    long long second_offset;     /* second_repl_offset, -1 when none */
    bl_block *head, *tail;       /* NULL: no backlog */
    long long first_byte;        /* offset of head->data[0] */
    size_t mem;                  /* bytes of blocks allocated */
    int stream_db;               /* database of the last SELECT, -1: none */
    long long no_replicas_since; /* for repl-backlog-ttl */
} repl_stream;
extern repl_stream RS;

void rstream_new_replid(void);
/* REPLICAOF: keep the current history as the secondary id. */
void rstream_shift_replid(void);
void backlog_create(void);
void backlog_free(void);
/* Append raw protocol bytes to the stream (offset grows). */
void rstream_append(const char *p, size_t len);
/* A command in RESP, with a SELECT first when db differs (-1: none). */
void rstream_command(int dbid, int argc, kstr *argv);
/* Can the stream be served from offset `from` (next byte wanted)? */
int backlog_has(long long from);
/* The block holding offset off (cached: a hint, may be NULL). */
bl_block *backlog_find(bl_block *hint, long long off);
/* Drop head blocks no one needs: keep repl-backlog-size and every byte
 * from `min_needed` (LLONG_MAX: no replica needs anything); before_free
 * (may be NULL) sees each block before it goes. */
void backlog_trim(long long min_needed, void (*before_free)(const bl_block *b));
/* Reset the stream to a new id and offset (a replica after a full sync). */
void rstream_reset(const char *replid, long long offset);
/* Log the last bytes of the stream (a replica whose master sent a
 * command that failed: what came before it). */
void rstream_log_latest(void);

/* The replication aux fields of the last RDB loaded (repl_cmds.c). */
typedef struct repl_aux {
    int have_id;
    char id[41];
    long long off;
    int db;
} repl_aux;
extern repl_aux RAUX;
void repl_aux_install(void);

/* ---- master side (master.c) ---- */
enum { RS_NONE = 0, RS_WAIT_START, RS_WAIT_END, RS_SEND_BULK, RS_ONLINE };
typedef struct replica_rec {
    client *c;
    int fd;
    int state;
    int listening_port;
    char ip[64];
    int capa_eof, capa_psync2, old_sync;
    int rdb_only;                /* REPLCONF rdb-only 1: the RDB, then goodbye (redis-cli --rdb) */
    long long wait_since_ms;
    long long psync_start;       /* first stream byte after the RDB */
    long long next_byte;         /* next stream byte to send */
    bl_block *cur;               /* hint for next_byte's block */
    long long ack_off, ack_ms;
    int wr_installed;
    int from_spill;              /* its stream starts in the spill file */
    int wait_first_ack;          /* $EOF: payload sent, stream held until its ACK */
    long long soft_since_ms;
    /* RDB transfer */
    int rdbfd;
    off_t rdb_off, rdb_size;
    char pre[96];
    size_t pre_len, pre_sent;
    char mark[40];
    size_t mark_sent;
    int use_eof;
    int following;               /* diskless: sent while the snapshot is still writing the file */
    long long blocked_since_ms;  /* the payload's socket is full since (0: it is not) */
    struct replica_rec *next;
} replica_rec;
extern replica_rec *replicas;
extern long long stat_sync_full, stat_sync_partial_ok, stat_sync_partial_err;
int replicas_count_online(void);
int replicas_good_count(void);
void master_feed_listener(int dbid, int argc, kstr *argv, void *priv);
void master_cron(void);
void master_before_sleep(void);
void master_drop_all_replicas(void);
long long master_acked_count(long long offset);
void master_request_acks(void);
replica_rec *replica_of(client *c);
void master_replica_gone(client *c);
size_t master_lag_bytes(void);
/* INFO's name of a replica state (wait_bgsave, send_bulk, online). */
const char *replica_state_name(int st);
/* Bytes of stream in the spill file (INFO, Keel only). */
size_t master_spill_bytes(void);

/* ---- replica side (replica.c) ---- */
enum {
    LINK_NONE = 0, LINK_CONNECT, LINK_CONNECTING, LINK_RECV_PONG, LINK_RECV_AUTH, LINK_RECV_PORT,
    LINK_RECV_IP, LINK_RECV_CAPA, LINK_RECV_PSYNC, LINK_TRANSFER, LINK_CONNECTED
};
typedef struct master_link {
    char *host;
    int port;
    int state;
    int fd;
    struct conn *conn;          /* TLS (tls-replication yes), NULL for plain */
    kstr line;                  /* handshake reply being read */
    long long last_io_ms, down_since_ms, sync_start_ms;
    /* transfer */
    long long size;             /* -1: $EOF: form */
    long long got;
    char mark[40];
    char tail[40];
    int tmpfd;
    char tmppath[128];
    char new_replid[41];
    long long new_offset;
    /* connected */
    client *mc;
    kstr in;
    size_t in_pos;
    long long read_off;         /* slave_read_repl_offset */
    long long last_ack_ms;
} master_link;
extern master_link ML;
void replica_set_master(const char *host, int port);
void replica_unset_master(void);
void replica_cron(void);
const char *link_state_name(void);
int link_is_up(void);
/* Apply whatever the master sent that is still unread in the socket
 * (FAILOVER's target, before it promotes itself). */
void replica_drain_master_link(void);
/* The database the master's stream is on (repl-stream-db). */
int replica_stream_db(void);
/* Start-up with replicaof and an RDB that named its replication id. */
void replica_resume_from_rdb(void);
/* While the master client's command runs. */
extern int applying_master;

/* ---- FAILOVER (failover.c) ---- */
void failover_command(client *c);
/* A coordinated failover is under way (its write pause is held). */
int rfailover_active(void);
/* This server, the old master, is connecting to the target: its PSYNC
 * carries FAILOVER. */
int rfailover_psync_flag(void);
/* The target answered that PSYNC: +CONTINUE or +FULLRESYNC (1), or not. */
void rfailover_psync_answered(int accepted);
/* INFO replication's master_failover_state. */
const char *rfailover_state_name(void);
/* Before sleeping: has the target caught up, has TIMEOUT passed? */
void rfailover_update(void);
/* PSYNC <replid> <offset> FAILOVER received: promote this replica. 0 when
 * refused (c has the error). */
int rfailover_psync_request(client *c);

#endif
