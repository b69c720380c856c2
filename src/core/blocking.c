/*
 * blocking: clients waiting on keys. Interface and overall design in
 * blocking.h (blocked commands are re-run when a key is signalled).
 *
 * Data structures:
 *   - per database, a table from key to a "bkey": the FIFO of waiters on
 *     that key (a waiter is one (client, key) pair; a client blocked on
 *     three keys has three waiters, one in each FIFO). FIFO order is the
 *     order in which clients blocked, which is the order Redis serves them;
 *   - a list of every blocked client with its deadline, for timeouts;
 *   - the ready list: bkeys signalled since the last blocking_handle_ready.
 *
 * Signals are cheap when nobody waits (one counter test) or when the key
 * has no waiters (one table lookup), because db_on_key_added fires for
 * every new key.
 *
 * Serving a key: its waiters are visited in FIFO order while the key
 * exists; a waiter whose command expects another type (a BLPOP waiter on
 * a key that became a set) is skipped, not served. The expected type comes
 * from the command's group ("list", "sorted-set", "stream"), so the
 * interface did not need a type argument. A re-run either serves the
 * client (it is unblocked) or calls block_on_keys again, which only marks
 * it "still waiting" with its place and original deadline kept.
 *
 * Ready keys are served right after the command that signalled them
 * (blocking_serve_after_command, from dispatch), as Redis does, and again
 * before sleeping. Served clients' pipelined input is processed after the
 * whole ready list has been walked, never from inside the walk, so that
 * their commands cannot touch the FIFOs being iterated: before sleeping
 * (clients served after a command are queued by id, as CLIENT UNBLOCK's
 * are); they may signal more keys, which the outer loop then serves.
 *
 * Timeouts: besides the cron check (hz), a single event-loop timer is
 * armed for the nearest deadline, so a 50 ms timeout fires after about
 * 50 ms rather than at the next cron tick. Finding the next deadline scans
 * the blocked clients, O(blocked) per firing; fine for the thousands of
 * waiters a single server sees.
 */
#include "core/blocking.h"
#include "core/propagate.h"

#include <string.h>

#include "core/command.h"
#include "core/latency.h"
#include "core/slowlog.h"
#include "core/pause.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/eventloop.h"
#include "net/reply.h"

typedef struct bkey bkey;

typedef struct waiter {
    struct waiter *prev, *next; /* in the key's FIFO */
    bkey *bk;
    client *c;
} waiter;

struct bkey {
    kstr key;
    int dbid;
    waiter *head, *tail;
    int ready;   /* in a ready list */
    int serving; /* its FIFO is being walked */
    bkey *ready_next;
};

typedef struct bstate {
    client *c;
    long long deadline; /* 0 = none */
    struct bstate *prev, *next;
    int reblocked;
    int postponed;      /* waiting for the end of CLIENT PAUSE, not for keys */
    blocking_end_fn *on_end; /* waiting for an event (WAIT), not for keys */
    long long data[2];
    int nwaiters;
    waiter w[];
} bstate;

static hashtable **tables;
static int ntables;
static bstate *blocked_head, *blocked_tail;
static long nblocked, npostponed;
static bkey *ready_head, *ready_tail;
static client *rerun_client;
static long long timer_id = -1, timer_at;
static int in_timer; /* timer_proc re-arms itself: arm_timer stays out */

/* ---- key table ---- */

static const void *bkey_key(const void *element, size_t *len) {
    const bkey *bk = element;
    *len = kstr_len(bk->key);
    return bk->key;
}

static const hashtable_type bkey_table_type = {.element_key = bkey_key};

static hashtable *table_for(int dbid) {
    if (dbid < 0 || dbid >= ntables) return NULL;
    if (!tables[dbid]) tables[dbid] = hashtable_create(&bkey_table_type);
    return tables[dbid];
}

static bkey *find_bkey(int dbid, const char *key, size_t klen) {
    hashtable *t = dbid >= 0 && dbid < ntables ? tables[dbid] : NULL;
    void *found;
    if (!t || !hashtable_find(t, key, klen, &found)) return NULL;
    return found;
}

static bkey *get_bkey(int dbid, const kstr key) {
    bkey *bk = find_bkey(dbid, key, kstr_len(key));
    if (bk) return bk;
    bk = zcalloc(sizeof(*bk));
    bk->key = kstr_dup(key);
    bk->dbid = dbid;
    hashtable_add(table_for(dbid), bk);
    return bk;
}

static void maybe_free_bkey(bkey *bk) {
    if (bk->head || bk->ready || bk->serving) return;
    hashtable_pop(tables[bk->dbid], bk->key, kstr_len(bk->key), NULL);
    kstr_free(bk->key);
    zfree(bk);
}

/* ---- blocking and unblocking ---- */

static void append_waiter(bkey *bk, waiter *w) {
    w->bk = bk;
    w->next = NULL;
    w->prev = bk->tail;
    if (bk->tail) bk->tail->next = w;
    else bk->head = w;
    bk->tail = w;
}

static void remove_waiter(waiter *w) {
    bkey *bk = w->bk;
    if (w->prev) w->prev->next = w->next;
    else bk->head = w->next;
    if (w->next) w->next->prev = w->prev;
    else bk->tail = w->prev;
    maybe_free_bkey(bk);
}

static long long timer_proc(eventloop *el, long long id, void *data);

static void arm_timer(long long deadline) {
    if (!deadline || !server.el || in_timer) return;
    if (timer_id != -1 && timer_at <= deadline) return;
    if (timer_id != -1) ev_del_timer(server.el, timer_id);
    long long delay = deadline - server_mstime();
    timer_at = deadline;
    timer_id = ev_add_timer(server.el, delay > 0 ? delay : 1, timer_proc, NULL);
}

/* A blocked client's state, appended to the list of blocked clients. */
static bstate *new_bstate(client *c, int nkeys) {
    bstate *bs = zcalloc(sizeof(*bs) + sizeof(waiter) * (size_t)nkeys);
    bs->c = c;
    bs->prev = blocked_tail;
    if (blocked_tail) blocked_tail->next = bs;
    else blocked_head = bs;
    blocked_tail = bs;
    nblocked++;
    c->bstate = bs;
    c->flags |= CLIENT_BLOCKED;
    return bs;
}

static void queue_resume(client *c);
static void unblock(client *c);

void block_for_event(client *c, long long deadline_ms, blocking_end_fn *on_end, long long d0, long long d1) {
    bstate *bs = new_bstate(c, 0);
    bs->deadline = deadline_ms;
    bs->on_end = on_end;
    bs->data[0] = d0;
    bs->data[1] = d1;
    arm_timer(deadline_ms);
}

void blocking_release(client *c) {
    bstate *bs = c->bstate;
    if (!(c->flags & CLIENT_BLOCKED) || !bs || !bs->on_end) return;
    bs->on_end(c, bs->data[0], bs->data[1]);
    unblock(c);
    queue_resume(c);
}

void blocking_foreach_event(blocking_end_fn *fn) {
    bstate *bs = blocked_head;
    while (bs) {
        bstate *next = bs->next; /* fn may release bs's client */
        if (bs->on_end) fn(bs->c, bs->data[0], bs->data[1]);
        bs = next;
    }
}

void blocking_foreach_event_of(blocking_end_fn *kind, blocking_end_fn *fn) {
    bstate *bs = blocked_head;
    while (bs) {
        bstate *next = bs->next; /* fn may release bs's client */
        if (bs->on_end == kind) fn(bs->c, bs->data[0], bs->data[1]);
        bs = next;
    }
}

void block_on_keys(client *c, kstr *keys, int nkeys, long long deadline_ms) {
    if (c == rerun_client) {
        ((bstate *)c->bstate)->reblocked = 1;
        return;
    }
    /* A client without a connection (scripts, internal execution) or
     * inside a transaction cannot wait: the command times out at once, as
     * in Redis. */
    if (c->flags & (CLIENT_FAKE | CLIENT_MULTI)) {
        reply_null_array(c);
        return;
    }
    bstate *bs = new_bstate(c, nkeys);
    bs->deadline = deadline_ms;
    for (int i = 0; i < nkeys; i++) {
        bkey *bk = get_bkey(db_id(c->db), keys[i]);
        /* A key named twice: our own waiter is already its tail. */
        if (bk->tail && bk->tail->c == c) continue;
        waiter *w = &bs->w[bs->nwaiters++];
        w->c = c;
        append_waiter(bk, w);
    }
    arm_timer(deadline_ms);
}

void blocking_postpone(client *c) {
    bstate *bs = new_bstate(c, 0);
    bs->postponed = 1;
    npostponed++;
}

int blocking_is_postponed(const client *c) {
    const bstate *bs = c->bstate;
    return bs && bs->postponed;
}

static void unblock(client *c) {
    bstate *bs = c->bstate;
    if (!bs) return;
    for (int i = 0; i < bs->nwaiters; i++) remove_waiter(&bs->w[i]);
    if (bs->prev) bs->prev->next = bs->next;
    else blocked_head = bs->next;
    if (bs->next) bs->next->prev = bs->prev;
    else blocked_tail = bs->prev;
    if (bs->postponed) npostponed--;
    zfree(bs);
    nblocked--;
    c->bstate = NULL;
    c->flags &= ~CLIENT_BLOCKED;
}

/* Unblocked after a reply: drop the blocked command, then run whatever
 * the client pipelined behind it. */
static void resume(client *c) {
    client_free_argv(c);
    client_process_input(c);
}

int blocking_is_rerun(client *c) { return c == rerun_client; }

void blocking_client_gone(client *c) { unblock(c); }

long blocking_count(void) { return nblocked; }

/* ---- signalling and serving ---- */

void blocking_signal_key(db *d, const char *key, size_t klen) {
    if (!nblocked) return;
    bkey *bk = find_bkey(db_id(d), key, klen);
    if (!bk || bk->ready) return;
    bk->ready = 1;
    bk->ready_next = NULL;
    if (ready_tail) ready_tail->ready_next = bk;
    else ready_head = bk;
    ready_tail = bk;
}

void blocking_db_swapped(int a, int b) {
    for (bstate *bs = blocked_head; bs; bs = bs->next) {
        for (int i = 0; i < bs->nwaiters && !bs->postponed; i++) {
            bkey *bk = bs->w[i].bk;
            if (!bk || (bk->dbid != a && bk->dbid != b)) continue;
            db *d = db_get(bk->dbid);
            if (db_find(d, bk->key, kstr_len(bk->key))) blocking_signal_key(d, bk->key, kstr_len(bk->key));
        }
    }
}

static void on_key_added(db *d, const entry *e) {
    if (!nblocked) return;
    size_t klen;
    const char *key = entry_key(e, &klen);
    blocking_signal_key(d, key, klen);
}

/* Every key of the database may have changed: let each waiter look. */
static void on_db_emptied(db *d) {
    if (!nblocked || db_id(d) >= ntables || !tables[db_id(d)]) return;
    hashtable_iterator it;
    void *el;
    hashtable_iter_init(&it, tables[db_id(d)], 0);
    while (hashtable_iter_next(&it, &el)) {
        bkey *bk = el;
        blocking_signal_key(d, bk->key, kstr_len(bk->key));
    }
    hashtable_iter_release(&it);
}

/* The type a blocked command waits for, from its group; -1 = any. */
static int expected_type(const client *c) {
    const char *g = c->cmd ? c->cmd->group : NULL;
    if (!g) return -1;
    if (!strcmp(g, "list")) return TYPE_LIST;
    if (!strcmp(g, "sorted-set")) return TYPE_ZSET;
    if (!strcmp(g, "stream")) return TYPE_STREAM;
    return -1;
}

/* Re-run c's command; returns 1 if it was served (and is unblocked). */
static int rerun(client *c) {
    bstate *bs = c->bstate;
    bs->reblocked = 0;
    client *saved = server.current_client;
    server.current_client = c;
    rerun_client = c;
    c->flags |= CLIENT_EXECUTING;
    db_set_command_time(server_mstime());
    long long start = ustime();
    propagate_call_begin(c);
    c->cmd->proc(c);
    propagate_call_end(c);
    long long ran_us = ustime() - start;
    c->flags &= ~CLIENT_EXECUTING;
    rerun_client = NULL;
    server.current_client = saved;
    if (bs->reblocked) return 0;
    unblock(c); /* dispatch already counted the call when it blocked */
    slowlog_command_done(c, c->cmd, ran_us);
    latency_add_sample("command-unblocking", ran_us / 1000);
    return 1;
}

typedef struct client_vec {
    client **v;
    size_t n, cap;
} client_vec;

static void vec_push(client_vec *cv, client *c) {
    if (cv->n == cv->cap) {
        cv->cap = cv->cap ? cv->cap * 2 : 8;
        cv->v = zrealloc(cv->v, cv->cap * sizeof(client *));
    }
    cv->v[cv->n++] = c;
}

/* XREADGROUP waits on a group of a stream: when the key is deleted or
 * replaced, the group is gone and the wait ends with an error (its
 * re-run says which), as in Redis 7.0; other commands keep waiting for
 * the key to come back. */
static int ends_when_key_goes(const client *c) { return c->cmd && !strcmp(c->cmd->name, "xreadgroup"); }

static void serve_key(bkey *bk, client_vec *served) {
    db *d = db_get(bk->dbid);
    waiter *w = bk->head;
    while (w) {
        entry *e = db_lookup(d, bk->key, kstr_len(bk->key), LOOKUP_NOSTATS | LOOKUP_NOTOUCH);
        waiter *next = w->next;
        client *c = w->c;
        int want = expected_type(c);
        int usable = e && (want < 0 || entry_type(e) == want);
        if ((usable || ends_when_key_goes(c)) && rerun(c)) vec_push(served, c);
        w = next;
    }
}

/* ---- CLIENT PAUSE and CLIENT UNBLOCK ---- */

/* Clients unblocked by CLIENT UNBLOCK, by id: their pipelines are resumed
 * here, before sleeping, not inside the CLIENT UNBLOCK that freed them
 * (ids, because a client may disconnect in between). */
static uint64_t *unblocked_ids;
static size_t n_unblocked, cap_unblocked;

static void queue_resume(client *c) {
    if (n_unblocked == cap_unblocked) {
        cap_unblocked = cap_unblocked ? cap_unblocked * 2 : 8;
        unblocked_ids = zrealloc(unblocked_ids, cap_unblocked * sizeof(*unblocked_ids));
    }
    unblocked_ids[n_unblocked++] = c->id;
}

void blocking_unblock_all(const char *err) {
    bstate *bs = blocked_head;
    while (bs) {
        bstate *next = bs->next;
        if (!bs->postponed) {
            client *c = bs->c;
            reply_error(c, err);
            unblock(c);
            queue_resume(c);
        }
        bs = next;
    }
}

int blocking_unblock(client *c, int with_error) {
    bstate *bs = c->bstate;
    /* A postponed command expects no timeout and no error: only the end
     * of the pause releases it. */
    if (!(c->flags & CLIENT_BLOCKED) || !bs || bs->postponed) return 0;
    if (with_error) reply_error(c, "UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else if (bs->on_end) bs->on_end(c, bs->data[0], bs->data[1]);
    else reply_null_array(c);
    unblock(c);
    queue_resume(c);
    return 1;
}

int blocking_end_with_error(client *c, const char *err) {
    bstate *bs = c->bstate;
    if (!(c->flags & CLIENT_BLOCKED) || !bs || bs->postponed) return 0;
    reply_error(c, err);
    unblock(c);
    queue_resume(c);
    return 1;
}

/* Serve every signalled key, in signal order, each to its clients in the
 * order they blocked; then hand the served clients to after_serve. */
static void serve_ready_keys(void (*after_serve)(client *)) {
    if (!ready_head) return;
    /* Now, not the start of the command that signalled (an EXEC may have
     * slept): a key that expired meanwhile serves nobody. */
    server_update_cached_time();
    db_set_command_time(server_mstime());
    while (ready_head) {
        bkey *bk = ready_head;
        ready_head = ready_tail = NULL;
        client_vec served = {0};
        while (bk) {
            bkey *next = bk->ready_next;
            bk->ready = 0;
            bk->serving = 1;
            serve_key(bk, &served);
            bk->serving = 0;
            maybe_free_bkey(bk);
            bk = next;
        }
        for (size_t i = 0; i < served.n; i++) after_serve(served.v[i]);
        zfree(served.v);
    }
}

void blocking_serve_after_command(void) {
    static int serving;
    if (!ready_head || serving) return;
    serving = 1;
    serve_ready_keys(queue_resume);
    serving = 0;
}

static void resume_unblocked(void) {
    for (size_t i = 0; i < n_unblocked; i++) {
        client *c = client_by_id(unblocked_ids[i]);
        if (c && !(c->flags & CLIENT_BLOCKED)) resume(c);
    }
    n_unblocked = 0;
}

/* The pause is over: run every postponed command, in the order the
 * clients were postponed. A command may be postponed again (a new pause
 * started meanwhile) or block on keys; both append to the list, which is
 * why the clients are collected first. */
static void release_postponed(void) {
    client_vec v = {0};
    for (bstate *bs = blocked_head; bs; bs = bs->next)
        if (bs->postponed) vec_push(&v, bs->c);
    for (size_t i = 0; i < v.n; i++) {
        unblock(v.v[i]);
        client_run_postponed(v.v[i]);
    }
    zfree(v.v);
}

void blocking_handle_ready(void) {
    if (n_unblocked) resume_unblocked();
    if (npostponed && !pause_active()) release_postponed();
    serve_ready_keys(resume);
    if (n_unblocked) resume_unblocked(); /* served meanwhile, after a command */
}

/* ---- timeouts ---- */

static void expire_timeouts(void) {
    long long now = server_mstime();
    bstate *bs = blocked_head;
    while (bs) {
        bstate *next = bs->next;
        if (bs->deadline && bs->deadline <= now) {
            client *c = bs->c;
            if (bs->on_end) bs->on_end(c, bs->data[0], bs->data[1]);
            else reply_null_array(c);
            unblock(c);
            resume(c);
            /* resume may block clients again (appended at the tail), never
             * free one, so next is still valid. */
        }
        bs = next;
    }
}

static long long nearest_deadline(void) {
    long long best = 0;
    for (bstate *bs = blocked_head; bs; bs = bs->next)
        if (bs->deadline && (!best || bs->deadline < best)) best = bs->deadline;
    return best;
}

static long long timer_proc(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    server_update_cached_time();
    in_timer = 1;
    expire_timeouts();
    in_timer = 0;
    long long next = nearest_deadline();
    if (!next) {
        timer_id = -1;
        return -1;
    }
    timer_at = next;
    long long delay = next - server_mstime();
    return delay > 0 ? delay : 1;
}

void blocking_cron(void) {
    if (nblocked) expire_timeouts();
}

void blocking_init(void) {
    ntables = db_count();
    tables = zcalloc(sizeof(hashtable *) * (size_t)(ntables > 0 ? ntables : 1));
    db_on_key_added = on_key_added;
    db_on_key_removed = on_key_added;
    db_on_emptied = on_db_emptied;
}
