/*
 * failover: from "this sentinel thinks the master is down" to a promoted
 * replica, with Redis Sentinel's rules so that keel sentinels and
 * redis-sentinel processes can share one quorum:
 *
 *  - ODOWN: the master is SDOWN here and at least `quorum` sentinels in
 *    all say so (SENTINEL IS-MASTER-DOWN-BY-ADDR, asked every second);
 *  - election: the sentinel that starts a failover bumps the current
 *    epoch and asks for votes with its run id; each sentinel votes once
 *    per epoch, for the first asker; a leader needs a majority of the
 *    known sentinels and at least `quorum` votes;
 *  - the leader picks the best replica (priority, then replication
 *    offset, then run id), sends it REPLICAOF NO ONE, waits until its
 *    INFO says master, points the other replicas at it (parallel-syncs
 *    at a time), and switches its own configuration; the others learn
 *    the new address from its hello messages (config epoch).
 */
#include "sentinel/sentinel_internal.h"
#include "core/server.h"
#include "lib/random.h"
#include "lib/zmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void check_objectively_down(sinstance *m) {
    unsigned int votes = 0;
    int odown = 0;
    if (m->flags & SRI_S_DOWN) {
        votes = 1;
        for (int i = 0; i < m->sentinels.n; i++)
            if (m->sentinels.v[i]->flags & SRI_MASTER_DOWN) votes++;
        odown = votes >= m->quorum;
    }
    if (odown && !(m->flags & SRI_O_DOWN)) {
        sentinel_event(LOG_WARNING, "+odown", m, "#quorum %u/%u", votes, m->quorum);
        m->flags |= SRI_O_DOWN;
        m->o_down_since_time = server_mstime();
    } else if (!odown && (m->flags & SRI_O_DOWN)) {
        sentinel_event(LOG_WARNING, "-odown", m, "%s", "");
        m->flags &= ~SRI_O_DOWN;
    }
}

void failover_start(sinstance *m) {
    m->failover_state = FO_WAIT_START;
    m->flags |= SRI_FAILOVER_IN_PROGRESS;
    m->failover_epoch = ++sentinel.current_epoch;
    sentinel_event_of(LOG_WARNING, "+new-epoch", m, "%llu", (unsigned long long)sentinel.current_epoch);
    sentinel_event(LOG_WARNING, "+try-failover", m, "%s", "");
    m->failover_start_time = server_mstime() + (long long)random_below(SENTINEL_MAX_DESYNC);
    m->failover_state_change_time = server_mstime();
}

int start_failover_if_needed(sinstance *m) {
    if (!(m->flags & SRI_O_DOWN) || (m->flags & SRI_FAILOVER_IN_PROGRESS)) return 0;
    if (server_mstime() - m->failover_start_time < m->failover_timeout * 2) {
        if (m->failover_delay_logged != m->failover_start_time) {
            m->failover_delay_logged = m->failover_start_time;
            server_log(LOG_WARNING, "Next failover delay: I will not start a failover before %lld ms from now",
                       m->failover_start_time + m->failover_timeout * 2 - server_mstime());
        }
        return 0;
    }
    failover_start(m);
    return 1;
}

/* ---- Asking the other sentinels ------------------------------------------ */

static void is_master_down_reply(sconn *c, rr_reply *r, void *priv) {
    (void)c;
    sinstance *ri = priv;
    if (!r || rr_count(r) != 3) return;
    size_t l;
    const char *leader = rr_text(rr_at(r, 1), &l);
    if (!leader) return;
    ri->last_master_down_reply_time = server_mstime();
    if (rr_int(rr_at(r, 0)) == 1) ri->flags |= SRI_MASTER_DOWN;
    else ri->flags &= ~SRI_MASTER_DOWN;
    if (l == 1 && leader[0] == '*') return;
    long long epoch = rr_int(rr_at(r, 2));
    if ((long long)ri->leader_epoch != epoch) server_log(LOG_WARNING, "%s voted for %.*s %lld", ri->name, (int)l, leader, epoch);
    kstr_free(ri->leader);
    ri->leader = kstr_new_len(leader, l);
    ri->leader_epoch = (uint64_t)epoch;
}

void ask_master_state(sinstance *m, int force) {
    long long now = server_mstime();
    for (int i = 0; i < m->sentinels.n; i++) {
        sinstance *ri = m->sentinels.v[i];
        long long elapsed = now - ri->last_master_down_reply_time;
        if (elapsed > st.ask_period * 5) {
            ri->flags &= ~SRI_MASTER_DOWN;
            kstr_free(ri->leader);
            ri->leader = NULL;
        }
        if (!(m->flags & SRI_S_DOWN) || !ri->cc || sconn_broken(ri->cc)) continue;
        if (!force && elapsed < st.ask_period) continue;
        char port[16], epoch[32];
        snprintf(port, sizeof(port), "%d", m->port);
        snprintf(epoch, sizeof(epoch), "%llu", (unsigned long long)sentinel.current_epoch);
        const char *argv[] = {"SENTINEL", "is-master-down-by-addr", m->ip, port, epoch,
                              m->failover_state > FO_NONE ? sentinel.myid : "*"};
        sconn_command(ri->cc, is_master_down_reply, ri, 6, argv);
    }
}

/* ---- Election ------------------------------------------------------------- */

const char *vote_leader(sinstance *m, uint64_t req_epoch, const char *req_runid, uint64_t *leader_epoch) {
    if (req_epoch > sentinel.current_epoch) {
        sentinel.current_epoch = req_epoch;
        sentinel_flush_config();
        sentinel_event_of(LOG_WARNING, "+new-epoch", m, "%llu", (unsigned long long)sentinel.current_epoch);
    }
    if (m->leader_epoch < req_epoch && sentinel.current_epoch <= req_epoch) {
        kstr_free(m->leader);
        m->leader = kstr_new(req_runid);
        m->leader_epoch = sentinel.current_epoch;
        sentinel_flush_config();
        sentinel_event_of(LOG_WARNING, "+vote-for-leader", m, "%s %llu", m->leader, (unsigned long long)m->leader_epoch);
        if (strcmp(m->leader, sentinel.myid))
            m->failover_start_time = server_mstime() + (long long)random_below(SENTINEL_MAX_DESYNC);
    }
    *leader_epoch = m->leader_epoch;
    return m->leader;
}

typedef struct tally { const char *runid[64]; int votes[64]; int n; } tally;

static void count_vote(tally *t, const char *runid) {
    for (int i = 0; i < t->n; i++)
        if (!strcmp(t->runid[i], runid)) { t->votes[i]++; return; }
    if (t->n == 64) return;
    t->runid[t->n] = runid;
    t->votes[t->n++] = 1;
}

static const char *tally_winner(const tally *t, int *votes) {
    const char *best = NULL;
    *votes = 0;
    for (int i = 0; i < t->n; i++)
        if (t->votes[i] > *votes || (t->votes[i] == *votes && best && strcmp(t->runid[i], best) > 0)) {
            best = t->runid[i];
            *votes = t->votes[i];
        }
    return best;
}

static const char *get_leader(sinstance *m, uint64_t epoch) {
    tally t = {.n = 0};
    for (int i = 0; i < m->sentinels.n; i++) {
        sinstance *ri = m->sentinels.v[i];
        if (ri->leader && ri->leader_epoch == sentinel.current_epoch) count_vote(&t, ri->leader);
    }
    int voters = m->sentinels.n + 1, votes;
    const char *winner = tally_winner(&t, &votes);
    uint64_t leader_epoch;
    const char *myvote = vote_leader(m, epoch, winner ? winner : sentinel.myid, &leader_epoch);
    if (myvote && leader_epoch == epoch) {
        count_vote(&t, myvote);
        winner = tally_winner(&t, &votes);
    }
    if (winner && (votes < voters / 2 + 1 || (unsigned)votes < m->quorum)) winner = NULL;
    return winner;
}

/* ---- Choosing the replica ----------------------------------------------------- */

static int compare_slaves(const void *a, const void *b) {
    const sinstance *x = *(sinstance *const *)a, *y = *(sinstance *const *)b;
    if (x->slave_priority != y->slave_priority) return x->slave_priority - y->slave_priority;
    if (x->slave_repl_offset != y->slave_repl_offset) return x->slave_repl_offset > y->slave_repl_offset ? -1 : 1;
    if (!x->runid) return y->runid ? 1 : 0;
    if (!y->runid) return -1;
    return strcasecmp(x->runid, y->runid);
}

sinstance *select_slave(sinstance *m) {
    long long now = server_mstime();
    long long max_down = (m->flags & SRI_S_DOWN) ? now - m->s_down_since_time : 0;
    max_down += m->down_after_period * 10;
    sinstance **cand = zmalloc(sizeof(*cand) * (size_t)(m->slaves.n + 1));
    int n = 0;
    for (int i = 0; i < m->slaves.n; i++) {
        sinstance *s = m->slaves.v[i];
        long long info_validity = (m->flags & SRI_S_DOWN) ? st.ping_period * 5 : st.info_period * 3;
        if (!is_slave_usable(s) || now - s->last_avail_time > st.ping_period * 5 || s->slave_priority == 0 ||
            now - s->info_refresh > info_validity || s->master_link_down_time > max_down)
            continue;
        cand[n++] = s;
    }
    sinstance *best = NULL;
    if (n) {
        qsort(cand, (size_t)n, sizeof(*cand), compare_slaves);
        best = cand[0];
    }
    zfree(cand);
    return best;
}

/* ---- The state machine ----------------------------------------------------------- */

void failover_abort(sinstance *m) {
    m->flags &= ~(SRI_FAILOVER_IN_PROGRESS | SRI_FORCE_FAILOVER);
    m->failover_state = FO_NONE;
    m->failover_state_change_time = server_mstime();
    if (m->promoted_slave) {
        m->promoted_slave->flags &= ~SRI_PROMOTED;
        m->promoted_slave = NULL;
    }
}

static void set_state(sinstance *m, int state) {
    m->failover_state = state;
    m->failover_state_change_time = server_mstime();
}

static void wait_start(sinstance *m) {
    const char *leader = get_leader(m, m->failover_epoch);
    int is_leader = leader && !strcmp(leader, sentinel.myid);
    if (!is_leader && !(m->flags & SRI_FORCE_FAILOVER)) {
        long long timeout = st.election_timeout < m->failover_timeout ? st.election_timeout : m->failover_timeout;
        if (server_mstime() - m->failover_start_time > timeout) {
            sentinel_event(LOG_WARNING, "-failover-abort-not-elected", m, "%s", "");
            failover_abort(m);
        }
        return;
    }
    sentinel_event(LOG_WARNING, "+elected-leader", m, "%s", "");
    if (sentinel.simfailure_flags & SIMFAILURE_CRASH_AFTER_ELECTION) {
        server_log(LOG_WARNING, "Simulated failure: crash after election");
        exit(99);
    }
    set_state(m, FO_SELECT_SLAVE);
    sentinel_event(LOG_WARNING, "+failover-state-select-slave", m, "%s", "");
}

static void select_step(sinstance *m) {
    sinstance *s = select_slave(m);
    if (!s) {
        sentinel_event(LOG_WARNING, "-failover-abort-no-good-slave", m, "%s", "");
        failover_abort(m);
        return;
    }
    sentinel_event(LOG_WARNING, "+selected-slave", s, "%s", "");
    s->flags |= SRI_PROMOTED;
    m->promoted_slave = s;
    set_state(m, FO_SEND_SLAVEOF_NOONE);
    sentinel_event(LOG_NOTICE, "+failover-state-send-slaveof-noone", s, "%s", "");
}

void send_slaveof(sinstance *ri, const char *host, int port, sconn_reply_fn *fn) {
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (!host) { host = "NO"; snprintf(portstr, sizeof(portstr), "ONE"); }
    sconn_commandf(ri->cc, NULL, NULL, "MULTI");
    sconn_commandf(ri->cc, NULL, NULL, "SLAVEOF %s %s", host, portstr);
    sconn_commandf(ri->cc, NULL, NULL, "CONFIG REWRITE");
    sconn_commandf(ri->cc, NULL, NULL, "CLIENT KILL TYPE normal");
    sconn_commandf(ri->cc, NULL, NULL, "CLIENT KILL TYPE pubsub");
    sconn_commandf(ri->cc, fn, ri, "EXEC");
}

/* The replica took REPLICAOF: ask for its INFO now rather than at the
 * next 1 s poll, so the promotion (or the new link) is seen at once.
 * Keel-only: Redis waits for the poll. */
static void reconfigured_reply(sconn *c, rr_reply *r, void *priv) {
    (void)c;
    if (r && !rr_is_error(r)) refresh_info_now(priv);
}

static void send_noone_step(sinstance *m) {
    sinstance *p = m->promoted_slave;
    if (!p->cc || sconn_broken(p->cc)) {
        if (server_mstime() - m->failover_state_change_time > m->failover_timeout) {
            sentinel_event(LOG_WARNING, "-failover-abort-slave-timeout", m, "%s", "");
            failover_abort(m);
        }
        return;
    }
    send_slaveof(p, NULL, 0, reconfigured_reply);
    sentinel_event(LOG_NOTICE, "+failover-state-wait-promotion", p, "%s", "");
    set_state(m, FO_WAIT_PROMOTION);
}

/* A new configuration should reach the other sentinels at once, not at
 * the next 2 s hello: make every hello for this master due now. */
static void force_hello_update(sinstance *m) {
    m->last_pub_time = 0;
    for (int i = 0; i < m->slaves.n; i++) m->slaves.v[i]->last_pub_time = 0;
    for (int i = 0; i < m->sentinels.n; i++) m->sentinels.v[i]->last_pub_time = 0;
}

/* The promoted replica's INFO says master: the failover has happened. */
void failover_after_info(sinstance *m, sinstance *ri) {
    m->config_epoch = m->failover_epoch;
    set_state(m, FO_RECONF_SLAVES);
    sentinel_flush_config();
    sentinel_event(LOG_WARNING, "+promoted-slave", ri, "%s", "");
    if (sentinel.simfailure_flags & SIMFAILURE_CRASH_AFTER_PROMOTION) {
        server_log(LOG_WARNING, "Simulated failure: crash after promotion");
        exit(99);
    }
    sentinel_event(LOG_WARNING, "+failover-state-reconf-slaves", m, "%s", "");
    script_client_reconfig(m, 1, "start", shown_addr(m), m->port, shown_addr(ri), ri->port);
    force_hello_update(m);
}

static void detect_end(sinstance *m) {
    sinstance *p = m->promoted_slave;
    if (!p || (p->flags & SRI_S_DOWN)) return;
    int pending = 0, timeout = 0;
    for (int i = 0; i < m->slaves.n; i++) {
        sinstance *s = m->slaves.v[i];
        if (!(s->flags & (SRI_PROMOTED | SRI_RECONF_DONE)) && !(s->flags & SRI_S_DOWN)) pending++;
    }
    if (server_mstime() - m->failover_state_change_time > m->failover_timeout) {
        pending = 0;
        timeout = 1;
        sentinel_event(LOG_WARNING, "+failover-end-for-timeout", m, "%s", "");
    }
    if (pending) return;
    sentinel_event(LOG_WARNING, "+failover-end", m, "%s", "");
    set_state(m, FO_UPDATE_CONFIG);
    if (!timeout) return;
    for (int i = 0; i < m->slaves.n; i++) {
        sinstance *s = m->slaves.v[i];
        if ((s->flags & (SRI_PROMOTED | SRI_RECONF_DONE | SRI_RECONF_SENT)) || !s->cc || sconn_broken(s->cc)) continue;
        send_slaveof(s, shown_addr(p), p->port, NULL);
        sentinel_event(LOG_NOTICE, "+slave-reconf-sent-be", s, "%s", "");
        s->flags |= SRI_RECONF_SENT;
    }
}

static void reconf_slaves_step(sinstance *m) {
    int in_progress = 0;
    long long now = server_mstime();
    for (int i = 0; i < m->slaves.n; i++)
        if (m->slaves.v[i]->flags & (SRI_RECONF_SENT | SRI_RECONF_INPROG)) in_progress++;
    for (int i = 0; i < m->slaves.n && in_progress < m->parallel_syncs; i++) {
        sinstance *s = m->slaves.v[i];
        if (s->flags & (SRI_PROMOTED | SRI_RECONF_DONE)) continue;
        if ((s->flags & SRI_RECONF_SENT) && now - s->slave_reconf_sent_time > st.slave_reconf_timeout) {
            sentinel_event(LOG_NOTICE, "-slave-reconf-sent-timeout", s, "%s", "");
            s->flags = (s->flags & ~SRI_RECONF_SENT) | SRI_RECONF_DONE;
        }
        if ((s->flags & (SRI_RECONF_SENT | SRI_RECONF_INPROG | SRI_RECONF_DONE)) || !s->cc || sconn_broken(s->cc)) continue;
        send_slaveof(s, shown_addr(m->promoted_slave), m->promoted_slave->port, reconfigured_reply);
        s->flags |= SRI_RECONF_SENT;
        s->slave_reconf_sent_time = now;
        sentinel_event(LOG_NOTICE, "+slave-reconf-sent", s, "%s", "");
        in_progress++;
    }
    detect_end(m);
}

void failover_step(sinstance *m) {
    if (!(m->flags & SRI_FAILOVER_IN_PROGRESS)) return;
    switch (m->failover_state) {
    case FO_WAIT_START: wait_start(m); break;
    case FO_SELECT_SLAVE: select_step(m); break;
    case FO_SEND_SLAVEOF_NOONE: send_noone_step(m); break;
    case FO_WAIT_PROMOTION:
        if (server_mstime() - m->failover_state_change_time > m->failover_timeout) {
            sentinel_event(LOG_WARNING, "-failover-abort-slave-timeout", m, "%s", "");
            failover_abort(m);
        }
        break;
    case FO_RECONF_SLAVES: reconf_slaves_step(m); break;
    }
}
