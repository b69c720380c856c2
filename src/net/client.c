/* See client.h for the design. */
#include "acl/acl.h"
#include "net/client.h"
#include "net/clientmem.h"
#include "core/blocking.h"
#include "core/multi.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "net/conn.h"
#include "net/reply.h"
#include "pubsub/hooks.h"
#include "repl/repl.h"
#include "tls/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <fcntl.h>
#include <unistd.h>

#define READ_CHUNK (16 * 1024)
#define BIG_ARG (32 * 1024)
#define MAX_WRITE_PER_EVENT (1024 * 1024)
#define LARGE_REPLY_WRITE_NOW (64 * 1024)

static void read_handler(eventloop *el, int fd, void *data, int mask);
static int write_to_client(client *c);
static void write_handler(eventloop *el, int fd, void *data, int mask);
static void after_write(client *c);
static void handshake_handler(eventloop *el, int fd, void *data, int mask);
static void note_buffered_input(client *c);

/* The clients' periodic work (clientmem.c) runs on its own timer, set up
 * with the first connection, so the core cron needs no knowledge of it. */
static long long clients_timer(eventloop *el, long long id, void *data) {
    (void)el; (void)id; (void)data;
    server_update_cached_time();
    clientmem_cron();
    return 1000 / (server.hz > 0 ? server.hz : 10);
}

static void ensure_clients_timer(void) {
    static int started;
    if (started || !server.el) return;
    started = 1;
    ev_add_timer(server.el, 100, clients_timer, NULL);
}

static void format_addr(const struct sockaddr_storage *sa, char *out, size_t len) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(out, len, "%s:%d", ip, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(out, len, "%s:%d", ip, port);
    } else {
        snprintf(out, len, "%s:0", server.unixsocket ? server.unixsocket : "");
    }
}

static void link_client(client *c) {
    c->next = server.clients;
    c->prev = NULL;
    if (server.clients) server.clients->prev = c;
    server.clients = c;
    server.nclients++;
}

static void unlink_client(client *c) {
    if (c->prev) c->prev->next = c->next;
    else server.clients = c->next;
    if (c->next) c->next->prev = c->prev;
    server.nclients--;
}

static client *client_alloc(int fd) {
    client *c = zcalloc(sizeof(*c));
    c->id = ++server.next_client_id;
    c->fd = fd;
    c->resp = 2;
    c->db = db_get(0);
    c->querybuf = querybuf_shared_empty();
    reqparse_init(&c->parser, (size_t)server.proto_max_bulk_len);
    c->ctime_ms = c->last_interaction_ms = c->last_write_ms = server_mstime();
    /* As in Redis: a connection made while no password is required stays
     * authenticated when one is set later (it logged in as the default
     * user, which then had no password). */
    if (acl_default_user_open()) c->flags |= CLIENT_AUTHENTICATED;
    clientmem_update(c);
    return c;
}

static client *create_with_conn(int fd, int is_unix, conn *cn);

client *client_create(int fd, int is_unix) { return create_with_conn(fd, is_unix, NULL); }

static client *create_with_conn(int fd, int is_unix, conn *cn) {
    client *c = client_alloc(fd);
    c->conn = cn;
    if (is_unix) c->flags |= CLIENT_UNIX_SOCKET;
    struct sockaddr_storage sa;
    socklen_t salen = sizeof(sa);
    if (!is_unix && getpeername(fd, (struct sockaddr *)&sa, &salen) == 0) format_addr(&sa, c->addr, sizeof(c->addr));
    else snprintf(c->addr, sizeof(c->addr), "%s:0", server.unixsocket ? server.unixsocket : "");
    salen = sizeof(sa);
    if (!is_unix && getsockname(fd, (struct sockaddr *)&sa, &salen) == 0) format_addr(&sa, c->laddr, sizeof(c->laddr));
    else snprintf(c->laddr, sizeof(c->laddr), "%s:0", server.unixsocket ? server.unixsocket : "");
    if (ev_add_file(server.el, fd, EV_READABLE, cn ? handshake_handler : read_handler, c) < 0) {
        if (cn) conn_free(cn);
        close(fd);
        clientmem_forget(c);
        reqparse_free(&c->parser);
        zfree(c);
        return NULL;
    }
    link_client(c);
    ensure_clients_timer();
    return c;
}

client *client_create_fake(void) {
    client *c = client_alloc(-1);
    c->flags |= CLIENT_FAKE;
    return c;
}

void client_free_argv(client *c) {
    for (int i = 0; i < c->argc; i++) kstr_free(c->argv[i]);
    zfree(c->argv);
    c->argv = NULL;
    c->argc = 0;
}

static void free_block(client *c, reply_block *b) {
    clientmem_reply_release(c, zmalloc_size(b));
    zfree(b);
}

static void free_replies(client *c) {
    reply_block *b = c->reply_head;
    while (b) {
        reply_block *next = b->next;
        free_block(c, b);
        b = next;
    }
    c->reply_head = c->reply_tail = NULL;
    c->reply_bytes = 0;
    c->sent_in_head = 0;
}

/* A client in subscribed or monitor mode receives output continuously:
 * it keeps its one standard reply block once written (empty, reused by the
 * next message) rather than freeing and reallocating 16 KB per event-loop
 * iteration, like the fixed buffer every Redis client has. Counted in its
 * tot-mem; omem stays 0. Other clients free it (idle connections hold no
 * reply memory). Returns 1 if the block was kept. */
static int keep_written_block(client *c, reply_block *b) {
    if (!(c->flags & (CLIENT_PUBSUB | CLIENT_MONITOR)) || b->next || b->sealed || b->size != REPLY_BLOCK_SIZE)
        return 0;
    b->used = 0;
    c->reply_head = c->reply_tail = b;
    c->sent_in_head = 0;
    return 1;
}

static void release_written_replies(client *c) {
    if (c->reply_head && c->reply_head == c->reply_tail && keep_written_block(c, c->reply_head)) return;
    free_replies(c);
}

void client_discard_replies(client *c) {
    /* A fake client reused for many commands (scripts' redis.call) keeps
     * its one ordinary block rather than freeing and reallocating it. */
    reply_block *b = c->reply_head;
    if (b && !b->next && b->size == REPLY_BLOCK_SIZE && !b->sealed) {
        b->used = 0;
        c->reply_bytes = 0;
        c->sent_in_head = 0;
        return;
    }
    free_replies(c);
}

void client_protect(client *c) {
    if (c->flags & CLIENT_PROTECTED) return;
    c->flags |= CLIENT_PROTECTED;
    if (c->fd >= 0) ev_del_file(server.el, c->fd, EV_READABLE | EV_WRITABLE);
}

void client_unprotect(client *c) {
    if (!(c->flags & CLIENT_PROTECTED)) return;
    c->flags &= ~CLIENT_PROTECTED;
    if (c->fd < 0 || (c->flags & CLIENT_CLOSE_ASAP)) return;
    if (!(c->flags & CLIENT_OUTPUT_PAUSED) || (c->flags & CLIENT_PAUSED_READING)) {
        ev_add_file(server.el, c->fd, EV_READABLE, read_handler, c);
        note_buffered_input(c);
    }
    if (c->reply_head && c->reply_bytes) ev_add_file(server.el, c->fd, EV_WRITABLE, write_handler, c);
}

void clients_process_while_busy(void) {
    ev_process_file_events(server.el);
    clients_read_buffered_input();
    clients_flush_pending_writes();
    clients_free_closed();
}

static void remove_from_pending(client *c) {
    if (!(c->flags & CLIENT_PENDING_WRITE)) return;
    client **pp = &server.pending_writes;
    while (*pp) {
        if (*pp == c) {
            *pp = c->pending_next;
            break;
        }
        pp = &(*pp)->pending_next;
    }
    c->flags &= ~CLIENT_PENDING_WRITE;
}

/* ---- Buffered input (TLS) ----------------------------------------------
 *
 * A TLS read may leave decrypted bytes inside OpenSSL, where epoll cannot
 * see them: such clients go on this list and are read again before the
 * loop sleeps, and the loop does not sleep while any is left. */
static client *buffered_clients;

static void note_buffered_input(client *c) {
    if (!c->conn || (c->flags & CLIENT_CONN_BUFFERED) || conn_pending(c->conn) == 0) return;
    c->flags |= CLIENT_CONN_BUFFERED;
    c->buffered_next = buffered_clients;
    buffered_clients = c;
}

static void remove_from_buffered(client *c) {
    if (!(c->flags & CLIENT_CONN_BUFFERED)) return;
    for (client **pp = &buffered_clients; *pp; pp = &(*pp)->buffered_next) {
        if (*pp == c) {
            *pp = c->buffered_next;
            break;
        }
    }
    c->flags &= ~CLIENT_CONN_BUFFERED;
}

void clients_read_buffered_input(void) {
    client *list = buffered_clients;
    buffered_clients = NULL;
    while (list) {
        client *c = list;
        list = c->buffered_next;
        c->flags &= ~CLIENT_CONN_BUFFERED;
        c->buffered_next = NULL;
        /* Not reading now (backpressure, a slow script): resuming puts it
         * back on the list. */
        if (c->flags & CLIENT_CLOSE_ASAP || !(ev_get_file_mask(server.el, c->fd) & EV_READABLE)) continue;
        read_handler(server.el, c->fd, c, EV_READABLE);
    }
    if (buffered_clients) ev_wake_now(server.el);
}

void client_free(client *c) {
    if (server.current_client == c) server.current_client = NULL;
    if (c->flags & CLIENT_BLOCKED) blocking_client_gone(c);
    multi_client_gone(c);
    if (c->repl) repl_client_gone(c);
    messaging_client_gone(c);
    if (c->flags & CLIENT_CLOSE_ASAP) server.clients_pending_close--;
    if (c->fd >= 0) {
        ev_del_file(server.el, c->fd, EV_READABLE | EV_WRITABLE);
        if (c->conn) conn_free(c->conn);
        close(c->fd);
        unlink_client(c);
    }
    remove_from_pending(c);
    remove_from_buffered(c);
    kstr_free(c->cert_cn);
    free_replies(c);
    client_free_argv(c);
    clientmem_forget(c);
    reqparse_free(&c->parser);
    querybuf_release(c->querybuf);
    kstr_free(c->name);
    kstr_free(c->lib_name);
    kstr_free(c->lib_ver);
    zfree(c);
}

void client_close_async(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    c->flags |= CLIENT_CLOSE_ASAP;
    server.clients_pending_close++;
}

/* Runs every loop iteration: the counter keeps it free when nobody is
 * closing, whatever the number of connected clients. */
void clients_free_closed(void) {
    if (server.clients_pending_close == 0) return;
    client *c = server.clients;
    while (c) {
        client *next = c->next;
        if ((c->flags & CLIENT_CLOSE_ASAP) && !(c->flags & CLIENT_EXECUTING)) client_free(c);
        c = next;
    }
}

static void protocol_error(client *c) {
    /* Redis logs these at verbose level only: a noisy client must not be
     * able to flood the log. */
    reply_error(c, c->parser.error);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    reqparse_reset(&c->parser);
}

/* Backpressure: stop reading and running this client's requests until
 * its output drains (see clientmem.h). Requests already read stay in
 * the query buffer, in order. */
static void pause_input(client *c) {
    if (c->flags & CLIENT_OUTPUT_PAUSED) return;
    c->flags |= CLIENT_OUTPUT_PAUSED;
    c->paused_since_ms = server_mstime();
    clientmem_note_pause();
    if (c->fd >= 0) ev_del_file(server.el, c->fd, EV_READABLE);
}

static void resume_input(client *c) {
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_EXECUTING)) return;
    c->flags &= ~(CLIENT_OUTPUT_PAUSED | CLIENT_PAUSED_READING);
    if (c->fd >= 0) ev_add_file(server.el, c->fd, EV_READABLE, read_handler, c);
    note_buffered_input(c);
    if (c->qb_pos < kstr_len(c->querybuf) && !(c->flags & CLIENT_BLOCKED)) client_process_input(c);
}

void client_read_while_paused(client *c) {
    if (!(c->flags & CLIENT_OUTPUT_PAUSED) || c->fd < 0) return;
    c->flags |= CLIENT_PAUSED_READING;
    ev_add_file(server.el, c->fd, EV_READABLE, read_handler, c);
    note_buffered_input(c);
}

void client_drop_and_close(client *c) {
    if (!(c->flags & CLIENT_EXECUTING)) {
        free_replies(c);
        querybuf_release(c->querybuf);
        c->querybuf = querybuf_shared_empty();
        c->qb_pos = 0;
        reqparse_reset(&c->parser);
        if (c->fd >= 0) ev_del_file(server.el, c->fd, EV_READABLE | EV_WRITABLE);
        clientmem_update(c);
    }
    client_close_async(c);
}

/* A large reply goes to the socket as soon as it is complete rather than
 * at the end of the event loop iteration: when many clients send large
 * reads at once, their replies would otherwise all sit in memory together
 * before the first byte is written, far above the clients' budget. The
 * kernel takes what it can and the blocks it took are reused by the next
 * reply. Small replies still wait, so that pipelines batch their writes. */
static int write_large_reply_now(client *c) {
    if (c->reply_bytes < LARGE_REPLY_WRITE_NOW || c->fd < 0) return 0;
    if (ev_get_file_mask(server.el, c->fd) & EV_WRITABLE) return 0; /* socket already full */
    if (write_to_client(c) < 0) {
        client_close_async(c);
        return -1;
    }
    return 0;
}

/* CLIENT REPLY SKIP silences the command after it, not itself. */
static void advance_reply_skip(client *c) {
    if (!(c->flags & (CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT))) return;
    c->flags &= ~CLIENT_REPLY_SKIP;
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) c->flags = (c->flags & ~CLIENT_REPLY_SKIP_NEXT) | CLIENT_REPLY_SKIP;
}

static void run_command(client *c) {
    server.current_client = c;
    command_dispatch(c);
    server.current_client = NULL;
    /* A blocked command keeps its argv: it is re-run when served. */
    if (!(c->flags & CLIENT_BLOCKED)) {
        client_free_argv(c);
        advance_reply_skip(c);
    }
}

void client_run_postponed(client *c) {
    c->flags |= CLIENT_EXECUTING;
    run_command(c);
    c->flags &= ~CLIENT_EXECUTING;
    if (!(c->flags & CLIENT_BLOCKED)) client_process_input(c);
}

int client_is_local(const client *c) {
    if (c->flags & CLIENT_UNIX_SOCKET) return 1;
    return !strncmp(c->addr, "127.", 4) || !strncmp(c->addr, "::1:", 4);
}

client *client_by_id(uint64_t id) {
    for (client *c = server.clients; c; c = c->next)
        if (c->id == id) return c;
    return NULL;
}

/* Run as many complete requests as the query buffer holds. */
void client_process_input(client *c) {
    c->flags |= CLIENT_EXECUTING;
    while (c->qb_pos < kstr_len(c->querybuf)) {
        if (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_BLOCKED)) break;
        if (clientmem_should_pause(c)) {
            pause_input(c);
            break;
        }
        size_t used = 0;
        c->parser.unauthenticated = acl_auth_required(c);
        int r = reqparse_feed(&c->parser, c->querybuf + c->qb_pos, kstr_len(c->querybuf) - c->qb_pos, &used);
        c->qb_pos += used;
        if (r == REQ_ERROR) {
            protocol_error(c);
            break;
        }
        if (r == REQ_NEED_MORE) break;
        c->argv = reqparse_take(&c->parser, &c->argc);
        run_command(c);
        if (write_large_reply_now(c) < 0) break;
    }
    /* Drop the parsed prefix once per batch rather than per command. */
    if (c->qb_pos) {
        kstr_consume(c->querybuf, c->qb_pos);
        c->qb_pos = 0;
    }
    c->flags &= ~CLIENT_EXECUTING;
    clientmem_update(c);
}

/* Room for the next read. A first read gets exactly one chunk: most
 * clients send small requests, and doubling here would give every new
 * connection a 40 KB buffer. */
static void reserve_read_room(client *c, size_t readlen) {
    kstr qb = c->querybuf;
    if (kstr_len(qb) == 0 && kstr_avail(qb) < readlen) {
        querybuf_release(qb);
        c->querybuf = kstr_empty_cap(readlen);
        return;
    }
    if ((c->flags & CLIENT_PAUSED_READING) && kstr_avail(qb) < readlen) {
        /* Requests parked while output drains: grow by an eighth, not by
         * doubling, since many stalled clients may be doing this at once. */
        size_t len = kstr_len(qb);
        kstr bigger = kstr_cat_len(kstr_empty_cap(len + readlen + len / 8), qb, len);
        querybuf_release(qb);
        c->querybuf = bigger;
        return;
    }
    c->querybuf = kstr_make_room(qb, readlen);
}

static void note_query_peak(client *c) {
    size_t len = kstr_len(c->querybuf);
    if (c->parser.multibulk_left && c->parser.bulk_len >= 0 && (size_t)c->parser.bulk_len + 2 > len)
        len = (size_t)c->parser.bulk_len + 2;
    if (len > c->qbuf_peak) c->qbuf_peak = len;
}

/* A TLS write that had to wait for the socket to be readable. */
static void retry_write(client *c) {
    c->flags &= ~CLIENT_WRITE_WANTS_READ;
    if (write_to_client(c) < 0) {
        client_close_async(c);
        return;
    }
    after_write(c);
}

static void read_handler(eventloop *el, int fd, void *data, int mask) {
    (void)el; (void)mask;
    client *c = data;
    size_t readlen = READ_CHUNK;
    /* When a big bulk argument is being received, read it in one go. */
    if (c->parser.multibulk_left && c->parser.bulk_len >= BIG_ARG) {
        size_t have = kstr_len(c->querybuf) - c->qb_pos;
        size_t want = (size_t)c->parser.bulk_len + 2;
        if (want > have && want - have > readlen) readlen = want - have;
    }
    if (c->flags & CLIENT_WRITE_WANTS_READ) retry_write(c);
    reserve_read_room(c, readlen);
    ssize_t n = c->conn ? conn_read(c->conn, c->querybuf + kstr_len(c->querybuf), readlen)
                        : read(fd, c->querybuf + kstr_len(c->querybuf), readlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
            if (c->conn && conn_wants(c->conn) == CONN_WANT_WRITE) {
                c->flags |= CLIENT_READ_WANTS_WRITE;
                ev_add_file(server.el, c->fd, EV_WRITABLE, write_handler, c);
            }
            return;
        }
        client_close_async(c);
        return;
    }
    note_buffered_input(c);
    if (n == 0) {
        client_close_async(c);
        return;
    }
    kstr_incr_len(c->querybuf, (size_t)n);
    c->net_input_bytes += (unsigned long long)n;
    server.stat.net_input_bytes += n;
    c->last_interaction_ms = server_mstime();
    note_query_peak(c);
    clientmem_track_input(c);
    if (kstr_len(c->querybuf) > (size_t)server.client_max_querybuf_len) {
        kstr info = client_info_string(kstr_empty(), c);
        server_log(LOG_WARNING, "Closing client that reached max query buffer length: %s (qbuf initial bytes: \"%.64s\")",
                   info, c->querybuf);
        kstr_free(info);
        server.stat.client_qbuf_limit_disconnections++;
        client_drop_and_close(c);
        return;
    }
    /* A paused client reading only to unblock its sender: keep the
     * requests, run them when the output has drained. */
    if (c->flags & CLIENT_OUTPUT_PAUSED) clientmem_update(c);
    else client_process_input(c);
    clients_evict_if_needed();
}

/* Write as much of the reply list as the socket takes. Returns -1 if the
 * connection broke. */
static int write_to_client(client *c) {
    size_t total = 0;
    while (c->reply_head && total < MAX_WRITE_PER_EVENT) {
        struct iovec iov[16];
        int iovcnt = 0;
        reply_block *b = c->reply_head;
        size_t off = c->sent_in_head;
        for (; b && iovcnt < 16; b = b->next) {
            if (b->used - off == 0) { off = 0; continue; }
            iov[iovcnt].iov_base = b->data + off;
            iov[iovcnt].iov_len = b->used - off;
            iovcnt++;
            off = 0;
        }
        if (iovcnt == 0) {
            release_written_replies(c);
            break;
        }
        ssize_t n = c->conn ? conn_writev(c->conn, iov, iovcnt) : writev(c->fd, iov, iovcnt);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            return -1;
        }
        total += (size_t)n;
        c->last_write_ms = server_mstime();
        c->net_output_bytes += (unsigned long long)n;
        server.stat.net_output_bytes += n;
        c->reply_bytes -= (size_t)n;
        /* Advance through fully written blocks. */
        size_t left = (size_t)n;
        while (left && c->reply_head) {
            reply_block *h = c->reply_head;
            size_t rem = h->used - c->sent_in_head;
            if (left >= rem) {
                left -= rem;
                c->reply_head = h->next;
                if (!c->reply_head) c->reply_tail = NULL;
                c->sent_in_head = 0;
                if (c->reply_head || !keep_written_block(c, h)) free_block(c, h);
            } else {
                c->sent_in_head += left;
                left = 0;
            }
        }
        /* Drop empty blocks at the head. */
        while (c->reply_head && c->reply_head->used == c->sent_in_head && !c->reply_head->sealed) {
            reply_block *h = c->reply_head;
            c->reply_head = h->next;
            if (!c->reply_head) c->reply_tail = NULL;
            c->sent_in_head = 0;
            if (!c->reply_head && keep_written_block(c, h)) break;
            free_block(c, h);
        }
    }
    if (total) c->last_interaction_ms = server_mstime();
    return 0;
}

static int has_pending_reply(client *c) { return c->reply_head != NULL && c->reply_bytes > 0; }

static void after_write(client *c) {
    if (has_pending_reply(c) && c->conn && conn_wants(c->conn) == CONN_WANT_READ) {
        /* Waiting for writability would spin: the next read retries. */
        c->flags |= CLIENT_WRITE_WANTS_READ;
        if (!(c->flags & CLIENT_READ_WANTS_WRITE)) ev_del_file(server.el, c->fd, EV_WRITABLE);
    } else if (has_pending_reply(c)) {
        ev_add_file(server.el, c->fd, EV_WRITABLE, write_handler, c);
    } else {
        release_written_replies(c);
        if (!(c->flags & CLIENT_READ_WANTS_WRITE)) ev_del_file(server.el, c->fd, EV_WRITABLE);
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) client_close_async(c);
    }
    if ((c->flags & CLIENT_OUTPUT_PAUSED) && !clientmem_should_pause(c)) resume_input(c);
}

static void write_handler(eventloop *el, int fd, void *data, int mask) {
    (void)el; (void)fd; (void)mask;
    client *c = data;
    if (c->flags & CLIENT_READ_WANTS_WRITE) {
        c->flags &= ~CLIENT_READ_WANTS_WRITE;
        read_handler(el, fd, c, EV_READABLE);
        if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_READ_WANTS_WRITE)) return;
    }
    if (write_to_client(c) < 0) {
        client_close_async(c);
        return;
    }
    after_write(c);
}

void clients_flush_pending_writes(void) {
    client *kept = NULL; /* protected: written once the script is over */
    while (server.pending_writes) {
        client *c = server.pending_writes;
        server.pending_writes = c->pending_next;
        if (c->flags & CLIENT_PROTECTED) {
            c->pending_next = kept;
            kept = c;
            continue;
        }
        c->flags &= ~CLIENT_PENDING_WRITE;
        c->pending_next = NULL;
        if (c->fd < 0 || (c->flags & CLIENT_CLOSE_ASAP)) continue;
        /* A write handler is already installed: let it do the job. */
        if (ev_get_file_mask(server.el, c->fd) & EV_WRITABLE) continue;
        if (write_to_client(c) < 0) {
            client_close_async(c);
            continue;
        }
        after_write(c);
    }
    server.pending_writes = kept;
}

static void set_socket_options(int fd, int is_tcp) {
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (!is_tcp) return;
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    if (server.tcpkeepalive > 0) {
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes));
        int idle = server.tcpkeepalive, intvl = server.tcpkeepalive / 3 ? server.tcpkeepalive / 3 : 1, cnt = 3;
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
}

/* Protected mode, as Redis 7.0 decides it: on, and the default user has
 * no password (requirepass empty), and the client is not local. The
 * words are Redis's (its tests and tools look for them). */
#define PROTECTED_MODE_ERR                                                                                    \
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set " \
    "for the default user. In this mode connections are only accepted from the loopback interface. If you " \
    "want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just " \
    "disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface " \
    "by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not "      \
    "publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) "  \
    "Alternatively you can just disable the protected mode by editing the Redis configuration file, and "    \
    "setting the protected mode option to 'no', and then restarting the server. 3) If you started the "      \
    "server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "     \
    "authentication password for the default user. NOTE: You only need to do one of the above things in "   \
    "order for the server to start accepting connections from the outside.\r\n"

static int default_user_has_no_password(void) { return acl_default_user_open(); }

ssize_t client_write_bytes(client *c, const void *buf, size_t len) {
    if (!c->conn) return write(c->fd, buf, len);
    struct iovec iov = {(void *)buf, len};
    return conn_writev(c->conn, &iov, 1);
}

/* Best effort, for a last word before closing. */
static void client_write_now(client *c, const char *buf, size_t len) {
    ssize_t n = client_write_bytes(c, buf, len);
    (void)n;
}

static int client_refused_by_protected_mode(client *c) {
    if (!server.protected_mode || !default_user_has_no_password() || client_is_local(c)) return 0;
    client_write_now(c, PROTECTED_MODE_ERR, sizeof(PROTECTED_MODE_ERR) - 1);
    server.stat.rejected_conn++;
    client_close_async(c);
    return 1;
}

/* ---- TLS handshake ------------------------------------------------------ */

/* The certificate's CN is kept for CLIENT INFO-like uses and the ACL
 * module; with tls-auth-clients-user CN it logs the client in. */
static void note_peer_certificate(client *c) {
    char cn[256];
    if (!tls_conn_peer_cn(c->conn, cn, sizeof(cn))) return;
    c->cert_cn = kstr_new(cn);
    if (tls_auth_clients_user_cn()) acl_login_as(c, cn, strlen(cn));
}

static void handshake_handler(eventloop *el, int fd, void *data, int mask) {
    (void)mask;
    client *c = data;
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    switch (conn_handshake(c->conn)) {
    case CONN_WANT_READ:
        ev_del_file(el, fd, EV_WRITABLE);
        return;
    case CONN_WANT_WRITE:
        ev_add_file(el, fd, EV_WRITABLE, handshake_handler, c);
        return;
    case CONN_FAILED:
        server_log(LOG_VERBOSE, "Error accepting a client connection: %s (addr=%s laddr=%s)",
                   conn_last_error(c->conn), c->addr, c->laddr);
        client_close_async(c);
        return;
    default:
        break;
    }
    ev_del_file(el, fd, EV_WRITABLE);
    ev_add_file(el, fd, EV_READABLE, read_handler, c);
    note_peer_certificate(c);
    if (client_refused_by_protected_mode(c)) return;
    /* Data may have come with the last handshake message. */
    read_handler(el, fd, c, EV_READABLE);
}

enum { ACCEPT_TCP, ACCEPT_UNIX, ACCEPT_TLS };

/* A TLS client starts with its handshake; protected mode waits for it
 * (the refusal is written over TLS), as in Redis. */
static void register_accepted(int fd, int kind) {
    conn *cn = NULL;
    if (kind == ACCEPT_TLS && !(cn = tls_conn_accept(fd))) {
        server_log(LOG_WARNING, "Error creating a TLS connection for a new client");
        close(fd);
        return;
    }
    client *c = create_with_conn(fd, kind == ACCEPT_UNIX, cn);
    if (!c) {
        server_log(LOG_WARNING, "Error registering fd event for the new client: %s", strerror(errno));
        return;
    }
    if (kind != ACCEPT_TLS) client_refused_by_protected_mode(c);
}

static void accept_common(int listen_fd, int kind) {
    /* Accept a batch per event: a connection storm should not starve
     * the clients that are already connected, nor wait a full loop. */
    for (int i = 0; i < 1000; i++) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                server_log(LOG_WARNING, "Accepting client connection: %s", strerror(errno));
            return;
        }
        set_socket_options(fd, kind != ACCEPT_UNIX);
        server.stat.numconnections++;
        if (server.nclients >= server.maxclients) {
            /* Over TLS the words cannot be sent before a handshake: the
             * connection is just closed. */
            static const char err[] = "-ERR max number of clients reached\r\n";
            if (kind != ACCEPT_TLS) {
                ssize_t w = write(fd, err, sizeof(err) - 1);
                (void)w;
            }
            server.stat.rejected_conn++;
            close(fd);
            continue;
        }
        register_accepted(fd, kind);
    }
}

void client_accept_tcp(void *el, int fd, void *data, int mask) {
    (void)el; (void)data; (void)mask;
    accept_common(fd, ACCEPT_TCP);
}

void client_accept_unix(void *el, int fd, void *data, int mask) {
    (void)el; (void)data; (void)mask;
    accept_common(fd, ACCEPT_UNIX);
}

void client_accept_tls(void *el, int fd, void *data, int mask) {
    (void)el; (void)data; (void)mask;
    accept_common(fd, ACCEPT_TLS);
}

static size_t reply_block_count(const client *c) {
    size_t n = 0;
    for (reply_block *b = c->reply_head; b; b = b->next) n++;
    return n;
}

/* Redis's argv-mem: the bytes of the arguments, parsed ones included. */
static size_t argv_bytes(const client *c) {
    size_t n = 0;
    for (int i = 0; i < c->argc; i++) n += kstr_len(c->argv[i]);
    for (int i = 0; i < c->parser.argc; i++) n += kstr_len(c->parser.argv[i]);
    return n;
}

static void format_flags(const client *c, char *flags, const char *tracking_flags) {
    int f = 0;
    if (c->flags & CLIENT_MONITOR) flags[f++] = 'O';
    else if (c->flags & CLIENT_REPLICA) flags[f++] = 'S';
    else if (c->flags & CLIENT_MASTER) flags[f++] = 'M';
    if (c->flags & CLIENT_PUBSUB) flags[f++] = 'P';
    if (c->flags & CLIENT_BLOCKED) flags[f++] = 'b';
    for (const char *t = tracking_flags; *t; t++) flags[f++] = *t;
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) flags[f++] = 'c';
    if (c->flags & CLIENT_UNIX_SOCKET) flags[f++] = 'U';
    if (c->flags & CLIENT_CLOSE_ASAP) flags[f++] = 'A';
    if (c->flags & CLIENT_NO_EVICT) flags[f++] = 'e';
    if (c->flags & CLIENT_NO_TOUCH) flags[f++] = 'T';
    if (f == 0) flags[f++] = 'N';
    flags[f] = '\0';
}

/* Output fields in Redis 7's sense: the first reply block plays the part
 * of Redis's static buffer (obl = its bytes), the following blocks are
 * the reply list (oll blocks, omem bytes allocated). */
kstr client_info_string(kstr s, client *c) {
    long long now = server_mstime();
    char flags[16], events[3] = "";
    size_t sub, psub, ssub;
    long long redir;
    const char *tracking_flags;
    messaging_client_fields(c, &sub, &psub, &ssub, &redir, &tracking_flags);
    format_flags(c, flags, tracking_flags);
    int mask = c->fd >= 0 ? ev_get_file_mask(server.el, c->fd) : 0;
    int e = 0;
    if (mask & EV_READABLE) events[e++] = 'r';
    if (mask & EV_WRITABLE) events[e++] = 'w';
    events[e] = '\0';
    const reply_block *head = c->reply_head;
    size_t oll = head ? reply_block_count(c) - 1 : 0;
    s = kstr_cat_printf(s, "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%zu psub=%zu ssub=%zu multi=-1 ",
                        (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
                        (now - c->ctime_ms) / 1000, (now - c->last_interaction_ms) / 1000, flags,
                        c->db ? db_id(c->db) : 0, sub, psub, ssub);
    s = kstr_cat_printf(s, "qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu tot-mem=%zu events=%s cmd=%s user=%s redir=%lld resp=%d",
                        kstr_len(c->querybuf), kstr_avail(c->querybuf), argv_bytes(c),
                        head ? head->size : (size_t)REPLY_BLOCK_SIZE, head ? head->size : (size_t)REPLY_BLOCK_SIZE,
                        head ? head->used : (size_t)0,
                        oll, client_output_list_memory(c), client_memory_usage(c), events,
                        c->lastcmd ? c->lastcmd->fullname : "NULL", acl_client_user_name(c), redir, c->resp);
    if (c->lib_name || c->lib_ver)
        s = kstr_cat_printf(s, " lib-name=%s lib-ver=%s", c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "");
    return s;
}
