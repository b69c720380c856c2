/*
 * failover.c: replicas and their promotion, Redis Cluster's rules.
 *
 * CLUSTER REPLICATE makes this node a replica of a master (replication
 * itself is repl/repl.h's REPLICAOF). When a master is FAIL, each of its
 * replicas waits 500 ms + up to 500 ms at random + 1 s per replica with a
 * greater replication offset (the best replica asks first), then takes a
 * new current epoch and asks every master for its vote
 * (FAILOVER_AUTH_REQUEST). A master with slots votes once per epoch
 * (lastVoteEpoch, fsynced in nodes.conf), not twice for replicas of one
 * master within two node timeouts, and only when the master is FAIL (or
 * the request says FORCEACK) and no slot the replica claims has a newer
 * owner. With a majority of the masters' votes the replica promotes
 * itself: REPLICAOF NO ONE, its master's slots, the election's epoch as
 * config epoch, a PONG to everyone. An election that does not win within
 * twice the node timeout is retried later.
 *
 * CLUSTER FAILOVER TAKEOVER promotes at once with a new epoch, no votes.
 * CLUSTER FAILOVER FORCE starts an election at once (FORCEACK), master up
 * or not. CLUSTER FAILOVER (no option) first has the master pause its
 * writes and waits to reach its offset (manual_failover.c), then elects
 * the same way.
 *
 * Replica validity (cluster-replica-validity-factor): a replica that has
 * not heard from its master for longer than the node timeout plus factor
 * x node timeout + repl-ping-replica-period holds data too old to serve,
 * and starts no automatic election (0: no limit). A manual failover is
 * not subject to it, nor to cluster-replica-no-failover.
 */
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_internal.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/random.h"
#include "lib/util.h"
#include "repl/repl.h"

#define MFLAG0_FORCEACK 2

void cluster_set_my_master(cnode *m) {
    cnode *me = cl.myself;
    if (me->flags & NODE_MASTER) {
        me->flags = (me->flags & ~(NODE_MASTER | NODE_MIGRATE_TO)) | NODE_SLAVE;
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (cl.slots[j] == me) cluster_del_slot(j);
            cl.migrating_to[j] = cl.importing_from[j] = NULL;
        }
    }
    node_set_master(me, m);
    repl_replicate(m->ip, m->port);
    cl.failover_auth_time = 0;
    mf_reset();
    cluster_note_change(1);
}

void failover_promote_myself(void) {
    cnode *me = cl.myself, *old = me->master;
    if (!old) return;
    server_log(LOG_NOTICE, "Failover election won: I'm the new master (was a replica of %.40s).", old->name);
    repl_stop_replicating();
    node_set_master(me, NULL);
    me->flags = (me->flags & ~NODE_SLAVE) | NODE_MASTER;
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (cl.slots[j] != old) continue;
        cluster_del_slot(j);
        cluster_add_slot(me, j);
    }
    cl.failover_auth_time = 0;
    mf_reset();
    cluster_update_state();
    cluster_note_change(2);
    bus_broadcast_pong();
}

/* Replicas of my master with a greater replication offset than mine. */
static int my_rank(void) {
    cnode *m = cl.myself->master;
    long long mine = repl_offset();
    int rank = 0;
    for (int i = 0; m && i < m->nreplicas; i++) {
        cnode *r = m->replicas[i];
        if (r != cl.myself && !(r->flags & NODE_NOFAILOVER) && r->repl_offset > mine) rank++;
    }
    return rank;
}

static int masters_with_slots(void) {
    int n = 0;
    for (int i = 0; i < cl.nnodes; i++)
        if ((cl.nodes[i]->flags & NODE_MASTER) && cl.nodes[i]->numslots) n++;
    return n;
}

/* Why this replica may not start an automatic election now, or NULL. */
static const char *cant_failover_reason(int manual) {
    cnode *me = cl.myself;
    if ((me->flags & NODE_NOFAILOVER) && !manual) return "no-failover";
    if (manual || !cluster_replica_validity_factor) return NULL;
    long long age = repl_master_data_age_ms();
    if (age > cluster_node_timeout) age -= cluster_node_timeout;
    long long limit = repl_ping_period() * 1000LL + cluster_node_timeout * cluster_replica_validity_factor;
    if (age > limit)
        return "Disconnected from master for longer than allowed. Please check the "
               "'cluster-replica-validity-factor' configuration option.";
    return NULL;
}

/* cluster-replica-no-failover shows as myself's nofailover flag, which
 * the other nodes learn from our messages. */
static void update_my_nofailover_flag(void) {
    cnode *me = cl.myself;
    int want = cluster_replica_no_failover ? NODE_NOFAILOVER : 0;
    if ((me->flags & NODE_NOFAILOVER) == want) return;
    me->flags = (me->flags & ~NODE_NOFAILOVER) | want;
    cluster_note_change(1);
}

static void log_cant_failover(const char *why) {
    static const char *last;
    static long long last_ms;
    long long now = mstime();
    if (why == last && now - last_ms < 10000) return;
    last = why, last_ms = now;
    if (why[0] != 'n') server_log(LOG_NOTICE, "Currently unable to failover: %s", why);
}

void failover_cron(void) {
    update_my_nofailover_flag();
    cnode *me = cl.myself, *m = me->master;
    if (!(me->flags & NODE_SLAVE) || !m) return;
    long long now = mstime();
    int manual = cl.mf_end && cl.mf_can_start;
    if ((!(m->flags & NODE_FAIL) && !manual) || m->numslots == 0) {
        cl.failover_auth_time = 0;
        return;
    }
    const char *why = cant_failover_reason(manual);
    if (why) {
        log_cant_failover(why);
        cl.failover_auth_time = 0;
        return;
    }
    long long timeout = cluster_node_timeout * 2 < 2000 ? 2000 : cluster_node_timeout * 2;
    if (cl.failover_auth_time && now - cl.failover_auth_time > timeout * 2) cl.failover_auth_time = 0; /* retry */
    if (cl.failover_auth_time == 0) {
        cl.failover_auth_rank = manual ? 0 : my_rank();
        cl.failover_auth_time =
            now + (manual ? 0 : 500 + (long long)random_below(500) + cl.failover_auth_rank * 1000LL);
        cl.failover_auth_sent = cl.failover_auth_count = 0;
        server_log(LOG_NOTICE, "Start of election delayed for %lld milliseconds (rank #%d).",
                   cl.failover_auth_time - now, cl.failover_auth_rank);
        if (!manual) return;
    }
    if (now < cl.failover_auth_time || now - cl.failover_auth_time > timeout) return;
    if (!cl.failover_auth_sent) {
        cl.current_epoch++;
        cl.failover_auth_epoch = cl.current_epoch;
        server_log(LOG_NOTICE, "Starting a failover election for epoch %llu.",
                   (unsigned long long)cl.current_epoch);
        bus_broadcast_bare(MSG_FAILOVER_AUTH_REQUEST, cl.mf_end ? MFLAG0_FORCEACK : 0);
        cl.failover_auth_sent = 1;
        cluster_note_change(2);
        return;
    }
    if (cl.failover_auth_count >= masters_with_slots() / 2 + 1) {
        if (me->config_epoch < cl.failover_auth_epoch) me->config_epoch = cl.failover_auth_epoch;
        failover_promote_myself();
    }
}

void failover_auth_acked(cnode *sender, uint64_t sender_current_epoch) {
    if (!(sender->flags & NODE_MASTER) || !sender->numslots) return;
    if (sender_current_epoch >= cl.failover_auth_epoch && cl.failover_auth_sent) {
        cl.failover_auth_count++;
        cl.todo_failover = 1; /* a quorum is counted before sleeping, not at the next tick */
    }
}

/* Before sleeping: the election steps that need not wait for the cron
 * (Redis runs them there too): a vote arrived, or a manual failover may
 * start. While a manual failover waits for the stream to reach the
 * paused master's offset, it checks on every iteration. */
void failover_before_sleep(void) {
    if (mf_check_caught_up()) cl.todo_failover = 1;
    if (!cl.todo_failover) return;
    cl.todo_failover = 0;
    failover_cron();
}

void failover_auth_requested(cnode *node, const unsigned char *hdr, uint64_t req_current_epoch,
                             uint64_t req_config_epoch, int force_ack) {
    (void)hdr;
    cnode *me = cl.myself, *m = node->master;
    if (!(me->flags & NODE_MASTER) || me->numslots == 0) return;
    if (req_current_epoch < cl.current_epoch || cl.last_vote_epoch == cl.current_epoch) return;
    if (!(node->flags & NODE_SLAVE) || !m) return;
    if (!(m->flags & NODE_FAIL) && !force_ack) return;
    long long now = mstime();
    if (now - m->voted_time_ms < cluster_node_timeout * 2) return;
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (!bit_test(hdr + 80, j) || !cl.slots[j]) continue; /* the claimed slots (header offset 80) */
        if (cl.slots[j]->config_epoch > req_config_epoch) return;
    }
    cl.last_vote_epoch = cl.current_epoch;
    m->voted_time_ms = now;
    cluster_note_change(2);
    bus_send_bare(node->link ? node->link : node->inbound, MSG_FAILOVER_AUTH_ACK, 0);
    server_log(LOG_NOTICE, "Failover auth granted to %.40s for epoch %llu", node->name,
               (unsigned long long)cl.current_epoch);
}

int failover_manual(int force, int takeover, const char **err) {
    cnode *me = cl.myself;
    if (me->flags & NODE_MASTER) {
        *err = "ERR You should send CLUSTER FAILOVER to a replica";
        return -1;
    }
    if (!me->master) {
        *err = "ERR I'm a replica but my master is unknown to me";
        return -1;
    }
    if (!force && ((me->master->flags & NODE_FAIL) || !me->master->link)) {
        *err = "ERR Master is down or failed, please use CLUSTER FAILOVER FORCE";
        return -1;
    }
    if (takeover) {
        server_log(LOG_WARNING, "Taking over the master (user request).");
        cl.current_epoch++;
        me->config_epoch = cl.current_epoch;
        failover_promote_myself();
        return 0;
    }
    server_log(LOG_WARNING, force ? "Forced failover user request accepted." : "Manual failover user request accepted.");
    cl.failover_auth_time = 0;
    mf_request(force);
    return 0;
}
