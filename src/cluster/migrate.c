/*
 * migrate.c: MIGRATE host port key|"" db timeout [COPY] [REPLACE]
 * [AUTH pw] [AUTH2 user pw] [KEYS key ...], as Redis 7.0 does it.
 *
 * Each key goes to the target as RESTORE (RESTORE-ASKING in cluster mode,
 * so that a node importing the slot takes it) with its remaining TTL and
 * the DUMP payload, in one write; the replies are then read one line each.
 * Keys the target accepted are deleted here unless COPY, and the command
 * is propagated as DEL of those keys.
 *
 * The connection is blocking for the command's duration (the event loop
 * waits, as in Redis): migrating is an operator's action, and resharding
 * tools send one key batch at a time. Connections are cached per
 * "host:port" (at most 64; one idle for 10 seconds is closed by the cron)
 * with the database last SELECTed, so a reshard does not reconnect for
 * every batch. A cached socket that turns out closed is reopened once,
 * unless the failure was a timeout (Redis's retry rule).
 *
 * Replies and errors are Redis's: +NOKEY when no key exists, -IOERR
 * error or timeout connecting to the client / writing to / reading from
 * target instance, "Target instance replied with error: <its error>".
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/propagate.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/reply.h"
#include "persist/rdb.h"

#define MIGRATE_CACHE_ITEMS 64
#define MIGRATE_CACHE_TTL_SEC 10

typedef struct migrate_conn {
    char name[300];   /* "host:port" */
    int fd;
    long long last_dbid;
    long long last_use_ms;
    char rbuf[4096];  /* bytes read past the last line */
    size_t rpos, rlen;
} migrate_conn;

static migrate_conn *cache[MIGRATE_CACHE_ITEMS];
static int ncache;

/* ---- blocking socket I/O with a deadline ---------------------------- */

/* Wait for fd to be ready for events before deadline_ms: 1 ready, 0 timed
 * out (errno ETIMEDOUT), -1 error. */
static int wait_fd(int fd, short events, long long deadline_ms) {
    for (;;) {
        long long left = deadline_ms - mstime();
        if (left <= 0) {
            errno = ETIMEDOUT;
            return 0;
        }
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
    }
}

static int connect_with_timeout(const char *host, const char *port, long timeout_ms) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *ai;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    long long deadline = mstime() + timeout_ms;
    int fd = -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (errno == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 1) {
            int err = 0;
            socklen_t len = sizeof(err);
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    return fd;
}

/* Write all of buf before the deadline; 0 or -1 (errno ETIMEDOUT on a
 * timeout). */
static int write_all(int fd, const char *buf, size_t len, long timeout_ms) {
    long long deadline = mstime() + timeout_ms;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
        if (wait_fd(fd, POLLOUT, deadline) != 1) return -1;
    }
    return 0;
}

/* Read one line (without its CRLF) into out; its length, or -1 on error
 * or timeout (errno ETIMEDOUT) or when the peer closed. */
static ssize_t read_line(migrate_conn *mc, char *out, size_t outsize, long timeout_ms) {
    long long deadline = mstime() + timeout_ms;
    size_t n = 0;
    for (;;) {
        while (mc->rpos < mc->rlen) {
            char ch = mc->rbuf[mc->rpos++];
            if (ch == '\n') {
                if (n && out[n - 1] == '\r') n--;
                out[n] = '\0';
                return (ssize_t)n;
            }
            if (n + 1 < outsize) out[n++] = ch;
        }
        ssize_t r = read(mc->fd, mc->rbuf, sizeof(mc->rbuf));
        if (r > 0) {
            mc->rpos = 0;
            mc->rlen = (size_t)r;
            continue;
        }
        if (r == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (errno != EAGAIN && errno != EINTR) return -1;
        if (wait_fd(mc->fd, POLLIN, deadline) != 1) return -1;
    }
}

/* ---- the connection cache --------------------------------------------- */

static int cache_find(const char *name) {
    for (int i = 0; i < ncache; i++)
        if (!strcmp(cache[i]->name, name)) return i;
    return -1;
}

static void cache_drop(int i) {
    close(cache[i]->fd);
    zfree(cache[i]);
    cache[i] = cache[--ncache];
}

static void conn_name(char *out, size_t size, const kstr host, const kstr port) {
    snprintf(out, size, "%.*s:%.*s", (int)(kstr_len(host) > 255 ? 255 : kstr_len(host)), host,
             (int)(kstr_len(port) > 32 ? 32 : kstr_len(port)), port);
}

static migrate_conn *get_conn(client *c, long timeout_ms) {
    char name[300];
    conn_name(name, sizeof(name), c->argv[1], c->argv[2]);
    int i = cache_find(name);
    if (i >= 0) {
        cache[i]->last_use_ms = mstime();
        return cache[i];
    }
    if (ncache == MIGRATE_CACHE_ITEMS) cache_drop((int)(random() % MIGRATE_CACHE_ITEMS));
    int fd = connect_with_timeout(c->argv[1], c->argv[2], timeout_ms);
    if (fd < 0) {
        reply_error(c, "IOERR error or timeout connecting to the client");
        return NULL;
    }
    migrate_conn *mc = zcalloc(sizeof(*mc));
    snprintf(mc->name, sizeof(mc->name), "%s", name);
    mc->fd = fd;
    mc->last_dbid = -1;
    mc->last_use_ms = mstime();
    cache[ncache++] = mc;
    return mc;
}

static void close_conn(client *c) {
    char name[300];
    conn_name(name, sizeof(name), c->argv[1], c->argv[2]);
    int i = cache_find(name);
    if (i >= 0) cache_drop(i);
}

void migrate_cron(void) {
    long long now = mstime();
    for (int i = ncache - 1; i >= 0; i--)
        if (now - cache[i]->last_use_ms > MIGRATE_CACHE_TTL_SEC * 1000) cache_drop(i);
}

int migrate_cached_connections(void) { return ncache; }

/* ---- the command ------------------------------------------------------ */

typedef struct migrate_args {
    int copy, replace;
    const char *user, *password;
    int first_key, num_keys;
    long timeout;
    long long dbid;
} migrate_args;

static int parse_migrate(client *c, migrate_args *a) {
    memset(a, 0, sizeof(*a));
    a->first_key = 3;
    a->num_keys = 1;
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(c->argv[j], "copy")) {
            a->copy = 1;
        } else if (arg_is(c->argv[j], "replace")) {
            a->replace = 1;
        } else if (arg_is(c->argv[j], "auth") && more >= 1) {
            a->password = c->argv[++j];
        } else if (arg_is(c->argv[j], "auth2") && more >= 2) {
            a->user = c->argv[++j];
            a->password = c->argv[++j];
        } else if (arg_is(c->argv[j], "keys")) {
            if (kstr_len(c->argv[3]) != 0) {
                reply_error(c, "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string");
                return 0;
            }
            a->first_key = j + 1;
            a->num_keys = c->argc - j - 1;
            break;
        } else {
            reply_error_syntax(c);
            return 0;
        }
    }
    long long timeout;
    if (!parse_ll(c, c->argv[5], &timeout) || !parse_ll(c, c->argv[4], &a->dbid)) return 0;
    a->timeout = timeout <= 0 ? 1000 : (long)timeout;
    return 1;
}

static kstr cat_bulk(kstr s, const char *p, size_t len) {
    s = kstr_cat_printf(s, "$%zu\r\n", len);
    s = kstr_cat_len(s, p, len);
    return kstr_cat_len(s, "\r\n", 2);
}

static kstr cat_bulk_ll(kstr s, long long v) {
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    return cat_bulk(s, buf, (size_t)n);
}

/* The RESTORE commands for the keys still alive (*keys is compacted to
 * them, *n updated), after AUTH and SELECT when needed. */
static kstr build_request(client *c, const migrate_args *a, int select, kstr *keys, int *n) {
    kstr s = kstr_empty();
    if (a->password) {
        s = kstr_cat_printf(s, "*%d\r\n", a->user ? 3 : 2);
        s = cat_bulk(s, "AUTH", 4);
        if (a->user) s = cat_bulk(s, a->user, kstr_len((kstr)a->user));
        s = cat_bulk(s, a->password, kstr_len((kstr)a->password));
    }
    if (select) {
        s = kstr_cat(s, "*2\r\n");
        s = cat_bulk(s, "SELECT", 6);
        s = cat_bulk_ll(s, a->dbid);
    }
    int alive = 0;
    for (int j = 0; j < *n; j++) {
        entry *e = db_find(c->db, keys[j], kstr_len(keys[j]));
        if (!e) continue;
        long long ttl = 0;
        if (entry_has_expire(e)) {
            ttl = entry_expire(e) - mstime();
            if (ttl < 0) continue;
            if (ttl < 1) ttl = 1;
        }
        unsigned char *p;
        size_t len;
        if (rdb_dump_payload(e, &p, &len) < 0) continue;
        keys[alive++] = keys[j];
        s = kstr_cat_printf(s, "*%d\r\n", a->replace ? 5 : 4);
        if (cluster_is_enabled()) s = cat_bulk(s, "RESTORE-ASKING", 14);
        else s = cat_bulk(s, "RESTORE", 7);
        s = cat_bulk(s, keys[j], kstr_len(keys[j]));
        s = cat_bulk_ll(s, ttl);
        s = cat_bulk(s, (const char *)p, len);
        zfree(p);
        if (a->replace) s = cat_bulk(s, "REPLACE", 7);
    }
    *n = alive;
    return s;
}

/* The local side of a key the target accepted (no COPY). */
static void delete_migrated(client *c, const kstr key) {
    db_delete(c->db, key, kstr_len(key));
    signal_modified_key(c, c->db, key);
    notify_keyspace_event(0, "del", key, db_id(c->db));
    server_dirty++;
}

static void propagate_as_del(client *c, kstr *deleted, int n) {
    if (n == 0) return;
    kstr *argv = zmalloc(sizeof(kstr) * (size_t)(n + 1));
    argv[0] = kstr_new("DEL");
    for (int i = 0; i < n; i++) argv[i + 1] = kstr_dup(deleted[i]);
    propagate_rewrite(c, n + 1, argv);
    zfree(argv);
}

enum { MIG_DONE, MIG_RETRY, MIG_WRITE_ERR, MIG_READ_ERR };

/* One attempt: write the whole request, read the replies. */
static int migrate_attempt(client *c, const migrate_args *a, migrate_conn *mc, kstr *keys, int nkeys,
                           int may_retry) {
    int select = mc->last_dbid != a->dbid;
    int n = nkeys;
    kstr req = build_request(c, a, select, keys, &n);
    errno = 0;
    int werr = write_all(mc->fd, req, kstr_len(req), a->timeout);
    kstr_free(req);
    if (werr < 0) return errno != ETIMEDOUT && may_retry ? MIG_RETRY : MIG_WRITE_ERR;
    char auth_line[1024] = "", select_line[1024] = "", line[1024];
    if (a->password && read_line(mc, auth_line, sizeof(auth_line), a->timeout) < 0)
        return errno != ETIMEDOUT && may_retry ? MIG_RETRY : MIG_READ_ERR;
    if (select && read_line(mc, select_line, sizeof(select_line), a->timeout) < 0)
        return errno != ETIMEDOUT && may_retry ? MIG_RETRY : MIG_READ_ERR;
    int error_from_target = 0, socket_error = 0, j, ndeleted = 0;
    kstr *deleted = zmalloc(sizeof(kstr) * (size_t)(n ? n : 1));
    for (j = 0; j < n; j++) {
        if (read_line(mc, line, sizeof(line), a->timeout) < 0) {
            socket_error = 1;
            break;
        }
        const char *err = a->password && auth_line[0] == '-' ? auth_line
                          : select && select_line[0] == '-' ? select_line
                          : line[0] == '-'                  ? line
                                                            : NULL;
        if (err) {
            if (!error_from_target) {
                mc->last_dbid = -1;
                error_from_target = 1;
                reply_errorf(c, "Target instance replied with error: %s", err + 1);
            }
        } else if (!a->copy) {
            delete_migrated(c, keys[j]);
            deleted[ndeleted++] = keys[j];
        }
    }
    int timed_out = errno == ETIMEDOUT;
    if (!error_from_target && socket_error && j == 0 && may_retry && !timed_out) {
        zfree(deleted);
        return MIG_RETRY;
    }
    propagate_as_del(c, deleted, ndeleted);
    zfree(deleted);
    if (socket_error) close_conn(c);
    if (!error_from_target && socket_error) return MIG_READ_ERR;
    if (!error_from_target) {
        mc->last_dbid = a->dbid;
        reply_ok(c);
    }
    return MIG_DONE;
}

static void migrate_command(client *c) {
    migrate_args a;
    if (!parse_migrate(c, &a)) return;
    kstr *keys = zmalloc(sizeof(kstr) * (size_t)(a.num_keys ? a.num_keys : 1));
    int n = 0;
    for (int j = 0; j < a.num_keys; j++)
        if (lookup_read(c, c->argv[a.first_key + j])) keys[n++] = c->argv[a.first_key + j];
    if (n == 0) {
        zfree(keys);
        reply_status(c, "NOKEY");
        return;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        migrate_conn *mc = get_conn(c, a.timeout);
        if (!mc) break; /* replied */
        int r = migrate_attempt(c, &a, mc, keys, n, attempt == 0);
        if (r == MIG_DONE) break;
        close_conn(c);
        if (r == MIG_RETRY) continue;
        reply_errorf(c, "IOERR error or timeout %s to target instance", r == MIG_WRITE_ERR ? "writing" : "reading");
        break;
    }
    zfree(keys);
}

command migrate_commands[] = {
    {"migrate", migrate_command, -6, "write movablekeys", 3, 3, 1, "generic", "2.6.0",
     "Atomically transfer a key from a Redis instance to another one.", NULL},
    {NULL},
};
