/*
 * monitor: what Sentinel does for every instance on each timer pass:
 * keep its links up, send PING (every second), INFO (every 10 s, every
 * second around a failover) and hello messages (every 2 s), read the
 * replies, and decide subjective down (SDOWN): no valid PING reply for
 * down-after-milliseconds.
 *
 * INFO of a master lists its replicas, which is how they are discovered;
 * INFO of a replica says whom it follows, which is how reconfiguration
 * is tracked. Hello messages on `__sentinel__:hello` are how sentinels
 * find one another and learn of newer configurations (a failover done
 * by another sentinel), as in Redis.
 */
#include "sentinel/sentinel_internal.h"
#include "core/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Links ------------------------------------------------------------- */

static void on_pubsub_message(sconn *c, rr_reply *r, void *owner);

static void send_auth_and_name(sinstance *ri, sconn *c, const char *kind) {
    const char *user = NULL, *pass = NULL;
    if (ri->flags & SRI_SENTINEL) {
        user = sentinel.sentinel_user;
        pass = sentinel.sentinel_pass;
    } else {
        sinstance *m = (ri->flags & SRI_MASTER) ? ri : ri->master;
        user = m->auth_user;
        pass = m->auth_pass;
    }
    if (pass && user) sconn_commandf(c, NULL, NULL, "AUTH %s %s", user, pass);
    else if (pass) sconn_commandf(c, NULL, NULL, "AUTH %s", pass);
    char name[64];
    snprintf(name, sizeof(name), "sentinel-%.8s-%s", sentinel.myid, kind);
    sconn_commandf(c, NULL, NULL, "CLIENT SETNAME %s", name);
}

static void ping_reply(sconn *c, rr_reply *r, void *priv) {
    (void)c;
    sinstance *ri = priv;
    if (!r) return;
    size_t len;
    const char *s = rr_text(r, &len);
    if (s && (!strncmp(s, "PONG", 4) || !strncmp(s, "LOADING", 7) || !strncmp(s, "MASTERDOWN", 10))) {
        ri->last_avail_time = server_mstime();
        ri->act_ping_time = 0;
        if (!strncmp(s, "PONG", 4)) ri->flags &= ~SRI_MASTER_REBOOT;
    } else if (s && rr_is_error(r) && !strncmp(s, "BUSY", 4) && (ri->flags & SRI_S_DOWN) &&
               !(ri->flags & SRI_SCRIPT_KILL_SENT)) {
        sconn_commandf(ri->cc, NULL, NULL, "SCRIPT KILL");
        ri->flags |= SRI_SCRIPT_KILL_SENT;
    }
    ri->last_pong_time = server_mstime();
}

static void send_ping(sinstance *ri) {
    sconn_commandf(ri->cc, ping_reply, ri, "PING");
    ri->last_ping_time = server_mstime();
    if (!ri->act_ping_time) ri->act_ping_time = ri->last_ping_time;
}

/* A lost command link starts the down-after clock as an unanswered PING
 * does (Redis starts it at its first reconnection attempt), and keeps it
 * running across attempts that fail at once (a refused connection). */
static void reconnect(sinstance *ri) {
    long long now = server_mstime();
    if (ri->cc && sconn_broken(ri->cc)) {
        sconn_close(ri->cc);
        ri->cc = NULL;
        if (!ri->act_ping_time) ri->act_ping_time = now;
    }
    if (ri->pc && sconn_broken(ri->pc)) { sconn_close(ri->pc); ri->pc = NULL; }
    int want_pc = !(ri->flags & SRI_SENTINEL);
    if (ri->cc && (ri->pc || !want_pc)) return;
    if (now - ri->cc_conn_time < st.ping_period && now - ri->pc_conn_time < st.ping_period) return;
    if (!ri->cc) {
        ri->cc = sconn_open(ri->ip, ri->port, ri, NULL);
        ri->cc_conn_time = now;
        if (!sconn_broken(ri->cc)) {
            send_auth_and_name(ri, ri->cc, "cmd");
            send_ping(ri);
        }
    }
    if (want_pc && !ri->pc) {
        ri->pc = sconn_open(ri->ip, ri->port, ri, on_pubsub_message);
        ri->pc_conn_time = now;
        ri->pc_last_activity = now;
        if (!sconn_broken(ri->pc)) {
            send_auth_and_name(ri, ri->pc, "pubsub");
            sconn_set_subscribed(ri->pc);
            sconn_commandf(ri->pc, NULL, NULL, "SUBSCRIBE %s", SENTINEL_HELLO_CHANNEL);
        }
    }
}

static int link_down(const sinstance *ri) {
    return !ri->cc || sconn_broken(ri->cc) || (!(ri->flags & SRI_SENTINEL) && (!ri->pc || sconn_broken(ri->pc)));
}

/* ---- INFO -------------------------------------------------------------- */

static const char *field(const char *line, const char *name) {
    size_t n = strlen(name);
    return !strncmp(line, name, n) ? line + n : NULL;
}

/* "slave0:ip=127.0.0.1,port=6380,state=online,offset=..,lag=.." */
static void discover_replica(sinstance *m, const char *spec) {
    char ip[128] = "", port[16] = "";
    const char *p = strstr(spec, "ip=");
    if (!p) return;
    sscanf(p + 3, "%127[^,]", ip);
    p = strstr(spec, "port=");
    if (!p) return;
    sscanf(p + 5, "%15[^,]", port);
    int pn = atoi(port);
    if (!ip[0] || pn <= 0 || slave_lookup(m, ip, pn)) return;
    const char *err;
    sinstance *s = instance_new(NULL, SRI_SLAVE, ip, pn, m->quorum, m, &err);
    if (s) {
        sentinel_event(LOG_NOTICE, "+slave", s, "%s", "");
        sentinel_flush_config();
    }
}

typedef struct parsed_info {
    int role;
    char runid[41];
    char master_host[128];
    int master_port, link_up, priority, announced;
    long long link_down_ms;
    unsigned long long offset;
} parsed_info;

static void parse_info_line(sinstance *ri, const char *l, parsed_info *pi) {
    const char *v;
    if ((v = field(l, "run_id:")) && strlen(v) >= 40) snprintf(pi->runid, sizeof(pi->runid), "%.40s", v);
    else if ((ri->flags & SRI_MASTER) && !strncmp(l, "slave", 5) && l[5] >= '0' && l[5] <= '9' && strchr(l, ':'))
        discover_replica(ri, strchr(l, ':') + 1);
    else if ((v = field(l, "master_link_down_since_seconds:"))) pi->link_down_ms = atoll(v) * 1000;
    else if ((v = field(l, "role:"))) pi->role = !strncmp(v, "master", 6) ? SRI_MASTER : !strncmp(v, "slave", 5) ? SRI_SLAVE : 0;
    else if ((v = field(l, "master_host:"))) snprintf(pi->master_host, sizeof(pi->master_host), "%.127s", v);
    else if ((v = field(l, "master_port:"))) pi->master_port = atoi(v);
    else if ((v = field(l, "master_link_status:"))) pi->link_up = !strncasecmp(v, "up", 2);
    else if ((v = field(l, "slave_priority:"))) pi->priority = atoi(v);
    else if ((v = field(l, "slave_repl_offset:"))) pi->offset = strtoull(v, NULL, 10);
    else if ((v = field(l, "replica_announced:"))) pi->announced = atoi(v);
}

static void parse_info(sinstance *ri, const char *text, size_t len, parsed_info *pi) {
    memset(pi, 0, sizeof(*pi));
    pi->priority = 100;
    pi->announced = 1;
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char line[1024];
        if (n && p[n - 1] == '\r') n--;
        if (n < sizeof(line)) {
            memcpy(line, p, n);
            line[n] = '\0';
            parse_info_line(ri, line, pi);
        }
        p = nl ? nl + 1 : end;
    }
}

int master_looks_sane(sinstance *m) {
    return (m->flags & SRI_MASTER) && m->role_reported == SRI_MASTER && !(m->flags & (SRI_S_DOWN | SRI_O_DOWN)) &&
           server_mstime() - m->info_refresh < st.info_period * 2;
}

static int no_down_for(const sinstance *ri, long long ms) {
    long long most = ri->s_down_since_time > ri->o_down_since_time ? ri->s_down_since_time : ri->o_down_since_time;
    return most == 0 || server_mstime() - most > ms;
}

static void apply_replica_info(sinstance *ri, const parsed_info *pi) {
    ri->master_link_down_time = pi->link_down_ms;
    ri->slave_priority = pi->priority;
    ri->replica_announced = pi->announced;
    ri->slave_repl_offset = pi->offset;
    if (ri->slave_master_port != pi->master_port || !ri->slave_master_host || strcasecmp(ri->slave_master_host, pi->master_host)) {
        kstr_free(ri->slave_master_host);
        ri->slave_master_host = kstr_new(pi->master_host);
        ri->slave_master_port = pi->master_port;
        ri->slave_conf_change_time = server_mstime();
    }
    ri->slave_master_link_up = pi->link_up;
}

/* A replica that reports master while it should not be one (an old
 * master back after a failover), or follows another master. */
static void fix_roles(sinstance *ri, const parsed_info *pi) {
    sinstance *m = ri->master;
    long long now = server_mstime();
    if (pi->role == SRI_MASTER && !(ri->flags & SRI_PROMOTED)) {
        long long wait = st.publish_period * 4;
        if (master_looks_sane(m) && no_down_for(ri, wait) && now - ri->role_reported_time > wait) {
            send_slaveof(ri, shown_addr(m), m->port, NULL);
            sentinel_event(LOG_NOTICE, "+convert-to-slave", ri, "%s", "");
        }
    } else if (pi->role == SRI_SLAVE && !(ri->flags & (SRI_RECONF_SENT | SRI_RECONF_INPROG)) &&
               !addr_is(m, ri->slave_master_host, ri->slave_master_port)) {
        long long wait = m->failover_timeout;
        if (master_looks_sane(m) && no_down_for(ri, wait) && now - ri->slave_conf_change_time > wait) {
            send_slaveof(ri, shown_addr(m), m->port, NULL);
            sentinel_event(LOG_NOTICE, "+fix-slave-config", ri, "%s", "");
        }
    }
}

static void refresh_from_info(sinstance *ri, const char *text, size_t len) {
    parsed_info pi;
    parse_info(ri, text, len, &pi);
    kstr_free(ri->info);
    ri->info = kstr_new_len(text, len);
    if (pi.runid[0]) {
        if (ri->runid && strcmp(ri->runid, pi.runid)) {
            sentinel_event(LOG_NOTICE, "+reboot", ri, "%s", "");
            if ((ri->flags & SRI_MASTER) && ri->master_reboot_down_after_period) {
                ri->flags |= SRI_MASTER_REBOOT;
                ri->master_reboot_since_time = server_mstime();
            }
        }
        if (!ri->runid || strcmp(ri->runid, pi.runid)) instance_set_runid(ri, pi.runid);
    }
    ri->info_refresh = server_mstime();
    if (pi.role == SRI_SLAVE) apply_replica_info(ri, &pi);
    if (pi.role && pi.role != ri->role_reported) {
        ri->role_reported_time = server_mstime();
        ri->role_reported = pi.role;
        if (pi.role == SRI_SLAVE) ri->slave_conf_change_time = server_mstime();
        sentinel_event(LOG_VERBOSE, (ri->flags & (SRI_MASTER | SRI_SLAVE)) == pi.role ? "+role-change" : "-role-change",
                       ri, "new reported role is %s", pi.role == SRI_MASTER ? "master" : "slave");
    }
    if (sentinel.tilt || !(ri->flags & SRI_SLAVE)) return;
    sinstance *m = ri->master;
    if (pi.role == SRI_MASTER && (ri->flags & SRI_PROMOTED) && (m->flags & SRI_FAILOVER_IN_PROGRESS) &&
        m->failover_state == FO_WAIT_PROMOTION) {
        failover_after_info(m, ri);
        return;
    }
    if (!(m->flags & SRI_FAILOVER_IN_PROGRESS)) fix_roles(ri, &pi);
    if (pi.role != SRI_SLAVE || !(ri->flags & (SRI_RECONF_SENT | SRI_RECONF_INPROG))) return;
    sinstance *p = m->promoted_slave;
    if ((ri->flags & SRI_RECONF_SENT) && p && addr_is(p, ri->slave_master_host, ri->slave_master_port)) {
        ri->flags = (ri->flags & ~SRI_RECONF_SENT) | SRI_RECONF_INPROG;
        sentinel_event(LOG_NOTICE, "+slave-reconf-inprog", ri, "%s", "");
    }
    if ((ri->flags & SRI_RECONF_INPROG) && pi.link_up) {
        ri->flags = (ri->flags & ~SRI_RECONF_INPROG) | SRI_RECONF_DONE;
        sentinel_event(LOG_NOTICE, "+slave-reconf-done", ri, "%s", "");
    }
}

static void info_reply(sconn *c, rr_reply *r, void *priv) {
    (void)c;
    size_t len;
    const char *s;
    if (!r || rr_is_error(r) || !(s = rr_text(r, &len))) return;
    refresh_from_info(priv, s, len);
}

void refresh_info_now(sinstance *ri) {
    if (ri->cc && !sconn_broken(ri->cc)) sconn_commandf(ri->cc, info_reply, ri, "INFO");
}

/* ---- Hello messages ------------------------------------------------------ */

int announce_port(void) { return sentinel.announce_port ? sentinel.announce_port : server.port; }

const char *announce_ip_for(sinstance *ri, char *buf, size_t len) {
    if (sentinel.announce_ip && sentinel.announce_ip[0]) return sentinel.announce_ip;
    if (ri && ri->cc && sconn_local_ip(ri->cc, buf, len)) return buf;
    return NULL;
}

static void publish_reply(sconn *c, rr_reply *r, void *priv) {
    (void)c;
    if (r && !rr_is_error(r)) ((sinstance *)priv)->last_pub_time = server_mstime();
}

void send_hello(sinstance *ri) {
    sinstance *m = (ri->flags & SRI_MASTER) ? ri : ri->master;
    char ipbuf[64];
    const char *ip = announce_ip_for(ri, ipbuf, sizeof(ipbuf));
    if (!ip || !ri->cc || sconn_broken(ri->cc)) return;
    const char *mip = shown_addr(m);
    int mport = m->port;
    if ((m->flags & SRI_FAILOVER_IN_PROGRESS) && m->promoted_slave && m->failover_state >= FO_RECONF_SLAVES) {
        mip = shown_addr(m->promoted_slave);
        mport = m->promoted_slave->port;
    }
    char payload[512];
    snprintf(payload, sizeof(payload), "%s,%d,%s,%llu,%s,%s,%d,%llu", ip, announce_port(), sentinel.myid,
             (unsigned long long)sentinel.current_epoch, m->name, mip, mport, (unsigned long long)m->config_epoch);
    sconn_commandf(ri->cc, publish_reply, ri, "PUBLISH %s %s", SENTINEL_HELLO_CHANNEL, payload);
}

static sinstance *add_sentinel_from_hello(sinstance *m, const char *ip, int port, const char *runid) {
    int removed = 0;
    sinstance *old;
    while ((old = sentinel_lookup_runid(m, runid))) {
        iarray_remove(&m->sentinels, old);
        instance_free(old);
        removed = 1;
    }
    while ((old = sentinel_lookup_addr(m, ip, port))) {
        iarray_remove(&m->sentinels, old);
        instance_free(old);
    }
    const char *err;
    sinstance *si = instance_new(runid, SRI_SENTINEL, ip, port, m->quorum, m, &err);
    if (!si) return NULL;
    sentinel_event(LOG_NOTICE, removed ? "+sentinel-address-switch" : "+sentinel", si, "%s", "");
    sentinel_flush_config();
    return si;
}

void process_hello(const char *hello, size_t len) {
    char buf[1024];
    if (len >= sizeof(buf)) return;
    memcpy(buf, hello, len);
    buf[len] = '\0';
    char *tok[8];
    int n = 0;
    for (char *p = buf; n < 8;) {
        tok[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    if (n != 8 || !strcmp(tok[2], sentinel.myid)) return;
    sinstance *m = master_lookup(tok[4]);
    if (!m) return;
    int port = atoi(tok[1]), mport = atoi(tok[6]);
    uint64_t epoch = strtoull(tok[3], NULL, 10), mepoch = strtoull(tok[7], NULL, 10);
    sinstance *si = sentinel_lookup_addr(m, tok[0], port);
    if (!si || !si->runid || strcmp(si->runid, tok[2])) si = add_sentinel_from_hello(m, tok[0], port, tok[2]);
    if (epoch > sentinel.current_epoch) {
        sentinel.current_epoch = epoch;
        sentinel_flush_config();
        sentinel_event_of(LOG_WARNING, "+new-epoch", m, "%llu", (unsigned long long)epoch);
    }
    if (m->config_epoch < mepoch) {
        m->config_epoch = mepoch;
        if (!addr_is(m, tok[5], mport)) {
            if (si) sentinel_event(LOG_WARNING, "+config-update-from", si, "%s", "");
            sentinel_event_of(LOG_WARNING, "+switch-master", m, "%s %s %d %s %d", m->name, shown_addr(m), m->port, tok[5],
                              mport);
            kstr old_addr = kstr_new(shown_addr(m));
            int old_port = m->port;
            master_switch_address(m, tok[5], mport);
            script_client_reconfig(m, 0, "start", old_addr, old_port, shown_addr(m), m->port);
            kstr_free(old_addr);
        } else {
            sentinel_flush_config();
        }
    }
    if (si) si->last_hello_time = server_mstime();
}

static void on_pubsub_message(sconn *c, rr_reply *r, void *owner) {
    (void)c;
    sinstance *ri = owner;
    ri->pc_last_activity = server_mstime();
    if (rr_is_error(r)) { /* SUBSCRIBE refused (NOAUTH...): the link is useless */
        sconn_close(ri->pc);
        ri->pc = NULL;
        return;
    }
    if (rr_count(r) != 3) return;
    size_t l0, l2;
    const char *kind = rr_text(rr_at(r, 0), &l0), *msg = rr_text(rr_at(r, 2), &l2);
    if (!kind || !msg || l0 != 7 || memcmp(kind, "message", 7)) return;
    process_hello(msg, l2);
}

/* ---- Periodic commands and SDOWN ------------------------------------------- */

static void send_periodic(sinstance *ri) {
    if (link_down(ri) || sconn_pending(ri->cc) >= SENTINEL_MAX_PENDING_COMMANDS) return;
    long long now = server_mstime();
    long long info_period = st.info_period;
    if ((ri->flags & SRI_SLAVE) && (ri->master->flags & (SRI_O_DOWN | SRI_FAILOVER_IN_PROGRESS))) info_period = 1000;
    long long ping_period = ri->down_after_period < st.ping_period ? ri->down_after_period : st.ping_period;
    if (!(ri->flags & SRI_SENTINEL) && (!ri->info_refresh || now - ri->info_refresh > info_period))
        sconn_commandf(ri->cc, info_reply, ri, "INFO");
    if (now - ri->last_pong_time > ping_period && now - ri->last_ping_time > ping_period / 2) send_ping(ri);
    if (now - ri->last_pub_time > st.publish_period) send_hello(ri);
}

static void check_subjectively_down(sinstance *ri) {
    long long now = server_mstime(), elapsed = 0;
    if (ri->act_ping_time) elapsed = now - ri->act_ping_time;
    else if (!ri->cc || sconn_broken(ri->cc)) elapsed = now - ri->last_avail_time;
    if (ri->cc && !sconn_broken(ri->cc) && now - ri->cc_conn_time > st.min_link_reconnect_period &&
        ri->act_ping_time && now - ri->act_ping_time > ri->down_after_period / 2 &&
        now - ri->last_pong_time > ri->down_after_period / 2) {
        sconn_close(ri->cc);
        ri->cc = NULL;
    }
    if (ri->pc && !sconn_broken(ri->pc) && now - ri->pc_conn_time > st.min_link_reconnect_period &&
        now - ri->pc_last_activity > st.publish_period * 3) {
        sconn_close(ri->pc);
        ri->pc = NULL;
    }
    int down = elapsed > ri->down_after_period ||
               ((ri->flags & SRI_MASTER) && ri->role_reported == SRI_SLAVE &&
                now - ri->role_reported_time > ri->down_after_period + st.info_period * 2) ||
               ((ri->flags & SRI_MASTER_REBOOT) && now - ri->master_reboot_since_time > ri->master_reboot_down_after_period);
    if (down) {
        if (!(ri->flags & SRI_S_DOWN)) {
            sentinel_event(LOG_WARNING, "+sdown", ri, "%s", "");
            ri->s_down_since_time = now;
            ri->flags |= SRI_S_DOWN;
        }
    } else if (ri->flags & SRI_S_DOWN) {
        sentinel_event(LOG_WARNING, "-sdown", ri, "%s", "");
        ri->flags &= ~(SRI_S_DOWN | SRI_SCRIPT_KILL_SENT);
    }
}

void monitor_instance(sinstance *ri) {
    reconnect(ri);
    send_periodic(ri);
    if (sentinel.tilt) {
        if (server_mstime() - sentinel.tilt_start_time < st.tilt_period) return;
        sentinel.tilt = 0;
        sentinel_event(LOG_WARNING, "-tilt", NULL, "#tilt mode exited");
    }
    check_subjectively_down(ri);
    if (!(ri->flags & SRI_MASTER)) return;
    check_objectively_down(ri);
    if (start_failover_if_needed(ri)) ask_master_state(ri, 1);
    failover_step(ri);
    ask_master_state(ri, 0);
}

int is_slave_usable(sinstance *s) { return !(s->flags & (SRI_S_DOWN | SRI_O_DOWN)) && !link_down(s); }
