/*
 * failover: FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], Redis
 * 7.0's coordinated failover, on both sides of the link.
 *
 * Why coordinated: REPLICAOF NO ONE on a replica loses whatever the
 * master wrote that the replica had not received yet, and for a moment
 * two masters accept writes. FAILOVER swaps the roles without either:
 *
 *   1. The master holds a write pause (core/pause.h, independent of
 *      CLIENT PAUSE/UNPAUSE), so its stream offset stops moving: no
 *      writes, no expiries or evictions, no PING or GETACK to replicas.
 *      State "waiting-for-sync".
 *   2. Its replicas acknowledge their offset every second, and at once
 *      for the REPLCONF GETACK the master puts last in its stream (Keel
 *      only: Redis waits for the periodic ACK, up to a second). When the
 *      target (TO host port, or else the first replica to get there) has
 *      acknowledged the master's whole stream, the master becomes that
 *      replica's replica ("failover-in-progress") and its PSYNC carries
 *      a fourth argument, FAILOVER. With TIMEOUT the wait is bounded:
 *      past it the failover is aborted, or with FORCE it goes on to the
 *      target anyway.
 *   3. The target, receiving `PSYNC <its replid> <offset> FAILOVER`,
 *      promotes itself (as REPLICAOF NO ONE: a new replid, the old one
 *      kept as the secondary) and answers the PSYNC as any master would:
 *      +CONTINUE, since the old master asks for exactly the history the
 *      target has. The old master sees +CONTINUE (or +FULLRESYNC) and the
 *      failover is over: the pause ends, and the writes it held run
 *      against a replica (READONLY). Any other answer aborts: the old
 *      master becomes a master again (its replicas resynchronise with
 *      PSYNC under its secondary id).
 *
 * Only the master side has state; the target side is one check in PSYNC.
 * The messages and error texts are Redis's, since tools and Redis's own
 * test suite read them; Debian's redis-server 7.0 speaks the same
 * protocol, so Keel and Redis fail over to each other.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "repl/repl_internal.h"
#include "repl/repl.h"
#include "cluster/cluster.h"
#include "core/cmdutil.h"
#include "core/pause.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

enum { FO_NONE = 0, FO_WAIT_SYNC, FO_IN_PROGRESS };

static struct {
    int state;
    char *host;       /* the target; NULL: whichever replica catches up first */
    int port;
    long long end_ms; /* TIMEOUT's deadline, 0: none */
    int force;
} FO;

int rfailover_active(void) { return FO.state != FO_NONE; }
int rfailover_psync_flag(void) { return FO.state == FO_IN_PROGRESS; }

const char *rfailover_state_name(void) {
    switch (FO.state) {
    case FO_WAIT_SYNC: return "waiting-for-sync";
    case FO_IN_PROGRESS: return "failover-in-progress";
    }
    return "no-failover";
}

static void clear_failover(void) {
    zfree(FO.host);
    FO.host = NULL;
    FO.port = 0;
    FO.end_ms = 0;
    FO.force = 0;
    FO.state = FO_NONE;
    pause_hold_writes(0);
}

static void abort_failover(const char *why) {
    if (FO.state == FO_NONE) return;
    if (FO.host) server_log(LOG_NOTICE, "FAILOVER to %s:%d aborted: %s", FO.host, FO.port, why);
    else server_log(LOG_NOTICE, "FAILOVER to any replica aborted: %s", why);
    if (FO.state == FO_IN_PROGRESS) replica_unset_master();
    clear_failover();
}

/* A replica by the address it announced (or connected from) and its
 * listening port, as FAILOVER TO names it. */
static replica_rec *find_replica(const char *host, int port) {
    for (replica_rec *r = replicas; r; r = r->next)
        if (r->state != RS_NONE && !strcasecmp(host, r->ip) && r->listening_port == port) return r;
    return NULL;
}

static int caught_up(const replica_rec *r) { return r && r->state == RS_ONLINE && r->ack_off == RS.offset; }

static replica_rec *first_caught_up(void) {
    for (replica_rec *r = replicas; r; r = r->next)
        if (caught_up(r)) return r;
    return NULL;
}

/* Become the target's replica; the PSYNC of that link says FAILOVER. */
static void hand_over(void) {
    FO.state = FO_IN_PROGRESS;
    replica_set_master(FO.host, FO.port);
}

void rfailover_update(void) {
    if (FO.state != FO_WAIT_SYNC) return;
    if (FO.end_ms && server_mstime() >= FO.end_ms) {
        if (!FO.force) {
            abort_failover("Replica never caught up before timeout");
            return;
        }
        server_log(LOG_NOTICE, "FAILOVER to %s:%d time out exceeded, failing over.", FO.host, FO.port);
        hand_over();
        return;
    }
    replica_rec *r = FO.host ? find_replica(FO.host, FO.port) : first_caught_up();
    if (!caught_up(r)) return;
    if (!FO.host) {
        FO.host = zstrdup(r->ip);
        FO.port = r->listening_port;
    }
    server_log(LOG_NOTICE, "Failover target %s:%d is synced, failing over.", FO.host, FO.port);
    hand_over();
}

void rfailover_psync_answered(int accepted) {
    if (FO.state != FO_IN_PROGRESS) return;
    if (!accepted) {
        abort_failover("Failover target rejected psync request");
        return;
    }
    server_log(LOG_NOTICE, "FAILOVER to %s:%d done: the target accepted the PSYNC, this server is its replica",
               FO.host, FO.port);
    clear_failover();
}

int rfailover_psync_request(client *c) {
    server_log(LOG_WARNING, "Failover request received for replid %s.", c->argv[1]);
    if (!repl_is_replica()) {
        reply_error(c, "ERR PSYNC FAILOVER can't be sent to a master.");
        return 0;
    }
    if (strcasecmp(c->argv[1], RS.replid)) {
        reply_error(c, "ERR PSYNC FAILOVER replid must match my replid.");
        return 0;
    }
    /* What the old master streamed before handing over may still be in
     * the socket: apply it first, so its PSYNC finds our offset at its. */
    replica_drain_master_link();
    replica_unset_master();
    kstr who = client_info_string(kstr_empty(), c);
    server_log(LOG_NOTICE, "MASTER MODE enabled (failover request from '%s')", who);
    kstr_free(who);
    return 1;
}

/* ---- the command ---- */

static void failover_abort_command(client *c) {
    if (FO.state == FO_NONE) {
        reply_error(c, "ERR No failover in progress.");
        return;
    }
    abort_failover("Failover manually aborted");
    reply_ok(c);
}

typedef struct failover_args {
    const char *host;
    long long port, timeout_ms;
    int force;
} failover_args;

/* TO host port, FORCE and TIMEOUT ms, each at most once, in any order. */
static int parse_args(client *c, failover_args *a) {
    memset(a, 0, sizeof(*a));
    for (int j = 1; j < c->argc; j++) {
        if (arg_is(c->argv[j], "timeout") && j + 1 < c->argc && !a->timeout_ms) {
            if (!parse_ll(c, c->argv[j + 1], &a->timeout_ms)) return 0;
            if (a->timeout_ms <= 0) {
                reply_error(c, "ERR FAILOVER timeout must be greater than 0");
                return 0;
            }
            j++;
        } else if (arg_is(c->argv[j], "to") && j + 2 < c->argc && !a->host) {
            if (!parse_ll(c, c->argv[j + 2], &a->port)) return 0;
            a->host = c->argv[j + 1];
            j += 2;
        } else if (arg_is(c->argv[j], "force") && !a->force) {
            a->force = 1;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

static int count_replicas(void) {
    int n = 0;
    for (replica_rec *r = replicas; r; r = r->next) n += r->state != RS_NONE;
    return n;
}

/* The reason this server cannot start the failover a asks for, or NULL. */
static const char *refusal(const failover_args *a) {
    if (FO.state != FO_NONE) return "ERR FAILOVER already in progress.";
    if (repl_is_replica()) return "ERR FAILOVER is not valid when server is a replica.";
    if (!count_replicas()) return "ERR FAILOVER requires connected replicas.";
    if (a->force && (!a->timeout_ms || !a->host))
        return "ERR FAILOVER with force option requires both a timeout and target HOST and IP.";
    if (a->host) {
        replica_rec *r = find_replica(a->host, (int)a->port);
        if (!r) return "ERR FAILOVER target HOST and PORT is not a replica.";
        if (r->state != RS_ONLINE) return "ERR FAILOVER target replica is not online.";
    }
    return NULL;
}

void failover_command(client *c) {
    if (cluster_is_enabled()) {
        reply_error(c, "ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.");
        return;
    }
    if (c->argc == 2 && arg_is(c->argv[1], "abort")) {
        failover_abort_command(c);
        return;
    }
    failover_args a;
    if (!parse_args(c, &a)) return;
    const char *err = refusal(&a);
    if (err) {
        reply_error(c, err);
        return;
    }
    if (a.host) {
        FO.host = zstrdup(a.host);
        FO.port = (int)a.port;
        server_log(LOG_NOTICE, "FAILOVER requested to %s:%lld.", a.host, a.port);
    } else {
        server_log(LOG_NOTICE, "FAILOVER requested to any replica.");
    }
    FO.end_ms = a.timeout_ms ? server_mstime() + a.timeout_ms : 0;
    FO.force = a.force;
    /* Keel only: a REPLCONF GETACK as the stream's last bytes before the
     * pause, so caught-up replicas say so at once rather than at their
     * next once-a-second ACK (Redis waits for that one). */
    master_request_acks();
    FO.state = FO_WAIT_SYNC;
    pause_hold_writes(1);
    reply_ok(c);
}
