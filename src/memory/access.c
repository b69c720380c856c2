/*
 * access: what the 24 access bits of every entry header (entry.h) mean,
 * and the background work that keeps them meaningful.
 *
 * LRU policies (and noeviction, volatile-random, volatile-ttl: OBJECT
 * IDLETIME works under all of them). Redis stores seconds in these bits.
 * A one-second clock is too coarse for eviction: a cache turns over its
 * keys in well under a second under load, the oldest keys then all tie
 * and sampled LRU degrades to random eviction (measured: 0.665 hit ratio
 * against 0.707 for exact LRU, random 0.669). A plain millisecond clock
 * in 24 bits would wrap after 4.7 hours, and a key idle for 5 hours would
 * then look fresh. So the stamp has two forms, told apart by bit 23:
 *   fine   (bit 23 = 0): the access time in milliseconds modulo 2^23
 *          (wraps after 2 h 20 min);
 *   coarse (bit 23 = 1): the access time in seconds modulo 2^23
 *          (wraps after 97 days; Redis's wraps after 194).
 * Accesses write fine stamps. The ager, run from cron, walks the whole
 * keyspace every AGER_PASS_MS (10 minutes) and rewrites fine stamps older
 * than FINE_LIMIT_MS (30 minutes) as coarse ones, so no fine stamp lives
 * long enough to wrap: a key is rewritten at the latest 40 minutes after
 * its last access, an hour and a half before its fine stamp would wrap.
 * Costs: one scan step per key every ten minutes (a hundred thousand keys
 * is 170 keys a second); a server stopped for more than 1 h 50 min (SIGSTOP,
 * a suspended VM) can wake with some keys looking younger than they are,
 * which costs eviction quality for one ager pass, never correctness.
 * OBJECT IDLETIME stays in seconds, converted in one place
 * (access_lru_idle_ms). Idle times compare in milliseconds; coarse
 * stamps lose the sub-second part, irrelevant for keys idle 30 minutes.
 *
 * LFU policies: Redis's counter (8 bits, logarithmic: it grows with
 * probability 1 / ((counter - 5) * lfu-log-factor + 1), loses one point
 * per lfu-decay-time minutes without access, new keys start at 5; OBJECT
 * FREQ reports it) in the low 8 bits. Redis keeps the last access in
 * minutes in the other 16; a minute says nothing about which of two keys
 * of equal counter is older, and at the cache edge nearly every key sits
 * at 5 or 6, so eviction among them was random where exact LFU evicts the
 * oldest (measured: 0.735 against 0.746 for exact LFU). The 16 time bits
 * now have the same two forms as the LRU stamp, told apart by bit 15:
 *   fine   (bit 15 = 0): access time in units of 16 ms modulo 2^15
 *          (wraps after 8 min 44 s);
 *   coarse (bit 15 = 1): access time in minutes modulo 2^15 (wraps after
 *          22 days; Redis's minutes wrap after 45).
 * Accesses write fine stamps; the ager (above) runs every
 * LFU_AGER_PASS_MS (2 minutes) under an LFU policy and rewrites stamps
 * older than 2 minutes as coarse ones, so a fine stamp is rewritten at
 * most 4 minutes after its access, 4 minutes before it would wrap. The
 * cost is a keyspace pass five times as often as under LRU (a million
 * keys: 8,300 scan steps a second). Decay counts minute boundaries crossed
 * since the access, as Redis does with its minute stamps, so OBJECT FREQ
 * decays exactly when Redis's would (to within the 16 ms unit at a
 * boundary). Eviction (evict.c) does not use that whole-minute decay: it
 * ranks a key by its counter decayed continuously once the key has been
 * idle a whole decay period (access_lfu_keep_value), equal values oldest
 * first. Decaying by minute boundaries drops every key not read since the
 * last boundary a full point below the keys created after it: in a cache
 * replayed over minutes rather than seconds (bench/eviction's live
 * workload) the keys read once or twice then went before newcomers never
 * read, and the hit ratio fell 0.006-0.012 below exact LFU. A continuous
 * decay from the first millisecond closed that at 150 s but not at 300 s;
 * the free first period gains 0.003 more there. A replay of a few seconds
 * crosses no boundary and idles no key a minute, so all three rank alike
 * there. 16 ms is enough to order a cache that turns over in a fraction
 * of a second; 1 ms would not fit in 15 bits with a workable ager
 * period.
 *
 * On top of it, an eviction memory ("ghost" table): when a key is
 * evicted its 24 bits are kept in a small direct-mapped table under a
 * hash of its name; when the same key is created again (the look-aside
 * cache re-filling it after a miss) it gets its old counter back, decayed
 * for the time it was away, plus one increment for the miss itself (an
 * access like any other), instead of starting at 5 like a key never seen.
 * In-cache LFU forgets everything a key earned the moment it is evicted,
 * so a popular key pushed out by a burst of one-time keys (a scan) has to
 * earn its place again; this is the idea behind TinyLFU's admission
 * filter, at 4 bytes per slot and one slot per 4 keys in the keyspace
 * (about 0.6% of a cache of 100-byte values). Keys evicted at 5 are
 * remembered too: with the increment they come back at 6, above the
 * one-time keys, which is what lets the newcomer ring (evict.c) single
 * those out (together: +0.009 at 10%, nothing measurable at 30%; one
 * slot per key gained no more and cost 2.5% of the capacity, four per
 * key 16%). Slots are tagged with 8 more bits of the hash so that a
 * collision seeds a wrong counter in 1 case out of 255; a wrong seed only
 * makes one key a little harder to evict. Only eviction feeds the table
 * (DEL does not), so OBJECT FREQ of a key re-created after an eviction
 * starts above 5, where Redis says 5. The table exists only while an LFU
 * policy evicts.
 */
#include "memory/mem_internal.h"
#include "memory/memory.h"
#include "lib/zmalloc.h"
#include "core/server.h"
#include "lib/random.h"
#include "lib/siphash.h"

#include <string.h>

#define STAMP_COARSE 0x800000u
#define STAMP_MASK 0x7FFFFFu
#define FINE_LIMIT_MS (30LL * 60 * 1000)
#define AGER_PASS_MS (10LL * 60 * 1000)

/* The 16 time bits of an LFU field (above the 8-bit counter). */
#define LFU_COARSE 0x8000u
#define LFU_TIME_MASK 0x7FFFu
#define LFU_FINE_SHIFT 4 /* fine unit: 16 ms */
#define LFU_FINE_LIMIT_MS (2LL * 60 * 1000)
#define LFU_AGER_PASS_MS (2LL * 60 * 1000)
#define MINUTE_MS 60000ULL

#define GHOST_SHIFT 2 /* one slot per 4 keys of the keyspace */
#define GHOST_MIN_SLOTS 1024
#define GHOST_MAX_SLOTS (1u << 24)

/* ---- LRU stamps ------------------------------------------------------ */

static uint64_t now_ms(void) { return (uint64_t)server_mstime(); }

uint32_t access_lru_stamp_now(void) { return (uint32_t)(now_ms() & STAMP_MASK); }

long long access_lru_idle_ms(uint32_t field) {
    uint64_t now = now_ms();
    if (field & STAMP_COARSE) return (long long)(((now / 1000) - (field & STAMP_MASK)) & STAMP_MASK) * 1000;
    return (long long)((now - field) & STAMP_MASK);
}

static uint32_t lru_coarse_stamp(uint32_t field) {
    uint64_t accessed = now_ms() - (uint64_t)access_lru_idle_ms(field);
    return STAMP_COARSE | (uint32_t)((accessed / 1000) & STAMP_MASK);
}

void access_lru_age_entry(entry *e) {
    uint32_t field = entry_lru(e);
    if (!(field & STAMP_COARSE) && access_lru_idle_ms(field) >= FINE_LIMIT_MS) entry_set_lru(e, lru_coarse_stamp(field));
}

/* ---- the ager ---------------------------------------------------------- */

static struct {
    int dbid;
    size_t cursor;
    uint64_t last_ms;
} ager;

static void age_scanned(void *privdata, entry *e) {
    access_age_entry(e);
    (*(size_t *)privdata)++;
}

/* Visits the share of the keyspace that the time since the last call
 * asks for, so a full pass takes AGER_PASS_MS whatever hz is. */
static void ager_cron(void) {
    uint64_t now = now_ms();
    uint64_t elapsed = ager.last_ms && now > ager.last_ms ? now - ager.last_ms : 0;
    ager.last_ms = now;
    uint64_t pass = evict_policy_is_lfu() ? LFU_AGER_PASS_MS : AGER_PASS_MS;
    if (elapsed > pass) elapsed = pass;
    size_t budget = (size_t)((double)db_size_all() * (double)elapsed / (double)pass) + 1;
    size_t visited = 0, steps = 0, max_steps = budget * 4 + 64;
    while (visited < budget && steps++ < max_steps) {
        if (ager.dbid >= db_count()) ager.dbid = 0;
        db *d = db_get(ager.dbid);
        ager.cursor = db_size(d) ? db_scan(d, ager.cursor, age_scanned, &visited) : 0;
        if (ager.cursor == 0) ager.dbid++;
    }
}

/* ---- LFU ----------------------------------------------------------------- */

static uint32_t lfu_time_bits(uint32_t field) { return (field >> 8) & 0xFFFF; }

/* When the key was last accessed, in ms (coarse stamps: the middle of
 * the minute, the best guess, so that eviction, which compares access
 * times across keys, does not see them as 30 s older on average). */
uint64_t access_lfu_accessed_ms(uint32_t field) {
    uint64_t now = now_ms();
    uint32_t t = lfu_time_bits(field);
    if (t & LFU_COARSE) {
        uint64_t minute = now / MINUTE_MS;
        return (minute - ((minute - t) & LFU_TIME_MASK)) * MINUTE_MS + MINUTE_MS / 2;
    }
    uint64_t unit = now >> LFU_FINE_SHIFT;
    return (unit - ((unit - t) & LFU_TIME_MASK)) << LFU_FINE_SHIFT;
}

/* Minute boundaries crossed since the last access: Redis's definition
 * (it stores minutes), so decay happens exactly when it would there. */
uint32_t access_lfu_minutes_since(uint32_t field) {
    return (uint32_t)(now_ms() / MINUTE_MS - access_lfu_accessed_ms(field) / MINUTE_MS);
}

static void lfu_age_entry(entry *e) {
    uint32_t field = entry_lru(e);
    if (lfu_time_bits(field) & LFU_COARSE) return;
    uint64_t accessed = access_lfu_accessed_ms(field);
    if (now_ms() - accessed < (uint64_t)LFU_FINE_LIMIT_MS) return;
    uint32_t coarse = LFU_COARSE | (uint32_t)((accessed / MINUTE_MS) & LFU_TIME_MASK);
    entry_set_lru(e, (coarse << 8) | (field & 0xFF));
}

void access_age_entry(entry *e) {
    if (evict_policy_is_lfu()) lfu_age_entry(e);
    else access_lru_age_entry(e);
}

int evict_lfu_counter_now(uint32_t field) {
    int counter = (int)(field & 0xFF);
    if (server.lfu_decay_time <= 0) return counter;
    uint32_t periods = access_lfu_minutes_since(field) / (uint32_t)server.lfu_decay_time;
    return periods >= (uint32_t)counter ? 0 : counter - (int)periods;
}

/* How much an LFU key is worth keeping (lower: evict first): its counter
 * as of the last access, decayed continuously once the key has been idle
 * a whole decay period, by a point per lfu-decay-time minutes after that:
 * counter - max(0, idle - period) / period, in 1/1024 points, then the
 * access time (equal values go oldest first; with no decay the counter
 * and the access time alone). The first period is free because that is
 * when Redis's rule ("the time that must elapse for the counter to be
 * decremented") starts to decay; decaying from the first millisecond, or
 * by minute boundaries as OBJECT FREQ does, ranks a key read a minute ago
 * with keys just created and never read. Keys idle longer than a period
 * lose value as time passes: a candidate scored earlier looks a little
 * better than it is until it is sampled again. */
unsigned long long access_lfu_keep_value(uint32_t field) {
    unsigned long long counter = field & 0xFF;
    unsigned long long accessed = access_lfu_accessed_ms(field) & ((1ULL << 42) - 1);
    if (server.lfu_decay_time <= 0) return (counter << 42) | accessed;
    unsigned long long period = (unsigned long long)server.lfu_decay_time * MINUTE_MS;
    unsigned long long now = now_ms() & ((1ULL << 42) - 1);
    unsigned long long idle = now > accessed ? now - accessed : 0;
    unsigned long long late = idle > period ? idle - period : 0;
    if (late >= counter * period) return accessed; /* decayed to nothing */
    unsigned long long points = counter * 1024 - late * 1024 / period; /* late < 2^42 */
    return (points << 42) | accessed;
}

static int lfu_log_increment(int counter) {
    if (counter >= 255) return 255;
    double base = counter > ACCESS_LFU_INIT ? (double)(counter - ACCESS_LFU_INIT) : 0.0;
    double p = 1.0 / (base * (double)server.lfu_log_factor + 1.0);
    return random_unit() < p ? counter + 1 : counter;
}

static uint32_t lfu_field(int counter) {
    return (((uint32_t)(now_ms() >> LFU_FINE_SHIFT) & LFU_TIME_MASK) << 8) | (uint32_t)counter;
}

uint32_t access_lfu_touched(uint32_t field) { return lfu_field(lfu_log_increment(evict_lfu_counter_now(field))); }

/* ---- the eviction memory (ghost table) ------------------------------------ */

static uint32_t *ghost; /* tag << 24 | LFU field; 0 = empty */
static size_t ghost_slots;
static uint8_t ghost_key[16];

static uint64_t ghost_hash(const char *key, size_t klen) { return siphash((const uint8_t *)key, klen, ghost_key); }

static uint32_t ghost_tag(uint64_t h) { return (uint32_t)((h >> 56) | 1) << 24; }

static size_t ghost_target_slots(void) {
    size_t want = GHOST_MIN_SLOTS;
    size_t keys = db_size_all() >> GHOST_SHIFT;
    while (want < keys && want < GHOST_MAX_SLOTS) want <<= 1;
    return want;
}

static void ghost_release(void) {
    zfree(ghost);
    ghost = NULL;
    ghost_slots = 0;
}

/* Resizing forgets everything: the table is a hint, and it is only
 * resized when the keyspace changed by a factor of four. */
static void ghost_fit(void) {
    size_t want = ghost_target_slots();
    if (ghost && want <= ghost_slots * 2 && want * 2 >= ghost_slots) return;
    ghost_release();
    ghost = zcalloc(want * sizeof(*ghost));
    ghost_slots = want;
}

void access_ghost_remember(const entry *e) {
    uint32_t field = entry_lru(e);
    if (evict_lfu_counter_now(field) < ACCESS_LFU_INIT) return;
    if (!ghost) ghost_fit();
    size_t klen;
    const char *key = entry_key(e, &klen);
    uint64_t h = ghost_hash(key, klen);
    ghost[h & (ghost_slots - 1)] = ghost_tag(h) | field;
}

/* The LFU field a newly created key starts with. */
static uint32_t lfu_initial_field(const entry *e) {
    if (!ghost) return lfu_field(ACCESS_LFU_INIT);
    size_t klen;
    const char *key = entry_key(e, &klen);
    uint64_t h = ghost_hash(key, klen);
    uint32_t *slot = &ghost[h & (ghost_slots - 1)];
    if (!*slot || (*slot & 0xFF000000u) != ghost_tag(h)) return lfu_field(ACCESS_LFU_INIT);
    int counter = evict_lfu_counter_now(*slot & 0xFFFFFF);
    *slot = 0;
    counter = counter > ACCESS_LFU_INIT ? counter : ACCESS_LFU_INIT;
    return lfu_field(lfu_log_increment(counter)); /* the miss was an access */
}

static void ghost_cron(void) {
    int wanted = server.maxmemory && evict_policy_is_lfu();
    if (!wanted) ghost_release();
    else if (ghost) ghost_fit();
}

/* ---- hooks ------------------------------------------------------------------ */

void memory_entry_created(db *d, entry *e) {
    if (!evict_policy_is_lfu()) {
        entry_set_lru(e, access_lru_stamp_now());
        return;
    }
    entry_set_lru(e, lfu_initial_field(e));
    evict_note_created(db_id(d), e);
}

void memory_entry_touched(entry *e) {
    entry_set_lru(e, evict_policy_is_lfu() ? access_lfu_touched(entry_lru(e)) : access_lru_stamp_now());
}

long long memory_entry_idle_seconds(const entry *e) { return access_lru_idle_ms(entry_lru(e)) / 1000; }

int memory_entry_lfu_counter(const entry *e) { return evict_lfu_counter_now(entry_lru(e)); }

void access_init(void) {
    for (int i = 0; i < 16; i++) ghost_key[i] = (uint8_t)(random_u64() >> 56);
}

void access_cron(void) {
    ager_cron();
    ghost_cron();
}
