/*
 * cluster_cmds.c: CLUSTER and its subcommands, ASKING, READONLY,
 * READWRITE, RESTORE-ASKING, with Redis 7.0's replies and error texts
 * (redis-cli --cluster and cluster clients parse them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cluster/cluster.h"
#include "cluster/cluster_internal.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "repl/repl.h"

/* Every CLUSTER subcommand first: Redis refuses them all when cluster
 * mode is off. */
static int cluster_on(client *c) {
    if (cluster_enabled_cfg) return 1;
    reply_error(c, "ERR This instance has cluster support disabled");
    return 0;
}

static int slot_arg(client *c, const kstr arg) {
    long long slot;
    if (!string_to_ll(arg, kstr_len(arg), &slot) || slot < 0 || slot >= CLUSTER_SLOTS) {
        reply_error(c, "ERR Invalid or out of range slot");
        return -1;
    }
    return (int)slot;
}

static cnode *node_arg(const kstr arg) { return node_lookup(arg, kstr_len(arg)); }

/* FORGET, REPLICAS, COUNT-FAILURE-REPORTS, REPLICATE: the node named by
 * argv[2], or NULL once the error is replied (cluster mode off, or an
 * unknown node). */
static cnode *known_node_arg(client *c) {
    if (!cluster_on(c)) return NULL;
    cnode *n = node_arg(c->argv[2]);
    if (!n) reply_errorf(c, "ERR Unknown node %s", c->argv[2]);
    return n;
}

static void cluster_help(client *c) {
    if (!cluster_on(c)) return;
    static const char *const lines[] = {
        "ADDSLOTS <slot> [<slot> ...]", "    Assign slots to current node.",
        "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "    Assign slots which are between <start-slot> and <end-slot> to current node.",
        "BUMPEPOCH", "    Advance the cluster config epoch.",
        "COUNT-FAILURE-REPORTS <node-id>", "    Return number of failure reports for <node-id>.",
        "COUNTKEYSINSLOT <slot>", "    Return the number of keys in <slot>.",
        "DELSLOTS <slot> [<slot> ...]", "    Delete slots information from current node.",
        "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
        "FAILOVER [FORCE|TAKEOVER]", "    Promote current replica node to being a master.",
        "FORGET <node-id>", "    Remove a node from the cluster.",
        "GETKEYSINSLOT <slot> <count>", "    Return key names stored by current node in a slot.",
        "FLUSHSLOTS", "    Delete current node own slots information.",
        "INFO", "    Return information about the cluster.",
        "KEYSLOT <key>", "    Return the hash slot for <key>.",
        "MEET <ip> <port> [<bus-port>]", "    Connect nodes into a working cluster.",
        "MYID", "    Return the node id.",
        "NODES", "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
        "REPLICATE <node-id>", "    Configure current node as replica to <node-id>.",
        "RESET [HARD|SOFT]", "    Reset current node (default: soft).",
        "SET-CONFIG-EPOCH <epoch>", "    Set config epoch of current node.",
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)", "    Set slot state.",
        "REPLICAS <node-id>", "    Return <node-id> replicas.",
        "SAVECONFIG", "    Force saving cluster configuration on disk.",
        "SLOTS", "    Return information about slots range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "SHARDS", "    Return information about slot range mappings and the nodes associated with them.",
        "LINKS", "    Return information about all network links between this node and its peers.",
        "    Output format is an array where each array element is a map containing attributes of a link",
        NULL,
    };
    reply_help(c, lines);
}

/* ---- MEET, FORGET, RESET, epochs ---------------------------------------- */

static void cluster_meet(client *c) {
    if (!cluster_on(c)) return;
    if (c->argc > 5) {
        reply_error_arity(c);
        return;
    }
    long long port, cport;
    if (!string_to_ll(c->argv[3], kstr_len(c->argv[3]), &port)) {
        reply_errorf(c, "ERR Invalid TCP base port specified: %s", c->argv[3]);
        return;
    }
    if (c->argc == 5) {
        if (!string_to_ll(c->argv[4], kstr_len(c->argv[4]), &cport)) {
            reply_errorf(c, "ERR Invalid TCP bus port specified: %s", c->argv[4]);
            return;
        }
    } else {
        cport = port + 10000;
    }
    if (cluster_start_handshake(c->argv[2], (int)port, (int)cport) < 0) {
        reply_errorf(c, "ERR Invalid node address specified: %s:%s", c->argv[2], c->argv[3]);
        return;
    }
    reply_ok(c);
}

static void cluster_forget(client *c) {
    cnode *n = known_node_arg(c);
    if (!n) return;
    if (n == cl.myself) {
        reply_error(c, "ERR I tried hard but I can't forget myself...");
        return;
    }
    if ((cl.myself->flags & NODE_SLAVE) && cl.myself->master == n) {
        reply_error(c, "ERR Can't forget my master!");
        return;
    }
    /* Not re-learnt from gossip for a minute. */
    int slot = 0;
    long long now = mstime();
    for (size_t i = 0; i < sizeof(cl.forgotten) / sizeof(cl.forgotten[0]); i++)
        if (cl.forgotten[i].until_ms < cl.forgotten[slot].until_ms) slot = (int)i;
    memcpy(cl.forgotten[slot].name, n->name, NODE_NAMELEN + 1);
    cl.forgotten[slot].until_ms = now + 60000;
    node_delete(n);
    cluster_note_change(1);
    reply_ok(c);
}

static void cluster_reset(client *c) {
    if (!cluster_on(c)) return;
    int hard = 0;
    if (c->argc == 3) {
        if (arg_is(c->argv[2], "hard")) hard = 1;
        else if (!arg_is(c->argv[2], "soft")) {
            reply_error_syntax(c);
            return;
        }
    } else if (c->argc > 3) {
        reply_error_arity(c);
        return;
    }
    if ((cl.myself->flags & NODE_MASTER) && db_size(c->db) != 0) {
        reply_error(c, "ERR CLUSTER RESET can't be called with master nodes containing keys");
        return;
    }
    if (cl.myself->flags & NODE_SLAVE) {
        node_set_master(cl.myself, NULL);
        cl.myself->flags = (cl.myself->flags & ~NODE_SLAVE) | NODE_MASTER;
        repl_stop_replicating();
        db_empty_all();
    }
    cl.failover_auth_time = 0;
    mf_reset();
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        cl.migrating_to[j] = cl.importing_from[j] = NULL;
        cluster_del_slot(j);
    }
    for (int i = cl.nnodes - 1; i >= 0; i--)
        if (cl.nodes[i] != cl.myself) node_delete(cl.nodes[i]);
    if (hard) {
        cl.current_epoch = cl.last_vote_epoch = 0;
        cl.myself->config_epoch = 0;
        node_random_name(cl.myself->name);
        server_log(LOG_NOTICE, "Node hard reset, now I'm %.40s", cl.myself->name);
    }
    cluster_note_change(2);
    reply_ok(c);
}

static void cluster_set_config_epoch(client *c) {
    if (!cluster_on(c)) return;
    long long epoch;
    if (!parse_ll(c, c->argv[2], &epoch)) return;
    if (epoch < 0) {
        reply_errorf(c, "ERR Invalid config epoch specified: %lld", epoch);
    } else if (cl.nnodes > 1) {
        reply_error(c, "ERR The user can assign a config epoch only when the node does not know any other node.");
    } else if (cl.myself->config_epoch != 0) {
        reply_error(c, "ERR Node config epoch is already non-zero");
    } else {
        cl.myself->config_epoch = (uint64_t)epoch;
        server_log(LOG_WARNING, "configEpoch set to %llu via CLUSTER SET-CONFIG-EPOCH", (unsigned long long)epoch);
        if (cl.current_epoch < (uint64_t)epoch) cl.current_epoch = (uint64_t)epoch;
        cluster_note_change(2);
        reply_ok(c);
    }
}

/* A new config epoch without agreement from the others, when ours is not
 * already the greatest and unique (Redis's rule). 1 bumped. */
static int bump_epoch(void) {
    uint64_t max = 0;
    int unique = 1;
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if (n->config_epoch > max) max = n->config_epoch;
        if (n != cl.myself && n->config_epoch == cl.myself->config_epoch) unique = 0;
    }
    if (cl.myself->config_epoch != 0 && cl.myself->config_epoch == max && unique) return 0;
    cl.current_epoch++;
    cl.myself->config_epoch = cl.current_epoch;
    cluster_note_change(2);
    return 1;
}

static void cluster_bumpepoch(client *c) {
    if (!cluster_on(c)) return;
    int bumped = bump_epoch();
    char buf[64];
    snprintf(buf, sizeof(buf), "%s %llu", bumped ? "BUMPED" : "STILL", (unsigned long long)cl.myself->config_epoch);
    reply_status(c, buf);
}

static void cluster_saveconfig(client *c) {
    if (!cluster_on(c)) return;
    if (cluster_save_config(1) == 0) reply_ok(c);
    else reply_errorf(c, "ERR error saving the cluster node config: %s", strerror(errno));
}

/* ---- slots ------------------------------------------------------------ */

static int check_slots(client *c, unsigned char *seen, int del, int start, int end) {
    for (int j = start; j <= end; j++) {
        if (del && !cl.slots[j]) {
            reply_errorf(c, "ERR Slot %d is already unassigned", j);
            return 0;
        }
        if (!del && cl.slots[j]) {
            reply_errorf(c, "ERR Slot %d is already busy", j);
            return 0;
        }
        if (seen[j]++ == 1) {
            reply_errorf(c, "ERR Slot %d specified multiple times", j);
            return 0;
        }
    }
    return 1;
}

static void apply_slots(const unsigned char *seen, int del) {
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (!seen[j]) continue;
        if (del) {
            cluster_del_slot(j);
        } else {
            if (cl.importing_from[j]) cl.importing_from[j] = NULL;
            cluster_add_slot(cl.myself, j);
        }
    }
    cluster_note_change(1);
}

static void slots_command(client *c, int del, int ranges) {
    if (!cluster_on(c)) return;
    if (ranges && c->argc % 2 == 1) {
        reply_error_arity(c);
        return;
    }
    unsigned char *seen = zcalloc(CLUSTER_SLOTS);
    int step = ranges ? 2 : 1;
    /* Every argument is checked before any is applied. */
    for (int j = 2; j < c->argc; j++)
        if (slot_arg(c, c->argv[j]) < 0) goto done;
    for (int j = 2; j < c->argc; j += step) {
        int start = slot_arg(c, c->argv[j]), end = ranges ? slot_arg(c, c->argv[j + 1]) : start;
        if (start > end) {
            reply_errorf(c, "ERR start slot number %d is greater than end slot number %d", start, end);
            goto done;
        }
        if (!check_slots(c, seen, del, start, end)) goto done;
    }
    apply_slots(seen, del);
    reply_ok(c);
done:
    zfree(seen);
}

static void cluster_addslots(client *c) { slots_command(c, 0, 0); }
static void cluster_delslots(client *c) { slots_command(c, 1, 0); }
static void cluster_addslotsrange(client *c) { slots_command(c, 0, 1); }
static void cluster_delslotsrange(client *c) { slots_command(c, 1, 1); }

static void cluster_flushslots(client *c) {
    if (!cluster_on(c)) return;
    if (db_size(db_get(0)) != 0) {
        reply_error(c, "ERR DB must be empty to perform CLUSTER FLUSHSLOTS.");
        return;
    }
    for (int j = 0; j < CLUSTER_SLOTS; j++)
        if (cl.slots[j] == cl.myself) cluster_del_slot(j);
    cluster_note_change(1);
    reply_ok(c);
}

static int setslot_target(client *c, cnode **out, const char *unknown_fmt) {
    cnode *n = node_arg(c->argv[4]);
    if (!n) {
        reply_errorf(c, unknown_fmt, c->argv[4]);
        return 0;
    }
    if (n->flags & NODE_SLAVE) {
        reply_error(c, "ERR Target node is not a master");
        return 0;
    }
    *out = n;
    return 1;
}

static int setslot_node(client *c, int slot) {
    cnode *n;
    if (!setslot_target(c, &n, "ERR Unknown node %s")) return 0;
    size_t keys = db_slot_count(db_get(0), (unsigned)slot);
    if (cl.slots[slot] == cl.myself && n != cl.myself && keys) {
        reply_errorf(c, "ERR Can't assign hashslot %d to a different node while I still hold keys for this hash slot.",
                     slot);
        return 0;
    }
    if (keys == 0 && cl.migrating_to[slot]) cl.migrating_to[slot] = NULL;
    int was_mine = cl.slots[slot] == cl.myself;
    cluster_del_slot(slot);
    cluster_add_slot(n, slot);
    /* A master that gave its last slot away replicates the node that took
     * it (cluster-allow-replica-migration, as Redis). */
    if (was_mine && n != cl.myself && cl.myself->numslots == 0 && cluster_allow_replica_migration) {
        server_log(LOG_WARNING, "Configuration change detected. Reconfiguring myself as a replica of %.40s", n->name);
        cluster_set_my_master(n);
    }
    if (n == cl.myself && cl.importing_from[slot]) {
        if (bump_epoch()) server_log(LOG_WARNING, "configEpoch updated after importing slot %d", slot);
        cl.importing_from[slot] = NULL;
        bus_broadcast_pong();
    }
    return 1;
}

static void cluster_setslot(client *c) {
    if (!cluster_on(c)) return;
    if (cl.myself->flags & NODE_SLAVE) {
        reply_error(c, "ERR Please use SETSLOT only with masters.");
        return;
    }
    int slot = slot_arg(c, c->argv[2]);
    if (slot < 0) return;
    cnode *n;
    if (arg_is(c->argv[3], "migrating") && c->argc == 5) {
        if (cl.slots[slot] != cl.myself) {
            reply_errorf(c, "ERR I'm not the owner of hash slot %u", slot);
            return;
        }
        if (!setslot_target(c, &n, "ERR I don't know about node %s")) return;
        cl.migrating_to[slot] = n;
    } else if (arg_is(c->argv[3], "importing") && c->argc == 5) {
        if (cl.slots[slot] == cl.myself) {
            reply_errorf(c, "ERR I'm already the owner of hash slot %u", slot);
            return;
        }
        if (!setslot_target(c, &n, "ERR I don't know about node %s")) return;
        cl.importing_from[slot] = n;
    } else if (arg_is(c->argv[3], "stable") && c->argc == 4) {
        cl.importing_from[slot] = cl.migrating_to[slot] = NULL;
    } else if (arg_is(c->argv[3], "node") && c->argc == 5) {
        if (!setslot_node(c, slot)) return;
    } else {
        reply_error(c, "ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP");
        return;
    }
    cluster_note_change(1);
    reply_ok(c);
}

static void cluster_keyslot(client *c) {
    if (!cluster_on(c)) return;
    reply_ll(c, key_hash_slot(c->argv[2], kstr_len(c->argv[2])));
}

static void cluster_countkeysinslot(client *c) {
    if (!cluster_on(c)) return;
    long long slot;
    if (!parse_ll(c, c->argv[2], &slot)) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS) {
        reply_error(c, "ERR Invalid slot");
        return;
    }
    reply_ll(c, (long long)db_slot_count(db_get(0), (unsigned)slot));
}

static void cluster_getkeysinslot(client *c) {
    if (!cluster_on(c)) return;
    long long slot, max;
    if (!parse_ll(c, c->argv[2], &slot) || !parse_ll(c, c->argv[3], &max)) return;
    if (slot < 0 || slot >= CLUSTER_SLOTS || max < 0) {
        reply_error(c, "ERR Invalid slot or number of keys");
        return;
    }
    db *d = db_get(0);
    size_t want = db_slot_count(d, (unsigned)slot);
    if ((size_t)max < want) want = (size_t)max;
    entry **found = zmalloc(sizeof(entry *) * (want ? want : 1));
    size_t n = db_slot_keys(d, (unsigned)slot, want, found);
    reply_array_len(c, (long)n);
    for (size_t i = 0; i < n; i++) {
        size_t klen;
        const char *k = entry_key(found[i], &klen);
        reply_bulk(c, k, klen);
    }
    zfree(found);
}

/* ---- views: INFO, NODES, SLOTS, SHARDS, LINKS, MYID, REPLICAS ----------- */

static const char *const msg_type_names[MSG_TYPE_COUNT] = {
    "ping", "pong", "meet", "fail", "publish", "auth-req", "auth-ack", "update", "mfstart", "module", "publishshard",
};

static void cluster_info(client *c) {
    if (!cluster_on(c)) return;
    int assigned = 0, ok = 0, pfail = 0, fail = 0;
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        cnode *n = cl.slots[j];
        if (!n) continue;
        assigned++;
        if (n->flags & NODE_FAIL) fail++;
        else if (n->flags & NODE_PFAIL) pfail++;
        else ok++;
    }
    cnode *me = cl.myself;
    uint64_t myepoch = (me->flags & NODE_SLAVE) && me->master ? me->master->config_epoch : me->config_epoch;
    kstr s = kstr_cat_printf(kstr_empty(),
                             "cluster_state:%s\r\ncluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\n"
                             "cluster_slots_pfail:%d\r\ncluster_slots_fail:%d\r\ncluster_known_nodes:%d\r\n"
                             "cluster_size:%d\r\ncluster_current_epoch:%llu\r\ncluster_my_epoch:%llu\r\n",
                             cl.ok ? "ok" : "fail", assigned, ok, pfail, fail, cl.nnodes, cl.size,
                             (unsigned long long)cl.current_epoch, (unsigned long long)myepoch);
    long long sent = 0, received = 0;
    for (int i = 0; i < MSG_TYPE_COUNT; i++) {
        if (!cl.sent[i]) continue;
        sent += cl.sent[i];
        s = kstr_cat_printf(s, "cluster_stats_messages_%s_sent:%lld\r\n", msg_type_names[i], cl.sent[i]);
    }
    s = kstr_cat_printf(s, "cluster_stats_messages_sent:%lld\r\n", sent);
    for (int i = 0; i < MSG_TYPE_COUNT; i++) {
        if (!cl.received[i]) continue;
        received += cl.received[i];
        s = kstr_cat_printf(s, "cluster_stats_messages_%s_received:%lld\r\n", msg_type_names[i], cl.received[i]);
    }
    s = kstr_cat_printf(s, "cluster_stats_messages_received:%lld\r\n", received);
    s = kstr_cat_printf(s, "total_cluster_links_buffer_limit_exceeded:%lld\r\n", cl.links_buffer_limit_exceeded);
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
}

static void cluster_nodes(client *c) {
    if (!cluster_on(c)) return;
    kstr s = cluster_nodes_text(kstr_empty(), 0);
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
}

static void cluster_myid(client *c) {
    if (!cluster_on(c)) return;
    reply_bulk(c, cl.myself->name, NODE_NAMELEN);
}

static void cluster_replicas(client *c) {
    cnode *n = known_node_arg(c);
    if (!n) return;
    if (n->flags & NODE_SLAVE) {
        reply_error(c, "ERR The specified node is not a master");
        return;
    }
    reply_array_len(c, n->nreplicas);
    for (int i = 0; i < n->nreplicas; i++) {
        kstr line = cluster_node_line(kstr_empty(), n->replicas[i], 0);
        reply_bulk(c, line, kstr_len(line) - 1); /* without the newline */
        kstr_free(line);
    }
}

static void cluster_count_failure_reports(client *c) {
    cnode *n = known_node_arg(c);
    if (!n) return;
    reply_ll(c, node_failure_reports(n));
}

static void reply_node_for_slots(client *c, const cnode *n) {
    int hostname = n->hostname[0] != 0;
    reply_array_len(c, 4);
    if (cluster_preferred_endpoint == 0) reply_bulk_cstr(c, n->ip);
    else if (cluster_preferred_endpoint == 1) reply_bulk_cstr(c, hostname ? n->hostname : "?");
    else reply_null(c);
    reply_ll(c, n->port);
    reply_bulk(c, n->name, NODE_NAMELEN);
    int extra = (cluster_preferred_endpoint != 0) + (cluster_preferred_endpoint != 1 && hostname);
    reply_map_len(c, extra);
    if (cluster_preferred_endpoint != 0) {
        reply_bulk_cstr(c, "ip");
        reply_bulk_cstr(c, n->ip);
    }
    if (cluster_preferred_endpoint != 1 && hostname) {
        reply_bulk_cstr(c, "hostname");
        reply_bulk_cstr(c, n->hostname);
    }
}

static int replica_available(const cnode *r) {
    long long off = (r->flags & NODE_MYSELF) ? repl_offset() : r->repl_offset;
    return !(r->flags & NODE_FAIL) && off != 0;
}

static void reply_slot_range(client *c, const cnode *n, int start, int end) {
    int avail = 0;
    for (int i = 0; i < n->nreplicas; i++) avail += replica_available(n->replicas[i]);
    reply_array_len(c, 3 + avail);
    reply_ll(c, start);
    reply_ll(c, end);
    reply_node_for_slots(c, n);
    for (int i = 0; i < n->nreplicas; i++)
        if (replica_available(n->replicas[i])) reply_node_for_slots(c, n->replicas[i]);
}

static void cluster_slots(client *c) {
    if (!cluster_on(c)) return;
    void *len = reply_deferred_len(c);
    long ranges = 0;
    for (int j = 0; j < CLUSTER_SLOTS;) {
        cnode *n = cl.slots[j];
        if (!n) {
            j++;
            continue;
        }
        int start = j;
        while (j < CLUSTER_SLOTS && cl.slots[j] == n) j++;
        reply_slot_range(c, n, start, j - 1);
        ranges++;
    }
    reply_set_deferred_array_len(c, len, ranges);
}

static void reply_shard_node(client *c, const cnode *n) {
    int fields = 7 + (n->hostname[0] != 0);
    reply_map_len(c, fields);
    reply_bulk_cstr(c, "id");
    reply_bulk(c, n->name, NODE_NAMELEN);
    reply_bulk_cstr(c, "port");
    reply_ll(c, n->port);
    reply_bulk_cstr(c, "ip");
    reply_bulk_cstr(c, n->ip);
    reply_bulk_cstr(c, "endpoint");
    reply_bulk_cstr(c, cluster_preferred_endpoint == 2 ? "" : cluster_endpoint(n));
    if (n->hostname[0]) {
        reply_bulk_cstr(c, "hostname");
        reply_bulk_cstr(c, n->hostname);
    }
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, (n->flags & NODE_SLAVE) ? "replica" : "master");
    reply_bulk_cstr(c, "replication-offset");
    long long off = (n->flags & NODE_MYSELF) ? repl_offset() : n->repl_offset;
    reply_ll(c, off);
    reply_bulk_cstr(c, "health");
    reply_bulk_cstr(c, (n->flags & NODE_FAIL)                            ? "fail"
                       : (n->flags & NODE_SLAVE) && off == 0 ? "loading"
                                                                          : "online");
}

static void cluster_shards(client *c) {
    if (!cluster_on(c)) return;
    void *len = reply_deferred_len(c);
    long shards = 0;
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *m = cl.nodes[i];
        if (!(m->flags & NODE_MASTER)) continue;
        shards++;
        reply_map_len(c, 2);
        reply_bulk_cstr(c, "slots");
        void *slen = reply_deferred_len(c);
        long nums = 0;
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (!bit_test(m->slots, j)) continue;
            int start = j;
            while (j + 1 < CLUSTER_SLOTS && bit_test(m->slots, j + 1)) j++;
            reply_ll(c, start);
            reply_ll(c, j);
            nums += 2;
        }
        reply_set_deferred_array_len(c, slen, nums);
        reply_bulk_cstr(c, "nodes");
        reply_array_len(c, 1 + m->nreplicas);
        reply_shard_node(c, m);
        for (int r = 0; r < m->nreplicas; r++) reply_shard_node(c, m->replicas[r]);
    }
    reply_set_deferred_array_len(c, len, shards);
}

static void reply_link(void *priv, const char *dir, const cnode *n, long long ctime, long long events,
                       size_t sndlen, size_t sndcap) {
    client *c = priv;
    reply_map_len(c, 6);
    reply_bulk_cstr(c, "direction");
    reply_bulk_cstr(c, dir);
    reply_bulk_cstr(c, "node");
    reply_bulk(c, n->name, NODE_NAMELEN);
    reply_bulk_cstr(c, "create-time");
    reply_ll(c, ctime);
    reply_bulk_cstr(c, "events");
    reply_bulk_cstr(c, events == 3 ? "rw" : events == 2 ? "w" : events == 1 ? "r" : "");
    reply_bulk_cstr(c, "send-buffer-allocated");
    reply_ll(c, (long long)sndcap);
    reply_bulk_cstr(c, "send-buffer-used");
    reply_ll(c, (long long)sndlen);
}

typedef struct link_count {
    client *c;
    long n;
} link_count;

static void count_link(void *priv, const char *dir, const cnode *n, long long ctime, long long events, size_t a,
                       size_t b) {
    (void)dir, (void)n, (void)ctime, (void)events, (void)a, (void)b;
    ((link_count *)priv)->n++;
}

static void cluster_links(client *c) {
    if (!cluster_on(c)) return;
    link_count lc = {c, 0};
    bus_links_foreach(count_link, &lc);
    reply_array_len(c, lc.n);
    bus_links_foreach(reply_link, c);
}

/* ---- replication-dependent subcommands ----------------------------------- */

static void cluster_replicate(client *c) {
    cnode *n = known_node_arg(c);
    if (!n) return;
    if (n == cl.myself) {
        reply_error(c, "ERR Can't replicate myself");
        return;
    }
    if (n->flags & NODE_SLAVE) {
        reply_error(c, "ERR I can only replicate a master, not a replica.");
        return;
    }
    if ((cl.myself->flags & NODE_MASTER) && (cl.myself->numslots != 0 || db_size(db_get(0)) != 0)) {
        reply_error(c, "ERR To set a master the node must be empty and without assigned slots.");
        return;
    }
    cluster_set_my_master(n);
    reply_ok(c);
}

static void cluster_failover(client *c) {
    if (!cluster_on(c)) return;
    if (c->argc == 3 && !arg_is(c->argv[2], "force") && !arg_is(c->argv[2], "takeover")) {
        reply_error_syntax(c);
        return;
    }
    if (c->argc > 3) {
        reply_error_arity(c);
        return;
    }
    const char *e;
    int takeover = c->argc == 3 && arg_is(c->argv[2], "takeover");
    if (failover_manual(takeover || (c->argc == 3 && arg_is(c->argv[2], "force")), takeover, &e) < 0) {
        reply_error(c, e);
        return;
    }
    reply_ok(c);
}

/* ---- ASKING, READONLY, READWRITE, RESTORE-ASKING --------------------- */

/* ASKING, READONLY and READWRITE set or clear one client flag, and only
 * in cluster mode. */
static void set_client_flag(client *c, int flag, int on) {
    if (!cluster_on(c)) return;
    if (on) c->flags |= flag;
    else c->flags &= ~flag;
    reply_ok(c);
}

static void asking_command(client *c) { set_client_flag(c, CLIENT_ASKING, 1); }
static void readonly_command(client *c) { set_client_flag(c, CLIENT_READONLY, 1); }
static void readwrite_command(client *c) { set_client_flag(c, CLIENT_READONLY, 0); }

static void restore_asking_command(client *c) {
    command *restore = command_lookup("restore", 7);
    restore->proc(c);
}

#define SUB(name, fn, arity, flags, summary) \
    {name, fn, arity, flags, 0, 0, 0, "cluster", "3.0.0", summary, NULL}

static command cluster_subcommands[] = {
    SUB("addslots", cluster_addslots, -3, "admin stale", "Assign new hash slots to receiving node."),
    {"addslotsrange", cluster_addslotsrange, -4, "admin stale", 0, 0, 0, "cluster", "7.0.0",
     "Assign new hash slots to receiving node.", NULL},
    SUB("bumpepoch", cluster_bumpepoch, 2, "admin stale", "Advance the cluster config epoch."),
    SUB("count-failure-reports", cluster_count_failure_reports, 3, "admin stale",
        "Return the number of failure reports active for a given node."),
    SUB("countkeysinslot", cluster_countkeysinslot, 3, "stale", "Return the number of local keys in the specified hash slot."),
    SUB("delslots", cluster_delslots, -3, "admin stale", "Set hash slots as unbound in receiving node."),
    {"delslotsrange", cluster_delslotsrange, -4, "admin stale", 0, 0, 0, "cluster", "7.0.0",
     "Set hash slots as unbound in receiving node.", NULL},
    SUB("failover", cluster_failover, -2, "admin stale", "Forces a replica to perform a manual failover of its master."),
    SUB("flushslots", cluster_flushslots, 2, "admin stale", "Delete a node's own slots information."),
    SUB("forget", cluster_forget, 3, "admin stale", "Remove a node from the nodes table."),
    SUB("getkeysinslot", cluster_getkeysinslot, 4, "stale", "Return local key names in the specified hash slot."),
    {"help", cluster_help, 2, "loading stale", 0, 0, 0, "cluster", "5.0.0", "Show helpful text about the different subcommands.", NULL},
    SUB("info", cluster_info, 2, "stale", "Provides info about Redis Cluster node state."),
    SUB("keyslot", cluster_keyslot, 3, "stale", "Returns the hash slot of the specified key."),
    {"links", cluster_links, 2, "stale", 0, 0, 0, "cluster", "7.0.0", "Returns a list of all TCP links to and from peer nodes in cluster.", NULL},
    SUB("meet", cluster_meet, -4, "admin stale", "Force a node cluster to handshake with another node."),
    SUB("myid", cluster_myid, 2, "stale", "Return the node id."),
    SUB("nodes", cluster_nodes, 2, "stale", "Get Cluster config for the node."),
    {"replicas", cluster_replicas, 3, "admin stale", 0, 0, 0, "cluster", "5.0.0", "List replica nodes of the specified master node.", NULL},
    SUB("replicate", cluster_replicate, 3, "admin stale", "Reconfigure a node as a replica of the specified master node."),
    SUB("reset", cluster_reset, -2, "admin stale noscript", "Reset a Redis Cluster node."),
    SUB("saveconfig", cluster_saveconfig, 2, "admin stale", "Forces the node to save cluster state on disk."),
    SUB("set-config-epoch", cluster_set_config_epoch, 3, "admin stale", "Set the configuration epoch in a new node."),
    SUB("setslot", cluster_setslot, -4, "admin stale", "Bind a hash slot to a specific node."),
    {"shards", cluster_shards, 2, "stale", 0, 0, 0, "cluster", "7.0.0", "Get array of cluster slots to node mappings.", NULL},
    SUB("slaves", cluster_replicas, 3, "admin stale", "List replica nodes of the specified master node."),
    SUB("slots", cluster_slots, 2, "stale", "Get array of Cluster slot to node mappings."),
    {NULL},
};

command cluster_commands[] = {
    {"cluster", NULL, -2, "", 0, 0, 0, "cluster", "3.0.0", "A container for cluster commands.", cluster_subcommands},
    {"asking", asking_command, 1, "fast", 0, 0, 0, "cluster", "3.0.0",
     "Sent by cluster clients after an -ASK redirect.", NULL},
    {"readonly", readonly_command, 1, "fast loading stale", 0, 0, 0, "cluster", "3.0.0",
     "Enables read queries for a connection to a cluster replica node.", NULL},
    {"readwrite", readwrite_command, 1, "fast loading stale", 0, 0, 0, "cluster", "3.0.0",
     "Disables read queries for a connection to a cluster replica node.", NULL},
    {"restore-asking", restore_asking_command, -4, "write denyoom asking", 1, 1, 1, "server", "3.0.0",
     "An internal command for migrating keys in a cluster.", NULL},
    {NULL},
};
