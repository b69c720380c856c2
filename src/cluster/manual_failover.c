/*
 * manual_failover.c: CLUSTER FAILOVER without FORCE or TAKEOVER, the
 * coordinated handover of Redis Cluster, so that no write the master
 * acknowledged is lost and Keel and Redis nodes can hand over to each
 * other.
 *
 * Why a handshake: a replica promoted while its master still takes
 * writes loses the writes it had not received yet. So the replica first
 * asks its master to stop (MFSTART); the master pauses its clients'
 * writes and then sends PINGs carrying its replication offset with the
 * PAUSED flag, every cron tick, for the whole handover; the replica
 * records the first offset it sees from a paused master and, once it has
 * applied the stream up to that offset, starts an election at once, with
 * the FORCEACK flag so that masters vote although its master is not
 * failing (failover.c). When it wins, its PONGs claim the slots with a
 * greater config epoch, the old master turns into its replica
 * (cluster_set_my_master), which ends the pause there.
 *
 * Both sides give up after CLUSTER_MF_TIMEOUT (5 s), as Redis does; the
 * master's pause (the server's own write hold, core/pause.h, which CLIENT
 * PAUSE/UNPAUSE do not touch) ends then or with the handover.
 * FORCE skips the handshake: the election starts at once (mf_can_start).
 * While paused, the master's replication stream sends no keepalive PING
 * or GETACK (either would move the offset past the one the replica waits
 * for).
 */
#include "cluster/cluster.h"
#include "cluster/cluster_internal.h"
#include "core/pause.h"
#include "core/server.h"
#include "lib/util.h"
#include "repl/repl.h"

#define MF_TIMEOUT_MS 5000
#define MFLAG0_PAUSED 1

/* No manual failover in progress, on either side; a master that paused
 * its clients for one lets them go. */
void mf_reset(void) {
    if (cl.mf_replica) {
        pause_hold_writes(0);
        repl_hold_pings(0);
    }
    cl.mf_end = 0;
    cl.mf_can_start = 0;
    cl.mf_replica = NULL;
    cl.mf_master_offset = -1;
}

/* Replica side: CLUSTER FAILOVER [FORCE] was accepted (failover.c checked
 * the preconditions). */
void mf_request(int force) {
    mf_reset();
    cl.mf_end = mstime() + MF_TIMEOUT_MS;
    if (force) {
        cl.mf_can_start = 1;
        cl.todo_failover = 1;
        return;
    }
    cnode *m = cl.myself->master;
    bus_send_bare(m->link ? m->link : m->inbound, MSG_MFSTART, 0);
}

/* Master side: one of our replicas asks for a manual failover. */
void mf_on_mfstart(cnode *sender, struct bus_link *l) {
    if (sender->master != cl.myself || !(cl.myself->flags & NODE_MASTER)) return;
    long long now = mstime();
    mf_reset();
    cl.mf_end = now + MF_TIMEOUT_MS;
    cl.mf_replica = sender;
    pause_hold_writes(1);
    repl_hold_pings(1);
    server_log(LOG_WARNING, "Manual failover requested by replica %.40s.", sender->name);
    /* A PING now carries the offset we paused at: the replica need not
     * wait for the next cron tick. */
    bus_send_ping(sender->link ? sender->link : l, MSG_PING);
}

/* Replica side, for every message from a known node: a paused master's
 * offset is the one to reach. */
void mf_note_master_offset(cnode *sender, int paused) {
    if (!cl.mf_end || !paused || cl.mf_master_offset != -1) return;
    if (!(cl.myself->flags & NODE_SLAVE) || cl.myself->master != sender) return;
    cl.mf_master_offset = sender->repl_offset;
    cl.todo_failover = 1;
    server_log(LOG_WARNING, "Received replication offset for paused master manual failover: %lld",
               cl.mf_master_offset);
}

/* The header's mflags[0] bits this node sets: PAUSED while a master
 * serves a manual failover. */
int mf_header_flags(void) { return (cl.myself->flags & NODE_MASTER) && cl.mf_end ? MFLAG0_PAUSED : 0; }

/* Cron (10 times a second): the timeout; a replica that has caught up
 * may start; a master keeps its replica informed. */
void mf_cron(void) {
    if (!cl.mf_end) return;
    if (cl.mf_end < mstime()) {
        server_log(LOG_WARNING, "Manual failover timed out.");
        mf_reset();
        return;
    }
    if (cl.myself->flags & NODE_MASTER) {
        if (cl.mf_replica && cl.mf_replica->link) bus_send_ping(cl.mf_replica->link, MSG_PING);
        return;
    }
    mf_check_caught_up();
}

/* Replica side, each cron tick and before sleeping while it waits: has
 * the stream reached the paused master's offset? 1 when the election may
 * start now. */
int mf_check_caught_up(void) {
    if (!cl.mf_end || cl.mf_can_start || cl.mf_master_offset == -1 || !(cl.myself->flags & NODE_SLAVE)) return 0;
    if (cl.mf_master_offset != repl_offset()) return 0;
    cl.mf_can_start = 1;
    server_log(LOG_WARNING, "All master replication stream processed, manual failover can start.");
    return 1;
}
