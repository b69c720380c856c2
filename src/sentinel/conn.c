/*
 * conn: Sentinel's outbound links to masters, replicas and other
 * sentinels: non-blocking connect, requests written in RESP, replies
 * read with the client-side reader (lib/resp_reader.h) and handed to the
 * callback queued with each request, in order. Pub/Sub messages, which
 * answer no request, go to the owner's push handler.
 *
 * Everything runs in the server's event loop; nothing here blocks. A
 * link that fails is only marked broken: its owner notices in its next
 * timer pass and reconnects, as Redis Sentinel does, so that callbacks
 * never see a link disappear under them. A link closed from inside one
 * of its own callbacks is freed when the callback returns.
 */
#include "sentinel/sentinel_internal.h"
#include "core/server.h"
#include "lib/sock.h"
#include "lib/zmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct pending_cb {
    sconn_reply_fn *fn;
    void *priv;
    struct pending_cb *next;
} pending_cb;

struct sconn {
    int fd;
    int connected, broken, closed, in_callback;
    void *owner;
    sconn_push_fn *on_push;
    rr_reader *reader;
    kstr out;
    size_t out_pos;
    pending_cb *head, *tail;
    int npending;
    int subscribed;
};

static void conn_event(eventloop *el, int fd, void *data, int mask);

static void update_events(sconn *c) {
    if (c->fd < 0) return;
    int want = EV_READABLE;
    if (!c->connected || kstr_len(c->out) > c->out_pos) want |= EV_WRITABLE;
    int have = ev_get_file_mask(server.el, c->fd);
    if (have & ~want) ev_del_file(server.el, c->fd, have & ~want);
    if (want & ~have) ev_add_file(server.el, c->fd, want & ~have, conn_event, c);
}

static void mark_broken(sconn *c) {
    if (c->broken) return;
    c->broken = 1;
    if (c->fd >= 0) {
        ev_del_file(server.el, c->fd, EV_READABLE | EV_WRITABLE);
        close(c->fd);
        c->fd = -1;
    }
}

sconn *sconn_open(const char *ip, int port, void *owner, sconn_push_fn *on_push) {
    sconn *c = zcalloc(sizeof(*c));
    c->fd = -1;
    c->owner = owner;
    c->on_push = on_push;
    c->reader = rr_reader_new();
    c->out = kstr_empty();
    /* connected is set when the socket turns writable (conn_event). */
    c->fd = sock_connect_nonblock(ip, port, SOCK_NUMERIC_HOST | SOCK_KEEPALIVE);
    if (c->fd < 0) {
        c->fd = -1;
        c->broken = 1;
        return c;
    }
    if (ev_add_file(server.el, c->fd, EV_READABLE | EV_WRITABLE, conn_event, c) != 0) mark_broken(c);
    return c;
}

static void drop_callbacks(sconn *c) {
    while (c->head) {
        pending_cb *p = c->head;
        c->head = p->next;
        if (p->fn) p->fn(c, NULL, p->priv);
        zfree(p);
    }
    c->tail = NULL;
    c->npending = 0;
}

static void conn_free(sconn *c) {
    mark_broken(c);
    pending_cb *p = c->head;
    while (p) { pending_cb *n = p->next; zfree(p); p = n; }
    rr_reader_free(c->reader);
    kstr_free(c->out);
    zfree(c);
}

void sconn_close(sconn *c) {
    if (!c) return;
    c->closed = 1;
    c->owner = NULL;
    mark_broken(c);
    if (c->in_callback) return;
    conn_free(c);
}

int sconn_broken(const sconn *c) { return c->broken; }
int sconn_pending(const sconn *c) { return c->npending; }

int sconn_local_ip(const sconn *c, char *buf, size_t len) {
    if (c->fd < 0) return 0;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(c->fd, (struct sockaddr *)&ss, &sl) != 0) return 0;
    if (ss.ss_family == AF_INET) return inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)len) != NULL;
    return inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)len) != NULL;
}

static void flush_out(sconn *c) {
    while (c->connected && !c->broken && kstr_len(c->out) > c->out_pos) {
        ssize_t n = write(c->fd, c->out + c->out_pos, kstr_len(c->out) - c->out_pos);
        if (n > 0) { c->out_pos += (size_t)n; continue; }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        mark_broken(c);
        return;
    }
    if (c->out_pos == kstr_len(c->out)) {
        kstr_clear(c->out);
        c->out_pos = 0;
    }
    update_events(c);
}

void sconn_command(sconn *c, sconn_reply_fn *fn, void *priv, int argc, const char **argv) {
    if (c->broken) {
        if (fn) fn(c, NULL, priv);
        return;
    }
    c->out = kstr_cat_printf(c->out, "*%d\r\n", argc);
    for (int i = 0; i < argc; i++) {
        const char *a = i == 0 ? instance_map_command(c->owner, argv[0]) : argv[i];
        size_t l = strlen(a);
        c->out = kstr_cat_printf(c->out, "$%zu\r\n", l);
        c->out = kstr_cat_len(c->out, a, l);
        c->out = kstr_cat_len(c->out, "\r\n", 2);
    }
    if (!c->subscribed) {
        pending_cb *p = zcalloc(sizeof(*p));
        p->fn = fn;
        p->priv = priv;
        if (c->tail) c->tail->next = p;
        else c->head = p;
        c->tail = p;
        c->npending++;
    }
    flush_out(c);
}

/* Words separated by single spaces; a "%s" word takes the next
 * argument whole (spaces included). */
void sconn_commandf(sconn *c, sconn_reply_fn *fn, void *priv, const char *fmt_words, ...) {
    const char *argv[16];
    char words[256];
    int argc = 0;
    snprintf(words, sizeof(words), "%s", fmt_words);
    va_list ap;
    va_start(ap, fmt_words);
    for (char *w = strtok(words, " "); w && argc < 16; w = strtok(NULL, " "))
        argv[argc++] = !strcmp(w, "%s") ? va_arg(ap, const char *) : w;
    va_end(ap);
    sconn_command(c, fn, priv, argc, argv);
}

void sconn_set_subscribed(sconn *c) { c->subscribed = 1; }

static void deliver(sconn *c, rr_reply *r) {
    c->in_callback++;
    if (c->head) {
        pending_cb *p = c->head;
        c->head = p->next;
        if (!c->head) c->tail = NULL;
        c->npending--;
        if (p->fn) p->fn(c, r, p->priv);
        zfree(p);
    } else if (c->on_push && c->owner) {
        c->on_push(c, r, c->owner);
    }
    c->in_callback--;
}

static void read_replies(sconn *c) {
    char buf[16384];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n > 0) {
            rr_reader_feed(c->reader, buf, (size_t)n);
            if ((size_t)n < sizeof(buf)) break;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
        mark_broken(c);
        break;
    }
    for (;;) {
        rr_reply *r = NULL;
        int got = rr_reader_next(c->reader, &r);
        if (got < 0) { mark_broken(c); break; }
        if (got == 0 || !r) break;
        deliver(c, r);
        rr_reply_free(r);
        if (c->closed) break;
    }
}

static void conn_event(eventloop *el, int fd, void *data, int mask) {
    (void)el; (void)fd;
    sconn *c = data;
    c->in_callback++;
    if (!c->connected && (mask & EV_WRITABLE)) {
        int err = 0;
        socklen_t l = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err) mark_broken(c);
        else c->connected = 1;
    }
    if (!c->broken && c->connected && (mask & EV_WRITABLE)) flush_out(c);
    if (!c->broken && (mask & EV_READABLE)) read_replies(c);
    if (c->broken && !c->closed) drop_callbacks(c);
    c->in_callback--;
    if (c->closed && !c->in_callback) conn_free(c);
}

/* ---- Reply accessors ------------------------------------------------------ */

int rr_is_error(const rr_reply *r) { return r && r->type == RR_ERROR; }

int rr_is_text(const rr_reply *r) {
    return r && (r->type == RR_STRING || r->type == RR_STATUS || r->type == RR_VERB || r->type == RR_ERROR);
}

size_t rr_count(const rr_reply *r) {
    return r && (r->type == RR_ARRAY || r->type == RR_PUSH || r->type == RR_SET || r->type == RR_MAP) ? r->elements : 0;
}

rr_reply *rr_at(const rr_reply *r, size_t i) { return i < rr_count(r) ? r->element[i] : NULL; }

const char *rr_text(const rr_reply *r, size_t *len) {
    if (!rr_is_text(r)) return NULL;
    *len = r->len;
    return r->str;
}

long long rr_int(const rr_reply *r) {
    if (!r) return 0;
    if (r->type == RR_INTEGER || r->type == RR_BOOL) return r->integer;
    if (r->type == RR_STRING || r->type == RR_STATUS) return strtoll(r->str, NULL, 10);
    return 0;
}
