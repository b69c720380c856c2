/*
 * repl: Redis 7.0's master-replica replication (PSYNC2), both sides.
 *
 * Master side: a replication id and offset, the backlog (one shared
 * buffer of the write stream that every replica reads from at its own
 * position), PSYNC answered with +CONTINUE from the backlog or with
 * +FULLRESYNC and an RDB made by the fork-less snapshot engine
 * (persist/snapshot.h), REPLCONF, WAIT, min-replicas.
 *
 * Replica side: REPLICAOF starts a non-blocking link to the master, the
 * handshake (PING, AUTH, REPLCONF, PSYNC), the RDB transfer (`$len` or
 * `$EOF:<mark>`) loaded through the RDB loader, then the master's command
 * stream applied by a master client whose replies are dropped, its offset
 * counted and acknowledged every second.
 *
 * This header is the module's whole interface: the core calls it at
 * dispatch (what a replica or a master short of replicas refuses), from
 * the cron and before sleeping, for INFO replication, and when a client
 * goes away. The design and its consistency argument are in
 * docs/ARCHITECTURE.md, "Replication".
 */
#ifndef KEEL_REPL_H
#define KEEL_REPL_H

#include <stddef.h>
#include "lib/kstr.h"

struct client;
struct command;

/* Start-up: replid, the write-stream listener, `replicaof` from the
 * configuration file. */
void repl_init(void);
/* Before the dataset is loaded at start-up: the RDB hooks for the
 * replication aux fields. */
void repl_early_init(void);
/* Once a second or more often (main's cron). */
void repl_cron(void);
/* Each event-loop iteration: stream new writes to replicas. */
void repl_before_sleep(void);

/* A client with replication state (a replica) is being freed. */
void repl_client_gone(struct client *c);

/* Dispatch: the error (without "-") a command gets from replication's
 * rules (READONLY, MASTERDOWN, NOREPLICAS), or NULL. */
const char *repl_deny_command(struct client *c, struct command *cmd, int queued_flags_write);

/* A replica with replica-ignore-maxmemory yes: it neither evicts nor
 * refuses writes for memory (its master's stream decides). */
int repl_ignores_maxmemory(void);
/* Is this server a replica (REPLICAOF host port)? */
int repl_is_replica(void);
/* CLIENT KILL TYPE master, or ADDR / the old form naming the master's
 * address (addr NULL: any): drop the link to the master (it reconnects
 * and continues with PSYNC). 1 if there was such a link. */
int repl_kill_master_link(const char *addr);
/* The client applying the master's stream (CLIENT LIST shows it, flags
 * M), NULL when the link is not up. It is not in server.clients. */
struct client *repl_master_client(void);
/* Is c the client applying the master's stream? */
int repl_is_master_client(const struct client *c);

/* Cluster mode (cluster/): CLUSTER REPLICATE and a promoted replica use
 * these, as REPLICAOF host port and REPLICAOF NO ONE would. */
void repl_replicate(const char *host, int port);
void repl_stop_replicating(void);
/* The replication offset: the master's stream offset, or the offset a
 * replica applied (also while its link is down; 0 during a full sync). */
long long repl_offset(void);
/* Cluster replica validity: milliseconds since this replica last heard
 * from its master (the link's last read while it is up, else since it
 * went down; "forever" when it never came up since REPLICAOF), as Redis
 * measures a replica's data age. */
long long repl_master_data_age_ms(void);
/* repl-ping-replica-period, in seconds. */
int repl_ping_period(void);
/* While held (a cluster manual failover on this master compares
 * offsets), the master's stream carries no keepalive PING or GETACK. */
void repl_hold_pings(int hold);

/* DEBUG REPLICATE: send a command to the replicas (and the backlog)
 * without running it here, in the stream's current database (no SELECT);
 * nothing when no stream is kept or on a replica, as Redis. */
void repl_feed_replicas_only(int argc, kstr *argv);
/* DEBUG CHANGE-REPL-ID: a new replication id, no secondary one. */
void repl_change_replid(void);

/* SHUTDOWN (core/shutdown.h): has every replica acknowledged the whole
 * stream (1 with none)? Ask them now (REPLCONF GETACK). Log the lagging
 * ones and how many are in sync, as Redis does before exiting. */
int repl_replicas_in_sync(void);
void repl_request_acks(void);
void repl_log_shutdown_sync(void);

/* INFO stats' sync_full, sync_partial_ok, sync_partial_err lines. */
kstr repl_info_stats(kstr s);
/* INFO replication. */
kstr repl_info_section(kstr s);
/* Memory figures, with Redis 7.0's meaning (the backlog and the replicas
 * share one buffer): all of it (mem_total_replication_buffers), the part
 * counted as the backlog (up to repl-backlog-size; all of it while no
 * replica is attached) and what it holds beyond that for replicas that
 * lag (mem_clients_slaves). The last two add up to the first. */
size_t repl_buffers_memory(void);
size_t repl_backlog_memory(void);
size_t repl_replica_buffers_memory(void);

#endif
