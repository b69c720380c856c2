/* See multi.h for the design. */
#include "acl/acl.h"
#include "core/multi.h"

#include <string.h>

#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

/* A watched key: the clients watching it, in one table per database. */
typedef struct wkey {
    kstr key;
    int dbid;
    client **clients;
    int n, cap;
} wkey;

typedef struct watched {
    wkey *wk;
    int expired; /* the key was already logically expired when watched */
} watched;

typedef struct queued {
    command *cmd;
    kstr *argv;
    int argc;
} queued;

/* A client's transaction and watches, allocated on first use. */
typedef struct mstate {
    queued *cmds;
    int ncmds, capcmds;
    uint64_t flags; /* union of the queued commands' flags */
    watched *w;
    int nw, capw;
} mstate;

static void exec_command(client *c);

static hashtable **tables;
static int ntables;
static long nwatched; /* (client, key) pairs: 0 means nothing to touch */

static mstate *state_of(client *c) {
    if (!c->mstate) c->mstate = zcalloc(sizeof(mstate));
    return c->mstate;
}

static void *grow(void *p, int *cap, size_t elem) {
    *cap = *cap ? *cap * 2 : 4;
    return zrealloc(p, (size_t)*cap * elem);
}

/* ---- the queue ---- */

int multi_should_queue(const client *c, const command *cmd) {
    if (!(c->flags & CLIENT_MULTI)) return 0;
    static const char *const own[] = {"exec", "discard", "multi", "watch", "quit", "reset", NULL};
    for (int i = 0; own[i]; i++)
        if (!strcmp(cmd->name, own[i])) return 0;
    return 1;
}

void multi_queue(client *c, command *cmd) {
    mstate *ms = state_of(c);
    if (ms->ncmds == ms->capcmds) ms->cmds = grow(ms->cmds, &ms->capcmds, sizeof(queued));
    queued *q = &ms->cmds[ms->ncmds++];
    q->cmd = cmd;
    q->argv = c->argv;
    q->argc = c->argc;
    ms->flags |= cmd->flags;
    c->argv = NULL;
    c->argc = 0;
    reply_status(c, "QUEUED");
}

void multi_note_rejection(client *c) {
    if (c->flags & CLIENT_MULTI) c->flags |= CLIENT_DIRTY_EXEC;
}

uint64_t multi_queued_flags(const client *c) {
    const mstate *ms = c->mstate;
    return ms ? ms->flags : 0;
}

static void free_queue(client *c) {
    mstate *ms = c->mstate;
    if (ms) {
        for (int i = 0; i < ms->ncmds; i++) {
            for (int j = 0; j < ms->cmds[i].argc; j++) kstr_free(ms->cmds[i].argv[j]);
            zfree(ms->cmds[i].argv);
        }
        zfree(ms->cmds);
        ms->cmds = NULL;
        ms->ncmds = ms->capcmds = 0;
        ms->flags = 0;
    }
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_EXEC | CLIENT_DIRTY_CAS);
}

/* ---- watches ---- */

static const void *wkey_key(const void *element, size_t *len) {
    const wkey *wk = element;
    *len = kstr_len(wk->key);
    return wk->key;
}

static const hashtable_type wkey_table_type = {.element_key = wkey_key};

static hashtable *table_for(int dbid) {
    if (!tables) {
        ntables = db_count();
        tables = zcalloc(sizeof(hashtable *) * (size_t)ntables);
    }
    if (!tables[dbid]) tables[dbid] = hashtable_create(&wkey_table_type);
    return tables[dbid];
}

static wkey *find_wkey(int dbid, const char *key, size_t klen) {
    hashtable *t = tables && dbid >= 0 && dbid < ntables ? tables[dbid] : NULL;
    void *found;
    if (!t || !hashtable_find(t, key, klen, &found)) return NULL;
    return found;
}

static wkey *get_wkey(int dbid, const kstr key) {
    wkey *wk = find_wkey(dbid, key, kstr_len(key));
    if (wk) return wk;
    wk = zcalloc(sizeof(*wk));
    wk->key = kstr_dup(key);
    wk->dbid = dbid;
    hashtable_add(table_for(dbid), wk);
    return wk;
}

/* The key's entry, expired or not, without side effects. */
static entry *peek(db *d, const kstr key) {
    return db_lookup(d, key, kstr_len(key), LOOKUP_NOEXPIRE | LOOKUP_NOSTATS | LOOKUP_NOTOUCH);
}

static int watching(const mstate *ms, const wkey *wk) {
    for (int i = 0; i < ms->nw; i++)
        if (ms->w[i].wk == wk) return 1;
    return 0;
}

static void watch_key(client *c, const kstr key) {
    mstate *ms = state_of(c);
    wkey *wk = get_wkey(db_id(c->db), key);
    if (watching(ms, wk)) return;
    if (wk->n == wk->cap) wk->clients = grow(wk->clients, &wk->cap, sizeof(client *));
    wk->clients[wk->n++] = c;
    if (ms->nw == ms->capw) ms->w = grow(ms->w, &ms->capw, sizeof(watched));
    entry *e = peek(c->db, key);
    ms->w[ms->nw].wk = wk;
    ms->w[ms->nw].expired = e && entry_is_expired(e, db_now_ms());
    ms->nw++;
    nwatched++;
}

static void unwatch_all(client *c) {
    mstate *ms = c->mstate;
    if (!ms) return;
    for (int i = 0; i < ms->nw; i++) {
        wkey *wk = ms->w[i].wk;
        for (int j = 0; j < wk->n; j++) {
            if (wk->clients[j] != c) continue;
            wk->clients[j] = wk->clients[--wk->n];
            break;
        }
        if (wk->n == 0) {
            hashtable_pop(tables[wk->dbid], wk->key, kstr_len(wk->key), NULL);
            kstr_free(wk->key);
            zfree(wk->clients);
            zfree(wk);
        }
        nwatched--;
    }
    zfree(ms->w);
    ms->w = NULL;
    ms->nw = ms->capw = 0;
}

static void touch(wkey *wk, int by_expiry) {
    for (int i = 0; i < wk->n; i++) {
        client *c = wk->clients[i];
        if (by_expiry) {
            const mstate *ms = c->mstate;
            int skip = 0;
            for (int j = 0; j < ms->nw; j++)
                if (ms->w[j].wk == wk) skip = ms->w[j].expired;
            if (skip) continue;
        }
        c->flags |= CLIENT_DIRTY_CAS;
    }
}

void multi_touch_key(db *d, const char *key, size_t klen) {
    if (!nwatched) return;
    wkey *wk = find_wkey(db_id(d), key, klen);
    if (wk) touch(wk, 0);
}

void multi_touch_expired_key(db *d, const char *key, size_t klen) {
    if (!nwatched) return;
    wkey *wk = find_wkey(db_id(d), key, klen);
    if (wk) touch(wk, 1);
}

/* Present and not logically expired: a stale key flushed or swapped away
 * changes nothing a reader could have seen. */
static int key_exists(db *d, const wkey *wk) {
    entry *e = d ? peek(d, wk->key) : NULL;
    return e && !entry_is_expired(e, db_now_ms());
}

/* A watched key that has expired since it was watched (nobody touched it,
 * so no deletion marked the client) changed as far as the client can
 * tell: EXEC must fail, as in Redis. */
static int watched_key_expired(client *c) {
    const mstate *ms = c->mstate;
    for (int i = 0; ms && i < ms->nw; i++) {
        if (ms->w[i].expired) continue;
        const wkey *wk = ms->w[i].wk;
        entry *e = peek(db_get(wk->dbid), wk->key);
        if (e && entry_is_expired(e, db_now_ms())) return 1;
    }
    return 0;
}

void multi_touch_db(db *d, db *other) {
    if (!nwatched) return;
    for (client *c = server.clients; c; c = c->next) {
        mstate *ms = c->mstate;
        if (!ms) continue;
        for (int i = 0; i < ms->nw; i++) {
            const wkey *wk = ms->w[i].wk;
            if (wk->dbid != db_id(d) && !(other && wk->dbid == db_id(other))) continue;
            if (key_exists(d, wk) || key_exists(other, wk)) {
                c->flags |= CLIENT_DIRTY_CAS;
                continue;
            }
            /* Untouched, but SWAPDB may bring in a stale key under that
             * name: it expired before the client could see it, so EXEC's
             * check for keys expired since WATCH must not count it. */
            db *next = !other ? NULL : wk->dbid == db_id(d) ? other : d;
            entry *e = next ? peek(next, wk->key) : NULL;
            if (e) ms->w[i].expired = 1;
        }
    }
}

void multi_client_gone(client *c) {
    free_queue(c);
    unwatch_all(c);
    zfree(c->mstate);
    c->mstate = NULL;
}

/* ---- commands ---- */

static void multi_command(client *c) {
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    reply_ok(c);
}

static void discard_command(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR DISCARD without MULTI");
        return;
    }
    free_queue(c);
    unwatch_all(c);
    reply_ok(c);
}

/* Run the queue with c->argv pointing at each queued command in turn;
 * CLIENT_MULTI stays set meanwhile, which tells blocking commands not to
 * wait. */
static void run_queue(client *c) {
    mstate *ms = c->mstate;
    kstr *exec_argv = c->argv;
    int exec_argc = c->argc;
    command *exec_cmd = c->cmd;
    int n = ms ? ms->ncmds : 0;
    reply_array_len(c, n);
    for (int i = 0; i < n; i++) {
        queued *q = &ms->cmds[i];
        c->argv = q->argv;
        c->argc = q->argc;
        c->cmd = q->cmd;
        kstr aclerr = NULL;
        if (!acl_check_queued(c, q->cmd, q->argc, q->argv, &aclerr)) {
            /* The user's rules changed since MULTI queued it (Redis 7.0). */
            reply_error(c, aclerr);
            kstr_free(aclerr);
            continue;
        }
        command_call(c, q->cmd);
        /* The command may have rewritten its argv (none does today); keep
         * whatever it left so that free_queue frees the right strings. */
        q->argv = c->argv;
        q->argc = c->argc;
    }
    c->argv = exec_argv;
    c->argc = exec_argc;
    c->cmd = exec_cmd;
}

int multi_is_exec(const command *cmd) { return cmd->proc == exec_command; }

void multi_abort_exec(client *c, const char *why) {
    reply_errorf(c, "EXECABORT Transaction discarded because of: %s", why);
    free_queue(c);
    unwatch_all(c);
}

void multi_discard(client *c) {
    free_queue(c);
    unwatch_all(c);
}

void multi_foreach_queued(const client *c, multi_queued_fn *fn, void *priv) {
    const mstate *ms = c->mstate;
    for (int i = 0; ms && i < ms->ncmds; i++)
        if (!fn(ms->cmds[i].cmd, ms->cmds[i].argc, ms->cmds[i].argv, priv)) return;
}

static void exec_command(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "ERR EXEC without MULTI");
        return;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        reply_error(c, "EXECABORT Transaction discarded because of previous errors.");
    } else if ((c->flags & CLIENT_DIRTY_CAS) || watched_key_expired(c)) {
        reply_null_array(c);
    } else {
        /* Watches end before the queue runs: the transaction's own writes
         * must not mark it. */
        unwatch_all(c);
        run_queue(c);
    }
    free_queue(c);
    unwatch_all(c);
}

static void watch_command(client *c) {
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int i = 1; i < c->argc; i++) watch_key(c, c->argv[i]);
    reply_ok(c);
}

static void unwatch_command(client *c) {
    unwatch_all(c);
    c->flags &= ~CLIENT_DIRTY_CAS;
    reply_ok(c);
}

command multi_commands[] = {
    {"multi", multi_command, 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transactions", "1.2.0", "Start a transaction.", NULL},
    {"exec", exec_command, 1, "noscript loading stale skip_slowlog", 0, 0, 0, "transactions", "1.2.0", "Execute all commands issued after MULTI.", NULL},
    {"discard", discard_command, 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transactions", "2.0.0", "Discard all commands issued after MULTI.", NULL},
    {"watch", watch_command, -2, "noscript loading stale fast allow_busy", 1, -1, 1, "transactions", "2.2.0", "Watch keys to determine execution of the MULTI/EXEC block.", NULL},
    {"unwatch", unwatch_command, 1, "noscript loading stale fast allow_busy", 0, 0, 0, "transactions", "2.2.0", "Forget about all watched keys.", NULL},
    {0},
};
