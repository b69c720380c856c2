/*
 * bus_internal.h: what the two halves of the cluster bus share, and
 * nothing more (private to src/cluster).
 *
 *   bus.c         links, the wire (building, sending, receiving, TLS),
 *                 message dispatch, the bus cron and CLUSTER LINKS;
 *   bus_gossip.c  what a received message changes in this node's view:
 *                 gossip sections, failure reports (PFAIL -> FAIL), slot
 *                 ownership by config epoch, epoch collisions, roles and
 *                 the ping extensions.
 * The split keeps the rules a reader checks against the cluster spec in
 * one short file, apart from the socket plumbing around them.
 *
 * The message layout is Redis 7.0's clusterMsg, byte offsets into the
 * packed header (all integers big-endian): Keel never overlays a C struct
 * on the wire, so neither padding nor host byte order can leak into it.
 */
#ifndef KEEL_CLUSTER_BUS_INTERNAL_H
#define KEEL_CLUSTER_BUS_INTERNAL_H

#include <stdint.h>

#include "cluster/cluster_internal.h"

#define HDR_LEN 2256
#define GOSSIP_LEN 104
#define OFF_TOTLEN 4
#define OFF_VER 8
#define OFF_PORT 10
#define OFF_TYPE 12
#define OFF_COUNT 14
#define OFF_CUREPOCH 16
#define OFF_CFGEPOCH 24
#define OFF_OFFSET 32
#define OFF_SENDER 40
#define OFF_SLOTS 80
#define OFF_SLAVEOF 2128
#define OFF_MYIP 2168
#define OFF_EXTENSIONS 2214
#define OFF_PPORT 2246
#define OFF_CPORT 2248
#define OFF_FLAGS 2250
#define OFF_STATE 2252
#define OFF_MFLAGS 2253
#define MFLAG0_EXT_DATA 4
#define EXT_HOSTNAME 0

/* ---- big-endian fields -------------------------------------------------- */

static inline void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v; }
static inline void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (24 - 8 * i));
}
static inline void put64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (56 - 8 * i));
}
static inline unsigned get16(const unsigned char *p) { return (unsigned)p[0] << 8 | p[1]; }
static inline uint32_t get32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t get64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

/* ---- bus_gossip.c: a received message's effects ------------------------ */

/* A node heard from again: its FAIL flag goes when the rules allow. */
void clear_failure_if_needed(cnode *n);
/* The gossip section of a PING/PONG/MEET from sender. */
void process_gossip(cnode *sender, const unsigned char *m);
/* The ping extensions (hostname...) after the gossip section. */
void process_extensions(cnode *sender, const unsigned char *m);
/* sender claims these slots at this config epoch: take them when newer. */
void update_slots_from(cnode *sender, uint64_t epoch, const unsigned char *slots);
/* Two masters with one config epoch: the smaller node id bumps its own. */
void handle_epoch_collision(cnode *sender);
/* sender's role (master, or replica of the node its header names). */
void update_role(cnode *sender, const unsigned char *m);

#endif
