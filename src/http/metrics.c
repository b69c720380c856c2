/*
 * metrics: the /metrics body. Every figure comes from INFO's own text
 * (INFO everything, produced on the main thread for this request), so the
 * endpoint and INFO can never disagree, and the names, types and units are
 * redis_exporter's (v1.45, Debian's prometheus-redis-exporter) for the
 * same INFO fields: a dashboard or alert rule written for the exporter
 * works on either. Keel's own figures follow under the `keel_` prefix.
 *
 * Formats: Prometheus text 0.0.4 by default; OpenMetrics 1.0 when asked
 * for (Accept: application/openmetrics-text). OpenMetrics requires a
 * counter's samples to end in _total: the exporter's few counters that do
 * not (redis_total_error_replies, ...) are typed `unknown` there so that
 * their sample names stay the same in both formats.
 */
#include "http/http.h"
#include "http/http_internal.h"
#include "memory/memory.h"
#include "core/entry.h"
#include "core/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out {
    kstr s;
    int om;
} out;

enum { GAUGE, COUNTER, SUMMARY };

static void family(out *o, const char *name, int type, const char *help) {
    const char *t = type == GAUGE ? "gauge" : type == SUMMARY ? "summary" : "counter";
    size_t len = strlen(name);
    if (o->om && type == COUNTER) {
        if (len > 6 && !strcmp(name + len - 6, "_total")) len -= 6; /* family name without the suffix */
        else t = "unknown";
    }
    o->s = kstr_cat_printf(o->s, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, name, help, (int)len, name, t);
}

static void sample(out *o, const char *name, const char *labels, double v) {
    char num[64];
    if (v == (double)(long long)v && v < 9e15 && v > -9e15) snprintf(num, sizeof(num), "%lld", (long long)v);
    else snprintf(num, sizeof(num), "%.15g", v);
    o->s = kstr_cat_printf(o->s, "%s%s%s%s %s\n", name, labels ? "{" : "", labels ? labels : "", labels ? "}" : "",
                           num);
}

/* ---- fields read one to one ---- */

typedef struct metric_map {
    const char *field, *metric;
    int type;
    double scale; /* 0: 1 */
    const char *help;
} metric_map;

static const metric_map simple_metrics[] = {
    {"active_defrag_running", "redis_active_defrag_running", GAUGE, 0, "active_defrag_running metric"},
    {"allocator_active", "redis_allocator_active_bytes", GAUGE, 0, "allocator_active metric"},
    {"allocator_allocated", "redis_allocator_allocated_bytes", GAUGE, 0, "allocator_allocated metric"},
    {"allocator_frag_bytes", "redis_allocator_frag_bytes", GAUGE, 0, "allocator_frag_bytes metric"},
    {"allocator_frag_ratio", "redis_allocator_frag_ratio", GAUGE, 0, "allocator_frag_ratio metric"},
    {"allocator_resident", "redis_allocator_resident_bytes", GAUGE, 0, "allocator_resident metric"},
    {"allocator_rss_bytes", "redis_allocator_rss_bytes", GAUGE, 0, "allocator_rss_bytes metric"},
    {"allocator_rss_ratio", "redis_allocator_rss_ratio", GAUGE, 0, "allocator_rss_ratio metric"},
    {"aof_current_rewrite_time_sec", "redis_aof_current_rewrite_duration_sec", GAUGE, 0, "aof_current_rewrite_time_sec metric"},
    {"aof_enabled", "redis_aof_enabled", GAUGE, 0, "aof_enabled metric"},
    {"aof_last_bgrewrite_status", "redis_aof_last_bgrewrite_status", GAUGE, 0, "aof_last_bgrewrite_status metric"},
    {"aof_last_cow_size", "redis_aof_last_cow_size_bytes", GAUGE, 0, "aof_last_cow_size metric"},
    {"aof_last_rewrite_time_sec", "redis_aof_last_rewrite_duration_sec", GAUGE, 0, "aof_last_rewrite_time_sec metric"},
    {"aof_last_write_status", "redis_aof_last_write_status", GAUGE, 0, "aof_last_write_status metric"},
    {"aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", GAUGE, 0, "aof_rewrite_in_progress metric"},
    {"aof_rewrite_scheduled", "redis_aof_rewrite_scheduled", GAUGE, 0, "aof_rewrite_scheduled metric"},
    {"blocked_clients", "redis_blocked_clients", GAUGE, 0, "blocked_clients metric"},
    {"client_recent_max_input_buffer", "redis_client_recent_max_input_buffer_bytes", GAUGE, 0, "client_recent_max_input_buffer metric"},
    {"client_recent_max_output_buffer", "redis_client_recent_max_output_buffer_bytes", GAUGE, 0, "client_recent_max_output_buffer metric"},
    {"clients_in_timeout_table", "redis_clients_in_timeout_table", GAUGE, 0, "clients_in_timeout_table metric"},
    {"cluster_connections", "redis_cluster_connections", GAUGE, 0, "cluster_connections metric"},
    {"cluster_enabled", "redis_cluster_enabled", GAUGE, 0, "cluster_enabled metric"},
    {"total_commands_processed", "redis_commands_processed_total", COUNTER, 0, "total_commands_processed metric"},
    {"maxclients", "redis_config_maxclients", GAUGE, 0, "config_maxclients metric"},
    {"maxmemory", "redis_config_maxmemory", GAUGE, 0, "config_maxmemory metric"},
    {"connected_clients", "redis_connected_clients", GAUGE, 0, "connected_clients metric"},
    {"connected_slaves", "redis_connected_slaves", GAUGE, 0, "connected_slaves metric"},
    {"total_connections_received", "redis_connections_received_total", COUNTER, 0, "total_connections_received metric"},
    {"used_cpu_sys_children", "redis_cpu_sys_children_seconds_total", COUNTER, 0, "used_cpu_sys_children metric"},
    {"used_cpu_sys_main_thread", "redis_cpu_sys_main_thread_seconds_total", COUNTER, 0, "used_cpu_sys_main_thread metric"},
    {"used_cpu_sys", "redis_cpu_sys_seconds_total", COUNTER, 0, "used_cpu_sys metric"},
    {"used_cpu_user_children", "redis_cpu_user_children_seconds_total", COUNTER, 0, "used_cpu_user_children metric"},
    {"used_cpu_user_main_thread", "redis_cpu_user_main_thread_seconds_total", COUNTER, 0, "used_cpu_user_main_thread metric"},
    {"used_cpu_user", "redis_cpu_user_seconds_total", COUNTER, 0, "used_cpu_user metric"},
    {"active_defrag_hits", "redis_defrag_hits", GAUGE, 0, "active_defrag_hits metric"},
    {"active_defrag_key_hits", "redis_defrag_key_hits", GAUGE, 0, "active_defrag_key_hits metric"},
    {"active_defrag_key_misses", "redis_defrag_key_misses", GAUGE, 0, "active_defrag_key_misses metric"},
    {"active_defrag_misses", "redis_defrag_misses", GAUGE, 0, "active_defrag_misses metric"},
    {"dump_payload_sanitizations", "redis_dump_payload_sanitizations", COUNTER, 0, "dump_payload_sanitizations metric"},
    {"evicted_keys", "redis_evicted_keys_total", COUNTER, 0, "evicted_keys metric"},
    {"expired_keys", "redis_expired_keys_total", COUNTER, 0, "expired_keys metric"},
    {"expired_stale_perc", "redis_expired_stale_percentage", GAUGE, 0, "expired_stale_perc metric"},
    {"expired_time_cap_reached_count", "redis_expired_time_cap_reached_total", GAUGE, 0, "expired_time_cap_reached_count metric"},
    {"io_threaded_reads_processed", "redis_io_threaded_reads_processed", COUNTER, 0, "io_threaded_reads_processed metric"},
    {"io_threaded_writes_processed", "redis_io_threaded_writes_processed", COUNTER, 0, "io_threaded_writes_processed metric"},
    {"io_threads_active", "redis_io_threads_active", GAUGE, 0, "io_threads_active metric"},
    {"keyspace_hits", "redis_keyspace_hits_total", COUNTER, 0, "keyspace_hits metric"},
    {"keyspace_misses", "redis_keyspace_misses_total", COUNTER, 0, "keyspace_misses metric"},
    {"latest_fork_usec", "redis_latest_fork_seconds", GAUGE, 1e-6, "latest_fork_usec metric"},
    {"lazyfree_pending_objects", "redis_lazyfree_pending_objects", GAUGE, 0, "lazyfree_pending_objects metric"},
    {"loading", "redis_loading_dump_file", GAUGE, 0, "loading metric"},
    {"master_repl_offset", "redis_master_repl_offset", GAUGE, 0, "master_repl_offset metric"},
    {"mem_clients_normal", "redis_mem_clients_normal", GAUGE, 0, "mem_clients_normal metric"},
    {"mem_clients_slaves", "redis_mem_clients_slaves", GAUGE, 0, "mem_clients_slaves metric"},
    {"mem_fragmentation_bytes", "redis_mem_fragmentation_bytes", GAUGE, 0, "mem_fragmentation_bytes metric"},
    {"mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", GAUGE, 0, "mem_fragmentation_ratio metric"},
    {"mem_not_counted_for_evict", "redis_mem_not_counted_for_eviction_bytes", GAUGE, 0, "mem_not_counted_for_evict metric"},
    {"maxmemory", "redis_memory_max_bytes", GAUGE, 0, "maxmemory metric"},
    {"used_memory", "redis_memory_used_bytes", GAUGE, 0, "used_memory metric"},
    {"used_memory_dataset", "redis_memory_used_dataset_bytes", GAUGE, 0, "used_memory_dataset metric"},
    {"used_memory_lua", "redis_memory_used_lua_bytes", GAUGE, 0, "used_memory_lua metric"},
    {"used_memory_overhead", "redis_memory_used_overhead_bytes", GAUGE, 0, "used_memory_overhead metric"},
    {"used_memory_peak", "redis_memory_used_peak_bytes", GAUGE, 0, "used_memory_peak metric"},
    {"used_memory_rss", "redis_memory_used_rss_bytes", GAUGE, 0, "used_memory_rss metric"},
    {"used_memory_scripts", "redis_memory_used_scripts_bytes", GAUGE, 0, "used_memory_scripts metric"},
    {"used_memory_startup", "redis_memory_used_startup_bytes", GAUGE, 0, "used_memory_startup metric"},
    {"migrate_cached_sockets", "redis_migrate_cached_sockets_total", GAUGE, 0, "migrate_cached_sockets metric"},
    {"module_fork_in_progress", "redis_module_fork_in_progress", GAUGE, 0, "module_fork_in_progress metric"},
    {"module_fork_last_cow_size", "redis_module_fork_last_cow_size", GAUGE, 0, "module_fork_last_cow_size metric"},
    {"total_net_input_bytes", "redis_net_input_bytes_total", COUNTER, 0, "total_net_input_bytes metric"},
    {"total_net_output_bytes", "redis_net_output_bytes_total", COUNTER, 0, "total_net_output_bytes metric"},
    {"number_of_cached_scripts", "redis_number_of_cached_scripts", GAUGE, 0, "number_of_cached_scripts metric"},
    {"process_id", "redis_process_id", GAUGE, 0, "process_id metric"},
    {"pubsub_channels", "redis_pubsub_channels", GAUGE, 0, "pubsub_channels metric"},
    {"pubsub_patterns", "redis_pubsub_patterns", GAUGE, 0, "pubsub_patterns metric"},
    {"rdb_bgsave_in_progress", "redis_rdb_bgsave_in_progress", GAUGE, 0, "rdb_bgsave_in_progress metric"},
    {"rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", GAUGE, 0, "rdb_changes_since_last_save metric"},
    {"rdb_current_bgsave_time_sec", "redis_rdb_current_bgsave_duration_sec", GAUGE, 0, "rdb_current_bgsave_time_sec metric"},
    {"rdb_last_bgsave_time_sec", "redis_rdb_last_bgsave_duration_sec", GAUGE, 0, "rdb_last_bgsave_time_sec metric"},
    {"rdb_last_bgsave_status", "redis_rdb_last_bgsave_status", GAUGE, 0, "rdb_last_bgsave_status metric"},
    {"rdb_last_cow_size", "redis_rdb_last_cow_size_bytes", GAUGE, 0, "rdb_last_cow_size metric"},
    {"rdb_last_save_time", "redis_rdb_last_save_timestamp_seconds", GAUGE, 0, "rdb_last_save_time metric"},
    {"rejected_connections", "redis_rejected_connections_total", COUNTER, 0, "rejected_connections metric"},
    {"repl_backlog_active", "redis_repl_backlog_is_active", GAUGE, 0, "repl_backlog_active metric"},
    {"total_error_replies", "redis_total_error_replies", COUNTER, 0, "total_error_replies metric"},
    {"total_reads_processed", "redis_total_reads_processed", COUNTER, 0, "total_reads_processed metric"},
    {"total_system_memory", "redis_total_system_memory_bytes", GAUGE, 0, "total_system_memory metric"},
    {"total_writes_processed", "redis_total_writes_processed", COUNTER, 0, "total_writes_processed metric"},
    {"tracking_clients", "redis_tracking_clients", GAUGE, 0, "tracking_clients metric"},
    {"tracking_total_items", "redis_tracking_total_items", GAUGE, 0, "tracking_total_items metric"},
    {"tracking_total_keys", "redis_tracking_total_keys", GAUGE, 0, "tracking_total_keys metric"},
    {"tracking_total_prefixes", "redis_tracking_total_prefixes", GAUGE, 0, "tracking_total_prefixes metric"},
    {"unexpected_error_replies", "redis_unexpected_error_replies", COUNTER, 0, "unexpected_error_replies metric"},
    {"uptime_in_seconds", "redis_uptime_in_seconds", GAUGE, 0, "uptime_in_seconds metric"},
    {"repl_backlog_first_byte_offset", "redis_repl_backlog_first_byte_offset", GAUGE, 0, "repl_backlog_first_byte_offset metric"},
    {"repl_backlog_histlen", "redis_repl_backlog_history_bytes", GAUGE, 0, "repl_backlog_histlen metric"},
    {"repl_backlog_size", "redis_replication_backlog_bytes", GAUGE, 0, "repl_backlog_size metric"},
    {"second_repl_offset", "redis_second_repl_offset", GAUGE, 0, "second_repl_offset metric"},
    {"sync_partial_ok", "redis_replica_partial_resync_accepted", GAUGE, 0, "sync_partial_ok metric"},
    {"sync_partial_err", "redis_replica_partial_resync_denied", GAUGE, 0, "sync_partial_err metric"},
    {"sync_full", "redis_replica_resyncs_full", GAUGE, 0, "sync_full metric"},
    {"slave_expires_tracked_keys", "redis_slave_expires_tracked_keys", GAUGE, 0, "slave_expires_tracked_keys metric"},
    {"slave_priority", "redis_slave_priority", GAUGE, 0, "slave_priority metric"},
    /* Keel's own. */
    {"used_memory_growth_1min", "keel_memory_growth_1m_bytes_per_second", GAUGE, 0, "Growth rate of used_memory over the last minute (least squares)"},
    {"used_memory_growth_5min", "keel_memory_growth_5m_bytes_per_second", GAUGE, 0, "Growth rate of used_memory over the last 5 minutes"},
    {"used_memory_growth_60min", "keel_memory_growth_60m_bytes_per_second", GAUGE, 0, "Growth rate of used_memory over the last hour"},
    {"maxmemory_time_to_full_seconds", "keel_memory_time_to_full_seconds", GAUGE, 0, "Estimated seconds until maxmemory at the current growth rate; -1 when not growing or no maxmemory"},
    {"clients_in_backpressure", "keel_clients_in_backpressure", GAUGE, 0, "Clients waiting because their unread replies exceed client-output-backpressure"},
    {"total_backpressure_pauses", "keel_backpressure_pauses_total", COUNTER, 0, "Times a client was paused by backpressure"},
    {"mem_snapshot_buffers", "keel_snapshot_buffers_bytes", GAUGE, 0, "Buffers of the running fork-less snapshot"},
    {"allocator_reclaim_purges", "keel_allocator_reclaim_purges_total", COUNTER, 0, "Purges of idle allocator pages as RSS neared maxmemory"},
    {"total_active_defrag_time", "keel_active_defrag_seconds_total", COUNTER, 1e-3, "Time active defragmentation passes have run"},
    {"current_active_defrag_time", "keel_active_defrag_current_pass_seconds", GAUGE, 1e-3, "Time the running defragmentation pass has run (0 when none)"},
    {"client_query_buffer_limit_disconnections", "keel_client_query_buffer_limit_disconnections_total", COUNTER, 0, "Clients closed at client-query-buffer-limit"},
    {"client_output_buffer_limit_disconnections", "keel_client_output_buffer_limit_disconnections_total", COUNTER, 0, "Clients closed at their output buffer limit"},
    {"instantaneous_ops_per_sec", "keel_instantaneous_ops_per_second", GAUGE, 0, "Commands per second over the last 1.6 s"},
    {NULL, NULL, 0, 0, NULL},
};

static void emit_simple(out *o, const info_fields *in) {
    for (const metric_map *m = simple_metrics; m->field; m++) {
        const char *v = info_get(in, m->field);
        if (!v) continue;
        family(o, m->metric, m->type, m->help);
        sample(o, m->metric, NULL, info_number(in, m->field, 0) * (m->scale ? m->scale : 1.0));
    }
    family(o, "redis_config_io_threads", GAUGE, "config_io_threads metric");
    sample(o, "redis_config_io_threads", NULL, 1);
    const char *up = info_get(in, "uptime_in_seconds");
    const char *now_us = info_get(in, "server_time_usec");
    if (up && now_us) {
        family(o, "redis_start_time_seconds", GAUGE, "Start time of the Redis instance since unix epoch in seconds.");
        sample(o, "redis_start_time_seconds", NULL, (double)(long long)(strtod(now_us, NULL) / 1e6) - strtod(up, NULL));
    }
    long slow_len;
    long long slow_id, slow_us;
    http_slowlog(&slow_len, &slow_id, &slow_us);
    family(o, "redis_slowlog_length", GAUGE, "Total slowlog");
    sample(o, "redis_slowlog_length", NULL, (double)slow_len);
    family(o, "redis_slowlog_last_id", GAUGE, "Last id of slowlog");
    sample(o, "redis_slowlog_last_id", NULL, (double)slow_id);
    family(o, "redis_last_slow_execution_duration_seconds", GAUGE, "The amount of time needed for last slow execution, in seconds");
    sample(o, "redis_last_slow_execution_duration_seconds", NULL, (double)slow_us / 1e6);
    family(o, "redis_up", GAUGE, "Information about the Redis instance");
    sample(o, "redis_up", NULL, 1);
}

/* A label value, escaped as the exposition formats require. */
static kstr label_value(const char *v, size_t len) {
    kstr s = kstr_empty();
    for (size_t i = 0; i < len; i++) {
        if (v[i] == '\\' || v[i] == '"') s = kstr_cat_len(s, "\\", 1);
        if (v[i] == '\n') s = kstr_cat(s, "\\n");
        else s = kstr_cat_len(s, v + i, 1);
    }
    return s;
}

static void emit_instance_info(out *o, const info_fields *in) {
    static const char *labels[] = {"maxmemory_policy", "os", "process_id", "redis_build_id", "redis_mode",
                                   "redis_version", "role", "run_id", "tcp_port"};
    kstr l = kstr_empty();
    for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
        const char *v = info_get(in, labels[i]);
        kstr e = label_value(v ? v : "", v ? strlen(v) : 0);
        l = kstr_cat_printf(l, "%s%s=\"%s\"", i ? "," : "", labels[i], e);
        kstr_free(e);
    }
    family(o, "redis_instance_info", GAUGE, "Information about the Redis instance");
    sample(o, "redis_instance_info", l, 1);
    kstr_free(l);
}

static void emit_prefixed(out *o, const info_fields *in, const char *prefix, const char *metric, const char *label,
                          const char *key, double scale) {
    size_t plen = strlen(prefix);
    for (int i = 0; i < in->n; i++) {
        if (strncmp(in->f[i].name, prefix, plen)) continue;
        double v = info_sub_value(in->f[i].value, key);
        if (v < 0) continue;
        kstr name = label_value(in->f[i].name + plen, strlen(in->f[i].name + plen));
        kstr l = kstr_cat_printf(kstr_empty(), "%s=\"%s\"", label, name);
        sample(o, metric, l, v * scale);
        kstr_free(l);
        kstr_free(name);
    }
}

static void emit_commands(out *o, const info_fields *in) {
    family(o, "redis_commands_duration_seconds_total", COUNTER, "Total amount of time in seconds spent per command");
    emit_prefixed(o, in, "cmdstat_", "redis_commands_duration_seconds_total", "cmd", "usec", 1e-6);
    family(o, "redis_commands_failed_calls_total", COUNTER, "Total number of errors prior command execution per command");
    emit_prefixed(o, in, "cmdstat_", "redis_commands_failed_calls_total", "cmd", "failed_calls", 1);
    family(o, "redis_commands_rejected_calls_total", COUNTER, "Total number of errors within command execution per command");
    emit_prefixed(o, in, "cmdstat_", "redis_commands_rejected_calls_total", "cmd", "rejected_calls", 1);
    family(o, "redis_commands_total", COUNTER, "Total number of calls per command");
    emit_prefixed(o, in, "cmdstat_", "redis_commands_total", "cmd", "calls", 1);
    family(o, "redis_errors_total", COUNTER, "Total number of errors per error type");
    emit_prefixed(o, in, "errorstat_", "redis_errors_total", "err", "count", 1);
}

/* latencystats: latency_percentiles_usec_<cmd>:p50=..,p99=..,p99.9=..,
 * with the sum and count of commandstats, as the exporter's summary. */
static void emit_latency(out *o, const info_fields *in) {
    static const char *prefix = "latency_percentiles_usec_";
    size_t plen = strlen(prefix);
    family(o, "redis_latency_percentiles_usec", SUMMARY, "A summary of latency percentile distribution per command");
    for (int i = 0; i < in->n; i++) {
        if (strncmp(in->f[i].name, prefix, plen)) continue;
        const char *cmd = in->f[i].name + plen;
        kstr ecmd = label_value(cmd, strlen(cmd));
        for (const char *p = in->f[i].value; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
            if (*p != 'p') continue;
            const char *eq = strchr(p, '=');
            if (!eq) break;
            kstr l = kstr_cat_printf(kstr_empty(), "cmd=\"%s\",quantile=\"%.*s\"", ecmd, (int)(eq - p - 1), p + 1);
            sample(o, "redis_latency_percentiles_usec", l, strtod(eq + 1, NULL));
            kstr_free(l);
        }
        char stat[512];
        snprintf(stat, sizeof(stat), "cmdstat_%s", cmd);
        const char *cs = info_get(in, stat);
        kstr l = kstr_cat_printf(kstr_empty(), "cmd=\"%s\"", ecmd);
        sample(o, "redis_latency_percentiles_usec_sum", l, cs ? info_sub_value(cs, "usec") : 0);
        sample(o, "redis_latency_percentiles_usec_count", l, cs ? info_sub_value(cs, "calls") : 0);
        kstr_free(l);
        kstr_free(ecmd);
    }
}

/* A replica's link figures, labelled with its master as the exporter
 * labels them, and a master's per-replica lines (slaveN:ip=..,port=..). */
static void emit_replication(out *o, const info_fields *in) {
    static const struct { const char *field, *metric; } link[] = {
        {"master_last_io_seconds_ago", "redis_master_last_io_seconds_ago"},
        {"master_link_status", "redis_master_link_up"},
        {"master_sync_in_progress", "redis_master_sync_in_progress"},
        {"slave_repl_offset", "redis_slave_repl_offset"},
        {"master_link_down_since_seconds", "redis_master_link_down_since_seconds"},
    };
    const char *host = info_get(in, "master_host"), *port = info_get(in, "master_port");
    if (host && port) {
        kstr eh = label_value(host, strlen(host)), ep = label_value(port, strlen(port));
        kstr l = kstr_cat_printf(kstr_empty(), "master_host=\"%s\",master_port=\"%s\"", eh, ep);
        for (size_t i = 0; i < sizeof(link) / sizeof(link[0]); i++) {
            const char *v = info_get(in, link[i].field);
            if (!v) continue;
            family(o, link[i].metric, GAUGE, "replication link metric");
            sample(o, link[i].metric, l, i == 1 ? !strcmp(v, "up") : strtod(v, NULL));
        }
        const char *ro = info_get(in, "slave_read_only");
        kstr info = kstr_cat_printf(kstr_dup(l), ",read_only=\"%s\"", ro ? ro : "");
        family(o, "redis_slave_info", GAUGE, "Information about the Redis slave");
        sample(o, "redis_slave_info", info, 1);
        kstr_free(info);
        kstr_free(l);
        kstr_free(eh);
        kstr_free(ep);
    }
    static const struct { const char *metric, *key; } per_replica[] = {
        {"redis_connected_slave_offset_bytes", "offset"}, {"redis_connected_slave_lag_seconds", "lag"}};
    for (int m = 0; m < 2; m++) {
        int header = 0;
        for (int i = 0; i < in->n; i++) {
            const char *name = in->f[i].name, *v = in->f[i].value;
            if (strncmp(name, "slave", 5) || name[5] < '0' || name[5] > '9') continue;
            char ip[128] = "", pt[16] = "", state[32] = "";
            const char *p;
            if ((p = strstr(v, "ip="))) sscanf(p + 3, "%127[^,]", ip);
            if ((p = strstr(v, "port="))) sscanf(p + 5, "%15[^,]", pt);
            if ((p = strstr(v, "state="))) sscanf(p + 6, "%31[^,]", state);
            if (!header) family(o, per_replica[m].metric, GAUGE, "replica metric");
            header = 1;
            kstr l = kstr_cat_printf(kstr_empty(), "slave_ip=\"%s\",slave_port=\"%s\",slave_state=\"%s\"", ip, pt, state);
            sample(o, per_replica[m].metric, l, info_sub_value(v, per_replica[m].key));
            kstr_free(l);
        }
    }
}

/* Every database gets keys and keys_expiring (0 when empty), as the
 * exporter does from CONFIG GET databases; avg_ttl only for those INFO
 * keyspace lists. */
static void emit_keyspace(out *o, const info_fields *in, int databases) {
    static const struct { const char *metric, *key, *help; } k[] = {
        {"redis_db_keys", "keys", "Total number of keys by DB"},
        {"redis_db_keys_expiring", "expires", "Total number of expiring keys by DB"},
    };
    for (int m = 0; m < 2; m++) {
        family(o, k[m].metric, GAUGE, k[m].help);
        for (int d = 0; d < databases; d++) {
            char name[32], l[48];
            snprintf(name, sizeof(name), "db%d", d);
            snprintf(l, sizeof(l), "db=\"db%d\"", d);
            const char *v = info_get(in, name);
            double n = v ? info_sub_value(v, k[m].key) : 0;
            sample(o, k[m].metric, l, n < 0 ? 0 : n);
        }
    }
    family(o, "redis_db_avg_ttl_seconds", GAUGE, "Avg TTL in seconds");
    for (int d = 0; d < databases; d++) {
        char name[32], l[48];
        snprintf(name, sizeof(name), "db%d", d);
        snprintf(l, sizeof(l), "db=\"db%d\"", d);
        const char *v = info_get(in, name);
        if (v) sample(o, "redis_db_avg_ttl_seconds", l, info_sub_value(v, "avg_ttl") / 1000.0);
    }
}

static void emit_keel_profile(out *o) {
    memory_profile p;
    memory_keyspace_profile(&p);
    family(o, "keel_memory_by_type_bytes", GAUGE, "Memory of the keys of each type (background sampler's last pass)");
    for (int t = 0; t < TYPE_COUNT; t++) {
        const char *name = entry_type_name(t);
        if (!strcmp(name, "unknown")) continue;
        char l[64];
        snprintf(l, sizeof(l), "type=\"%s\"", name);
        sample(o, "keel_memory_by_type_bytes", l, (double)p.bytes[t]);
    }
    family(o, "keel_memory_history_ring_bytes", GAUGE, "Fixed size of the 1 s memory history ring");
    sample(o, "keel_memory_history_ring_bytes", NULL, (double)memory_history_ring_bytes());
}

kstr metrics_render(int openmetrics) {
    info_fields *in = info_fields_get("everything");
    out o = {.s = kstr_empty(), .om = openmetrics};
    emit_simple(&o, in);
    emit_instance_info(&o, in);
    emit_commands(&o, in);
    emit_latency(&o, in);
    emit_replication(&o, in);
    emit_keyspace(&o, in, server.dbnum);
    emit_keel_profile(&o);
    if (openmetrics) o.s = kstr_cat(o.s, "# EOF\n");
    info_fields_free(in);
    return o.s;
}
