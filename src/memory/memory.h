/*
 * memory: the hooks through which the rest of the server tells the memory
 * manager what happens (a command is about to run, a key was accessed or
 * created, a value must be freed) and asks it for decisions (may this
 * command run under maxmemory?). The memory manager owns maxmemory,
 * eviction, LRU/LFU bookkeeping, lazy freeing, defragmentation and the
 * MEMORY command; core code never looks at those details.
 */
#ifndef KEEL_MEMORY_H
#define KEEL_MEMORY_H

#include "core/db.h"
#include "core/entry.h"
#include "lib/kstr.h"

/* What the memory manager needs from the rest of the server, handed to
 * it at start-up (main.c wires core's functions in), so that memory/
 * calls up into core only through the keyspace API (core/db.h) and the
 * settings (core/server.h). A NULL member means "no": never frozen, no
 * latency monitor. */
typedef struct memory_callbacks {
    /* Is the dataset frozen (CLIENT PAUSE)? Then nothing is evicted. */
    int (*dataset_frozen)(void);
    /* A latency monitor event ("eviction-cycle", "active-defrag-cycle")
     * that began at start_us (ustime()) and ends now. */
    void (*latency_event)(const char *event, long long start_us);
} memory_callbacks;
void memory_set_callbacks(const memory_callbacks *cb);

/* Called once at start-up (after config, before serving). */
void memory_init(void);
/* Called from cron, server.hz times a second. */
void memory_cron(void);
/* maxmemory was changed at run time (CONFIG SET). */
void memory_maxmemory_changed(void);
/* At exit: let the background free thread finish its queue (bounded). */
void memory_shutdown(void);

/* Before running a command: evict if over maxmemory. Returns 0 when
 * memory is still over the limit, in which case a command that may grow
 * it (denyoom, or queued by MULTI) must be refused with the OOM error. */
int memory_make_room(void);

/* A key was created (set its initial LRU/LFU data). */
void memory_entry_created(db *d, entry *e);
/* A key was accessed by a command (refresh its LRU/LFU data). */
void memory_entry_touched(entry *e);

/* used_memory as eviction counts it (client memory replaced by the
 * clients' budget, see memstats.c). */
size_t memory_used_for_eviction(void);

/* OBJECT IDLETIME / OBJECT FREQ data of a key, decayed to now. */
long long memory_entry_idle_seconds(const entry *e);
int memory_entry_lfu_counter(const entry *e);
/* Set them (RESTORE IDLETIME/FREQ, RDB loading); each is ignored unless
 * the eviction policy uses that kind of data. */
void memory_entry_set_idle_seconds(entry *e, long long idle);
void memory_entry_set_lfu_counter(entry *e, int counter);

/* Free an entry removed from the keyspace, in the background when it is
 * large and lazy freeing applies. reason: one of FREE_* below; it picks
 * the lazyfree-lazy-* setting that applies (UNLINK is always lazy). */
enum { FREE_USER_DEL, FREE_USER_UNLINK, FREE_EXPIRE, FREE_EVICT, FREE_SERVER_DEL };
void memory_free_entry(entry *e, int reason);
/* Empty a database (FLUSHDB/FLUSHALL), asynchronously if async. */
void memory_empty_db(db *d, int async);

/* MEMORY USAGE key SAMPLES 0 for an entry outside the keyspace (a key
 * read from a dump by keel-cli --rdb-report): the entry and its value
 * measured exactly, plus the key's share of a keys table (and of an
 * expires table when it has a TTL) at the average fill a table has
 * between two growths. */
size_t memory_entry_usage_offline(const entry *e);

/* The "# Memory" section of INFO, appended to s. */
kstr memory_info_section(kstr s);

/* Figures for INFO stats (core/info.c prints them in Redis's fields):
 * current_eviction_exceeded_time (ms of the ongoing over-maxmemory
 * episode, 0 when none; total_eviction_exceeded_time is the completed
 * episodes in server.stat plus this), and active_defrag_hits, _misses,
 * _key_hits, _key_misses. */
long long memory_current_eviction_exceeded_ms(void);
void memory_defrag_stats(long long *hits, long long *misses, long long *key_hits, long long *key_misses);
/* current_active_defrag_time and total_active_defrag_time, in ms. */
void memory_defrag_time_ms(long long *current, long long *total);

/* The memory history (growth.c): one sample a second for the last hour. */
typedef struct memory_sample {
    long long ms;      /* unix time, milliseconds */
    size_t used, rss;  /* used_memory, used_memory_rss */
    double frag;       /* mem_fragmentation_ratio */
    long long evicted; /* evicted_keys so far */
} memory_sample;
/* Growth rate of used_memory in bytes per second over the last 1, 5 or 60
 * minutes (least squares; 0 until the window has 5 samples). */
double memory_growth_rate(int minutes);
/* Seconds until maxmemory at the current rate; -1 when there is no
 * maxmemory or memory is not growing, 0 when already there. */
long long memory_seconds_to_full(void);
/* Copies the newest min(max, held) samples, oldest first; returns how many. */
size_t memory_history(memory_sample *out, size_t max);
/* The ring's fixed size in bytes (the cost of keeping the history). */
size_t memory_history_ring_bytes(void);

/* The keyspace profile (keysample.c): memory by data type and the biggest
 * keys, from a background walk a few keys per cron tick (never blocking). */
#define MEMORY_BIG_KEYS 10
typedef struct memory_big_key {
    kstr key;     /* NULL: no key in this slot */
    size_t bytes; /* as MEMORY USAGE estimates it */
    int type;     /* TYPE_* (core/entry.h) */
    int db;
} memory_big_key;
typedef struct memory_profile {
    size_t bytes[TYPE_COUNT], keys[TYPE_COUNT];
    memory_big_key top[MEMORY_BIG_KEYS]; /* biggest first; names (at most 200 bytes) owned by the sampler */
} memory_profile;
/* Fills out with the last complete pass (the pass in progress before the
 * first one ends); returns the number of complete passes. */
int memory_keyspace_profile(memory_profile *out);

#endif
