/*
 * cluster.c: this node's view of the cluster (nodes, slots, epochs),
 * nodes.conf, the cluster state (ok / fail), INFO cluster, start-up and
 * cron. The commands are cluster_cmds.c, the bus bus.c.
 *
 * nodes.conf is CLUSTER NODES's text plus a "vars currentEpoch N
 * lastVoteEpoch M" line, Redis's format, so a Redis node's file loads
 * here and the other way round. It is rewritten whole (temporary file,
 * fsync, rename) when the configuration changes (cluster_note_change
 * marks it): an epoch change before the next reply leaves, with fsync;
 * other changes (slots, nodes, flags) by the next cron tick (100 ms),
 * without fsync, as Redis 7.0 writes those.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/cluster_internal.h"
#include "core/config.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/random.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "pubsub/pubsub.h"
#include "repl/repl.h"
#include "tls/tls.h"

cluster_state cl;

int cluster_enabled_cfg;
char *cluster_config_file;
int cluster_port_cfg;
long long cluster_node_timeout;
int cluster_replica_validity_factor, cluster_migration_barrier;
int cluster_allow_replica_migration;
int cluster_require_full_coverage;
int cluster_replica_no_failover;
int cluster_allow_reads_when_down;
int cluster_allow_pubsubshard_when_down;
char *cluster_announce_ip;
char *cluster_announce_hostname;
int cluster_announce_port, cluster_announce_bus_port;
static int cluster_announce_tls_port;
int cluster_preferred_endpoint;
long long cluster_link_sendbuf_limit;

/* CONFIG SET of an announced address: myself shows it at once, and the
 * next PINGs carry it. */
static int apply_announced(const char **err) {
    (void)err;
    if (!cluster_enabled_cfg || !cl.myself) return 1;
    cnode *me = cl.myself;
    me->port = cluster_my_port();
    me->cport = cluster_announce_bus_port ? cluster_announce_bus_port : cluster_listen_port();
    if (cluster_announce_ip && cluster_announce_ip[0]) snprintf(me->ip, sizeof(me->ip), "%s", cluster_announce_ip);
    snprintf(me->hostname, sizeof(me->hostname), "%s", cluster_announce_hostname ? cluster_announce_hostname : "");
    cluster_note_change(1);
    return 1;
}

/* cluster-announce-hostname: Redis 7.0's checks (length, character set)
 * before the hostname is announced. */
static int apply_announced_hostname(const char **err) {
    const char *h = cluster_announce_hostname ? cluster_announce_hostname : "";
    if (strlen(h) >= 256) {
        *err = "Hostnames must be less than 256 characters";
        return 0;
    }
    for (const char *p = h; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.') {
            *err = "Hostnames may only contain alphanumeric characters, hyphens or dots";
            return 0;
        }
    }
    return apply_announced(err);
}

static const enum_value endpoint_types[] = {{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}, {NULL, 0}};

config_entry cluster_configs[] = {
    CONFIG_BOOL("cluster-enabled", &cluster_enabled_cfg, "no", CF_IMMUTABLE, NULL),
    CONFIG_STRING("cluster-config-file", &cluster_config_file, "nodes.conf", CF_IMMUTABLE, NULL),
    CONFIG_INT("cluster-port", &cluster_port_cfg, "0", 0, 65535, CF_IMMUTABLE, NULL),
    CONFIG_LL("cluster-node-timeout", &cluster_node_timeout, "15000", 0, LLONG_MAX, 0, NULL),
    CONFIG_INT("cluster-replica-validity-factor", &cluster_replica_validity_factor, "10", 0, INT_MAX, 0, NULL,
               .alias = "cluster-slave-validity-factor"),
    CONFIG_INT("cluster-migration-barrier", &cluster_migration_barrier, "1", 0, INT_MAX, 0, NULL),
    CONFIG_BOOL("cluster-allow-replica-migration", &cluster_allow_replica_migration, "yes", 0, NULL),
    CONFIG_BOOL("cluster-require-full-coverage", &cluster_require_full_coverage, "yes", 0, NULL),
    CONFIG_BOOL("cluster-replica-no-failover", &cluster_replica_no_failover, "no", 0, NULL,
                .alias = "cluster-slave-no-failover"),
    CONFIG_BOOL("cluster-allow-reads-when-down", &cluster_allow_reads_when_down, "no", 0, NULL),
    CONFIG_BOOL("cluster-allow-pubsubshard-when-down", &cluster_allow_pubsubshard_when_down, "yes", 0, NULL),
    CONFIG_STRING("cluster-announce-ip", &cluster_announce_ip, "", 0, apply_announced),
    CONFIG_STRING("cluster-announce-hostname", &cluster_announce_hostname, "", 0, apply_announced_hostname),
    CONFIG_INT("cluster-announce-port", &cluster_announce_port, "0", 0, 65535, 0, apply_announced),
    CONFIG_INT("cluster-announce-bus-port", &cluster_announce_bus_port, "0", 0, 65535, 0, apply_announced),
    CONFIG_INT("cluster-announce-tls-port", &cluster_announce_tls_port, "0", 0, 65535, 0, apply_announced),
    CONFIG_ENUM("cluster-preferred-endpoint-type", &cluster_preferred_endpoint, "ip", endpoint_types, 0, NULL),
    CONFIG_MEMORY("cluster-link-sendbuf-limit", &cluster_link_sendbuf_limit, "0", 0, LLONG_MAX, 0, NULL),
    CONFIG_END,
};

int cluster_is_enabled(void) { return cluster_enabled_cfg; }

/* As Redis 7.0: with tls-cluster the node's client port is its TLS port
 * (what MOVED, CLUSTER SLOTS and the bus announce), and the bus listens
 * 10000 above that port unless cluster-port says otherwise. */
int cluster_my_port(void) {
    if (tls_cluster_enabled()) return cluster_announce_tls_port ? cluster_announce_tls_port : server.tls_port;
    return cluster_announce_port ? cluster_announce_port : server.port;
}

int cluster_listen_port(void) {
    if (cluster_port_cfg) return cluster_port_cfg;
    return (tls_cluster_enabled() ? server.tls_port : server.port) + 10000;
}

int cluster_bus_port(const cnode *n) { return n->cport; }

/* Redirections and CLUSTER SHARDS name a node by the preferred endpoint:
 * its hostname ("?" when it announces none) or nothing at all, in Redis
 * 7.0's words. */
const char *cluster_endpoint(const cnode *n) {
    if (cluster_preferred_endpoint == 1) return n->hostname[0] ? n->hostname : "?";
    if (cluster_preferred_endpoint == 2) return "";
    return n->ip;
}

/* ---- nodes ------------------------------------------------------------ */

/* Node names come from /dev/urandom even when KEEL_RANDOM_SEED fixes the
 * server's other random choices: nodes started with the same seed must
 * still have different names. */
void node_random_name(char *out) {
    static const char hex[] = "0123456789abcdef";
    unsigned char bytes[NODE_NAMELEN];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, bytes, sizeof(bytes)) : -1;
    if (fd >= 0) close(fd);
    for (int i = 0; i < NODE_NAMELEN; i++) {
        unsigned v = got == (ssize_t)sizeof(bytes) ? bytes[i] : (unsigned)(random_u64() ^ (uint64_t)mstime());
        out[i] = hex[v & 15];
    }
    out[NODE_NAMELEN] = '\0';
}

cnode *node_create(const char *name, int flags) {
    cnode *n = zcalloc(sizeof(*n));
    if (name) {
        memcpy(n->name, name, NODE_NAMELEN);
        n->name[NODE_NAMELEN] = '\0';
    } else {
        node_random_name(n->name);
    }
    n->flags = flags;
    n->ctime_ms = mstime();
    cl.nodes = zrealloc(cl.nodes, sizeof(cnode *) * (size_t)(cl.nnodes + 1));
    cl.nodes[cl.nnodes++] = n;
    return n;
}

cnode *node_lookup(const char *name, size_t len) {
    if (len != NODE_NAMELEN) return NULL;
    for (int i = 0; i < cl.nnodes; i++)
        if (!memcmp(cl.nodes[i]->name, name, NODE_NAMELEN)) return cl.nodes[i];
    return NULL;
}

void node_rename(cnode *n, const char *name) {
    memcpy(n->name, name, NODE_NAMELEN);
    n->name[NODE_NAMELEN] = '\0';
}

/* MIGRATE_TO (replica_migration.c): a master that has or had replicas
 * is a target for replica migration, until its last replica leaves it. */
static void node_remove_replica(cnode *m, cnode *r) {
    for (int i = 0; i < m->nreplicas; i++) {
        if (m->replicas[i] != r) continue;
        m->replicas[i] = m->replicas[--m->nreplicas];
        if (m->nreplicas == 0) m->flags &= ~NODE_MIGRATE_TO;
        return;
    }
}

void node_set_master(cnode *n, cnode *master) {
    if (n->master == master) return;
    if (n->master) node_remove_replica(n->master, n);
    n->master = master;
    if (master) {
        master->replicas = zrealloc(master->replicas, sizeof(cnode *) * (size_t)(master->nreplicas + 1));
        master->replicas[master->nreplicas++] = n;
        master->flags |= NODE_MIGRATE_TO;
    }
}

void node_delete(cnode *n) {
    if (cl.mf_replica == n) mf_reset();
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (cl.slots[j] == n) cl.slots[j] = NULL;
        if (cl.migrating_to[j] == n) cl.migrating_to[j] = NULL;
        if (cl.importing_from[j] == n) cl.importing_from[j] = NULL;
    }
    for (int i = 0; i < cl.nnodes; i++) node_del_failure_report(cl.nodes[i], n);
    if (n->master) node_remove_replica(n->master, n);
    for (int i = 0; i < n->nreplicas; i++) n->replicas[i]->master = NULL;
    if (n->link) bus_free_link(n->link);
    if (n->inbound) bus_free_link(n->inbound);
    for (int i = 0; i < cl.nnodes; i++) {
        if (cl.nodes[i] != n) continue;
        cl.nodes[i] = cl.nodes[--cl.nnodes];
        break;
    }
    zfree(n->replicas);
    zfree(n->reports);
    zfree(n);
}

static int masters_have_replicas(void) {
    for (int i = 0; i < cl.nnodes; i++)
        if (!(cl.nodes[i]->flags & NODE_SLAVE) && cl.nodes[i]->nreplicas) return 1;
    return 0;
}

/* A master's first slot makes it a replica migration target when some
 * master has replicas (Redis's rule: new masters get protected too). */
int node_add_slot(cnode *n, int slot) {
    if (bit_test(n->slots, slot)) return 0;
    bit_set(n->slots, slot);
    if (++n->numslots == 1 && masters_have_replicas()) n->flags |= NODE_MIGRATE_TO;
    return 1;
}

int node_del_slot(cnode *n, int slot) {
    if (!bit_test(n->slots, slot)) return 0;
    bit_clear(n->slots, slot);
    n->numslots--;
    return 1;
}

int cluster_add_slot(cnode *n, int slot) {
    if (cl.slots[slot]) return 0;
    node_add_slot(n, slot);
    cl.slots[slot] = n;
    return 1;
}

int cluster_del_slot(int slot) {
    cnode *n = cl.slots[slot];
    if (!n) return 0;
    /* Our shard loses the slot: its shard channels go (Redis's rule). */
    if (n == cl.myself || (cl.myself->master && n == cl.myself->master)) pubsub_shard_unsubscribe_slot((unsigned)slot);
    node_del_slot(n, slot);
    cl.slots[slot] = NULL;
    return 1;
}

/* ---- failure reports --------------------------------------------------- */

int node_add_failure_report(cnode *n, cnode *reporter) {
    for (int i = 0; i < n->nreports; i++) {
        if (n->reports[i].reporter == reporter) {
            n->reports[i].time_ms = mstime();
            return 0;
        }
    }
    n->reports = zrealloc(n->reports, sizeof(fail_report) * (size_t)(n->nreports + 1));
    n->reports[n->nreports++] = (fail_report){reporter, mstime()};
    return 1;
}

void node_del_failure_report(cnode *n, cnode *reporter) {
    for (int i = 0; i < n->nreports; i++) {
        if (n->reports[i].reporter != reporter) continue;
        n->reports[i] = n->reports[--n->nreports];
        return;
    }
}

/* Reports older than twice the node timeout no longer count. */
int node_failure_reports(cnode *n) {
    long long max_age = cluster_node_timeout * 2, now = mstime();
    for (int i = n->nreports - 1; i >= 0; i--)
        if (now - n->reports[i].time_ms > max_age) n->reports[i] = n->reports[--n->nreports];
    return n->nreports;
}

/* ---- forgotten nodes (CLUSTER FORGET) ---------------------------------- */

int node_is_forgotten(const char *name) {
    long long now = mstime();
    for (size_t i = 0; i < sizeof(cl.forgotten) / sizeof(cl.forgotten[0]); i++)
        if (cl.forgotten[i].until_ms > now && !memcmp(cl.forgotten[i].name, name, NODE_NAMELEN)) return 1;
    return 0;
}

/* ---- the cluster state ----------------------------------------------- */

void cluster_update_state(void) {
    int ok = 1;
    if (cluster_require_full_coverage) {
        for (int j = 0; j < CLUSTER_SLOTS && ok; j++)
            if (!cl.slots[j] || (cl.slots[j]->flags & NODE_FAIL)) ok = 0;
    }
    int size = 0, reachable = 0;
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if (!(n->flags & NODE_MASTER) || !n->numslots) continue;
        size++;
        if (!(n->flags & (NODE_FAIL | NODE_PFAIL))) reachable++;
    }
    cl.size = size;
    /* A minority partition stops serving, as in Redis. */
    if (reachable < size / 2 + 1) ok = 0;
    if (ok != cl.ok) server_log(LOG_NOTICE, "Cluster state changed: %s", ok ? "ok" : "fail");
    cl.ok = ok;
}

/* save: 0 state only, 1 rewrite nodes.conf, 2 rewrite and fsync it (epoch
 * changes, as Redis fsyncs them; slot moves are rewritten without fsync,
 * also as in Redis, so a reshard does not wait for the disk per slot). */
void cluster_note_change(int save) {
    if (save > cl.todo_save) cl.todo_save = save;
    cl.todo_update_state = 1;
}

/* ---- CLUSTER NODES lines and nodes.conf --------------------------------- */

static kstr cat_flags(kstr s, const cnode *n) {
    static const struct { int bit; const char *name; } names[] = {
        {NODE_MYSELF, "myself"}, {NODE_MASTER, "master"}, {NODE_SLAVE, "slave"}, {NODE_PFAIL, "fail?"},
        {NODE_FAIL, "fail"}, {NODE_HANDSHAKE, "handshake"}, {NODE_NOADDR, "noaddr"}, {NODE_NOFAILOVER, "nofailover"},
    };
    size_t before = kstr_len(s);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(n->flags & names[i].bit)) continue;
        if (kstr_len(s) > before) s = kstr_cat(s, ",");
        s = kstr_cat(s, names[i].name);
    }
    if (kstr_len(s) == before) s = kstr_cat(s, "noflags");
    return s;
}

static kstr cat_slot_ranges(kstr s, const cnode *n) {
    for (int j = 0; j < CLUSTER_SLOTS; j++) {
        if (!bit_test(n->slots, j)) continue;
        int start = j;
        while (j + 1 < CLUSTER_SLOTS && bit_test(n->slots, j + 1)) j++;
        if (start == j) s = kstr_cat_printf(s, " %d", start);
        else s = kstr_cat_printf(s, " %d-%d", start, j);
    }
    return s;
}

kstr cluster_node_line(kstr s, const cnode *n, int for_file) {
    s = kstr_cat_printf(s, "%s %s:%d@%d", n->name, n->ip, n->port, n->cport);
    if (n->hostname[0]) s = kstr_cat_printf(s, ",%s", n->hostname);
    s = kstr_cat(s, " ");
    s = cat_flags(s, n);
    s = kstr_cat_printf(s, " %s", n->master ? n->master->name : "-");
    int connected = (n->flags & NODE_MYSELF) || n->link;
    s = kstr_cat_printf(s, " %lld %lld %llu %s", n->ping_sent_ms, n->pong_received_ms,
                        (unsigned long long)n->config_epoch, connected ? "connected" : "disconnected");
    if (n->numslots) s = cat_slot_ranges(s, n);
    if (n->flags & NODE_MYSELF) {
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (cl.migrating_to[j]) s = kstr_cat_printf(s, " [%d->-%s]", j, cl.migrating_to[j]->name);
            else if (cl.importing_from[j]) s = kstr_cat_printf(s, " [%d-<-%s]", j, cl.importing_from[j]->name);
        }
    }
    (void)for_file;
    return kstr_cat(s, "\n");
}

kstr cluster_nodes_text(kstr s, int for_file) {
    for (int i = 0; i < cl.nnodes; i++) {
        if (!for_file || !(cl.nodes[i]->flags & NODE_HANDSHAKE)) s = cluster_node_line(s, cl.nodes[i], for_file);
        else continue;
    }
    return s;
}

int cluster_save_config(int fsync_it) {
    kstr text = cluster_nodes_text(kstr_empty(), 1);
    text = kstr_cat_printf(text, "vars currentEpoch %llu lastVoteEpoch %llu\n", (unsigned long long)cl.current_epoch,
                           (unsigned long long)cl.last_vote_epoch);
    char tmp[1024];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", cluster_config_file, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), ok = 0;
    if (fd >= 0) {
        ok = write(fd, text, kstr_len(text)) == (ssize_t)kstr_len(text) && (!fsync_it || fsync(fd) == 0);
        close(fd);
        ok = ok && rename(tmp, cluster_config_file) == 0;
        if (!ok) unlink(tmp);
    }
    kstr_free(text);
    cl.todo_save = 0;
    if (!ok) server_log(LOG_WARNING, "Could not write the cluster config file %s: %s", cluster_config_file, strerror(errno));
    return ok ? 0 : -1;
}

static int parse_flags(cnode *n, const char *s) {
    static const struct { const char *name; int bit; } names[] = {
        {"myself", NODE_MYSELF}, {"master", NODE_MASTER}, {"slave", NODE_SLAVE}, {"fail?", NODE_PFAIL},
        {"fail", NODE_FAIL}, {"handshake", NODE_HANDSHAKE}, {"noaddr", NODE_NOADDR}, {"nofailover", NODE_NOFAILOVER},
        {"noflags", 0},
    };
    while (*s) {
        size_t len = strcspn(s, ",");
        for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
            if (strlen(names[k].name) == len && !strncmp(s, names[k].name, len)) n->flags |= names[k].bit;
        s += len;
        if (*s == ',') s++;
    }
    return 0;
}

/* ip:port@cport[,hostname] */
static int parse_address(cnode *n, const char *s) {
    const char *at = strchr(s, '@'), *colon = strrchr(s, ':');
    if (!at || !colon || colon > at) return -1;
    size_t iplen = (size_t)(colon - s);
    if (iplen >= sizeof(n->ip)) return -1;
    memcpy(n->ip, s, iplen);
    n->ip[iplen] = '\0';
    n->port = atoi(colon + 1);
    n->cport = atoi(at + 1);
    const char *comma = strchr(at, ',');
    if (comma) snprintf(n->hostname, sizeof(n->hostname), "%s", comma + 1);
    return 0;
}

static cnode *node_get_or_create(const char *name) {
    cnode *n = node_lookup(name, strlen(name));
    return n ? n : node_create(name, 0);
}

static void load_slot_spec(cnode *n, const char *spec) {
    if (spec[0] == '[') {
        /* [slot->-name] or [slot-<-name]: our own migrations. */
        int slot = atoi(spec + 1);
        const char *arrow = strstr(spec, "->-"), *back = strstr(spec, "-<-");
        const char *name = arrow ? arrow + 3 : back ? back + 3 : NULL;
        if (!name || slot < 0 || slot >= CLUSTER_SLOTS || strlen(name) < NODE_NAMELEN) return;
        char buf[NODE_NAMELEN + 1];
        memcpy(buf, name, NODE_NAMELEN);
        buf[NODE_NAMELEN] = '\0';
        cnode *other = node_get_or_create(buf);
        if (arrow) cl.migrating_to[slot] = other;
        else cl.importing_from[slot] = other;
        return;
    }
    int start = atoi(spec), end = start;
    const char *dash = strchr(spec, '-');
    if (dash) end = atoi(dash + 1);
    for (int j = start; j <= end && j >= 0 && j < CLUSTER_SLOTS; j++) cluster_add_slot(n, j);
}

static int load_line(kstr *argv, int argc) {
    if (argc >= 5 && !strcmp(argv[0], "vars")) {
        for (int i = 1; i + 1 < argc; i += 2) {
            if (!strcmp(argv[i], "currentEpoch")) cl.current_epoch = strtoull(argv[i + 1], NULL, 10);
            else if (!strcmp(argv[i], "lastVoteEpoch")) cl.last_vote_epoch = strtoull(argv[i + 1], NULL, 10);
        }
        return 0;
    }
    if (argc < 8 || kstr_len(argv[0]) != NODE_NAMELEN) return -1;
    cnode *n = node_get_or_create(argv[0]);
    if (parse_address(n, argv[1]) < 0) return -1;
    parse_flags(n, argv[2]);
    if (n->flags & NODE_MYSELF) cl.myself = n;
    if (strcmp(argv[3], "-") != 0) node_set_master(n, node_get_or_create(argv[3]));
    n->config_epoch = strtoull(argv[6], NULL, 10);
    n->flags &= ~(NODE_PFAIL | NODE_HANDSHAKE);
    for (int i = 8; i < argc; i++) load_slot_spec(n, argv[i]);
    return 0;
}

/* 1 loaded, 0 no file, -1 a broken file (start-up stops). */
static int load_config(void) {
    FILE *fp = fopen(cluster_config_file, "r");
    if (!fp) return 0;
    char *line = NULL;
    size_t cap = 0;
    int lines = 0, bad = 0;
    while (getline(&line, &cap, fp) > 0) {
        int argc;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        kstr *argv = kstr_split_args(line, &argc);
        if (!argv || load_line(argv, argc) < 0) bad = 1;
        kstr_free_split(argv, argc);
        lines++;
    }
    free(line);
    fclose(fp);
    if (lines == 0) return 0;
    if (bad || !cl.myself) return -1;
    return 1;
}

/* The config file is locked for the process's life, as Redis does, so
 * that two nodes cannot share one by mistake. */
static void lock_config_file(void) {
    int fd = open(cluster_config_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
        server_log(LOG_WARNING,
                   "Sorry, the cluster configuration file %s is already used by a different Redis Cluster node. "
                   "Please make sure that different nodes use different cluster configuration files.",
                   cluster_config_file);
        exit(1);
    }
    /* The descriptor stays open: closing it would drop the lock. */
}

void cluster_init(void) {
    if (!cluster_enabled_cfg) return;
    db_enable_slot_index();
    int r = load_config();
    if (r < 0) {
        server_log(LOG_WARNING, "Unrecoverable error: corrupted cluster config file \"%s\".", cluster_config_file);
        exit(1);
    }
    lock_config_file();
    mf_reset();
    if (r == 0) {
        cl.myself = node_create(NULL, NODE_MYSELF | NODE_MASTER);
        server_log(LOG_NOTICE, "No cluster configuration found, I'm %s", cl.myself->name);
        cl.todo_save = 2;
    } else {
        server_log(LOG_NOTICE, "Node configuration loaded, I'm %.40s", cl.myself->name);
    }
    apply_announced(NULL);
    cluster_update_state();
    if (cl.todo_save) cluster_save_config(1);
}

static void propagate_publish(const kstr channel, const kstr message, int sharded) {
    bus_broadcast_publish(channel, message, sharded);
}

void cluster_start(void) {
    if (!cluster_enabled_cfg) return;
    pubsub_on_publish = propagate_publish;
    /* A replica in nodes.conf replicates its master again. */
    if ((cl.myself->flags & NODE_SLAVE) && cl.myself->master && cl.myself->master->ip[0])
        repl_replicate(cl.myself->master->ip, cl.myself->master->port);
    int port = cluster_listen_port();
    if (port > 65535 || bus_listen() < 0) {
        server_log(LOG_WARNING, "Failed listening on the cluster bus port %d", port);
        exit(1);
    }
}

void cluster_cron(void) {
    migrate_cron();
    if (!cluster_enabled_cfg) return;
    bus_cron();
    cluster_before_sleep();
    cluster_redirect_blocked_clients();
    /* Changes that need no fsync are written here, at most every cron
     * tick: a reshard changes slots several times per slot moved, and a
     * rename costs milliseconds on some file systems. */
    if (cl.todo_save) cluster_save_config(cl.todo_save == 2);
}

/* State changes are applied before the next replies leave; epoch changes
 * (todo_save 2) are written and fsynced before them too. */
void cluster_before_sleep(void) {
    if (!cluster_enabled_cfg) return;
    failover_before_sleep();
    if (cl.todo_update_state) {
        cl.todo_update_state = 0;
        cluster_update_state();
    }
    if (cl.todo_save == 2) cluster_save_config(1);
}

/* ---- INFO ------------------------------------------------------------ */

int cluster_connections(void) { return cluster_enabled_cfg ? bus_links_count() : 0; }

int cluster_debug_kill_links(const char *dir, const char *node, size_t len) {
    if (!cluster_enabled_cfg) return -1;
    cnode *n = node_lookup(node, len);
    if (!n) return -2;
    int to = !strcasecmp(dir, "to") || !strcasecmp(dir, "all"), from = !strcasecmp(dir, "from") || !strcasecmp(dir, "all");
    if (!to && !from) return -3;
    if (to && n->link) bus_free_link(n->link);
    if (from && n->inbound) bus_free_link(n->inbound);
    return 0;
}

size_t cluster_links_memory(void) { return cluster_enabled_cfg ? (size_t)bus_link_bytes() : 0; }

kstr cluster_info_section(kstr s) {
    return kstr_cat_printf(s, "# Cluster\r\ncluster_enabled:%d\r\n", cluster_enabled_cfg ? 1 : 0);
}
