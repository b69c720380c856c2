/*
 * bus_gossip: what a message received on the cluster bus changes in this
 * node's view of the cluster (see bus_internal.h for the split with
 * bus.c). Each rule is Redis Cluster's, as its specification states it:
 *   - failure detection: a PFAIL node becomes FAIL once a majority of
 *     masters report it (counting ourselves when we are a master), and a
 *     FAIL flag is cleared when the node is reachable again;
 *   - gossip: nodes a known member tells us about are added, and their
 *     PFAIL/FAIL reports counted;
 *   - slots: a claim with a greater config epoch than the current owner's
 *     wins; keys of slots lost are deleted;
 *   - epochs: two masters with one config epoch resolve it, the smaller
 *     node id taking a new epoch;
 *   - roles: a sender's header says whether it is a master or whose
 *     replica it is.
 */
#include "cluster/bus_internal.h"

#include <stdio.h>
#include <string.h>

#include "core/db.h"
#include "core/server.h"
#include "lib/util.h"

static void mark_failing_if_needed(cnode *n) {
    int needed = cl.size / 2 + 1;
    if (!(n->flags & NODE_PFAIL) || (n->flags & NODE_FAIL)) return;
    int failures = node_failure_reports(n) + ((cl.myself->flags & NODE_MASTER) ? 1 : 0);
    if (failures < needed) return;
    server_log(LOG_NOTICE, "Marking node %.40s as failing (quorum reached).", n->name);
    n->flags = (n->flags & ~NODE_PFAIL) | NODE_FAIL;
    n->fail_time_ms = mstime();
    if (cl.myself->flags & NODE_MASTER) bus_broadcast_fail(n);
    cluster_note_change(1);
}

/* A FAIL flag is cleared when the node is reachable again: at once for a
 * replica or a master without slots, after a while for a master with
 * slots (nobody took them over). */
void clear_failure_if_needed(cnode *n) {
    long long now = mstime();
    if (!(n->flags & NODE_FAIL)) return;
    if ((n->flags & NODE_SLAVE) || n->numslots == 0 || now - n->fail_time_ms > cluster_node_timeout * 2) {
        server_log(LOG_NOTICE, "Clear FAIL state for node %.40s: it is reachable again.", n->name);
        n->flags &= ~NODE_FAIL;
        cluster_note_change(1);
    }
}

/* A node a known member tells us about is added under its own name, as
 * Redis 7.0 does (no handshake under a made-up name: that node would be
 * counted twice until the handshake ends); the cron connects and PINGs it. */
static void add_gossiped_node(const unsigned char *g, int flags) {
    cnode *n = node_create((const char *)g, flags & (NODE_MASTER | NODE_SLAVE | NODE_NOFAILOVER));
    memcpy(n->ip, g + 48, NODE_IPLEN);
    n->ip[NODE_IPLEN - 1] = '\0';
    n->port = (int)get16(g + 94);
    n->cport = (int)get16(g + 96);
    cluster_note_change(1);
}

void process_gossip(cnode *sender, const unsigned char *m) {
    int count = (int)get16(m + OFF_COUNT);
    for (int i = 0; i < count; i++) {
        const unsigned char *g = m + HDR_LEN + (size_t)i * GOSSIP_LEN;
        int flags = (int)get16(g + 98);
        cnode *n = node_lookup((const char *)g, NODE_NAMELEN);
        if (n) {
            if (sender && (sender->flags & NODE_MASTER) && n != cl.myself) {
                if (flags & (NODE_FAIL | NODE_PFAIL)) {
                    node_add_failure_report(n, sender);
                    mark_failing_if_needed(n);
                } else {
                    node_del_failure_report(n, sender);
                }
            }
            long long pong = (long long)get32(g + 44) * 1000;
            if (!(flags & (NODE_FAIL | NODE_PFAIL)) && n->ping_sent_ms == 0 && n->nreports == 0 &&
                pong > n->pong_received_ms && pong <= mstime() + 500)
                n->pong_received_ms = pong;
            if ((n->flags & (NODE_FAIL | NODE_NOADDR)) && !n->link && !(flags & NODE_NOADDR)) {
                char ip[NODE_IPLEN];
                memcpy(ip, g + 48, NODE_IPLEN);
                ip[NODE_IPLEN - 1] = '\0';
                if (strcmp(ip, n->ip) || n->port != (int)get16(g + 94)) {
                    snprintf(n->ip, sizeof(n->ip), "%s", ip);
                    n->port = (int)get16(g + 94);
                    n->cport = (int)get16(g + 96);
                    n->flags &= ~NODE_NOADDR;
                }
            }
        } else if (sender && !(flags & NODE_NOADDR) && !node_is_forgotten((const char *)g)) {
            add_gossiped_node(g, flags);
        }
    }
}

/* A sender without a hostname extension has no announced hostname (it
 * may just have removed it), as Redis 7.0 reads it. */
void process_extensions(cnode *sender, const unsigned char *m) {
    if (!sender) return;
    size_t pos = HDR_LEN + (size_t)get16(m + OFF_COUNT) * GOSSIP_LEN;
    unsigned exts = (m[OFF_MFLAGS] & MFLAG0_EXT_DATA) ? get16(m + OFF_EXTENSIONS) : 0;
    int hostname = 0;
    for (unsigned i = 0; i < exts; i++) {
        uint32_t len = get32(m + pos);
        if (get16(m + pos + 4) == EXT_HOSTNAME) {
            snprintf(sender->hostname, sizeof(sender->hostname), "%.*s", (int)(len - 8), (const char *)m + pos + 8);
            hostname = 1;
        }
        pos += len;
    }
    if (!hostname) sender->hostname[0] = '\0';
}

/* Keys of slots we no longer own are deleted (Redis's "dirty slots"). */
static void delete_slot_keys(int slot) {
    db *d = db_get(0);
    entry *batch[128];
    size_t n;
    while ((n = db_slot_keys(d, (unsigned)slot, 128, batch)) > 0) {
        for (size_t i = 0; i < n; i++) {
            size_t klen;
            const char *k = entry_key(batch[i], &klen);
            char buf[512];
            if (klen <= sizeof(buf)) {
                memcpy(buf, k, klen);
                db_delete(d, buf, klen);
            } else {
                db_delete(d, k, klen);
            }
        }
    }
}

/* The sender claims these slots with this config epoch: it gets each one
 * that is free or held with a smaller epoch (not the ones we import).
 * When that empties our shard, we follow the sender if replica migration
 * is allowed or the sender took exactly our slots (a failover), as Redis
 * does; a replica whose master became a replica follows its new master. */
void update_slots_from(cnode *sender, uint64_t epoch, const unsigned char *slots) {
    int changed = 0, sender_slots = 0, migrated_ours = 0;
    cnode *mine = (cl.myself->flags & NODE_SLAVE) ? cl.myself->master : cl.myself;
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (!bit_test(slots, j)) continue;
        sender_slots++;
        cnode *owner = cl.slots[j];
        if (owner == sender || cl.importing_from[j]) continue;
        if (owner && owner->config_epoch >= epoch) continue;
        if (owner == cl.myself && db_slot_count(db_get(0), (unsigned)j)) delete_slot_keys(j);
        if (owner == cl.myself && cl.migrating_to[j] == sender) cl.migrating_to[j] = NULL;
        if (owner && owner == mine) migrated_ours++;
        cluster_del_slot(j);
        cluster_add_slot(sender, j);
        changed = 1;
    }
    if (changed) cluster_note_change(1);
    if (sender == cl.myself) return;
    cnode *grand = cl.myself->master ? cl.myself->master->master : NULL;
    if (migrated_ours && mine && mine->numslots == 0 &&
        (cluster_allow_replica_migration || sender_slots == migrated_ours)) {
        server_log(LOG_WARNING, "Configuration change detected. Reconfiguring myself as a replica of %.40s",
                   sender->name);
        cluster_set_my_master(sender);
    } else if (grand && grand != cl.myself) {
        server_log(LOG_WARNING, "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster %.40s",
                   grand->name);
        cluster_set_my_master(grand);
    }
}

void handle_epoch_collision(cnode *sender) {
    if (sender->config_epoch != cl.myself->config_epoch || !(sender->flags & NODE_MASTER) ||
        !(cl.myself->flags & NODE_MASTER))
        return;
    if (memcmp(sender->name, cl.myself->name, NODE_NAMELEN) <= 0) return;
    cl.current_epoch++;
    cl.myself->config_epoch = cl.current_epoch;
    cluster_note_change(2);
    server_log(LOG_VERBOSE, "WARNING: configEpoch collision with node %.40s. configEpoch set to %llu", sender->name,
               (unsigned long long)cl.current_epoch);
}

void update_role(cnode *sender, const unsigned char *m) {
    static const char null_name[NODE_NAMELEN];
    if (!memcmp(m + OFF_SLAVEOF, null_name, NODE_NAMELEN)) {
        if (sender->flags & NODE_SLAVE) {
            sender->flags = (sender->flags & ~NODE_SLAVE) | NODE_MASTER | (sender->master ? NODE_MIGRATE_TO : 0);
            node_set_master(sender, NULL);
            cluster_note_change(1);
        }
        sender->flags |= NODE_MASTER;
        return;
    }
    cnode *master = node_lookup((const char *)m + OFF_SLAVEOF, NODE_NAMELEN);
    if (sender->flags & NODE_MASTER) {
        for (int j = 0; j < CLUSTER_SLOTS; j++)
            if (cl.slots[j] == sender) cluster_del_slot(j);
        sender->flags = (sender->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE;
        cluster_note_change(1);
    }
    if (master && sender->master != master) {
        node_set_master(sender, master);
        cluster_note_change(1);
    }
}
