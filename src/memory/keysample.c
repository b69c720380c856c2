/*
 * keysample: the dashboard's view of the keyspace (memory by data type and
 * the biggest keys) without a blocking scan. Each cron tick walks a bounded
 * number of table steps (KEYSAMPLE_STEPS db_scan calls, each a bucket and
 * its probe chain, so a few keys; at most KEYSAMPLE_KEYS keys and
 * KEYSAMPLE_BUDGET_US of time) with a cursor kept between ticks, adding
 * each key's MEMORY USAGE-style size (values of many elements sampled, as
 * MEMORY USAGE's default) to per-type totals and a small top list. When
 * the cursor has walked every database the pass's results are published
 * and a new pass starts; until the first pass ends the partial figures are
 * shown. At hz 10 that is 10,000 keys a second: a pass over a million
 * keys takes under two minutes, for a few tenths of a millisecond of work
 * per tick (bench/metrics measures the idle CPU). Keys changed during a pass are seen
 * as they were when the cursor passed them; a key may be counted twice
 * while a table rehashes (db_scan's guarantee), which a dashboard can
 * live with.
 */
#include "memory/mem_internal.h"
#include "memory/memory.h"
#include "lib/kstr.h"
#include "lib/util.h"
#include "core/server.h"

#include <string.h>

#define KEYSAMPLE_KEYS 1000   /* keys measured per cron tick, at most */
#define KEYSAMPLE_STEPS 4096  /* db_scan calls per tick, at most (sparse tables) */
#define KEYSAMPLE_BUDGET_US 500 /* and never longer than this per tick */
#define KEYSAMPLE_VALUE_SAMPLES 5
#define KEYSAMPLE_NAME_MAX 200 /* bytes of a key's name kept for display */

typedef struct pass_figures {
    size_t bytes[TYPE_COUNT];
    size_t keys[TYPE_COUNT];
    memory_big_key top[MEMORY_BIG_KEYS];
} pass_figures;

static struct {
    pass_figures cur, done;
    int db;
    size_t cursor;
    int passes;
    db *scanning;
    int seen_this_tick;
} ks;

static void clear_top(memory_big_key *top) {
    for (int i = 0; i < MEMORY_BIG_KEYS; i++) kstr_free(top[i].key);
    memset(top, 0, sizeof(memory_big_key) * MEMORY_BIG_KEYS);
}

static void keep_if_big(memory_big_key *top, const entry *e, int dbid, size_t bytes) {
    int at = MEMORY_BIG_KEYS - 1;
    if (top[at].key && top[at].bytes >= bytes) return;
    size_t len;
    const char *key = entry_key(e, &len);
    kstr_free(top[at].key);
    while (at > 0 && (!top[at - 1].key || top[at - 1].bytes < bytes)) {
        top[at] = top[at - 1];
        at--;
    }
    top[at] = (memory_big_key){.key = kstr_new_len(key, len > KEYSAMPLE_NAME_MAX ? KEYSAMPLE_NAME_MAX : len), .bytes = bytes, .type = entry_type(e), .db = dbid};
}

static void visit(void *ctx, entry *e) {
    (void)ctx;
    if (entry_is_expired(e, server_mstime())) return;
    size_t bytes = memstats_entry_usage(ks.scanning, e, KEYSAMPLE_VALUE_SAMPLES);
    int type = entry_type(e);
    ks.cur.bytes[type] += bytes;
    ks.cur.keys[type]++;
    keep_if_big(ks.cur.top, e, ks.db, bytes);
    ks.seen_this_tick++;
}

static void publish_pass(void) {
    clear_top(ks.done.top);
    ks.done = ks.cur;
    memset(&ks.cur, 0, sizeof(ks.cur));
    ks.passes++;
}

void keysample_cron(void) {
    long long start = ustime();
    ks.seen_this_tick = 0;
    for (int step = 0; step < KEYSAMPLE_STEPS && ks.seen_this_tick < KEYSAMPLE_KEYS; step++) {
        if ((step & 63) == 63 && ustime() - start > KEYSAMPLE_BUDGET_US) return;
        if (ks.db >= db_count()) {
            publish_pass();
            ks.db = 0;
            return;
        }
        ks.scanning = db_get(ks.db);
        if (db_size(ks.scanning)) ks.cursor = db_scan(ks.scanning, ks.cursor, visit, NULL);
        else ks.cursor = 0;
        if (ks.cursor == 0) ks.db++;
    }
}

int memory_keyspace_profile(memory_profile *out) {
    const pass_figures *f = ks.passes ? &ks.done : &ks.cur;
    memset(out, 0, sizeof(*out));
    for (int t = 0; t < TYPE_COUNT; t++) {
        out->bytes[t] = f->bytes[t];
        out->keys[t] = f->keys[t];
    }
    for (int i = 0; i < MEMORY_BIG_KEYS; i++) out->top[i] = f->top[i];
    return ks.passes;
}
