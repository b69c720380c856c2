/*
 * sentinel_config: the "sentinel ..." lines of the config file, read at
 * start-up and rewritten whenever the state changes (a new replica or
 * sentinel, a vote, a new epoch, a failover), in the form Redis Sentinel
 * writes them, so that a sentinel restarted from its file, or a file moved
 * between redis-sentinel and keel-sentinel, carries the same state.
 *
 * Lines are queued while the file is read and applied afterwards in three
 * passes (global settings, then `monitor`, then per-master settings), as
 * Redis does, so that their order in the file does not matter.
 * The rewrite keeps every other line of the file as it is and replaces
 * the sentinel lines with a block of generated ones; the new file is
 * written beside the old one and renamed over it.
 */
#include "sentinel/sentinel.h"
#include "sentinel/sentinel_internal.h"
#include "core/server.h"
#include "lib/zmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define NO_MASTER "No such master with specified name."

typedef struct queued_line { kstr *argv; int argc; } queued_line;
static queued_line *queue;
static int nqueue;

static int is_pre_monitor(const char *name) {
    static const char *const names[] = {"announce-ip", "announce-port", "deny-scripts-reconfig", "sentinel-user",
                                        "sentinel-pass", "current-epoch", "myid", "resolve-hostnames",
                                        "announce-hostnames", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcasecmp(name, names[i])) return 1;
    return 0;
}

int sentinel_config_line(char **argv, int argc, const char **err) {
    if (!sentinel_active()) { *err = "sentinel directive while not in sentinel mode"; return 0; }
    if (argc < 1) { *err = "Unrecognized sentinel configuration statement."; return 0; }
    queue = zrealloc(queue, sizeof(*queue) * (size_t)(nqueue + 1));
    queue[nqueue].argv = zmalloc(sizeof(kstr) * (size_t)argc);
    for (int i = 0; i < argc; i++) queue[nqueue].argv[i] = kstr_new(argv[i]);
    queue[nqueue++].argc = argc;
    return 1;
}

static int parse_num(const char *s, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end) return 0;
    *out = v;
    return 1;
}

static int yesno(const char *s) { return !strcasecmp(s, "yes") ? 1 : !strcasecmp(s, "no") ? 0 : -1; }

static const char *set_global(kstr *argv, int argc) {
    long long v;
    const char *k = argv[0];
    if (!strcasecmp(k, "current-epoch") && argc == 2) {
        if (parse_num(argv[1], &v) && (uint64_t)v > sentinel.current_epoch) sentinel.current_epoch = (uint64_t)v;
    } else if (!strcasecmp(k, "myid") && argc == 2) {
        if (strlen(argv[1]) != 40) return "Malformed Sentinel id in myid option.";
        memcpy(sentinel.myid, argv[1], 41);
        sentinel.myid_set = 1;
    } else if (!strcasecmp(k, "announce-ip") && argc == 2) {
        kstr_free(sentinel.announce_ip);
        sentinel.announce_ip = kstr_len(argv[1]) ? kstr_dup(argv[1]) : NULL;
    } else if (!strcasecmp(k, "announce-port") && argc == 2) {
        sentinel.announce_port = atoi(argv[1]);
    } else if (!strcasecmp(k, "deny-scripts-reconfig") && argc == 2) {
        if ((sentinel.deny_scripts_reconfig = yesno(argv[1])) == -1)
            return "Please specify yes or no for the deny-scripts-reconfig options.";
    } else if (!strcasecmp(k, "sentinel-user") && argc == 2) {
        kstr_free(sentinel.sentinel_user);
        sentinel.sentinel_user = kstr_len(argv[1]) ? kstr_dup(argv[1]) : NULL;
    } else if (!strcasecmp(k, "sentinel-pass") && argc == 2) {
        kstr_free(sentinel.sentinel_pass);
        sentinel.sentinel_pass = kstr_len(argv[1]) ? kstr_dup(argv[1]) : NULL;
    } else if (!strcasecmp(k, "resolve-hostnames") && argc == 2) {
        if ((sentinel.resolve_hostnames = yesno(argv[1])) == -1)
            return "Please specify yes or no for the resolve-hostnames option.";
    } else if (!strcasecmp(k, "announce-hostnames") && argc == 2) {
        if ((sentinel.announce_hostnames = yesno(argv[1])) == -1)
            return "Please specify yes or no for the announce-hostnames option.";
    } else {
        return "Unrecognized sentinel configuration statement.";
    }
    return NULL;
}

static const char *set_monitor(kstr *argv, int argc) {
    if (argc != 5) return "Unrecognized sentinel configuration statement.";
    long long quorum, port;
    if (!parse_num(argv[4], &quorum) || quorum <= 0) return "Quorum must be 1 or greater.";
    if (!parse_num(argv[3], &port)) return "Invalid port number";
    const char *err;
    return instance_new(argv[1], SRI_MASTER, argv[2], (int)port, (unsigned)quorum, NULL, &err) ? NULL : err;
}

static const char *set_per_master(kstr *argv, int argc) {
    const char *k = argv[0];
    if (argc < 3) return "Unrecognized sentinel configuration statement.";
    sinstance *m = master_lookup(argv[1]);
    const char *err = "Invalid port number";
    long long v;
    if (!m) return NO_MASTER;
    if (argc == 3 && (!strcasecmp(k, "down-after-milliseconds") || !strcasecmp(k, "failover-timeout") ||
                      !strcasecmp(k, "master-reboot-down-after-period"))) {
        int reboot = !strcasecmp(k, "master-reboot-down-after-period");
        if (!parse_num(argv[2], &v) || v < 0 || (v == 0 && !reboot)) return reboot ? "negative time parameter." : "negative or zero time parameter.";
        if (reboot) m->master_reboot_down_after_period = v;
        else if (k[0] == 'd' || k[0] == 'D') {
            m->down_after_period = v;
            for (int i = 0; i < m->slaves.n; i++) m->slaves.v[i]->down_after_period = v;
            for (int i = 0; i < m->sentinels.n; i++) m->sentinels.v[i]->down_after_period = v;
        } else m->failover_timeout = v;
    } else if (!strcasecmp(k, "parallel-syncs") && argc == 3) {
        m->parallel_syncs = atoi(argv[2]);
    } else if ((!strcasecmp(k, "notification-script") || !strcasecmp(k, "client-reconfig-script")) && argc == 3) {
        int notif = k[0] == 'n' || k[0] == 'N';
        if (access(argv[2], X_OK) == -1)
            return notif ? "Notification script seems non existing or non executable."
                         : "Client reconfiguration script seems non existing or non executable.";
        kstr *slot = notif ? &m->notification_script : &m->client_reconfig_script;
        kstr_free(*slot);
        *slot = kstr_dup(argv[2]);
    } else if (!strcasecmp(k, "auth-pass") && argc == 3) {
        kstr_free(m->auth_pass);
        m->auth_pass = kstr_dup(argv[2]);
    } else if (!strcasecmp(k, "auth-user") && argc == 3) {
        kstr_free(m->auth_user);
        m->auth_user = kstr_dup(argv[2]);
    } else if (!strcasecmp(k, "config-epoch") && argc == 3) {
        if (parse_num(argv[2], &v)) m->config_epoch = (uint64_t)v;
        if (m->config_epoch > sentinel.current_epoch) sentinel.current_epoch = m->config_epoch;
    } else if (!strcasecmp(k, "leader-epoch") && argc == 3) {
        if (parse_num(argv[2], &v)) m->leader_epoch = (uint64_t)v;
    } else if ((!strcasecmp(k, "known-slave") || !strcasecmp(k, "known-replica")) && argc == 4) {
        if (!parse_num(argv[3], &v) || !instance_new(NULL, SRI_SLAVE, argv[2], (int)v, m->quorum, m, &err)) return err;
    } else if (!strcasecmp(k, "known-sentinel") && (argc == 4 || argc == 5)) {
        if (!parse_num(argv[3], &v)) return "Invalid port number";
        if (!instance_new(argc == 5 ? argv[4] : NULL, SRI_SENTINEL, argv[2], (int)v, m->quorum, m, &err)) return err;
    } else if (!strcasecmp(k, "rename-command") && argc == 4) {
        master_rename_command(m, argv[2], argv[3]);
    } else {
        return "Unrecognized sentinel configuration statement.";
    }
    return NULL;
}

static void fatal_line(const queued_line *q, const char *err) {
    fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Keel %s) ***\n>>> 'sentinel", KEEL_OWN_VERSION);
    for (int i = 0; i < q->argc; i++) fprintf(stderr, " %s", q->argv[i]);
    fprintf(stderr, "'\n%s\n", err);
    server_startup_exit(1);
}

/* Apply the queued lines (called once by sentinel_start). */
void sentinel_apply_queued_config(void) {
    for (int pass = 0; pass < 3; pass++) {
        for (int i = 0; i < nqueue; i++) {
            queued_line *q = &queue[i];
            int pre = is_pre_monitor(q->argv[0]), mon = !strcasecmp(q->argv[0], "monitor");
            const char *err = NULL;
            if (pass == 0 && pre) err = set_global(q->argv, q->argc);
            else if (pass == 1 && mon) err = set_monitor(q->argv, q->argc);
            else if (pass == 2 && !pre && !mon) err = set_per_master(q->argv, q->argc);
            if (err) fatal_line(q, err);
        }
    }
    for (int i = 0; i < nqueue; i++) kstr_free_split(queue[i].argv, queue[i].argc);
    zfree(queue);
    queue = NULL;
    nqueue = 0;
}

/* ---- Rewrite ---------------------------------------------------------- */

static kstr master_lines(kstr out, sinstance *m) {
    out = kstr_cat_printf(out, "sentinel monitor %s %s %d %u\n", m->name, shown_addr(m), m->port, m->quorum);
    if (m->down_after_period != st.default_down_after)
        out = kstr_cat_printf(out, "sentinel down-after-milliseconds %s %lld\n", m->name, m->down_after_period);
    if (m->failover_timeout != st.default_failover_timeout)
        out = kstr_cat_printf(out, "sentinel failover-timeout %s %lld\n", m->name, m->failover_timeout);
    if (m->parallel_syncs != 1) out = kstr_cat_printf(out, "sentinel parallel-syncs %s %d\n", m->name, m->parallel_syncs);
    if (m->notification_script) out = kstr_cat_printf(out, "sentinel notification-script %s %s\n", m->name, m->notification_script);
    if (m->client_reconfig_script)
        out = kstr_cat_printf(out, "sentinel client-reconfig-script %s %s\n", m->name, m->client_reconfig_script);
    if (m->auth_pass) out = kstr_cat_printf(out, "sentinel auth-pass %s %s\n", m->name, m->auth_pass);
    if (m->auth_user) out = kstr_cat_printf(out, "sentinel auth-user %s %s\n", m->name, m->auth_user);
    if (m->master_reboot_down_after_period)
        out = kstr_cat_printf(out, "sentinel master-reboot-down-after-period %s %lld\n", m->name, m->master_reboot_down_after_period);
    out = kstr_cat_printf(out, "sentinel config-epoch %s %llu\n", m->name, (unsigned long long)m->config_epoch);
    out = kstr_cat_printf(out, "sentinel leader-epoch %s %llu\n", m->name, (unsigned long long)m->leader_epoch);
    for (int i = 0; i < m->slaves.n; i++) {
        sinstance *s = m->slaves.v[i];
        if (addr_is(m, s->ip, s->port)) continue;
        out = kstr_cat_printf(out, "sentinel known-replica %s %s %d\n", m->name, shown_addr(s), s->port);
    }
    for (int i = 0; i < m->nrenamed; i += 2)
        out = kstr_cat_printf(out, "sentinel rename-command %s %s %s\n", m->name, m->renamed[i], m->renamed[i + 1]);
    for (int i = 0; i < m->sentinels.n; i++) {
        sinstance *s = m->sentinels.v[i];
        if (!s->runid) continue;
        out = kstr_cat_printf(out, "sentinel known-sentinel %s %s %d %s\n", m->name, shown_addr(s), s->port, s->runid);
    }
    return out;
}

static kstr generated_lines(void) {
    kstr out = kstr_cat_printf(kstr_empty(), "sentinel myid %s\n", sentinel.myid);
    if (sentinel.deny_scripts_reconfig == 0) out = kstr_cat(out, "sentinel deny-scripts-reconfig no\n");
    if (sentinel.resolve_hostnames) out = kstr_cat(out, "sentinel resolve-hostnames yes\n");
    if (sentinel.announce_hostnames) out = kstr_cat(out, "sentinel announce-hostnames yes\n");
    for (int i = 0; i < sentinel.masters.n; i++) out = master_lines(out, sentinel.masters.v[i]);
    out = kstr_cat_printf(out, "sentinel current-epoch %llu\n", (unsigned long long)sentinel.current_epoch);
    if (sentinel.announce_ip) {
        out = kstr_cat(out, "sentinel announce-ip ");
        out = kstr_cat_repr(out, sentinel.announce_ip, kstr_len(sentinel.announce_ip));
        out = kstr_cat(out, "\n");
    }
    if (sentinel.announce_port) out = kstr_cat_printf(out, "sentinel announce-port %d\n", sentinel.announce_port);
    if (sentinel.sentinel_user) out = kstr_cat_printf(out, "sentinel sentinel-user %s\n", sentinel.sentinel_user);
    if (sentinel.sentinel_pass) out = kstr_cat_printf(out, "sentinel sentinel-pass %s\n", sentinel.sentinel_pass);
    return out;
}

static int first_word_is(const char *line, const char *word) {
    while (*line == ' ' || *line == '\t') line++;
    size_t n = strlen(word);
    return !strncasecmp(line, word, n) && (!line[n] || line[n] == ' ' || line[n] == '\t' || line[n] == '\r');
}

/* "sentinel <option>" of a sentinel line, lowercased ("known-slave" is
 * the older name of "known-replica"); empty for other lines. */
static void sentinel_key(const char *line, char *key, size_t keylen) {
    char a[32] = "", b[64] = "";
    key[0] = '\0';
    if (sscanf(line, " %31s %63s", a, b) != 2 || strcasecmp(a, "sentinel")) return;
    for (char *q = b; *q; q++) *q = (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q);
    snprintf(key, keylen, "sentinel %s", !strcmp(b, "known-slave") ? "known-replica" : b);
}

typedef struct lines { kstr *v; int n; } lines;

static void lines_push(lines *l, kstr s) {
    l->v = zrealloc(l->v, sizeof(kstr) * (size_t)(l->n + 1));
    l->v[l->n++] = s;
}

static void lines_free(lines *l) {
    for (int i = 0; i < l->n; i++) kstr_free(l->v[i]);
    zfree(l->v);
}

static lines split_lines(const char *text) {
    lines l = {NULL, 0};
    while (*text) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        lines_push(&l, kstr_new_len(text, len));
        text += len + (nl ? 1 : 0);
    }
    return l;
}

static lines old_file_lines(void) {
    kstr text = kstr_empty();
    FILE *f = fopen(server.config_file, "r");
    if (f) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text = kstr_cat_len(text, buf, n);
        fclose(f);
    }
    lines l = split_lines(text);
    kstr_free(text);
    return l;
}

#define REWRITE_MARKER "# Generated by CONFIG REWRITE"

/* As Redis rewrites a config file: each sentinel line of the old file is
 * replaced in place by the next new line of the same option (or dropped
 * when there is none left), other lines stay as they are, and new lines
 * go at the end under the marker. A file the user wrote keeps its order
 * and comments. */
static kstr merged_config(void) {
    lines old = old_file_lines(), gen;
    kstr g = generated_lines();
    gen = split_lines(g);
    kstr_free(g);
    char *used = zcalloc((size_t)gen.n + 1);
    int has_port = 0, marker = 0;
    kstr out = kstr_empty();
    char key[96], k2[96];
    for (int i = 0; i < old.n; i++) {
        sentinel_key(old.v[i], key, sizeof(key));
        if (!strncmp(old.v[i], REWRITE_MARKER, strlen(REWRITE_MARKER))) marker = 1;
        if (first_word_is(old.v[i], "port")) has_port = 1;
        if (!key[0]) {
            out = kstr_cat_printf(out, "%s\n", old.v[i]);
            continue;
        }
        for (int j = 0; j < gen.n; j++) {
            if (used[j]) continue;
            sentinel_key(gen.v[j], k2, sizeof(k2));
            if (strcmp(key, k2)) continue;
            out = kstr_cat_printf(out, "%s\n", gen.v[j]);
            used[j] = 1;
            break;
        }
    }
    int fresh = !has_port && server.port != 26379;
    for (int j = 0; j < gen.n; j++) fresh |= !used[j];
    if (fresh && !marker) out = kstr_cat(out, REWRITE_MARKER "\n");
    if (!has_port && server.port != 26379) out = kstr_cat_printf(out, "port %d\n", server.port);
    for (int j = 0; j < gen.n; j++)
        if (!used[j]) out = kstr_cat_printf(out, "%s\n", gen.v[j]);
    zfree(used);
    lines_free(&old);
    lines_free(&gen);
    return out;
}

int sentinel_flush_config(void) {
    if (!server.config_file || !sentinel.myid_set) return 0;
    kstr text = merged_config();
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", server.config_file, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0 && write(fd, text, kstr_len(text)) == (ssize_t)kstr_len(text) && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    ok = ok && rename(tmp, server.config_file) == 0;
    if (!ok) {
        server_log(LOG_WARNING, "WARNING: Sentinel was not able to save the new configuration on disk!!!: %s", strerror(errno));
        unlink(tmp);
    }
    kstr_free(text);
    return ok;
}
