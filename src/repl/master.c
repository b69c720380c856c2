/*
 * master: the master side of replication. Replicas are ordinary clients
 * (client.c reads their REPLCONF ACKs) flagged CLIENT_REPLICA whose
 * replies are silenced; what they receive is written here, straight from
 * the shared stream buffer (backlog.c) or, during a full sync, from the
 * RDB file the fork-less snapshot wrote.
 *
 * Full sync: PSYNC that cannot continue puts the replica in WAIT_START.
 * When the snapshot engine is free (and, for diskless, after
 * repl-diskless-sync-delay) a snapshot starts and every waiting replica
 * gets +FULLRESYNC <replid> <offset> with the offset of that instant:
 * the snapshot is the dataset at that point of the stream, so the
 * replica must apply exactly the stream bytes after it, which the shared
 * buffer keeps for it (psync_start). Disk mode (`$len` framing): the file
 * is sent once complete. Diskless (repl-diskless-sync yes and a replica
 * with capa eof): `$EOF:<mark>` at once, then the file's bytes as the
 * snapshot writes them ("following" the file: every diskless replica of
 * the same snapshot reads it at its own pace, the page cache is the only
 * buffer between the walk and the sockets, so a slow replica neither
 * holds memory nor slows the walk), the mark once the snapshot is done.
 * Then the stream from psync_start.
 *
 * Bounded memory during a full sync: the stream bytes only syncing
 * replicas need (those a replica in WAIT_END or SEND_BULK, or one still
 * reading what was spilled, has not received) are not kept in memory past
 * repl-backlog-size: as the shared buffer drops its oldest block, the
 * block is appended to a spill file (temp-repl-spill-<pid>.stream in dir),
 * from which such a replica is served once its RDB is sent, before it
 * goes on from memory. So the master's memory during a sync is the
 * backlog plus the snapshot writer's buffer, whatever the write load and
 * the transfer time; the change stream waits on disk (page cache), and
 * the replica's lag counts against client-output-buffer-limit only for
 * what is in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repl/repl_internal.h"
#include "repl/repl.h"
#include "core/command.h"
#include "core/server.h"
#include "core/cmdutil.h"
#include "lib/zmalloc.h"
#include "lib/util.h"
#include "net/clientmem.h"
#include "net/reply.h"
#include "persist/snapshot.h"

replica_rec *replicas;
long long stat_sync_full, stat_sync_partial_ok, stat_sync_partial_err;
static char sync_path[128];
static int sync_running;
static long long last_ping_ms;
static int pings_held;

void repl_hold_pings(int hold) { pings_held = hold; }

/* The spill file: the part of the stream that only replicas in a full
 * sync still need, moved out of memory (see "Full sync" at the top). */
static struct {
    int fd;
    char path[128];
    long long start, end; /* stream offsets [start, end) held by the file */
} spill = {.fd = -1};

replica_rec *replica_of(client *c) { return c->repl; }

static replica_rec *rec_for(client *c) {
    if (c->repl) return c->repl;
    replica_rec *r = zcalloc(sizeof(*r));
    r->c = c;
    r->fd = c->fd;
    r->rdbfd = -1;
    /* The peer's address without the port. */
    snprintf(r->ip, sizeof(r->ip), "%s", c->addr);
    char *colon = strrchr(r->ip, ':');
    if (colon) *colon = '\0';
    r->next = replicas;
    replicas = r;
    c->repl = r;
    return r;
}

static int active(const replica_rec *r) { return r->state >= RS_WAIT_END; }

/* Served from the spill file rather than from memory. */
static int spill_served(const replica_rec *r) {
    return r->state == RS_WAIT_END || r->state == RS_SEND_BULK ||
           (r->state == RS_ONLINE && (r->from_spill || r->wait_first_ack));
}

static long long needed_from(const replica_rec *r) {
    return r->state == RS_ONLINE ? r->next_byte : r->psync_start;
}

int replicas_count_online(void) {
    int n = 0;
    for (replica_rec *r = replicas; r; r = r->next) n += r->state == RS_ONLINE;
    return n;
}

int replicas_good_count(void) {
    int n = 0;
    long long now = server_mstime();
    for (replica_rec *r = replicas; r; r = r->next)
        if (r->state == RS_ONLINE && (now - r->ack_ms) / 1000 <= cfg_min_replicas_lag) n++;
    return n;
}

long long master_acked_count(long long offset) {
    long long n = 0;
    for (replica_rec *r = replicas; r; r = r->next)
        if (r->state == RS_ONLINE && r->ack_off >= offset) n++;
    return n;
}

size_t master_lag_bytes(void) {
    long long max = 0;
    for (replica_rec *r = replicas; r; r = r->next)
        if (active(r) && RS.offset + 1 - needed_from(r) > max) max = RS.offset + 1 - needed_from(r);
    return (size_t)max;
}

static void send_direct(replica_rec *r, const char *s) {
    size_t len = strlen(s);
    ssize_t n = client_write_bytes(r->c, s, len);
    (void)n; /* a fresh socket takes a line; a broken one is seen later */
}

static void unlink_rec(replica_rec *r) {
    for (replica_rec **p = &replicas; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            break;
        }
    if (r->rdbfd >= 0) close(r->rdbfd);
    if (!replicas) RS.no_replicas_since = server_mstime();
    zfree(r);
}

void master_replica_gone(client *c) {
    replica_rec *r = c->repl;
    if (!r) return;
    if (r->state != RS_NONE) server_log(LOG_NOTICE, "Connection with replica %s:%d lost.", r->ip, r->listening_port);
    c->repl = NULL;
    unlink_rec(r);
    /* What only this replica still needed goes now, not at the next
     * before_sleep: the memory figures (the buffer beyond the backlog is
     * the replicas' share) must not show it as backlog meanwhile. */
    if (!replicas && RS.head) backlog_trim(LLONG_MAX, NULL);
}

static void drop_replica(replica_rec *r, const char *why) {
    server_log(LOG_WARNING, "Closing replica %s:%d: %s", r->ip, r->listening_port, why);
    r->state = RS_NONE;
    if (r->rdbfd >= 0) {
        close(r->rdbfd);
        r->rdbfd = -1;
    }
    client_drop_and_close(r->c);
}

void master_drop_all_replicas(void) {
    for (replica_rec *r = replicas; r; r = r->next)
        if (r->state != RS_NONE) drop_replica(r, "replication role changed");
}

/* ---- writing to replicas ---- */

static void replica_write_handler(eventloop *el, int fd, void *data, int mask);

static int write_some(replica_rec *r, const char *p, size_t len, size_t *done) {
    ssize_t n = client_write_bytes(r->c, p, len);
    if (n < 0) {
        *done = 0;
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
    }
    *done = (size_t)n;
    r->c->net_output_bytes += (unsigned long long)n;
    server.stat.net_output_bytes += n;
    return 0;
}

static void bulk_finished(replica_rec *r) {
    close(r->rdbfd);
    r->rdbfd = -1;
    if (r->rdb_only) {
        /* A dump was asked for, not a replica (redis-cli --rdb): no
         * stream follows, the connection ends as in Redis. */
        server_log(LOG_NOTICE, "Synchronization with replica %s:%d succeeded (RDB only, closing)", r->ip,
                   r->listening_port);
        r->state = RS_ONLINE;
        r->wait_first_ack = 1; /* nothing more is sent before the close */
        client_close_async(r->c);
        return;
    }
    r->state = RS_ONLINE;
    r->next_byte = r->psync_start;
    r->from_spill = spill.fd >= 0 && r->next_byte < spill.end;
    /* After a $EOF: payload the replica cannot tell where the RDB ends if
     * the stream follows in the same read: as Redis does, the stream
     * starts once the replica has loaded it and sent its first ACK. */
    r->wait_first_ack = r->use_eof;
    r->cur = NULL;
    r->ack_ms = server_mstime();
    server_log(LOG_NOTICE, "Synchronization with replica %s:%d succeeded%s", r->ip, r->listening_port,
               r->from_spill ? " (the changes since the snapshot follow from the spill file)" : "");
}

/* 0: all sent or the socket is full; -1: broken. */
static int send_bulk(replica_rec *r) {
    size_t done;
    while (r->pre_sent < r->pre_len) {
        if (write_some(r, r->pre + r->pre_sent, r->pre_len - r->pre_sent, &done) < 0) return -1;
        if (!done) return 0;
        r->pre_sent += done;
    }
    char buf[64 * 1024];
    while (r->following || r->rdb_off < r->rdb_size) {
        size_t want = sizeof(buf);
        if (!r->following && (off_t)want > r->rdb_size - r->rdb_off) want = (size_t)(r->rdb_size - r->rdb_off);
        ssize_t got = pread(r->rdbfd, buf, want, r->rdb_off);
        if (got == 0 && r->following) {
            r->blocked_since_ms = 0; /* all sent: the snapshot has not written more yet */
            return 0;
        }
        if (got <= 0) return -1;
        if (write_some(r, buf, (size_t)got, &done) < 0) return -1;
        r->rdb_off += (off_t)done;
        if (done < (size_t)got) {
            /* The replica does not read as fast as we send (as Redis's
             * repl_last_partial_write, for the full-sync timeout). */
            if (!r->blocked_since_ms) r->blocked_since_ms = server_mstime();
            return 0;
        }
        r->blocked_since_ms = 0;
    }
    while (r->use_eof && r->mark_sent < 40) {
        if (write_some(r, r->mark + r->mark_sent, 40 - r->mark_sent, &done) < 0) return -1;
        if (!done) return 0;
        r->mark_sent += done;
    }
    bulk_finished(r);
    return 0;
}

static int send_spilled(replica_rec *r) {
    char buf[64 * 1024];
    while (r->from_spill && r->next_byte < spill.end) {
        size_t want = sizeof(buf);
        if ((long long)want > spill.end - r->next_byte) want = (size_t)(spill.end - r->next_byte);
        ssize_t got = pread(spill.fd, buf, want, (off_t)(r->next_byte - spill.start));
        if (got <= 0) return -1;
        size_t done;
        if (write_some(r, buf, (size_t)got, &done) < 0) return -1;
        r->next_byte += (long long)done;
        if (done < (size_t)got) return 0;
    }
    /* Caught up with the file: memory holds the rest (the file ends
     * where the shared buffer begins). */
    r->from_spill = 0;
    r->cur = NULL;
    return 0;
}

static int send_stream(replica_rec *r) {
    if (r->from_spill) {
        if (send_spilled(r) < 0) return -1;
        if (r->from_spill) return 0;
    }
    while (r->next_byte <= RS.offset) {
        bl_block *b = backlog_find(r->cur, r->next_byte);
        r->cur = b;
        size_t pos = (size_t)(r->next_byte - b->off);
        if (pos >= b->used) break;
        size_t done;
        if (write_some(r, b->data + pos, b->used - pos, &done) < 0) return -1;
        r->next_byte += (long long)done;
        if (done < b->used - pos) break;
    }
    return 0;
}

/* A replica following a snapshot has something to send when the file
 * grew past what it was sent. */
static int file_grew(const replica_rec *r) {
    struct stat st;
    return fstat(r->rdbfd, &st) == 0 && st.st_size > r->rdb_off;
}

static int has_pending(const replica_rec *r) {
    if (r->state == RS_SEND_BULK && r->following) return r->pre_sent < r->pre_len || file_grew(r);
    return r->state == RS_SEND_BULK || (r->state == RS_ONLINE && !r->wait_first_ack && r->next_byte <= RS.offset);
}

static void replica_send(replica_rec *r) {
    /* Killed (CLIENT KILL in a MULTI, say): it gets nothing more, so that
     * it resumes from where the kill found it, as in Redis. */
    if (r->c->flags & CLIENT_CLOSE_ASAP) return;
    int rc = 0;
    if (r->state == RS_SEND_BULK) rc = send_bulk(r);
    if (rc == 0 && r->state == RS_ONLINE && !r->wait_first_ack) rc = send_stream(r);
    if (rc < 0) {
        drop_replica(r, strerror(errno));
        return;
    }
    int pending = has_pending(r);
    if (pending && !r->wr_installed) {
        /* The event loop keeps one data pointer per fd: client.c's read
         * handler needs the client there, so ours gets it too. */
        ev_add_file(server.el, r->fd, EV_WRITABLE, replica_write_handler, r->c);
        r->wr_installed = 1;
    } else if (!pending && r->wr_installed) {
        ev_del_file(server.el, r->fd, EV_WRITABLE);
        r->wr_installed = 0;
    }
}

static void replica_write_handler(eventloop *el, int fd, void *data, int mask) {
    (void)el; (void)fd; (void)mask;
    client *c = data;
    if (c->repl) replica_send(c->repl);
}

/* ---- the write stream ---- */

void master_feed_listener(int dbid, int argc, kstr *argv, void *priv) {
    (void)priv;
    if (applying_master || !RS.head) return;
    /* A replica's own writes (replica-read-only no) stay its own. */
    if (repl_is_replica()) return;
    rstream_command(dbid, argc, argv);
}

/* client-output-buffer-limit replica, applied to how far behind the
 * stream each replica is (what the shared buffer holds for it). */
static void enforce_limits(void) {
    long long hard, soft, secs, now = server_mstime();
    clientmem_class_limit(CLIENT_CLASS_REPLICA, &hard, &soft, &secs);
    for (replica_rec *r = replicas; r; r = r->next) {
        if (!active(r) || spill_served(r)) continue; /* its backlog waits on disk */
        long long lag = RS.offset + 1 - needed_from(r);
        const char *why = NULL;
        if (hard && lag >= hard) why = "hard";
        else if (soft && lag >= soft) {
            if (!r->soft_since_ms) r->soft_since_ms = now;
            else if (now - r->soft_since_ms > secs * 1000) why = "soft";
        } else r->soft_since_ms = 0;
        if (why) {
            server_log(LOG_WARNING, "Client %s:%d scheduled to be closed ASAP for overcoming of output buffer "
                       "limits (%s limit, %lld bytes behind).", r->ip, r->listening_port, why, lag);
            server.stat.client_outbuf_limit_disconnections++;
            drop_replica(r, "output buffer limit");
        }
    }
}

static long long spill_min;   /* the oldest byte a spill-served replica needs */

static void spill_close(void) {
    if (spill.fd < 0) return;
    close(spill.fd);
    unlink(spill.path);
    spill.fd = -1;
    spill.start = spill.end = 0;
}

static void spill_failed(void) {
    server_log(LOG_WARNING, "Can't write the replication spill file %s: %s", spill.path, strerror(errno));
    for (replica_rec *r = replicas; r; r = r->next)
        if (active(r) && spill_served(r)) drop_replica(r, "spill file error");
    spill_close();
}

/* A block leaves the shared buffer: keep in the file what spill-served
 * replicas still need of it. */
static void spill_block(const bl_block *b) {
    long long end = b->off + (long long)b->used;
    /* Once open, the file stays contiguous with the shared buffer. */
    if (spill.fd < 0 && spill_min >= end) return;
    if (spill.fd < 0) {
        static long long seq;
        snprintf(spill.path, sizeof(spill.path), "temp-repl-spill-%d-%lld.stream", (int)getpid(), ++seq);
        spill.fd = open(spill.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (spill.fd < 0) {
            spill_failed();
            return;
        }
        spill.start = spill.end = spill_min > b->off ? spill_min : b->off;
    }
    long long from = spill.end > b->off ? spill.end : b->off;
    if (from >= end) return;
    size_t len = (size_t)(end - from);
    if (pwrite(spill.fd, b->data + (from - b->off), len, (off_t)(from - spill.start)) != (ssize_t)len) {
        spill_failed();
        return;
    }
    spill.end = end;
}

size_t master_spill_bytes(void) { return spill.fd >= 0 ? (size_t)(spill.end - spill.start) : 0; }

/* Every replica of a running full sync is gone: the snapshot is of no
 * use (Redis kills its fork child then, with this line). */
static void stop_unwanted_sync(void) {
    if (!sync_running) return;
    for (replica_rec *r = replicas; r; r = r->next)
        if (r->state == RS_WAIT_END || (r->state == RS_SEND_BULK && r->following)) return;
    server_log(LOG_WARNING, "Diskless rdb transfer, last replica dropped, killing fork child.");
    snapshot_abort("no replica waits for it");
}

void master_before_sleep(void) {
    stop_unwanted_sync();
    if (!RS.head) return;
    enforce_limits();
    long long min = LLONG_MAX;
    int spilling = 0;
    spill_min = LLONG_MAX;
    for (replica_rec *r = replicas; r; r = r->next) {
        /* Killed (CLIENT KILL, in a MULTI say): the replica sees the link
         * end before the killer's reply goes out, as with Redis. */
        if (r->c->flags & CLIENT_CLOSE_ASAP) shutdown(r->fd, SHUT_RDWR);
        if (r->state == RS_ONLINE && !r->wr_installed && !r->wait_first_ack && r->next_byte <= RS.offset)
            replica_send(r);
        else if (r->state == RS_SEND_BULK && r->following && !r->wr_installed)
            replica_send(r); /* the snapshot may have written more */
        if (!active(r)) continue;
        if (spill_served(r)) {
            spilling = 1;
            if (needed_from(r) < spill_min) spill_min = needed_from(r);
        } else if (needed_from(r) < min) {
            min = needed_from(r);
        }
    }
    backlog_trim(min, spilling ? spill_block : NULL);
    if (!spilling) spill_close();
}

/* ---- full sync ---- */

/* Open the snapshot's file for r and frame it: `$EOF:<mark>` when
 * diskless (follow: the file is still being written), `$<size>` when
 * complete. -1: r was dropped. */
static int open_snapshot(replica_rec *r, int follow) {
    r->rdbfd = open(sync_path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (r->rdbfd < 0 || fstat(r->rdbfd, &st) < 0) {
        drop_replica(r, "cannot open the snapshot");
        return -1;
    }
    r->rdb_size = st.st_size;
    r->rdb_off = 0;
    r->following = follow;
    r->use_eof = r->capa_eof && cfg_diskless_sync;
    if (r->use_eof) {
        unsigned char b[40];
        static const char hex[] = "0123456789abcdef";
        get_random_bytes(b, sizeof(b));
        for (int i = 0; i < 40; i++) r->mark[i] = hex[b[i] & 15];
        r->pre_len = (size_t)snprintf(r->pre, sizeof(r->pre), "$EOF:%.40s\r\n", r->mark);
    } else {
        r->pre_len = (size_t)snprintf(r->pre, sizeof(r->pre), "$%lld\r\n", (long long)st.st_size);
    }
    r->pre_sent = r->mark_sent = 0;
    r->state = RS_SEND_BULK;
    r->blocked_since_ms = 0;
    return 0;
}

static void sync_done(void *ctx, int ok, int aborted, const char *why) {
    (void)ctx; (void)aborted;
    sync_running = 0;
    if (ok) {
        /* Redis's line for the same moment: the snapshot is complete, the
         * diskless replicas still connected get the rest of it. */
        int up = 0, diskless = 0;
        for (replica_rec *r = replicas; r; r = r->next) {
            if (r->state != RS_SEND_BULK || !r->following) continue;
            diskless = 1;
            up += !(r->c->flags & CLIENT_CLOSE_ASAP);
        }
        if (diskless) server_log(LOG_NOTICE, "Diskless rdb transfer, done reading from pipe, %d replicas still up.", up);
    }
    for (replica_rec *r = replicas; r; r = r->next) {
        if (r->state == RS_SEND_BULK && r->following) {
            if (!ok) {
                drop_replica(r, why ? why : "snapshot failed");
                continue;
            }
            /* The file is complete: what is left of it, then the mark. */
            struct stat st;
            if (fstat(r->rdbfd, &st) < 0) {
                drop_replica(r, "cannot read the snapshot");
                continue;
            }
            r->following = 0;
            r->rdb_size = st.st_size;
            replica_send(r);
            continue;
        }
        if (r->state != RS_WAIT_END) continue;
        if (!ok) {
            drop_replica(r, why ? why : "snapshot failed");
            continue;
        }
        if (open_snapshot(r, 0) < 0) continue;
        replica_send(r);
    }
    if (ok) server_log(LOG_NOTICE, "Snapshot for replication done, streaming it to replicas");
    unlink(sync_path);
}

static void start_full_sync(void) {
    int waiting = 0;
    long long oldest = LLONG_MAX;
    for (replica_rec *r = replicas; r; r = r->next) {
        if (r->state == RS_WAIT_START) {
            waiting++;
            if (r->wait_since_ms < oldest) oldest = r->wait_since_ms;
        }
    }
    if (!waiting || sync_running || !snapshot_can_start()) return;
    int all_eof = 1;
    for (replica_rec *r = replicas; r; r = r->next)
        if (r->state == RS_WAIT_START && !r->capa_eof) all_eof = 0;
    if (cfg_diskless_sync && all_eof && cfg_diskless_delay > 0 &&
        server_mstime() - oldest < (long long)cfg_diskless_delay * 1000 &&
        (cfg_diskless_max == 0 || waiting < cfg_diskless_max))
        return;
    static long long seq;
    snprintf(sync_path, sizeof(sync_path), "temp-repl-%d-%lld.rdb", (int)getpid(), ++seq);
    snapshot_job job = {.tmp_path = sync_path, .final_path = NULL, .kind = SNAPSHOT_RDB, .no_fsync = 1,
                        .done = sync_done};
    char err[256];
    if (snapshot_start(&job, err, sizeof(err)) != 0) {
        server_log(LOG_WARNING, "Can't start the snapshot for replication: %s", err);
        return;
    }
    sync_running = 1;
    server_log(LOG_NOTICE, "Starting snapshot for SYNC with target: %s",
               cfg_diskless_sync && all_eof ? "replicas sockets" : "disk");
    /* The snapshot is the dataset as of this instant of the stream. */
    RS.stream_db = -1;
    char line[128];
    snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", RS.replid, RS.offset);
    for (replica_rec *r = replicas; r; r = r->next) {
        if (r->state != RS_WAIT_START) continue;
        r->state = RS_WAIT_END;
        r->psync_start = RS.offset + 1;
        if (!r->old_sync) send_direct(r, line);
        /* Diskless: the payload starts now, as the snapshot writes it. */
        if (r->capa_eof && cfg_diskless_sync && open_snapshot(r, 1) == 0) replica_send(r);
    }
}

/* ---- PSYNC, SYNC, REPLCONF ---- */

static int try_partial(client *c, replica_rec *r) {
    if (c->argc < 3) return 0;
    long long off;
    if (!string_to_ll(c->argv[2], kstr_len(c->argv[2]), &off)) return 0;
    const char *id = c->argv[1];
    int ours = !strcasecmp(id, RS.replid);
    int old = RS.replid2[0] && !strcasecmp(id, RS.replid2) && off <= RS.second_offset;
    if ((!ours && !old) || !backlog_has(off)) {
        if (strcmp(id, "?")) stat_sync_partial_err++;
        if (!ours && !old && strcmp(id, "?"))
            server_log(LOG_NOTICE, "Partial resynchronization not accepted: Replication ID mismatch "
                       "(Replica asked for '%s', my replication IDs are '%s' and '%s')", id, RS.replid,
                       RS.replid2[0] ? RS.replid2 : "0000000000000000000000000000000000000000");
        return 0;
    }
    char line[128];
    if (r->capa_psync2) snprintf(line, sizeof(line), "+CONTINUE %s\r\n", RS.replid);
    else snprintf(line, sizeof(line), "+CONTINUE\r\n");
    send_direct(r, line);
    stat_sync_partial_ok++;
    r->state = RS_ONLINE;
    r->next_byte = off;
    r->cur = NULL;
    r->ack_ms = server_mstime();
    server_log(LOG_NOTICE, "Partial resynchronization request from %s:%d accepted. Sending %lld bytes of backlog "
               "starting from offset %lld.", r->ip, r->listening_port, RS.offset + 1 - off, off);
    replica_send(r);
    return 1;
}

void psync_command(client *c) {
    if (c->flags & CLIENT_REPLICA) return;
    /* The old master of a coordinated failover hands over to us. */
    if (c->argc > 3 && !strcasecmp(c->argv[0], "psync") && !strcasecmp(c->argv[3], "failover") &&
        !rfailover_psync_request(c))
        return;
    if (rfailover_active()) {
        reply_error(c, "NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    if (repl_is_replica() && !link_is_up()) {
        reply_error(c, "NOMASTERLINK Can't SYNC while not connected with my master");
        return;
    }
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "ERR Replica can't interact with the keyspace");
        return;
    }
    long long off;
    if (strcasecmp(c->argv[0], "sync") && !string_to_ll(c->argv[2], kstr_len(c->argv[2]), &off)) {
        server_log(LOG_NOTICE, "Replica %s asks for synchronization but with a wrong offset", c->addr);
        reply_error_not_integer(c);
        return;
    }
    replica_rec *r = rec_for(c);
    r->old_sync = !strcasecmp(c->argv[0], "sync");
    c->flags |= CLIENT_REPLICA | CLIENT_REPLY_OFF;
    server_log(LOG_NOTICE, "Replica %s:%d asks for synchronization", r->ip, r->listening_port);
    if (!RS.head) {
        /* No history kept so far: a new id, from which the stream counts. */
        rstream_new_replid();
        RS.replid2[0] = '\0';
        RS.second_offset = -1;
        backlog_create();
    }
    if (!r->old_sync && try_partial(c, r)) return;
    server_log(LOG_NOTICE, "Full resync requested by replica %s:%d", r->ip, r->listening_port);
    stat_sync_full++;
    r->state = RS_WAIT_START;
    r->wait_since_ms = server_mstime();
    start_full_sync();
}

void replconf_command(client *c) {
    if (c->argc % 2 == 0) {
        reply_error_syntax(c);
        return;
    }
    for (int i = 1; i < c->argc; i += 2) {
        const char *opt = c->argv[i], *val = c->argv[i + 1];
        if (!strcasecmp(opt, "listening-port")) {
            long long p;
            if (!parse_ll(c, c->argv[i + 1], &p)) return;
            rec_for(c)->listening_port = (int)p;
        } else if (!strcasecmp(opt, "ip-address")) {
            snprintf(rec_for(c)->ip, sizeof(rec_for(c)->ip), "%s", val);
        } else if (!strcasecmp(opt, "capa")) {
            if (!strcasecmp(val, "eof")) rec_for(c)->capa_eof = 1;
            else if (!strcasecmp(val, "psync2")) rec_for(c)->capa_psync2 = 1;
        } else if (!strcasecmp(opt, "ack")) {
            replica_rec *r = c->repl;
            long long off;
            if (!r || !(c->flags & CLIENT_REPLICA)) return;
            if (string_to_ll(val, kstr_len(c->argv[i + 1]), &off) && off > r->ack_off) r->ack_off = off;
            r->ack_ms = server_mstime();
            if (r->wait_first_ack) {
                /* Its RDB is loaded: the stream since the snapshot now,
                 * from the spill file if it went there meanwhile. */
                r->wait_first_ack = 0;
                r->from_spill = spill.fd >= 0 && r->next_byte < spill.end;
                r->cur = NULL;
                replica_send(r);
            }
            return; /* no reply, as Redis */
        } else if (!strcasecmp(opt, "getack")) {
            return; /* answered by the master link (replica.c) */
        } else if (!strcasecmp(opt, "rdb-only")) {
            rec_for(c)->rdb_only = !strcmp(val, "1");
        } else if (!strcasecmp(opt, "rdb-filter-only")) {
            /* accepted: the whole RDB is sent (functions and keys) */
        } else {
            reply_errorf(c, "ERR Unrecognized REPLCONF option: %s", opt);
            return;
        }
    }
    reply_ok(c);
}

/* ---- cron ---- */

void master_request_acks(void) {
    /* During FAILOVER the stream must stand still. */
    if (!RS.head || repl_is_replica() || rfailover_active() || pings_held) return;
    kstr argv[3] = {kstr_new("REPLCONF"), kstr_new("GETACK"), kstr_new("*")};
    rstream_command(-1, 3, argv);
    for (int i = 0; i < 3; i++) kstr_free(argv[i]);
}

void master_cron(void) {
    long long now = server_mstime();
    static long long last_newline_ms;
    int second = now - last_newline_ms >= 1000;
    if (second) last_newline_ms = now;
    start_full_sync();
    for (replica_rec *r = replicas; r; r = r->next) {
        /* Keepalive while the snapshot is prepared, once a second. */
        if (second && (r->state == RS_WAIT_START || r->state == RS_WAIT_END)) send_direct(r, "\n");
        if (r->state == RS_ONLINE && r->capa_psync2 && now - r->ack_ms > (long long)cfg_timeout * 1000)
            drop_replica(r, "timeout");
        /* A diskless replica that stopped reading its payload. */
        if (r->state == RS_SEND_BULK && r->use_eof && r->blocked_since_ms &&
            now - r->blocked_since_ms > (long long)cfg_timeout * 1000) {
            server_log(LOG_WARNING, "Disconnecting timedout replica (full sync): %s:%d", r->ip, r->listening_port);
            drop_replica(r, "timeout during the full sync");
        }
    }
    if (!RS.head || repl_is_replica()) return;
    if (replicas && !pings_held && !rfailover_active() && now - last_ping_ms >= (long long)cfg_ping_period * 1000) {
        kstr argv[1] = {kstr_new("PING")};
        rstream_command(-1, 1, argv);
        kstr_free(argv[0]);
        last_ping_ms = now;
    }
    if (!replicas && cfg_backlog_ttl > 0 && RS.no_replicas_since &&
        now - RS.no_replicas_since > cfg_backlog_ttl * 1000) {
        rstream_new_replid();
        RS.replid2[0] = '\0';
        RS.second_offset = -1;
        backlog_free();
        server_log(LOG_NOTICE, "Replication backlog freed after %lld seconds without connected replicas.",
                   cfg_backlog_ttl);
    }
}

/* ---- SHUTDOWN waiting for replicas (core/shutdown.c) ---- */

static int acked_all(const replica_rec *r) { return r->ack_off == RS.offset; }

int repl_replicas_in_sync(void) {
    for (replica_rec *r = replicas; r; r = r->next)
        if (r->state != RS_NONE && !acked_all(r)) return 0;
    return 1;
}

void repl_request_acks(void) { master_request_acks(); }

void repl_log_shutdown_sync(void) {
    int n = 0, lagging = 0;
    long long now = server_mstime();
    for (replica_rec *r = replicas; r; r = r->next) {
        if (r->state == RS_NONE) continue;
        n++;
        if (acked_all(r)) continue;
        lagging++;
        server_log(LOG_WARNING, "Lagging replica %s:%d reported offset %lld behind master, lag=%lld, state=%s.",
                   r->ip, r->listening_port, RS.offset - r->ack_off,
                   r->state == RS_ONLINE ? (now - r->ack_ms) / 1000 : 0, replica_state_name(r->state));
    }
    if (n) server_log(LOG_NOTICE, "%d of %d replicas are in sync when shutting down.", n - lagging, n);
}
