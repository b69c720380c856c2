/*
 * propagate: collects the effects of each top-level call and hands them to
 * the listeners (see propagate.h for the contract).
 *
 * Why frames: EXEC runs its queued commands through command_call, so calls
 * nest. Each call has a frame holding the dirty counter at its start, the
 * rewrite its handler asked for and its extra operations. A call that ran
 * nested calls (EXEC) is not propagated itself: the commands it ran are. The operations of all the
 * frames of one top-level call go into one unit, flushed when the
 * outermost frame ends: a single operation as is, more inside MULTI/EXEC.
 *
 * The common case (one command, one operation, nothing else in the unit)
 * hands c->argv to the listeners without copying it.
 */
#include "core/propagate.h"

#include <stdarg.h>
#include <string.h>

#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/client.h"

typedef struct op {
    int dbid, argc;
    kstr *argv;
} op;

typedef struct op_list {
    op *v;
    int n, cap;
} op_list;

typedef struct frame {
    client *c;
    long long dirty_start;
    int nested;      /* ran other calls (EXEC): propagates only those */
    int forced;      /* propagate_force: goes out whatever the counter says */
    op rewrite;      /* argc 0: none */
    op_list also;
} frame;

#define MAX_LISTENERS 8
#define MAX_DEPTH 8

static struct {
    propagate_listener_fn *fn[MAX_LISTENERS];
    void *priv[MAX_LISTENERS];
    int nlisteners;
    int disabled;
    frame frames[MAX_DEPTH];
    int depth;
    op_list unit;
} P;

void propagate_add_listener(propagate_listener_fn *fn, void *priv) {
    if (P.nlisteners == MAX_LISTENERS) return;
    P.fn[P.nlisteners] = fn;
    P.priv[P.nlisteners] = priv;
    P.nlisteners++;
}

void propagate_remove_listener(propagate_listener_fn *fn, void *priv) {
    for (int i = 0; i < P.nlisteners; i++) {
        if (P.fn[i] != fn || P.priv[i] != priv) continue;
        memmove(P.fn + i, P.fn + i + 1, (size_t)(P.nlisteners - i - 1) * sizeof(P.fn[0]));
        memmove(P.priv + i, P.priv + i + 1, (size_t)(P.nlisteners - i - 1) * sizeof(P.priv[0]));
        P.nlisteners--;
        return;
    }
}

void propagate_set_enabled(int on) { P.disabled = !on; }

static int active(void) { return P.nlisteners > 0 && !P.disabled; }

int propagate_wanted(void) { return active(); }

static void emit(int dbid, int argc, kstr *argv) {
    for (int i = 0; i < P.nlisteners; i++) P.fn[i](dbid, argc, argv, P.priv[i]);
}

static void op_free(op *o) {
    for (int i = 0; i < o->argc; i++) kstr_free(o->argv[i]);
    zfree(o->argv);
    o->argv = NULL;
    o->argc = 0;
}

static op op_take(int dbid, int argc, kstr *argv) {
    op o = {dbid, argc, zmalloc(sizeof(kstr) * (size_t)(argc ? argc : 1))};
    memcpy(o.argv, argv, sizeof(kstr) * (size_t)argc);
    return o;
}

static op op_copy(int dbid, int argc, kstr *argv) {
    op o = {dbid, argc, zmalloc(sizeof(kstr) * (size_t)(argc ? argc : 1))};
    for (int i = 0; i < argc; i++) o.argv[i] = kstr_dup(argv[i]);
    return o;
}

static void list_push(op_list *l, op o) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = zrealloc(l->v, sizeof(op) * (size_t)l->cap);
    }
    l->v[l->n++] = o;
}

static void list_clear(op_list *l) {
    for (int i = 0; i < l->n; i++) op_free(&l->v[i]);
    l->n = 0;
}

static void emit_word(int dbid, const char *w) {
    kstr s = kstr_new(w);
    emit(dbid, 1, &s);
    kstr_free(s);
}

static void flush_unit(void) {
    op_list *u = &P.unit;
    if (u->n == 0) return;
    if (active()) {
        /* MULTI carries the first operation's database, so that a SELECT
         * comes before it rather than inside the transaction. */
        if (u->n > 1) emit_word(u->v[0].dbid, "MULTI");
        for (int i = 0; i < u->n; i++) emit(u->v[i].dbid, u->v[i].argc, u->v[i].argv);
        if (u->n > 1) emit_word(-1, "EXEC");
    }
    list_clear(u);
    if (u->cap > 64) {
        zfree(u->v);
        u->v = NULL;
        u->cap = 0;
    }
}

static frame *current(client *c) {
    if (P.depth == 0) return NULL;
    frame *f = &P.frames[P.depth - 1];
    return f->c == c ? f : NULL;
}

void propagate_rewrite(client *c, int argc, kstr *argv) {
    frame *f = current(c);
    if (!f || !active()) {
        for (int i = 0; i < argc; i++) kstr_free(argv[i]);
        return;
    }
    op_free(&f->rewrite);
    f->rewrite = op_take(db_id(c->db), argc, argv);
}

void propagate_also(client *c, int argc, kstr *argv) {
    frame *f = current(c);
    if (!f || !active()) {
        for (int i = 0; i < argc; i++) kstr_free(argv[i]);
        return;
    }
    list_push(&f->also, op_take(db_id(c->db), argc, argv));
}

#define MAX_FMT_ARGS 16
static int build_argv(kstr *argv, const char *fmt, va_list ap) {
    int n = 0;
    for (const char *p = fmt; *p && n < MAX_FMT_ARGS; p++) {
        if (*p == 's') argv[n++] = kstr_new(va_arg(ap, const char *));
        else if (*p == 'k') argv[n++] = kstr_dup(va_arg(ap, kstr));
        else if (*p == 'l') argv[n++] = kstr_from_ll(va_arg(ap, long long));
    }
    return n;
}

void propagate_rewritef(client *c, const char *fmt, ...) {
    if (!current(c) || !active()) return;
    kstr argv[MAX_FMT_ARGS];
    va_list ap;
    va_start(ap, fmt);
    int n = build_argv(argv, fmt, ap);
    va_end(ap);
    propagate_rewrite(c, n, argv);
}

void propagate_alsof(client *c, const char *fmt, ...) {
    if (!current(c) || !active()) return;
    kstr argv[MAX_FMT_ARGS];
    va_list ap;
    va_start(ap, fmt);
    int n = build_argv(argv, fmt, ap);
    va_end(ap);
    propagate_also(c, n, argv);
}

void propagate_server_op(int dbid, int argc, kstr *argv) {
    if (!active()) {
        for (int i = 0; i < argc; i++) kstr_free(argv[i]);
        return;
    }
    if (P.depth > 0) {
        list_push(&P.unit, op_take(dbid, argc, argv));
        return;
    }
    emit(dbid, argc, argv);
    for (int i = 0; i < argc; i++) kstr_free(argv[i]);
}

void propagate_deletion(int dbid, const char *key, size_t klen, int lazy) {
    if (!active()) return;
    kstr argv[2] = {kstr_new(lazy ? "UNLINK" : "DEL"), kstr_new_len(key, klen)};
    propagate_server_op(dbid, 2, argv);
}

void propagate_call_begin(client *c) {
    if (P.depth == MAX_DEPTH) {
        P.depth++; /* counted, not tracked: deeper than any real nesting */
        return;
    }
    frame *f = &P.frames[P.depth++];
    f->c = c;
    f->dirty_start = server_dirty;
    f->nested = 0;
    f->forced = 0;
    f->rewrite.argc = 0;
    f->rewrite.argv = NULL;
    f->also.n = 0;
}

/* The frame's own operations into the unit: the rewrite or the command as
 * sent, then the extras. When nothing else is queued and nothing follows,
 * the top-level call is emitted straight from c->argv. */
static void collect(frame *f, int dbid, int top) {
    client *c = f->c;
    int direct = top && P.unit.n == 0 && f->also.n == 0;
    if (f->rewrite.argc) {
        if (direct) {
            emit(f->rewrite.dbid, f->rewrite.argc, f->rewrite.argv);
            op_free(&f->rewrite);
        } else {
            list_push(&P.unit, f->rewrite);
            f->rewrite.argc = 0;
            f->rewrite.argv = NULL;
        }
    } else if (direct) {
        emit(dbid, c->argc, c->argv);
    } else {
        list_push(&P.unit, op_copy(dbid, c->argc, c->argv));
    }
    for (int i = 0; i < f->also.n; i++) list_push(&P.unit, f->also.v[i]);
    f->also.n = 0;
}

/* Did the call change the dataset? The dirty counter grew; or it went
 * down, which only a save does (it resets the counter), so a write
 * command that saved (FLUSHALL with save points) counts as a change.
 * Only write (and may_replicate) commands, or a handler's rewrite. */
static int changed(const frame *f, const client *c) {
    const command *cmd = c->lastcmd ? c->lastcmd : c->cmd;
    /* A read command that bumped the counter (fields of a hash expiring
     * on HGET) is not a write: what it removed went out as its own
     * operation. PFCOUNT (may_replicate) does write its cache. */
    if (!f->rewrite.argc && !(cmd && (cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)))) return 0;
    if (f->forced || server_dirty > f->dirty_start) return 1;
    return server_dirty < f->dirty_start && cmd && (cmd->flags & CMD_WRITE);
}

void propagate_force(client *c) {
    (void)c;
    if (P.depth > 0 && P.depth <= MAX_DEPTH) P.frames[P.depth - 1].forced = 1;
}

void propagate_call_end(client *c) {
    if (P.depth > MAX_DEPTH) {
        P.depth--;
        return;
    }
    frame *f = &P.frames[--P.depth];
    if (P.depth > 0) P.frames[P.depth - 1].nested = 1;
    if (!f->nested && changed(f, c) && active() && c->argc > 0) collect(f, c->db ? db_id(c->db) : 0, P.depth == 0);
    op_free(&f->rewrite);
    list_clear(&f->also);
    if (f->also.cap > 16) {
        zfree(f->also.v);
        f->also.v = NULL;
        f->also.cap = 0;
    }
    if (P.depth == 0) flush_unit();
}
