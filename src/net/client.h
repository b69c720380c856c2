/*
 * client: one connection. Reading the socket into the query buffer,
 * parsing requests, queuing replies and writing them back.
 *
 * Replies are queued in a list of blocks (16 KB, or larger for one big
 * reply) allocated on demand, so an idle connection costs no reply
 * memory. Replies are not written from inside commands: clients with
 * pending output are collected and flushed once per event-loop iteration,
 * which turns a pipeline of N commands into one write.
 *
 * How much a client may hold (and what happens when it holds too much:
 * backpressure, output buffer limits, client eviction) is clientmem.h's
 * business; this file only calls it at the points where memory changes.
 */
#ifndef KEEL_CLIENT_H
#define KEEL_CLIENT_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>
#include "lib/kstr.h"
#include "net/reqparse.h"

struct db;
struct command;
struct conn;

#define CLIENT_CLOSE_AFTER_REPLY (1 << 0)
#define CLIENT_CLOSE_ASAP (1 << 1)
#define CLIENT_PENDING_WRITE (1 << 2)
#define CLIENT_UNIX_SOCKET (1 << 3)
#define CLIENT_NO_TOUCH (1 << 4)
#define CLIENT_NO_EVICT (1 << 5)
#define CLIENT_EXECUTING (1 << 6)
#define CLIENT_FAKE (1 << 7)   /* no socket: used for loading, scripts, tests */
#define CLIENT_AUTHENTICATED (1 << 8)
#define CLIENT_BLOCKED (1 << 9)  /* waiting on keys: input not processed */
/* Hooks for features not written yet: whoever implements pub/sub, MONITOR
 * and replication sets these. They select the client-output-buffer-limit
 * class and exempt the client from backpressure (its output does not come
 * from its own commands, so holding its commands back would not help). */
#define CLIENT_PUBSUB (1 << 10)
#define CLIENT_MONITOR (1 << 11)
#define CLIENT_REPLICA (1 << 12)
/* Backpressure (clientmem.h): commands held back until output drains. */
#define CLIENT_OUTPUT_PAUSED (1 << 13)
/* Paused and its output stalled: the socket is read again (requests are
 * buffered, not run) so a client blocked writing cannot deadlock us. */
#define CLIENT_PAUSED_READING (1 << 14)
/* CLIENT REPLY OFF / SKIP: replies are dropped (OFF: until ON; SKIP: for
 * the next command only, which SKIP_NEXT turns into once the CLIENT REPLY
 * SKIP command itself is done). */
#define CLIENT_REPLY_OFF (1 << 15)
#define CLIENT_REPLY_SKIP (1 << 16)
#define CLIENT_REPLY_SKIP_NEXT (1 << 17)
/* Transactions (core/multi.h): inside MULTI; a watched key changed; a
 * command was rejected while queueing (EXEC will abort). */
#define CLIENT_MULTI (1 << 18)
#define CLIENT_DIRTY_CAS (1 << 19)
#define CLIENT_DIRTY_EXEC (1 << 20)
/* Waiting for a slow script it sent (script/run.c): not read from nor
 * written to until the script ends, while other clients are served. */
#define CLIENT_PROTECTED (1 << 21)
/* Writing a push (Pub/Sub, tracking): CLIENT REPLY OFF/SKIP do not
 * silence it, as in Redis. Set only around the write. */
#define CLIENT_PUSHING (1 << 22)
/* The master's stream applied on a replica (repl/replica.c): its writes
 * are not refused, keys it reads do not expire (repl/repl.h). */
#define CLIENT_MASTER (1 << 23)
/* Connections with a transport layer (TLS, net/conn.h): bytes decrypted
 * and waiting inside it (on the buffered list); a read that must wait for
 * writability; a write that must wait for readability. */
#define CLIENT_CONN_BUFFERED (1 << 24)
#define CLIENT_READ_WANTS_WRITE (1 << 25)
#define CLIENT_WRITE_WANTS_READ (1 << 26)
/* Cluster (cluster/cluster.h): ASKING was sent (the next command may use
 * a slot being imported); READONLY (reads served by a replica). */
#define CLIENT_ASKING (1 << 27)
#define CLIENT_READONLY (1 << 28)

typedef struct reply_block {
    struct reply_block *next;
    size_t size, used;
    int sealed;          /* holds a deferred length: append to a new block */
    char data[];
} reply_block;

/* A reply block with its header is exactly 16 KB, one of jemalloc's size
 * classes: 16 KB of data plus the header would land in the 20 KB class
 * and waste a fifth of every slow reader's output memory. Replies larger
 * than a block get a block of their own size. */
#define REPLY_BLOCK_ALLOC (16 * 1024)
#define REPLY_BLOCK_SIZE (REPLY_BLOCK_ALLOC - sizeof(reply_block))

typedef struct client {
    uint64_t id;
    int fd;
    int flags;
    struct conn *conn;          /* NULL for a plain socket (net/conn.h) */
    kstr cert_cn;               /* CN of the TLS client certificate, NULL if none */
    int resp;                   /* protocol version: 2 or 3 */
    struct db *db;
    kstr name;                  /* CLIENT SETNAME, NULL if none */
    kstr lib_name, lib_ver;
    struct acl_user *user;      /* owned by acl/: NULL is the default user */

    kstr querybuf;
    size_t qb_pos;              /* bytes of querybuf already parsed */
    reqparse parser;
    int argc;
    kstr *argv;
    struct command *cmd, *lastcmd;
    void *bstate;               /* owned by core/blocking.c while blocked */
    void *mstate;               /* owned by core/multi.c: queue and watches */
    void *pubsub;               /* owned by pubsub/pubsub.c: subscriptions */
    void *tracking;             /* owned by pubsub/tracking.c: CLIENT TRACKING */
    void *repl;                 /* owned by repl/: a replica's state */

    reply_block *reply_head, *reply_tail;
    size_t reply_bytes;         /* bytes queued, not yet written */
    size_t sent_in_head;        /* bytes of reply_head already written */
    size_t reply_mem;           /* allocation of all reply blocks */

    /* Memory accounting and limits (clientmem.c). */
    size_t mem_other;           /* non-reply memory counted in the total */
    size_t parser_mem;          /* allocation of parser.argv[0..parser_mem_argc) */
    int parser_mem_argc;
    size_t qbuf_peak;           /* largest query buffer use this cron period */
    long long obuf_soft_since_ms; /* over the soft limit since, 0 = not */
    long long paused_since_ms;  /* backpressure started (or last write) */
    long long last_write_ms;    /* last time the socket took bytes */
    unsigned long long net_input_bytes, net_output_bytes;

    long long ctime_ms;         /* connection time */
    long long last_interaction_ms;
    char addr[64];              /* "ip:port" of the peer */
    char laddr[64];             /* local "ip:port" */

    struct client *prev, *next; /* all clients list */
    struct client *pending_next;/* clients with output to flush */
    struct client *buffered_next;/* clients with CLIENT_CONN_BUFFERED */
} client;

/* Create a client for an accepted socket (already non-blocking). */
client *client_create(int fd, int is_unix);
/* A client without a socket (for internal execution). */
client *client_create_fake(void);
void client_free(client *c);
/* Close at the next safe point (not while its command is running). */
void client_close_async(client *c);

/* Feed bytes as if read from the socket (fake clients, tests). */
void client_process_input(client *c);

/* Write pending replies of all clients; installs write handlers for
 * sockets that could not take everything. Called before sleeping. */
void clients_flush_pending_writes(void);
/* Free clients flagged CLOSE_ASAP. */
void clients_free_closed(void);

/* Serve other clients while a long command (a slow script) runs:
 * their requests are read and answered (dispatch refuses most with
 * -BUSY), their replies written. Timers (cron) do not run. */
void clients_process_while_busy(void);
void client_protect(client *c);
void client_unprotect(client *c);

/* Drop every reply queued for c (a fake client whose reply was read). */
void client_discard_replies(client *c);

/* write(2) on c's connection, through TLS when it has it (replication
 * streams written outside the reply list). */
ssize_t client_write_bytes(client *c, const void *buf, size_t len);

/* Replace argv (the command handlers own c->argv while running). */
void client_free_argv(client *c);

/* "id=.. addr=.. ..." line of CLIENT LIST / CLIENT INFO. */
kstr client_info_string(kstr s, client *c);

/* Event-loop handlers. */
void client_accept_tcp(void *el, int fd, void *data, int mask);
void client_accept_unix(void *el, int fd, void *data, int mask);
/* The TLS port's: the client is created at once, and speaks (and is
 * checked by protected mode) once its handshake is done. */
void client_accept_tls(void *el, int fd, void *data, int mask);

/* Before sleeping: read what TLS connections hold already decrypted,
 * which no socket event will announce. */
void clients_read_buffered_input(void);

/* All memory a client holds (struct, buffers, argv): tot-mem. */
size_t client_memory_usage(const client *c);
/* Free c's buffers now and close it at the next safe point (output
 * buffer limits, client eviction). Safe unless c is executing. */
void client_drop_and_close(client *c);
/* Backpressure stalled (no write progress): read the socket again. */
void client_read_while_paused(client *c);
/* Run c's parsed command, postponed by CLIENT PAUSE, then whatever it
 * pipelined behind it. */
void client_run_postponed(client *c);
client *client_by_id(uint64_t id);
/* Connected through a Unix socket or from a loopback address (127.0.0.0/8,
 * ::1): what protected mode and the "local" settings accept. */
int client_is_local(const client *c);
/* Client type name for logs and limits: normal, replica, pubsub. */
int client_class(const client *c);

#endif
