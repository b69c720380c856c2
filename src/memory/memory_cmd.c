/*
 * memory_cmd: the MEMORY command (USAGE, STATS, DOCTOR, PURGE,
 * MALLOC-STATS, HELP), with Redis 7's replies and field names so that
 * tools written for Redis read Keel unchanged.
 *
 * MEMORY DOCTOR addresses the operator as Redis's does ("Sam, ...", the
 * opening line that scripts grep for) and has the same three outcomes
 * (issues found, too little data to judge, nothing found), in Keel's own
 * words, but looks at more than Redis does: maxmemory headroom, a volatile policy with nothing volatile,
 * ongoing evictions, and the largest keys it can find by sampling. Every
 * finding carries its figures and something to do about it: a report that
 * only says "fragmentation is high" sends the reader to INFO anyway.
 */
#include "memory/mem_internal.h"
#include "memory/memory.h"
#include "script/script.h"
#include "lib/zmalloc.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/util.h"
#include "net/reply.h"

#include <stdio.h>
#include <string.h>

#define USAGE_DEFAULT_SAMPLES 5
#define DOCTOR_MIN_USED (5 * 1024 * 1024)
#define DOCTOR_BIG_KEY (1024 * 1024)
#define DOCTOR_TOP_KEYS 3

/* ---- MEMORY USAGE ---- */

static void memory_usage_command(client *c) {
    long long samples = USAGE_DEFAULT_SAMPLES;
    for (int j = 3; j < c->argc; j++) {
        if (arg_is(c->argv[j], "samples") && j + 1 < c->argc) {
            if (!parse_ll(c, c->argv[j + 1], &samples)) return;
            if (samples < 0) {
                reply_error_syntax(c);
                return;
            }
            j++;
        } else {
            reply_error_syntax(c);
            return;
        }
    }
    entry *e = db_lookup(c->db, c->argv[2], kstr_len(c->argv[2]), LOOKUP_NOTOUCH | LOOKUP_NOSTATS);
    if (!e) {
        reply_null(c);
        return;
    }
    reply_ll(c, (long long)memstats_entry_usage(c->db, e, (size_t)samples));
}

/* ---- MEMORY STATS ---- */

static void reply_pair_ll(client *c, const char *name, long long v) {
    reply_bulk_cstr(c, name);
    reply_ll(c, v);
}

static void reply_pair_double(client *c, const char *name, double v) {
    reply_bulk_cstr(c, name);
    reply_double(c, v);
}

static double ratio(size_t a, size_t b) { return b ? (double)a / (double)b : 0.0; }

static void memory_stats_command(client *c) {
    mem_figures f;
    memstats_collect(&f);
    int ndb = 0;
    for (int i = 0; i < db_count(); i++)
        if (db_size(db_get(i))) ndb++;
    reply_map_len(c, 27 + ndb);
    reply_pair_ll(c, "peak.allocated", (long long)f.peak);
    reply_pair_ll(c, "total.allocated", (long long)f.used);
    reply_pair_ll(c, "startup.allocated", (long long)f.startup);
    reply_pair_ll(c, "replication.backlog", (long long)f.repl_backlog);
    reply_pair_ll(c, "clients.slaves", (long long)f.clients_slaves);
    reply_pair_ll(c, "clients.normal", (long long)f.clients_normal);
    reply_pair_ll(c, "cluster.links", 0);
    reply_pair_ll(c, "aof.buffer", (long long)f.aof_buffer);
    script_memory sm;
    script_memory_get(&sm);
    reply_pair_ll(c, "lua.caches", (long long)sm.scripts_eval);
    reply_pair_ll(c, "functions.caches", (long long)sm.functions_caches);
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        if (!db_size(d)) continue;
        char name[32];
        snprintf(name, sizeof(name), "db.%d", i);
        reply_bulk_cstr(c, name);
        reply_map_len(c, 3);
        db_mem m;
        db_mem_figures(d, &m);
        reply_pair_ll(c, "overhead.hashtable.main", (long long)m.keys_table);
        reply_pair_ll(c, "overhead.hashtable.expires", (long long)m.expires_table);
        reply_pair_ll(c, "overhead.hashtable.slot-to-keys", 0);
    }
    size_t net = f.used > f.startup ? f.used - f.startup : 0;
    reply_pair_ll(c, "overhead.total", (long long)f.overhead);
    reply_pair_ll(c, "keys.count", (long long)f.keys);
    reply_pair_ll(c, "keys.bytes-per-key", f.keys ? (long long)(net / f.keys) : 0);
    reply_pair_ll(c, "dataset.bytes", (long long)f.dataset);
    reply_pair_double(c, "dataset.percentage", ratio(f.dataset, net) * 100.0);
    reply_pair_double(c, "peak.percentage", ratio(f.used, f.peak) * 100.0);
    reply_pair_ll(c, "allocator.allocated", (long long)f.alloc_allocated);
    reply_pair_ll(c, "allocator.active", (long long)f.alloc_active);
    reply_pair_ll(c, "allocator.resident", (long long)f.alloc_resident);
    reply_pair_double(c, "allocator-fragmentation.ratio", ratio(f.alloc_active, f.alloc_allocated));
    reply_pair_ll(c, "allocator-fragmentation.bytes", (long long)f.alloc_active - (long long)f.alloc_allocated);
    reply_pair_double(c, "allocator-rss.ratio", ratio(f.alloc_resident, f.alloc_active));
    reply_pair_ll(c, "allocator-rss.bytes", (long long)f.alloc_resident - (long long)f.alloc_active);
    reply_pair_double(c, "rss-overhead.ratio", ratio(f.rss, f.alloc_resident));
    reply_pair_ll(c, "rss-overhead.bytes", (long long)f.rss - (long long)f.alloc_resident);
    reply_pair_double(c, "fragmentation", ratio(f.rss, f.used));
    reply_pair_ll(c, "fragmentation.bytes", (long long)f.rss - (long long)f.used);
}

/* ---- MEMORY DOCTOR ---- */

typedef struct big_key {
    int dbid;
    kstr key;
    int type;
    size_t bytes;
} big_key;

static void consider_key(big_key *top, int dbid, db *d, const entry *e) {
    size_t klen;
    const char *key = entry_key(e, &klen);
    for (int i = 0; i < DOCTOR_TOP_KEYS; i++)
        if (top[i].key && top[i].dbid == dbid && kstr_len(top[i].key) == klen && !memcmp(top[i].key, key, klen))
            return;
    size_t bytes = memstats_entry_usage(d, e, USAGE_DEFAULT_SAMPLES);
    if (bytes < DOCTOR_BIG_KEY) return;
    int slot = -1;
    for (int i = 0; i < DOCTOR_TOP_KEYS; i++)
        if (!top[i].key || top[i].bytes < bytes) {
            slot = i;
            break;
        }
    if (slot < 0) return;
    kstr_free(top[DOCTOR_TOP_KEYS - 1].key);
    memmove(&top[slot + 1], &top[slot], sizeof(big_key) * (size_t)(DOCTOR_TOP_KEYS - 1 - slot));
    top[slot] = (big_key){dbid, kstr_new_len(key, klen), entry_type(e), bytes};
}

/* Sampling finds big keys in proportion to their count, not their size:
 * a few hundred samples per database find any key that is common, and
 * the big ones an operator worries about usually are (one per user...). */
static void find_big_keys(big_key *top) {
    entry *sample[64];
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        if (!db_size(d)) continue;
        for (int round = 0; round < 8; round++) {
            size_t n = db_sample(d, 0, sample, 64);
            for (size_t k = 0; k < n; k++) consider_key(top, i, d, sample[k]);
        }
    }
}

static const char *big_key_advice(int type) {
    switch (type) {
    case TYPE_STRING: return "a string this large is usually a serialized blob: compress it, or split it into "
                             "several keys so reads do not transfer it whole";
    case TYPE_LIST: return "trim it with LTRIM if only the recent items matter, or move it to a stream with a "
                           "MAXLEN cap";
    case TYPE_HASH: return "shard it into several hashes (by a hash of the field), which also keeps each one "
                           "small enough for the compact listpack encoding";
    case TYPE_SET: return "shard it into several sets, or use a HyperLogLog if only the count of members matters";
    case TYPE_ZSET: return "trim old members with ZREMRANGEBYRANK/BYSCORE, or shard it by score range";
    default: return "consider splitting it into several smaller keys";
    }
}

static size_t total_expires(void) {
    size_t n = 0;
    for (int i = 0; i < db_count(); i++) n += db_expires_size(db_get(i));
    return n;
}

static kstr human(kstr s, size_t bytes) {
    char buf[32];
    bytes_to_human(buf, sizeof(buf), bytes);
    return kstr_cat(s, buf);
}

static kstr doctor_memory_checks(kstr s, const mem_figures *f, int *issues) {
    if (f->peak > f->used + f->used / 2) {
        (*issues)++;
        s = kstr_cat(s, " * Peak memory: the peak (");
        s = human(s, f->peak);
        s = kstr_cat_printf(s, ") is %.0f%% of the memory used now (", ratio(f->peak, f->used) * 100.0);
        s = human(s, f->used);
        s = kstr_cat(s, "). The allocator keeps pages it once needed, so RSS and the fragmentation ratio look "
                        "inflated; that space is reused as data grows. To give it back to the system now, try "
                        "MEMORY PURGE.\n\n");
    }
    double frag = ratio(f->rss, f->used);
    size_t frag_bytes = f->rss > f->used ? f->rss - f->used : 0;
    if (frag > 1.4 && frag_bytes > 10 * 1024 * 1024) {
        (*issues)++;
        double alloc_frag = ratio(f->alloc_active, f->alloc_allocated);
        s = kstr_cat_printf(s, " * High fragmentation: RSS is %.2f times the used memory (", frag);
        s = human(s, frag_bytes);
        s = kstr_cat_printf(s, " more); allocator fragmentation %.2f, allocator RSS ratio %.2f, RSS overhead %.2f. ",
                            alloc_frag, ratio(f->alloc_resident, f->alloc_active), ratio(f->rss, f->alloc_resident));
        if (alloc_frag > 1.1 && !server.active_defrag_enabled)
            s = kstr_cat(s, "Most of it is inside the allocator's pages: CONFIG SET activedefrag yes will compact "
                            "them while the server runs.\n\n");
        else
            s = kstr_cat(s, "Try MEMORY PURGE to release dirty pages; if the ratio stays high, a restart (after "
                            "saving) rebuilds a compact heap.\n\n");
    }
    size_t nclients = server.nclients ? server.nclients : 1;
    if (f->clients_normal / nclients > 200 * 1024 && f->clients_normal > 10 * 1024 * 1024) {
        (*issues)++;
        s = kstr_cat(s, " * Client buffers: clients use ");
        s = human(s, f->clients_normal);
        s = kstr_cat_printf(s, " (%lu clients, ", server.nclients);
        s = human(s, f->clients_normal / nclients);
        s = kstr_cat(s, " each on average). Look for clients reading large replies slowly or pipelining too "
                        "deep (CLIENT LIST shows qbuf and omem per client), and set client-output-buffer-limit "
                        "or maxmemory-clients.\n\n");
    }
    return s;
}

static kstr doctor_maxmemory_checks(kstr s, const mem_figures *f, int *issues) {
    long long sysmem = memstats_total_system_memory();
    if (!server.maxmemory) {
        if (sysmem > 0 && f->used > (size_t)sysmem / 4) {
            (*issues)++;
            s = kstr_cat(s, " * maxmemory is not set, and the data already takes ");
            s = human(s, f->used);
            s = kstr_cat(s, " of ");
            s = human(s, (size_t)sysmem);
            s = kstr_cat(s, " of system memory. Growth will end with the kernel's OOM killer; set maxmemory "
                            "(with an eviction policy if this is a cache) below the memory you can spare.\n\n");
        }
        return s;
    }
    double pct = ratio(memstats_used_for_eviction(), (size_t)server.maxmemory) * 100.0;
    if (pct > 85.0) {
        (*issues)++;
        s = kstr_cat_printf(s, " * Memory is at %.1f%% of maxmemory (", pct);
        s = human(s, (size_t)server.maxmemory);
        if (server.maxmemory_policy == MAXMEMORY_NO_EVICTION)
            s = kstr_cat_printf(s, ") and the policy is noeviction: %s",
                                pct > 95.0 ? "writes are about to be refused with OOM errors. Raise maxmemory, "
                                             "delete data, or choose an eviction policy.\n\n"
                                           : "writes will be refused with OOM errors soon. Plan for more memory "
                                             "or an eviction policy.\n\n");
        else
            s = kstr_cat_printf(s, ") with policy %s: %s", evict_policy_name(server.maxmemory_policy),
                                pct > 95.0 ? "keys are being evicted to make room; check that the hit ratio "
                                             "(keyspace_hits/keyspace_misses) is still acceptable.\n\n"
                                           : "eviction will start soon.\n\n");
    }
    if (server.maxmemory_policy >= MAXMEMORY_VOLATILE_LRU && f->keys && total_expires() == 0) {
        (*issues)++;
        s = kstr_cat_printf(s, " * The policy is %s but no key has a TTL: nothing can be evicted, so at maxmemory "
                               "writes will fail as with noeviction. Set TTLs on the keys that may go, or use an "
                               "allkeys-* policy.\n\n",
                            evict_policy_name(server.maxmemory_policy));
    }
    if (server.stat.evictedkeys > 0) {
        (*issues)++;
        long long hits = server.stat.keyspace_hits, misses = server.stat.keyspace_misses;
        s = kstr_cat_printf(s, " * Evictions: %lld keys were evicted so far (keyspace hit ratio %.1f%%). If this "
                               "is a cache that is expected; if not, the data does not fit in maxmemory.\n\n",
                            server.stat.evictedkeys,
                            hits + misses ? (double)hits * 100.0 / (double)(hits + misses) : 0.0);
    }
    return s;
}

/* The early warning (growth.c): memory that keeps growing and will reach
 * maxmemory (or, without one, the system's memory) within the hour. */
static kstr doctor_growth_checks(kstr s, const mem_figures *f, int *issues) {
    double r1 = memory_growth_rate(1), r5 = memory_growth_rate(5), r60 = memory_growth_rate(60);
    double rate = r1 > r5 ? r1 : r5;
    long long left;
    const char *limit;
    if (server.maxmemory) {
        left = memory_seconds_to_full();
        limit = "maxmemory";
    } else {
        long long sysmem = memstats_total_system_memory();
        left = rate > 0 && sysmem > (long long)f->used ? (long long)((double)(sysmem - (long long)f->used) / rate) : -1;
        limit = "the system's memory (no maxmemory is set)";
    }
    if (left < 0 || left >= 3600 || rate <= 0) return s;
    (*issues)++;
    s = kstr_cat(s, " * Growth: used memory grows by ");
    s = human(s, (size_t)rate);
    s = kstr_cat(s, "/s (last minute ");
    s = human(s, r1 > 0 ? (size_t)r1 : 0);
    s = kstr_cat(s, "/s, last 5 minutes ");
    s = human(s, r5 > 0 ? (size_t)r5 : 0);
    s = kstr_cat(s, "/s, last hour ");
    s = human(s, r60 > 0 ? (size_t)r60 : 0);
    s = kstr_cat_printf(s, "/s); at this rate it reaches %s in about %lld minutes%s. Find what is writing "
                           "(INFO commandstats, redis-cli --bigkeys), set TTLs on data that may go, or plan for more "
                           "memory before then.\n\n",
                        limit, left / 60, left < 60 ? " (under a minute)" : "");
    return s;
}

static kstr doctor_big_keys(kstr s, int *issues) {
    big_key top[DOCTOR_TOP_KEYS];
    memset(top, 0, sizeof(top));
    find_big_keys(top);
    for (int i = 0; i < DOCTOR_TOP_KEYS && top[i].key; i++) {
        (*issues)++;
        s = kstr_cat_printf(s, " * Big key: '%.*s' (db %d, %s) takes about ", (int)(kstr_len(top[i].key) > 64 ? 64 : kstr_len(top[i].key)),
                            top[i].key, top[i].dbid, entry_type_name(top[i].type));
        s = human(s, top[i].bytes);
        s = kstr_cat_printf(s, ": %s.\n\n", big_key_advice(top[i].type));
        kstr_free(top[i].key);
    }
    return s;
}

static void memory_doctor_command(client *c) {
    mem_figures f;
    memstats_collect(&f);
    int issues = 0;
    kstr body = kstr_empty();
    body = doctor_memory_checks(body, &f, &issues);
    body = doctor_maxmemory_checks(body, &f, &issues);
    body = doctor_growth_checks(body, &f, &issues);
    body = doctor_big_keys(body, &issues);
    kstr s;
    if (issues) {
        s = kstr_cat(kstr_empty(), "Sam, I detected a few issues in this Keel instance memory implants:\n\n");
        s = kstr_cat_len(s, body, kstr_len(body));
        s = kstr_cat(s, "Each finding gives its figures and a way out; INFO memory has the rest.\n");
    } else if (f.used < DOCTOR_MIN_USED) {
        s = kstr_cat(kstr_empty(), "Sam, this instance holds too little data (under 5 MB) for a memory diagnosis to "
                                   "mean anything yet. Ask again once it carries its real load.");
    } else {
        s = kstr_cat(kstr_empty(), "Sam, no memory issue found: fragmentation, peak usage, client buffers, "
                                   "maxmemory headroom and the largest keys all look healthy.");
    }
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
    kstr_free(body);
}

/* ---- PURGE, MALLOC-STATS, HELP ---- */

static void memory_purge_command(client *c) {
    zmalloc_purge();
    reply_ok(c);
}

static void append_stats(void *opaque, const char *text) {
    kstr *s = opaque;
    *s = kstr_cat(*s, text);
}

static void memory_malloc_stats_command(client *c) {
    kstr s = kstr_empty();
    if (!zmalloc_stats_print(append_stats, &s)) s = kstr_cat(s, "Stats not supported for the current allocator");
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
}

static void memory_help_command(client *c) {
    static const char *const help[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL,
    };
    reply_help(c, help);
}

static command memory_subcommands[] = {
    {"doctor", memory_doctor_command, 2, "", 0, 0, 0, "server", "4.0.0", "Outputs a memory problems report.", NULL},
    {"help", memory_help_command, 2, "loading stale", 0, 0, 0, "server", "4.0.0", "Returns helpful text about the different subcommands.", NULL},
    {"malloc-stats", memory_malloc_stats_command, 2, "", 0, 0, 0, "server", "4.0.0", "Returns the allocator statistics.", NULL},
    {"purge", memory_purge_command, 2, "", 0, 0, 0, "server", "4.0.0", "Asks the allocator to release memory.", NULL},
    {"stats", memory_stats_command, 2, "", 0, 0, 0, "server", "4.0.0", "Returns details about memory usage.", NULL},
    {"usage", memory_usage_command, -3, "readonly", 2, 2, 1, "server", "4.0.0", "Estimates the memory usage of a key.", NULL},
    {0},
};

command memory_commands[] = {
    {"memory", NULL, -2, "", 0, 0, 0, "server", "4.0.0", "A container for memory diagnostics commands.", memory_subcommands},
    {0},
};
