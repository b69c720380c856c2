/*
 * bus.c: the cluster bus, Redis 7.0's binary protocol on port+10000, so
 * that Keel and Redis nodes form one cluster.
 *
 * Every message starts with the same 2256-byte header ("RCmb", total
 * length, version 1, the sender's ports, type, count, current and config
 * epochs, replication offset, name, slot bitmap, master's name, announced
 * IP, flags, the cluster state as it sees it), all integers big endian.
 * PING, PONG and MEET carry `count` gossip entries of 104 bytes (a node's
 * name, ping and pong times in seconds, address, flags), then optional
 * extensions (8-byte aligned; the hostname one is the only type Redis 7.0
 * knows). FAIL carries a node name, PUBLISH the channel and message,
 * UPDATE a node's config epoch and slots. A message whose length does not
 * add up is dropped, as Redis drops it.
 *
 * Links: one outbound link per known node (we connect, send PING or MEET,
 * and read its PONGs), and inbound links that nodes opened to us (we read
 * their PINGs and answer). Non-blocking sockets on the event loop; each
 * link has a send buffer written when the socket is writable. With
 * tls-cluster yes the links speak TLS (see "TLS" below).
 *
 * What the messages do (the cluster's rules, as Redis applies them): a
 * MEET from an unknown node starts a handshake with it; a PONG on a
 * handshake link gives the node its real name; a node not answering a
 * ping for node-timeout is PFAIL; when a majority of masters report it
 * (gossip), it is FAIL and a FAIL message tells everyone; slots claimed
 * with a greater config epoch win; two masters with the same config
 * epoch: the one with the smaller name takes a new epoch.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/cluster_internal.h"
#include "cluster/bus_internal.h"
#include "core/server.h"
#include "lib/random.h"
#include "lib/sock.h"
#include "lib/util.h"
#include "lib/zmalloc.h"
#include "net/conn.h"
#include "net/eventloop.h"
#include "pubsub/pubsub.h"
#include "repl/repl.h"
#include "tls/tls.h"


typedef struct bus_link {
    int fd;
    conn *cn;         /* tls-cluster: the TLS layer; NULL on a plain link */
    int handshaking;  /* TLS handshake in progress: messages wait */
    int read_wants_write, write_wants_read; /* TLS: waiting on the opposite event */
    cnode *node;      /* NULL for an inbound link whose sender is unknown */
    int inbound;
    int connecting;   /* outbound connect() in progress */
    long long ctime_ms;
    unsigned char *sndbuf;
    size_t sndlen, sndcap;
    unsigned char *rcvbuf;
    size_t rcvlen, rcvcap;
    int writing;      /* a write handler is installed */
} bus_link;

static bus_link **links;
static int nlinks;
static int listen_fds[16], nlisten;

/* ---- links ---------------------------------------------------------- */

int bus_link_connected(const bus_link *l) { return l && !l->connecting && !l->handshaking; }

static void link_readable(eventloop *el, int fd, void *data, int mask);
static void link_writable(eventloop *el, int fd, void *data, int mask);

static bus_link *link_new(int fd, cnode *node, int inbound) {
    bus_link *l = zcalloc(sizeof(*l));
    l->fd = fd;
    l->node = node;
    l->inbound = inbound;
    l->ctime_ms = mstime();
    links = zrealloc(links, sizeof(bus_link *) * (size_t)(nlinks + 1));
    links[nlinks++] = l;
    return l;
}

void bus_free_link(bus_link *l) {
    if (!l) return;
    for (int i = 0; i < nlinks; i++) {
        if (links[i] != l) continue;
        links[i] = links[--nlinks];
        break;
    }
    if (l->node) {
        if (l->node->link == l) l->node->link = NULL;
        if (l->node->inbound == l) l->node->inbound = NULL;
    }
    ev_del_file(server.el, l->fd, EV_READABLE | EV_WRITABLE);
    if (l->cn) conn_free(l->cn);
    close(l->fd);
    zfree(l->sndbuf);
    zfree(l->rcvbuf);
    zfree(l);
}

long long bus_link_bytes(void) {
    long long n = 0;
    for (int i = 0; i < nlinks; i++) n += (long long)(links[i]->sndcap + links[i]->rcvcap);
    return n;
}

static void link_send(bus_link *l, const unsigned char *p, size_t len, int type) {
    if (l->sndlen + len > l->sndcap) {
        l->sndcap = (l->sndlen + len) * 2;
        l->sndbuf = zrealloc(l->sndbuf, l->sndcap);
    }
    memcpy(l->sndbuf + l->sndlen, p, len);
    l->sndlen += len;
    if (type >= 0 && type < MSG_TYPE_COUNT) cl.sent[type]++;
    if (!l->writing && !l->connecting && !l->handshaking) {
        ev_add_file(server.el, l->fd, EV_WRITABLE, link_writable, l);
        l->writing = 1;
    }
}

/* ---- TLS (tls-cluster) ----------------------------------------------------
 *
 * With tls-cluster yes every link, both ways, is a net/conn.h TLS conn
 * from src/tls (the same contexts as client and replication TLS: an
 * outbound link presents tls-client-cert-file, or tls-cert-file when that
 * is not set, and checks the peer against tls-ca-cert-file/-dir; an
 * accepted one asks for a client certificate as tls-auth-clients says).
 * The handshake runs first, on whichever event it waits for; messages
 * queued meanwhile (the first PING or MEET) leave once it is done. The
 * read loop below reads until EAGAIN, so bytes OpenSSL holds decrypted
 * are never left waiting for a socket event. */
static ssize_t link_io_read(bus_link *l, void *buf, size_t len) {
    return l->cn ? conn_read(l->cn, buf, len) : read(l->fd, buf, len);
}

static ssize_t link_io_write(bus_link *l, const void *buf, size_t len) {
    if (!l->cn) return write(l->fd, buf, len);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    return conn_writev(l->cn, &iov, 1);
}

static void link_handshake(eventloop *el, int fd, void *data, int mask) {
    (void)mask;
    bus_link *l = data;
    int r = conn_handshake(l->cn);
    if (r == CONN_FAILED) {
        server_log(LOG_VERBOSE, "Cluster bus TLS handshake failed: %s", conn_last_error(l->cn));
        bus_free_link(l);
        return;
    }
    ev_del_file(el, fd, EV_READABLE | EV_WRITABLE);
    l->writing = 0;
    if (r != CONN_DONE) {
        ev_add_file(el, fd, r == CONN_WANT_READ ? EV_READABLE : EV_WRITABLE, link_handshake, l);
        return;
    }
    l->handshaking = 0;
    ev_add_file(el, fd, EV_READABLE, link_readable, l);
    if (l->sndlen) {
        ev_add_file(el, fd, EV_WRITABLE, link_writable, l);
        l->writing = 1;
    }
    /* The peer's first message may have come with the end of the
     * handshake, already read into OpenSSL: no socket event will tell. */
    if (conn_pending(l->cn)) link_readable(el, fd, l, EV_READABLE);
}

/* Puts a TLS layer on a link whose socket is connected (or accepted).
 * Returns 0 (the link freed) if TLS cannot be set up. */
static int link_start_tls(bus_link *l) {
    l->cn = l->inbound ? tls_conn_accept(l->fd) : tls_conn_connect(l->fd, NULL);
    if (!l->cn) {
        bus_free_link(l);
        return 0;
    }
    l->handshaking = 1;
    ev_del_file(server.el, l->fd, EV_READABLE | EV_WRITABLE);
    l->writing = 0;
    /* The side that speaks first starts at once; the other waits. */
    ev_add_file(server.el, l->fd, l->inbound ? EV_READABLE : EV_WRITABLE, link_handshake, l);
    return 1;
}

static void want_writable(bus_link *l) {
    if (l->writing) return;
    ev_add_file(server.el, l->fd, EV_WRITABLE, link_writable, l);
    l->writing = 1;
}

static void link_writable(eventloop *el, int fd, void *data, int mask) {
    (void)el, (void)mask;
    bus_link *l = data;
    if (l->connecting) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
            bus_free_link(l);
            return;
        }
        l->connecting = 0;
        if (tls_cluster_enabled()) {
            link_start_tls(l);
            return;
        }
        ev_add_file(server.el, fd, EV_READABLE, link_readable, l);
        if (!l->sndlen) {
            ev_del_file(server.el, fd, EV_WRITABLE);
            l->writing = 0;
            return;
        }
    }
    while (l->sndlen) {
        ssize_t n = link_io_write(l, l->sndbuf, l->sndlen);
        if (n <= 0) {
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                /* A TLS write waiting for a read: wait on readability
                 * (link_readable asks for writability again), not spin. */
                if (l->cn && conn_wants(l->cn) == CONN_WANT_READ) {
                    ev_del_file(server.el, fd, EV_WRITABLE);
                    l->writing = 0;
                    l->write_wants_read = 1;
                }
                return;
            }
            bus_free_link(l);
            return;
        }
        memmove(l->sndbuf, l->sndbuf + n, l->sndlen - (size_t)n);
        l->sndlen -= (size_t)n;
    }
    ev_del_file(server.el, fd, EV_WRITABLE);
    l->writing = 0;
    if (l->read_wants_write) { /* a TLS read waited for this event */
        l->read_wants_write = 0;
        link_readable(el, fd, l, EV_READABLE);
    }
}

/* ---- building messages --------------------------------------------------- */

static void build_header(unsigned char *h, int type, size_t totlen) {
    memset(h, 0, HDR_LEN);
    cnode *me = cl.myself, *master = (me->flags & NODE_SLAVE) && me->master ? me->master : NULL;
    memcpy(h, "RCmb", 4);
    put32(h + OFF_TOTLEN, (uint32_t)totlen);
    put16(h + OFF_VER, 1);
    put16(h + OFF_PORT, (unsigned)cluster_my_port());
    put16(h + OFF_TYPE, (unsigned)type);
    put64(h + OFF_CUREPOCH, cl.current_epoch);
    put64(h + OFF_CFGEPOCH, master ? master->config_epoch : me->config_epoch);
    put64(h + OFF_OFFSET, (uint64_t)repl_offset());
    memcpy(h + OFF_SENDER, me->name, NODE_NAMELEN);
    memcpy(h + OFF_SLOTS, master ? master->slots : me->slots, CLUSTER_SLOTS / 8);
    if (master) memcpy(h + OFF_SLAVEOF, master->name, NODE_NAMELEN);
    if (cluster_announce_ip && cluster_announce_ip[0])
        snprintf((char *)h + OFF_MYIP, NODE_IPLEN, "%s", cluster_announce_ip);
    put16(h + OFF_CPORT, (unsigned)me->cport);
    if (tls_cluster_enabled()) put16(h + OFF_PPORT, (unsigned)server.port); /* the plain port, as Redis */
    put16(h + OFF_FLAGS, (unsigned)me->flags);
    h[OFF_STATE] = cl.ok ? 0 : 1;
    h[OFF_MFLAGS] |= (unsigned char)mf_header_flags();
}

static void put_gossip(unsigned char *g, const cnode *n) {
    memset(g, 0, GOSSIP_LEN);
    memcpy(g, n->name, NODE_NAMELEN);
    put32(g + 40, (uint32_t)(n->ping_sent_ms / 1000));
    put32(g + 44, (uint32_t)(n->pong_received_ms / 1000));
    snprintf((char *)g + 48, NODE_IPLEN, "%s", n->ip);
    put16(g + 94, (unsigned)n->port);
    put16(g + 96, (unsigned)n->cport);
    put16(g + 98, (unsigned)n->flags);
}

static int gossip_wanted(const cnode *n) {
    if (n == cl.myself || (n->flags & (NODE_HANDSHAKE | NODE_NOADDR))) return 0;
    return n->link || n->numslots; /* Redis's rule: skip disconnected nodes with no slots */
}

/* PING, PONG or MEET: a tenth of the nodes (at least 3) at random, every
 * PFAIL node, and the hostname extension when one is announced. */
void bus_send_ping(bus_link *l, int type) {
    int wanted = cl.nnodes / 10;
    if (wanted < 3) wanted = 3;
    if (wanted > cl.nnodes - 2) wanted = cl.nnodes - 2;
    int pfail = 0;
    for (int i = 0; i < cl.nnodes; i++)
        if (cl.nodes[i]->flags & NODE_PFAIL) pfail++;
    int maxcount = (wanted > 0 ? wanted : 0) + pfail;
    size_t hostlen = cluster_announce_hostname ? strlen(cluster_announce_hostname) : 0;
    size_t extlen = hostlen ? 8 + ((hostlen + 1 + 7) / 8) * 8 : 0;
    size_t cap = HDR_LEN + (size_t)maxcount * GOSSIP_LEN + extlen;
    unsigned char *buf = zcalloc(cap);
    int count = 0;
    unsigned char chosen[4096] = {0};
    for (int tries = 0; count < wanted && tries < wanted * 3 && cl.nnodes; tries++) {
        int i = (int)random_below((uint64_t)cl.nnodes);
        cnode *n = cl.nodes[i];
        if (!gossip_wanted(n) || (n->flags & NODE_PFAIL) || (i < 4096 && chosen[i])) continue;
        if (i < 4096) chosen[i] = 1;
        put_gossip(buf + HDR_LEN + (size_t)count++ * GOSSIP_LEN, n);
    }
    for (int i = 0; i < cl.nnodes && count < maxcount; i++) {
        cnode *n = cl.nodes[i];
        if ((n->flags & NODE_PFAIL) && !(n->flags & (NODE_HANDSHAKE | NODE_NOADDR)))
            put_gossip(buf + HDR_LEN + (size_t)count++ * GOSSIP_LEN, n);
    }
    size_t totlen = HDR_LEN + (size_t)count * GOSSIP_LEN;
    if (extlen) {
        unsigned char *e = buf + totlen;
        put32(e, (uint32_t)extlen);
        put16(e + 4, EXT_HOSTNAME);
        memcpy(e + 8, cluster_announce_hostname, hostlen);
        totlen += extlen;
    }
    unsigned char hdr[HDR_LEN];
    build_header(hdr, type, totlen);
    put16(hdr + OFF_COUNT, (unsigned)count);
    if (extlen) {
        put16(hdr + OFF_EXTENSIONS, 1);
        hdr[OFF_MFLAGS] |= MFLAG0_EXT_DATA;
    }
    memcpy(buf, hdr, HDR_LEN);
    if (type == MSG_PING && l->node && !l->node->ping_sent_ms) l->node->ping_sent_ms = mstime();
    link_send(l, buf, totlen, type);
    zfree(buf);
}

static void broadcast(const unsigned char *msg, size_t len, int type) {
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if (n == cl.myself || !n->link || (n->flags & (NODE_HANDSHAKE | NODE_NOADDR))) continue;
        link_send(n->link, msg, len, type);
    }
}

/* A message that is its header only (FAILOVER_AUTH_REQUEST / ACK,
 * MFSTART). */
void bus_send_bare(bus_link *l, int type, int mflags0) {
    if (!l) return;
    unsigned char msg[HDR_LEN];
    build_header(msg, type, sizeof(msg));
    msg[OFF_MFLAGS] |= (unsigned char)mflags0;
    link_send(l, msg, sizeof(msg), type);
}

void bus_broadcast_bare(int type, int mflags0) {
    unsigned char msg[HDR_LEN];
    build_header(msg, type, sizeof(msg));
    msg[OFF_MFLAGS] |= (unsigned char)mflags0;
    broadcast(msg, sizeof(msg), type);
}

void bus_broadcast_pong(void) {
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if (n == cl.myself || !n->link || (n->flags & (NODE_HANDSHAKE | NODE_NOADDR))) continue;
        bus_send_ping(n->link, MSG_PONG);
    }
}

void bus_broadcast_fail(cnode *failing) {
    unsigned char msg[HDR_LEN + NODE_NAMELEN];
    build_header(msg, MSG_FAIL, sizeof(msg));
    memcpy(msg + HDR_LEN, failing->name, NODE_NAMELEN);
    broadcast(msg, sizeof(msg), MSG_FAIL);
}

static void send_update(bus_link *l, const cnode *owner) {
    if (!l) return;
    unsigned char msg[HDR_LEN + 8 + NODE_NAMELEN + CLUSTER_SLOTS / 8];
    build_header(msg, MSG_UPDATE, sizeof(msg));
    put64(msg + HDR_LEN, owner->config_epoch);
    memcpy(msg + HDR_LEN + 8, owner->name, NODE_NAMELEN);
    memcpy(msg + HDR_LEN + 8 + NODE_NAMELEN, owner->slots, CLUSTER_SLOTS / 8);
    link_send(l, msg, sizeof(msg), MSG_UPDATE);
}

/* PUBLISH goes to every node; SPUBLISH to the nodes of our shard (our
 * master or our replicas). */
void bus_broadcast_publish(const kstr channel, const kstr message, int sharded) {
    size_t clen = kstr_len(channel), mlen = kstr_len(message), len = HDR_LEN + 8 + clen + mlen;
    unsigned char *msg = zmalloc(len);
    int type = sharded ? MSG_PUBLISHSHARD : MSG_PUBLISH;
    build_header(msg, type, len);
    put32(msg + HDR_LEN, (uint32_t)clen);
    put32(msg + HDR_LEN + 4, (uint32_t)mlen);
    memcpy(msg + HDR_LEN + 8, channel, clen);
    memcpy(msg + HDR_LEN + 8 + clen, message, mlen);
    if (!sharded) {
        broadcast(msg, len, type);
    } else {
        cnode *master = (cl.myself->flags & NODE_SLAVE) ? cl.myself->master : cl.myself;
        for (int i = 0; master && i < cl.nnodes; i++) {
            cnode *n = cl.nodes[i];
            if (n == cl.myself || !n->link) continue;
            if (n == master || n->master == master) link_send(n->link, msg, len, type);
        }
    }
    zfree(msg);
}

/* ---- connecting ---------------------------------------------------------- */

static void connect_node(cnode *n) {
    int fd = sock_connect_nonblock(n->ip, n->cport, SOCK_NUMERIC_HOST);
    if (fd < 0) return;
    bus_link *l = link_new(fd, n, 0);
    n->link = l;
    l->connecting = 1;
    ev_add_file(server.el, fd, EV_WRITABLE, link_writable, l);
    l->writing = 1;
    /* The first message: MEET when CLUSTER MEET asked for it, else PING;
     * both are queued now and leave once connected. */
    long long old_ping = n->ping_sent_ms;
    bus_send_ping(l, (n->flags & NODE_MEET) ? MSG_MEET : MSG_PING);
    if (old_ping) n->ping_sent_ms = old_ping;
    n->flags &= ~NODE_MEET;
}

static void accept_handler(eventloop *el, int fd, void *data, int mask) {
    (void)el, (void)data, (void)mask;
    for (int i = 0; i < 100; i++) {
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) return;
        int one = 1;
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        bus_link *l = link_new(cfd, NULL, 1);
        if (tls_cluster_enabled()) link_start_tls(l);
        else ev_add_file(server.el, cfd, EV_READABLE, link_readable, l);
    }
}

static int listen_on(const char *addr, int port) {
    if (addr[0] == '-') addr++;
    struct addrinfo hints = {.ai_family = strchr(addr, ':') ? AF_INET6 : AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST},
                    *res;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    if (getaddrinfo(!strcmp(addr, "*") ? NULL : addr, portstr, &hints, &res) != 0) return -1;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), yes = 1;
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
        if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 511) < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int bus_listen(void) {
    int port = cluster_listen_port();
    int count = server.bindaddr_count;
    for (int i = 0; i < (count ? count : 1) && nlisten < 16; i++) {
        const char *addr = count ? server.bindaddr[i] : "*";
        int fd = listen_on(addr, port);
        if (fd < 0) {
            if (addr[0] == '-') continue;
            return -1;
        }
        listen_fds[nlisten++] = fd;
        ev_add_file(server.el, fd, EV_READABLE, accept_handler, NULL);
    }
    return nlisten ? 0 : -1;
}

/* ---- receiving --------------------------------------------------------- */

/* The length a message of this type must have, from its header and body
 * (0: malformed). */
static size_t expected_length(const unsigned char *m, size_t totlen) {
    int type = (int)get16(m + OFF_TYPE);
    if (type == MSG_PING || type == MSG_PONG || type == MSG_MEET) {
        size_t len = HDR_LEN + (size_t)get16(m + OFF_COUNT) * GOSSIP_LEN;
        if (m[OFF_MFLAGS] & MFLAG0_EXT_DATA) {
            unsigned exts = get16(m + OFF_EXTENSIONS);
            for (unsigned i = 0; i < exts; i++) {
                if (len + 8 > totlen) return 0;
                uint32_t elen = get32(m + len);
                if (elen < 8 || elen % 8) return 0;
                len += elen;
            }
        }
        return len;
    }
    switch (type) {
    case MSG_FAIL: return HDR_LEN + NODE_NAMELEN;
    case MSG_PUBLISH:
    case MSG_PUBLISHSHARD:
        if (totlen < HDR_LEN + 8) return 0;
        return HDR_LEN + 8 + (size_t)get32(m + HDR_LEN) + get32(m + HDR_LEN + 4);
    case MSG_UPDATE: return HDR_LEN + 8 + NODE_NAMELEN + CLUSTER_SLOTS / 8;
    case MSG_FAILOVER_AUTH_REQUEST:
    case MSG_FAILOVER_AUTH_ACK:
    case MSG_MFSTART: return HDR_LEN;
    default: return totlen; /* MODULE and newer types: not checked, ignored */
    }
}

static void peer_ip(int fd, char *out, size_t size, int local) {
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);
    out[0] = '\0';
    if ((local ? getsockname(fd, (struct sockaddr *)&sa, &len) : getpeername(fd, (struct sockaddr *)&sa, &len)) < 0)
        return;
    if (sa.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, out, (socklen_t)size);
    else inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, out, (socklen_t)size);
}

/* The sender's IP: the one it announces, else the link's peer address. */
static void sender_ip(const bus_link *l, const unsigned char *m, char *out) {
    if (m[OFF_MYIP]) {
        memcpy(out, m + OFF_MYIP, NODE_IPLEN);
        out[NODE_IPLEN - 1] = '\0';
    } else {
        peer_ip(l->fd, out, NODE_IPLEN, 0);
    }
}

int cluster_start_handshake(const char *ip, int port, int cport) {
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1) return -1;
    if (port <= 0 || port > 65535 || cport <= 0 || cport > 65535) return -1;
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if ((n->flags & NODE_HANDSHAKE) && !strcasecmp(n->ip, ip) && n->port == port && n->cport == cport) return 0;
    }
    cnode *n = node_create(NULL, NODE_HANDSHAKE | NODE_MEET);
    snprintf(n->ip, sizeof(n->ip), "%s", ip);
    n->port = port;
    n->cport = cport;
    return 0;
}

/* A PING, PONG or MEET on link l. */
static int process_ping_family(bus_link *l, cnode *sender, const unsigned char *m, int type) {
    char ip[NODE_IPLEN];
    long long now = mstime();
    if (type == MSG_MEET || (!cl.myself->ip[0] && !(cluster_announce_ip && cluster_announce_ip[0]))) {
        char mine[NODE_IPLEN];
        peer_ip(l->fd, mine, sizeof(mine), 1);
        if (mine[0] && !(cluster_announce_ip && cluster_announce_ip[0]) && strcmp(mine, cl.myself->ip)) {
            snprintf(cl.myself->ip, sizeof(cl.myself->ip), "%s", mine);
            cluster_note_change(1);
        }
    }
    if (!sender && type == MSG_MEET) {
        sender_ip(l, m, ip);
        cnode *n = node_create(NULL, NODE_HANDSHAKE);
        snprintf(n->ip, sizeof(n->ip), "%s", ip);
        n->port = (int)get16(m + OFF_PORT);
        n->cport = (int)get16(m + OFF_CPORT);
        process_gossip(NULL, m);
        cluster_note_change(1);
    }
    if (type == MSG_PING || type == MSG_MEET) bus_send_ping(l, MSG_PONG);
    if (!l->inbound && l->node) {
        cnode *n = l->node;
        if (n->flags & NODE_HANDSHAKE) {
            if (sender) {
                /* We knew it under its real name already: drop the
                 * handshake node (its address is the one we knew). */
                node_delete(n);
                return -1;
            }
            node_rename(n, (const char *)m + OFF_SENDER);
            n->flags &= ~NODE_HANDSHAKE;
            n->flags |= (int)get16(m + OFF_FLAGS) & (NODE_MASTER | NODE_SLAVE);
            server_log(LOG_VERBOSE, "Handshake with node %.40s completed.", n->name);
            cluster_note_change(1);
            sender = n;
        } else if (memcmp(n->name, m + OFF_SENDER, NODE_NAMELEN)) {
            /* Another node answers at that address now. */
            n->flags |= NODE_NOADDR;
            n->ip[0] = '\0';
            n->port = n->cport = 0;
            bus_free_link(l);
            cluster_note_change(1);
            return -1;
        }
        if (type == MSG_PONG) {
            n->pong_received_ms = now;
            n->ping_sent_ms = 0;
            if (n->flags & NODE_PFAIL) {
                n->flags &= ~NODE_PFAIL;
                cluster_note_change(0);
            }
            clear_failure_if_needed(n);
        }
    }
    if (!sender || (sender->flags & NODE_HANDSHAKE)) return 0;
    if (type == MSG_PING && l->inbound) {
        sender_ip(l, m, ip);
        int port = (int)get16(m + OFF_PORT), cport = (int)get16(m + OFF_CPORT);
        if (ip[0] && (strcmp(ip, sender->ip) || port != sender->port || cport != sender->cport)) {
            snprintf(sender->ip, sizeof(sender->ip), "%s", ip);
            sender->port = port;
            sender->cport = cport;
            if (sender->link) bus_free_link(sender->link);
            cluster_note_change(1);
        }
    }
    update_role(sender, m);
    /* nofailover is the sender's to say (replica ranks depend on it). */
    int nofailover = (int)get16(m + OFF_FLAGS) & NODE_NOFAILOVER;
    if ((sender->flags & NODE_NOFAILOVER) != nofailover) {
        sender->flags = (sender->flags & ~NODE_NOFAILOVER) | nofailover;
        cluster_note_change(1);
    }
    uint64_t epoch = get64(m + OFF_CFGEPOCH);
    if ((sender->flags & NODE_MASTER) && memcmp(sender->slots, m + OFF_SLOTS, CLUSTER_SLOTS / 8))
        update_slots_from(sender, epoch, m + OFF_SLOTS);
    /* It claims a slot that a node with a greater epoch owns: tell it. */
    if (sender->flags & NODE_MASTER) {
        for (int j = 0; j < CLUSTER_SLOTS; j++) {
            if (!bit_test(m + OFF_SLOTS, j) || cl.slots[j] == sender || !cl.slots[j]) continue;
            if (cl.slots[j]->config_epoch > epoch) {
                send_update(sender->link ? sender->link : l, cl.slots[j]);
                break;
            }
        }
    }
    handle_epoch_collision(sender);
    process_gossip(sender, m);
    process_extensions(sender, m);
    return 0;
}

static void deliver_publish(const unsigned char *m, int sharded) {
    uint32_t clen = get32(m + HDR_LEN), mlen = get32(m + HDR_LEN + 4);
    const char *ch = (const char *)m + HDR_LEN + 8;
    if (sharded) pubsub_shard_publish(ch, clen, ch + clen, mlen);
    else pubsub_publish(ch, clen, ch + clen, mlen);
}

static int drop_filter = -1;

void cluster_debug_drop_packets(int type) { drop_filter = type; }

/* One complete message. Returns -1 when the link was freed. */
static int process_message(bus_link *l, const unsigned char *m, size_t totlen) {
    int type = (int)get16(m + OFF_TYPE);
    if (get16(m + OFF_VER) != 1) return 0;
    if (type == drop_filter) {
        server_log(LOG_WARNING, "Dropping packet that matches debug drop filter");
        return 0;
    }
    if (expected_length(m, totlen) != totlen) return 0;
    if (type < MSG_TYPE_COUNT) cl.received[type]++;
    cnode *sender = node_lookup((const char *)m + OFF_SENDER, NODE_NAMELEN);
    if (sender && (sender->flags & NODE_HANDSHAKE)) sender = NULL;
    if (sender) {
        sender->data_received_ms = mstime();
        if (l->inbound && !l->node) {
            l->node = sender;
            if (sender->inbound && sender->inbound != l) bus_free_link(sender->inbound);
            sender->inbound = l;
        }
        uint64_t cur = get64(m + OFF_CUREPOCH), cfg = get64(m + OFF_CFGEPOCH);
        if (cur > cl.current_epoch) {
            cl.current_epoch = cur;
            cluster_note_change(1);
        }
        static const char null_name[NODE_NAMELEN];
        if (cfg > sender->config_epoch && !memcmp(m + OFF_SLAVEOF, null_name, NODE_NAMELEN)) {
            sender->config_epoch = cfg;
            cluster_note_change(2);
        }
        sender->repl_offset = (long long)get64(m + OFF_OFFSET);
        mf_note_master_offset(sender, m[OFF_MFLAGS] & 1);
    }
    switch (type) {
    case MSG_PING:
    case MSG_PONG:
    case MSG_MEET: return process_ping_family(l, sender, m, type);
    case MSG_FAIL:
        if (sender) {
            cnode *f = node_lookup((const char *)m + HDR_LEN, NODE_NAMELEN);
            if (f && !(f->flags & (NODE_FAIL | NODE_MYSELF))) {
                server_log(LOG_NOTICE, "FAIL message received from %.40s about %.40s", sender->name, f->name);
                f->flags = (f->flags & ~NODE_PFAIL) | NODE_FAIL;
                f->fail_time_ms = mstime();
                cluster_note_change(1);
            }
        }
        return 0;
    case MSG_PUBLISH:
    case MSG_PUBLISHSHARD:
        if (sender) deliver_publish(m, type == MSG_PUBLISHSHARD);
        return 0;
    case MSG_UPDATE:
        if (sender) {
            cnode *n = node_lookup((const char *)m + HDR_LEN + 8, NODE_NAMELEN);
            uint64_t epoch = get64(m + HDR_LEN);
            if (n && n->config_epoch < epoch) {
                n->config_epoch = epoch;
                update_slots_from(n, epoch, m + HDR_LEN + 8 + NODE_NAMELEN);
            }
        }
        return 0;
    case MSG_FAILOVER_AUTH_REQUEST:
        if (sender)
            failover_auth_requested(sender, m, get64(m + OFF_CUREPOCH), get64(m + OFF_CFGEPOCH),
                                    (m[OFF_MFLAGS] & 2) != 0);
        return 0;
    case MSG_FAILOVER_AUTH_ACK:
        if (sender) failover_auth_acked(sender, get64(m + OFF_CUREPOCH));
        return 0;
    case MSG_MFSTART:
        if (sender) mf_on_mfstart(sender, l);
        return 0;
    default: return 0; /* MODULE */
    }
}

static void link_readable(eventloop *el, int fd, void *data, int mask) {
    (void)el, (void)mask;
    bus_link *l = data;
    if (l->write_wants_read) {
        l->write_wants_read = 0;
        if (l->sndlen) want_writable(l);
    }
    for (;;) {
        size_t want = 8;
        if (l->rcvlen >= 8) {
            if (memcmp(l->rcvbuf, "RCmb", 4) || get32(l->rcvbuf + 4) < HDR_LEN || get32(l->rcvbuf + 4) > (1u << 30)) {
                bus_free_link(l);
                return;
            }
            want = get32(l->rcvbuf + 4);
        }
        if (l->rcvcap < want) {
            l->rcvcap = want < 4096 ? 4096 : want;
            l->rcvbuf = zrealloc(l->rcvbuf, l->rcvcap);
        }
        ssize_t n = link_io_read(l, l->rcvbuf + l->rcvlen, want - l->rcvlen);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            bus_free_link(l);
            return;
        }
        if (n < 0) {
            if (l->cn && conn_wants(l->cn) == CONN_WANT_WRITE) { /* retried from link_writable */
                l->read_wants_write = 1;
                want_writable(l);
            }
            return;
        }
        l->rcvlen += (size_t)n;
        if (l->rcvlen < want || want == 8) continue;
        size_t totlen = l->rcvlen;
        l->rcvlen = 0;
        if (process_message(l, l->rcvbuf, totlen) < 0) return;
        if (l->rcvcap > 65536) {
            zfree(l->rcvbuf);
            l->rcvbuf = NULL;
            l->rcvcap = 0;
        }
    }
}

/* ---- cron (10 times a second) ----------------------------------------- */

static void check_node(cnode *n, long long now) {
    long long timeout = cluster_node_timeout;
    bus_link *l = n->link;
    if (l && now - l->ctime_ms > timeout && n->ping_sent_ms && now - n->ping_sent_ms > timeout / 2 &&
        now - n->data_received_ms > timeout / 2) {
        bus_free_link(l); /* reconnect: the link may be stuck */
        return;
    }
    if (l && !l->connecting && n->ping_sent_ms == 0 && now - n->pong_received_ms > timeout / 2) {
        bus_send_ping(l, MSG_PING);
        return;
    }
    if (!n->ping_sent_ms) return;
    long long delay = now - n->ping_sent_ms, data_delay = now - n->data_received_ms;
    if ((delay < data_delay ? delay : data_delay) > timeout && !(n->flags & (NODE_PFAIL | NODE_FAIL))) {
        server_log(LOG_VERBOSE, "*** NODE %.40s possibly failing", n->name);
        n->flags |= NODE_PFAIL;
        cluster_note_change(0);
    }
}

static void ping_oldest_of_five(void) {
    cnode *best = NULL;
    for (int k = 0; k < 5 && cl.nnodes > 1; k++) {
        cnode *n = cl.nodes[random_below((uint64_t)cl.nnodes)];
        if (n == cl.myself || !n->link || n->link->connecting || n->ping_sent_ms ||
            (n->flags & (NODE_HANDSHAKE | NODE_NOADDR)))
            continue;
        if (!best || n->pong_received_ms < best->pong_received_ms) best = n;
    }
    if (best) bus_send_ping(best->link, MSG_PING);
}

/* cluster-link-sendbuf-limit: a link whose send buffer outgrew the limit
 * (its peer stopped reading) is freed, as Redis does; an outbound one is
 * reconnected by the next tick. Buffers mostly empty are shrunk, so that
 * one burst does not count against a link forever. */
static void check_send_buffers(void) {
    for (int i = nlinks - 1; i >= 0; i--) {
        bus_link *l = links[i];
        if (l->sndcap / 4 > l->sndlen && l->sndcap > 4096) {
            l->sndcap = l->sndlen > 1024 ? l->sndlen : 1024;
            l->sndbuf = zrealloc(l->sndbuf, l->sndcap);
        }
        if (!cluster_link_sendbuf_limit || (long long)l->sndcap <= cluster_link_sendbuf_limit) continue;
        server_log(LOG_WARNING,
                   "Freeing cluster link(%s node %.40s, used memory: %zu) due to exceeding send buffer memory limit.",
                   l->inbound ? "from" : "to", l->node ? l->node->name : "", l->sndcap);
        bus_free_link(l);
        cl.links_buffer_limit_exceeded++;
    }
}

void bus_cron(void) {
    static long long last_run, iteration;
    long long now = mstime();
    if (now - last_run < 100) return;
    last_run = now;
    iteration++;
    long long handshake_timeout = cluster_node_timeout > 1000 ? cluster_node_timeout : 1000;
    for (int i = cl.nnodes - 1; i >= 0; i--) {
        cnode *n = cl.nodes[i];
        if (n == cl.myself || (n->flags & NODE_NOADDR)) continue;
        if ((n->flags & NODE_HANDSHAKE) && now - n->ctime_ms > handshake_timeout) {
            node_delete(n);
            continue;
        }
        if (!n->link) connect_node(n);
    }
    if (iteration % 10 == 0) ping_oldest_of_five();
    mf_cron();
    failover_cron();
    replica_migration_cron();
    for (int i = 0; i < cl.nnodes; i++) {
        cnode *n = cl.nodes[i];
        if (n == cl.myself || (n->flags & (NODE_NOADDR | NODE_HANDSHAKE))) continue;
        check_node(n, now);
    }
    check_send_buffers();
    /* Inbound links nobody claimed within the node timeout are dropped. */
    for (int i = nlinks - 1; i >= 0; i--)
        if (links[i]->inbound && !links[i]->node && now - links[i]->ctime_ms > handshake_timeout * 4)
            bus_free_link(links[i]);
    cl.todo_update_state = 1;
}

/* ---- CLUSTER LINKS ------------------------------------------------------ */

int bus_links_count(void) { return nlinks; }

void bus_links_foreach(void (*fn)(void *priv, const char *dir, const cnode *n, long long ctime, long long events,
                                  size_t sndlen, size_t sndcap),
                       void *priv) {
    for (int i = 0; i < nlinks; i++) {
        bus_link *l = links[i];
        if (!l->node) continue;
        long long ev = 0;
        int mask = ev_get_file_mask(server.el, l->fd);
        if (mask & EV_READABLE) ev |= 1;
        if (mask & EV_WRITABLE) ev |= 2;
        fn(priv, l->inbound ? "from" : "to", l->node, l->ctime_ms, ev, l->sndlen, l->sndcap);
    }
}
