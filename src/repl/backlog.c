/*
 * backlog: the replication id, the stream offset and the shared stream
 * buffer.
 *
 * The write stream is kept once, as a list of blocks, whatever the
 * number of replicas: each replica reads it at its own position (Redis 7
 * shares its replication buffer the same way). The list keeps at least
 * repl-backlog-size bytes (the backlog a PSYNC can continue from) and
 * every byte some replica still has to receive; a replica that lags
 * beyond client-output-buffer-limit replica is dropped (master.c), so
 * the list is bounded by backlog + that limit. Nothing is copied per
 * replica.
 */
#include <stdio.h>
#include <string.h>
#include <limits.h>

#include "repl/repl_internal.h"
#include "core/server.h"
#include "lib/util.h"
#include "lib/zmalloc.h"

repl_stream RS = {.second_offset = -1, .stream_db = -1};

#define BLOCK_ALLOC (16 * 1024)
#define BLOCK_DATA (BLOCK_ALLOC - sizeof(bl_block))

static void random_hex(char *out, int n) {
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];
    get_random_bytes(b, (size_t)n);
    for (int i = 0; i < n; i++) out[i] = hex[b[i] & 15];
    out[n] = '\0';
}

void rstream_new_replid(void) { random_hex(RS.replid, 40); }

void rstream_shift_replid(void) {
    memcpy(RS.replid2, RS.replid, 41);
    /* The next byte we would want is offset+1: a PSYNC for up to it may
     * continue under the old id. */
    RS.second_offset = RS.offset + 1;
    rstream_new_replid();
}

static bl_block *block_new(size_t min) {
    size_t size = min > BLOCK_DATA ? min : BLOCK_DATA;
    bl_block *b = zmalloc(sizeof(bl_block) + size);
    b->next = NULL;
    b->off = RS.offset + 1;
    b->used = 0;
    b->size = size;
    RS.mem += sizeof(bl_block) + size;
    return b;
}

void backlog_create(void) {
    if (RS.head) return;
    RS.head = RS.tail = block_new(0);
    RS.first_byte = RS.offset + 1;
    /* A new backlog starts with a SELECT, whatever came before. */
    RS.stream_db = -1;
}

void backlog_free(void) {
    bl_block *b = RS.head;
    while (b) {
        bl_block *n = b->next;
        zfree(b);
        b = n;
    }
    RS.head = RS.tail = NULL;
    RS.mem = 0;
    RS.first_byte = 0;
}

void rstream_append(const char *p, size_t len) {
    if (!RS.head) return; /* no backlog: no stream is kept, as Redis */
    while (len) {
        bl_block *t = RS.tail;
        if (t->used == t->size) {
            t->next = block_new(0);
            RS.tail = t = t->next;
        }
        size_t n = t->size - t->used;
        if (n > len) n = len;
        memcpy(t->data + t->used, p, n);
        t->used += n;
        RS.offset += (long long)n;
        p += n;
        len -= n;
    }
}

static void append_bulk(const char *p, size_t len) {
    char hdr[32];
    rstream_append(hdr, resp_header(hdr, '$', (long long)len));
    rstream_append(p, len);
    rstream_append("\r\n", 2);
}

void rstream_command(int dbid, int argc, kstr *argv) {
    char hdr[32];
    if (dbid >= 0 && dbid != RS.stream_db) {
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", dbid);
        rstream_append("*2\r\n$6\r\nSELECT\r\n", 16);
        append_bulk(num, (size_t)n);
        RS.stream_db = dbid;
    }
    rstream_append(hdr, resp_header(hdr, '*', argc));
    for (int i = 0; i < argc; i++) append_bulk(argv[i], kstr_len(argv[i]));
}

int backlog_has(long long from) {
    return RS.head && from >= RS.first_byte && from <= RS.offset + 1;
}

bl_block *backlog_find(bl_block *hint, long long off) {
    bl_block *b = hint ? hint : RS.head;
    if (b && off < b->off) b = RS.head;
    while (b && off >= b->off + (long long)b->used && b->next) b = b->next;
    return b;
}

void backlog_trim(long long min_needed, void (*before_free)(const bl_block *b)) {
    while (RS.head && RS.head != RS.tail) {
        bl_block *h = RS.head;
        long long held = RS.offset + 1 - RS.first_byte;
        long long end = h->off + (long long)h->used; /* first byte after h */
        if (held - (long long)h->used < cfg_backlog_size) break;
        /* >=: a replica whose next byte is h's end may still point at h */
        if (end >= min_needed) break;
        if (before_free) before_free(h);
        RS.head = h->next;
        RS.first_byte = RS.head->off;
        RS.mem -= sizeof(bl_block) + h->size;
        zfree(h);
    }
}

void rstream_reset(const char *replid, long long offset) {
    int had = RS.head != NULL;
    backlog_free();
    memcpy(RS.replid, replid, 40);
    RS.replid[40] = '\0';
    RS.replid2[0] = '\0';
    RS.second_offset = -1;
    RS.offset = offset;
    (void)had;
    backlog_create();
}

void rstream_log_latest(void) {
    if (!RS.head || RS.offset + 1 <= RS.first_byte) return;
    long long want = RS.offset + 1 - RS.first_byte;
    if (want > 256) want = 256;
    long long from = RS.offset + 1 - want;
    kstr dump = kstr_empty();
    for (bl_block *b = backlog_find(NULL, from); b && from <= RS.offset; b = b->next) {
        size_t pos = (size_t)(from - b->off);
        if (pos >= b->used) continue;
        dump = kstr_cat_repr(dump, b->data + pos, b->used - pos);
        from += (long long)(b->used - pos);
    }
    server_log(LOG_WARNING, "Latest backlog is: %s", dump);
    kstr_free(dump);
}

size_t repl_buffers_memory(void) { return RS.head ? RS.mem : 0; }

size_t repl_backlog_memory(void) {
    if (!RS.head) return 0;
    if (!replicas) return RS.mem;
    size_t cap = (size_t)cfg_backlog_size + BLOCK_ALLOC;
    return RS.mem < cap ? RS.mem : cap;
}

size_t repl_replica_buffers_memory(void) { return RS.mem - repl_backlog_memory(); }
