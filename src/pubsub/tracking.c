/*
 * tracking: see tracking.h for what it does.
 *
 * Structures and costs.
 *   - Tracking table: hash table key -> record {key, ids of the clients
 *     that read it}. Ids rather than pointers, so a client that goes away
 *     costs nothing here: its id is skipped when the key next changes. A
 *     read adds the id if absent (a scan of the record's ids, which is
 *     short: the clients that read that key since it last changed). A
 *     change is one lookup; nothing when the key is not tracked.
 *   - BCAST prefixes: an array of prefix records {prefix, clients, keys
 *     changed since the last broadcast}. A change scans the prefixes
 *     (there are few: one per distinct prefix registered by any client);
 *     the batch is sorted and deduplicated once per event-loop iteration.
 *   - Invalidations for the client whose own command changed the key are
 *     held until after its reply (a push must not split a reply).
 */
#include "pubsub/tracking.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define T_ON (1 << 0)
#define T_BCAST (1 << 1)
#define T_OPTIN (1 << 2)
#define T_OPTOUT (1 << 3)
#define T_NOLOOP (1 << 4)
#define T_CACHING (1 << 5)
#define T_BROKEN_REDIR (1 << 6)

#define INVALIDATE_CHANNEL "__redis__:invalidate"

long long tracking_table_max_keys = 1000000;

typedef struct tstate {
    int flags;
    uint64_t redirect;
    kstr *prefixes;
    size_t nprefixes;
} tstate;

typedef struct trec {
    kstr key;
    uint64_t *ids;
    size_t n, cap;
} trec;

typedef struct pending_key {
    kstr key;
    client *modifier;
} pending_key;

typedef struct bprefix {
    kstr prefix;
    client **clients;
    size_t nclients, ccap;
    pending_key *keys;
    size_t nkeys, kcap;
} bprefix;

typedef struct deferred {
    uint64_t id;
    kstr key;   /* NULL: a flush (null invalidation) */
} deferred;

static const void *trec_key(const void *e, size_t *len) {
    const trec *r = e;
    *len = kstr_len(r->key);
    return r->key;
}
static const hashtable_type trec_type = {trec_key, NULL, NULL};

static hashtable *table;
static size_t total_items;
static bprefix **bprefixes;
static size_t nbprefixes, bpcap;
static deferred *dq;
static size_t ndq, dqcap;
static unsigned long nclients_tracking;
static int executing; /* command_call nesting depth */
static int script_did_read; /* the running script called a read-only command */

static tstate *state(const client *c) { return c->tracking; }
static int tracking_on(const client *c) { return c->tracking && (state(c)->flags & T_ON); }

/* ---- sending ---------------------------------------------------------- */

/* The client that receives c's invalidations (c itself, or its redirect
 * target), or NULL if none can receive them; *redirected tells which. */
static client *invalidation_receiver(client *c, int *redirected) {
    tstate *t = state(c);
    *redirected = 0;
    if (t->redirect) {
        client *r = client_by_id(t->redirect);
        if (!r) {
            t->flags |= T_BROKEN_REDIR;
            if (c->resp > 2) {
                int was = c->flags & CLIENT_PUSHING;
                c->flags |= CLIENT_PUSHING;
                reply_push_len(c, 2);
                reply_bulk(c, "tracking-redir-broken", 21);
                reply_ll(c, (long long)t->redirect);
                if (!was) c->flags &= ~CLIENT_PUSHING;
            }
            return NULL;
        }
        c = r;
        *redirected = 1;
    }
    if (c->resp > 2 || (*redirected && (c->flags & CLIENT_PUBSUB))) return c;
    return NULL;
}

/* Invalidations are pushes: CLIENT REPLY OFF does not silence them. Writes
 * the head of the message ("invalidate" push, or a message on
 * __redis__:invalidate for a RESP2 redirect target) with the receiver
 * flagged as pushing; pushing_end() clears the flag. */
static client *pushing_begin(client *c, int *was) {
    int redirected;
    client *r = invalidation_receiver(c, &redirected);
    if (!r) return NULL;
    *was = r->flags & CLIENT_PUSHING;
    r->flags |= CLIENT_PUSHING;
    if (r->resp > 2) {
        reply_push_len(r, 2);
        reply_bulk(r, "invalidate", 10);
    } else {
        reply_array_len(r, 3);
        reply_bulk(r, "message", 7);
        reply_bulk(r, INVALIDATE_CHANNEL, strlen(INVALIDATE_CHANNEL));
    }
    return r;
}

static void pushing_end(client *r, int was) {
    if (!was) r->flags &= ~CLIENT_PUSHING;
}

static void send_one_key(client *c, const char *key, size_t klen) {
    int was;
    client *r = pushing_begin(c, &was);
    if (!r) return;
    reply_array_len(r, 1);
    reply_bulk(r, key, klen);
    pushing_end(r, was);
}

static void send_null(client *c) {
    int was;
    client *r = pushing_begin(c, &was);
    if (!r) return;
    reply_null(r);
    pushing_end(r, was);
}

static void defer(uint64_t id, const char *key, size_t klen) {
    if (ndq == dqcap) {
        dqcap = dqcap ? dqcap * 2 : 16;
        dq = zrealloc(dq, dqcap * sizeof(deferred));
    }
    dq[ndq].id = id;
    dq[ndq].key = key ? kstr_new_len(key, klen) : NULL;
    ndq++;
}

static void send_deferred(void) {
    for (size_t i = 0; i < ndq; i++) {
        client *c = client_by_id(dq[i].id);
        if (c && tracking_on(c)) {
            if (dq[i].key) send_one_key(c, dq[i].key, kstr_len(dq[i].key));
            else send_null(c);
        }
        kstr_free(dq[i].key);
    }
    ndq = 0;
}

/* Is c's command running (its reply not complete)? Then its own
 * invalidations wait. A blocked command served later runs outside
 * command_call: blocking.c tells. */
static int reply_in_progress(client *c) {
    return c == server.current_client && (executing || blocking_is_rerun(c));
}

/* ---- the tracking table -------------------------------------------------- */

static void free_record(trec *r) {
    total_items -= r->n;
    kstr_free(r->key);
    zfree(r->ids);
    zfree(r);
}

static void invalidate_record(trec *r, client *modifier) {
    for (size_t i = 0; i < r->n; i++) {
        client *target = client_by_id(r->ids[i]);
        if (!target || !tracking_on(target) || (state(target)->flags & T_BCAST)) continue;
        if ((state(target)->flags & T_NOLOOP) && target == modifier) continue;
        if (reply_in_progress(target)) defer(target->id, r->key, kstr_len(r->key));
        else send_one_key(target, r->key, kstr_len(r->key));
    }
}

static void remember_key(client *c, const char *key, size_t klen) {
    if (!table) table = hashtable_create(&trec_type);
    void *found;
    trec *r;
    if (hashtable_find(table, key, klen, &found)) {
        r = found;
        for (size_t i = 0; i < r->n; i++)
            if (r->ids[i] == c->id) return;
    } else {
        r = zcalloc(sizeof(*r));
        r->key = kstr_new_len(key, klen);
        hashtable_add(table, r);
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 2;
        r->ids = zrealloc(r->ids, r->cap * sizeof(uint64_t));
    }
    r->ids[r->n++] = c->id;
    total_items++;
}

/* Over tracking-table-max-keys: invalidate random keys until under it
 * (bounded work per call; the next command continues). */
static void enforce_table_limit(void) {
    if (!table || tracking_table_max_keys <= 0) return;
    for (int effort = 0; effort < 1000 && hashtable_size(table) > (size_t)tracking_table_max_keys; effort++) {
        void *e;
        if (!hashtable_random_element(table, &e)) break;
        trec *r = e;
        invalidate_record(r, NULL);
        hashtable_pop(table, r->key, kstr_len(r->key), &e);
        free_record(r);
    }
}

/* ---- BCAST --------------------------------------------------------------- */

static bprefix *find_bprefix(const char *p, size_t len) {
    for (size_t i = 0; i < nbprefixes; i++)
        if (kstr_len(bprefixes[i]->prefix) == len && !memcmp(bprefixes[i]->prefix, p, len)) return bprefixes[i];
    return NULL;
}

static void bcast_add_client(client *c, const char *p, size_t len) {
    bprefix *b = find_bprefix(p, len);
    if (!b) {
        b = zcalloc(sizeof(*b));
        b->prefix = kstr_new_len(p, len);
        if (nbprefixes == bpcap) {
            bpcap = bpcap ? bpcap * 2 : 4;
            bprefixes = zrealloc(bprefixes, bpcap * sizeof(bprefix *));
        }
        bprefixes[nbprefixes++] = b;
    }
    for (size_t i = 0; i < b->nclients; i++)
        if (b->clients[i] == c) return;
    if (b->nclients == b->ccap) {
        b->ccap = b->ccap ? b->ccap * 2 : 4;
        b->clients = zrealloc(b->clients, b->ccap * sizeof(client *));
    }
    b->clients[b->nclients++] = c;
    tstate *t = state(c);
    t->prefixes = zrealloc(t->prefixes, (t->nprefixes + 1) * sizeof(kstr));
    t->prefixes[t->nprefixes++] = kstr_new_len(p, len);
}

static void free_pending(bprefix *b) {
    for (size_t i = 0; i < b->nkeys; i++) kstr_free(b->keys[i].key);
    b->nkeys = 0;
}

static void bcast_remove_client(client *c) {
    tstate *t = state(c);
    for (size_t j = 0; j < t->nprefixes; j++) {
        bprefix *b = find_bprefix(t->prefixes[j], kstr_len(t->prefixes[j]));
        if (b) {
            for (size_t i = 0; i < b->nclients; i++) {
                if (b->clients[i] == c) {
                    b->clients[i] = b->clients[--b->nclients];
                    break;
                }
            }
            if (b->nclients == 0) {
                for (size_t i = 0; i < nbprefixes; i++)
                    if (bprefixes[i] == b) bprefixes[i] = bprefixes[--nbprefixes];
                free_pending(b);
                kstr_free(b->prefix);
                zfree(b->clients);
                zfree(b->keys);
                zfree(b);
            }
        }
        kstr_free(t->prefixes[j]);
    }
    zfree(t->prefixes);
    t->prefixes = NULL;
    t->nprefixes = 0;
}

static void bcast_note_key(client *modifier, const char *key, size_t klen) {
    for (size_t i = 0; i < nbprefixes; i++) {
        bprefix *b = bprefixes[i];
        size_t plen = kstr_len(b->prefix);
        if (klen < plen || memcmp(key, b->prefix, plen)) continue;
        if (b->nkeys == b->kcap) {
            b->kcap = b->kcap ? b->kcap * 2 : 8;
            b->keys = zrealloc(b->keys, b->kcap * sizeof(pending_key));
        }
        b->keys[b->nkeys].key = kstr_new_len(key, klen);
        b->keys[b->nkeys].modifier = modifier;
        b->nkeys++;
    }
}

static int cmp_pending(const void *a, const void *b) {
    const pending_key *x = a, *y = b;
    size_t lx = kstr_len(x->key), ly = kstr_len(y->key);
    int r = memcmp(x->key, y->key, lx < ly ? lx : ly);
    return r ? r : (lx > ly) - (lx < ly);
}

/* Sort and deduplicate; a key changed by several clients counts as
 * changed by nobody in particular (NOLOOP clients still hear of it). */
static void sort_pending(bprefix *b) {
    qsort(b->keys, b->nkeys, sizeof(pending_key), cmp_pending);
    size_t out = 0;
    for (size_t i = 0; i < b->nkeys; i++) {
        if (out && !cmp_pending(&b->keys[out - 1], &b->keys[i])) {
            if (b->keys[out - 1].modifier != b->keys[i].modifier) b->keys[out - 1].modifier = NULL;
            kstr_free(b->keys[i].key);
            continue;
        }
        b->keys[out++] = b->keys[i];
    }
    b->nkeys = out;
}

static void broadcast_prefix(bprefix *b) {
    sort_pending(b);
    for (size_t i = 0; i < b->nclients; i++) {
        client *c = b->clients[i];
        int noloop = state(c)->flags & T_NOLOOP;
        size_t n = 0;
        for (size_t k = 0; k < b->nkeys; k++)
            if (!noloop || b->keys[k].modifier != c) n++;
        if (!n) continue;
        int was;
        client *r = pushing_begin(c, &was);
        if (!r) continue;
        reply_array_len(r, (long)n);
        for (size_t k = 0; k < b->nkeys; k++)
            if (!noloop || b->keys[k].modifier != c) reply_bulk(r, b->keys[k].key, kstr_len(b->keys[k].key));
        pushing_end(r, was);
    }
    free_pending(b);
}

/* ---- hooks ------------------------------------------------------------------ */

void tracking_invalidate_key(client *modifier, const char *key, size_t klen) {
    /* A script's commands run on a fake client: NOLOOP is about the
     * client that sent the command, the one being served. */
    if (modifier && (modifier->flags & CLIENT_FAKE) && server.current_client) modifier = server.current_client;
    if (nbprefixes) bcast_note_key(modifier, key, klen);
    void *found;
    if (!table || !hashtable_pop(table, key, klen, &found)) return;
    trec *r = found;
    invalidate_record(r, modifier);
    free_record(r);
}

void tracking_invalidate_all(void) {
    if (nclients_tracking) {
        for (client *c = server.clients; c; c = c->next) {
            if (!tracking_on(c)) continue;
            if (reply_in_progress(c)) defer(c->id, NULL, 0);
            else send_null(c);
        }
    }
    if (table) {
        hashtable_iterator it;
        void *e;
        hashtable_iter_init(&it, table, 1);
        while (hashtable_iter_next(&it, &e)) {
            trec *r = e;
            hashtable_pop(table, r->key, kstr_len(r->key), &e);
            free_record(r);
        }
        hashtable_iter_release(&it);
    }
}

/* Remember the keys of the request argv (run by cmd) for client c. */
static void remember_keys_for(client *c, const command *cmd, int argc, kstr *argv) {
    int flags = state(c)->flags;
    int caching = flags & T_CACHING;
    if (((flags & T_OPTIN) && !caching) || ((flags & T_OPTOUT) && caching)) return;
    if (cmd->flags & CMD_PUBSUB) return;
    int idx[256];
    int n = command_get_keys(cmd, argc, argv, idx, 256);
    for (int i = 0; i < n; i++) remember_key(c, argv[idx[i]], kstr_len(argv[idx[i]]));
    if (n > 0) enforce_table_limit();
}

static void remember_keys_read(client *c, const command *cmd) { remember_keys_for(c, cmd, c->argc, c->argv); }

static int is_script_command(const command *cmd) {
    const command *top = cmd->parent ? cmd->parent : cmd;
    return !strncmp(top->name, "eval", 4) || !strncmp(top->name, "fcall", 5);
}

void tracking_before_command(client *c) {
    (void)c;
    executing++;
}

void tracking_after_command(client *c, const command *cmd) {
    if (executing > 0) executing--;
    /* Scripts (Redis's rule): when a script calls a read-only command, the
     * keys its EVAL/FCALL declared are tracked for the client that ran
     * it; a script that only writes tracks nothing. */
    if ((c->flags & CLIENT_FAKE) && server.current_client && server.current_client != c) {
        if (cmd->flags & CMD_READONLY) script_did_read = 1;
        return;
    }
    int script = is_script_command(cmd);
    if (c->tracking) {
        tstate *t = state(c);
        int read = script ? script_did_read : (cmd->flags & CMD_READONLY) != 0;
        if ((t->flags & T_ON) && !(t->flags & T_BCAST) && read) remember_keys_read(c, cmd);
        const command *top = cmd->parent ? cmd->parent : cmd;
        if (!(c->flags & CLIENT_MULTI) && strcmp(top->name, "client") != 0) t->flags &= ~T_CACHING;
    }
    if (script) script_did_read = 0;
    if (ndq && !(c->flags & CLIENT_MULTI)) send_deferred();
}

void tracking_before_sleep(void) {
    enforce_table_limit(); /* tracking-table-max-keys may have been lowered */
    if (ndq) send_deferred();
    for (size_t i = 0; i < nbprefixes; i++)
        if (bprefixes[i]->nkeys) broadcast_prefix(bprefixes[i]);
}

static void disable_tracking(client *c) {
    tstate *t = state(c);
    if (!t) return;
    if (t->flags & T_BCAST) bcast_remove_client(c);
    if (t->flags & T_ON) nclients_tracking--;
    t->flags = 0;
    t->redirect = 0;
}

void tracking_client_gone(client *c) {
    if (!c->tracking) return;
    disable_tracking(c);
    zfree(c->tracking);
    c->tracking = NULL;
}

/* ---- introspection ----------------------------------------------------------- */

const char *tracking_flag_letters(const client *c) {
    static char buf[4];
    int f = 0;
    if (tracking_on(c)) {
        buf[f++] = 't';
        if (state(c)->flags & T_BROKEN_REDIR) buf[f++] = 'R';
        if (state(c)->flags & T_BCAST) buf[f++] = 'B';
    }
    buf[f] = '\0';
    return buf;
}

long long tracking_redirect_of(const client *c) { return tracking_on(c) ? (long long)state(c)->redirect : -1; }
unsigned long tracking_clients(void) { return nclients_tracking; }
size_t tracking_total_keys(void) { return table ? hashtable_size(table) : 0; }
size_t tracking_total_items(void) { return total_items; }
size_t tracking_total_prefixes(void) { return nbprefixes; }

/* ---- commands ------------------------------------------------------------------ */

static int prefixes_overlap(const char *a, size_t la, const char *b, size_t lb) {
    return memcmp(a, b, la < lb ? la : lb) == 0;
}

static int check_prefix_collisions(client *c, kstr *p, size_t n) {
    tstate *t = state(c);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; t && j < t->nprefixes; j++) {
            if (prefixes_overlap(t->prefixes[j], kstr_len(t->prefixes[j]), p[i], kstr_len(p[i]))) {
                reply_errorf(c,
                             "ERR Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a single client "
                             "must not overlap.",
                             p[i], t->prefixes[j]);
                return 0;
            }
        }
        for (size_t j = i + 1; j < n; j++) {
            if (prefixes_overlap(p[i], kstr_len(p[i]), p[j], kstr_len(p[j]))) {
                reply_errorf(c,
                             "ERR Prefix '%s' overlaps with another provided prefix '%s'. Prefixes for a single "
                             "client must not overlap.",
                             p[i], p[j]);
                return 0;
            }
        }
    }
    return 1;
}

typedef struct tracking_args {
    long long redirect;
    int options;
    kstr *prefixes;
    size_t nprefixes;
} tracking_args;

static int parse_tracking_args(client *c, tracking_args *a) {
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        kstr opt = c->argv[j];
        if (!strcasecmp(opt, "redirect") && more) {
            j++;
            if (a->redirect != 0) {
                reply_error(c, "ERR A client can only redirect to a single other client");
                return 0;
            }
            if (!parse_ll(c, c->argv[j], &a->redirect)) return 0;
            if (a->redirect <= 0 || !client_by_id((uint64_t)a->redirect)) {
                reply_error(c, "ERR The client ID you want redirect to does not exist");
                return 0;
            }
        } else if (!strcasecmp(opt, "bcast")) {
            a->options |= T_BCAST;
        } else if (!strcasecmp(opt, "optin")) {
            a->options |= T_OPTIN;
        } else if (!strcasecmp(opt, "optout")) {
            a->options |= T_OPTOUT;
        } else if (!strcasecmp(opt, "noloop")) {
            a->options |= T_NOLOOP;
        } else if (!strcasecmp(opt, "prefix") && more) {
            j++;
            a->prefixes = zrealloc(a->prefixes, (a->nprefixes + 1) * sizeof(kstr));
            a->prefixes[a->nprefixes++] = c->argv[j];
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    return 1;
}

static int tracking_on_allowed(client *c, const tracking_args *a) {
    int cur = c->tracking ? state(c)->flags : 0;
    const char *err = NULL;
    if (!(a->options & T_BCAST) && a->nprefixes)
        err = "ERR PREFIX option requires BCAST mode to be enabled";
    else if ((cur & T_ON) && !!(cur & T_BCAST) != !!(a->options & T_BCAST))
        err = "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then "
              "re-enabling it with a different mode.";
    else if ((a->options & T_BCAST) && (a->options & (T_OPTIN | T_OPTOUT)))
        err = "ERR OPTIN and OPTOUT are not compatible with BCAST";
    else if ((a->options & T_OPTIN) && (a->options & T_OPTOUT))
        err = "ERR You can't specify both OPTIN mode and OPTOUT mode";
    else if (((a->options & T_OPTIN) && (cur & T_OPTOUT)) || ((a->options & T_OPTOUT) && (cur & T_OPTIN)))
        err = "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then "
              "re-enabling it with a different mode.";
    if (err) {
        reply_error(c, err);
        return 0;
    }
    return !(a->options & T_BCAST) || check_prefix_collisions(c, a->prefixes, a->nprefixes);
}

static void enable_tracking(client *c, const tracking_args *a) {
    if (!c->tracking) c->tracking = zcalloc(sizeof(tstate));
    tstate *t = state(c);
    if (!(t->flags & T_ON)) nclients_tracking++;
    t->flags |= T_ON;
    t->flags &= ~(T_BROKEN_REDIR | T_BCAST | T_OPTIN | T_OPTOUT | T_NOLOOP);
    t->redirect = (uint64_t)a->redirect;
    if (a->options & T_BCAST) {
        t->flags |= T_BCAST;
        if (a->nprefixes == 0) bcast_add_client(c, "", 0);
        for (size_t j = 0; j < a->nprefixes; j++) bcast_add_client(c, a->prefixes[j], kstr_len(a->prefixes[j]));
    }
    t->flags |= a->options & (T_OPTIN | T_OPTOUT | T_NOLOOP);
}

void client_tracking_command(client *c) {
    tracking_args a = {0, 0, NULL, 0};
    if (!parse_tracking_args(c, &a)) goto done;
    if (!strcasecmp(c->argv[2], "on")) {
        if (!tracking_on_allowed(c, &a)) goto done;
        enable_tracking(c, &a);
    } else if (!strcasecmp(c->argv[2], "off")) {
        disable_tracking(c);
    } else {
        reply_error_syntax(c);
        goto done;
    }
    reply_ok(c);
done:
    zfree(a.prefixes);
}

void client_caching_command(client *c) {
    if (!tracking_on(c)) {
        reply_error(c, "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
                       "OPTOUT mode enabled");
        return;
    }
    tstate *t = state(c);
    if (!strcasecmp(c->argv[2], "yes")) {
        if (!(t->flags & T_OPTIN)) {
            reply_error(c, "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
            return;
        }
    } else if (!strcasecmp(c->argv[2], "no")) {
        if (!(t->flags & T_OPTOUT)) {
            reply_error(c, "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
            return;
        }
    } else {
        reply_error_syntax(c);
        return;
    }
    t->flags |= T_CACHING;
    reply_ok(c);
}

void client_getredir_command(client *c) { reply_ll(c, tracking_redirect_of(c)); }

static int cmp_kstr(const void *a, const void *b) {
    kstr x = *(kstr const *)a, y = *(kstr const *)b;
    size_t lx = kstr_len(x), ly = kstr_len(y);
    int r = memcmp(x, y, lx < ly ? lx : ly);
    return r ? r : (lx > ly) - (lx < ly);
}

void client_trackinginfo_command(client *c) {
    tstate *t = state(c);
    int f = t ? t->flags : 0;
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "flags");
    const char *names[8];
    int n = 0;
    names[n++] = (f & T_ON) ? "on" : "off";
    if (f & T_BCAST) names[n++] = "bcast";
    if (f & T_OPTIN) names[n++] = "optin";
    if ((f & T_OPTIN) && (f & T_CACHING)) names[n++] = "caching-yes";
    if (f & T_OPTOUT) names[n++] = "optout";
    if ((f & T_OPTOUT) && (f & T_CACHING)) names[n++] = "caching-no";
    if (f & T_NOLOOP) names[n++] = "noloop";
    if (f & T_BROKEN_REDIR) names[n++] = "broken_redirect";
    reply_set_len(c, n);
    for (int i = 0; i < n; i++) reply_bulk_cstr(c, names[i]);
    reply_bulk_cstr(c, "redirect");
    reply_ll(c, tracking_redirect_of(c));
    reply_bulk_cstr(c, "prefixes");
    size_t np = t ? t->nprefixes : 0;
    reply_array_len(c, (long)np);
    if (np) {
        kstr *sorted = zmalloc(np * sizeof(kstr));
        memcpy(sorted, t->prefixes, np * sizeof(kstr));
        qsort(sorted, np, sizeof(kstr), cmp_kstr);
        for (size_t i = 0; i < np; i++) reply_bulk(c, sorted[i], kstr_len(sorted[i]));
        zfree(sorted);
    }
}
