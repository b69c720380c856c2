/*
 * pubsub: see pubsub.h for the interface.
 *
 * Structures and costs.
 *
 *   Channels (and shard channels): a hash table name -> subscriber record
 *   {name, array of clients}. PUBLISH is one lookup plus one write per
 *   subscriber. Each client keeps its own table of the records it is
 *   subscribed to (the same record pointers), so UNSUBSCRIBE with no
 *   argument and disconnects visit only that client's subscriptions.
 *   Removing a client from a record is a scan of the record's array:
 *   O(subscribers of that channel), paid once per unsubscribe.
 *
 *   Patterns: a naive server (Redis 7.0 included) matches every pattern
 *   against every published channel: with P patterns a PUBLISH costs P
 *   glob matches, whether they can match or not. Keel indexes patterns by
 *   their literal prefix, the part before the first *, ?, [ or \
 *   (truncated to PREFIX_MAX bytes): a pattern can only match channels
 *   that start with that prefix. The index is a hash table prefix ->
 *   bucket of patterns, plus a count of buckets per prefix length. A
 *   PUBLISH on a channel of length L looks up the channel's own prefixes
 *   only for the lengths that some bucket has (at most min(L, PREFIX_MAX)
 *   + 1 hash lookups, usually a handful), and runs the glob matcher only on
 *   the patterns of the buckets found, which all share a prefix with the
 *   channel. Patterns that start with a wildcard ("*", "?x") share the
 *   empty-prefix bucket, which every PUBLISH visits: for them the cost is
 *   the same as Redis's. Memory: one bucket (about 64 bytes) per distinct
 *   prefix plus a pointer per pattern.
 *
 *   Messages are written straight into each receiver's reply list, so a
 *   subscriber's pending messages are its output buffer: counted in its
 *   omem and tot-mem, bounded by client-output-buffer-limit pubsub
 *   (clientmem.c), and never a cause of key eviction (clientmem.h says
 *   why).
 */
#include "pubsub/pubsub.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/hashtable.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"

#include <string.h>
#include <strings.h>

enum { K_CHANNEL = 0, K_PATTERN, K_SHARD, K_COUNT };
static const char *const sub_names[K_COUNT] = {"subscribe", "psubscribe", "ssubscribe"};
static const char *const unsub_names[K_COUNT] = {"unsubscribe", "punsubscribe", "sunsubscribe"};

#define PREFIX_MAX 64

/* A channel or pattern and the clients subscribed to it. */
typedef struct subs {
    kstr name;
    client **v;
    size_t n, cap;
} subs;

/* Patterns sharing one literal prefix. */
typedef struct pbucket {
    kstr prefix;
    subs **pats;
    size_t n, cap;
} pbucket;

/* What one client is subscribed to (c->pubsub). */
typedef struct ps_client {
    hashtable *t[K_COUNT];
} ps_client;

static const void *subs_key(const void *e, size_t *len) {
    const subs *s = e;
    *len = kstr_len(s->name);
    return s->name;
}
static const void *pbucket_key(const void *e, size_t *len) {
    const pbucket *b = e;
    *len = kstr_len(b->prefix);
    return b->prefix;
}
static const hashtable_type subs_type = {subs_key, NULL, NULL};
static const hashtable_type pbucket_type = {pbucket_key, NULL, NULL};

static hashtable *global[K_COUNT];
static hashtable *prefix_index;
static unsigned long prefix_len_count[PREFIX_MAX + 1];

static hashtable *global_table(int kind) {
    if (!global[kind]) global[kind] = hashtable_create(&subs_type);
    return global[kind];
}

/* ---- pattern prefix index ---------------------------------------------- */

/* Redis's stringmatch, as Pub/Sub sees it: the shared glob matcher, except
 * that an empty channel matches only the empty pattern (Redis's matcher
 * never looks at a pattern when the string is empty, so "*" does not
 * match ""). */
static int channel_matches(const char *pat, size_t plen, const char *ch, size_t chlen) {
    if (chlen == 0) return plen == 0;
    return glob_match(pat, plen, ch, chlen, 0);
}

static size_t literal_prefix_len(const char *p, size_t len) {
    size_t i = 0;
    while (i < len && i < PREFIX_MAX && !strchr("*?[\\", p[i])) i++;
    return i;
}

static void index_add(subs *pat) {
    if (!prefix_index) prefix_index = hashtable_create(&pbucket_type);
    size_t plen = literal_prefix_len(pat->name, kstr_len(pat->name));
    void *found;
    pbucket *b;
    if (hashtable_find(prefix_index, pat->name, plen, &found)) {
        b = found;
    } else {
        b = zcalloc(sizeof(*b));
        b->prefix = kstr_new_len(pat->name, plen);
        hashtable_add(prefix_index, b);
        prefix_len_count[plen]++;
    }
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->pats = zrealloc(b->pats, b->cap * sizeof(subs *));
    }
    b->pats[b->n++] = pat;
}

static void index_remove(subs *pat) {
    size_t plen = literal_prefix_len(pat->name, kstr_len(pat->name));
    void *found;
    if (!hashtable_find(prefix_index, pat->name, plen, &found)) return;
    pbucket *b = found;
    for (size_t i = 0; i < b->n; i++) {
        if (b->pats[i] == pat) {
            b->pats[i] = b->pats[--b->n];
            break;
        }
    }
    if (b->n) return;
    hashtable_delete(prefix_index, b->prefix, plen);
    prefix_len_count[plen]--;
    kstr_free(b->prefix);
    zfree(b->pats);
    zfree(b);
}

/* ---- subscription records ---------------------------------------------- */

static ps_client *client_state(client *c, int create) {
    if (!c->pubsub && create) c->pubsub = zcalloc(sizeof(ps_client));
    return c->pubsub;
}

static size_t client_count(const client *c, int kind) {
    const ps_client *ps = c->pubsub;
    return ps && ps->t[kind] ? hashtable_size(ps->t[kind]) : 0;
}

static void update_pubsub_flag(client *c) {
    if (client_count(c, K_CHANNEL) + client_count(c, K_PATTERN) + client_count(c, K_SHARD))
        c->flags |= CLIENT_PUBSUB;
    else
        c->flags &= ~CLIENT_PUBSUB;
}

static void subs_add_client(subs *s, client *c) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4;
        s->v = zrealloc(s->v, s->cap * sizeof(client *));
    }
    s->v[s->n++] = c;
}

/* Keeps the order of the others: delivery order is subscription order. */
static void subs_remove_client(subs *s, client *c) {
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] == c) {
            memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(client *));
            s->n--;
            return;
        }
    }
}

/* Returns 1 if c was not subscribed yet. */
static int subscribe(client *c, int kind, const char *name, size_t len) {
    ps_client *ps = client_state(c, 1);
    if (!ps->t[kind]) ps->t[kind] = hashtable_create(&subs_type);
    void *found;
    if (hashtable_find(ps->t[kind], name, len, &found)) return 0;
    hashtable *g = global_table(kind);
    subs *s;
    if (hashtable_find(g, name, len, &found)) {
        s = found;
    } else {
        s = zcalloc(sizeof(*s));
        s->name = kstr_new_len(name, len);
        hashtable_add(g, s);
        if (kind == K_PATTERN) index_add(s);
    }
    subs_add_client(s, c);
    hashtable_add(ps->t[kind], s);
    return 1;
}

static int unsubscribe(client *c, int kind, const char *name, size_t len) {
    ps_client *ps = c->pubsub;
    void *found;
    if (!ps || !ps->t[kind] || !hashtable_pop(ps->t[kind], name, len, &found)) return 0;
    subs *s = found;
    subs_remove_client(s, c);
    if (s->n == 0) {
        hashtable_pop(global[kind], s->name, kstr_len(s->name), &found);
        if (kind == K_PATTERN) index_remove(s);
        kstr_free(s->name);
        zfree(s->v);
        zfree(s);
    }
    return 1;
}

/* ---- replies ------------------------------------------------------------- */

static void reply_push_or_array(client *c, long n) {
    if (c->resp >= 3) reply_push_len(c, n);
    else reply_array_len(c, n);
}

static long reply_count(const client *c, int kind) {
    if (kind == K_SHARD) return (long)client_count(c, K_SHARD);
    return (long)(client_count(c, K_CHANNEL) + client_count(c, K_PATTERN));
}

/* Subscription events and messages are pushes: CLIENT REPLY OFF does not
 * silence them (Redis's rule). */
static int push_begin(client *c) {
    int was = c->flags & CLIENT_PUSHING;
    c->flags |= CLIENT_PUSHING;
    return was;
}

static void push_end(client *c, int was) {
    if (!was) c->flags &= ~CLIENT_PUSHING;
}

static void reply_event(client *c, const char *event, const char *name, size_t len, long count) {
    int was = push_begin(c);
    reply_push_or_array(c, 3);
    reply_bulk_cstr(c, event);
    if (name) reply_bulk(c, name, len);
    else reply_null(c);
    reply_ll(c, count);
    push_end(c, was);
}

void pubsub_write_message(client *c, const char *ch, size_t chlen, const char *payload, size_t plen,
                          int payload_is_proto) {
    int was = push_begin(c);
    reply_push_or_array(c, 3);
    reply_bulk(c, "message", 7);
    reply_bulk(c, ch, chlen);
    if (payload_is_proto) reply_raw(c, payload, plen);
    else if (payload) reply_bulk(c, payload, plen);
    else reply_null(c);
    push_end(c, was);
}

/* A message is encoded once per PUBLISH (per matching pattern) and copied
 * to each receiver: the RESP2 array and the RESP3 push differ only in
 * their first byte. Small frames are built on the stack. */
typedef struct frame {
    char *p;
    size_t len;
    char stack[512];
} frame;

static char *frame_part(char *w, const char *p, size_t len) {
    *w++ = '$';
    w += ll_to_string(w, 21, (long long)len);
    *w++ = '\r';
    *w++ = '\n';
    memcpy(w, p, len);
    w += len;
    *w++ = '\r';
    *w++ = '\n';
    return w;
}

static void build_frame(frame *f, const char *kind, const subs *pat, const char *ch, size_t chlen, const char *msg,
                        size_t mlen) {
    size_t plen = pat ? kstr_len(pat->name) : 0;
    size_t klen = strlen(kind);
    size_t max = 4 + 4 * 27 + klen + plen + chlen + mlen;
    f->p = max <= sizeof(f->stack) ? f->stack : zmalloc(max);
    char *w = f->p;
    memcpy(w, pat ? "*4\r\n" : "*3\r\n", 4);
    w = frame_part(w + 4, kind, klen);
    if (pat) w = frame_part(w, pat->name, plen);
    w = frame_part(w, ch, chlen);
    w = frame_part(w, msg, mlen);
    f->len = (size_t)(w - f->p);
}

static void free_frame(frame *f) {
    if (f->p != f->stack) zfree(f->p);
}

static void write_frame(client *c, const frame *f) {
    int was = push_begin(c);
    if (c->resp >= 3) {
        reply_raw(c, ">", 1);
        reply_raw(c, f->p + 1, f->len - 1);
    } else {
        reply_raw(c, f->p, f->len);
    }
    push_end(c, was);
}

/* ---- publishing ------------------------------------------------------------ */

static long deliver_to_patterns(const char *ch, size_t chlen, const char *msg, size_t mlen) {
    if (!prefix_index || hashtable_size(prefix_index) == 0) return 0;
    long receivers = 0;
    size_t maxlen = chlen < PREFIX_MAX ? chlen : PREFIX_MAX;
    for (size_t len = 0; len <= maxlen; len++) {
        if (!prefix_len_count[len]) continue;
        void *found;
        if (!hashtable_find(prefix_index, ch, len, &found)) continue;
        pbucket *b = found;
        for (size_t i = 0; i < b->n; i++) {
            subs *pat = b->pats[i];
            if (!channel_matches(pat->name, kstr_len(pat->name), ch, chlen)) continue;
            frame f;
            build_frame(&f, "pmessage", pat, ch, chlen, msg, mlen);
            for (size_t j = 0; j < pat->n; j++) write_frame(pat->v[j], &f);
            free_frame(&f);
            receivers += (long)pat->n;
        }
    }
    return receivers;
}

long pubsub_publish(const char *ch, size_t chlen, const char *msg, size_t mlen) {
    long receivers = 0;
    void *found;
    if (global[K_CHANNEL] && hashtable_find(global[K_CHANNEL], ch, chlen, &found)) {
        subs *s = found;
        frame f;
        build_frame(&f, "message", NULL, ch, chlen, msg, mlen);
        for (size_t i = 0; i < s->n; i++) write_frame(s->v[i], &f);
        free_frame(&f);
        receivers += (long)s->n;
    }
    return receivers + deliver_to_patterns(ch, chlen, msg, mlen);
}

static long shard_publish(const char *ch, size_t chlen, const char *msg, size_t mlen) {
    void *found;
    if (!global[K_SHARD] || !hashtable_find(global[K_SHARD], ch, chlen, &found)) return 0;
    subs *s = found;
    frame f;
    build_frame(&f, "smessage", NULL, ch, chlen, msg, mlen);
    for (size_t i = 0; i < s->n; i++) write_frame(s->v[i], &f);
    free_frame(&f);
    return (long)s->n;
}

int pubsub_has_listeners(void) {
    return (global[K_CHANNEL] && hashtable_size(global[K_CHANNEL])) ||
           (global[K_PATTERN] && hashtable_size(global[K_PATTERN]));
}

/* ---- client state ---------------------------------------------------------- */

void pubsub_client_counts(const client *c, size_t *sub, size_t *psub, size_t *ssub) {
    *sub = client_count(c, K_CHANNEL);
    *psub = client_count(c, K_PATTERN);
    *ssub = client_count(c, K_SHARD);
}

int pubsub_client_any(const client *c, pubsub_name_fn *fn, void *priv) {
    ps_client *ps = c->pubsub;
    if (!ps) return 0;
    for (int kind = 0; kind < K_COUNT; kind++) {
        if (!ps->t[kind]) continue;
        hashtable_iterator it;
        void *e;
        int hit = 0;
        hashtable_iter_init(&it, ps->t[kind], 0);
        while (!hit && hashtable_iter_next(&it, &e))
            hit = fn(priv, ((subs *)e)->name, kstr_len(((subs *)e)->name), kind == K_PATTERN);
        hashtable_iter_release(&it);
        if (hit) return 1;
    }
    return 0;
}

/* Unsubscribe c from everything of one kind, replying for each if asked
 * (and once with a null name when there was nothing). */
static void unsubscribe_all(client *c, int kind, int notify) {
    ps_client *ps = c->pubsub;
    size_t n = client_count(c, kind);
    if (n) {
        subs **all = zmalloc(n * sizeof(subs *));
        size_t k = 0;
        hashtable_iterator it;
        void *e;
        hashtable_iter_init(&it, ps->t[kind], 0);
        while (hashtable_iter_next(&it, &e) && k < n) all[k++] = e;
        hashtable_iter_release(&it);
        for (size_t i = 0; i < k; i++) {
            kstr name = kstr_dup(all[i]->name);
            unsubscribe(c, kind, name, kstr_len(name));
            if (notify) reply_event(c, unsub_names[kind], name, kstr_len(name), reply_count(c, kind));
            kstr_free(name);
        }
        zfree(all);
    } else if (notify) {
        reply_event(c, unsub_names[kind], NULL, 0, reply_count(c, kind));
    }
    update_pubsub_flag(c);
}

void pubsub_client_gone(client *c) {
    ps_client *ps = c->pubsub;
    if (!ps) return;
    for (int kind = 0; kind < K_COUNT; kind++) {
        unsubscribe_all(c, kind, 0);
        if (ps->t[kind]) hashtable_release(ps->t[kind]);
        ps->t[kind] = NULL;
    }
    zfree(ps);
    c->pubsub = NULL;
    c->flags &= ~CLIENT_PUBSUB;
}

int pubsub_in_context(const client *c) { return (c->flags & CLIENT_PUBSUB) && c->resp == 2; }

int pubsub_rejects_command(client *c, const command *cmd) {
    if (!pubsub_in_context(c)) return 0;
    static const char *const allowed[] = {"ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
                                          "psubscribe", "punsubscribe", "quit", "reset"};
    const command *top = cmd->parent ? cmd->parent : cmd;
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (!strcmp(top->name, allowed[i])) return 0;
    reply_errorf(c,
                 "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
                 "in this context",
                 cmd->fullname);
    return 1;
}

int pubsub_ping_reply(client *c) {
    if (!pubsub_in_context(c)) return 0;
    reply_array_len(c, 2);
    reply_bulk(c, "pong", 4);
    if (c->argc > 1) reply_bulk(c, c->argv[1], kstr_len(c->argv[1]));
    else reply_bulk(c, "", 0);
    return 1;
}

size_t pubsub_channel_count(void) { return global[K_CHANNEL] ? hashtable_size(global[K_CHANNEL]) : 0; }
size_t pubsub_pattern_count(void) { return global[K_PATTERN] ? hashtable_size(global[K_PATTERN]) : 0; }
size_t pubsub_shard_channel_count(void) { return global[K_SHARD] ? hashtable_size(global[K_SHARD]) : 0; }

/* ---- commands -------------------------------------------------------------- */

static void subscribe_generic(client *c, int kind) {
    for (int j = 1; j < c->argc; j++) {
        subscribe(c, kind, c->argv[j], kstr_len(c->argv[j]));
        update_pubsub_flag(c);
        reply_event(c, sub_names[kind], c->argv[j], kstr_len(c->argv[j]), reply_count(c, kind));
    }
}

static void unsubscribe_generic(client *c, int kind) {
    if (c->argc == 1) {
        unsubscribe_all(c, kind, 1);
        return;
    }
    for (int j = 1; j < c->argc; j++) {
        unsubscribe(c, kind, c->argv[j], kstr_len(c->argv[j]));
        update_pubsub_flag(c);
        reply_event(c, unsub_names[kind], c->argv[j], kstr_len(c->argv[j]), reply_count(c, kind));
    }
}

static void subscribe_command(client *c) { subscribe_generic(c, K_CHANNEL); }
static void psubscribe_command(client *c) { subscribe_generic(c, K_PATTERN); }
static void ssubscribe_command(client *c) { subscribe_generic(c, K_SHARD); }
static void unsubscribe_command(client *c) { unsubscribe_generic(c, K_CHANNEL); }
static void punsubscribe_command(client *c) { unsubscribe_generic(c, K_PATTERN); }
static void sunsubscribe_command(client *c) { unsubscribe_generic(c, K_SHARD); }

static void publish_command(client *c) {
    reply_ll(c, pubsub_publish(c->argv[1], kstr_len(c->argv[1]), c->argv[2], kstr_len(c->argv[2])));
}

static void spublish_command(client *c) {
    reply_ll(c, shard_publish(c->argv[1], kstr_len(c->argv[1]), c->argv[2], kstr_len(c->argv[2])));
}

/* PUBSUB CHANNELS / SHARDCHANNELS [pattern] */
static void list_channels(client *c, int kind) {
    const char *pat = c->argc > 2 ? c->argv[2] : NULL;
    hashtable *g = global[kind];
    void *node = reply_deferred_len(c);
    long n = 0;
    if (g) {
        hashtable_iterator it;
        void *e;
        hashtable_iter_init(&it, g, 0);
        while (hashtable_iter_next(&it, &e)) {
            subs *s = e;
            if (pat && !channel_matches(pat, kstr_len(c->argv[2]), s->name, kstr_len(s->name))) continue;
            reply_bulk(c, s->name, kstr_len(s->name));
            n++;
        }
        hashtable_iter_release(&it);
    }
    reply_set_deferred_array_len(c, node, n);
}

static void count_subscribers(client *c, int kind) {
    reply_array_len(c, (long)(c->argc - 2) * 2);
    for (int j = 2; j < c->argc; j++) {
        void *found;
        long n = 0;
        if (global[kind] && hashtable_find(global[kind], c->argv[j], kstr_len(c->argv[j]), &found))
            n = (long)((subs *)found)->n;
        reply_bulk(c, c->argv[j], kstr_len(c->argv[j]));
        reply_ll(c, n);
    }
}

static void pubsub_channels_command(client *c) { list_channels(c, K_CHANNEL); }
static void pubsub_shardchannels_command(client *c) { list_channels(c, K_SHARD); }
static void pubsub_numsub_command(client *c) { count_subscribers(c, K_CHANNEL); }
static void pubsub_shardnumsub_command(client *c) { count_subscribers(c, K_SHARD); }
static void pubsub_numpat_command(client *c) { reply_ll(c, (long long)pubsub_pattern_count()); }

static void pubsub_help_command(client *c) {
    static const char *const lines[] = {
        "CHANNELS [<pattern>]",
        "    List the channels with at least one subscriber, optionally only those matching <pattern>.",
        "NUMPAT",
        "    Count the distinct patterns clients are subscribed to.",
        "NUMSUB [<channel> ...]",
        "    For each <channel>, the number of its subscribers (pattern subscriptions not counted).",
        "SHARDCHANNELS [<pattern>]",
        "    List the shard channels with at least one subscriber, optionally only those matching <pattern>.",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    For each <shardchannel>, the number of its subscribers.",
        NULL};
    reply_help(c, lines);
}

static command pubsub_subcommands[] = {
    {"channels", pubsub_channels_command, -2, "pubsub loading stale", 0, 0, 0, "pubsub", "2.8.0", "List active channels.", NULL},
    {"numsub", pubsub_numsub_command, -2, "pubsub loading stale", 0, 0, 0, "pubsub", "2.8.0", "Count subscribers of channels.", NULL},
    {"numpat", pubsub_numpat_command, 2, "pubsub loading stale", 0, 0, 0, "pubsub", "2.8.0", "Count unique patterns.", NULL},
    {"shardchannels", pubsub_shardchannels_command, -2, "pubsub loading stale", 0, 0, 0, "pubsub", "7.0.0", "List active shard channels.", NULL},
    {"shardnumsub", pubsub_shardnumsub_command, -2, "pubsub loading stale", 0, 0, 0, "pubsub", "7.0.0", "Count subscribers of shard channels.", NULL},
    {"help", pubsub_help_command, 2, "loading stale", 0, 0, 0, "pubsub", "6.2.0", "Help on PUBSUB.", NULL},
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};

command pubsub_commands[] = {
    {"subscribe", subscribe_command, -2, "pubsub noscript loading stale", 0, 0, 0, "pubsub", "2.0.0", "Listen for messages published to channels.", NULL},
    {"psubscribe", psubscribe_command, -2, "pubsub noscript loading stale", 0, 0, 0, "pubsub", "2.0.0", "Listen for messages published to channels matching patterns.", NULL},
    {"ssubscribe", ssubscribe_command, -2, "pubsub noscript loading stale", 1, -1, 1, "pubsub", "7.0.0", "Listen for messages published to shard channels.", NULL},
    {"unsubscribe", unsubscribe_command, -1, "pubsub noscript loading stale", 0, 0, 0, "pubsub", "2.0.0", "Stop listening to channels.", NULL},
    {"punsubscribe", punsubscribe_command, -1, "pubsub noscript loading stale", 0, 0, 0, "pubsub", "2.0.0", "Stop listening to patterns.", NULL},
    {"sunsubscribe", sunsubscribe_command, -1, "pubsub noscript loading stale", 1, -1, 1, "pubsub", "7.0.0", "Stop listening to shard channels.", NULL},
    {"publish", publish_command, 3, "pubsub loading stale fast may_replicate", 0, 0, 0, "pubsub", "2.0.0", "Post a message to a channel.", NULL},
    {"spublish", spublish_command, 3, "pubsub loading stale fast may_replicate", 1, 1, 1, "pubsub", "7.0.0", "Post a message to a shard channel.", NULL},
    {"pubsub", NULL, -2, "", 0, 0, 0, "pubsub", "2.8.0", "Pub/Sub introspection.", pubsub_subcommands},
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL, NULL, NULL, NULL},
};
