/* See info.h. */
#include "acl/acl.h"
#include "persist/persist.h"
#include "cluster/cluster.h"
#include "core/info.h"
#include "core/blocking.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "core/shutdown.h"
#include "lib/util.h"
#include "memory/memory.h"
#include "net/clientmem.h"
#include "core/latency.h"
#include "core/inststats.h"
#include "net/reply.h"
#include "pubsub/pubsub.h"
#include "pubsub/tracking.h"
#include "repl/repl.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

static kstr section_server(kstr s) {
    struct utsname name;
    uname(&name);
    long long uptime = (server_mstime() - server.start_time_ms) / 1000;
    s = kstr_cat_printf(s,
        "# Server\r\n"
        "redis_version:%s\r\n"
        "keel_version:%s\r\n"
        "redis_git_sha1:00000000\r\n"
        "redis_git_dirty:0\r\n"
        "redis_build_id:0\r\n"
        "redis_mode:standalone\r\n"
        "os:%s %s %s\r\n"
        "arch_bits:%d\r\n"
        "monotonic_clock:POSIX clock_gettime\r\n"
        "multiplexing_api:epoll\r\n"
        "atomicvar_api:c11-builtin\r\n"
        "gcc_version:%d.%d.%d\r\n"
        "process_id:%d\r\n"
        "process_supervised:no\r\n"
        "run_id:%s\r\n"
        "tcp_port:%d\r\n"
        "server_time_usec:%lld\r\n"
        "uptime_in_seconds:%lld\r\n"
        "uptime_in_days:%lld\r\n"
        "hz:%d\r\n"
        "configured_hz:%d\r\n"
        "lru_clock:%u\r\n"
        "executable:%s\r\n"
        "config_file:%s\r\n"
        "io_threads_active:0\r\n",
        KEEL_VERSION, KEEL_OWN_VERSION, name.sysname, name.release, name.machine,
        (int)(sizeof(void *) * 8),
#ifdef __GNUC__
        __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
        0, 0, 0,
#endif
        (int)getpid(), server.runid, server.port, ustime(), uptime, uptime / 86400, server.hz, server.hz,
        server.lru_clock, server.executable ? server.executable : "",
        server.config_file ? server.config_file : "");
    return shutdown_info_fields(s);
}

/* connected_clients leaves replicas out (connected_slaves counts them),
 * as Redis does. */
static unsigned long clients_not_replicas(void) {
    unsigned long replicas = 0;
    for (client *c = server.clients; c; c = c->next) replicas += (c->flags & CLIENT_REPLICA) != 0;
    return server.nclients - replicas;
}

static kstr section_clients(kstr s) {
    size_t max_in = clients_recent_max_input_buffer(), max_out = clients_recent_max_output_buffer();
    return kstr_cat_printf(s,
        "# Clients\r\n"
        "connected_clients:%lu\r\n"
        "cluster_connections:%d\r\n"
        "maxclients:%u\r\n"
        "client_recent_max_input_buffer:%zu\r\n"
        "client_recent_max_output_buffer:%zu\r\n"
        "blocked_clients:%ld\r\n"
        "tracking_clients:%lu\r\n"
        "clients_in_timeout_table:0\r\n"
        "clients_in_backpressure:%lu\r\n"
        "total_backpressure_pauses:%lld\r\n",
        clients_not_replicas(), cluster_connections(), server.maxclients, max_in, max_out, blocking_count(), tracking_clients(), clients_backpressured(),
        clients_backpressure_events());
}

static kstr section_persistence(kstr s) { return persist_info_section(s); }

static kstr section_stats(kstr s) {
    server_stats *st = &server.stat;
    long long dh, dm, dkh, dkm;
    memory_defrag_stats(&dh, &dm, &dkh, &dkm);
    long long defrag_now_ms, defrag_total_ms;
    memory_defrag_time_ms(&defrag_now_ms, &defrag_total_ms);
    s = kstr_cat_printf(s,
        "# Stats\r\n"
        "total_connections_received:%lld\r\n"
        "total_commands_processed:%lld\r\n"
        "instantaneous_ops_per_sec:%lld\r\n"
        "total_net_input_bytes:%lld\r\n"
        "total_net_output_bytes:%lld\r\n"
        "instantaneous_input_kbps:%.2f\r\n"
        "instantaneous_output_kbps:%.2f\r\n"
        "rejected_connections:%lld\r\n",
        st->numconnections, st->numcommands, (long long)(inststats_rate(INST_OPS) + 0.5), st->net_input_bytes,
        st->net_output_bytes, inststats_rate(INST_NET_INPUT) / 1024.0, inststats_rate(INST_NET_OUTPUT) / 1024.0,
        st->rejected_conn);
    s = repl_info_stats(s); /* sync_full, sync_partial_ok, sync_partial_err */
    s = kstr_cat_printf(s,
        "expired_keys:%lld\r\n"
        "expired_stale_perc:%.2f\r\n"
        "expired_time_cap_reached_count:%lld\r\n"
        "expire_cycle_cpu_milliseconds:%lld\r\n"
        "evicted_keys:%lld\r\n"
        "evicted_clients:%lld\r\n"
        "total_eviction_exceeded_time:%lld\r\n"
        "current_eviction_exceeded_time:%lld\r\n"
        "keyspace_hits:%lld\r\n"
        "keyspace_misses:%lld\r\n"
        "pubsub_channels:%zu\r\n"
        "pubsub_patterns:%zu\r\n"
        "pubsubshard_channels:%zu\r\n"
        "latest_fork_usec:0\r\n"
        "total_forks:0\r\n"
        "migrate_cached_sockets:%d\r\n"
        "client_query_buffer_limit_disconnections:%lld\r\n"
        "client_output_buffer_limit_disconnections:%lld\r\n"
        "active_defrag_hits:%lld\r\n"
        "active_defrag_misses:%lld\r\n"
        "active_defrag_key_hits:%lld\r\n"
        "active_defrag_key_misses:%lld\r\n"
        "total_active_defrag_time:%lld\r\n"
        "current_active_defrag_time:%lld\r\n"
        "tracking_total_keys:%zu\r\n"
        "tracking_total_items:%zu\r\n"
        "tracking_total_prefixes:%zu\r\n"
        "unexpected_error_replies:%lld\r\n"
        "total_error_replies:%llu\r\n"
        "dump_payload_sanitizations:0\r\n"
        "total_reads_processed:0\r\n"
        "total_writes_processed:0\r\n"
        "io_threaded_reads_processed:0\r\n"
        "io_threaded_writes_processed:0\r\n"
        "reply_buffer_shrinks:0\r\n"
        "reply_buffer_expands:0\r\n",
        st->expiredkeys, (double)st->expired_stale_perc_x100 / 100.0, st->expired_time_cap_reached_count,
        st->expire_cycle_time_used_us / 1000, st->evictedkeys, st->evictedclients,
        st->total_eviction_exceeded_time_ms + memory_current_eviction_exceeded_ms(),
        memory_current_eviction_exceeded_ms(), st->keyspace_hits, st->keyspace_misses,
        pubsub_channel_count(), pubsub_pattern_count(), pubsub_shard_channel_count(), migrate_cached_connections(),
        st->client_qbuf_limit_disconnections, st->client_outbuf_limit_disconnections, dh, dm, dkh, dkm,
        defrag_total_ms, defrag_now_ms, tracking_total_keys(), tracking_total_items(), tracking_total_prefixes(),
        st->unexpected_error_replies, reply_error_count());
    return acl_info_stats(s);
}

static kstr section_replication(kstr s) { return repl_info_section(s); }

static kstr section_cpu(kstr s) {
    struct rusage self, children, main_thread;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    getrusage(RUSAGE_THREAD, &main_thread); /* INFO runs on the main thread */
    s = kstr_cat_printf(s,
        "# CPU\r\n"
        "used_cpu_sys:%ld.%06ld\r\n"
        "used_cpu_user:%ld.%06ld\r\n"
        "used_cpu_sys_children:%ld.%06ld\r\n"
        "used_cpu_user_children:%ld.%06ld\r\n",
        (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
        (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
        (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec);
    return kstr_cat_printf(s, "used_cpu_sys_main_thread:%ld.%06ld\r\nused_cpu_user_main_thread:%ld.%06ld\r\n",
                           (long)main_thread.ru_stime.tv_sec, (long)main_thread.ru_stime.tv_usec,
                           (long)main_thread.ru_utime.tv_sec, (long)main_thread.ru_utime.tv_usec);
}

static void commandstat_one(command *cmd, void *priv) {
    kstr *s = priv;
    if (cmd->calls || cmd->rejected_calls || cmd->failed_calls) {
        *s = kstr_cat_printf(*s, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n",
                             cmd->fullname, cmd->calls, cmd->usec,
                             cmd->calls ? (double)cmd->usec / (double)cmd->calls : 0.0, cmd->rejected_calls,
                             cmd->failed_calls);
    }
    if (cmd->subcommands)
        for (command *sub = cmd->subcommands; sub->name; sub++) commandstat_one(sub, priv);
}

static kstr section_commandstats(kstr s) {
    s = kstr_cat(s, "# Commandstats\r\n");
    command_foreach(commandstat_one, &s);
    return s;
}

static kstr section_keyspace(kstr s) {
    s = kstr_cat(s, "# Keyspace\r\n");
    for (int i = 0; i < db_count(); i++) {
        db *d = db_get(i);
        size_t keys = db_size(d);
        if (!keys) continue;
        s = kstr_cat_printf(s, "db%d:keys=%zu,expires=%zu,avg_ttl=%lld\r\n", i, keys, db_expires_size(d), db_avg_ttl(d));
    }
    return s;
}

static void errorstat_one(void *priv, const char *code, unsigned long long count) {
    kstr *s = priv;
    *s = kstr_cat_printf(*s, "errorstat_%s:count=%llu\r\n", code, count);
}

static kstr section_errorstats(kstr s) {
    s = kstr_cat(s, "# Errorstats\r\n");
    reply_errorstats_foreach(errorstat_one, &s);
    return s;
}
static kstr section_cluster(kstr s) { return cluster_info_section(s); }
static kstr section_modules(kstr s) { return kstr_cat(s, "# Modules\r\n"); }

typedef kstr info_section_fn(kstr s);

typedef struct info_section {
    const char *name;
    info_section_fn *fn;
    int in_default;
} info_section;

/* The memory section belongs to the memory manager (src/memory). */
static kstr memory_section(kstr s) { return memory_info_section(s); }

static const info_section sections[] = {
    {"server", section_server, 1},           {"clients", section_clients, 1},
    {"memory", memory_section, 1},           {"persistence", section_persistence, 1},
    {"stats", section_stats, 1},             {"replication", section_replication, 1},
    {"cpu", section_cpu, 1},                 {"modules", section_modules, 1},
    {"commandstats", section_commandstats, 0}, {"errorstats", section_errorstats, 1},
    {"cluster", section_cluster, 1},         {"keyspace", section_keyspace, 1},
    {"latencystats", latency_info_section, 0},
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

kstr info_generate(client *c, int argc, char **argv) {
    (void)c;
    int want[NSECTIONS] = {0};
    if (argc == 0) {
        for (size_t i = 0; i < NSECTIONS; i++) want[i] = sections[i].in_default;
    }
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        int all = !strcasecmp(arg, "all") || !strcasecmp(arg, "everything");
        int def = !strcasecmp(arg, "default");
        for (size_t i = 0; i < NSECTIONS; i++) {
            if (all || (def && sections[i].in_default) || !strcasecmp(arg, sections[i].name)) want[i] = 1;
        }
    }
    kstr s = kstr_empty();
    for (size_t i = 0; i < NSECTIONS; i++) {
        if (!want[i]) continue;
        if (kstr_len(s)) s = kstr_cat(s, "\r\n");
        s = sections[i].fn(s);
    }
    return s;
}
