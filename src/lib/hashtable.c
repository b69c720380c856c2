/*
 * hashtable: open addressing over 64-byte buckets. See hashtable.h for the
 * interface; this comment is about why the table is built this way.
 *
 * Memory first. The keyspace holds one pointer per key and nothing else: no
 * chained entry (24 bytes plus allocator rounding in a chained table), no
 * stored hash, no next pointer. A bucket is one cache line: a byte with the
 * presence bits of its 7 slots plus an "ever full" bit, 7 bytes holding the
 * top byte of each element's hash, and 7 element pointers. Seven is what
 * fits: 8 + 7 * 8 = 64. A lookup touches one cache line in the common case
 * and the hash bytes reject 255 of 256 non-matching slots without calling
 * element_key (a pointer chase into the element) or memcmp.
 *
 * Collisions. When a key's home bucket (hash & mask) is full the insert
 * probes linearly to the next bucket and marks the full one "ever full".
 * A lookup stops at the first bucket that was never full: no element whose
 * home is earlier can be beyond it. Deleting only clears a presence bit;
 * the ever-full bit cannot be cleared without knowing that no element
 * further along the chain came from an earlier home, which would take a
 * hash computation per neighbour. So the bits are cleared only when the
 * table is rebuilt by a rehash. Under long churn at a steady size ever-full
 * bits accumulate and miss lookups get longer; when more than
 * EVERFULL_REBUILD_PCT percent of the buckets carry the bit and at least
 * one delete per bucket happened since the last rebuild, the table is
 * rehashed to the same size (the delete count makes the O(buckets) rebuild
 * amortised, and stops a table that is legitimately crowded from rebuilding
 * over and over).
 *
 * Fill. The table doubles when an insert would take it above GROW_FILL
 * (77%) of its slots. With 7-slot buckets and linear probing the chains
 * stay short at that fill: most lookups read one bucket, a few read two.
 * At 77% a slot costs 64/7 = 9.1 bytes, so an element costs 11.9 bytes
 * just before a doubling and 23.7 just after; a table filled to a random
 * size averages about 17 bytes per element (16.8 at one million). A higher
 * threshold saves up to 12% of that (87.5%: about 15 bytes) but the misses,
 * which every insert also pays, get much longer. Measured just below the
 * threshold, fresh table: at 77% 27% of the buckets are ever-full and a
 * miss reads 1.7 buckets; at 81% 36% and 2.3; at 86% 48% and 3.7, and
 * churn roughly doubles the extra reads. 77% keeps misses near one cache
 * line.
 *
 * If the resize_allowed callback refuses a growth, the table keeps filling
 * up to HARD_FILL (95%) and then grows anyway: past that point probe chains
 * grow quickly and the last free slots could be far from home. The table
 * shrinks when under 1/8 full, to the smallest power of two that keeps it
 * under GROW_FILL.
 *
 * Rehashing is incremental: a second bucket array is allocated and every
 * add/find/delete moves one non-empty bucket into it (visiting at most ten
 * empty ones), plus what hashtable_rehash_microseconds does from the cron.
 * While rehashing, lookups look in both tables and inserts go to the new
 * one, so the old one only empties. A safe iterator pauses the moves so
 * that elements stay where the iterator expects them. Growing may still
 * start under a safe iterator (the new table only takes new elements), but
 * shrinking and rebuilding wait, and a rehash cannot finish: inserting more
 * than the rehash target can hold while an iterator lives aborts (it would
 * take inserting about as many elements as the table holds during one
 * iteration; callers are meant only to delete under safe iterators).
 *
 * SCAN. The cursor is a home-bucket index of the smaller table, advanced
 * by incrementing its bit-reversed value. Because the high bits of the
 * index change fastest, the set of home buckets already visited is still
 * exactly described by the cursor after the table doubles or halves, so no
 * home bucket is skipped across resizes (some are seen twice after a
 * shrink). Scanning a home bucket also follows its probe chain while the
 * buckets are ever-full, which reaches every element whose home it is.
 * During a rehash both tables are scanned: the home bucket in the small
 * one and all its expansions in the large one. Together: an element
 * present from the start to the end of a scan is returned at least once.
 */
#include "hashtable.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/random.h"
#include "lib/siphash.h"
#include "lib/zmalloc.h"

#define SLOTS 7
#define PRESENT_MASK 0x7f
#define EVER_FULL 0x80

/* Fill thresholds as fractions of the slots (buckets * 7). */
#define GROW_FILL_NUM 77
#define GROW_FILL_DEN 100
#define HARD_FILL_NUM 95
#define HARD_FILL_DEN 100
#define EVERFULL_REBUILD_PCT 50

/* Buckets a rehash step may skip looking for a non-empty one. */
#define EMPTY_VISITS_PER_STEP 10
/* Buckets moved between two clock reads in hashtable_rehash_microseconds. */
#define REHASH_BATCH 128

typedef struct bucket {
    uint8_t meta;              /* bits 0-6: slot in use; bit 7: ever full */
    uint8_t hash_byte[SLOTS];  /* top byte of the hash of each element */
    void *slot[SLOTS];
} bucket;

#if UINTPTR_MAX == UINT64_MAX
_Static_assert(sizeof(bucket) == 64, "a bucket is one cache line");
#endif

struct hashtable {
    const hashtable_type *type;
    bucket *table[2];          /* [1] exists only while rehashing */
    size_t buckets[2];         /* powers of two; 0 when absent */
    size_t used[2];
    size_t everfull[2];        /* buckets with the ever-full bit */
    size_t deletes;            /* from table 0 since it was built */
    size_t rehash_idx;         /* next bucket of table 0 to move */
    int pause_rehash;          /* live safe iterators */
    long long user_word;       /* the owner's (hashtable_user_word) */
};

/* ---- Hashing --------------------------------------------------------- */

static uint8_t hash_seed[16] = {
    0x4b, 0x65, 0x65, 0x6c, 0x2d, 0x68, 0x61, 0x73,
    0x68, 0x2d, 0x73, 0x65, 0x65, 0x64, 0x2d, 0x30,
};

void hashtable_set_seed(const uint8_t seed[16]) {
    memcpy(hash_seed, seed, sizeof(hash_seed));
}

uint64_t hashtable_hash(const void *key, size_t len) {
    return siphash(key, len, hash_seed);
}

/* The home bucket uses the low bits, the per-slot byte the top ones, so the
 * two stay independent for any table smaller than 2^56 buckets. */
static inline uint8_t hash_byte_of(uint64_t hash) {
    return (uint8_t)(hash >> 56);
}

static uint64_t element_hash(const hashtable *ht, const void *element) {
    size_t len;
    const void *key = ht->type->element_key(element, &len);
    return hashtable_hash(key, len);
}

static bool element_has_key(const hashtable *ht, const void *element,
                            const void *key, size_t keylen) {
    size_t len;
    const void *ekey = ht->type->element_key(element, &len);
    return len == keylen && (len == 0 || memcmp(ekey, key, len) == 0);
}

/* ---- Small helpers --------------------------------------------------- */

static inline int lowest_bit(unsigned bits) {
    return __builtin_ctz(bits);
}

static inline int count_bits(unsigned bits) {
    return __builtin_popcount(bits);
}

static inline size_t capacity(size_t nbuckets) {
    return nbuckets * SLOTS;
}

static inline size_t grow_limit(size_t nbuckets) {
    return capacity(nbuckets) * GROW_FILL_NUM / GROW_FILL_DEN;
}

static inline size_t hard_limit(size_t nbuckets) {
    return capacity(nbuckets) * HARD_FILL_NUM / HARD_FILL_DEN;
}

/* Smallest power of two number of buckets holding n under GROW_FILL. */
static size_t buckets_for(size_t n) {
    size_t nb = 1;
    while (grow_limit(nb) < n) nb <<= 1;
    return nb;
}

static inline bool is_rehashing(const hashtable *ht) {
    return ht->table[1] != NULL;
}

static inline bucket *bucket_at(const hashtable *ht, int t, size_t idx) {
    return &ht->table[t][idx];
}

static inline size_t next_index(const hashtable *ht, int t, size_t idx) {
    return (idx + 1) & (ht->buckets[t] - 1);
}

static double fill_of(const hashtable *ht) {
    size_t slots = capacity(ht->buckets[0] + ht->buckets[1]);
    return slots ? (double)hashtable_size(ht) / (double)slots : 0.0;
}

/* ---- Per-table primitives ------------------------------------------- */

typedef struct position {
    bucket *b;
    int slot;
    int table;
} position;

static bool find_in_table(const hashtable *ht, int t, const void *key,
                          size_t keylen, uint64_t hash, position *pos) {
    size_t nb = ht->buckets[t];
    if (nb == 0 || ht->used[t] == 0) return false;
    uint8_t hb = hash_byte_of(hash);
    size_t idx = hash & (nb - 1);
    for (size_t probes = 0; probes < nb; probes++) {
        bucket *b = bucket_at(ht, t, idx);
        for (unsigned present = b->meta & PRESENT_MASK; present; present &= present - 1) {
            int i = lowest_bit(present);
            if (b->hash_byte[i] == hb && element_has_key(ht, b->slot[i], key, keylen)) {
                *pos = (position){b, i, t};
                return true;
            }
        }
        if (!(b->meta & EVER_FULL)) return false;
        idx = next_index(ht, t, idx);
    }
    return false;
}

static bool find_position(const hashtable *ht, const void *key, size_t keylen,
                          uint64_t hash, position *pos) {
    return find_in_table(ht, 0, key, keylen, hash, pos) ||
           (is_rehashing(ht) && find_in_table(ht, 1, key, keylen, hash, pos));
}

static void mark_ever_full(hashtable *ht, int t, bucket *b) {
    if (b->meta & EVER_FULL) return;
    assert((b->meta & PRESENT_MASK) == PRESENT_MASK && ht->everfull[t] < ht->buckets[t]);
    b->meta |= EVER_FULL;
    ht->everfull[t]++;
}

/* Only reachable when a safe iterator kept a rehash from completing while
 * inserts filled the target table (see make_room_for_one). Continuing would
 * lose elements, so stop loudly. */
static _Noreturn void table_full(size_t nbuckets) {
    fprintf(stderr, "hashtable: no free slot in %zu buckets "
                    "(inserts under a safe iterator during a rehash)\n", nbuckets);
    abort();
}

/* Put an element known to be absent into table t; returns its slot. */
static void **insert_in_table(hashtable *ht, int t, void *element, uint64_t hash) {
    size_t nb = ht->buckets[t];
    size_t idx = hash & (nb - 1);
    for (size_t probes = 0; probes < nb; probes++) {
        bucket *b = bucket_at(ht, t, idx);
        unsigned free_slots = ~b->meta & PRESENT_MASK;
        if (free_slots) {
            int i = lowest_bit(free_slots);
            b->meta |= (uint8_t)(1u << i);
            b->hash_byte[i] = hash_byte_of(hash);
            b->slot[i] = element;
            ht->used[t]++;
            return &b->slot[i];
        }
        mark_ever_full(ht, t, b);
        idx = next_index(ht, t, idx);
    }
    table_full(nb);
}

#ifndef NDEBUG
/* The probe-chain invariant, for an element found in bucket idx of table
 * t with this stored hash byte and this hash: the byte is its hash's (else
 * lookups skip it: its key changed in place, or the slot was overwritten)
 * and every bucket from its home up to idx is ever-full (else lookups stop
 * before reaching it). O(distance from home), nearly always 0 or 1. */
static bool reachable_from_home(const hashtable *ht, int t, size_t idx, uint8_t stored_byte,
                                uint64_t hash) {
    if (stored_byte != hash_byte_of(hash)) return false;
    for (size_t i = hash & (ht->buckets[t] - 1); i != idx; i = next_index(ht, t, i))
        if (!(bucket_at(ht, t, i)->meta & EVER_FULL)) return false;
    return true;
}
#endif

static void remove_at(hashtable *ht, const position *pos) {
    assert((pos->b->meta & (1u << pos->slot)) && ht->used[pos->table] > 0);
    pos->b->meta &= (uint8_t)~(1u << pos->slot);
    ht->used[pos->table]--;
    if (pos->table == 0 && !is_rehashing(ht)) ht->deletes++;
}

/* ---- Rehashing ------------------------------------------------------- */

static void reset_table(hashtable *ht, int t) {
    ht->table[t] = NULL;
    ht->buckets[t] = ht->used[t] = ht->everfull[t] = 0;
}

static void finish_rehash(hashtable *ht) {
    assert(ht->used[0] == 0 && "finishing a rehash would drop elements");
    zfree(ht->table[0]);
    ht->table[0] = ht->table[1];
    ht->buckets[0] = ht->buckets[1];
    ht->used[0] = ht->used[1];
    ht->everfull[0] = ht->everfull[1];
    ht->deletes = 0;
    ht->rehash_idx = 0;
    reset_table(ht, 1);
}

/* Move the elements of the next old bucket. The ever-full bit stays: other
 * elements of the old table may still sit beyond this bucket. */
static bool move_next_bucket(hashtable *ht) {
    assert(ht->rehash_idx < ht->buckets[0]);
    size_t idx = ht->rehash_idx++;
    bucket *b = bucket_at(ht, 0, idx);
    unsigned present = b->meta & PRESENT_MASK;
    for (unsigned p = present; p; p &= p - 1) {
        void *element = b->slot[lowest_bit(p)];
        uint64_t hash = element_hash(ht, element);
        assert(reachable_from_home(ht, 0, idx, b->hash_byte[lowest_bit(p)], hash));
        insert_in_table(ht, 1, element, hash);
    }
    b->meta &= EVER_FULL;
    assert(ht->used[0] >= (size_t)count_bits(present));
    ht->used[0] -= (size_t)count_bits(present);
    return present != 0;
}

static bool rehash_done(const hashtable *ht) {
    return ht->used[0] == 0 || ht->rehash_idx >= ht->buckets[0];
}

static bool can_rehash(const hashtable *ht) {
    return is_rehashing(ht) && ht->pause_rehash == 0;
}

static void rehash_step(hashtable *ht) {
    if (!can_rehash(ht)) return;
    for (int empty = 0; empty < EMPTY_VISITS_PER_STEP && !rehash_done(ht); empty++)
        if (move_next_bucket(ht)) break;
    if (rehash_done(ht)) finish_rehash(ht);
}

static void complete_rehash(hashtable *ht) {
    while (!rehash_done(ht)) move_next_bucket(ht);
    finish_rehash(ht);
}

/* Start moving to a table of nb buckets (or create the first table). */
static void start_resize(hashtable *ht, size_t nb) {
    assert(!is_rehashing(ht));
    bucket *fresh = zcalloc(nb * sizeof(bucket));
    if (ht->table[0] == NULL) {
        ht->table[0] = fresh;
        ht->buckets[0] = nb;
        ht->deletes = 0;
        return;
    }
    ht->table[1] = fresh;
    ht->buckets[1] = nb;
    ht->rehash_idx = 0;
    /* Nothing to move: swap now, unless an iterator holds table 0. */
    if (ht->used[0] == 0 && ht->pause_rehash == 0) finish_rehash(ht);
}

static bool resize_allowed(const hashtable *ht, size_t nb) {
    if (!ht->type->resize_allowed) return true;
    return ht->type->resize_allowed(nb * sizeof(bucket), fill_of(ht)) != 0;
}

static void grow_for(hashtable *ht, size_t n) {
    size_t nb = ht->buckets[0];
    if (n > hard_limit(nb) || resize_allowed(ht, nb * 2)) start_resize(ht, buckets_for(n));
}

/* Churn leaves ever-full bits behind; rebuild when they are many and were
 * paid for by deletes (see the comment at the top). */
static bool needs_rebuild(const hashtable *ht) {
    size_t nb = ht->buckets[0];
    return ht->everfull[0] * 100 > nb * EVERFULL_REBUILD_PCT && ht->deletes >= nb;
}

/* Make sure one more element fits, resizing if needed. Growing may start
 * while a safe iterator lives (the new table only receives new elements,
 * which the iterator reaches after the old table); finishing a rehash
 * cannot, so a table being rehashed under an iterator can, in the extreme,
 * run out of slots. */
static void make_room_for_one(hashtable *ht) {
    size_t n = hashtable_size(ht) + 1;
    if (ht->table[0] == NULL) {
        start_resize(ht, buckets_for(n));
        return;
    }
    if (is_rehashing(ht)) {
        if (n <= grow_limit(ht->buckets[1])) return;
        if (ht->pause_rehash) {
            if (n > hard_limit(ht->buckets[1])) table_full(ht->buckets[1]);
            return;
        }
        complete_rehash(ht);
    }
    if (n > grow_limit(ht->buckets[0])) {
        grow_for(ht, n);
    } else if (ht->pause_rehash == 0 && needs_rebuild(ht) &&
               resize_allowed(ht, ht->buckets[0])) {
        start_resize(ht, ht->buckets[0]);
    }
}

/* ---- Creation and sizes ---------------------------------------------- */

hashtable *hashtable_create(const hashtable_type *type) {
    hashtable *ht = zcalloc(sizeof(*ht));
    ht->type = type;
    return ht;
}

static void destroy_elements(hashtable *ht, int t) {
    if (!ht->type->element_destructor) return;
    for (size_t i = 0; i < ht->buckets[t]; i++) {
        bucket *b = bucket_at(ht, t, i);
        for (unsigned p = b->meta & PRESENT_MASK; p; p &= p - 1)
            ht->type->element_destructor(b->slot[lowest_bit(p)]);
    }
}

void hashtable_empty(hashtable *ht) {
    for (int t = 0; t < 2; t++) {
        destroy_elements(ht, t);
        zfree(ht->table[t]);
        reset_table(ht, t);
    }
    ht->rehash_idx = 0;
    ht->deletes = 0;
}

void hashtable_release(hashtable *ht) {
    hashtable_empty(ht);
    zfree(ht);
}

size_t hashtable_size(const hashtable *ht) {
    return ht->used[0] + ht->used[1];
}

size_t hashtable_mem_usage(const hashtable *ht) {
    return sizeof(*ht) + (ht->buckets[0] + ht->buckets[1]) * sizeof(bucket);
}

long long hashtable_user_word(const hashtable *ht) { return ht->user_word; }
void hashtable_set_user_word(hashtable *ht, long long v) { ht->user_word = v; }

size_t hashtable_buckets(const hashtable *ht) {
    return ht->buckets[0] + ht->buckets[1];
}

int hashtable_is_rehashing(const hashtable *ht) {
    return is_rehashing(ht);
}

/* ---- Lookup, insert, delete ----------------------------------------- */

int hashtable_find(hashtable *ht, const void *key, size_t keylen, void **found) {
    void **ref = hashtable_find_ref(ht, key, keylen);
    if (!ref) return 0;
    *found = *ref;
    return 1;
}

void **hashtable_find_ref(hashtable *ht, const void *key, size_t keylen) {
    if (hashtable_size(ht) == 0) return NULL;
    rehash_step(ht);
    position pos;
    if (!find_position(ht, key, keylen, hashtable_hash(key, keylen), &pos)) return NULL;
    return &pos.b->slot[pos.slot];
}

int hashtable_add_or_find(hashtable *ht, void *element, void **existing) {
    size_t keylen;
    const void *key = ht->type->element_key(element, &keylen);
    uint64_t hash = hashtable_hash(key, keylen);
    rehash_step(ht);
    position pos;
    if (find_position(ht, key, keylen, hash, &pos)) {
        if (existing) *existing = pos.b->slot[pos.slot];
        return 0;
    }
    make_room_for_one(ht);
    insert_in_table(ht, is_rehashing(ht) ? 1 : 0, element, hash);
    return 1;
}

int hashtable_add(hashtable *ht, void *element) {
    return hashtable_add_or_find(ht, element, NULL);
}

int hashtable_pop(hashtable *ht, const void *key, size_t keylen, void **popped) {
    if (hashtable_size(ht) == 0) return 0;
    rehash_step(ht);
    position pos;
    if (!find_position(ht, key, keylen, hashtable_hash(key, keylen), &pos)) return 0;
    void *element = pos.b->slot[pos.slot];
    remove_at(ht, &pos);
    if (popped) *popped = element;
    hashtable_shrink_if_needed(ht);
    return 1;
}

int hashtable_delete(hashtable *ht, const void *key, size_t keylen) {
    void *element;
    if (!hashtable_pop(ht, key, keylen, &element)) return 0;
    if (ht->type->element_destructor) ht->type->element_destructor(element);
    return 1;
}

/* ---- Resizing API ---------------------------------------------------- */

static uint64_t monotonic_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

size_t hashtable_rehash_microseconds(hashtable *ht, uint64_t us) {
    if (!can_rehash(ht)) return 0;
    uint64_t deadline = monotonic_us() + us;
    size_t moved = 0;
    do {
        for (int i = 0; i < REHASH_BATCH && !rehash_done(ht); i++, moved++)
            move_next_bucket(ht);
        if (rehash_done(ht)) {
            finish_rehash(ht);
            break;
        }
    } while (monotonic_us() < deadline);
    return moved;
}

/* Shrinking needs a rehash, and a rehash started under a safe iterator
 * could not finish before the small table filled up; so not then. */
void hashtable_shrink_if_needed(hashtable *ht) {
    if (is_rehashing(ht) || ht->pause_rehash || ht->buckets[0] <= 1) return;
    size_t n = hashtable_size(ht);
    if (n * 8 >= capacity(ht->buckets[0])) return;
    size_t nb = buckets_for(n);
    if (nb < ht->buckets[0]) start_resize(ht, nb);
}

void hashtable_expand(hashtable *ht, size_t n) {
    if (is_rehashing(ht)) {
        if (n <= grow_limit(ht->buckets[1]) || ht->pause_rehash) return;
        complete_rehash(ht);
    }
    if (ht->table[0] && n <= grow_limit(ht->buckets[0])) return;
    start_resize(ht, buckets_for(n));
}

size_t hashtable_mem_usage_sampled(hashtable *ht, size_t samples, size_t (*elem_size)(const void *element)) {
    size_t total = hashtable_mem_usage(ht), seen = 0, bytes = 0;
    hashtable_iterator it;
    void *el;
    hashtable_iter_init(&it, ht, 0);
    while ((samples == 0 || seen < samples) && hashtable_iter_next(&it, &el)) {
        bytes += elem_size(el);
        seen++;
    }
    hashtable_iter_release(&it);
    if (seen) total += (size_t)((double)bytes / (double)seen * (double)hashtable_size(ht));
    return total;
}

/* ---- SCAN ------------------------------------------------------------ */

static size_t reverse_bits(size_t v) {
    size_t r = 0;
    for (size_t i = 0; i < sizeof(v) * 8; i++, v >>= 1) r = (r << 1) | (v & 1);
    return r;
}

/* The next cursor in reverse-binary order under mask: setting the bits
 * above the mask makes the carry of the reversed increment run through
 * them and clears them, so the result never has bits outside the mask. */
static size_t next_cursor(size_t cursor, size_t mask) {
    cursor |= ~mask;
    return reverse_bits(reverse_bits(cursor) + 1);
}

/* Emit the elements of b whose home bucket is 'home'. Elements that
 * overflowed here from another home are emitted when that home is scanned,
 * so in a stable table every element is returned exactly once. */
static void emit_bucket(const hashtable *ht, const bucket *b, size_t home, size_t mask,
                        hashtable_scan_fn fn, void *privdata) {
    for (unsigned p = b->meta & PRESENT_MASK; p; p &= p - 1) {
        void *el = b->slot[lowest_bit(p)];
        uint64_t hash = element_hash(ht, el);
        assert(b->hash_byte[lowest_bit(p)] == hash_byte_of(hash) && "key changed in the table");
        if ((hash & mask) == home) fn(privdata, el);
    }
}

/* A home bucket and the buckets its elements may have overflowed into. */
static void scan_chain(hashtable *ht, int t, size_t home, hashtable_scan_fn fn,
                       void *privdata) {
    size_t idx = home, mask = ht->buckets[t] - 1;
    for (size_t probes = 0; probes < ht->buckets[t]; probes++) {
        bucket *b = bucket_at(ht, t, idx);
        emit_bucket(ht, b, home, mask, fn, privdata);
        if (!(b->meta & EVER_FULL)) return;
        idx = next_index(ht, t, idx);
    }
}

size_t hashtable_scan(hashtable *ht, size_t cursor, hashtable_scan_fn fn, void *privdata) {
    if (hashtable_size(ht) == 0) return 0;
    if (!is_rehashing(ht)) {
        size_t mask = ht->buckets[0] - 1;
        scan_chain(ht, 0, cursor & mask, fn, privdata);
        return next_cursor(cursor, mask);
    }
    int small = ht->buckets[0] <= ht->buckets[1] ? 0 : 1, large = 1 - small;
    size_t small_nb = ht->buckets[small];
    size_t idx = cursor & (small_nb - 1);
    scan_chain(ht, small, idx, fn, privdata);
    for (size_t j = idx; j < ht->buckets[large]; j += small_nb)
        scan_chain(ht, large, j, fn, privdata);
    return next_cursor(cursor, small_nb - 1);
}

/* ---- Random and sampling -------------------------------------------- */

/* Both tables seen as one sequence of buckets, table 0 first. */
static bucket *virtual_bucket(const hashtable *ht, size_t v) {
    return v < ht->buckets[0] ? bucket_at(ht, 0, v) : bucket_at(ht, 1, v - ht->buckets[0]);
}

static void *random_slot_of(const bucket *b) {
    unsigned present = b->meta & PRESENT_MASK;
    for (int skip = (int)random_below((uint64_t)count_bits(present)); skip; skip--)
        present &= present - 1;
    return b->slot[lowest_bit(present)];
}

/* Random buckets are fair but slow on a very sparse table (only possible
 * while an iterator holds off shrinking), so after a while fall back to
 * walking from a random bucket. */
int hashtable_random_element(hashtable *ht, void **found) {
    if (hashtable_size(ht) == 0) return 0;
    rehash_step(ht);
    size_t total = hashtable_buckets(ht);
    /* A random (bucket, slot) pair, retried while the slot is empty, makes
     * every element equally likely; choosing a non-empty bucket first would
     * favour elements alone in their bucket by up to 7x. */
    for (int tries = 0; tries < 1000; tries++) {
        uint64_t r = random_below((uint64_t)total * 8);
        bucket *b = virtual_bucket(ht, (size_t)(r >> 3));
        unsigned slot = (unsigned)(r & 7);
        if (slot < 7 && (b->meta & PRESENT_MASK & (1u << slot))) {
            *found = b->slot[slot];
            return 1;
        }
    }
    for (size_t v = random_below(total);; v = (v + 1) % total) {
        bucket *b = virtual_bucket(ht, v);
        if (b->meta & PRESENT_MASK) {
            *found = random_slot_of(b);
            return 1;
        }
    }
}

size_t hashtable_sample_elements(hashtable *ht, void **dst, size_t count) {
    if (hashtable_size(ht) == 0 || count == 0) return 0;
    rehash_step(ht);
    size_t total = hashtable_buckets(ht);
    size_t max_visits = count * 10 < total ? count * 10 : total;
    size_t stored = 0;
    size_t v = random_below(total);
    for (size_t visits = 0; visits < max_visits && stored < count; visits++) {
        bucket *b = virtual_bucket(ht, v);
        for (unsigned p = b->meta & PRESENT_MASK; p && stored < count; p &= p - 1)
            dst[stored++] = b->slot[lowest_bit(p)];
        v = (v + 1) % total;
    }
    return stored;
}

/* ---- Iteration ------------------------------------------------------- */

static uint64_t mix64(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15u + (h << 6) + (h >> 2);
    return h;
}

static uint64_t fingerprint(const hashtable *ht) {
    uint64_t h = 0;
    for (int t = 0; t < 2; t++) {
        h = mix64(h, (uint64_t)(uintptr_t)ht->table[t]);
        h = mix64(h, ht->buckets[t]);
        h = mix64(h, ht->used[t]);
    }
    return mix64(h, ht->rehash_idx);
}

void hashtable_iter_init(hashtable_iterator *it, hashtable *ht, int safe) {
    *it = (hashtable_iterator){.ht = ht, .safe = safe};
    if (safe)
        ht->pause_rehash++;
    else
        it->fingerprint = fingerprint(ht);
}

/* it->slot is the next slot to look at in it->bucket. */
int hashtable_iter_next(hashtable_iterator *it, void **element) {
    hashtable *ht = it->ht;
    it->started = 1;
    for (;;) {
        if (it->bucket >= ht->buckets[it->table]) {
            if (it->table == 1 || !is_rehashing(ht)) return 0;
            it->table = 1;
            it->bucket = 0;
            it->slot = 0;
            continue;
        }
        bucket *b = bucket_at(ht, it->table, it->bucket);
        unsigned remaining = (b->meta & PRESENT_MASK) & ~((1u << it->slot) - 1);
        if (remaining) {
            int i = lowest_bit(remaining);
            it->slot = i + 1;
            *element = b->slot[i];
            return 1;
        }
        it->bucket++;
        it->slot = 0;
    }
}

void hashtable_iter_release(hashtable_iterator *it) {
    if (it->safe) {
        assert(it->ht->pause_rehash > 0);
        it->ht->pause_rehash--;
    } else {
        assert(it->fingerprint == fingerprint(it->ht) && "table modified during unsafe iteration");
    }
}
