/*
 * cluster: Redis Cluster (issue 15). The interface the rest of the server
 * sees: whether cluster mode is on, the parameter and command tables, the
 * per-request slot check of command dispatch, the cron, and MIGRATE's
 * connection cache.
 *
 * Files: migrate.c (MIGRATE, its cached connections), cluster.c (the
 * node's view of the cluster: nodes, slots, epochs; the CLUSTER commands;
 * nodes.conf), redirect.c (which node serves a request: -MOVED, -ASK,
 * -TRYAGAIN, -CROSSSLOT, -CLUSTERDOWN), bus.c (the cluster bus in Redis
 * 7.0's binary format). The hash slot function is lib/crc16.h, shared
 * with the keyspace's per-slot tables (core/db.h).
 */
#ifndef KEEL_CLUSTER_H
#define KEEL_CLUSTER_H

#include "core/command.h"
#include "core/config.h"
#include "lib/kstr.h"
#include "net/client.h"

/* cluster-enabled yes (read once at start-up). */
int cluster_is_enabled(void);

extern config_entry cluster_configs[];
extern command migrate_commands[];
extern command cluster_commands[];

/* Start-up, after the configuration is read and before the keyspace is
 * loaded (cluster mode changes how db.c lays it out). */
void cluster_init(void);
/* After the listeners: the cluster bus. */
void cluster_start(void);
/* Each event-loop iteration: nodes.conf and the state, when changed. */
void cluster_before_sleep(void);
/* The server cron: MIGRATE's idle connections, the bus, failure
 * detection. */
void cluster_cron(void);
void migrate_cron(void);
int migrate_cached_connections(void);

/* Dispatch: in cluster mode, whether this node may serve c's request for
 * cmd. Returns 1 when it may; otherwise it has replied the redirection
 * or error (-MOVED, -ASK, -TRYAGAIN, -CROSSSLOT, -CLUSTERDOWN) and
 * returns 0. */
int cluster_check_request(client *c, const command *cmd);

/* Scripts (script/run.c): the slot of the keys a request declares (EVAL's
 * keys), or -1; and the check of each redis.call: NULL when this node may
 * run it, else the error text for the script (Redis's words). *slot is
 * the slot the script's keys used so far (-1: none yet); a key of another
 * slot is refused unless allow_cross_slot. */
int cluster_request_slot(client *c);
const char *cluster_script_check(client *caller, const command *cmd, int argc, kstr *argv, int *slot,
                                 int allow_cross_slot);

/* DEBUG DROP-CLUSTER-PACKET-FILTER: bus messages of this type are
 * dropped on receipt (-1: none), for tests. */
void cluster_debug_drop_packets(int type);

/* DEBUG CLUSTERLINK KILL to|from|all <node>: frees our bus links with
 * that node. 0 done, -1 not in cluster mode, -2 unknown node, -3 unknown
 * direction. */
int cluster_debug_kill_links(const char *dir, const char *node, size_t len);

/* INFO clients: cluster bus links (both directions). */
int cluster_connections(void);

/* INFO memory's mem_cluster_links: the bus links' buffers. */
size_t cluster_links_memory(void);

/* INFO cluster. */
kstr cluster_info_section(kstr s);

#endif
