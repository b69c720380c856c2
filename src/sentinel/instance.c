/*
 * instance: the monitored instances (masters, their replicas, the other
 * sentinels watching them), their lookups and lifetimes, and the events
 * Sentinel publishes about them.
 *
 * Names follow Redis Sentinel, because clients and other sentinels see
 * them: a master is named by its user-given name, a replica by
 * "ip:port", a sentinel by its run id.
 */
#include "sentinel/sentinel_internal.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "pubsub/pubsub.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

sentinel_state sentinel = {.deny_scripts_reconfig = 1};
sentinel_timing st = {
    .info_period = 10000, .ping_period = 1000, .ask_period = 1000, .publish_period = 2000,
    .default_down_after = 30000, .tilt_trigger = 2000, .tilt_period = 30000,
    .slave_reconf_timeout = 10000, .min_link_reconnect_period = 15000,
    .default_failover_timeout = 180000, .election_timeout = 10000,
    .script_max_runtime = 60000, .script_retry_delay = 30000,
};

void iarray_push(iarray *a, sinstance *ri) {
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4;
        a->v = zrealloc(a->v, sizeof(*a->v) * (size_t)a->cap);
    }
    a->v[a->n++] = ri;
}

void iarray_remove(iarray *a, sinstance *ri) {
    for (int i = 0; i < a->n; i++) {
        if (a->v[i] != ri) continue;
        memmove(a->v + i, a->v + i + 1, sizeof(*a->v) * (size_t)(a->n - i - 1));
        a->n--;
        return;
    }
}

int resolve_addr(const char *addr, char *ip, size_t len) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1) {
        snprintf(ip, len, "%s", addr);
        return 1;
    }
    if (!sentinel.resolve_hostnames) return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(addr, NULL, &hints, &res) != 0) return 0;
    struct addrinfo *pick = res;
    for (struct addrinfo *p = res; p; p = p->ai_next)
        if (p->ai_family == AF_INET) { pick = p; break; }
    const void *a = pick->ai_family == AF_INET ? (const void *)&((struct sockaddr_in *)pick->ai_addr)->sin_addr
                                               : (const void *)&((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
    int ok = inet_ntop(pick->ai_family, a, ip, (socklen_t)len) != NULL;
    freeaddrinfo(res);
    return ok;
}

const char *shown_addr(const sinstance *ri) {
    return sentinel.announce_hostnames && ri->hostname ? ri->hostname : ri->ip;
}

int addr_is(const sinstance *ri, const char *host, int port) {
    return ri->port == port && host && (!strcasecmp(ri->ip, host) || (ri->hostname && !strcasecmp(ri->hostname, host)));
}

static int set_address(sinstance *ri, const char *addr) {
    char ip[64];
    if (!resolve_addr(addr, ip, sizeof(ip))) return 0;
    kstr_free(ri->ip);
    kstr_free(ri->hostname);
    ri->ip = kstr_new(ip);
    ri->hostname = strcmp(ip, addr) ? kstr_new(addr) : NULL;
    return 1;
}

static kstr addr_name(const char *ip, int port) {
    return strchr(ip, ':') ? kstr_cat_printf(kstr_empty(), "[%s]:%d", ip, port)
                           : kstr_cat_printf(kstr_empty(), "%s:%d", ip, port);
}

sinstance *instance_new(const char *name, int flags, const char *ip, int port, unsigned int quorum,
                        sinstance *master, const char **err) {
    if (port < 0 || port > 65535) { *err = "Invalid port number"; return NULL; }
    if (flags & SRI_MASTER) {
        if (master_lookup(name)) { *err = "Duplicate master name."; return NULL; }
    } else if (flags & SRI_SLAVE) {
        if (slave_lookup(master, ip, port)) { *err = "Duplicate hostname and port for replica."; return NULL; }
    } else if (sentinel_lookup_addr(master, ip, port) || (name && sentinel_lookup_runid(master, name))) {
        *err = "Duplicate runid for sentinel.";
        return NULL;
    }
    sinstance *ri = zcalloc(sizeof(*ri));
    if (!set_address(ri, ip)) {
        zfree(ri);
        *err = "Can't resolve instance hostname.";
        return NULL;
    }
    ri->flags = flags;
    ri->name = (flags & SRI_SLAVE) || !name ? addr_name(ip, port) : kstr_new(name);
    ri->port = port;
    ri->master = master;
    long long now = server_mstime();
    ri->last_avail_time = now;
    ri->last_pong_time = now;
    ri->last_hello_time = now;
    ri->role_reported_time = now;
    ri->role_reported = flags & (SRI_MASTER | SRI_SLAVE);
    ri->down_after_period = master ? master->down_after_period : st.default_down_after;
    ri->quorum = quorum;
    ri->parallel_syncs = 1;
    ri->failover_timeout = st.default_failover_timeout;
    ri->slave_priority = 100;
    ri->replica_announced = 1;
    if (flags & SRI_MASTER) iarray_push(&sentinel.masters, ri);
    else if (flags & SRI_SLAVE) iarray_push(&master->slaves, ri);
    else {
        iarray_push(&master->sentinels, ri);
        if (name) ri->runid = kstr_new(name);
    }
    return ri;
}

void instance_release_links(sinstance *ri) {
    sconn_close(ri->cc);
    sconn_close(ri->pc);
    ri->cc = ri->pc = NULL;
    ri->act_ping_time = 0;
}

static void free_all(iarray *a) {
    for (int i = 0; i < a->n; i++) instance_free(a->v[i]);
    zfree(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

void instance_free(sinstance *ri) {
    free_all(&ri->sentinels);
    free_all(&ri->slaves);
    instance_release_links(ri);
    kstr_free(ri->name);
    kstr_free(ri->runid);
    kstr_free(ri->ip);
    kstr_free(ri->hostname);
    kstr_free(ri->info);
    kstr_free(ri->auth_pass);
    kstr_free(ri->auth_user);
    kstr_free(ri->leader);
    kstr_free(ri->slave_master_host);
    kstr_free(ri->notification_script);
    kstr_free(ri->client_reconfig_script);
    for (int i = 0; i < ri->nrenamed; i++) kstr_free(ri->renamed[i]);
    zfree(ri->renamed);
    zfree(ri);
}

void instance_set_runid(sinstance *ri, const char *runid) {
    kstr_free(ri->runid);
    ri->runid = runid ? kstr_new(runid) : NULL;
}

sinstance *master_lookup(const char *name) {
    for (int i = 0; i < sentinel.masters.n; i++)
        if (!strcmp(sentinel.masters.v[i]->name, name)) return sentinel.masters.v[i];
    return NULL;
}

sinstance *master_lookup_addr(const char *ip, int port) {
    for (int i = 0; i < sentinel.masters.n; i++) {
        sinstance *m = sentinel.masters.v[i];
        if (addr_is(m, ip, port)) return m;
    }
    return NULL;
}

static sinstance *lookup_addr(const iarray *a, const char *ip, int port) {
    for (int i = 0; i < a->n; i++)
        if (addr_is(a->v[i], ip, port)) return a->v[i];
    return NULL;
}

sinstance *slave_lookup(sinstance *m, const char *ip, int port) { return lookup_addr(&m->slaves, ip, port); }
sinstance *sentinel_lookup_addr(sinstance *m, const char *ip, int port) { return lookup_addr(&m->sentinels, ip, port); }

sinstance *sentinel_lookup_runid(sinstance *m, const char *runid) {
    for (int i = 0; i < m->sentinels.n; i++)
        if (m->sentinels.v[i]->runid && !strcmp(m->sentinels.v[i]->runid, runid)) return m->sentinels.v[i];
    return NULL;
}

void master_reset(sinstance *m, int keep_sentinels, int announce) {
    free_all(&m->slaves);
    if (!keep_sentinels) free_all(&m->sentinels);
    instance_release_links(m);
    m->flags &= SRI_MASTER;
    kstr_free(m->leader);
    m->leader = NULL;
    m->failover_state = FO_NONE;
    m->failover_state_change_time = 0;
    m->failover_start_time = 0;
    m->promoted_slave = NULL;
    instance_set_runid(m, NULL);
    kstr_free(m->info);
    m->info = NULL;
    m->info_refresh = 0;
    m->role_reported = SRI_MASTER;
    long long now = server_mstime();
    m->role_reported_time = now;
    m->last_avail_time = now;
    m->last_pong_time = now;
    m->s_down_since_time = m->o_down_since_time = 0;
    if (announce) sentinel_event(LOG_WARNING, "+reset-master", m, "%s", "");
}

/* After a failover (or a hello with a newer configuration): the master
 * is now ip:port; every known replica, and the old master, become its
 * replicas, except the promoted one. */
int master_switch_address(sinstance *m, const char *ip, int port) {
    int n = 0;
    struct { kstr ip; int port; } *keep = zmalloc(sizeof(*keep) * (size_t)(m->slaves.n + 1));
    for (int i = 0; i < m->slaves.n; i++) {
        sinstance *s = m->slaves.v[i];
        if (addr_is(s, ip, port)) continue;
        keep[n].ip = kstr_new(s->hostname ? s->hostname : s->ip);
        keep[n++].port = s->port;
    }
    if (!addr_is(m, ip, port)) {
        keep[n].ip = kstr_new(m->hostname ? m->hostname : m->ip);
        keep[n++].port = m->port;
    }
    master_reset(m, 1, 0);
    if (!set_address(m, ip)) server_log(LOG_WARNING, "Can't resolve %s: keeping the old address", ip);
    m->port = port;
    for (int i = 0; i < n; i++) {
        const char *err;
        sinstance *s = instance_new(NULL, SRI_SLAVE, keep[i].ip, keep[i].port, m->quorum, m, &err);
        if (s) sentinel_event(LOG_NOTICE, "+slave", s, "%s", "");
        kstr_free(keep[i].ip);
    }
    zfree(keep);
    sentinel_flush_config();
    return 1;
}

void master_rename_command(sinstance *m, const char *from, const char *to) {
    for (int i = 0; i < m->nrenamed; i += 2) {
        if (strcasecmp(m->renamed[i], from)) continue;
        kstr_free(m->renamed[i]);
        kstr_free(m->renamed[i + 1]);
        memmove(m->renamed + i, m->renamed + i + 2, sizeof(kstr) * (size_t)(m->nrenamed - i - 2));
        m->nrenamed -= 2;
        break;
    }
    if (!strcasecmp(from, to)) return;
    m->renamed = zrealloc(m->renamed, sizeof(kstr) * (size_t)(m->nrenamed + 2));
    m->renamed[m->nrenamed++] = kstr_new(from);
    m->renamed[m->nrenamed++] = kstr_new(to);
}

const char *instance_map_command(void *owner, const char *name) {
    sinstance *ri = owner;
    if (!ri || (ri->flags & SRI_SENTINEL)) return name;
    sinstance *m = (ri->flags & SRI_MASTER) ? ri : ri->master;
    for (int i = 0; i < m->nrenamed; i += 2)
        if (!strcasecmp(m->renamed[i], name)) return m->renamed[i + 1];
    return name;
}

const char *failover_state_name(int state) {
    switch (state) {
    case FO_NONE: return "none";
    case FO_WAIT_START: return "wait_start";
    case FO_SELECT_SLAVE: return "select_slave";
    case FO_SEND_SLAVEOF_NOONE: return "send_slaveof_noone";
    case FO_WAIT_PROMOTION: return "wait_promotion";
    case FO_RECONF_SLAVES: return "reconf_slaves";
    case FO_UPDATE_CONFIG: return "update_config";
    }
    return "unknown";
}

static const char *type_name(const sinstance *ri) {
    if (ri->flags & SRI_MASTER) return "master";
    if (ri->flags & SRI_SLAVE) return "slave";
    return "sentinel";
}

/* Log, publish, and hand warnings to the master's notification script. */
static void emit_event(int level, const char *type, sinstance *master, const char *msg) {
    server_log(level, "%s %s", type, msg);
    if (level != LOG_DEBUG) pubsub_publish(type, strlen(type), msg, strlen(msg));
    if (level == LOG_WARNING && master && master->notification_script) {
        const char *args[] = {type, msg};
        script_schedule(master->notification_script, 2, args);
    }
}

void sentinel_event(int level, const char *type, sinstance *ri, const char *fmt, ...) {
    char msg[1024];
    size_t off = 0;
    msg[0] = '\0';
    if (ri) {
        off = (size_t)snprintf(msg, sizeof(msg), "%s %s %s %d", type_name(ri), ri->name, shown_addr(ri), ri->port);
        if (ri->master && off < sizeof(msg))
            off += (size_t)snprintf(msg + off, sizeof(msg) - off, " @ %s %s %d", ri->master->name,
                                    shown_addr(ri->master), ri->master->port);
    }
    if (off < sizeof(msg) - 1) {
        size_t at = off ? off + 1 : off;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg + at, sizeof(msg) - at, fmt, ap);
        va_end(ap);
        if (off && msg[at]) msg[off] = ' '; /* details, a space, the rest */
    }
    emit_event(level, type, ri ? ((ri->flags & SRI_MASTER) ? ri : ri->master) : NULL, msg);
}

void sentinel_event_of(int level, const char *type, sinstance *m, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    emit_event(level, type, m, msg);
}
