/*
 * redirect.c: which node serves a request, checked by command dispatch
 * in cluster mode before a command runs (or is queued by MULTI), with
 * Redis 7.0's rules and error texts:
 *
 *   - keys in different slots: -CROSSSLOT;
 *   - a slot nobody serves: -CLUSTERDOWN Hash slot not served;
 *   - cluster state fail: -CLUSTERDOWN The cluster is down (or "... and
 *     only accepts read commands" for writes with
 *     cluster-allow-reads-when-down);
 *   - a slot we are migrating, keys missing here: -ASK slot ip:port (all
 *     missing) or -TRYAGAIN (some missing);
 *   - a slot we are importing: served after ASKING (or RESTORE-ASKING),
 *     -TRYAGAIN for a multi-key request with keys missing;
 *   - a slot of another node: -MOVED slot ip:port, unless we replicate
 *     that node and the client sent READONLY for a read.
 *
 * The keys come from the command's key specs (core/command.h,
 * command_get_keys), so every command, movable keys included, is checked
 * the same way. Commands without keys always run here.
 */
#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/cluster_internal.h"
#include "core/blocking.h"
#include "core/command.h"
#include "core/db.h"
#include "core/multi.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "script/script.h"

static int is_shard_pubsub(const command *cmd) {
    return !strcmp(cmd->name, "spublish") || !strcmp(cmd->name, "ssubscribe") || !strcmp(cmd->name, "sunsubscribe");
}

/* At dispatch, before the command runs: the clock now, not the time the
 * previous command was given (db_now_ms), or a key expired since then
 * would still count and a migrating slot would not send -ASK. */
static int key_exists(const kstr key) {
    entry *e = db_find(db_get(0), key, kstr_len(key));
    return e && !entry_is_expired(e, mstime());
}

static void redirect(client *c, const char *kind, int slot, const cnode *n) {
    reply_errorf(c, "%s %d %s:%d", kind, slot, cluster_endpoint(n), n->port);
}

typedef struct key_scan {
    int slot;
    kstr first;
    int multiple_keys, missing, existing;
    cnode *owner;
    int migrating, importing;
    int shard, cross_slot;
} key_scan;

/* Adds one command's keys to ks; 0 once they stop hashing to one slot
 * (ks->cross_slot) or the first key's slot has no owner. */
static int scan_command_keys(const command *cmd, int argc, kstr *argv, void *priv) {
    key_scan *ks = priv;
    int idx_stack[16];
    int *idx = argc <= 16 ? idx_stack : zmalloc(sizeof(int) * (size_t)argc);
    int n = command_get_keys(cmd, argc, argv, idx, argc), more = 1;
    for (int j = 0; j < n && more; j++) {
        const kstr key = argv[idx[j]];
        int slot = (int)key_hash_slot(key, kstr_len(key));
        if (!ks->first) {
            ks->first = key;
            ks->slot = slot;
            ks->owner = cl.slots[slot];
            if (!ks->owner) {
                more = 0;
                break;
            }
            if (ks->owner == cl.myself && cl.migrating_to[slot]) ks->migrating = 1;
            else if (cl.importing_from[slot]) ks->importing = 1;
        } else if (kstr_len(key) != kstr_len(ks->first) || memcmp(key, ks->first, kstr_len(key))) {
            if (slot != ks->slot) {
                ks->cross_slot = 1;
                more = 0;
                break;
            }
            ks->multiple_keys = 1;
        }
        if ((ks->migrating || ks->importing) && !ks->shard) {
            if (key_exists(key)) ks->existing++;
            else ks->missing++;
        }
    }
    if (idx != idx_stack) zfree(idx);
    return more;
}

/* The keys of the request, or of every queued command for EXEC (as Redis
 * does: a transaction whose commands each name one slot, but not the same
 * one, is refused at EXEC). 0 when they hash to different slots (CROSSSLOT
 * replied). */
static int scan_keys(client *c, const command *cmd, int exec, key_scan *ks) {
    memset(ks, 0, sizeof(*ks));
    ks->slot = -1;
    ks->shard = is_shard_pubsub(cmd);
    if (exec) multi_foreach_queued(c, scan_command_keys, ks);
    else scan_command_keys(cmd, c->argc, c->argv, ks);
    if (!ks->cross_slot) return 1;
    reply_error(c, "CROSSSLOT Keys in request don't hash to the same slot");
    return 0;
}

static int down_state_rejects(client *c, const command *cmd, uint64_t flags) {
    if (cl.ok) return 0;
    if (is_shard_pubsub(cmd)) {
        if (cluster_allow_pubsubshard_when_down) return 0;
    } else if (cluster_allow_reads_when_down) {
        if (!(flags & CMD_WRITE)) return 0;
        reply_error(c, "CLUSTERDOWN The cluster is down and only accepts read commands");
        return 1;
    }
    reply_error(c, "CLUSTERDOWN The cluster is down");
    return 1;
}

/* Whether this node serves the request whose keys ks describes; if not,
 * the redirection or error is replied. */
static int serves_keys(client *c, const command *cmd, const key_scan *ks, uint64_t flags, int asking) {
    if (!ks->owner) {
        reply_error(c, "CLUSTERDOWN Hash slot not served");
        return 0;
    }
    if (down_state_rejects(c, cmd, flags)) return 0;
    if ((ks->migrating || ks->importing) && !strcmp(cmd->name, "migrate")) return 1;
    if (ks->migrating && ks->missing) {
        if (ks->existing) {
            reply_error(c, "TRYAGAIN Multiple keys request during rehashing of slot");
            return 0;
        }
        redirect(c, "ASK", ks->slot, cl.migrating_to[ks->slot]);
        return 0;
    }
    if (ks->importing && (asking || (flags & CMD_ASKING))) {
        if (ks->multiple_keys && ks->missing) {
            reply_error(c, "TRYAGAIN Multiple keys request during rehashing of slot");
            return 0;
        }
        return 1;
    }
    if (ks->owner == cl.myself) return 1;
    if (((c->flags & CLIENT_READONLY) || ks->shard) && !(flags & CMD_WRITE) && (cl.myself->flags & NODE_SLAVE) &&
        cl.myself->master == ks->owner)
        return 1;
    redirect(c, "MOVED", ks->slot, ks->owner);
    return 0;
}

int cluster_check_request(client *c, const command *cmd) {
    if (!cluster_enabled_cfg) return 1;
    int asking = (c->flags & CLIENT_ASKING) != 0;
    /* ASKING lasts one command, or a whole transaction when MULTI follows
     * it (Redis keeps the flag while the client is in MULTI). */
    if (strcmp(cmd->name, "asking") && strcmp(cmd->name, "multi") && !(c->flags & CLIENT_MULTI))
        c->flags &= ~CLIENT_ASKING;
    /* Scripts (their EVAL was checked) and our master's stream. */
    if (c->flags & (CLIENT_FAKE | CLIENT_MASTER)) return 1;
    int exec = multi_is_exec(cmd) && (c->flags & CLIENT_MULTI);
    if (!exec && !command_has_keys(cmd)) return 1;
    /* EXEC is a write when a queued command is, EVAL when its script may
     * write (a shebang without no-writes): a replica redirects them. */
    uint64_t flags = exec ? cmd->flags | multi_queued_flags(c) : script_request_flags(c, cmd);
    key_scan ks;
    int ok = scan_keys(c, cmd, exec, &ks);
    if (ok && ks.slot >= 0) ok = serves_keys(c, cmd, &ks, flags, asking);
    /* A refused EXEC discards its transaction (the queued commands were
     * each served here when queued; together they are not). */
    if (!ok && exec) multi_discard(c);
    return ok;
}

/* Clients blocked on keys (BLPOP ...) whose slot is no longer served here
 * get -MOVED (or -CLUSTERDOWN) and are unblocked, as Redis does from its
 * client cron; called from the cluster cron. */
static int blocked_redirect(client *c, char *err, size_t size) {
    if (!cl.ok) {
        snprintf(err, size, "CLUSTERDOWN The cluster is down");
        return 1;
    }
    const command *cmd = c->cmd;
    if (!cmd) return 0;
    int idx_stack[16], max = c->argc;
    int *idx = max <= 16 ? idx_stack : zmalloc(sizeof(int) * (size_t)max);
    int n = command_get_keys(cmd, c->argc, c->argv, idx, max), found = 0;
    for (int j = 0; j < n && !found; j++) {
        const kstr key = c->argv[idx[j]];
        int slot = (int)key_hash_slot(key, kstr_len(key));
        cnode *owner = cl.slots[slot];
        if ((c->flags & CLIENT_READONLY) && !(cmd->flags & CMD_WRITE) && (cl.myself->flags & NODE_SLAVE) &&
            cl.myself->master == owner)
            continue;
        if (owner == cl.myself || cl.importing_from[slot]) continue;
        if (!owner) snprintf(err, size, "CLUSTERDOWN Hash slot not served");
        else snprintf(err, size, "MOVED %d %s:%d", slot, cluster_endpoint(owner), owner->port);
        found = 1;
    }
    if (idx != idx_stack) zfree(idx);
    return found;
}

void cluster_redirect_blocked_clients(void) {
    for (client *c = server.clients; c; c = c->next) {
        if (!(c->flags & CLIENT_BLOCKED)) continue;
        char err[128];
        if (blocked_redirect(c, err, sizeof(err))) blocking_end_with_error(c, err);
    }
}

/* ---- scripts ------------------------------------------------------------ */

/* The slot of the request's first key (its keys were checked at
 * dispatch, so they share it), or -1. */
static int first_key_slot(const command *cmd, int argc, kstr *argv, int *cross) {
    int idx_stack[16];
    int *idx = argc <= 16 ? idx_stack : zmalloc(sizeof(int) * (size_t)argc);
    int n = command_get_keys(cmd, argc, argv, idx, argc), slot = -1;
    *cross = 0;
    for (int j = 0; j < n; j++) {
        int s = (int)key_hash_slot(argv[idx[j]], kstr_len(argv[idx[j]]));
        if (slot == -1) slot = s;
        else if (s != slot) *cross = 1;
    }
    if (idx != idx_stack) zfree(idx);
    return slot;
}

int cluster_request_slot(client *c) {
    int cross;
    return c->cmd ? first_key_slot(c->cmd, c->argc, c->argv, &cross) : -1;
}

const char *cluster_script_check(client *caller, const command *cmd, int argc, kstr *argv, int *slot,
                                 int allow_cross_slot) {
    if (!cluster_enabled_cfg || (caller->flags & (CLIENT_FAKE | CLIENT_MASTER))) return NULL;
    int cross, s = first_key_slot(cmd, argc, argv, &cross);
    if (!cl.ok) {
        if (!cluster_allow_reads_when_down) return "Script attempted to execute a command while the cluster is down";
        if (cmd->flags & CMD_WRITE)
            return "Script attempted to execute a write command while the cluster is down and readonly";
    }
    if (s == -1) return NULL;
    cnode *owner = cl.slots[s];
    int local = owner == cl.myself || (cl.importing_from[s] && (caller->flags & CLIENT_ASKING)) ||
                ((caller->flags & CLIENT_READONLY) && !(cmd->flags & CMD_WRITE) &&
                 (cl.myself->flags & NODE_SLAVE) && cl.myself->master == owner);
    if (cross || !local) return "Script attempted to access a non local key in a cluster node";
    if (allow_cross_slot) return NULL;
    if (*slot == -1) *slot = s;
    else if (*slot != s) return "Script attempted to access keys that do not hash to the same slot";
    return NULL;
}
