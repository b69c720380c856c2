/*
 * analysis_advice: --maxmemory-advice --ram SIZE [--use cache|database|
 * mixed] [--persistence yes|no] [--replicas N]: how much of a machine's
 * memory to give the data, which eviction policy fits the use, and why,
 * one reserve at a time. The model is in docs/CLI_MEMORY.md ("maxmemory
 * advice"); in short:
 *
 *   maxmemory = (RAM - os - clients - replication) / (1 + fragmentation + save)
 *
 * The server matters for two reserves. Redis saves (BGSAVE, AOF rewrite)
 * in a forked child whose pages are copied as the parent writes them, so
 * it keeps a copy-on-write reserve proportional to the data; Keel saves
 * without fork (its snapshot keeps the old version of a key written during
 * the save, not 4 KB pages), so its reserve is small. Keel also counts the
 * clients' memory budget inside maxmemory (client-output-backpressure-
 * total), where Redis can overshoot maxmemory by what clients hold until
 * eviction catches up.
 *
 * When a server answers, its kind, persistence settings and replica count
 * are read from it (options given on the line win) and its current
 * settings are compared with the advice; without a server, --server says
 * which kind (Keel by default).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/analysis_live.h"

#define MB (1024.0 * 1024)
#define GB (1024.0 * 1024 * 1024)
#define REPLICA_BUFFER (256 * MB) /* client-output-buffer-limit replica 256mb */
#define BACKLOG (64 * MB)         /* advised repl-backlog-size with replicas */

typedef struct advice_in {
    double ram;
    const char *use;
    int persistence, replicas, keel;
    const char *server_desc;
    long long cur_maxmemory;      /* -1: not known */
    char cur_policy[32];
} advice_in;

typedef struct advice_out {
    double os, clients, replication, frag_ratio, save_ratio, maxmemory;
    const char *policy;
} advice_out;

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static double save_share(const advice_in *in) {
    if (!in->persistence) return 0;
    if (in->keel) return 0.05;
    /* Share of the pages a forked child sees written during a save. */
    return !strcmp(in->use, "cache") ? 0.25 : !strcmp(in->use, "database") ? 0.5 : 0.4;
}

static void compute(const advice_in *in, advice_out *out) {
    out->os = clampd(in->ram * 0.10, 512 * MB, 4 * GB);
    if (out->os > in->ram * 0.25) out->os = in->ram * 0.25;
    out->clients = in->keel ? 0 : clampd(in->ram * 0.02, 16 * MB, 1 * GB);
    out->replication = in->replicas > 0 ? in->replicas * REPLICA_BUFFER + BACKLOG : 0;
    out->frag_ratio = 0.10;
    out->save_ratio = save_share(in);
    double left = in->ram - out->os - out->clients - out->replication;
    out->maxmemory = left > 0 ? left / (1 + out->frag_ratio + out->save_ratio) : 0;
    out->policy = !strcmp(in->use, "cache") ? "allkeys-lru" : !strcmp(in->use, "database") ? "noeviction" : "volatile-lru";
}

static void row(const char *what, double bytes, const char *why) {
    char h[32];
    analysis_human_bytes(h, sizeof(h), bytes);
    printf("  %-16s %9s  %s\n", what, h, why);
}

static void print_reserves(const advice_in *in, const advice_out *o) {
    char why[256];
    printf("Reserves kept out of maxmemory:\n");
    row("operating system", o->os, "10% of RAM, at least 512M and at most 4G (kernel, page cache, other processes)");
    if (in->keel)
        row("client buffers", 0, "none outside maxmemory: Keel counts the clients' budget "
                                 "(client-output-backpressure-total) inside it");
    else
        row("client buffers", o->clients, "2% of RAM (16M to 1G): query and reply buffers can push Redis past "
                                          "maxmemory until eviction catches up");
    snprintf(why, sizeof(why), "%d replica%s x 256M output buffer (client-output-buffer-limit replica) + 64M backlog",
             in->replicas, in->replicas == 1 ? "" : "s");
    row("replication", o->replication, in->replicas ? why : "no replicas");
    double data = o->maxmemory;
    row("fragmentation", data * o->frag_ratio, "10% of maxmemory: the allocator's RSS above used_memory");
    if (!in->persistence)
        row("persistence", 0, "no persistence: nothing saved, no reserve");
    else if (in->keel)
        row("persistence", data * o->save_ratio, "5% of maxmemory: Keel saves without fork; its snapshot keeps "
                                                 "only the old versions of keys written during a save");
    else {
        snprintf(why, sizeof(why), "%.0f%% of maxmemory: BGSAVE and AOF rewrites fork, and every page written "
                                   "during the save is copied (copy-on-write)",
                 o->save_ratio * 100);
        row("persistence", data * o->save_ratio, why);
    }
}

static const char *policy_reason(const char *use) {
    if (!strcmp(use, "cache")) return "every key can be recomputed: evict the least recently used (allkeys-lfu "
                                      "if a few keys are much hotter than the rest)";
    if (!strcmp(use, "database")) return "no key may disappear: writes get an OOM error at the limit instead, "
                                         "so watch it (keel-cli --oom-watch)";
    return "only keys with a TTL (the cache part) are evicted; keys without one are kept";
}

static void print_advice(const advice_in *in, const advice_out *o) {
    char ram[32], mm[32];
    analysis_human_bytes(ram, sizeof(ram), in->ram);
    analysis_human_bytes(mm, sizeof(mm), o->maxmemory);
    printf("# maxmemory advice for %s of RAM, use: %s, persistence: %s, replicas: %d\n", ram, in->use,
           in->persistence ? "yes" : "no", in->replicas);
    printf("# server: %s\n\n", in->server_desc);
    if (o->maxmemory <= 0) {
        printf("The reserves take all of the RAM: this machine is too small for this setup.\n");
        return;
    }
    print_reserves(in, o);
    long long bytes = (long long)o->maxmemory;
    printf("\nmaxmemory %lldmb  (%lld bytes, %s, %.0f%% of RAM)\n", bytes / (1024 * 1024), bytes, mm,
           100 * o->maxmemory / in->ram);
    printf("maxmemory-policy %s  (%s)\n", o->policy, policy_reason(in->use));
    if (!strcmp(in->use, "cache")) printf("lazyfree-lazy-eviction yes  (evicting big keys does not stall the server)\n");
    if (in->replicas) printf("repl-backlog-size 64mb  (a replica that reconnects within it resyncs partially)\n");
    if (in->persistence && !in->keel)
        printf("vm.overcommit_memory = 1 (sysctl)  (so that fork succeeds when the data is large)\n");
    if (in->persistence && in->keel) printf("# Keel needs no vm.overcommit_memory setting: it never forks to save.\n");
    if (in->cur_maxmemory >= 0) {
        char cur[32];
        analysis_human_bytes(cur, sizeof(cur), (double)in->cur_maxmemory);
        if (in->cur_maxmemory == 0)
            printf("\nNow: maxmemory is not set: the server can use all of the RAM and be killed by the kernel.\n");
        else
            printf("\nNow: maxmemory %s (%s the advice), policy %s%s.\n", cur,
                   in->cur_maxmemory > bytes ? "above" : "within", in->cur_policy,
                   strcmp(in->cur_policy, o->policy) ? " (differs)" : "");
    }
    printf("\nTo apply:\n  CONFIG SET maxmemory %lld\n  CONFIG SET maxmemory-policy %s\n", bytes, o->policy);
}

/* Kind, persistence, replicas and current limits from a server, when one
 * answers. */
static void read_server(cli_conn *c, advice_in *in, char *desc, size_t desclen) {
    char *info = an_info(c, "all");
    char ver[64] = "?", keel[64];
    an_info_field(info, "redis_version", ver, sizeof(ver));
    in->keel = an_info_field(info, "keel_version", keel, sizeof(keel));
    if (in->keel)
        snprintf(desc, desclen, "Keel %s (redis_version %s), read from the server", keel, ver);
    else
        snprintf(desc, desclen, "Redis %s, read from the server", ver);
    if (an_set.persistence < 0) {
        char save[128] = "";
        rr_reply *r;
        const char *argv[3] = {"CONFIG", "GET", "save"};
        r = an_command(c, 3, argv, NULL);
        if ((r->type == RR_ARRAY || r->type == RR_MAP) && r->elements >= 2 && an_str(r->element[1], NULL))
            snprintf(save, sizeof(save), "%s", r->element[1]->str);
        rr_reply_free(r);
        in->persistence = save[0] != '\0' || an_info_ll(info, "aof_enabled", 0) > 0;
    }
    if (an_set.replicas == 0) in->replicas = (int)an_info_ll(info, "connected_slaves", 0);
    in->cur_maxmemory = an_info_ll(info, "maxmemory", -1);
    if (!an_info_field(info, "maxmemory_policy", in->cur_policy, sizeof(in->cur_policy)))
        snprintf(in->cur_policy, sizeof(in->cur_policy), "?");
    free(info);
}

int mode_maxmemory_advice(cli_ctx *ctx) {
    if (analysis_parse_rest(ctx->opts, ctx->argc, ctx->argv) < 0) return 1;
    if (an_set.ram <= 0) {
        fprintf(stderr, "--maxmemory-advice needs --ram SIZE (the machine's memory, e.g. --ram 32gb).\n");
        return 1;
    }
    advice_in in = {.ram = (double)an_set.ram, .use = an_set.use, .persistence = an_set.persistence,
                    .replicas = an_set.replicas, .keel = 1, .cur_maxmemory = -1};
    char desc[256];
    cli_conn *c = an_set.server_kind ? NULL : cli_connect(ctx->opts, 1);
    if (c) {
        read_server(c, &in, desc, sizeof(desc));
        conn_close(c);
    } else {
        in.keel = !an_set.server_kind || !strcmp(an_set.server_kind, "keel");
        snprintf(desc, sizeof(desc), "%s (%s)", in.keel ? "Keel" : "Redis",
                 an_set.server_kind ? "--server" : "no server answered; --server redis for Redis");
    }
    if (in.persistence < 0) in.persistence = 1;
    in.server_desc = desc;
    advice_out out;
    compute(&in, &out);
    print_advice(&in, &out);
    return out.maxmemory > 0 ? 0 : 1;
}
