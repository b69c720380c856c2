/*
 * replica_migration.c: replicas move to masters left without one
 * (cluster-migration-barrier, cluster-allow-replica-migration), Redis
 * Cluster's rules, so that one spare replica anywhere in the cluster
 * protects every master.
 *
 * An orphaned master serves slots, is not failing, has no replica that
 * is not failing, and is one that should have replicas: the MIGRATE_TO
 * flag, set when it had a replica, when it is a replica promoted by a
 * failover, or when a master gets its first slot while every other master
 * has replicas (cluster.c, bus.c). The replicas of the masters with the
 * most working replicas (at least two) are the donors; among them only
 * the one with the smallest node name moves, only when its master keeps
 * more than cluster-migration-barrier working replicas, only while the
 * cluster is ok, and only after the target has been orphaned for 5 s
 * (its own replicas may still be announcing a failover). Every node
 * takes the same decision from the same view, so one replica moves.
 */
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_internal.h"
#include "core/server.h"
#include "lib/util.h"

#define MIGRATION_DELAY_MS 5000

static int working_replicas(const cnode *m) {
    int ok = 0;
    for (int i = 0; i < m->nreplicas; i++)
        if (!(m->replicas[i]->flags & NODE_FAIL)) ok++;
    return ok;
}

static int is_orphaned(const cnode *n) {
    return (n->flags & NODE_MASTER) && !(n->flags & NODE_FAIL) && (n->flags & NODE_MIGRATE_TO) &&
           working_replicas(n) == 0;
}

/* The target (the first orphaned master with slots), with each orphan's
 * start time kept; the candidate: the smallest-named replica of the
 * masters with max_ok working replicas (or myself). */
static cnode *find_target(int max_ok, cnode **candidate) {
    cnode *target = NULL;
    long long now = mstime();
    *candidate = cl.myself;
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if (is_orphaned(n)) {
            if (!target && n->numslots > 0) target = n;
            if (!n->orphaned_time_ms) n->orphaned_time_ms = now;
        } else {
            n->orphaned_time_ms = 0;
        }
        if (!(n->flags & NODE_MASTER) || working_replicas(n) != max_ok) continue;
        for (int j = 0; j < n->nreplicas; j++)
            if (memcmp(n->replicas[j]->name, (*candidate)->name, NODE_NAMELEN) < 0) *candidate = n->replicas[j];
    }
    return target;
}

static void consider_migrating(int max_ok) {
    cnode *mine = cl.myself->master, *candidate;
    if (!cl.ok || !mine) return;
    int ok = 0;
    for (int i = 0; i < mine->nreplicas; i++)
        if (!(mine->replicas[i]->flags & (NODE_FAIL | NODE_PFAIL))) ok++;
    if (ok <= cluster_migration_barrier) return;
    cnode *target = find_target(max_ok, &candidate);
    if (!target || candidate != cl.myself || mstime() - target->orphaned_time_ms <= MIGRATION_DELAY_MS) return;
    server_log(LOG_WARNING, "Migrating to orphaned master %.40s", target->name);
    cluster_set_my_master(target);
}

/* Cron: a replica checks whether some master is orphaned and whether it
 * is the one to move. */
void replica_migration_cron(void) {
    cnode *me = cl.myself;
    if (!(me->flags & NODE_SLAVE) || !cluster_allow_replica_migration) return;
    int orphaned = 0, max_ok = 0, mine_ok = 0;
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if (n == me || (n->flags & (NODE_NOADDR | NODE_HANDSHAKE))) continue;
        if (!(n->flags & NODE_MASTER) || (n->flags & NODE_FAIL)) continue;
        int ok = working_replicas(n);
        if (ok == 0 && n->numslots > 0 && (n->flags & NODE_MIGRATE_TO)) orphaned++;
        if (ok > max_ok) max_ok = ok;
        if (me->master == n) mine_ok = ok;
    }
    if (orphaned && max_ok >= 2 && mine_ok == max_ok) consider_migrating(max_ok);
}
