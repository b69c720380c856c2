/*
 * sentinel_cmds: the commands served in sentinel mode: SENTINEL and its
 * subcommands, INFO (Sentinel's sections), ROLE, and PUBLISH (which in
 * Sentinel only takes hello messages), with Redis Sentinel 7.0's replies
 * and error texts: instance descriptions are flat field/value arrays in
 * RESP2 and maps in RESP3.
 */
#include "sentinel/sentinel.h"
#include "sentinel/sentinel_internal.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/server.h"
#include "lib/util.h"
#include "net/reply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#define NO_SUCH_MASTER "No such master with that name"

const char *const sentinel_kept_commands[] = {
    "ping", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "client", "command",
    "hello", "auth", "shutdown", "acl", NULL,
};

static sinstance *master_or_reply(client *c, const kstr name) {
    sinstance *m = master_lookup(name);
    if (!m) reply_error(c, NO_SUCH_MASTER);
    return m;
}

static void flush_and_reply(client *c) {
    if (sentinel_flush_config()) reply_ok(c);
    else reply_error(c, "Failed to save config file. Check server logs.");
}

/* ---- Instance descriptions ------------------------------------------------- */

static void field_str(client *c, int *n, const char *k, const char *v) {
    reply_bulk_cstr(c, k);
    reply_bulk_cstr(c, v);
    (*n)++;
}

static void field_ll(client *c, int *n, const char *k, long long v) {
    reply_bulk_cstr(c, k);
    reply_bulk_ll(c, v);
    (*n)++;
}

static int link_disconnected(const sinstance *ri) {
    return !ri->cc || sconn_broken(ri->cc) || (!(ri->flags & SRI_SENTINEL) && (!ri->pc || sconn_broken(ri->pc)));
}

static kstr flags_text(const sinstance *ri) {
    static const struct { int bit; const char *name; } names[] = {
        {SRI_S_DOWN, "s_down"}, {SRI_O_DOWN, "o_down"}, {SRI_MASTER, "master"}, {SRI_SLAVE, "slave"},
        {SRI_SENTINEL, "sentinel"}, {-1, "disconnected"}, {SRI_MASTER_DOWN, "master_down"},
        {SRI_FAILOVER_IN_PROGRESS, "failover_in_progress"}, {SRI_PROMOTED, "promoted"},
        {SRI_RECONF_SENT, "reconf_sent"}, {SRI_RECONF_INPROG, "reconf_inprog"}, {SRI_RECONF_DONE, "reconf_done"},
        {SRI_FORCE_FAILOVER, "force_failover"}, {SRI_SCRIPT_KILL_SENT, "script_kill_sent"},
    };
    kstr s = kstr_empty();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int on = names[i].bit == -1 ? link_disconnected(ri) : (ri->flags & names[i].bit) != 0;
        if (!on) continue;
        if (kstr_len(s)) s = kstr_cat(s, ",");
        s = kstr_cat(s, names[i].name);
    }
    return s;
}

static void reply_instance(client *c, sinstance *ri) {
    long long now = mstime();
    int n = 0;
    void *len = reply_deferred_len(c);
    field_str(c, &n, "name", ri->name);
    field_str(c, &n, "ip", shown_addr(ri));
    field_ll(c, &n, "port", ri->port);
    field_str(c, &n, "runid", ri->runid ? ri->runid : "");
    kstr fl = flags_text(ri);
    field_str(c, &n, "flags", fl);
    kstr_free(fl);
    field_ll(c, &n, "link-pending-commands", ri->cc ? sconn_pending(ri->cc) : 0);
    field_ll(c, &n, "link-refcount", 1);
    if (ri->flags & SRI_FAILOVER_IN_PROGRESS) field_str(c, &n, "failover-state", failover_state_name(ri->failover_state));
    field_ll(c, &n, "last-ping-sent", ri->act_ping_time ? now - ri->act_ping_time : 0);
    field_ll(c, &n, "last-ok-ping-reply", now - ri->last_avail_time);
    field_ll(c, &n, "last-ping-reply", now - ri->last_pong_time);
    if (ri->flags & SRI_S_DOWN) field_ll(c, &n, "s-down-time", now - ri->s_down_since_time);
    if (ri->flags & SRI_O_DOWN) field_ll(c, &n, "o-down-time", now - ri->o_down_since_time);
    field_ll(c, &n, "down-after-milliseconds", ri->down_after_period);
    if (ri->flags & (SRI_MASTER | SRI_SLAVE)) {
        field_ll(c, &n, "info-refresh", ri->info_refresh ? now - ri->info_refresh : 0);
        field_str(c, &n, "role-reported", ri->role_reported == SRI_MASTER ? "master" : "slave");
        field_ll(c, &n, "role-reported-time", now - ri->role_reported_time);
    }
    if (ri->flags & SRI_MASTER) {
        field_ll(c, &n, "config-epoch", (long long)ri->config_epoch);
        field_ll(c, &n, "num-slaves", ri->slaves.n);
        field_ll(c, &n, "num-other-sentinels", ri->sentinels.n);
        field_ll(c, &n, "quorum", ri->quorum);
        field_ll(c, &n, "failover-timeout", ri->failover_timeout);
        field_ll(c, &n, "parallel-syncs", ri->parallel_syncs);
        if (ri->notification_script) field_str(c, &n, "notification-script", ri->notification_script);
        if (ri->client_reconfig_script) field_str(c, &n, "client-reconfig-script", ri->client_reconfig_script);
    }
    if (ri->flags & SRI_SLAVE) {
        field_ll(c, &n, "master-link-down-time", ri->master_link_down_time);
        field_str(c, &n, "master-link-status", ri->slave_master_link_up ? "ok" : "err");
        field_str(c, &n, "master-host", ri->slave_master_host ? ri->slave_master_host : "?");
        field_ll(c, &n, "master-port", ri->slave_master_port);
        field_ll(c, &n, "slave-priority", ri->slave_priority);
        field_ll(c, &n, "slave-repl-offset", (long long)ri->slave_repl_offset);
        field_ll(c, &n, "replica-announced", ri->replica_announced);
    }
    if (ri->flags & SRI_SENTINEL) {
        field_ll(c, &n, "last-hello-message", now - ri->last_hello_time);
        field_str(c, &n, "voted-leader", ri->leader ? ri->leader : "?");
        field_ll(c, &n, "voted-leader-epoch", (long long)ri->leader_epoch);
    }
    reply_set_deferred_map_len(c, len, n);
}

static void reply_instances(client *c, iarray *a, int only_announced) {
    void *len = reply_deferred_len(c);
    long n = 0;
    for (int i = 0; i < a->n; i++) {
        if (only_announced && (a->v[i]->flags & SRI_SLAVE) && !a->v[i]->replica_announced) continue;
        reply_instance(c, a->v[i]);
        n++;
    }
    reply_set_deferred_array_len(c, len, n);
}

/* ---- Subcommands ---------------------------------------------------------- */

static void masters_cmd(client *c) { reply_instances(c, &sentinel.masters, 0); }

static void master_cmd(client *c) {
    sinstance *m = master_or_reply(c, c->argv[2]);
    if (m) reply_instance(c, m);
}

static void replicas_cmd(client *c) {
    sinstance *m = master_or_reply(c, c->argv[2]);
    if (m) reply_instances(c, &m->slaves, 1);
}

static void sentinels_cmd(client *c) {
    sinstance *m = master_or_reply(c, c->argv[2]);
    if (m) reply_instances(c, &m->sentinels, 0);
}

static void get_master_addr_cmd(client *c) {
    sinstance *m = master_lookup(c->argv[2]);
    if (!m) { reply_null_array(c); return; }
    sinstance *a = m;
    if ((m->flags & SRI_FAILOVER_IN_PROGRESS) && m->promoted_slave && m->failover_state >= FO_RECONF_SLAVES)
        a = m->promoted_slave;
    reply_array_len(c, 2);
    reply_bulk_cstr(c, shown_addr(a));
    reply_bulk_ll(c, a->port);
}

static void is_master_down_cmd(client *c) {
    long long port, epoch;
    if (!parse_ll(c, c->argv[3], &port) || !parse_ll(c, c->argv[4], &epoch)) return;
    sinstance *m = master_lookup_addr(c->argv[2], (int)port);
    int down = !sentinel.tilt && m && (m->flags & SRI_S_DOWN);
    const char *leader = NULL;
    uint64_t leader_epoch = 0;
    if (m && strcasecmp(c->argv[5], "*")) leader = vote_leader(m, (uint64_t)epoch, c->argv[5], &leader_epoch);
    reply_array_len(c, 3);
    reply_ll(c, down);
    reply_bulk_cstr(c, leader ? leader : "*");
    reply_ll(c, (long long)leader_epoch);
}

static void failover_cmd(client *c) {
    sinstance *m = master_or_reply(c, c->argv[2]);
    if (!m) return;
    if (m->flags & SRI_FAILOVER_IN_PROGRESS) { reply_error(c, "INPROG Failover already in progress"); return; }
    if (!select_slave(m)) { reply_error(c, "NOGOODSLAVE No suitable replica to promote"); return; }
    server_log(LOG_WARNING, "Executing user requested FAILOVER of '%s'", m->name);
    failover_start(m);
    m->flags |= SRI_FORCE_FAILOVER;
    reply_ok(c);
}

static int valid_ip(const char *s) {
    char ip[64];
    return resolve_addr(s, ip, sizeof(ip));
}

static void monitor_cmd(client *c) {
    long long quorum, port;
    if (!parse_ll_msg(c, c->argv[5], &quorum, "Invalid quorum")) return;
    if (!parse_ll_msg(c, c->argv[4], &port, "Invalid port")) return;
    if (quorum <= 0) { reply_error(c, "Quorum must be 1 or greater."); return; }
    if (!valid_ip(c->argv[3])) { reply_error(c, "Invalid IP address or hostname specified"); return; }
    const char *err;
    sinstance *m = instance_new(c->argv[2], SRI_MASTER, c->argv[3], (int)port, (unsigned)quorum, NULL, &err);
    if (!m) { reply_error(c, err); return; }
    flush_and_reply(c);
    sentinel_event(LOG_WARNING, "+monitor", m, "quorum %u", m->quorum);
}

static void remove_cmd(client *c) {
    sinstance *m = master_or_reply(c, c->argv[2]);
    if (!m) return;
    sentinel_event(LOG_WARNING, "-monitor", m, "%s", "");
    iarray_remove(&sentinel.masters, m);
    instance_free(m);
    flush_and_reply(c);
}

static void ckquorum_cmd(client *c) {
    sinstance *m = master_or_reply(c, c->argv[2]);
    if (!m) return;
    int usable = 1, voters = m->sentinels.n + 1;
    for (int i = 0; i < m->sentinels.n; i++)
        if (!(m->sentinels.v[i]->flags & (SRI_S_DOWN | SRI_O_DOWN))) usable++;
    int noquorum = usable < (int)m->quorum, noauth = usable < voters / 2 + 1;
    if (!noquorum && !noauth) {
        char buf[128];
        snprintf(buf, sizeof(buf), "OK %d usable Sentinels. Quorum and failover authorization can be reached", usable);
        reply_status(c, buf);
        return;
    }
    char buf[256];
    snprintf(buf, sizeof(buf), "NOQUORUM %d usable Sentinels. %s%s%s", usable,
             noquorum ? "Not enough available Sentinels to reach the specified quorum for this master" : "",
             noquorum && noauth ? ". " : "",
             noauth ? "Not enough available Sentinels to reach the majority and authorize a failover" : "");
    reply_error(c, buf);
}

static void flushconfig_cmd(client *c) { flush_and_reply(c); }

static void reset_cmd(client *c) {
    long n = 0;
    for (int i = 0; i < sentinel.masters.n; i++) {
        sinstance *m = sentinel.masters.v[i];
        if (!glob_match(c->argv[2], kstr_len(c->argv[2]), m->name, kstr_len(m->name), 0)) continue;
        master_reset(m, 0, 1);
        n++;
    }
    if (n) sentinel_flush_config();
    reply_ll(c, n);
}

static void myid_cmd(client *c) { reply_bulk_cstr(c, sentinel.myid); }

static void pending_scripts_cmd(client *c) { scripts_reply_pending(c); }

static void info_cache_cmd(client *c) {
    long long now = mstime();
    void *len = reply_deferred_len(c);
    long n = 0;
    for (int i = 0; i < sentinel.masters.n; i++) {
        sinstance *m = sentinel.masters.v[i];
        int wanted = c->argc == 2;
        for (int j = 2; j < c->argc && !wanted; j++) wanted = !strcmp(c->argv[j], m->name);
        if (!wanted) continue;
        n += 2;
        reply_bulk_cstr(c, m->name);
        reply_array_len(c, m->slaves.n + 1);
        for (int j = -1; j < m->slaves.n; j++) {
            sinstance *ri = j < 0 ? m : m->slaves.v[j];
            reply_array_len(c, 2);
            reply_ll(c, ri->info_refresh ? now - ri->info_refresh : 0);
            if (ri->info) reply_bulk(c, ri->info, kstr_len(ri->info));
            else reply_null(c);
        }
    }
    reply_set_deferred_array_len(c, len, n);
}

static void simulate_failure_cmd(client *c) {
    sentinel.simfailure_flags = 0;
    for (int j = 2; j < c->argc; j++) {
        if (arg_is(c->argv[j], "crash-after-election")) {
            sentinel.simfailure_flags |= SIMFAILURE_CRASH_AFTER_ELECTION;
            server_log(LOG_WARNING, "Failure simulation: this Sentinel will crash after being successfully elected as failover leader");
        } else if (arg_is(c->argv[j], "crash-after-promotion")) {
            sentinel.simfailure_flags |= SIMFAILURE_CRASH_AFTER_PROMOTION;
            server_log(LOG_WARNING, "Failure simulation: this Sentinel will crash after promoting the selected replica to master");
        } else if (arg_is(c->argv[j], "help")) {
            reply_array_len(c, 2);
            reply_bulk_cstr(c, "crash-after-election");
            reply_bulk_cstr(c, "crash-after-promotion");
            return;
        } else {
            reply_error(c, "Unknown failure simulation specified");
            return;
        }
    }
    reply_ok(c);
}

static const struct { const char *name; long long *value; } debug_params[] = {
    {"info-period", &st.info_period}, {"ping-period", &st.ping_period}, {"ask-period", &st.ask_period},
    {"publish-period", &st.publish_period}, {"default-down-after", &st.default_down_after},
    {"default-failover-timeout", &st.default_failover_timeout}, {"tilt-trigger", &st.tilt_trigger},
    {"tilt-period", &st.tilt_period}, {"slave-reconf-timeout", &st.slave_reconf_timeout},
    {"min-link-reconnect-period", &st.min_link_reconnect_period}, {"election-timeout", &st.election_timeout},
    {"script-max-runtime", &st.script_max_runtime}, {"script-retry-delay", &st.script_retry_delay},
};
#define NDEBUG_PARAMS (sizeof(debug_params) / sizeof(debug_params[0]))

static void debug_cmd(client *c) {
    if (c->argc == 2) {
        reply_map_len(c, (long)NDEBUG_PARAMS - 1);
        for (size_t i = 0; i < NDEBUG_PARAMS - 1; i++) {
            char up[64];
            size_t k;
            for (k = 0; debug_params[i].name[k] && k < sizeof(up) - 1; k++)
                up[k] = (char)(debug_params[i].name[k] == '-' ? '-' : debug_params[i].name[k] - 32);
            up[k] = '\0';
            reply_bulk_cstr(c, up);
            reply_bulk_ll(c, *debug_params[i].value);
        }
        return;
    }
    for (int j = 2; j < c->argc; j += 2) {
        size_t i;
        for (i = 0; i < NDEBUG_PARAMS; i++)
            if (arg_is(c->argv[j], debug_params[i].name)) break;
        if (i == NDEBUG_PARAMS || j + 1 >= c->argc) {
            reply_errorf(c, "Unknown option or number of arguments for SENTINEL DEBUG '%s'", c->argv[j]);
            return;
        }
        long long v;
        if (!string_to_ll(c->argv[j + 1], kstr_len(c->argv[j + 1]), &v) || v <= 0) {
            reply_errorf(c, "Invalid argument '%s' for SENTINEL DEBUG '%s'", c->argv[j + 1], c->argv[j]);
            return;
        }
        *debug_params[i].value = v;
    }
    reply_ok(c);
}

static void config_get(client *c) {
    const char *pat = c->argv[3];
    char port[16];
    snprintf(port, sizeof(port), "%d", sentinel.announce_port);
    const char *names[] = {"resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port", "sentinel-user", "sentinel-pass"};
    const char *values[] = {sentinel.resolve_hostnames ? "yes" : "no", sentinel.announce_hostnames ? "yes" : "no",
                            sentinel.announce_ip ? sentinel.announce_ip : "", port,
                            sentinel.sentinel_user ? sentinel.sentinel_user : "",
                            sentinel.sentinel_pass ? sentinel.sentinel_pass : ""};
    void *len = reply_deferred_len(c);
    long n = 0;
    for (int i = 0; i < 6; i++) {
        if (!glob_match(pat, strlen(pat), names[i], strlen(names[i]), 1)) continue;
        reply_bulk_cstr(c, names[i]);
        if (i == 3) reply_bulk_ll(c, sentinel.announce_port);
        else reply_bulk_cstr(c, values[i]);
        n++;
    }
    reply_set_deferred_map_len(c, len, n);
}

static void drop_all_links(void) {
    for (int i = 0; i < sentinel.masters.n; i++) {
        sinstance *m = sentinel.masters.v[i];
        for (int j = 0; j < m->sentinels.n; j++) instance_release_links(m->sentinels.v[j]);
    }
}

static int set_optional(kstr *slot, const kstr v) {
    kstr_free(*slot);
    *slot = kstr_len(v) ? kstr_dup(v) : NULL;
    return 1;
}

static void config_set(client *c) {
    const kstr o = c->argv[3], v = c->argv[4];
    int ok = 1, yn = arg_is(v, "yes") ? 1 : arg_is(v, "no") ? 0 : -1;
    long long num;
    if (arg_is(o, "resolve-hostnames")) ok = yn >= 0 && (sentinel.resolve_hostnames = yn, 1);
    else if (arg_is(o, "announce-hostnames")) ok = yn >= 0 && (sentinel.announce_hostnames = yn, 1);
    else if (arg_is(o, "announce-ip")) set_optional(&sentinel.announce_ip, v);
    else if (arg_is(o, "announce-port")) {
        ok = string_to_ll(v, kstr_len(v), &num) && num >= 0 && num <= 65535;
        if (ok) sentinel.announce_port = (int)num;
    } else if (arg_is(o, "sentinel-user")) set_optional(&sentinel.sentinel_user, v), drop_all_links();
    else if (arg_is(o, "sentinel-pass")) set_optional(&sentinel.sentinel_pass, v), drop_all_links();
    else {
        reply_errorf(c, "Invalid argument '%s' to SENTINEL CONFIG SET", o);
        return;
    }
    if (!ok) reply_errorf(c, "Invalid value '%s' to SENTINEL CONFIG SET '%s'", v, o);
    else flush_and_reply(c);
}

static void config_cmd(client *c) {
    if (arg_is(c->argv[2], "set") && c->argc == 5) config_set(c);
    else if (arg_is(c->argv[2], "get") && c->argc == 4) config_get(c);
    else reply_error(c, "Only SENTINEL CONFIG GET <option> / SET <option> <value> are supported.");
}

static void set_cmd(client *c);

static void help_cmd(client *c) {
    static const char *const help[] = {
        "CKQUORUM <master-name>", "    Check if the current Sentinel configuration is able to reach the quorum",
        "    needed to failover a master and the majority needed to authorize the", "    failover.",
        "CONFIG SET <param> <value>", "    Set a global Sentinel configuration parameter.",
        "CONFIG GET <param>", "    Get global Sentinel configuration parameter.",
        "DEBUG [<param> <value> ...]", "    Show or update the configurable time parameters (milliseconds).",
        "GET-MASTER-ADDR-BY-NAME <master-name>", "    Return the ip and port number of the master with that name.",
        "FAILOVER <master-name>", "    Manually failover a master node without asking for agreement from other",
        "    Sentinels", "FLUSHCONFIG", "    Force Sentinel to rewrite its configuration on disk, including the current",
        "    Sentinel state.", "INFO-CACHE <master-name>", "    Return last cached INFO output from masters and all its replicas.",
        "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
        "    Check if the master specified by ip:port is down from current Sentinel's", "    point of view.",
        "MASTER <master-name>", "    Show the state and info of the specified master.",
        "MASTERS", "    Show a list of monitored masters and their state.",
        "MONITOR <name> <ip> <port> <quorum>", "    Start monitoring a new master with the specified name, ip, port and quorum.",
        "MYID", "    Return the ID of the Sentinel instance.",
        "PENDING-SCRIPTS", "    List pending scripts.",
        "REMOVE <master-name>", "    Remove master from Sentinel's monitor list.",
        "REPLICAS <master-name>", "    Show a list of replicas for this master and their state.",
        "RESET <pattern>", "    Reset masters for specific master name matching this pattern.",
        "SENTINELS <master-name>", "    Show a list of Sentinel instances for this master and their state.",
        "SET <master-name> <option> <value> [<option> <value> ...]",
        "    Set configuration parameters for certain masters.",
        "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
        "    Simulate a Sentinel crash.", NULL,
    };
    reply_help(c, help);
}

static command sentinel_subcommands[] = {
    {"ckquorum", ckquorum_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Checks for a Redis Sentinel quorum.", NULL},
    {"config", config_cmd, -4, "admin only_sentinel", 0, 0, 0, "sentinel", "6.2.0", "Configures Redis Sentinel.", NULL},
    {"debug", debug_cmd, -2, "admin only_sentinel", 0, 0, 0, "sentinel", "7.0.0", "Lists or updates the current configurable parameters of Redis Sentinel.", NULL},
    {"failover", failover_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Forces a Redis Sentinel failover.", NULL},
    {"flushconfig", flushconfig_cmd, 2, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Rewrites the Redis Sentinel configuration file.", NULL},
    {"get-master-addr-by-name", get_master_addr_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Returns the port and address of a master Redis instance.", NULL},
    {"help", help_cmd, 2, "loading stale only_sentinel", 0, 0, 0, "sentinel", "6.2.0", "Returns helpful text about the different subcommands.", NULL},
    {"info-cache", info_cache_cmd, -3, "admin only_sentinel", 0, 0, 0, "sentinel", "3.2.0", "Returns the cached INFO replies from the deployment's instances.", NULL},
    {"is-master-down-by-addr", is_master_down_cmd, 6, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Determines whether a master Redis instance is down.", NULL},
    {"master", master_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Returns the state of a master Redis instance.", NULL},
    {"masters", masters_cmd, 2, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Returns a list of monitored Redis masters.", NULL},
    {"monitor", monitor_cmd, 6, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Starts monitoring.", NULL},
    {"myid", myid_cmd, 2, "admin only_sentinel", 0, 0, 0, "sentinel", "6.2.0", "Returns the Redis Sentinel instance ID.", NULL},
    {"pending-scripts", pending_scripts_cmd, 2, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Returns information about pending scripts for Redis Sentinel.", NULL},
    {"remove", remove_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Stops monitoring.", NULL},
    {"replicas", replicas_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "5.0.0", "Returns a list of the monitored Redis replicas.", NULL},
    {"reset", reset_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Resets Redis masters by name matching a pattern.", NULL},
    {"sentinels", sentinels_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Returns a list of Sentinel instances.", NULL},
    {"set", set_cmd, -5, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "Changes the configuration of a monitored Redis master.", NULL},
    {"simulate-failure", simulate_failure_cmd, -3, "admin only_sentinel", 0, 0, 0, "sentinel", "3.2.0", "Simulates failover scenarios.", NULL},
    {"slaves", replicas_cmd, 3, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.0", "Returns a list of the monitored replicas.", NULL},
    {0},
};

/* ---- SENTINEL SET ------------------------------------------------------------ */

static int positive(const kstr v, long long *out, int allow_zero) {
    return string_to_ll(v, kstr_len(v), out) && (*out > 0 || (allow_zero && *out == 0));
}

static void set_cmd(client *c) {
    sinstance *m = master_or_reply(c, c->argv[2]);
    if (!m) return;
    int changes = 0;
    for (int j = 3; j < c->argc; j++) {
        const kstr opt = c->argv[j];
        int more = c->argc - 1 - j, first = j;
        long long v;
        const char *bad = NULL;
        if (arg_is(opt, "down-after-milliseconds") && more > 0) {
            if (!positive(c->argv[++j], &v, 0)) bad = c->argv[j];
            else {
                m->down_after_period = v;
                for (int i = 0; i < m->slaves.n; i++) m->slaves.v[i]->down_after_period = v;
                for (int i = 0; i < m->sentinels.n; i++) m->sentinels.v[i]->down_after_period = v;
            }
        } else if (arg_is(opt, "failover-timeout") && more > 0) {
            if (!positive(c->argv[++j], &v, 0)) bad = c->argv[j];
            else m->failover_timeout = v;
        } else if (arg_is(opt, "parallel-syncs") && more > 0) {
            if (!positive(c->argv[++j], &v, 0)) bad = c->argv[j];
            else m->parallel_syncs = (int)v;
        } else if (arg_is(opt, "quorum") && more > 0) {
            if (!positive(c->argv[++j], &v, 0)) bad = c->argv[j];
            else m->quorum = (unsigned)v;
        } else if (arg_is(opt, "master-reboot-down-after-period") && more > 0) {
            if (!positive(c->argv[++j], &v, 1)) bad = c->argv[j];
            else m->master_reboot_down_after_period = v;
        } else if ((arg_is(opt, "notification-script") || arg_is(opt, "client-reconfig-script")) && more > 0) {
            const kstr path = c->argv[++j];
            int notif = arg_is(opt, "notification-script");
            if (sentinel.deny_scripts_reconfig) {
                reply_error(c, "Reconfiguration of scripts path is denied for security reasons. Check the "
                               "deny-scripts-reconfig configuration directive in your Sentinel configuration");
                break;
            }
            if (kstr_len(path) && access(path, X_OK) == -1) {
                reply_error(c, notif ? "Notification script seems non existing or non executable"
                                     : "Client reconfiguration script seems non existing or non executable");
                break;
            }
            set_optional(notif ? &m->notification_script : &m->client_reconfig_script, path);
        } else if ((arg_is(opt, "auth-pass") || arg_is(opt, "auth-user")) && more > 0) {
            set_optional(arg_is(opt, "auth-pass") ? &m->auth_pass : &m->auth_user, c->argv[++j]);
            instance_release_links(m);
            for (int i = 0; i < m->slaves.n; i++) instance_release_links(m->slaves.v[i]);
        } else if (arg_is(opt, "rename-command") && more > 1) {
            const kstr from = c->argv[j + 1], to = c->argv[j + 2];
            j += 2;
            if (!kstr_len(from) || !kstr_len(to)) bad = kstr_len(to) ? from : to;
            else master_rename_command(m, from, to);
        } else {
            reply_errorf(c, "Unknown option or number of arguments for SENTINEL SET '%s'", opt);
            break;
        }
        if (bad) {
            reply_errorf(c, "Invalid argument '%s' for SENTINEL SET '%s'", bad, opt);
            break;
        }
        changes++;
        int redact = arg_is(opt, "auth-pass");
        if (j - first == 1) sentinel_event(LOG_WARNING, "+set", m, "%s %s", opt, redact ? "******" : c->argv[j]);
        else sentinel_event(LOG_WARNING, "+set", m, "%s %s %s", opt, c->argv[first + 1], c->argv[j]);
        if (j == c->argc - 1) {
            flush_and_reply(c);
            return;
        }
    }
    if (changes) sentinel_flush_config();
}

/* ---- Top-level commands ------------------------------------------------------ */

static void role_cmd(client *c) {
    reply_array_len(c, 2);
    reply_bulk_cstr(c, "sentinel");
    reply_array_len(c, sentinel.masters.n);
    for (int i = 0; i < sentinel.masters.n; i++) reply_bulk_cstr(c, sentinel.masters.v[i]->name);
}

static void publish_cmd(client *c) {
    if (strcmp(c->argv[1], SENTINEL_HELLO_CHANNEL)) {
        reply_error(c, "Only HELLO messages are accepted by Sentinel instances.");
        return;
    }
    process_hello(c->argv[2], kstr_len(c->argv[2]));
    reply_ll(c, 1);
}

static int section_wanted(client *c, const char *name, int is_default) {
    if (c->argc == 1) return is_default;
    for (int i = 1; i < c->argc; i++)
        if (arg_is(c->argv[i], name) || arg_is(c->argv[i], "all") || arg_is(c->argv[i], "everything") ||
            (is_default && arg_is(c->argv[i], "default")))
            return 1;
    return 0;
}

static kstr info_server(kstr s) {
    long long up = (mstime() - server.start_time_ms) / 1000;
    return kstr_cat_printf(s, "# Server\r\nredis_version:%s\r\nkeel_version:%s\r\nredis_mode:sentinel\r\n"
                              "os:Linux\r\nprocess_id:%d\r\nrun_id:%s\r\ntcp_port:%d\r\n"
                              "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:%d\r\nexecutable:%s\r\n"
                              "config_file:%s\r\n",
                           KEEL_VERSION, KEEL_OWN_VERSION, (int)server.pid, server.runid, server.port, up,
                           up / 86400, server.hz, server.executable ? server.executable : "",
                           server.config_file ? server.config_file : "");
}

static kstr info_sentinel(kstr s) {
    s = kstr_cat_printf(s, "# Sentinel\r\nsentinel_masters:%d\r\nsentinel_tilt:%d\r\nsentinel_tilt_since_seconds:%lld\r\n"
                           "sentinel_running_scripts:%d\r\nsentinel_scripts_queue_length:%d\r\n"
                           "sentinel_simulate_failure_flags:%d\r\n",
                        sentinel.masters.n, sentinel.tilt,
                        sentinel.tilt ? (mstime() - sentinel.tilt_start_time) / 1000 : -1LL, scripts_running(),
                        scripts_queue_length(), sentinel.simfailure_flags);
    for (int i = 0; i < sentinel.masters.n; i++) {
        sinstance *m = sentinel.masters.v[i];
        const char *status = (m->flags & SRI_O_DOWN) ? "odown" : (m->flags & SRI_S_DOWN) ? "sdown" : "ok";
        s = kstr_cat_printf(s, "master%d:name=%s,status=%s,address=%s:%d,slaves=%d,sentinels=%d\r\n", i, m->name,
                            status, shown_addr(m), m->port, m->slaves.n, m->sentinels.n + 1);
    }
    return s;
}

static double seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static kstr info_cpu(kstr s) {
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return kstr_cat_printf(s, "%s# CPU\r\nused_cpu_sys:%.6f\r\nused_cpu_user:%.6f\r\nused_cpu_sys_children:%.6f\r\n"
                              "used_cpu_user_children:%.6f\r\n",
                           kstr_len(s) ? "\r\n" : "", seconds(self.ru_stime), seconds(self.ru_utime),
                           seconds(children.ru_stime), seconds(children.ru_utime));
}

static void info_cmd(client *c) {
    kstr s = kstr_empty();
    if (section_wanted(c, "server", 1)) s = info_server(s);
    if (section_wanted(c, "clients", 1))
        s = kstr_cat_printf(s, "%s# Clients\r\nconnected_clients:%lu\r\nmaxclients:%u\r\nblocked_clients:0\r\n",
                            kstr_len(s) ? "\r\n" : "", server.nclients, server.maxclients);
    if (section_wanted(c, "cpu", 1)) s = info_cpu(s);
    if (section_wanted(c, "stats", 1))
        s = kstr_cat_printf(s, "%s# Stats\r\ntotal_connections_received:%lld\r\ntotal_commands_processed:%lld\r\n",
                            kstr_len(s) ? "\r\n" : "", server.stat.numconnections, server.stat.numcommands);
    if (section_wanted(c, "sentinel", 1)) {
        if (kstr_len(s)) s = kstr_cat(s, "\r\n");
        s = info_sentinel(s);
    }
    reply_verbatim(c, s, kstr_len(s), "txt");
    kstr_free(s);
}

command sentinel_commands[] = {
    {"sentinel", NULL, -2, "admin only_sentinel", 0, 0, 0, "sentinel", "2.8.4", "A container for Redis Sentinel commands.", sentinel_subcommands},
    {"info", info_cmd, -1, "loading stale sentinel", 0, 0, 0, "server", "1.0.0", "Information and statistics about the server.", NULL},
    {"role", role_cmd, 1, "noscript loading stale fast sentinel", 0, 0, 0, "server", "2.8.12", "Returns the replication role.", NULL},
    {"publish", publish_cmd, 3, "pubsub loading stale fast sentinel", 0, 0, 0, "pubsub", "2.0.0", "Post a message to a channel.", NULL},
    {0},
};
