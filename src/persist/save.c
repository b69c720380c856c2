/*
 * save.c: the RDB file on disk: SAVE, loading the keyspace from a file
 * (start-up, DEBUG RELOAD), and the safe replacement of the old file.
 *
 * A save never damages the previous dump: it writes "temp-<pid>.rdb" in
 * the same directory, fsyncs it, renames it over the target and fsyncs the
 * directory, so a crash or a full disk at any point leaves either the old
 * file or the new one, complete.
 *
 * Loading into the keyspace: the contents of non-empty databases are set
 * aside (db_detach) and keys go into fresh tables; when the whole file has
 * been read and checked the old contents are freed, otherwise the new ones
 * are and the old ones put back (db_reattach). A refused file changes
 * nothing.
 */
#include "persist/rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cmdutil.h"
#include "core/command.h"
#include "core/db.h"
#include "core/server.h"
#include "lib/zmalloc.h"
#include "memory/memory.h"
#include "net/reply.h"
#include "persist/loading.h"
#include "persist/persist.h"
#include "persist/snapshot.h"
#include "script/script.h"
#include "types/hash_ttl.h"

long long rdb_last_load_keys_loaded, rdb_last_load_keys_expired;
long long rdb_last_save_time;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* dir/dbfilename (dir is the working directory once started). */
void rdb_file_path(char *buf, size_t len) {
    if (server.dir && server.dir[0] == '/')
        snprintf(buf, len, "%s/%s", server.dir, server.dbfilename);
    else
        snprintf(buf, len, "%s", server.dbfilename);
}

/* ---- saving ---- */

static int fsync_dir_of(const char *path) {
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

char rdb_save_temp_path[4096];

static int save_file(const char *path, const char *tmp, char *err, size_t errlen);

int rdb_save_file(const char *path, char *err, size_t errlen) {
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    snprintf(rdb_save_temp_path, sizeof(rdb_save_temp_path), "%s/temp-%d.rdb", dirname(copy), (int)getpid());
    int rc = save_file(path, rdb_save_temp_path, err, errlen);
    rdb_save_temp_path[0] = '\0';
    return rc;
}

static int save_file(const char *path, const char *tmp, char *err, size_t errlen) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, errlen, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp,
                 server.dir && server.dir[0] ? server.dir : ".", strerror(errno));
        return -1;
    }
    if (rdb_save_fd(fd, err, errlen) < 0) goto fail;
    if (fsync(fd) < 0) {
        snprintf(err, errlen, "Write error saving DB on disk (fsync): %s", strerror(errno));
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        snprintf(err, errlen, "Write error saving DB on disk (close): %s", strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "Error moving temp DB file %s on the final destination %s: %s", tmp, path,
                 strerror(errno));
        goto fail;
    }
    fsync_dir_of(path);
    return 0;
fail:
    if (fd >= 0) close(fd);
    unlink(tmp);
    return -1;
}

/* SAVE's core (also used by DEBUG RELOAD and, later, SHUTDOWN). */
int rdb_save(char *err, size_t errlen) {
    /* A running BGSAVE writes the same temp-<pid>.rdb: stop it first (SAVE
     * itself refuses to run during one, as in Redis; DEBUG RELOAD does not). */
    if (snapshot_running() == SNAPSHOT_RDB) snapshot_abort("a synchronous save");
    char path[4096];
    rdb_file_path(path, sizeof(path));
    double t0 = now_seconds();
    if (rdb_save_file(path, err, errlen) < 0) {
        server_log(LOG_WARNING, "%s", err);
        return -1;
    }
    server_log(LOG_NOTICE, "DB saved on disk (%.3f seconds)", now_seconds() - t0);
    server_dirty = 0;
    rdb_last_save_time = (long long)time(NULL);
    return 0;
}

static void save_command(client *c) {
    if (snapshot_running() == SNAPSHOT_RDB) {
        reply_error(c, "ERR Background save already in progress");
        return;
    }
    persist.rdb_saves++;
    if (persist_save_now() < 0) {
        reply_error(c, "ERR");
        return;
    }
    reply_ok(c);
}

/* ---- loading into the keyspace ---- */

typedef struct load_ctx {
    rdb_load_stats *stats;
    int flags;        /* RDB_LOAD_* */
    char key_err[256];
} load_ctx;

int rdb_load_keep_expired;

static int on_key(void *priv, const rdb_key_info *ki, entry *e) {
    load_ctx *lc = priv;
    if (ki->dbid < 0 || ki->dbid >= db_count()) {
        snprintf(lc->key_err, sizeof(lc->key_err),
                 "FATAL: Data file was created with a Redis server configured to handle more than %d databases",
                 db_count());
        entry_free(e);
        return -1;
    }
    if (ki->expire_ms >= 0 && ki->expire_ms < server_mstime() && !rdb_load_keep_expired) {
        lc->stats->keys_expired++;
        entry_free(e);
        return 0;
    }
    db *d = db_get(ki->dbid);
    size_t klen;
    const char *key = entry_key(e, &klen);
    if ((lc->flags & RDB_LOAD_MERGE) && db_find(d, key, klen)) db_delete(d, key, klen);
    if (db_find(d, key, klen)) {
        snprintf(lc->key_err, sizeof(lc->key_err), "RDB has duplicated key '%.*s' in DB %d",
                 (int)(klen > 64 ? 64 : klen), key, ki->dbid);
        entry_free(e);
        return -1;
    }
    db_add(d, e);
    hash_ttl_track(d, e); /* field TTLs (RDB types 24/25) */
    if (ki->expire_ms >= 0) e = db_set_expire(d, e, ki->expire_ms);
    if (ki->idle_s >= 0) memory_entry_set_idle_seconds(e, ki->idle_s);
    if (ki->freq >= 0) memory_entry_set_lfu_counter(e, ki->freq);
    lc->stats->keys_loaded++;
    loading_key_delay();
    loading_progress((long long)ki->offset);
    return 0;
}

/* Redis's start-up lines about the file's origin. */
static void on_aux(void *priv, const char *k, size_t klen, const char *v, size_t vlen) {
    (void)priv;
    if (rdb_aux_listener) rdb_aux_listener(k, klen, v, vlen);
    char val[128];
    snprintf(val, sizeof(val), "%.*s", (int)(vlen < sizeof(val) - 1 ? vlen : sizeof(val) - 1), v);
    if (klen == 9 && memcmp(k, "redis-ver", 9) == 0) {
        server_log(LOG_NOTICE, "Loading RDB produced by version %s", val);
    } else if (klen == 5 && memcmp(k, "ctime", 5) == 0) {
        long long age = (long long)time(NULL) - strtoll(val, NULL, 10);
        server_log(LOG_NOTICE, "RDB age %lld seconds", age < 0 ? 0 : age);
    } else if (klen == 8 && memcmp(k, "used-mem", 8) == 0) {
        long long used = strtoll(val, NULL, 10);
        loading_note_rdb_used_mem(used);
        server_log(LOG_NOTICE, "RDB memory usage when created %.2f Mb", (double)used / (1024 * 1024));
    }
}

static int on_function(void *priv, const char *code, size_t len) {
    load_ctx *lc = priv;
    char why[200];
    if (script_library_load(code, len, lc->flags & RDB_LOAD_MERGE, why, sizeof(why)) == 0) return 0;
    snprintf(lc->key_err, sizeof(lc->key_err), "Failed loading library, %s", why);
    return -1;
}

static void on_warning(void *priv, const char *msg) {
    (void)priv;
    server_log(LOG_WARNING, "%s", msg);
}

/* Where a load reads from: a mapped file or memory, or a stream. */
typedef struct load_input {
    const char *name;
    const unsigned char *buf;
    size_t len;
    const rdb_source *src;
} load_input;

/* The old dataset a load set aside (keys per database, libraries). */
typedef struct set_aside {
    db **old;
    script_libraries *libs;
} set_aside;

/* An async load shows clients the old dataset while they are served:
 * each call exchanges the live contents with the set-aside ones. */
static void exchange_with_old(void *ctx) {
    set_aside *a = ctx;
    for (int i = 0; i < db_count(); i++)
        if (a->old[i]) db_exchange(db_get(i), a->old[i]);
    if (a->libs) {
        script_libraries *cur = script_libraries_detach();
        script_libraries_restore(a->libs);
        a->libs = cur;
    }
}

/* The load succeeded: free the old keys, in the background when lazy
 * (they are made live a moment so that FLUSHALL ASYNC's path frees them). */
static void free_old(db *d, db *x, int lazy) {
    if (!lazy) {
        db_free_detached(x);
        return;
    }
    db_exchange(d, x);
    memory_empty_db(d, 1);
    db_exchange(d, x);
    db_free_detached(x);
}

/* Keys and libraries go into fresh tables; the old ones are set aside and
 * either freed (success) or put back (failure), so a refused file changes
 * nothing. NOFLUSH loads over what is there instead. */
static int load_input_flags(const load_input *in, int flags, int async, int lazy, rdb_load_stats *st, char *err,
                            size_t errlen) {
    rdb_load_stats local;
    if (!st) st = &local;
    memset(st, 0, sizeof(*st));
    lazy = lazy || (flags & RDB_LOAD_LAZY_FREE);
    if (flags & RDB_LOAD_SERVE_CLIENTS) loading_serve_clients(1);
    snapshot_abort("loading a dataset"); /* the tables are about to be replaced */
    int n = db_count(), flush = !(flags & RDB_LOAD_NOFLUSH);
    set_aside a = {.old = zcalloc(sizeof(db *) * (size_t)n)};
    for (int i = 0; flush && i < n; i++)
        if (async || db_size(db_get(i))) a.old[i] = db_detach(db_get(i));
    a.libs = flush ? script_libraries_detach() : NULL;
    load_ctx lc = {.stats = st, .flags = flags};
    rdb_visitor v = {.priv = &lc, .on_aux = on_aux, .on_key = on_key, .on_warning = on_warning,
                     .on_function = on_function, .key_error = lc.key_err};
    double t0 = now_seconds();
    loading_begin(in->src ? (in->src->total > 0 ? in->src->total : 0) : (long long)in->len);
    if (async) loading_set_async(exchange_with_old, &a);
    int rc = in->src ? rdb_parse_source(in->name, in->src, &v, st, err, errlen)
                     : rdb_parse_named(in->name, in->buf, in->len, &v, st, err, errlen);
    if (async) loading_set_async(NULL, NULL);
    for (int i = 0; flush && i < n; i++) {
        db *d = db_get(i);
        if (rc < 0) {
            if (a.old[i]) db_reattach(d, a.old[i]);
            else db_empty(d);
        } else if (a.old[i]) {
            free_old(d, a.old[i], lazy);
        }
    }
    if (a.libs) {
        if (rc < 0) script_libraries_restore(a.libs);
        else script_libraries_free(a.libs);
    }
    zfree(a.old);
    loading_end();
    if (flags & RDB_LOAD_SERVE_CLIENTS) loading_serve_clients(0);
    st->seconds = now_seconds() - t0;
    if (rc == 0) {
        rdb_last_load_keys_loaded = st->keys_loaded;
        rdb_last_load_keys_expired = st->keys_expired;
        server_dirty = 0;
    }
    return rc;
}

static int load_mem_flags(const char *name, const unsigned char *buf, size_t len, int flags, rdb_load_stats *st,
                          char *err, size_t errlen) {
    load_input in = {.name = name, .buf = buf, .len = len};
    return load_input_flags(&in, flags, 0, 0, st, err, errlen);
}

int rdb_load_source(const char *name, const rdb_source *src, int async, int lazy_free, rdb_load_stats *st,
                    char *err, size_t errlen) {
    load_input in = {.name = name, .src = src};
    return load_input_flags(&in, RDB_LOAD_SERVE_CLIENTS, async, lazy_free, st, err, errlen);
}

int rdb_load_mem(const char *name, const unsigned char *buf, size_t len, rdb_load_stats *st, char *err,
                 size_t errlen) {
    return load_mem_flags(name, buf, len, 0, st, err, errlen);
}

int rdb_load_file_flags(const char *path, int flags, rdb_load_stats *st, char *err, size_t errlen) {
    const unsigned char *buf;
    size_t len;
    if (rdb_map_file(path, &buf, &len, err, errlen) < 0) return -1;
    int rc = load_mem_flags(path, buf, len, flags, st, err, errlen);
    rdb_unmap_file(buf, len);
    return rc;
}

int rdb_load_file(const char *path, rdb_load_stats *st, char *err, size_t errlen) {
    return rdb_load_file_flags(path, 0, st, err, errlen);
}

int rdb_load_at_startup(void) {
    char path[4096], err[512];
    rdb_file_path(path, sizeof(path));
    if (access(path, F_OK) != 0) return 0;
    rdb_load_stats st;
    loading_serve_clients(1);
    int rc = rdb_load_file(path, &st, err, sizeof(err));
    loading_serve_clients(0);
    if (rc < 0) {
        server_log(LOG_WARNING, "Fatal error loading the DB: %s. Exiting.", err);
        return -1;
    }
    server_log(LOG_NOTICE, "Done loading RDB, keys loaded: %lld, keys expired: %lld, empty keys skipped: %lld.",
               st.keys_loaded, st.keys_expired, st.empty_keys_skipped);
    server_log(LOG_NOTICE, "DB loaded from disk: %.3f seconds", st.seconds);
    rdb_last_save_time = (long long)time(NULL);
    return 0;
}

command persist_commands[] = {
    {"save", save_command, 1, "admin noscript no_async_loading no_multi", 0, 0, 0, "server", "1.0.0",
     "Synchronously save the dataset to disk.", NULL},
    {NULL},
};
