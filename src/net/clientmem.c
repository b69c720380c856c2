/* See clientmem.h for the design. */
#include "net/clientmem.h"
#include "core/config.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Below this much pending output a client is never held back by the
 * global budget: a client that reads keeps working while others stall. */
#define BACKPRESSURE_FLOOR (64 * 1024)
/* Query buffer hygiene, in Redis's numbers (its querybuf tests rely on
 * them): trim only when at least this much is wasted, shrink buffers
 * over 32 KB that are more than twice the recent peak, free the empty
 * buffer of a client idle for 2 s. */
#define QBUF_MIN_WASTE (4 * 1024)
#define QBUF_RESIZE_THRESHOLD (32 * 1024)
#define QBUF_IDLE_MS 2000
#define PEAK_SLOTS 8 /* seconds of history for the recent maxima */

/* The query buffer of a client with nothing pending: a shared, never
 * written empty string, so that thousands of idle connections hold no
 * buffer at all (and CLIENT LIST shows qbuf=0 qbuf-free=0, as Redis). */
static _Alignas(8) char empty_querybuf_storage[sizeof(struct kstr_hdr) + 8];

kstr querybuf_shared_empty(void) { return empty_querybuf_storage + sizeof(struct kstr_hdr); }
int querybuf_is_shared(const kstr qb) { return qb == querybuf_shared_empty(); }
size_t querybuf_alloc_size(const kstr qb) { return querybuf_is_shared(qb) ? 0 : kstr_alloc_size(qb); }
void querybuf_release(kstr qb) {
    if (!querybuf_is_shared(qb)) kstr_free(qb);
}

/* Negative = percent of maxmemory. */
static long long client_output_backpressure;
static long long client_output_backpressure_total;

typedef struct obuf_limit {
    long long hard, soft, soft_seconds;
} obuf_limit;

static obuf_limit obuf_limits[CLIENT_CLASS_COUNT];
static const char *const class_names[CLIENT_CLASS_COUNT] = {"normal", "slave", "pubsub"};

static size_t reply_total;     /* sum of c->reply_mem */
static size_t other_total;     /* sum of c->mem_other */
static long long backpressure_events;

typedef struct peak_slot {
    long long second;
    size_t in, out;
} peak_slot;
static peak_slot peaks[PEAK_SLOTS];

/* ---- configuration ------------------------------------------------------ */

static int class_by_name(const char *name) {
    if (!strcasecmp(name, "normal")) return CLIENT_CLASS_NORMAL;
    if (!strcasecmp(name, "slave") || !strcasecmp(name, "replica")) return CLIENT_CLASS_REPLICA;
    if (!strcasecmp(name, "pubsub")) return CLIENT_CLASS_PUBSUB;
    return -1;
}

static int parse_obuf_limit(char **argv, obuf_limit *out) {
    long long secs;
    if (!parse_memory_size(argv[1], &out->hard) || !parse_memory_size(argv[2], &out->soft)) return 0;
    if (!string_to_ll(argv[3], strlen(argv[3]), &secs) || secs < 0) return 0;
    out->soft_seconds = secs;
    return out->hard >= 0 && out->soft >= 0;
}

static int set_obuf_limits_args(char **argv, int argc, const char **err);

static int set_obuf_limits(const config_entry *ce, char **argv, int argc, const char **err) {
    (void)ce;
    if (argc == 1 && argv[0][0] == '\0') return 1; /* "" changes nothing, as in Redis */
    if (argc != 1) return set_obuf_limits_args(argv, argc, err);
    /* One argument holding the whole setting (--client-output-buffer-limit
     * "normal 0 0 0 ..." on the command line): split it, as Redis does. */
    int n;
    kstr *parts = kstr_split_args(argv[0], &n);
    if (!parts) {
        *err = "Wrong number of arguments in buffer limit configuration.";
        return 0;
    }
    int ok = set_obuf_limits_args(parts, n, err);
    kstr_free_split(parts, n);
    return ok;
}

static int set_obuf_limits_args(char **argv, int argc, const char **err) {
    if (argc % 4 != 0) {
        *err = "Wrong number of arguments in buffer limit configuration.";
        return 0;
    }
    /* Validate everything first: a bad class later in the line must not
     * leave the earlier ones applied. */
    obuf_limit parsed[CLIENT_CLASS_COUNT];
    int seen[CLIENT_CLASS_COUNT] = {0};
    for (int i = 0; i < argc; i += 4) {
        int cls = class_by_name(argv[i]);
        if (cls < 0) {
            *err = "Invalid client class specified in buffer limit configuration.";
            return 0;
        }
        if (!parse_obuf_limit(argv + i, &parsed[cls])) {
            *err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            return 0;
        }
        seen[cls] = 1;
    }
    for (int cls = 0; cls < CLIENT_CLASS_COUNT; cls++)
        if (seen[cls]) obuf_limits[cls] = parsed[cls];
    return 1;
}

static kstr get_obuf_limits(const config_entry *ce) {
    (void)ce;
    kstr s = kstr_empty();
    for (int cls = 0; cls < CLIENT_CLASS_COUNT; cls++) {
        const obuf_limit *l = &obuf_limits[cls];
        s = kstr_cat_printf(s, "%s%s %lld %lld %lld", cls ? " " : "", class_names[cls], l->hard, l->soft,
                            l->soft_seconds);
    }
    return s;
}

/* Client output: Redis's limits per class, and Keel's backpressure: a
 * client with this much pending output gets no new command until it
 * reads; the total is shared by all clients (percent of maxmemory, none
 * without maxmemory). 0 disables. */
config_entry clientmem_configs[] = {
    CONFIG_SPECIAL("client-output-buffer-limit", NULL, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", set_obuf_limits, get_obuf_limits, 0),
    CONFIG_MEMORY("client-output-backpressure", &client_output_backpressure, "1mb", 0, LLONG_MAX, 0, NULL),
    CONFIG_MEMORY("client-output-backpressure-total", &client_output_backpressure_total, "2%", 0, LLONG_MAX, CF_PERCENT_OK, NULL),
    CONFIG_END,
};

/* Memory settings may be a percentage of maxmemory (stored negative);
 * without maxmemory a percentage means "no limit". */
static size_t resolve_limit(long long v) {
    if (v >= 0) return (size_t)v;
    if (server.maxmemory <= 0) return 0;
    return (size_t)((unsigned long long)server.maxmemory / 100 * (unsigned long long)-v);
}

/* ---- accounting --------------------------------------------------------- */

size_t clients_memory_total(void) { return reply_total + other_total; }
size_t clients_memory_not_counted_for_evict(void) { return clients_memory_total(); }

/* A percentage of a small maxmemory can be less than what two idle
 * connections hold (a 16 KB query buffer each): the budget would then be
 * overrun by the operator's own redis-cli. */
#define BUDGET_PERCENT_MIN (64 * 1024)

size_t clients_memory_budget(void) {
    size_t budget = resolve_limit(client_output_backpressure_total);
    if (client_output_backpressure_total < 0 && budget && budget < BUDGET_PERCENT_MIN) budget = BUDGET_PERCENT_MIN;
    return budget;
}

void clientmem_reply_alloc(client *c, size_t bytes) {
    c->reply_mem += bytes;
    reply_total += bytes;
}

void clientmem_reply_release(client *c, size_t bytes) {
    c->reply_mem -= bytes;
    reply_total -= bytes;
}

/* Parser arguments only accumulate until the request completes, so the
 * new ones are added to a running sum: re-summing on every read would
 * make a million-argument request arriving slowly quadratic. */
static size_t parser_memory(const client *c, size_t *sum, int *counted) {
    size_t mem = c->parser_mem;
    int from = c->parser_mem_argc;
    if (c->parser.argc < from) { mem = 0; from = 0; }
    for (int i = from; i < c->parser.argc; i++) mem += kstr_alloc_size(c->parser.argv[i]);
    if (sum) *sum = mem;
    if (counted) *counted = c->parser.argc;
    return mem + (c->parser.argv ? zmalloc_size(c->parser.argv) : 0);
}

static size_t argv_memory(const client *c) {
    size_t mem = c->argv ? zmalloc_size(c->argv) : 0;
    for (int i = 0; i < c->argc; i++) mem += kstr_alloc_size(c->argv[i]);
    return mem;
}

static size_t strings_memory(const client *c) {
    size_t mem = 0;
    if (c->name) mem += kstr_alloc_size(c->name);
    if (c->lib_name) mem += kstr_alloc_size(c->lib_name);
    if (c->lib_ver) mem += kstr_alloc_size(c->lib_ver);
    return mem;
}

static size_t other_memory(const client *c) {
    return zmalloc_size((void *)c) + querybuf_alloc_size(c->querybuf) + argv_memory(c) +
           parser_memory(c, NULL, NULL) + strings_memory(c);
}

size_t client_memory_usage(const client *c) { return other_memory(c) + c->reply_mem; }

void clientmem_update(client *c) {
    size_t sum;
    int counted;
    parser_memory(c, &sum, &counted);
    c->parser_mem = sum;
    c->parser_mem_argc = counted;
    size_t now = other_memory(c);
    other_total = other_total - c->mem_other + now;
    c->mem_other = now;
}

void clientmem_forget(client *c) {
    other_total -= c->mem_other;
    c->mem_other = 0;
    reply_total -= c->reply_mem;
    c->reply_mem = 0;
}

size_t client_output_list_memory(const client *c) {
    if (!c->reply_head) return 0;
    size_t head = zmalloc_size(c->reply_head);
    return c->reply_mem > head ? c->reply_mem - head : 0;
}

void clientmem_class_limit(int cls, long long *hard, long long *soft, long long *soft_seconds) {
    *hard = obuf_limits[cls].hard;
    *soft = obuf_limits[cls].soft;
    *soft_seconds = obuf_limits[cls].soft_seconds;
}

int client_class(const client *c) {
    if ((c->flags & CLIENT_REPLICA) && !(c->flags & CLIENT_MONITOR)) return CLIENT_CLASS_REPLICA;
    /* MONITOR: Redis leaves monitors in the normal class, whose default
     * limit is none; Keel bounds them like subscribers (their output does
     * not come from their own commands either). */
    if (c->flags & (CLIENT_PUBSUB | CLIENT_MONITOR)) return CLIENT_CLASS_PUBSUB;
    return CLIENT_CLASS_NORMAL;
}

/* ---- recent maxima (INFO clients) ----------------------------------------- */

static peak_slot *current_slot(void) {
    long long sec = server_mstime() / 1000;
    peak_slot *p = &peaks[sec % PEAK_SLOTS];
    if (p->second != sec) {
        p->second = sec;
        p->in = p->out = 0;
    }
    return p;
}

static size_t input_usage(const client *c) { return querybuf_alloc_size(c->querybuf) + argv_memory(c); }

void clientmem_track_input(client *c) {
    peak_slot *p = current_slot();
    size_t in = input_usage(c);
    if (in > p->in) p->in = in;
}

static void track_output(const client *c) {
    peak_slot *p = current_slot();
    size_t out = client_output_list_memory(c);
    if (out > p->out) p->out = out;
}

static size_t recent_max(int output) {
    long long now = server_mstime() / 1000;
    size_t max = 0;
    for (int i = 0; i < PEAK_SLOTS; i++) {
        if (now - peaks[i].second >= PEAK_SLOTS) continue;
        size_t v = output ? peaks[i].out : peaks[i].in;
        if (v > max) max = v;
    }
    return max;
}

size_t clients_recent_max_input_buffer(void) { return recent_max(0); }
size_t clients_recent_max_output_buffer(void) { return recent_max(1); }

/* ---- output buffer limits --------------------------------------------------- */

static void close_for_output_limit(client *c, const char *which) {
    kstr info = client_info_string(kstr_empty(), c);
    server_log(LOG_WARNING, "Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", info);
    server_log(LOG_VERBOSE, "(%s limit of the %s class)", which, class_names[client_class(c)]);
    kstr_free(info);
    server.stat.client_outbuf_limit_disconnections++;
    /* The command being run may still hold a deferred-length block: the
     * buffers go when the client is freed, after the command. */
    client_close_async(c);
}

/* Returns the limit that was overcome, or NULL. */
static const char *output_limit_reached(client *c) {
    const obuf_limit *l = &obuf_limits[client_class(c)];
    size_t used = client_output_list_memory(c);
    if (l->hard && used >= (size_t)l->hard) return "hard";
    if (!l->soft || used < (size_t)l->soft) {
        c->obuf_soft_since_ms = 0;
        return NULL;
    }
    long long now = server_mstime();
    if (!c->obuf_soft_since_ms) {
        c->obuf_soft_since_ms = now;
        return NULL;
    }
    return now - c->obuf_soft_since_ms > l->soft_seconds * 1000 ? "soft" : NULL;
}

static void check_output_limits(client *c) {
    if (c->flags & (CLIENT_FAKE | CLIENT_CLOSE_ASAP)) return;
    const char *which = output_limit_reached(c);
    if (which) close_for_output_limit(c, which);
}

void clientmem_output_grew(client *c) {
    check_output_limits(c);
    track_output(c);
}

/* ---- backpressure -------------------------------------------------------- */

int clientmem_should_pause(const client *c) {
    if (c->flags & (CLIENT_FAKE | CLIENT_PUBSUB | CLIENT_MONITOR | CLIENT_REPLICA)) return 0;
    size_t pending = c->reply_bytes;
    if (client_output_backpressure > 0 && pending >= (size_t)client_output_backpressure) return 1;
    if (pending < BACKPRESSURE_FLOOR) return 0;
    size_t total = clients_memory_budget();
    return total && reply_total > total;
}

unsigned long clients_backpressured(void) {
    unsigned long n = 0;
    for (client *c = server.clients; c; c = c->next)
        if (c->flags & CLIENT_OUTPUT_PAUSED) n++;
    return n;
}

long long clients_backpressure_events(void) { return backpressure_events; }
void clientmem_note_pause(void) { backpressure_events++; }

/* ---- maxmemory-clients ------------------------------------------------------ */

static int evictable(const client *c) {
    if (c->flags & (CLIENT_NO_EVICT | CLIENT_FAKE | CLIENT_CLOSE_ASAP | CLIENT_EXECUTING | CLIENT_REPLICA)) return 0;
    return c != server.current_client;
}

static client *biggest_evictable(void) {
    client *best = NULL;
    size_t best_mem = 0;
    for (client *c = server.clients; c; c = c->next) {
        if (!evictable(c)) continue;
        size_t mem = c->mem_other + c->reply_mem;
        if (!best || mem > best_mem) {
            best = c;
            best_mem = mem;
        }
    }
    return best;
}

void clients_evict_if_needed(void) {
    size_t limit = resolve_limit(server.maxmemory_clients);
    if (!limit) return;
    while (clients_memory_total() > limit) {
        client *victim = biggest_evictable();
        if (!victim) return;
        kstr info = client_info_string(kstr_empty(), victim);
        server_log(LOG_VERBOSE, "Evicting client: %s", info);
        kstr_free(info);
        server.stat.evictedclients++;
        client_drop_and_close(victim);
    }
}

/* ---- cron --------------------------------------------------------------- */

static kstr resize_querybuf(kstr qb, size_t cap) {
    kstr fresh = cap ? kstr_cat_len(kstr_empty_cap(cap), qb, kstr_len(qb)) : querybuf_shared_empty();
    querybuf_release(qb);
    return fresh;
}

static size_t bulk_in_progress(const client *c) {
    return c->parser.multibulk_left && c->parser.bulk_len >= 0 ? (size_t)c->parser.bulk_len + 2 : 0;
}

static void trim_querybuf(client *c, long long now) {
    kstr qb = c->querybuf;
    if (querybuf_is_shared(qb)) return;
    size_t len = kstr_len(qb), cap = len + kstr_avail(qb);
    if (kstr_avail(qb) > QBUF_MIN_WASTE) {
        if (now - c->last_interaction_ms >= QBUF_IDLE_MS) {
            c->querybuf = resize_querybuf(qb, len);
        } else if (cap > QBUF_RESIZE_THRESHOLD && cap / 2 > c->qbuf_peak) {
            size_t keep = len;
            if (keep < c->qbuf_peak) keep = c->qbuf_peak;
            if (keep < bulk_in_progress(c)) keep = bulk_in_progress(c);
            c->querybuf = resize_querybuf(qb, keep);
        }
    }
    c->qbuf_peak = kstr_len(c->querybuf);
    if (c->qbuf_peak < bulk_in_progress(c)) c->qbuf_peak = bulk_in_progress(c);
}

/* Parking. A held-back client that has not read anything for STALL_MS
 * may be stuck in send(): many clients write a whole pipeline before
 * reading any reply, and the kernel buffers (a few MB on loopback) fill.
 * Not reading it then would deadlock both sides, so its socket is read
 * again and the requests are parked in the query buffer, to be run in
 * order once its output drains. Parked requests are client memory: while
 * all clients together are over their budget, parking waits until the
 * stall lasts PARK_OVER_BUDGET_MS (a client that merely reads late, the
 * common case, costs nothing; a deadlocked one is freed, later). */
#define STALL_MS 1000
#define PARK_OVER_BUDGET_MS 10000

static int may_park(const client *c, long long now) {
    if (!(c->flags & CLIENT_OUTPUT_PAUSED) || (c->flags & CLIENT_PAUSED_READING)) return 0;
    long long stalled = now - (c->paused_since_ms > c->last_write_ms ? c->paused_since_ms : c->last_write_ms);
    if (stalled < STALL_MS) return 0;
    size_t budget = clients_memory_budget();
    return !budget || clients_memory_total() <= budget || stalled >= PARK_OVER_BUDGET_MS;
}

static void cron_one(client *c, long long now) {
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_EXECUTING)) return;
    trim_querybuf(c, now);
    clientmem_update(c);
    clientmem_track_input(c);
    track_output(c);
    if (c->reply_head) check_output_limits(c);
    if (may_park(c, now)) client_read_while_paused(c);
}

void clientmem_cron(void) {
    long long now = server_mstime();
    for (client *c = server.clients; c; c = c->next) cron_one(c, now);
    clients_evict_if_needed();
}
