/*
 * replica: the replica side. REPLICAOF host port starts a link to the
 * master that lives in the event loop as a small state machine:
 *
 *   CONNECT -> CONNECTING (non-blocking connect) -> PING -> [AUTH] ->
 *   REPLCONF listening-port -> [REPLCONF ip-address] -> REPLCONF capa eof
 *   capa psync2 -> PSYNC <replid> <offset+1> -> +CONTINUE: CONNECTED, or
 *   +FULLRESYNC: TRANSFER (the RDB, `$len` or `$EOF:<mark>`) -> CONNECTED.
 *
 * The RDB goes to a temp file loaded once complete (repl-diskless-load
 * disabled, or on-empty-db with data), or is parsed straight from the
 * socket (swapdb; on-empty-db with no keys). Either way clients are
 * served during the load: -LOADING, or with swapdb and the same
 * replication history as the master's (Redis 7.0's async loading) the old
 * dataset, which stays until the new one is complete (and stays for good
 * if the load fails).
 *
 * Connected, the master's stream is parsed here and each command run by
 * a fake client flagged CLIENT_MASTER (replies dropped). The offset
 * counts applied bytes, except inside MULTI: a transaction counts when
 * its EXEC has run, so a link lost mid-transaction resumes before MULTI.
 * The applied bytes go verbatim into this server's own stream (backlog.c)
 * for chained replicas. The offset is acknowledged every second and on
 * REPLCONF GETACK. All replies of the handshake are single lines, read
 * from the same input buffer that carries the RDB and the stream.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl/repl_internal.h"
#include "repl/repl.h"
#include "core/blocking.h"
#include "core/command.h"
#include "core/db.h"
#include "core/multi.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "lib/sock.h"
#include "lib/util.h"
#include "net/reqparse.h"
#include "persist/rdb.h"
#include "persist/snapshot.h"
#include "tls/tls.h"

master_link ML = {.fd = -1, .tmpfd = -1};
int applying_master;
static int mc_db;          /* database of the master client when the link went */
static size_t applied_at;  /* ML.in: start of the bytes not yet counted */

int link_is_up(void) { return ML.state == LINK_CONNECTED; }
int repl_is_replica(void) { return ML.host != NULL; }
client *repl_master_client(void) { return ML.state == LINK_CONNECTED ? ML.mc : NULL; }
int repl_is_master_client(const client *c) { return c && (c->flags & CLIENT_MASTER); }

const char *link_state_name(void) {
    switch (ML.state) {
    case LINK_CONNECT: return "connect";
    case LINK_CONNECTING: return "connecting";
    case LINK_TRANSFER: return "sync";
    case LINK_CONNECTED: return "connected";
    default: return "handshake";
    }
}

static void on_readable(eventloop *el, int fd, void *data, int mask);
static void read_some(int fd);
static void on_tls_handshake(eventloop *el, int fd, void *data, int mask);

/* The link's bytes, through TLS with tls-replication yes. */
static ssize_t link_write(const char *p, size_t len) {
    if (!ML.conn) return write(ML.fd, p, len);
    struct iovec iov = {(void *)p, len};
    return conn_writev(ML.conn, &iov, 1);
}

static ssize_t link_read(char *p, size_t len) { return ML.conn ? conn_read(ML.conn, p, len) : read(ML.fd, p, len); }

static void send_cmd(int argc, const char **argv) {
    kstr s = kstr_cat_printf(kstr_empty(), "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) s = kstr_cat_printf(s, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    ssize_t n = link_write(s, kstr_len(s));
    (void)n; /* a handshake line fits a fresh socket; errors show as EOF */
    kstr_free(s);
}

/* AUTH [masteruser] masterauth, every byte of both (they may hold NULs:
 * config strings are kstr). */
static void send_auth(void) {
    int with_user = cfg_masteruser && kstr_len(cfg_masteruser);
    kstr s = kstr_cat_printf(kstr_empty(), "*%d\r\n$4\r\nAUTH\r\n", with_user ? 3 : 2);
    for (int i = with_user ? 0 : 1; i < 2; i++) {
        const kstr arg = i ? cfg_masterauth : cfg_masteruser;
        s = kstr_cat_printf(s, "$%zu\r\n", kstr_len(arg));
        s = kstr_cat_len(s, arg, kstr_len(arg));
        s = kstr_cat_len(s, "\r\n", 2);
    }
    ssize_t n = link_write(s, kstr_len(s));
    (void)n; /* as send_cmd: errors show as EOF */
    kstr_free(s);
}

static void close_transfer(void) {
    if (ML.tmpfd >= 0) {
        close(ML.tmpfd);
        ML.tmpfd = -1;
        unlink(ML.tmppath);
    }
}

static void free_master_client(void) {
    if (!ML.mc) return;
    mc_db = db_id(ML.mc->db);
    client_free(ML.mc);
    ML.mc = NULL;
}

/* The link is gone (error, timeout, REPLICAOF): retry from CONNECT. */
static void link_down(const char *why) {
    if (why) server_log(LOG_WARNING, "%s", why);
    if (ML.fd >= 0) {
        ev_del_file(server.el, ML.fd, EV_READABLE | EV_WRITABLE);
        if (ML.conn) conn_free(ML.conn);
        ML.conn = NULL;
        close(ML.fd);
        ML.fd = -1;
    }
    close_transfer();
    if (ML.state == LINK_CONNECTED) {
        free_master_client();
        ML.down_since_ms = server_mstime();
    }
    kstr_free(ML.in);
    ML.in = NULL;
    ML.in_pos = 0;
    applied_at = 0;
    ML.state = ML.host ? LINK_CONNECT : LINK_NONE;
}

static void start_handshake(int fd) {
    ev_del_file(server.el, fd, EV_WRITABLE);
    ev_add_file(server.el, fd, EV_READABLE, on_readable, NULL);
    ML.state = LINK_RECV_PONG;
    ML.last_io_ms = server_mstime();
    send_cmd(1, (const char *[]){"PING"});
}

/* tls-replication yes: the TLS handshake comes between the connect and
 * the replication handshake, driven by whichever event OpenSSL waits for. */
static void on_tls_handshake(eventloop *el, int fd, void *data, int mask) {
    (void)data; (void)mask;
    switch (conn_handshake(ML.conn)) {
    case CONN_WANT_READ:
        ev_del_file(el, fd, EV_WRITABLE);
        ev_add_file(el, fd, EV_READABLE, on_tls_handshake, NULL);
        return;
    case CONN_WANT_WRITE:
        ev_add_file(el, fd, EV_WRITABLE, on_tls_handshake, NULL);
        return;
    case CONN_FAILED: {
        char msg[256];
        snprintf(msg, sizeof(msg), "Unable to connect to MASTER: TLS handshake: %s", conn_last_error(ML.conn));
        link_down(msg);
        return;
    }
    default:
        start_handshake(fd);
    }
}

static void on_connected(eventloop *el, int fd, void *data, int mask) {
    (void)el; (void)data; (void)mask;
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err) {
        char msg[256];
        snprintf(msg, sizeof(msg), "Error condition on socket for SYNC: %s", strerror(err));
        link_down(msg);
        return;
    }
    server_log(LOG_NOTICE, "Non blocking connect for SYNC fired the event.");
    if (!tls_replication_enabled()) {
        start_handshake(fd);
        return;
    }
    if (!(ML.conn = tls_conn_connect(fd, ML.host))) {
        link_down("Unable to connect to MASTER: TLS is not configured");
        return;
    }
    on_tls_handshake(el, fd, NULL, EV_WRITABLE);
}

static void link_connect(void) {
    server_log(LOG_NOTICE, "Connecting to MASTER %s:%d", ML.host, ML.port);
    int fd = sock_connect_nonblock(ML.host, ML.port, SOCK_KEEPALIVE);
    if (fd < 0) {
        if (fd == SOCK_UNRESOLVED) server_log(LOG_WARNING, "Unable to connect to MASTER: can't resolve %s", ML.host);
        else server_log(LOG_WARNING, "Unable to connect to MASTER: %s", strerror(errno));
        return;
    }
    ML.fd = fd;
    ML.state = LINK_CONNECTING;
    ML.last_io_ms = server_mstime();
    ML.in = kstr_empty();
    ML.in_pos = 0;
    server_log(LOG_NOTICE, "MASTER <-> REPLICA sync started");
    ev_add_file(server.el, fd, EV_WRITABLE, on_connected, NULL);
}

/* ---- handshake ---- */

static void send_port(void) {
    char port[16];
    snprintf(port, sizeof(port), "%d", cfg_announce_port ? cfg_announce_port : server.port);
    send_cmd(3, (const char *[]){"REPLCONF", "listening-port", port});
    ML.state = LINK_RECV_PORT;
}

static void send_capa(void) {
    send_cmd(5, (const char *[]){"REPLCONF", "capa", "eof", "capa", "psync2"});
    ML.state = LINK_RECV_CAPA;
}

static void send_psync(void) {
    char off[32];
    snprintf(off, sizeof(off), "%lld", RS.offset + 1);
    /* Our own history (as master, or from the master we had) may let the
     * new master continue it. */
    if (rfailover_psync_flag()) send_cmd(4, (const char *[]){"PSYNC", RS.replid, off, "FAILOVER"});
    else if (RS.replid[0]) send_cmd(3, (const char *[]){"PSYNC", RS.replid, off});
    else send_cmd(3, (const char *[]){"PSYNC", "?", "-1"});
    ML.state = LINK_RECV_PSYNC;
}

/* CLIENT LIST's laddr of the master client: this end of the link. */
static void local_address(int fd, char *out, size_t len) {
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) return;
    if (sa.ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)&sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
    } else if (sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
    }
    snprintf(out, len, "%s:%d", ip, port);
}

static void start_streaming(int dbid) {
    ML.mc = client_create_fake();
    ML.mc->flags |= CLIENT_MASTER | CLIENT_AUTHENTICATED;
    ML.mc->db = db_get(dbid < db_count() ? dbid : 0);
    snprintf(ML.mc->addr, sizeof(ML.mc->addr), "%s:%d", ML.host, ML.port);
    local_address(ML.fd, ML.mc->laddr, sizeof(ML.mc->laddr));
    ML.state = LINK_CONNECTED;
    ML.down_since_ms = 0;
    ML.read_off = RS.offset;
    applied_at = ML.in_pos;
}

static void send_ack(void) {
    char off[32];
    snprintf(off, sizeof(off), "%lld", RS.offset);
    send_cmd(3, (const char *[]){"REPLCONF", "ACK", off});
    ML.last_ack_ms = server_mstime();
}

static int psync_reply(const char *line) {
    if (!line[0]) return 0; /* newline keepalive before the reply */
    if (!strncmp(line, "+FULLRESYNC ", 12)) {
        rfailover_psync_answered(1);
        const char *sp = strchr(line + 12, ' ');
        if (!sp || sp - (line + 12) != 40) return -1;
        memcpy(ML.new_replid, line + 12, 40);
        ML.new_replid[40] = '\0';
        ML.new_offset = strtoll(sp + 1, NULL, 10);
        server_log(LOG_NOTICE, "Full resync from master: %s:%lld", ML.new_replid, ML.new_offset);
        ML.state = LINK_TRANSFER;
        ML.size = -2; /* header not read yet */
        ML.got = 0;
        ML.sync_start_ms = server_mstime();
        return 0;
    }
    if (!strncmp(line, "+CONTINUE", 9)) {
        rfailover_psync_answered(1);
        const char *id = line[9] == ' ' ? line + 10 : NULL;
        server_log(LOG_NOTICE, "Successful partial resynchronization with master.");
        if (id && strlen(id) == 40 && strcmp(id, RS.replid)) {
            memcpy(RS.replid2, RS.replid, 41);
            RS.second_offset = RS.offset + 1;
            memcpy(RS.replid, id, 40);
            RS.replid[40] = '\0';
            /* Our replicas must learn the new id. */
            master_drop_all_replicas();
            server_log(LOG_NOTICE, "Master replication ID changed to %s", RS.replid);
        }
        if (!RS.head) backlog_create();
        start_streaming(mc_db);
        send_ack();
        return 0;
    }
    server_log(LOG_WARNING, "Unexpected reply to PSYNC from master: %s", line);
    /* A failover's target refusing: this server is a master again (the
     * link is gone with it). */
    rfailover_psync_answered(0);
    return -1;
}

static int handshake_line(const char *line) {
    switch (ML.state) {
    case LINK_RECV_PONG:
        if (line[0] == '-' && strncmp(line, "-NOAUTH", 7) && strncmp(line, "-NOPERM", 7) &&
            strncmp(line, "-ERR operation not permitted", 28)) {
            server_log(LOG_WARNING, "Error reply to PING from master: '%s'", line);
            return -1;
        }
        server_log(LOG_NOTICE, "Master replied to PING, replication can continue...");
        if (cfg_masterauth && kstr_len(cfg_masterauth)) {
            send_auth();
            ML.state = LINK_RECV_AUTH;
        } else send_port();
        return 0;
    case LINK_RECV_AUTH:
        if (line[0] == '-') {
            server_log(LOG_WARNING, "Unable to AUTH to MASTER: %s", line);
            return -1;
        }
        send_port();
        return 0;
    case LINK_RECV_PORT:
        if (line[0] == '-') server_log(LOG_NOTICE, "(Non critical) Master does not understand REPLCONF listening-port: %s", line);
        if (cfg_announce_ip && cfg_announce_ip[0]) {
            send_cmd(3, (const char *[]){"REPLCONF", "ip-address", cfg_announce_ip});
            ML.state = LINK_RECV_IP;
        } else send_capa();
        return 0;
    case LINK_RECV_IP:
        send_capa();
        return 0;
    case LINK_RECV_CAPA:
        send_psync();
        return 0;
    case LINK_RECV_PSYNC:
        return psync_reply(line);
    }
    return -1;
}

/* ---- the RDB ---- */

static int load_done(void);
static int load_from_socket(void);

/* repl-diskless-load: parse the payload straight from the socket? */
static int diskless_load_applies(void) {
    if (cfg_diskless_load == 2) return 1;                    /* swapdb */
    if (cfg_diskless_load == 1) return db_size_all() == 0;   /* on-empty-db */
    return 0;
}

/* While a load serves clients, the link's own events must wait: its
 * bytes are the load's input (diskless) or the stream after it. */
static void pause_link_events(int pause) {
    if (ML.fd < 0) return;
    if (pause) ev_del_file(server.el, ML.fd, EV_READABLE);
    else ev_add_file(server.el, ML.fd, EV_READABLE, on_readable, NULL);
}

static int load_transfer(void) {
    close(ML.tmpfd);
    ML.tmpfd = -1;
    server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: Flushing old data");
    if (snapshot_running()) snapshot_abort("replication full sync");
    master_drop_all_replicas();
    server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory");
    rdb_load_stats st;
    memset(&st, 0, sizeof(st));
    char err[512];
    RAUX.db = 0;
    rdb_load_keep_expired = 1;
    int fd = ML.fd;
    pause_link_events(1);
    int rc = rdb_load_file_flags(ML.tmppath, RDB_LOAD_SERVE_CLIENTS | (cfg_lazy_flush ? RDB_LOAD_LAZY_FREE : 0),
                                 &st, err, sizeof(err));
    rdb_load_keep_expired = 0;
    unlink(ML.tmppath);
    if (ML.fd != fd || ML.state != LINK_TRANSFER) return -1; /* REPLICAOF meanwhile: the link is another */
    pause_link_events(0);
    if (rc != 0) {
        server_log(LOG_WARNING, "Failed trying to load the MASTER synchronization DB from disk: %s", err);
        return -1;
    }
    return load_done();
}

/* The new dataset is in place: the master's stream follows. */
static int load_done(void) {
    rstream_reset(ML.new_replid, ML.new_offset);
    server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: Finished with success");
    /* The master's stream goes on in the database the RDB names (a
     * chained replica's master is mid-stream). */
    start_streaming(RAUX.db);
    send_ack();
    return 0;
}

static int transfer_header(const char *line) {
    if (!line[0]) return 0; /* keepalive */
    if (line[0] == '-') {
        server_log(LOG_WARNING, "MASTER aborted replication with an error: %s", line + 1);
        return -1;
    }
    if (line[0] != '$') {
        server_log(LOG_WARNING, "Bad protocol from MASTER, the first byte is not '$' (we received '%s'), are you sure the host and port are right?", line);
        return -1;
    }
    int diskless = diskless_load_applies();
    const char *to = diskless ? "parser" : "disk";
    if (!strncmp(line, "$EOF:", 5) && strlen(line) >= 45) {
        memcpy(ML.mark, line + 5, 40);
        ML.size = -1;
        server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to %s", to);
    } else {
        ML.size = strtoll(line + 1, NULL, 10);
        server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: receiving %lld bytes from master to %s", ML.size, to);
    }
    if (diskless) return load_from_socket();
    static long long seq;
    snprintf(ML.tmppath, sizeof(ML.tmppath), "temp-%d.%lld.rdb", (int)getpid(), ++seq);
    ML.tmpfd = open(ML.tmppath, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (ML.tmpfd < 0) {
        server_log(LOG_WARNING, "Opening the temp file needed for MASTER <-> REPLICA synchronization: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Bytes of the payload in ML.in: to the file. 1 when complete. */
static int write_payload(const char *p, size_t n) {
    if (n && write(ML.tmpfd, p, n) != (ssize_t)n) {
        server_log(LOG_WARNING, "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: %s", strerror(errno));
        return -1;
    }
    ML.got += (long long)n;
    return 0;
}

/* $EOF: form: the payload ends at the mark, and the master's stream may
 * follow it in the same read. The mark may also straddle two reads: the
 * last 40 bytes written are searched together with the new ones. */
static int transfer_eof_data(const char *p, size_t avail) {
    size_t prev = ML.got < 40 ? (size_t)ML.got : 40;
    char *win = zmalloc(prev + avail);
    memcpy(win, ML.tail + 40 - prev, prev);
    memcpy(win + prev, p, avail);
    char *f = memmem(win, prev + avail, ML.mark, 40);
    if (f) {
        long long end = (long long)(f - win) - (long long)prev; /* payload bytes of p */
        zfree(win);
        if (end > 0 && write_payload(p, (size_t)end) < 0) return -1;
        if (end < 0) ML.got += end; /* part of the mark was written already */
        ML.in_pos += (size_t)(end + 40);
        if (ftruncate(ML.tmpfd, ML.got) < 0) return -1;
        return 1;
    }
    zfree(win);
    if (write_payload(p, avail) < 0) return -1;
    if (avail >= 40) memcpy(ML.tail, p + avail - 40, 40);
    else {
        memmove(ML.tail, ML.tail + avail, 40 - avail);
        memcpy(ML.tail + 40 - avail, p, avail);
    }
    ML.in_pos += avail;
    return 0;
}

static int transfer_data(void) {
    size_t avail = kstr_len(ML.in) - ML.in_pos;
    const char *p = ML.in + ML.in_pos;
    if (ML.size < 0) return transfer_eof_data(p, avail);
    if ((long long)avail > ML.size - ML.got) avail = (size_t)(ML.size - ML.got);
    if (write_payload(p, avail) < 0) return -1;
    ML.in_pos += avail;
    return ML.got == ML.size;
}

/* ---- diskless load: the RDB parsed straight from the socket ---- */

/* What the parser read past the RDB's end: the $EOF: mark, then the
 * master's stream. */
static kstr sock_after;

/* The rdb_source reading the link: first what the input buffer already
 * holds, then the socket, waiting in slices of 100 ms during which
 * clients are served (Redis blocks on the socket; Keel answers INFO and,
 * with async loading, reads, while a slow master prepares its data). */
static long sock_read(void *ctx, void *buf, size_t cap) {
    (void)ctx;
    /* A master sending slowly but steadily (a slow snapshot) must not keep
     * clients waiting for the loader's 2 MB progress step. */
    static long long served_ms;
    server_update_cached_time();
    long long now = server_mstime();
    if (now - served_ms >= 100) {
        served_ms = now;
        rdb_load_serve_clients();
    }
    size_t avail = kstr_len(ML.in) - ML.in_pos;
    if (avail) {
        size_t n = avail < cap ? avail : cap;
        memcpy(buf, ML.in + ML.in_pos, n);
        ML.in_pos += n;
        ML.got += (long long)n;
        return (long)n;
    }
    for (;;) {
        int ready = ML.conn && conn_pending(ML.conn);
        if (!ready) {
            struct pollfd pfd = {.fd = ML.fd, .events = POLLIN};
            ready = poll(&pfd, 1, 100) > 0;
        }
        if (ready) {
            ssize_t n = link_read(buf, cap);
            if (n > 0) {
                ML.got += n;
                ML.last_io_ms = server_mstime();
                server.stat.net_input_bytes += n;
                return (long)n;
            }
            if (n == 0) {
                server_log(LOG_WARNING, "MASTER closed the connection during the diskless load");
                return -1;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                server_log(LOG_WARNING, "Error reading from MASTER during the diskless load: %s", strerror(errno));
                return -1;
            }
        }
        server_update_cached_time();
        if (server_mstime() - ML.last_io_ms > (long long)cfg_timeout * 1000) {
            server_log(LOG_WARNING, "Timeout receiving bulk data from MASTER... If the problem persists try to "
                       "set the 'repl-timeout' parameter in redis.conf to a larger value.");
            return -1;
        }
        rdb_load_serve_clients();
    }
}

static void sock_unread(void *ctx, const void *p, size_t n) {
    (void)ctx;
    sock_after = kstr_cat_len(sock_after, p, n);
}

/* $EOF: form: the 40-byte mark must follow the RDB. */
static int check_eof_mark(void) {
    while (kstr_len(sock_after) < 40) {
        char buf[40];
        long n = sock_read(NULL, buf, 40 - kstr_len(sock_after));
        if (n <= 0) return -1;
        sock_after = kstr_cat_len(sock_after, buf, (size_t)n);
    }
    if (memcmp(sock_after, ML.mark, 40) != 0) {
        server_log(LOG_WARNING, "Replication stream EOF marker is broken");
        return -1;
    }
    kstr_consume(sock_after, 40);
    return 0;
}

static int load_from_socket(void) {
    if (snapshot_running()) snapshot_abort("replication full sync");
    master_drop_all_replicas();
    /* Async loading (Redis 7.0's): the master's history is ours, so the
     * old dataset is an earlier point of the same data and may be read
     * until the new one is complete. */
    int async = cfg_diskless_load == 2 && !strcmp(RS.replid, ML.new_replid);
    if (!async) server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: Flushing old data");
    server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory");
    rdb_source src = {.read = sock_read, .unread = sock_unread, .total = ML.size >= 0 ? ML.size : -1};
    rdb_load_stats st;
    char err[512];
    RAUX.db = 0;
    rdb_load_keep_expired = 1;
    sock_after = kstr_empty();
    ML.got = 0;
    pause_link_events(1);
    int rc = rdb_load_source("the master's RDB", &src, async, cfg_lazy_flush, &st, err, sizeof(err));
    rdb_load_keep_expired = 0;
    if (rc == 0 && ML.size < 0) rc = check_eof_mark();
    else if (rc != 0) server_log(LOG_WARNING, "Internal error in RDB reading offset %lld: %s", ML.got, err);
    if (rc != 0) {
        server_log(LOG_WARNING, "Failed trying to load the MASTER synchronization DB from socket, check server logs.");
        if (async) server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: Discarding temporary DB in background");
        kstr_free(sock_after);
        sock_after = NULL;
        return -1;
    }
    pause_link_events(0);
    if (async) server_log(LOG_NOTICE, "MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    /* The master's stream continues from what the parser read past the RDB. */
    /* What the parser read past the RDB's end comes first; the input
     * buffer may still hold later bytes the parser never needed. */
    sock_after = kstr_cat_len(sock_after, ML.in + ML.in_pos, kstr_len(ML.in) - ML.in_pos);
    kstr_free(ML.in);
    ML.in = sock_after;
    ML.in_pos = 0;
    sock_after = NULL;
    return load_done();
}

/* ---- the stream ---- */

static int is_getack(const client *c) {
    return c->argc >= 2 && !strcasecmp(c->argv[0], "replconf") && !strcasecmp(c->argv[1], "getack");
}

/* A command of the master's stream failed here: the datasets may now
 * differ. Logged with Redis's words (operators and Redis's tests grep
 * "== CRITICAL =="), with the stream that led to it; with
 * propagation-error-behavior panic or panic-on-replicas a read-only
 * replica stops rather than serve a diverging dataset (a writable one
 * may legitimately hold keys of its own that make a command fail). */
static void report_master_error(const char *err, size_t len, const char *cmdname) {
    if (len > 4096) len = 4096;
    server_log(LOG_WARNING, "== CRITICAL == This replica is sending an error to its master: '%.*s' after processing "
               "the command '%s'", (int)len, err, cmdname ? cmdname : "<unknown>");
    rstream_log_latest();
    server.stat.unexpected_error_replies++;
    if (cfg_read_only && cfg_propagation_error != PROPAGATION_ERR_IGNORE) {
        server_log(LOG_WARNING, "Guru Meditation: This replica panicked sending an error to its master after "
                   "processing the command '%s'", cmdname ? cmdname : "<unknown>");
        abort();
    }
}

/* What a command refused before running would get (no dispatch checks
 * run for the master's stream but these two). 1: refused and reported. */
static int refuse_master_command(client *c, const command *cmd) {
    kstr err;
    if (!cmd) {
        err = kstr_cat_printf(kstr_empty(), "ERR unknown command '%.128s', with args beginning with: ", c->argv[0]);
        for (int i = 1; i < c->argc && kstr_len(err) < 200; i++)
            err = kstr_cat_printf(err, "'%.128s' ", c->argv[i]);
    } else if (cmd->arity > 0 ? c->argc != cmd->arity : c->argc < -cmd->arity) {
        err = kstr_cat_printf(kstr_empty(), "ERR wrong number of arguments for '%s' command", cmd->fullname);
    } else {
        return 0;
    }
    report_master_error(err, kstr_len(err), NULL);
    kstr_free(err);
    return 1;
}

/* The reply the command left (the master client's replies are dropped):
 * an error at its head is reported. */
static void check_master_reply(client *c, const command *cmd) {
    const reply_block *b = c->reply_head;
    if (!b || b->used == 0 || b->data[0] != '-') return;
    const char *end = memchr(b->data, '\r', b->used);
    size_t len = end ? (size_t)(end - b->data) - 1 : b->used - 1;
    report_master_error(b->data + 1, len, cmd->fullname);
}

static void run_master_command(client *c) {
    command *cmd = command_lookup_argv(c->argc, c->argv);
    if (refuse_master_command(c, cmd)) return;
    c->cmd = cmd;
    client *prev = server.current_client;
    server.current_client = c;
    applying_master = 1;
    client_discard_replies(c);
    if (multi_should_queue(c, cmd)) multi_queue(c, cmd);
    else command_call(c, cmd);
    applying_master = 0;
    server.current_client = prev;
    check_master_reply(c, cmd);
    client_discard_replies(c);
}

static int process_stream(void) {
    client *c = ML.mc;
    while (ML.in_pos < kstr_len(ML.in) && ML.state == LINK_CONNECTED) {
        size_t used = 0;
        int r = reqparse_feed(&c->parser, ML.in + ML.in_pos, kstr_len(ML.in) - ML.in_pos, &used);
        ML.in_pos += used;
        if (r == REQ_ERROR) {
            server_log(LOG_WARNING, "Protocol error from MASTER: %s", c->parser.error);
            return -1;
        }
        if (r == REQ_NEED_MORE) break;
        c->argv = reqparse_take(&c->parser, &c->argc);
        c->last_interaction_ms = server_mstime();
        int getack = c->argc > 0 && is_getack(c);
        if (c->argc > 0 && !getack) run_master_command(c);
        client_free_argv(c);
        if (!(c->flags & CLIENT_MULTI)) {
            rstream_append(ML.in + applied_at, ML.in_pos - applied_at);
            applied_at = ML.in_pos;
        }
        /* The answer counts the GETACK itself (Redis's does not): a
         * master whose stream ends with it (FAILOVER) then sees at once
         * that this replica has everything. */
        if (getack) send_ack();
    }
    ML.read_off = RS.offset + (long long)(ML.in_pos - applied_at);
    return 0;
}

static void compact_input(void) {
    size_t keep_from = ML.state == LINK_CONNECTED ? applied_at : ML.in_pos;
    if (keep_from == 0) return;
    kstr_consume(ML.in, keep_from);
    ML.in_pos -= keep_from;
    if (ML.state == LINK_CONNECTED) applied_at = 0;
}

static int process_input(void) {
    while (ML.in_pos < kstr_len(ML.in)) {
        int st = ML.state;
        if (st == LINK_CONNECTED) return process_stream();
        if (st == LINK_TRANSFER && ML.size != -2) {
            int r = transfer_data();
            if (r < 0) return -1;
            if (r == 1 && load_transfer() < 0) return -1;
            continue;
        }
        char *nl = memchr(ML.in + ML.in_pos, '\n', kstr_len(ML.in) - ML.in_pos);
        if (!nl) return 0;
        *nl = '\0';
        if (nl > ML.in + ML.in_pos && nl[-1] == '\r') nl[-1] = '\0';
        char *line = ML.in + ML.in_pos;
        ML.in_pos = (size_t)(nl - ML.in) + 1;
        int r = st == LINK_TRANSFER ? transfer_header(line) : handshake_line(line);
        if (r < 0) return -1;
    }
    return 0;
}

/* Over TLS, records already read may wait inside OpenSSL where no event
 * announces them: read until it holds none. */
static void on_readable(eventloop *el, int fd, void *data, int mask) {
    int more;
    do {
        read_some(fd);
        more = ML.conn && ML.fd == fd && ML.in && conn_pending(ML.conn);
    } while (more);
    (void)el; (void)data; (void)mask;
}

static void read_some(int fd) {
    size_t want = ML.state == LINK_TRANSFER ? 256 * 1024 : 16 * 1024;
    ML.in = kstr_make_room(ML.in, want);
    ssize_t n = link_read(ML.in + kstr_len(ML.in), want);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        link_down(n == 0 ? "MASTER closed the connection" : "Error reading from MASTER");
        return;
    }
    kstr_incr_len(ML.in, (size_t)n);
    server.stat.net_input_bytes += n;
    ML.last_io_ms = server_mstime();
    if (process_input() < 0) {
        link_down("Replication link dropped after an error");
        return;
    }
    if (ML.in) compact_input();
}

int repl_kill_master_link(const char *addr) {
    if (ML.state != LINK_CONNECTED || !ML.mc) return 0;
    if (addr && strcmp(addr, ML.mc->addr)) return 0;
    link_down("Connection with master lost (CLIENT KILL TYPE master).");
    return 1;
}

void replica_drain_master_link(void) {
    while (ML.state == LINK_CONNECTED && ML.fd >= 0) {
        long long before = server.stat.net_input_bytes;
        read_some(ML.fd);
        if (server.stat.net_input_bytes == before) break;
    }
}

int replica_stream_db(void) { return ML.mc ? db_id(ML.mc->db) : mc_db; }

/* The RDB read at start-up carried the replication id and offset this
 * replica had: PSYNC with them, to continue rather than sync in full. */
void replica_resume_from_rdb(void) {
    if (!RAUX.have_id) return;
    memcpy(RS.replid, RAUX.id, 41);
    RS.offset = RAUX.off;
    RS.replid2[0] = '\0';
    RS.second_offset = -1;
    backlog_free();
    backlog_create();
    mc_db = RAUX.db;
    server_log(LOG_NOTICE, "Using the replication id and offset of the RDB file to try a partial resync: %s:%lld",
               RS.replid, RS.offset);
}

/* ---- REPLICAOF ---- */

void replica_set_master(const char *host, int port) {
    int was_master = ML.host == NULL;
    link_down(NULL);
    zfree(ML.host);
    ML.host = zstrdup(host);
    ML.port = port;
    ML.state = LINK_CONNECT;
    ML.down_since_ms = 0; /* master_link_down_since_seconds -1 until a link is lost */
    db_set_replica_mode(1, cfg_read_only);
    if (was_master) {
        blocking_unblock_all("UNBLOCKED force unblock from blocking operation, instance state changed "
                             "(master -> replica?)");
        /* The master client starts on database 0, as a new stream. */
        mc_db = 0;
        master_drop_all_replicas();
    }
    link_connect();
}

void replica_unset_master(void) {
    if (!ML.host) return;
    int was_connected = ML.state == LINK_CONNECTED;
    zfree(ML.host);
    ML.host = NULL;
    link_down(NULL);
    free_master_client();
    db_set_replica_mode(0, 0);
    (void)was_connected;
    /* Our history so far stays PSYNC-able under the old id. */
    rstream_shift_replid();
    RS.stream_db = -1;
    master_drop_all_replicas();
    server_log(LOG_NOTICE, "MASTER MODE enabled (user request from 'id=...')");
}

void replica_cron(void) {
    if (!ML.host) return;
    long long now = server_mstime();
    if (ML.state == LINK_CONNECT) {
        link_connect();
        return;
    }
    if (ML.state != LINK_CONNECTED && now - ML.last_io_ms > (long long)cfg_timeout * 1000) {
        link_down(ML.state == LINK_TRANSFER ? "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
                                             : "Timeout connecting to the MASTER...");
        return;
    }
    if (ML.state == LINK_CONNECTED) {
        if (now - ML.last_io_ms > (long long)cfg_timeout * 1000) {
            link_down("MASTER timeout: no data nor PING received...");
            return;
        }
        if (now - ML.last_ack_ms >= 1000) send_ack();
    }
}
